package dialer_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/dialer/sim"
	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/internal/testwait"
)

// onlySim answers every call with one outcome kind.
func onlySim(kind string) sim.Realtime {
	rt := fastSim()
	rt.Pause = nil
	rt.Outcomes = []sim.Outcome{{Kind: kind, P: 1, After: sim.Dist{Dist: "uniform", Min: 0.02, Max: 0.05}}}
	return rt
}

// A callback whose dial ends busy is not lost: it is scheduled again for the
// lead's next try (the campaign's busy retry delay) with a River job of its
// own, the lead waits for it, and when that time comes it is offered to its
// agent again. When the lead has no attempts left it is missed, not
// completed.
func TestBusyCallbackStaysPendingForItsNextTry(t *testing.T) {
	db := testdb.NewPool(t)
	c := newCampaign(t, db, 2, map[string]string{"mode": "manual", "retry_busy_s": "2", "max_attempts": "2"})
	n, l := runDispoNodeOn(t, db, c, onlySim("busy"))
	ctx := context.Background()
	cb := meCallbackInAnHour(t, db, n, c, 1)
	got, dialled := dialUntilSettled(t, db, l, cb)
	require.Equal(t, campaigns.CallbackScheduled, got.Status, "a busy dial keeps the promise")
	require.WithinRange(t, got.DueAt, dialled.Add(2*time.Second), time.Now().Add(2*time.Second),
		"next try after the campaign's busy retry delay")
	requireWaitsForItsNextTry(t, db, n, got)

	// The busy dial left the agent nothing to disposition; the next try
	// comes to them again.
	require.Zero(t, count(t, db, `SELECT count(*) FROM agent_events WHERE agent_id = 1 AND to_state = 'DISPO'`))
	testwait.Until(t, func() bool {
		return count(t, db, `SELECT count(*) FROM callback_events WHERE callback_id = $1 AND event = 'offer'`, cb.ID) == 2
	}, "the callback is offered to its agent again at its next try")
	require.NoError(t, l.AgentEvent(ctx, 1, agents.Event{Kind: agents.EvAccept}))
	testwait.Until(t, func() bool {
		var err error
		got, err = campaigns.GetCallback(ctx, db, cb.ID)
		require.NoError(t, err)
		return !got.Status.Open()
	}, "the second busy dial settles it")
	require.Equal(t, campaigns.CallbackMissed, got.Status, "no attempts left: missed, never silently completed")
}

// The same for a dial nobody answers: the callback waits the campaign's
// no-answer retry delay.
func TestUnansweredCallbackStaysPendingForItsNextTry(t *testing.T) {
	db := testdb.NewPool(t)
	c := newCampaign(t, db, 2, map[string]string{"mode": "manual", "retry_no_answer_s": "600"})
	n, l := runDispoNodeOn(t, db, c, onlySim("no_answer"))
	cb := meCallbackInAnHour(t, db, n, c, 1)
	got, dialled := dialUntilSettled(t, db, l, cb)
	require.Equal(t, campaigns.CallbackScheduled, got.Status, "an unanswered dial keeps the promise")
	require.WithinRange(t, got.DueAt, dialled.Add(600*time.Second), time.Now().Add(600*time.Second),
		"next try after the campaign's no-answer retry delay")
	requireWaitsForItsNextTry(t, db, n, got)
}

// dialUntilSettled has agent 1 dial the callback and waits until the
// attempt settles it; it returns the callback then and when it was dialled.
func dialUntilSettled(t *testing.T, db *pgxpool.Pool, l *dialer.Loop, cb campaigns.Callback) (campaigns.Callback, time.Time) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, l.Login(ctx, 1, agents.Config{}))
	require.NoError(t, l.AgentEvent(ctx, 1, agents.Event{Kind: agents.EvReady}))
	dialled := time.Now()
	_, err := l.DialCallback(ctx, 1, cb.ID)
	require.NoError(t, err)
	var got campaigns.Callback
	testwait.Until(t, func() bool {
		got, err = campaigns.GetCallback(ctx, db, cb.ID)
		require.NoError(t, err)
		return got.Version == cb.Version+1 || !got.Status.Open()
	}, "the attempt settles the callback")
	return got, dialled
}

// requireWaitsForItsNextTry checks a callback kept for its next try: its
// lead is held for it and a River job of its own will make it due.
func requireWaitsForItsNextTry(t *testing.T, db *pgxpool.Pool, n *dispoNode, cb campaigns.Callback) {
	t.Helper()
	ctx := context.Background()
	var status string
	require.NoError(t, db.QueryRow(ctx, `SELECT status FROM leads WHERE id = $1`, cb.Lead).Scan(&status))
	require.Equal(t, "callback", status, "the lead waits for its callback")
	require.NotZero(t, cb.JobID)
	j, err := n.runner.GetJob(ctx, cb.JobID)
	require.NoError(t, err)
	require.Contains(t, []string{"scheduled", "available", "running", "completed"}, j.State)
}

// meCallbackInAnHour schedules a callback of scope me for agent on the
// campaign's first lead, an hour from now.
func meCallbackInAnHour(t *testing.T, db *pgxpool.Pool, n *dispoNode, c campaigns.Campaign, agent int64) campaigns.Callback {
	t.Helper()
	ctx := context.Background()
	var lead campaigns.LeadID
	require.NoError(t, db.QueryRow(ctx, `SELECT min(id) FROM leads WHERE campaign_id = $1`, c.ID).Scan(&lead))
	now := time.Now()
	cb, err := campaigns.ScheduleCallback(ctx, db, n.runner, campaigns.NewCallback{Campaign: &c, Lead: lead, Agent: agent,
		Scope: campaigns.ScopeMe, At: now.Add(time.Hour), Notes: "asked for Tuesday", Now: now})
	require.NoError(t, err)
	return cb
}
