package campaigns_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/internal/testdb"
)

// A skipped preview goes back to the hopper behind every lead already due
// (the hopper hands out the others first), its skips counted on the lead
// and in preview_skips; the campaign's hourly cap counts one agent's skips
// over the last hour only.
func TestSkipGoesBehindTheDueLeadsAndCountsAgainstTheCap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	c := newCampaign(t, db, map[string]string{"preview_skip_limit_per_hour": "2"})
	importCSV(t, db, c, "phone", "+1 212 436 6000", "+1 212 436 6001", "+1 212 436 6002")
	h := campaigns.NewHopper("n")
	at := utc("2026-07-01 16:00:00")
	claim := func(at time.Time) campaigns.ClaimedLead {
		t.Helper()
		got, err := h.Claim(ctx, db, &c, 1, at)
		require.NoError(t, err)
		require.Len(t, got, 1)
		return got[0]
	}

	first := claim(at)
	require.Equal(t, "+12124366000", first.Phone)
	require.NoError(t, campaigns.Skip(ctx, db, c.ID, first.ID, 7, at))
	require.ErrorIs(t, campaigns.Skip(ctx, db, c.ID, first.ID, 7, at), campaigns.ErrNotFound, "only a claimed lead is skipped")
	second := claim(at.Add(time.Second))
	require.Equal(t, "+12124366001", second.Phone, "the skipped lead is behind the leads due")
	require.NoError(t, campaigns.Skip(ctx, db, c.ID, second.ID, 7, at.Add(2*time.Second)))
	require.Equal(t, "+12124366002", claim(at.Add(3*time.Second)).Phone)
	require.Equal(t, first.ID, claim(at.Add(4*time.Second)).ID, "then the skipped ones, first skipped first")

	lead, err := campaigns.GetLead(ctx, db, first.ID)
	require.NoError(t, err)
	var skips, attempts int
	require.NoError(t, db.QueryRow(ctx, `SELECT skips, attempts FROM leads WHERE id = $1`, second.ID).Scan(&skips, &attempts))
	require.Equal(t, 1, skips)
	require.Zero(t, attempts, "a skip is no attempt")
	require.Equal(t, "dialing", lead.Status)

	allow, err := campaigns.Skips(ctx, db, &c, 7, at.Add(time.Minute))
	require.NoError(t, err)
	require.Equal(t, campaigns.SkipAllowance{Limit: 2, LastHour: 2}, allow)
	require.True(t, allow.Exhausted())
	other, err := campaigns.Skips(ctx, db, &c, 8, at.Add(time.Minute))
	require.NoError(t, err)
	require.False(t, other.Exhausted(), "the cap is per agent")
	later, err := campaigns.Skips(ctx, db, &c, 7, at.Add(time.Hour+time.Second))
	require.NoError(t, err)
	require.Equal(t, 1, later.LastHour, "an hour later the first skip no longer counts")
	require.False(t, later.Exhausted())
}
