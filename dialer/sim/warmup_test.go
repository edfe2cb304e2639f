package sim

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/dialer"
)

// watchedPredictive records when the predictive policy first places more
// lines than there are READY agents, and whether it was still learning.
type watchedPredictive struct {
	*dialer.Predictive
	first         time.Time
	firstLearning bool
}

func (w *watchedPredictive) Decide(s *dialer.Snapshot) int {
	n := w.Predictive.Decide(s)
	if w.first.IsZero() && s.Ready > 0 && s.Dialing+n > s.Ready {
		w.first, w.firstLearning = s.Now, w.Predictive.Warmup().Learning
	}
	return n
}

// warmupRun is one fresh campaign's first half hour: when predictive
// pacing first placed more lines than READY agents (zero if never), whether
// the model was still learning then, and the half hour's results under
// predictive and progressive (power 1.0) pacing.
type warmupRun struct {
	sc             *Scenario
	started        time.Duration
	learning       bool
	pred, progress Result
}

// warmupScenarios are fresh campaigns with no history: their first half
// hour, measured from the first dial.
func warmupScenarios() []*Scenario {
	steadyRetail := retailLike("fresh-retail-n20", 20, 0.5, 42)
	steadyRetail.Phases = nil // a fresh campaign's first half hour, not a day's drift
	return []*Scenario{
		markov("fresh-n10", 10, 0.35, 90, 0.5, 41),
		markov("fresh-n20-p25", 20, 0.25, 150, 0.5, 43),
		steadyRetail,
	}
}

func runWarmup(tb testing.TB, sc *Scenario) warmupRun {
	tb.Helper()
	none := 0.0
	sc.WarmupMinutes = &none // measure from the first dial
	pol, err := NewPolicy("predictive", sc, Options{})
	require.NoError(tb, err)
	w := &watchedPredictive{Predictive: pol.(*dialer.Predictive)}
	pred, err := RunPolicy(context.Background(), sc, w, Options{})
	require.NoError(tb, err)
	prog, err := Run(context.Background(), sc, "progressive", Options{})
	require.NoError(tb, err)
	r := warmupRun{sc: sc, learning: w.firstLearning, pred: pred, progress: prog}
	if !w.first.IsZero() {
		r.started = w.first.Sub(simStart)
	}
	return r
}

// A fresh campaign with no history paces predictively within its first
// minutes of simulated time, from the warm-up priors, long before it has
// seen the 200 dials and 50 talks that make it trained (which once kept it
// at power 1.0 until then), and its abandon rate over its first half hour
// stays under target while it places more calls than power 1.0 does.
func TestFreshCampaignPacesPredictivelyWithinMinutes(t *testing.T) {
	t.Parallel()
	for _, sc := range warmupScenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			t.Parallel()
			r := runWarmup(t, sc)
			t.Logf("%s: more lines than READY agents after %s (learning: %v); first 30 min: predictive %d dials, abandon %.4f (%d/%d); progressive %d dials",
				sc.Name, r.started, r.learning, r.pred.Dials, r.pred.AbandonRate, r.pred.Abandons, r.pred.LiveAnswers, r.progress.Dials)
			require.NotZero(t, r.started, "predictive pacing started")
			require.Less(t, r.started, 10*time.Minute, "within the first minutes")
			require.True(t, r.learning, "before the model was trained: the priors did the pacing")
			require.LessOrEqual(t, r.pred.AbandonRate, sc.Campaign.AbandonTarget)
			require.Greater(t, r.pred.Dials, r.progress.Dials)
		})
	}
}
