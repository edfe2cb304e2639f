package sim

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pacer-dialer/pacer/internal/benchout"
)

// minOccupancy is the predictive occupancy the pacing issue asks for on the
// Markov scenarios: within a point of the value-iteration optimum.
var minOccupancy = map[string]float64{"markov-n5": 0.801, "markov-n20": 0.879, "markov-n50": 0.925}

// minAgentHoursPerSec is the simulator speed the pacing issue asks for.
const minAgentHoursPerSec = 200

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
			byPolicy := map[string]Result{}
			for _, r := range rep.Results {
				figs[r.Policy+"_occupancy"] = r.Occupancy
				figs[r.Policy+"_abandon_rate"] = r.AbandonRate
				figs[r.Policy+"_wall_ms"] = r.WallMS
				figs[r.Policy+"_agent_hours_per_s"] = r.AgentHoursPerWallSec
				byPolicy[r.Policy] = r
				parts = append(parts, fmt.Sprintf("%s %.1f%% occ / %.2f%% abandon", r.Policy, 100*r.Occupancy, 100*r.AbandonRate))
				if r.Policy == "predictive" {
					b.ReportMetric(100*r.Occupancy, "pred_occ_%")
					b.ReportMetric(100*r.AbandonRate, "pred_abandon_%")
					b.ReportMetric(r.AgentHoursPerWallSec, "agent-h/s")
				}
			}
			pred := byPolicy["predictive"]
			goal := fmt.Sprintf("predictive abandon ≤ %.0f%%", 100*sc.Campaign.AbandonTarget)
			met := pred.AbandonRate <= sc.Campaign.AbandonTarget
			if occ, ok := minOccupancy[sc.Name]; ok {
				goal += fmt.Sprintf(", occupancy ≥ %.1f%%", 100*occ)
				met = met && pred.Occupancy >= occ
			} else {
				goal += ", beats progressive and vicidial_adaptive"
				for _, other := range []string{"progressive", "vicidial_adaptive"} {
					met = met && pred.Occupancy > byPolicy[other].Occupancy
				}
			}
			goal += fmt.Sprintf(", ≥ %d agent-h/s", minAgentHoursPerSec)
			met = met && pred.AgentHoursPerWallSec >= minAgentHoursPerSec
			if err := benchout.Write(benchout.Result{
				Name: "sim_" + sc.Name,
				Summary: fmt.Sprintf("%s (%d agents, %g h): %s; predictive ran %.0f agent-h/s (%.2f s)", sc.Name, sc.Agents, sc.Hours,
					strings.Join(parts, "; "), pred.AgentHoursPerWallSec, pred.WallMS/1000),
				Figures: figs,
				Goal:    goal,
				Met:     &met,
			}); err != nil {
				b.Fatal(err)
			}
		})
	}
}
