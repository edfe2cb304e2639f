package jobs

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/dialer/sim"
	"github.com/pacer-dialer/pacer/internal/simtest"
	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/internal/testwait"
)

// fastSim is the simulated carrier and agents at test speed, with breaks.
func fastSim() sim.Realtime {
	rt := simtest.FastRealtime()
	rt.Pause = simtest.Breaks()
	return rt
}

// The nightly roll-up matches the raw records: per agent, the time in each
// state rebuilt from the state log equals the session totals the engine
// accounted in memory, and per campaign the call counts and dispositions
// equal the calls table's. In a preview campaign the agents' own dials
// (DIALING, wait until answered) roll up as the engine accounted them.
func TestRollupMatchesTheRawEvents(t *testing.T) {
	for _, mode := range []string{"predictive", "preview"} {
		t.Run(mode, func(t *testing.T) { rollupMatchesTheRawEvents(t, mode) })
	}
}

func rollupMatchesTheRawEvents(t *testing.T, mode string) {
	db := testdb.NewPool(t)
	c := newCampaign(t, db, 400, map[string]string{"max_attempts_per_day": "100", "max_attempts": "100",
		"retry_no_answer_s": "0", "retry_busy_s": "0", "retry_machine_s": "0", "connect_deadline_ms": "300", "mode": mode})
	defer testwait.NoLeaks(t, goleak.IgnoreCurrent())
	ctx := context.Background()
	rt := fastSim()
	calls := dialer.NewCallStore(db, dialer.CallStoreConfig{Node: "n"})
	events := agents.NewEventStore(db, agents.EventStoreConfig{Node: "n"})
	require.NoError(t, calls.Start(ctx))
	require.NoError(t, events.Start(ctx))
	mgr, err := dialer.NewManager(dialer.ManagerConfig{Node: "n", Poll: 100 * time.Millisecond}, dialer.ManagerDeps{
		DB: db, Clock: wallClock{}, Calls: calls, Agents: events,
		Trunk: func(c *campaigns.Campaign, del dialer.TrunkDeliverer) (dialer.Trunk, error) {
			return rt.Trunk(dialer.CampaignID(c.ID), del), nil
		}})
	require.NoError(t, err)
	require.NoError(t, mgr.Start(ctx))
	sa, err := sim.NewAgents(sim.AgentsConfig{Campaign: dialer.CampaignID(c.ID), N: 3, Sim: rt, Resync: 100 * time.Millisecond}, mgr, wallClock{})
	require.NoError(t, err)
	require.NoError(t, sa.Start(ctx))
	testwait.Until(t, func() bool {
		return count(t, db, `SELECT count(*) FROM calls WHERE disposition IS NOT NULL AND talk_s IS NOT NULL`) >= 10
	})
	sa.Stop()
	mgr.Stop()
	events.Stop()
	calls.Stop()
	if mode == "preview" {
		require.Positive(t, count(t, db, `SELECT count(*) FROM agent_events WHERE to_state = 'DIALING'`))
	}

	now := time.Now()
	for _, d := range []time.Time{now.Add(-24 * time.Hour), now} { // a run across midnight lands on two days
		require.NoError(t, RollupDay(ctx, db, d, now, quietLog()))
		require.NoError(t, RollupDay(ctx, db, d, now, quietLog()), "rolling a day up again replaces it")
	}

	type totals struct{ calls, wait, ring, talk, hold, dispo, pause float64 }
	var raw, rolled totals
	require.NoError(t, db.QueryRow(ctx, `SELECT sum(calls), sum(wait_s), sum(ring_s), sum(talk_s), sum(hold_s), sum(dispo_s), sum(pause_s)
FROM agent_sessions WHERE campaign_id = $1`, c.ID).Scan(&raw.calls, &raw.wait, &raw.ring, &raw.talk, &raw.hold, &raw.dispo, &raw.pause))
	require.NoError(t, db.QueryRow(ctx, `SELECT sum(calls), sum(wait_s), sum(ring_s), sum(talk_s), sum(hold_s), sum(dispo_s), sum(pause_s)
FROM agent_daily_stats WHERE campaign_id = $1`, c.ID).Scan(&rolled.calls, &rolled.wait, &rolled.ring, &rolled.talk, &rolled.hold, &rolled.dispo, &rolled.pause))
	require.Positive(t, raw.calls)
	require.Positive(t, raw.pause)
	tol := 0.001 * (raw.calls + 20) // per-row rounding to milliseconds
	require.Equal(t, raw.calls, rolled.calls)
	require.InDelta(t, raw.wait, rolled.wait, tol, "wait")
	require.InDelta(t, raw.ring, rolled.ring, tol, "ring")
	require.InDelta(t, raw.talk, rolled.talk, tol, "talk")
	require.InDelta(t, raw.hold, rolled.hold, tol, "hold")
	require.InDelta(t, raw.dispo, rolled.dispo, tol, "dispo")
	require.InDelta(t, raw.pause, rolled.pause, tol, "pause")

	// Dispo time per agent is the calls' dispo time.
	require.Equal(t,
		count(t, db, `SELECT round(sum(dispo_s) * 1000)::int FROM calls WHERE campaign_id = $1 AND agent_id IS NOT NULL`, c.ID),
		count(t, db, `SELECT round(sum(dispo_s) * 1000)::int FROM agent_daily_stats WHERE campaign_id = $1`, c.ID))

	// Campaign: calls and dispositions as in the calls table, agent time as rolled up.
	require.Equal(t, count(t, db, `SELECT count(*) FROM calls WHERE campaign_id = $1`, c.ID),
		count(t, db, `SELECT sum(dials) FROM campaign_daily_stats WHERE campaign_id = $1`, c.ID))
	require.Equal(t, count(t, db, `SELECT count(*) FROM calls WHERE campaign_id = $1 AND abandoned`, c.ID),
		count(t, db, `SELECT sum(abandoned) FROM campaign_daily_stats WHERE campaign_id = $1`, c.ID))
	require.Equal(t, count(t, db, `SELECT count(*) FROM calls WHERE campaign_id = $1 AND connected_at IS NOT NULL`, c.ID),
		count(t, db, `SELECT sum(connected) FROM campaign_daily_stats WHERE campaign_id = $1`, c.ID))
	rows, err := db.Query(ctx, `SELECT disposition, count(*) FROM calls WHERE campaign_id = $1 AND disposition IS NOT NULL GROUP BY 1`, c.ID)
	require.NoError(t, err)
	want := map[string]int64{}
	for rows.Next() {
		var code string
		var n int64
		require.NoError(t, rows.Scan(&code, &n))
		want[code] = n
	}
	require.NoError(t, rows.Err())
	got := map[string]int64{}
	days, err := dialer.CampaignDailyRollups(ctx, db, int64(c.ID), now.Add(-24*time.Hour), now.Add(24*time.Hour))
	require.NoError(t, err)
	for _, d := range days {
		for code, n := range d.Dispositions {
			got[code] += n
		}
	}
	require.Equal(t, want, got)
	perAgent, err := agents.DailyStats(ctx, db, int64(c.ID), now.Add(-24*time.Hour), now.Add(24*time.Hour))
	require.NoError(t, err)
	require.NotEmpty(t, perAgent)
	agentCodes := map[string]int64{}
	for _, a := range perAgent {
		for code, n := range a.Dispositions {
			agentCodes[code] += n
		}
	}
	for code, n := range want {
		if code == "SALE" || code == "NI" || code == "CALLBK" || code == "DNC" || code == "WN" || code == "AM" {
			require.Equal(t, n, agentCodes[code], code)
		}
	}
}
