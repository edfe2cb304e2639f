package dialer_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/dialer/sim"
	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/internal/testwait"
)

func previewLead(t *testing.T, l *dialer.Loop, id agents.ID) dialer.LeadID {
	t.Helper()
	var lead dialer.LeadID
	testwait.Until(t, func() bool {
		v, err := l.AgentView(context.Background(), id)
		if err != nil || v.Call == nil || v.Call.State != "preview" {
			return false
		}
		lead = v.Call.Lead
		return true
	}, "agent %d has a preview on screen", id)
	return lead
}

// On a real database: a preview the agent dials that is busy gets B by
// itself (attempt counted, call record with its outcome), the agent's state
// log shows DIALING and back with no DISPO and no dispo time, and the agent
// is shown the next preview. A skipped preview is counted on the lead and in
// preview_skips, behind the leads already due.
func TestUnansweredPreviewDialAndSkipOnTheDatabase(t *testing.T) {
	db := testdb.NewPool(t)
	c := newCampaign(t, db, 4, map[string]string{"mode": "preview", "preview_skip_hold_s": "600"})
	rt := fastSim()
	rt.Outcomes = []sim.Outcome{{Kind: "busy", P: 1, After: sim.Dist{Dist: "uniform", Min: 0.02, Max: 0.05}}}
	_, l := runDispoNodeOn(t, db, c, rt)
	ctx := context.Background()

	require.NoError(t, l.Login(ctx, 1, agents.Config{}))
	require.NoError(t, l.AgentEvent(ctx, 1, agents.Event{Kind: agents.EvReady}))
	first := previewLead(t, l, 1)
	require.NoError(t, l.AgentEvent(ctx, 1, agents.Event{Kind: agents.EvAccept}))
	testwait.Until(t, func() bool {
		return count(t, db, `SELECT count(*) FROM leads WHERE id = $1 AND last_disposition = 'B' AND attempts = 1 AND status = 'retry'`,
			first) == 1
	}, "the busy lead gets B by itself")
	next := previewLead(t, l, 1)
	require.NotEqual(t, first, next, "the agent is shown the next lead")
	testwait.Until(t, func() bool {
		return count(t, db, `SELECT count(*) FROM agent_events WHERE agent_id = 1 AND event = 'unanswered'`) == 1 &&
			count(t, db, `SELECT count(*) FROM calls WHERE lead_id = $1 AND outcome = 'busy' AND disposition = 'B'`, first) == 1
	}, "the state log and the call record are written")
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM agent_events WHERE agent_id = 1 AND event = 'dial' AND to_state = 'DIALING'`))
	require.Zero(t, count(t, db, `SELECT count(*) FROM agent_events WHERE agent_id = 1 AND (to_state = 'DISPO' OR call_dispo_s > 0)`),
		"no wrap-up, no dispo time")

	require.NoError(t, l.AgentEvent(ctx, 1, agents.Event{Kind: agents.EvReject}))
	third := previewLead(t, l, 1)
	require.NotEqual(t, next, third, "skip moves to another lead")
	testwait.Until(t, func() bool {
		return count(t, db, `SELECT count(*) FROM leads WHERE id = $1 AND skips = 1 AND status = 'new'`, next) == 1
	}, "the skip is counted on the lead, which is back in the hopper")
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM preview_skips WHERE campaign_id = $1 AND agent_id = 1 AND lead_id = $2`,
		c.ID, next))
	n, err := campaigns.SkipsSince(ctx, db, c.ID, 1, l.Now().Add(-3600e9))
	require.NoError(t, err)
	require.Equal(t, 1, n)
}
