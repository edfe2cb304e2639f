package sim

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseScenario(t *testing.T) {
	t.Parallel()
	const good = `{"name":"x","agents":2,"hours":1,"seed":3,"future_field":{"a":1},
		"campaign":{"abandon_target":0.03,"ring_timeout_s":20,"extra":true},
		"outcomes":[{"kind":"human","p":0.4,"after_s":{"dist":"exp","mean":9}},{"kind":"no_answer","p":0.6,"after_s":{"dist":"const","value":0}}],
		"talk_s":{"dist":"uniform","min":60,"max":120},"dispo_s":{"dist":"const","value":5}}`
	sc, err := ParseScenario([]byte(good))
	require.NoError(t, err, "unknown fields are tolerated")
	require.Equal(t, 30*time.Minute, sc.Warmup(), "warm-up defaults to 30 minutes")

	for _, tc := range []struct {
		name, json, wantErr string
	}{
		{"short ring", `{"name":"x","agents":1,"hours":1,"campaign":{"abandon_target":0.03,"ring_timeout_s":10},"outcomes":[{"kind":"busy","p":1,"after_s":{"dist":"const","value":1}}],"talk_s":{"dist":"const","value":1},"dispo_s":{"dist":"const","value":1}}`, "legal minimum"},
		{"p sum", `{"name":"x","agents":1,"hours":1,"campaign":{"abandon_target":0.03,"ring_timeout_s":20},"outcomes":[{"kind":"busy","p":0.5,"after_s":{"dist":"const","value":1}}],"talk_s":{"dist":"const","value":1},"dispo_s":{"dist":"const","value":1}}`, "sum to"},
		{"bad kind", `{"name":"x","agents":1,"hours":1,"campaign":{"abandon_target":0.03,"ring_timeout_s":20},"outcomes":[{"kind":"fax","p":1,"after_s":{"dist":"const","value":1}}],"talk_s":{"dist":"const","value":1},"dispo_s":{"dist":"const","value":1}}`, "unknown kind"},
		{"bad dist", `{"name":"x","agents":1,"hours":1,"campaign":{"abandon_target":0.03,"ring_timeout_s":20},"outcomes":[{"kind":"busy","p":1,"after_s":{"dist":"pareto","mean":1}}],"talk_s":{"dist":"const","value":1},"dispo_s":{"dist":"const","value":1}}`, "unknown dist"},
		{"no agents", `{"name":"x","agents":0,"hours":1,"campaign":{"abandon_target":0.03,"ring_timeout_s":20},"outcomes":[{"kind":"busy","p":1,"after_s":{"dist":"const","value":1}}],"talk_s":{"dist":"const","value":1},"dispo_s":{"dist":"const","value":1}}`, "agents"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseScenario([]byte(tc.json))
			require.ErrorContains(t, err, tc.wantErr)
		})
	}
}

// Distributions are parameterised by the mean and sd of the variable itself.
func TestDistributionMoments(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		d        Dist
		mean, sd float64
	}{
		{Dist{Dist: "const", Value: 7}, 7, 0},
		{Dist{Dist: "exp", Mean: 15}, 15, 15},
		{Dist{Dist: "uniform", Min: 10, Max: 30}, 20, 20 / math.Sqrt(12)},
		{Dist{Dist: "lognormal", Mean: 170, SD: 110}, 170, 110},
	} {
		t.Run(tc.d.Dist, func(t *testing.T) {
			t.Parallel()
			s := tc.d.sampler()
			r := rand.New(rand.NewPCG(1, 2))
			const n = 200000
			var sum, sq float64
			for range n {
				x := s.draw(r).Seconds()
				sum += x
				sq += x * x
			}
			mean := sum / n
			sd := math.Sqrt(sq/n - mean*mean)
			require.InDelta(t, tc.mean, mean, 0.01*tc.mean+1e-9)
			require.InDelta(t, tc.sd, sd, 0.03*tc.sd+1e-6)
		})
	}
}

// The committed copy of the public scenarios (bench/scenarios, which the
// benchmarks run) holds every file of the shared set beside the repository
// unchanged, when that set is there.
func TestBenchScenariosMatchTheSharedSet(t *testing.T) {
	t.Parallel()
	shared := filepath.Join(repoRoot(), "..", "shared", "scenarios")
	files, _ := filepath.Glob(filepath.Join(shared, "*.json"))
	if len(files) == 0 {
		t.Skipf("no shared scenario set at %s to compare with", shared)
	}
	for _, f := range files {
		want, err := os.ReadFile(f)
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(repoRoot(), "bench", "scenarios", filepath.Base(f)))
		require.NoError(t, err, "bench/scenarios lacks the shared %s", filepath.Base(f))
		require.Equal(t, string(want), string(got), "bench/scenarios/%s differs from the shared set's", filepath.Base(f))
	}
}
