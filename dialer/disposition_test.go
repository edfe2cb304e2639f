package dialer_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/dialer/sim"
	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/internal/testwait"
	"github.com/pacer-dialer/pacer/jobs"
)

// humanSim answers every call with a person who stays on the line until the
// agent hangs up.
func humanSim() sim.Realtime {
	rt := fastSim()
	rt.Outcomes = []sim.Outcome{{Kind: "human", P: 1, After: sim.Dist{Dist: "uniform", Min: 0.02, Max: 0.05}}}
	rt.CustomerTalk = sim.Dist{Dist: "uniform", Min: 600, Max: 601}
	return rt
}

// dispoNode is one node with a River runner and a campaign manager whose
// agents the test drives by hand.
type dispoNode struct {
	calls  *dialer.CallStore
	events *agents.EventStore
	mgr    *dialer.Manager
	runner *jobs.Runner
}

func startDispoNode(t *testing.T, db *pgxpool.Pool, name string) *dispoNode {
	t.Helper()
	return startDispoNodeOn(t, db, name, humanSim())
}

// startDispoNodeOn is startDispoNode with the carrier's outcomes rt.
func startDispoNodeOn(t *testing.T, db *pgxpool.Pool, name string, rt sim.Realtime) *dispoNode {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	n := &dispoNode{
		calls:  dialer.NewCallStore(db, dialer.CallStoreConfig{Node: name}),
		events: agents.NewEventStore(db, agents.EventStoreConfig{Node: name}),
	}
	var err error
	n.runner, err = jobs.New(db, jobs.Config{FetchPoll: 50 * time.Millisecond, StopTimeout: 2 * time.Second}, wallClock{}, log)
	require.NoError(t, err)
	require.NoError(t, n.runner.Start(ctx))
	require.NoError(t, n.calls.Start(ctx))
	require.NoError(t, n.events.Start(ctx))
	n.mgr, err = dialer.NewManager(dialer.ManagerConfig{Node: name, Poll: 100 * time.Millisecond, CallbackPoll: 200 * time.Millisecond},
		dialer.ManagerDeps{DB: db, Clock: wallClock{}, Calls: n.calls, Agents: n.events, Callbacks: n.runner,
			Trunk: func(c *campaigns.Campaign, del dialer.TrunkDeliverer) (dialer.Trunk, error) {
				return rt.Trunk(dialer.CampaignID(c.ID), del), nil
			}})
	require.NoError(t, err)
	require.NoError(t, n.mgr.Start(ctx))
	n.runner.SetCallbackNotifier(n.mgr.CallbackDue)
	return n
}

func (n *dispoNode) stop() {
	n.runner.SetCallbackNotifier(nil)
	n.mgr.Stop()
	n.events.Stop()
	n.calls.Stop()
	n.runner.Stop()
}

// runDispoNode starts a node working c and returns it with the campaign's
// loop; when the test ends the node stops and goleak checks it left nothing.
func runDispoNode(t *testing.T, db *pgxpool.Pool, c campaigns.Campaign) (*dispoNode, *dialer.Loop) {
	t.Helper()
	return runDispoNodeOn(t, db, c, humanSim())
}

// runDispoNodeOn is runDispoNode with the carrier's outcomes rt.
func runDispoNodeOn(t *testing.T, db *pgxpool.Pool, c campaigns.Campaign, rt sim.Realtime) (*dispoNode, *dialer.Loop) {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	n := startDispoNodeOn(t, db, "node-d", rt)
	t.Cleanup(func() {
		n.stop()
		testwait.NoLeaks(t, ignore)
	})
	return n, n.loop(t, c)
}

func (n *dispoNode) loop(t *testing.T, c campaigns.Campaign) *dialer.Loop {
	t.Helper()
	var l *dialer.Loop
	testwait.Until(t, func() bool {
		var err error
		l, err = n.mgr.Loop(context.Background(), dialer.CampaignID(c.ID))
		return err == nil
	})
	return l
}

func agentStatus(t *testing.T, l *dialer.Loop, id agents.ID) dialer.AgentStatus {
	t.Helper()
	s, err := l.Status(context.Background())
	require.NoError(t, err)
	for _, a := range s.Agents {
		if a.ID == id {
			return a
		}
	}
	t.Fatalf("agent %d not in the loop", id)
	return dialer.AgentStatus{}
}

func waitAgent(t *testing.T, l *dialer.Loop, id agents.ID, want agents.State) dialer.AgentStatus {
	t.Helper()
	var st dialer.AgentStatus
	testwait.Until(t, func() bool {
		st = agentStatus(t, l, id)
		return st.State == want
	}, "agent %d reaches %s", id, want)
	return st
}

// talkAndHangUp logs the agent in (if needed), makes them READY, waits for a
// connected call and hangs it up: the agent is in DISPO with that call.
func talkAndHangUp(t *testing.T, l *dialer.Loop, id agents.ID) dialer.CallID {
	t.Helper()
	ctx := context.Background()
	if agentStatusOr(l, id) == agents.LoggedOut {
		require.NoError(t, l.Login(ctx, id, agents.Config{}))
	}
	require.NoError(t, l.AgentEvent(ctx, id, agents.Event{Kind: agents.EvReady}))
	st := waitAgent(t, l, id, agents.InCall)
	require.NoError(t, l.Hangup(ctx, id))
	require.Equal(t, agents.Dispo, agentStatus(t, l, id).State)
	return st.Call
}

func agentStatusOr(l *dialer.Loop, id agents.ID) agents.State {
	s, err := l.Status(context.Background())
	if err != nil {
		return agents.LoggedOut
	}
	for _, a := range s.Agents {
		if a.ID == id {
			return a.State
		}
	}
	return agents.LoggedOut
}

// powerCampaign is a power-mode campaign: one line per READY agent.
func powerCampaign(t *testing.T, db *pgxpool.Pool, n int, settings map[string]string) campaigns.Campaign {
	s := map[string]string{"mode": "power", "ratio": "1"}
	for k, v := range settings {
		s[k] = v
	}
	return newCampaign(t, db, n, s)
}

// A disposition is saved in one transaction: the call gets code, notes and
// the dispo time, the agent's state log gets the very same dispo time, the
// lead gets the attempt and the rule (SALE is final), and the agent moves on.
// Bad input is refused with typed errors and changes nothing.
func TestDispositionFlow(t *testing.T) {
	db := testdb.NewPool(t)
	c := powerCampaign(t, db, 20, nil)
	n, l := runDispoNode(t, db, c)
	ctx := context.Background()

	call := talkAndHangUp(t, l, 1)
	time.Sleep(150 * time.Millisecond) // dispo time
	for _, tc := range []struct {
		in   campaigns.DispositionInput
		call dialer.CallID
		want error
	}{
		{campaigns.DispositionInput{Code: "NOPE"}, 0, campaigns.ErrUnknownDisposition},
		{campaigns.DispositionInput{Code: "NA"}, 0, campaigns.ErrSystemDisposition},
		{campaigns.DispositionInput{Code: "AUTO"}, 0, campaigns.ErrSystemDisposition},
		{campaigns.DispositionInput{Code: "SALE"}, call + 100, campaigns.ErrNotAgentsCall},
		{campaigns.DispositionInput{Code: "CALLBK"}, 0, campaigns.ErrCallbackRequired},
		{campaigns.DispositionInput{Code: "CALLBK", Callback: &campaigns.CallbackInput{At: time.Now().Add(-time.Minute), Scope: campaigns.ScopeMe}}, 0, campaigns.ErrCallbackInPast},
		{campaigns.DispositionInput{Code: "CALLBK", Callback: &campaigns.CallbackInput{At: time.Now().Add(time.Hour), Scope: "us"}}, 0, campaigns.ErrCallbackScope},
		{campaigns.DispositionInput{Code: "SALE", Callback: &campaigns.CallbackInput{At: time.Now().Add(time.Hour), Scope: campaigns.ScopeMe}}, 0, campaigns.ErrCallbackNotAllowed},
	} {
		_, err := l.Disposition(ctx, 1, tc.call, tc.in)
		require.ErrorIs(t, err, tc.want, "%+v", tc.in)
		require.True(t, campaigns.IsDispositionInputError(err))
		require.Equal(t, agents.Dispo, agentStatus(t, l, 1).State, "a refused disposition leaves the agent in DISPO")
	}
	require.NoError(t, l.AgentEvent(ctx, 1, agents.Event{Kind: agents.EvPause, PauseCode: "LUNCH"}))
	res, err := l.Disposition(ctx, 1, call, campaigns.DispositionInput{Code: "SALE", Notes: "two seats, annual plan"})
	require.NoError(t, err)
	require.Equal(t, "SALE", res.Disposition.Code)
	st := agentStatus(t, l, 1)
	require.Equal(t, agents.Paused, st.State, "the pause asked for during DISPO applies")
	require.Equal(t, "LUNCH", st.PauseCode)

	_, err = l.Disposition(ctx, 1, call, campaigns.DispositionInput{Code: "NI"})
	require.ErrorIs(t, err, campaigns.ErrAlreadyDispositioned)
	_, err = l.Disposition(ctx, 1, 0, campaigns.DispositionInput{Code: "NI"})
	require.ErrorIs(t, err, campaigns.ErrAlreadyDispositioned)
	_, err = l.Disposition(ctx, 2, 0, campaigns.DispositionInput{Code: "NI"})
	require.ErrorIs(t, err, campaigns.ErrNoCallToDisposition)

	// Written at once, not behind: no flush needed.
	var code, notes string
	var dispoS, talkS float64
	var lead int64
	var dispoAt, endedAt time.Time
	require.NoError(t, db.QueryRow(ctx, `SELECT disposition, notes, dispo_s::float8, talk_s::float8, lead_id, dispositioned_at, ended_at
FROM calls WHERE campaign_id = $1 AND seq = $2`, c.ID, int64(call)).Scan(&code, &notes, &dispoS, &talkS, &lead, &dispoAt, &endedAt))
	require.Equal(t, "SALE", code)
	require.Equal(t, "two seats, annual plan", notes)
	require.GreaterOrEqual(t, dispoS, 0.15)
	require.InDelta(t, dispoAt.Sub(endedAt).Seconds(), dispoS, 0.002, "dispo time is call end → saved")
	var status, last string
	var attempts int
	require.NoError(t, db.QueryRow(ctx, `SELECT status, last_disposition, attempts FROM leads WHERE id = $1`, lead).Scan(&status, &last, &attempts))
	require.Equal(t, "done", status, "SALE is final")
	require.Equal(t, "SALE", last)
	require.Equal(t, 1, attempts)

	// The agent's state log has the same dispo time, committed with the
	// call (no flush), and the session totals have it too.
	var agentDispo float64
	require.NoError(t, db.QueryRow(ctx, `SELECT call_dispo_s::float8 FROM agent_events WHERE agent_id = 1 AND event = 'dispo_saved'`).Scan(&agentDispo))
	require.InDelta(t, dispoS, agentDispo, 0.0005)
	require.NoError(t, n.events.Flush(ctx))
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM agent_events WHERE agent_id = 1 AND event = 'dispo_saved'`), "written once")
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM (SELECT event, lag(event) OVER (ORDER BY id) AS prev FROM agent_events WHERE agent_id = 1) e
		WHERE e.event = 'dispo_saved' AND e.prev = 'pause'`), "in order after the pause asked for in DISPO")
	require.NoError(t, l.AgentEvent(ctx, 1, agents.Event{Kind: agents.EvLogout}))
	require.NoError(t, n.events.Flush(ctx))
	var sessionDispo float64
	require.NoError(t, db.QueryRow(ctx, `SELECT dispo_s::float8 FROM agent_sessions WHERE agent_id = 1`).Scan(&sessionDispo))
	require.InDelta(t, dispoS, sessionDispo, 0.0005)
}

// A DNC disposition puts the number on the campaign's list in the same
// transaction: by the time the call returns, no claim can dial it.
func TestDNCDispositionBlocksDiallingAtOnce(t *testing.T) {
	db := testdb.NewPool(t)
	c := powerCampaign(t, db, 5, nil)
	_, l := runDispoNode(t, db, c)
	ctx := context.Background()

	call := talkAndHangUp(t, l, 1)
	var lead int64
	var phone string
	require.NoError(t, db.QueryRow(ctx, `SELECT k.lead_id, k.phone FROM calls k WHERE campaign_id = $1 AND seq = $2`, c.ID, int64(call)).Scan(&lead, &phone))
	_, err := l.Disposition(ctx, 1, call, campaigns.DispositionInput{Code: "DNC"})
	require.NoError(t, err)

	on, err := campaigns.OnDNC(ctx, db, c.ID, phone)
	require.NoError(t, err)
	require.True(t, on)
	// Even if the lead were put back in the pool, the claim checks the list.
	_, err = db.Exec(ctx, `UPDATE leads SET status = 'retry', dnc = false, next_attempt_at = now() - interval '1 hour' WHERE id = $1`, lead)
	require.NoError(t, err)
	c2, err := campaigns.Get(ctx, db, c.ID)
	require.NoError(t, err)
	got, err := campaigns.NewHopper("x").Claim(ctx, db, &c2, 100, time.Now())
	require.NoError(t, err)
	for _, g := range got {
		require.NotEqual(t, lead, int64(g.ID), "a DNC number is never claimed")
	}
}

// The wrap-up limit gives the call the automatic disposition and sends the
// agent where the campaign says.
func TestWrapupLimitAutoDispositions(t *testing.T) {
	db := testdb.NewPool(t)
	c := powerCampaign(t, db, 5, map[string]string{"wrapup_limit_s": "1", "wrapup_then": "paused"})
	n, l := runDispoNode(t, db, c)
	ctx := context.Background()

	call := talkAndHangUp(t, l, 1)
	st := waitAgent(t, l, 1, agents.Paused)
	require.Equal(t, agents.PauseCodeWrapup, st.PauseCode)
	var code string
	var auto bool
	var dispoS float64
	require.NoError(t, db.QueryRow(ctx, `SELECT disposition, auto_disposition, dispo_s::float8 FROM calls WHERE campaign_id = $1 AND seq = $2`,
		c.ID, int64(call)).Scan(&code, &auto, &dispoS))
	require.Equal(t, campaigns.DispoAuto, code)
	require.True(t, auto)
	require.InDelta(t, 1.0, dispoS, 0.2)
	require.NoError(t, n.events.Flush(ctx))
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM agent_events WHERE event = 'wrapup_timeout' AND to_state = 'PAUSED' AND pause_code = 'WRAPUP'`))
	var status string
	require.NoError(t, db.QueryRow(ctx, `SELECT l.status FROM leads l JOIN calls k ON k.lead_id = l.id WHERE k.campaign_id = $1 AND k.seq = $2`,
		c.ID, int64(call)).Scan(&status))
	require.Equal(t, "retry", status, "AUTO is not final: the lead follows the retry rules")

	// A disposition saved in time stops the timer.
	require.NoError(t, l.AgentEvent(ctx, 1, agents.Event{Kind: agents.EvReady}))
	st = waitAgent(t, l, 1, agents.InCall)
	require.NoError(t, l.Hangup(ctx, 1))
	_, err := l.Disposition(ctx, 1, st.Call, campaigns.DispositionInput{Code: "NI"})
	require.NoError(t, err)
	require.NoError(t, l.AgentEvent(ctx, 1, agents.Event{Kind: agents.EvPause}))
	time.Sleep(1500 * time.Millisecond)
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM calls WHERE campaign_id = $1 AND disposition = 'AUTO'`, c.ID))
}

// An agent's `me` callback: scheduled with the disposition, it falls due
// while the agent is paused, waits, and is offered to the agent (ahead of new
// calls, as a preview with its notes) as soon as they are READY — even after
// the node was stopped and another started in between (the callback and its
// job were committed with the disposition).
func TestMeCallbackReachesItsAgentAcrossARestart(t *testing.T) {
	db := testdb.NewPool(t)
	c := powerCampaign(t, db, 20, nil)
	defer testwait.NoLeaks(t, goleak.IgnoreCurrent())
	ctx := context.Background()
	n := startDispoNode(t, db, "node-d")
	l := n.loop(t, c)

	call := talkAndHangUp(t, l, 1)
	require.NoError(t, l.AgentEvent(ctx, 1, agents.Event{Kind: agents.EvPause}))
	due := time.Now().Add(1500 * time.Millisecond)
	res, err := l.Disposition(ctx, 1, call, campaigns.DispositionInput{Code: "CALLBK", Notes: "wife decides; call after lunch",
		Callback: &campaigns.CallbackInput{At: due, Scope: campaigns.ScopeMe}})
	require.NoError(t, err)
	require.NotNil(t, res.Callback)
	cb := res.Callback
	require.Equal(t, campaigns.CallbackScheduled, cb.Status)
	require.False(t, cb.Moved)
	require.Equal(t, agents.Paused, agentStatus(t, l, 1).State)
	var callRow int64
	require.NoError(t, db.QueryRow(ctx, `SELECT id FROM calls WHERE campaign_id = $1 AND seq = $2`, c.ID, int64(call)).Scan(&callRow))
	require.Equal(t, callRow, cb.Call, "the callback names the call that set it")
	n.stop() // the node goes away before the callback is due

	n = startDispoNode(t, db, "node-d2")
	defer n.stop()
	l = n.loop(t, c)
	testwait.Until(t, func() bool {
		got, err := campaigns.GetCallback(ctx, db, cb.ID)
		require.NoError(t, err)
		return got.Status == campaigns.CallbackDue
	}, "it falls due with nobody logged in")
	list, err := campaigns.ListCallbacks(ctx, db, campaigns.CallbackFilter{Agent: 1})
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, campaigns.CallbackDue, list[0].Status, "it waits in the agent's list, marked due")

	require.NoError(t, l.Login(ctx, 1, agents.Config{RejectPauses: true}))
	require.NoError(t, l.AgentEvent(ctx, 1, agents.Event{Kind: agents.EvReady}))
	waitAgent(t, l, 1, agents.Ringing)
	info, ok, err := l.Offer(ctx, 1)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, dialer.LeadID(cb.Lead), info.Lead.ID)
	require.NotNil(t, info.Callback)
	require.Equal(t, "wife decides; call after lunch", info.Callback.Notes)

	_, err = campaigns.Reschedule(ctx, db, n.runner, campaigns.RescheduleCallback{ID: cb.ID, At: time.Now().Add(time.Hour), By: 1, Now: time.Now()})
	require.ErrorIs(t, err, campaigns.ErrCallbackTransition, "not while it is offered")

	// Skip: it is due again (and would not be offered again for a while).
	require.NoError(t, l.AgentEvent(ctx, 1, agents.Event{Kind: agents.EvReject}))
	got, err := campaigns.GetCallback(ctx, db, cb.ID)
	require.NoError(t, err)
	require.Equal(t, campaigns.CallbackDue, got.Status)

	// A skipped callback is not offered again for a while; rescheduling it
	// makes a new version that is.
	require.Equal(t, agents.Paused, agentStatus(t, l, 1).State)
	_, err = campaigns.Reschedule(ctx, db, n.runner, campaigns.RescheduleCallback{ID: cb.ID, At: time.Now().Add(300 * time.Millisecond), By: 1, Now: time.Now()})
	require.NoError(t, err)
	testwait.Until(t, func() bool {
		got, err := campaigns.GetCallback(ctx, db, cb.ID)
		require.NoError(t, err)
		return got.Status == campaigns.CallbackDue
	})
	require.NoError(t, l.AgentEvent(ctx, 1, agents.Event{Kind: agents.EvReady}))
	waitAgent(t, l, 1, agents.Ringing)
	require.NoError(t, l.AgentEvent(ctx, 1, agents.Event{Kind: agents.EvAccept}))
	waitAgent(t, l, 1, agents.InCall)
	testwait.Until(t, func() bool { return agentStatus(t, l, 1).Call != 0 },
		"the customer answers the agent's callback")
	got, err = campaigns.GetCallback(ctx, db, cb.ID)
	require.NoError(t, err)
	require.Equal(t, campaigns.CallbackDialled, got.Status)
	require.NoError(t, l.Hangup(ctx, 1))
	_, err = l.Disposition(ctx, 1, 0, campaigns.DispositionInput{Code: "SALE"})
	require.NoError(t, err)
	got, err = campaigns.GetCallback(ctx, db, cb.ID)
	require.NoError(t, err)
	require.Equal(t, campaigns.CallbackCompleted, got.Status)

	hist, err := campaigns.CallbackHistory(ctx, db, cb.ID)
	require.NoError(t, err)
	var evs []campaigns.CallbackEvent
	for _, h := range hist {
		evs = append(evs, h.Event)
	}
	require.Equal(t, []campaigns.CallbackEvent{campaigns.CbSchedule, campaigns.CbFallDue, campaigns.CbOffer, campaigns.CbDecline,
		campaigns.CbReschedule, campaigns.CbFallDue, campaigns.CbOffer, campaigns.CbDial, campaigns.CbComplete}, evs)
	require.Equal(t, 2, count(t, db, `SELECT count(*) FROM calls WHERE lead_id = $1`, cb.Lead), "dialled once for the callback")
}

// An `anyone` callback's lead goes to the top of the hopper when due and is
// dialled by the next agent free.
func TestAnyoneCallbackIsDialledFirst(t *testing.T) {
	db := testdb.NewPool(t)
	c := powerCampaign(t, db, 50, nil)
	_, l := runDispoNode(t, db, c)
	ctx := context.Background()

	call := talkAndHangUp(t, l, 1)
	res, err := l.Disposition(ctx, 1, call, campaigns.DispositionInput{Code: "CALLBK",
		Callback: &campaigns.CallbackInput{At: time.Now().Add(time.Second), Scope: campaigns.ScopeAnyone}})
	require.NoError(t, err)
	require.NoError(t, l.AgentEvent(ctx, 1, agents.Event{Kind: agents.EvPause}))
	require.NoError(t, l.Login(ctx, 2, agents.Config{}))
	waitAgent(t, l, 1, agents.Paused)
	testwait.Until(t, func() bool {
		return count(t, db, `SELECT count(*) FROM callback_events WHERE callback_id = $1 AND event = 'fall_due'`, res.Callback.ID) == 1
	}, "the callback falls due")
	require.NoError(t, l.AgentEvent(ctx, 2, agents.Event{Kind: agents.EvReady}))
	st := waitAgent(t, l, 2, agents.InCall)
	var lead int64
	testwait.Until(t, func() bool {
		return db.QueryRow(ctx, `SELECT lead_id FROM calls WHERE campaign_id = $1 AND seq = $2`, c.ID, int64(st.Call)).Scan(&lead) == nil
	})
	require.Equal(t, int64(res.Callback.Lead), lead, "agent 2's first call is the callback")
}

// "Click to dial": an agent dials their own callback from their list before
// it is due; its job is cancelled and the call's disposition completes it.
func TestAgentDialsACallbackFromTheirList(t *testing.T) {
	db := testdb.NewPool(t)
	c := newCampaign(t, db, 3, map[string]string{"mode": "manual"})
	n, l := runDispoNode(t, db, c)
	ctx := context.Background()
	cb := meCallbackInAnHour(t, db, n, c, 1)

	require.NoError(t, l.Login(ctx, 1, agents.Config{}))
	_, err := l.DialCallback(ctx, 1, cb.ID)
	require.ErrorIs(t, err, campaigns.ErrCallbackTransition, "not while PAUSED")
	require.NoError(t, l.Login(ctx, 2, agents.Config{}))
	require.NoError(t, l.AgentEvent(ctx, 2, agents.Event{Kind: agents.EvReady}))
	_, err = l.DialCallback(ctx, 2, cb.ID)
	require.ErrorIs(t, err, campaigns.ErrCallbackTransition, "not another agent's")

	require.NoError(t, l.AgentEvent(ctx, 1, agents.Event{Kind: agents.EvReady}))
	_, err = l.DialCallback(ctx, 1, cb.ID)
	require.NoError(t, err)
	require.Equal(t, agents.Dialing, agentStatus(t, l, 1).State)
	got, err := campaigns.GetCallback(ctx, db, cb.ID)
	require.NoError(t, err)
	require.Equal(t, campaigns.CallbackDialled, got.Status)
	j, err := n.runner.GetJob(ctx, cb.JobID)
	require.NoError(t, err)
	require.Equal(t, "cancelled", j.State)

	testwait.Until(t, func() bool { return agentStatus(t, l, 1).Call != 0 })
	require.NoError(t, l.Hangup(ctx, 1))
	_, err = l.Disposition(ctx, 1, 0, campaigns.DispositionInput{Code: "SALE", Notes: "done"})
	require.NoError(t, err)
	got, err = campaigns.GetCallback(ctx, db, cb.ID)
	require.NoError(t, err)
	require.Equal(t, campaigns.CallbackCompleted, got.Status)
}

// A me callback that falls due while its agent is already READY (waiting,
// with nothing else to dial) is offered to them at once, not only when they
// next become READY.
func TestMeCallbackOfferedToAWaitingAgent(t *testing.T) {
	db := testdb.NewPool(t)
	c := powerCampaign(t, db, 1, nil)
	defer testwait.NoLeaks(t, goleak.IgnoreCurrent())
	ctx := context.Background()
	n := startDispoNode(t, db, "node-w")
	defer n.stop()
	l := n.loop(t, c)

	call := talkAndHangUp(t, l, 1)
	due := time.Now().Add(time.Second)
	res, err := l.Disposition(ctx, 1, call, campaigns.DispositionInput{Code: "CALLBK", Notes: "after the meeting",
		Callback: &campaigns.CallbackInput{At: due, Scope: campaigns.ScopeMe}})
	require.NoError(t, err)
	require.Equal(t, agents.Ready, agentStatus(t, l, 1).State, "the agent waits; the campaign's only lead is held")
	waitAgent(t, l, 1, agents.Ringing)
	require.False(t, time.Now().Before(due), "not before it is due")
	info, ok, err := l.Offer(ctx, 1)
	require.NoError(t, err)
	require.True(t, ok)
	require.NotNil(t, info.Callback)
	require.Equal(t, res.Callback.ID, info.Callback.ID)
	require.Equal(t, "after the meeting", info.Callback.Notes)
	require.NoError(t, l.AgentEvent(ctx, 1, agents.Event{Kind: agents.EvReject}))
}

// A simulated agent's callback code (NoCallback) is saved on the call and
// the lead like any other code, but schedules no callback nobody would
// make; a person's callback code without a time is refused.
func TestSimulatedAgentsCallbackCodeSchedulesNoCallback(t *testing.T) {
	db := testdb.NewPool(t)
	c := powerCampaign(t, db, 20, nil)
	_, l := runDispoNode(t, db, c)
	ctx := context.Background()

	call := talkAndHangUp(t, l, 1)
	_, err := l.Disposition(ctx, 1, call, campaigns.DispositionInput{Code: "CALLBK"})
	require.ErrorIs(t, err, campaigns.ErrCallbackRequired)
	res, err := l.Disposition(ctx, 1, call, campaigns.DispositionInput{Code: "CALLBK", NoCallback: true,
		Callback: &campaigns.CallbackInput{At: time.Now().Add(time.Hour), Scope: campaigns.ScopeMe}})
	require.NoError(t, err)
	require.Equal(t, "CALLBK", res.Disposition.Code)
	require.Nil(t, res.Callback)
	require.Zero(t, count(t, db, `SELECT count(*) FROM callbacks WHERE campaign_id = $1`, c.ID))
	var last string
	require.NoError(t, db.QueryRow(ctx, `SELECT l.last_disposition FROM leads l JOIN calls k ON k.lead_id = l.id
		WHERE k.campaign_id = $1 AND k.seq = $2`, c.ID, int64(call)).Scan(&last))
	require.Equal(t, "CALLBK", last)
	testwait.Until(t, func() bool {
		return count(t, db, `SELECT count(*) FROM calls WHERE campaign_id = $1 AND seq = $2 AND disposition = 'CALLBK'`,
			c.ID, int64(call)) == 1
	}, "the call record has the code")
}

// A manual dial claims the lead the way the hopper would and dials it for
// the READY agent; a dial the engine refuses (the agent is not READY) leaves
// the lead as it was, back in the pool, and a lead not in the campaign is
// not found.
func TestManualDialClaimsDialsAndReleasesARefusedLead(t *testing.T) {
	db := testdb.NewPool(t)
	c := newCampaign(t, db, 5, map[string]string{"mode": "manual"})
	_, l := runDispoNode(t, db, c)
	ctx := context.Background()
	rows, err := db.Query(ctx, `SELECT id FROM leads WHERE campaign_id = $1 ORDER BY id`, c.ID)
	require.NoError(t, err)
	leads, err := pgx.CollectRows(rows, pgx.RowTo[campaigns.LeadID])
	require.NoError(t, err)
	status := func(id campaigns.LeadID) string {
		var s string
		require.NoError(t, db.QueryRow(ctx, `SELECT status FROM leads WHERE id = $1`, id).Scan(&s))
		return s
	}
	before := status(leads[1])

	require.NoError(t, l.Login(ctx, 1, agents.Config{}))
	_, err = l.ManualDial(ctx, 1, leads[1])
	require.ErrorIs(t, err, dialer.ErrDialRefused, "agent 1 is PAUSED")
	require.Equal(t, before, status(leads[1]), "the refused lead is back as it was")

	require.NoError(t, l.AgentEvent(ctx, 1, agents.Event{Kind: agents.EvReady}))
	call, err := l.ManualDial(ctx, 1, leads[1])
	require.NoError(t, err)
	st := agentStatus(t, l, 1)
	require.Equal(t, agents.Dialing, st.State, "the agent hears the call ring at once")
	require.Equal(t, "dialing", status(leads[1]))
	testwait.Until(t, func() bool {
		return count(t, db, `SELECT count(*) FROM calls WHERE campaign_id = $1 AND seq = $2 AND lead_id = $3`,
			c.ID, int64(call), leads[1]) == 1
	}, "the call is recorded against the lead")

	_, err = l.ManualDial(ctx, 1, campaigns.LeadID(1<<40))
	require.ErrorIs(t, err, campaigns.ErrNotFound)
}
