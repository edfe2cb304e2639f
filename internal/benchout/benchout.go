package benchout

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"time"
)

// Result is one benchmark's figures.
type Result struct {
	Name    string             `json:"name"`
	Summary string             `json:"summary"`
	Figures map[string]float64 `json:"figures"`
	Goal    string             `json:"goal,omitempty"`
	Met     *bool              `json:"met,omitempty"`
	When    time.Time          `json:"when"`
	CPUs    int                `json:"cpus"`
	GoVer   string             `json:"go"`
}

// Write stores r as PACER_BENCH_OUT/<r.Name>.json; without the variable it
// does nothing, so ad-hoc `go test -bench` runs leave no files.
func Write(r Result) error {
	dir := os.Getenv("PACER_BENCH_OUT")
	if dir == "" {
		return nil
	}
	r.When = time.Now().UTC().Truncate(time.Second)
	r.CPUs = runtime.NumCPU()
	r.GoVer = runtime.Version()
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, r.Name+".json"), append(b, '\n'), 0o644)
}
