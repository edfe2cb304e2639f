package sim

import "os"

// scenarioDir is where the public benchmark scenarios live; override with
// PACER_SCENARIOS.
func scenarioDir() string {
	if d := os.Getenv("PACER_SCENARIOS"); d != "" {
		return d
	}
	return "/work/shared/scenarios"
}
