package dialer_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/internal/pgproxy"
	"github.com/pacer-dialer/pacer/internal/testdb"
)

// Attempts completed while the database is unreachable are all recorded
// once it is back: no lead stays `dialing`, every attempt is counted, and the
// lead source says it is unhealthy while it holds them.
func TestLeadAttemptsDuringAnOutageLandAfterIt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	direct := testdb.NewPool(t)
	proxy, proxied := pgproxy.NewPool(t, direct.Config().ConnString())
	c := newCampaign(t, direct, 20, nil)
	leads := dialer.NewHopperLeads(proxied, c, wallClock{}, dialer.HopperLeadsConfig{Node: "n", Queue: 4})
	require.NoError(t, leads.Start(ctx))
	defer leads.Stop()
	claimed, err := leads.Claim(ctx, nil, 20)
	require.NoError(t, err)
	require.Len(t, claimed, 20)

	proxy.Cut()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i, l := range claimed {
			if i%2 == 0 {
				require.NoError(t, leads.Complete(ctx, l.ID, dialer.OutcomeNoAnswer))
			} else {
				require.NoError(t, leads.CompleteDisposed(ctx, l.ID, dialer.OutcomeCompleted, "SALE"))
			}
		}
	}()
	require.Eventually(t, func() bool { return !leads.Healthy() }, 30*time.Second, 10*time.Millisecond)
	_, err = leads.Claim(ctx, nil, 1)
	require.Error(t, err, "claims fail while the database is unreachable")
	proxy.Restore()
	<-done
	require.NoError(t, leads.Flush(ctx))
	require.True(t, leads.Healthy())

	require.Zero(t, count(t, direct, `SELECT count(*) FROM leads WHERE status = 'dialing'`))
	require.Equal(t, 20, count(t, direct, `SELECT count(*) FROM leads WHERE attempts = 1`))
	require.Equal(t, 10, count(t, direct, `SELECT count(*) FROM leads WHERE last_disposition = 'SALE'`))
}
