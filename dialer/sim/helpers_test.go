package sim

import (
	"os"
	"path/filepath"
)

// scenarioDir is where the public benchmark scenarios live: PACER_SCENARIOS
// when set, else the shared set beside the repository (../shared/scenarios,
// where the project keeps the canonical copy), else the copy committed in
// bench/scenarios so a bare clone still has them.
func scenarioDir() string {
	if d := os.Getenv("PACER_SCENARIOS"); d != "" {
		return d
	}
	root := repoRoot()
	shared := filepath.Join(root, "..", "shared", "scenarios")
	if fi, err := os.Stat(shared); err == nil && fi.IsDir() {
		return shared
	}
	return filepath.Join(root, "bench", "scenarios")
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
