package dialer_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
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

func TestMain(m *testing.M) { testdb.Main(m) }

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

// fastSim is the simulated carrier and agents at test speed, with breaks.
func fastSim() sim.Realtime {
	rt := simtest.FastRealtime()
	rt.Pause = simtest.Breaks()
	return rt
}

// newCampaign creates an active campaign with n leads (valid New York
// numbers) and the given settings over fast-retry defaults.
func newCampaign(t *testing.T, db *pgxpool.Pool, n int, settings map[string]string) campaigns.Campaign {
	t.Helper()
	ctx := context.Background()
	s := map[string]string{"window_start": "00:00", "window_end": "24:00", "simulated": "true", "connect_deadline_ms": "300",
		"retry_no_answer_s": "0", "retry_busy_s": "0", "retry_machine_s": "0", "retry_abandoned_s": "0", "retry_failed_s": "0",
		"max_attempts_per_day": "100", "max_attempts": "100"}
	for k, v := range settings {
		s[k] = v
	}
	c, err := campaigns.Create(ctx, db, fmt.Sprintf("c-%s", t.Name()), s)
	require.NoError(t, err)
	lines := []string{"phone,first_name,state"}
	for i := range n {
		lines = append(lines, fmt.Sprintf("212%03d%04d,Lead%d,NY", 200+i/10000, i%10000, i))
	}
	res, err := campaigns.Import(ctx, db, strings.NewReader(strings.Join(lines, "\n")+"\n"),
		campaigns.ImportOptions{Campaign: c.ID, Name: "test.csv"})
	require.NoError(t, err)
	require.EqualValues(t, n, res.Imported)
	c, err = campaigns.SetStatus(ctx, db, c.ID, campaigns.StatusActive)
	require.NoError(t, err)
	return c
}

// node is one node's engine: stores, manager and simulated agents.
type node struct {
	node   *dialer.Node
	calls  *dialer.CallStore
	events *agents.EventStore
	mgr    *dialer.Manager
	agents *sim.Agents
}

func startNode(t *testing.T, db *pgxpool.Pool, rt sim.Realtime, name string, c campaigns.Campaign, firstAgent agents.ID, nAgents int) *node {
	t.Helper()
	ctx := context.Background()
	n := &node{
		calls:  dialer.NewCallStore(db, dialer.CallStoreConfig{Node: name}),
		events: agents.NewEventStore(db, agents.EventStoreConfig{Node: name}),
	}
	var err error
	n.node, err = dialer.RegisterNode(ctx, db, wallClock{}, dialer.NodeConfig{ID: name})
	require.NoError(t, err)
	require.NoError(t, n.node.Start(ctx))
	require.NoError(t, n.calls.Start(ctx))
	require.NoError(t, n.events.Start(ctx))
	n.mgr, err = dialer.NewManager(dialer.ManagerConfig{Node: name, Poll: 100 * time.Millisecond}, dialer.ManagerDeps{
		DB: db, Clock: wallClock{}, Calls: n.calls, Agents: n.events,
		Trunk: func(c *campaigns.Campaign, del dialer.TrunkDeliverer) (dialer.Trunk, error) {
			return rt.Trunk(dialer.CampaignID(c.ID), del), nil
		},
	})
	require.NoError(t, err)
	require.NoError(t, n.mgr.Start(ctx))
	if nAgents > 0 {
		n.agents, err = sim.NewAgents(sim.AgentsConfig{Campaign: dialer.CampaignID(c.ID), N: nAgents, FirstID: firstAgent,
			Sim: rt, Resync: 100 * time.Millisecond}, n.mgr, wallClock{})
		require.NoError(t, err)
		require.NoError(t, n.agents.Start(ctx))
	}
	return n
}

func (n *node) stop() {
	if n.agents != nil {
		n.agents.Stop()
	}
	n.mgr.Stop()
	n.events.Stop()
	n.calls.Stop()
	n.node.Stop()
	if err := n.node.MarkStopped(context.Background()); err != nil {
		panic(err)
	}
}

func count(t *testing.T, db *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, db.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

// Simulated agents take calls, talk, disposition and go READY again; every
// call leaves a complete record, every agent transition is in the state log,
// and every attempt is on its lead.
func TestCallsFlowAndEveryStepIsRecorded(t *testing.T) {
	db := testdb.NewPool(t)
	c := newCampaign(t, db, 300, nil)
	defer testwait.NoLeaks(t, goleak.IgnoreCurrent())
	n := startNode(t, db, fastSim(), "node-a", c, 1, 3)

	// Outcomes are random: wait until every kind this test checks has
	// happened, not for a fixed number of calls.
	testwait.Until(t, func() bool {
		return count(t, db, `SELECT count(*) FROM calls WHERE disposition IN ('SALE','NI','CALLBK','AM','WN','DNC') AND talk_s IS NOT NULL`) >= 12 &&
			count(t, db, `SELECT count(*) FROM calls WHERE outcome = 'machine' AND disposition = 'AA'`) > 0 &&
			count(t, db, `SELECT count(*) FROM calls WHERE outcome = 'busy' AND disposition = 'B'`) > 0 &&
			count(t, db, `SELECT count(*) FROM leads WHERE status = 'done'`) > 0 &&
			count(t, db, `SELECT count(*) FROM agent_events WHERE to_state = 'PAUSED' AND pause_code = 'BREAK'`) > 0
	}, "agents disposition connected calls, and machines, busies, final dispositions and breaks all happen")
	n.stop()

	// Every call ended, with a consistent record.
	require.Zero(t, count(t, db, `SELECT count(*) FROM calls WHERE state <> 'ended'`))
	require.Positive(t, count(t, db, `SELECT count(*) FROM calls WHERE outcome = 'machine' AND disposition = 'AA'`))
	require.Positive(t, count(t, db, `SELECT count(*) FROM calls WHERE outcome = 'busy' AND disposition = 'B'`))
	require.Zero(t, count(t, db, `SELECT count(*) FROM calls WHERE outcome = 'completed'
		AND (connected_at IS NULL OR answered_at IS NULL OR agent_id IS NULL OR answered_by <> 'human')`))
	require.Positive(t, count(t, db, `SELECT count(*) FROM calls WHERE ringing_at IS NOT NULL`), "ringing is stamped")
	require.Zero(t, count(t, db, `SELECT count(*) FROM calls WHERE dialed_at IS NULL OR queued_at IS NULL OR node <> 'node-a'`))

	// Each dispositioned call's lead carries the attempt and the code.
	require.Zero(t, count(t, db, `SELECT count(*) FROM calls k JOIN leads l ON l.id = k.lead_id
		WHERE k.disposition IS NOT NULL AND k.outcome = 'completed' AND l.attempts = 0`))
	require.Positive(t, count(t, db, `SELECT count(*) FROM leads WHERE last_disposition IN ('SALE','NI','CALLBK','AM','WN','DNC')`))
	require.Positive(t, count(t, db, `SELECT count(*) FROM leads WHERE status = 'done'`), "final dispositions finish leads")
	// Attempts on leads are exactly the calls: every ended call is an
	// attempt (one hung up at shutdown rang; a connected one left without a
	// disposition gets AUTO) and carries its disposition.
	require.Equal(t,
		count(t, db, `SELECT coalesce(sum(attempts), 0) FROM leads WHERE campaign_id = $1`, c.ID),
		count(t, db, `SELECT count(*) FROM calls WHERE campaign_id = $1 AND disposition IS NOT NULL`, c.ID))
	require.Zero(t, count(t, db, `SELECT count(*) FROM leads WHERE status = 'dialing'`), "no lead is left claimed")

	// The state log has the whole day of each agent, sessions closed with totals.
	for _, ev := range []string{"login", "ready", "connect", "call_end", "dispo_saved", "logout"} {
		require.Positive(t, count(t, db, `SELECT count(*) FROM agent_events WHERE event = $1`, ev), ev)
	}
	require.Equal(t, 3, count(t, db, `SELECT count(*) FROM agent_sessions WHERE logout_at IS NOT NULL AND talk_s > 0 AND calls > 0`))
	require.Zero(t, count(t, db, `SELECT count(*) FROM agent_sessions WHERE logout_at IS NULL`))
	// Each agent's disposition has its event; a call its agent left by
	// logging out at the stop got AUTO, closed by the logout event.
	require.Equal(t,
		count(t, db, `SELECT count(*) FROM agent_events WHERE event = 'dispo_saved'`),
		count(t, db, `SELECT count(*) FROM calls WHERE dispositioned_at IS NOT NULL AND outcome = 'completed' AND disposition <> 'AUTO'`))
	require.Equal(t,
		count(t, db, `SELECT count(*) FROM agent_events WHERE event = 'logout' AND call_talk_s IS NOT NULL`),
		count(t, db, `SELECT count(*) FROM calls WHERE outcome = 'completed' AND disposition = 'AUTO'`))
	require.Positive(t, count(t, db, `SELECT count(*) FROM agent_events WHERE to_state = 'PAUSED' AND pause_code = 'BREAK'`))

	_, err := db.Exec(context.Background(), `UPDATE agent_events SET event = 'ready'`)
	require.ErrorContains(t, err, "append-only")
}

// A restarted campaign keeps its abandon budget: the window's live answers
// and abandons come back from the calls table.
func TestRestartKeepsTheAbandonBudget(t *testing.T) {
	ctx := context.Background()
	db := testdb.NewPool(t)
	c := newCampaign(t, db, 50, map[string]string{"mode": "power", "ratio": "5", "connect_deadline_ms": "100"})
	defer testwait.NoLeaks(t, goleak.IgnoreCurrent())
	calls := dialer.NewCallStore(db, dialer.CallStoreConfig{Node: "n"})
	require.NoError(t, calls.Start(ctx))
	defer calls.Stop()

	rt := fastSim()
	rt.Outcomes = []sim.Outcome{{Kind: "human", P: 1, After: sim.Dist{Dist: "uniform", Min: 0.02, Max: 0.05}}}
	rt.CustomerTalk = sim.Dist{Dist: "const", Value: 60}
	startLoop := func() (*dialer.Loop, *dialer.HopperLeads) {
		cfg, pol, err := dialer.EngineConfig(&c)
		require.NoError(t, err)
		leads := dialer.NewHopperLeads(db, c, wallClock{}, dialer.HopperLeadsConfig{Node: "n"})
		require.NoError(t, leads.Start(ctx))
		loop, err := dialer.NewLoop(dialer.LoopConfig{Engine: cfg}, dialer.LoopDeps{
			Clock: wallClock{}, Leads: leads, Policy: pol, History: calls, Journal: calls.Journal(cfg.Campaign),
			Trunk: func(del dialer.TrunkDeliverer) (dialer.Trunk, error) { return rt.Trunk(cfg.Campaign, del), nil },
		})
		require.NoError(t, err)
		require.NoError(t, loop.Start(ctx))
		return loop, leads
	}

	// One agent, five lines a READY agent: the first answer reaches the
	// agent, the others wait past the connect deadline and are abandoned.
	loop, leads := startLoop()
	require.NoError(t, loop.Login(ctx, 1, agents.Config{}))
	require.NoError(t, loop.AgentEvent(ctx, 1, agents.Event{Kind: agents.EvReady}))
	var before dialer.LoopStatus
	testwait.Until(t, func() bool {
		var err error
		before, err = loop.Status(ctx)
		require.NoError(t, err)
		return before.Counters.Abandons >= 3 && before.Lines == 0 && before.Waiting == 0
	})
	loop.Stop()
	leads.Stop()
	require.NoError(t, calls.Flush(ctx))
	status, err := loop.Status(ctx)
	require.ErrorIs(t, err, dialer.ErrLoopStopped)
	require.Zero(t, status.Budget.Live)

	dbAbandons := count(t, db, `SELECT count(*) FROM calls WHERE abandoned`)
	dbLive := count(t, db, `SELECT count(*) FROM calls WHERE outcome IN ('completed', 'abandoned')`)
	require.GreaterOrEqual(t, dbAbandons, 3)
	require.Equal(t, dbAbandons, count(t, db, `SELECT count(*) FROM calls WHERE outcome = 'abandoned' AND disposition = 'DROP'`))
	require.Zero(t, count(t, db, `SELECT count(*) FROM leads WHERE status = 'dialing'`))
	require.Equal(t, dbAbandons, count(t, db, `SELECT count(*) FROM leads WHERE last_outcome = 'abandoned'`))

	again, leads2 := startLoop()
	defer leads2.Stop()
	defer again.Stop()
	after, err := again.Status(ctx)
	require.NoError(t, err)
	require.EqualValues(t, dbAbandons, after.Budget.Abandons, "the abandons of the window survive the restart")
	require.EqualValues(t, dbLive, after.Budget.Live)
	require.Zero(t, after.Counters.Abandons, "the new engine's own counters start at zero")
}

// Two nodes on one database: the campaign's lease gives it to exactly one
// of them at a time; when its owner stops, the other takes it over and the
// leads carry on where they were. A lead is never in two calls at once.
func TestTwoNodesNeverDialOneLeadAtOnce(t *testing.T) {
	db := testdb.NewPool(t)
	c := newCampaign(t, db, 40, nil)
	defer testwait.NoLeaks(t, goleak.IgnoreCurrent())
	// Dispositions that keep leads coming back, so each is dialled often.
	rt := fastSim()
	rt.Codes = []sim.Code{{Code: "CALLBK", P: 0.5}, {Code: "AM", P: 0.5}}
	nodes := map[string]*node{
		"node-a": startNode(t, db, rt, "node-a", c, 1, 3),
		"node-b": startNode(t, db, rt, "node-b", c, 101, 3),
	}
	testwait.Until(t, func() bool {
		return count(t, db, `SELECT count(*) FROM calls WHERE state = 'ended'`) >= 60
	}, "the owner dials, leads are dialled again and again")
	require.Equal(t, 1, count(t, db, `SELECT count(DISTINCT node) FROM calls`), "one node paces the campaign")
	var owner string
	require.NoError(t, db.QueryRow(context.Background(), `SELECT node FROM calls LIMIT 1`).Scan(&owner))
	first := count(t, db, `SELECT epoch FROM calls LIMIT 1`)
	require.Positive(t, first, "calls carry their lease epoch")

	// The owner stops cleanly and releases the campaign: the other takes it.
	nodes[owner].stop()
	delete(nodes, owner)
	testwait.Until(t, func() bool {
		return count(t, db, `SELECT count(*) FROM calls WHERE state = 'ended' AND node <> $1`, owner) >= 60
	}, "the other node takes the campaign over")
	for _, n := range nodes {
		n.stop()
	}
	require.Greater(t, count(t, db, `SELECT max(epoch) FROM calls WHERE node <> $1`, owner), first,
		"the takeover has a newer epoch")

	require.Zero(t, count(t, db, `
		SELECT count(*) FROM calls x JOIN calls y ON x.lead_id = y.lead_id AND x.id < y.id
		WHERE tstzrange(x.dialed_at, x.ended_at) && tstzrange(y.dialed_at, y.ended_at)`),
		"no lead is in two calls at once")
	require.Greater(t, count(t, db, `SELECT count(*) FROM (SELECT lead_id FROM calls GROUP BY lead_id HAVING count(DISTINCT node) = 2) s`), 0,
		"leads move between nodes")
	require.Zero(t, count(t, db, `SELECT count(*) FROM leads WHERE status = 'dialing'`))
}

// Pausing a campaign stops its loop within a poll: the agents are logged
// out, calls in flight end, nothing stays claimed. Resuming starts a new
// loop and the agents come back.
func TestPausingACampaignStopsItsLoopAndResumingRestartsIt(t *testing.T) {
	ctx := context.Background()
	db := testdb.NewPool(t)
	c := newCampaign(t, db, 100, nil)
	defer testwait.NoLeaks(t, goleak.IgnoreCurrent())
	n := startNode(t, db, fastSim(), "node-a", c, 1, 2)
	defer n.stop()
	id := dialer.CampaignID(c.ID)

	testwait.Until(t, func() bool {
		return count(t, db, `SELECT count(*) FROM calls WHERE outcome = 'completed' AND disposition IS NOT NULL`) >= 2
	})
	first, err := n.mgr.Loop(ctx, id)
	require.NoError(t, err)

	_, err = campaigns.SetStatus(ctx, db, c.ID, campaigns.StatusPaused)
	require.NoError(t, err)
	testwait.Until(t, func() bool {
		_, err := n.mgr.Loop(ctx, id)
		return errors.Is(err, dialer.ErrLoopStopped)
	})
	<-first.Done()
	require.NoError(t, n.calls.Flush(ctx))
	require.NoError(t, n.events.Flush(ctx))
	require.Zero(t, count(t, db, `SELECT count(*) FROM calls WHERE state <> 'ended'`))
	require.Zero(t, count(t, db, `SELECT count(*) FROM leads WHERE status = 'dialing'`))
	require.Zero(t, count(t, db, `SELECT count(*) FROM agent_sessions WHERE logout_at IS NULL`))
	placed := count(t, db, `SELECT count(*) FROM calls`)

	_, err = campaigns.SetStatus(ctx, db, c.ID, campaigns.StatusActive)
	require.NoError(t, err)
	testwait.Until(t, func() bool {
		return count(t, db, `SELECT count(*) FROM calls`) > placed &&
			count(t, db, `SELECT count(*) FROM agent_sessions WHERE logout_at IS NULL`) == 2
	}, "a new loop dials and the agents log in again")
	second, err := n.mgr.Loop(ctx, id)
	require.NoError(t, err)
	require.NotSame(t, first, second)
	require.Equal(t, 2, count(t, db, `SELECT count(DISTINCT run_id) FROM calls`), "each loop run journals under its own run")
}

// A restarted campaign's pacer learns from the campaign's history: the
// calls and wrap-ups in the database train a new predictive pacer, so it
// paces on them instead of leaning on the warm-up priors as a cold start
// does.
func TestRestartedPacingLearnsFromHistory(t *testing.T) {
	ctx := context.Background()
	db := testdb.NewPool(t)
	c := newCampaign(t, db, 400, nil)
	n := startNode(t, db, fastSim(), "node-a", c, 1, 4)
	testwait.Until(t, func() bool {
		return count(t, db, `SELECT count(*) FROM calls WHERE state = 'ended' AND end_cause = ''`) >= 260 &&
			count(t, db, `SELECT count(*) FROM calls WHERE outcome = 'completed'`) >= 60
	}, "enough calls to train on")
	n.stop()

	store := dialer.NewCallStore(db, dialer.CallStoreConfig{Node: "node-b"})
	calls, err := store.RecentCalls(ctx, dialer.CampaignID(c.ID), 1000)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(calls), 260)
	live := 0
	for i, rec := range calls {
		require.False(t, rec.DialedAt().IsZero())
		if i > 0 {
			require.False(t, rec.DialedAt().Before(calls[i-1].DialedAt()), "oldest first")
		}
		if rec.Outcome.Live() {
			live++
			require.False(t, rec.Stamps[dialer.CallAnsweredHuman].IsZero(), "a live call has its answer stamp")
		}
	}
	wraps, err := store.RecentWraps(ctx, dialer.CampaignID(c.ID), 1000)
	require.NoError(t, err)
	require.NotEmpty(t, wraps)
	for _, w := range wraps {
		require.Greater(t, w, time.Duration(0))
	}

	p, err := dialer.NewPredictive(dialer.PredictiveConfig{Target: 0.03, RingTimeout: 25 * time.Second})
	require.NoError(t, err)
	busy := []dialer.BusyAgent{{Talking: true, Age: time.Second}, {Talking: true, Age: time.Second}}
	snap := &dialer.Snapshot{Now: time.Now(), LoggedIn: 3, Ready: 1, InCall: 2, Busy: busy,
		Budget: dialer.BudgetState{Target: 0.03, Live: 1000, Remaining: 12}, RingTimeout: 25 * time.Second}
	p.Decide(snap)
	require.True(t, p.Warmup().Learning, "a pacer with no history starts cold")
	for i := range calls {
		p.LearnCall(&calls[i])
	}
	for _, w := range wraps {
		p.ObserveWrap(w)
	}
	p.Decide(snap)
	require.False(t, p.InFallback())
	require.False(t, p.Warmup().Learning, "history trains the pacer")
	require.InDelta(t, float64(live)/float64(len(calls)), p.LiveProbability(), 0.05,
		"it learned this campaign's answer rate")
}
