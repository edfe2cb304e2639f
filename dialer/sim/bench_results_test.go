package sim

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pacer-dialer/pacer/internal/benchout"
)

// BenchmarkSimScenarios runs every public scenario at full length with every
// policy and records the figures the pacing issue asks for (make bench).
func BenchmarkSimScenarios(b *testing.B) {
	files, err := filepath.Glob(filepath.Join(scenarioDir(), "*.json"))
	if err != nil || len(files) == 0 {
		b.Fatalf("no scenario files in %s", scenarioDir())
	}
	for _, f := range files {
		sc, err := LoadScenario(f)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(sc.Name, func(b *testing.B) {
			var rep *Report
			for b.Loop() {
				if rep, err = RunAll(context.Background(), sc, Policies, Options{}); err != nil {
					b.Fatal(err)
				}
			}
			figs := map[string]float64{"agents": float64(sc.Agents), "hours": sc.Hours}
			var parts []string
			for _, r := range rep.Results {
				figs[r.Policy+"_occupancy"] = r.Occupancy
				figs[r.Policy+"_abandon_rate"] = r.AbandonRate
				figs[r.Policy+"_wall_ms"] = r.WallMS
				figs[r.Policy+"_agent_hours_per_s"] = r.AgentHoursPerWallSec
				parts = append(parts, fmt.Sprintf("%s %.1f%% occ / %.2f%% abandon", r.Policy, 100*r.Occupancy, 100*r.AbandonRate))
				if r.Policy == "predictive" {
					b.ReportMetric(100*r.Occupancy, "pred_occ_%")
					b.ReportMetric(100*r.AbandonRate, "pred_abandon_%")
					b.ReportMetric(r.AgentHoursPerWallSec, "agent-h/s")
				}
			}
			if err := benchout.Write(benchout.Result{
				Name:    "sim_" + sc.Name,
				Summary: fmt.Sprintf("%s (%d agents, %g h): %s", sc.Name, sc.Agents, sc.Hours, strings.Join(parts, "; ")),
				Figures: figs,
			}); err != nil {
				b.Fatal(err)
			}
		})
	}
}
