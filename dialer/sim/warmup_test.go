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

// A fresh campaign with no history paces predictively within its first
// minutes of simulated time, from the warm-up priors, long before it has
// seen the 200 dials and 50 talks that make it trained (which once kept it
// at power 1.0 until then), and its abandon rate over its first half hour
// stays under target while it places more calls than power 1.0 does.
func TestFreshCampaignPacesPredictivelyWithinMinutes(t *testing.T) {
	t.Parallel()
	steadyRetail := retailLike("fresh-retail-n20", 20, 0.5, 42)
	steadyRetail.Phases = nil // a fresh campaign's first half hour, not a day's drift
	for _, sc := range []*Scenario{
		markov("fresh-n10", 10, 0.35, 90, 0.5, 41),
		markov("fresh-n20-p25", 20, 0.25, 150, 0.5, 43),
		steadyRetail,
	} {
		t.Run(sc.Name, func(t *testing.T) {
			t.Parallel()
			none := 0.0
			sc.WarmupMinutes = &none // measure from the first dial
			pol, err := NewPolicy("predictive", sc, Options{})
			require.NoError(t, err)
			w := &watchedPredictive{Predictive: pol.(*dialer.Predictive)}
			pred, err := RunPolicy(context.Background(), sc, w, Options{})
			require.NoError(t, err)
			prog, err := Run(context.Background(), sc, "progressive", Options{})
			require.NoError(t, err)
			t.Logf("%s: more lines than READY agents after %s (learning: %v); first 30 min: predictive %d dials, abandon %.4f (%d/%d); progressive %d dials",
				sc.Name, w.first.Sub(simStart), w.firstLearning, pred.Dials, pred.AbandonRate, pred.Abandons, pred.LiveAnswers, prog.Dials)
			require.False(t, w.first.IsZero(), "predictive pacing started")
			require.Less(t, w.first.Sub(simStart), 10*time.Minute, "within the first minutes")
			require.True(t, w.firstLearning, "before the model was trained: the priors did the pacing")
			require.LessOrEqual(t, pred.AbandonRate, sc.Campaign.AbandonTarget)
			require.Greater(t, pred.Dials, prog.Dials)
		})
	}
}
