package sim

import (
	"os"
	"path/filepath"
)

// scenarioDir is where the public benchmark scenarios live: PACER_SCENARIOS
// when set, else the copy committed in bench/scenarios. That copy holds the
// shared set beside the repository (../shared/scenarios, checked equal by
// TestBenchScenariosMatchTheSharedSet) and the blended scenarios the
// inbound issue added, which the shared set may lack: a machine whose
// shared set had only the outbound files ran no blended benchmark.
func scenarioDir() string {
	if d := os.Getenv("PACER_SCENARIOS"); d != "" {
		return d
	}
	return filepath.Join(repoRoot(), "bench", "scenarios")
}

func repoRoot() string {
	dir, _ := os.Getwd()
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}
