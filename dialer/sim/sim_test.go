package sim

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/dialer"
)

// markov is the two-outcome model of the markov-n* files: each agent talks
// exp(talk) seconds, each dial resolves after exp(15 s) as a person (p) or busy.
func markov(name string, agents int, p, talk, hours float64, seed uint64) *Scenario {
	return &Scenario{
		Name: name, Agents: agents, Hours: hours, Seed: seed,
		Campaign: Campaign{AbandonTarget: 0.03, RingTimeoutS: 600, ConnectDeadlineS: 2},
		Outcomes: []Outcome{
			{Kind: "human", P: p, After: Dist{Dist: "exp", Mean: 15}},
			{Kind: "busy", P: 1 - p, After: Dist{Dist: "exp", Mean: 15}},
		},
		Talk:  Dist{Dist: "exp", Mean: talk},
		Dispo: Dist{Dist: "const", Value: 0},
	}
}

// retailLike has machines, no-answers, lognormal times, pauses and an answer
// rate that drifts through the day, including a sudden rise (the dangerous
// direction: more answers than the estimate expects).
func retailLike(name string, agents int, hours float64, seed uint64) *Scenario {
	outcomes := func(human float64) []Outcome {
		return []Outcome{
			{Kind: "human", P: human, After: Dist{Dist: "lognormal", Mean: 9, SD: 4}},
			{Kind: "machine", P: 0.15, After: Dist{Dist: "lognormal", Mean: 12, SD: 4}},
			{Kind: "busy", P: 0.1, After: Dist{Dist: "uniform", Min: 1, Max: 6}},
			{Kind: "no_answer", P: 0.75 - human},
		}
	}
	return &Scenario{
		Name: name, Agents: agents, Hours: hours, Seed: seed,
		Campaign:   Campaign{AbandonTarget: 0.03, RingTimeoutS: 22, ConnectDeadlineS: 2},
		Outcomes:   outcomes(0.15),
		Talk:       Dist{Dist: "lognormal", Mean: 120, SD: 90},
		Dispo:      Dist{Dist: "uniform", Min: 5, Max: 40},
		AgentPause: &Pause{P: 0.05, Pause: Dist{Dist: "exp", Mean: 180}},
		Phases: []Phase{
			{StartH: hours / 3, Outcomes: outcomes(0.40)},
			{StartH: 2 * hours / 3, Outcomes: outcomes(0.10)},
		},
	}
}

func TestSimDeterministic(t *testing.T) {
	t.Parallel()
	sc := retailLike("det", 8, 1, 5)
	for _, pol := range Policies {
		t.Run(pol, func(t *testing.T) {
			t.Parallel()
			a, err := Run(context.Background(), sc, pol, Options{})
			require.NoError(t, err)
			b, err := Run(context.Background(), sc, pol, Options{})
			require.NoError(t, err)
			a.WallMS, b.WallMS, a.AgentHoursPerWallSec, b.AgentHoursPerWallSec = 0, 0, 0, 0
			require.Equal(t, a, b, "same seed, same run")
			require.Positive(t, a.Dials)

			other := *sc
			other.Seed = 6
			c, err := Run(context.Background(), &other, pol, Options{})
			require.NoError(t, err)
			require.NotEqual(t, a.Dials, c.Dials, "another seed, another run")
		})
	}
}

// checkLog accepts call records and checks, call by call, that no live
// answer waited past the connect deadline without being abandoned.
type checkLog struct {
	deadline                  time.Duration
	answered, late, abandoned int
}

func (c *checkLog) RecordCall(_ context.Context, r *dialer.CallRecord) error {
	ans := r.Stamps[dialer.CallAnsweredHuman]
	if ans.IsZero() {
		return nil
	}
	c.answered++
	switch r.Outcome {
	case dialer.OutcomeAbandoned:
		c.abandoned++
		if r.EndedAt().Sub(ans) > c.deadline {
			c.late++
		}
	case dialer.OutcomeCompleted:
		if r.Stamps[dialer.CallConnected].Sub(ans) > c.deadline {
			c.late++
		}
	default:
		return fmt.Errorf("answered call %d ended %s", r.ID, r.Outcome)
	}
	return nil
}

func TestNoAnsweredCallWaitsPastDeadline(t *testing.T) {
	t.Parallel()
	// The VICIdial baseline over-dials hard here, so many calls wait.
	sc := retailLike("deadline", 10, 1, 9)
	log := &checkLog{deadline: 2 * time.Second}
	r, err := Run(context.Background(), sc, "vicidial_adaptive", Options{Calls: log})
	require.NoError(t, err)
	require.Positive(t, r.Abandons)
	require.Positive(t, log.abandoned)
	require.Zero(t, log.late)
}

// Power 1.0 on the Markov model has an exact renewal value: each connect
// costs 1/p dials of 15 s each, so occupancy = H ÷ (H + R/p) = 75%.
func TestProgressiveMatchesRenewalValue(t *testing.T) {
	t.Parallel()
	hours := 6.0
	if testing.Short() {
		hours = 2
	}
	r, err := Run(context.Background(), markov("renewal", 20, 0.3, 150, hours, 11), "progressive", Options{})
	require.NoError(t, err)
	require.InDelta(t, 0.75, r.Occupancy, 0.025)
	require.Zero(t, r.Abandons, "nobody leaves READY here, so power 1.0 never abandons")
}

// The predictive policy must hold the abandon target on populations it was
// not tuned on. Short runs here; TestGeneralisationFull runs them long.
func TestPredictiveHoldsTargetOnGeneratedScenarios(t *testing.T) {
	t.Parallel()
	for _, sc := range []*Scenario{
		markov("markov-n10-p45", 10, 0.45, 90, 6, 21),
		retailLike("retail-n40-drift", 40, 3, 22),
	} {
		t.Run(sc.Name, func(t *testing.T) {
			t.Parallel()
			pred, err := Run(context.Background(), sc, "predictive", Options{})
			require.NoError(t, err)
			prog, err := Run(context.Background(), sc, "progressive", Options{})
			require.NoError(t, err)
			t.Logf("%s: predictive occ %.3f abandon %.4f (%d/%d); progressive occ %.3f", sc.Name, pred.Occupancy, pred.AbandonRate, pred.Abandons, pred.LiveAnswers, prog.Occupancy)
			require.LessOrEqual(t, pred.AbandonRate, sc.Campaign.AbandonTarget)
			require.Greater(t, pred.Occupancy, prog.Occupancy)
		})
	}
}

// generated is the wider generalisation set for TestGeneralisationFull.
func generated() []*Scenario {
	return []*Scenario{
		markov("markov-n3", 3, 0.3, 150, 200, 31),
		markov("markov-n10-p15", 10, 0.15, 150, 60, 32),
		markov("markov-n100-p45", 100, 0.45, 240, 8, 33),
		retailLike("retail-n10-drift", 10, 40, 34),
		retailLike("retail-n100-drift", 100, 8, 35),
	}
}

// TestGeneralisationFull runs the scenario files and the generated set at
// full length and checks the predictive policy's abandon rate on each. It
// takes a few minutes, so it runs only with PACER_SIM_FULL=1.
func TestGeneralisationFull(t *testing.T) {
	if os.Getenv("PACER_SIM_FULL") == "" {
		t.Skip("set PACER_SIM_FULL=1 to run full-length scenarios")
	}
	scs := generated()
	files, _ := filepath.Glob(filepath.Join(scenarioDir(), "*.json"))
	for _, f := range files {
		sc, err := LoadScenario(f)
		require.NoError(t, err)
		scs = append(scs, sc)
	}
	for _, sc := range scs {
		rep, err := RunAll(context.Background(), sc, sc.DefaultPolicies(), Options{})
		require.NoError(t, err)
		require.NoError(t, rep.WriteTable(os.Stdout))
		for _, r := range rep.Results {
			if r.Policy == "predictive" || r.Policy == "blended" {
				require.LessOrEqual(t, r.AbandonRate, sc.Campaign.AbandonTarget, sc.Name)
			}
		}
	}
}

func benchScenario(b *testing.B, file string) {
	sc, err := LoadScenario(filepath.Join(scenarioDir(), file))
	if err != nil {
		b.Skip(err)
	}
	for _, pol := range Policies {
		b.Run(pol, func(b *testing.B) {
			var agentHours float64
			for b.Loop() {
				r, err := Run(context.Background(), sc, pol, Options{})
				if err != nil {
					b.Fatal(err)
				}
				agentHours += r.AgentHours
			}
			b.ReportMetric(agentHours/b.Elapsed().Seconds(), "agent-h/s")
		})
	}
}

func BenchmarkSimMarkovN5(b *testing.B)  { benchScenario(b, "markov-n5.json") }
func BenchmarkSimMarkovN20(b *testing.B) { benchScenario(b, "markov-n20.json") }
func BenchmarkSimMarkovN50(b *testing.B) { benchScenario(b, "markov-n50.json") }
func BenchmarkSimRetailN25(b *testing.B) { benchScenario(b, "retail-n25.json") }
