package dialer_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/internal/pgproxy"
	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/internal/testwait"
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
	testwait.Until(t, func() bool { return !leads.Healthy() })
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

// A disposition whose transaction committed but whose reply was lost (the
// database went away between COMMIT and its answer) is not refused forever
// with "call already has a disposition": saved again, it answers success
// and the agent moves on, with one disposition event, one lead attempt.
func TestDispositionCommittedButUnansweredMovesTheAgentOnWhenRetried(t *testing.T) {
	ctx := context.Background()
	direct := testdb.NewPool(t)
	proxy, proxied := pgproxy.NewPool(t, direct.Config().ConnString())
	c := newCampaign(t, direct, 1, map[string]string{"mode": "power", "ratio": "1"})
	calls := dialer.NewCallStore(direct, dialer.CallStoreConfig{Node: "n"})
	events := agents.NewEventStore(direct, agents.EventStoreConfig{Node: "n"})
	require.NoError(t, calls.Start(ctx))
	defer calls.Stop()
	require.NoError(t, events.Start(ctx))
	defer events.Stop()
	rt := humanSim()
	// The campaign's own queries (claims, the disposition) go through the
	// proxy; the write-behind stores do not, so only the reply is lost.
	mgr, err := dialer.NewManager(dialer.ManagerConfig{Node: "n", Poll: 100 * time.Millisecond},
		dialer.ManagerDeps{DB: proxied, Clock: wallClock{}, Calls: calls, Agents: events,
			Trunk: func(c *campaigns.Campaign, del dialer.TrunkDeliverer) (dialer.Trunk, error) {
				return rt.Trunk(dialer.CampaignID(c.ID), del), nil
			}})
	require.NoError(t, err)
	require.NoError(t, mgr.Start(ctx))
	defer mgr.Stop()
	n := &dispoNode{mgr: mgr}
	l := n.loop(t, c)
	call := talkAndHangUp(t, l, 1)
	require.NoError(t, calls.Flush(ctx))

	proxy.CutOnReply("COMMIT\x00")
	_, err = l.Disposition(ctx, 1, call, campaigns.DispositionInput{Code: "SALE"})
	require.Error(t, err, "the reply to COMMIT never arrives")
	require.Equal(t, agents.Dispo, agentStatus(t, l, 1).State, "the agent does not know it was saved")
	require.Equal(t, 1, count(t, direct, `SELECT count(*) FROM calls WHERE disposition = 'SALE'`), "but it was")
	proxy.Restore()

	testwait.Until(t, func() bool {
		_, err := l.Disposition(ctx, 1, call, campaigns.DispositionInput{Code: "SALE"})
		return err == nil
	}, "the agent's retry succeeds once the database answers")
	require.Equal(t, agents.Ready, agentStatus(t, l, 1).State)
	require.NoError(t, events.Flush(ctx))
	require.Equal(t, 1, count(t, direct, `SELECT count(*) FROM agent_events WHERE agent_id = 1 AND event = 'dispo_saved'`),
		"the disposition's event is in the log once")
	require.Equal(t, 1, count(t, direct, `SELECT coalesce(sum(attempts), 0) FROM leads`), "one attempt")
	require.Zero(t, count(t, direct, `SELECT count(*) FROM leads WHERE status = 'dialing'`))
}
