package sim

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pacer-dialer/pacer/internal/benchout"
)

// BenchmarkWarmup measures how soon a fresh campaign (no history) paces
// predictively, from the warm-up priors, and what its first half hour gives:
// the abandon rate against target and the dials against power 1.0. Written
// as predictive_warmup by make bench.
func BenchmarkWarmup(b *testing.B) {
	for range b.N {
		figs := map[string]float64{}
		parts := []string{}
		met := true
		for _, sc := range warmupScenarios() {
			r := runWarmup(b, sc)
			mins := r.started.Minutes()
			figs[sc.Name+"_start_min"] = mins
			figs[sc.Name+"_abandon_%"] = 100 * r.pred.AbandonRate
			figs[sc.Name+"_dials_vs_power"] = float64(r.pred.Dials) / float64(r.progress.Dials)
			parts = append(parts, fmt.Sprintf("%s predictive after %.1f min, abandon %.1f%%, %d dials vs %d at power 1.0",
				sc.Name, mins, 100*r.pred.AbandonRate, r.pred.Dials, r.progress.Dials))
			met = met && r.started > 0 && r.started < 10*time.Minute && r.pred.AbandonRate <= sc.Campaign.AbandonTarget
		}
		if err := benchout.Write(benchout.Result{
			Name:    "predictive_warmup",
			Summary: "fresh campaigns' first 30 min (virtual time): " + strings.Join(parts, "; "),
			Figures: figs,
			Goal:    "predictive within 10 min, abandon ≤ target",
			Met:     &met,
		}); err != nil {
			b.Fatal(err)
		}
	}
}
