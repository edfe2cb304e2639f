package dialer_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/dialer"
)

func TestBudgetAccountingAndWindow(t *testing.T) {
	t.Parallel()
	b := dialer.NewBudget(0.03, 24*time.Hour)
	for i := 0; i < 100; i++ {
		b.Record(t0.Add(time.Duration(i)*time.Minute), i < 2)
	}
	s := b.State(t0.Add(2 * time.Hour))
	require.EqualValues(t, 100, s.Live)
	require.EqualValues(t, 2, s.Abandons)
	require.InDelta(t, 1.0, s.Remaining, 1e-9, "3% of 100 live answers minus 2 abandons")
	require.InDelta(t, 0.02, s.Rate(), 1e-9)

	// A day later the first hour's answers (and both abandons) left the window.
	s = b.State(t0.Add(25 * time.Hour))
	require.EqualValues(t, 40, s.Live)
	require.EqualValues(t, 0, s.Abandons)
	require.EqualValues(t, 0, b.State(t0.Add(50*time.Hour)).Live)
}

// A restarted engine rebuilds the abandon budget from call history instead
// of starting from zero.
func TestBudgetRestoredFromHistory(t *testing.T) {
	t.Parallel()
	hop := dialer.NewMemoryHopper(leads(1, 2, 3, 4, 5, 6)...)
	h := newHarness(t, dialer.Config{Campaign: 9}, dialer.Power{Ratio: 1}, hop, nil)
	h.agentReady(1)
	for i := 0; i < 6; i++ {
		h.advance(time.Second)
		call := h.trunk.dials[len(h.trunk.dials)-1].Call
		if i%3 == 0 { // agent walks away: this answer is abandoned
			h.agent(1, agents.EvPause)
			h.far(call, dialer.TrunkAnsweredHuman, time.Second)
			h.advance(5 * time.Second)
			h.agent(1, agents.EvReady)
			continue
		}
		h.far(call, dialer.TrunkAnsweredHuman, time.Second)
		h.far(call, dialer.TrunkHungUp, 30*time.Second)
		h.advance(31 * time.Second)
		h.agent(1, agents.EvDispoSaved)
	}
	before := h.eng.Budget()
	require.EqualValues(t, 6, before.Live)
	require.EqualValues(t, 2, before.Abandons)

	// "Restart": a new engine on the same history.
	h2 := newHarness(t, dialer.Config{Campaign: 9}, dialer.Power{Ratio: 1}, dialer.NewMemoryHopper(), h.log)
	after := h2.eng.Budget()
	require.Equal(t, before, after)

	// Another campaign's history does not leak in.
	h3 := newHarness(t, dialer.Config{Campaign: 10}, dialer.Power{Ratio: 1}, dialer.NewMemoryHopper(), h.log)
	require.EqualValues(t, 0, h3.eng.Budget().Live)
}

func newPredictive(t *testing.T) *dialer.Predictive {
	t.Helper()
	p, err := dialer.NewPredictive(dialer.PredictiveConfig{})
	require.NoError(t, err)
	return p
}

// trainedPredictive feeds a predictive policy enough history to trust its
// model: a third of dials answered live after 10 s, calls of 2.5 minutes.
func trainedPredictive(t *testing.T) *dialer.Predictive {
	t.Helper()
	p := newPredictive(t)
	at := t0
	for i := 0; i < 300; i++ {
		rec := &dialer.CallRecord{Outcome: dialer.OutcomeBusy}
		rec.Stamps[dialer.CallDialing] = at
		rec.Stamps[dialer.CallEnded] = at.Add(5 * time.Second)
		if i%3 == 0 {
			rec.Outcome = dialer.OutcomeCompleted
			rec.Stamps[dialer.CallAnsweredHuman] = at.Add(10 * time.Second)
			rec.Stamps[dialer.CallConnected] = at.Add(10 * time.Second)
			rec.Stamps[dialer.CallEnded] = at.Add(160 * time.Second)
		}
		p.ObserveCall(rec)
		p.ObserveWrap(10 * time.Second)
		at = at.Add(time.Minute)
	}
	return p
}

// With the budget spent the predictive policy places exactly what power 1.0
// would; with budget left it dials ahead of agents about to free up, even
// with no history yet (from its warm-up priors).
func TestPredictiveFallsBackToPowerWhenBudgetSpent(t *testing.T) {
	t.Parallel()
	busy := make([]dialer.BusyAgent, 10)
	for i := range busy {
		busy[i] = dialer.BusyAgent{Talking: true, Age: 140 * time.Second}
	}
	snap := func(remaining float64) *dialer.Snapshot {
		return &dialer.Snapshot{
			Now: t0.Add(10 * time.Hour), LoggedIn: 12, Ready: 2, InCall: 10, Busy: busy,
			Budget:      dialer.BudgetState{Target: 0.03, Live: 1000, Remaining: remaining},
			RingTimeout: 25 * time.Second,
		}
	}
	for _, tc := range []struct {
		name      string
		remaining float64
		trained   bool
		fallback  bool
	}{
		{"spent", 0, true, true},
		{"overspent", -4, true, true},
		{"less than one abandon left", 0.9, true, true},
		{"cold start: paces from its priors", 12, false, false},
		{"budget left", 12, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newPredictive(t)
			if tc.trained {
				p = trainedPredictive(t)
			}
			n := p.Decide(snap(tc.remaining))
			require.Equal(t, tc.fallback, p.InFallback())
			require.Equal(t, !tc.trained, p.Warmup().Learning)
			switch {
			case tc.fallback:
				require.Equal(t, 2, n, "power 1.0: one line per READY agent")
			case !tc.trained:
				require.GreaterOrEqual(t, n, 2, "never below power 1.0")
			default:
				require.Greater(t, n, 2, "agents near the end of their calls will free up soon")
			}
		})
	}
}

// The warm-up priors are conservative: on the same floor a cold pacer never
// places more lines than one trained on a typical campaign (a third of
// dials answered, calls of 2.5 minutes), whatever the agents are doing.
func TestColdPredictiveIsNoBolderThanATrainedOne(t *testing.T) {
	t.Parallel()
	for _, age := range []time.Duration{0, 30 * time.Second, 140 * time.Second, 10 * time.Minute} {
		for ready := 0; ready <= 4; ready++ {
			busy := make([]dialer.BusyAgent, 10)
			for i := range busy {
				busy[i] = dialer.BusyAgent{Talking: true, Age: age}
			}
			snap := &dialer.Snapshot{Now: t0.Add(10 * time.Hour), LoggedIn: 10 + ready, Ready: ready, InCall: 10, Busy: busy,
				Budget: dialer.BudgetState{Target: 0.03, Live: 1000, Remaining: 12}, RingTimeout: 25 * time.Second}
			cold, trained := newPredictive(t).Decide(snap), trainedPredictive(t).Decide(snap)
			require.LessOrEqual(t, cold, trained, "talk age %s, %d READY", age, ready)
			require.GreaterOrEqual(t, cold, ready, "never below power 1.0")
		}
	}
}

// The model learns the answer probability from the calls it sees.
func TestPredictiveLearnsLiveProbability(t *testing.T) {
	t.Parallel()
	p := trainedPredictive(t)
	p.Decide(&dialer.Snapshot{Now: t0.Add(10 * time.Hour), LoggedIn: 1, Budget: dialer.BudgetState{Remaining: 5}})
	require.InDelta(t, 1.0/3, p.LiveProbability(), 0.02)
}

// Under UK rules a share of machine detections are people the detector hung
// up on: they count as live answers that were abandoned.
func TestBudgetCountsAMDFalsePositivesUnderUKRules(t *testing.T) {
	t.Parallel()
	b := dialer.NewBudget(0.03, 24*time.Hour).WithAMDFalsePositive(0.05)
	for i := 0; i < 100; i++ {
		b.Record(t0.Add(time.Duration(i)*time.Minute), false)
	}
	for i := 0; i < 20; i++ {
		b.RecordMachine(t0.Add(time.Duration(i) * time.Minute))
	}
	s := b.State(t0.Add(2 * time.Hour))
	require.EqualValues(t, 20, s.Machines)
	require.InDelta(t, 1.0, s.AMDEstimate, 1e-9, "5% of 20 machine detections")
	require.InDelta(t, 1.0/101, s.Rate(), 1e-9, "(0 abandons + 1 estimated) / (100 live + 1 estimated)")
	require.InDelta(t, 0.03*101-1, s.Remaining, 1e-9)

	us := dialer.NewBudget(0.03, 24*time.Hour)
	us.RecordMachine(t0)
	require.Zero(t, us.State(t0).Rate(), "US rules do not count machines")
}
