package inbound

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// directErlangC is Erlang C by its textbook formula, summed in log space
// (so it does not overflow) and sharing no code with ErlangC:
// C = (A^n/n! · n/(n−A)) / (Σ_{k<n} A^k/k! + A^n/n! · n/(n−A)).
func directErlangC(n int, load float64) float64 {
	logTerm := func(k int) float64 {
		lg, _ := math.Lgamma(float64(k) + 1)
		return float64(k)*math.Log(load) - lg
	}
	logTail := logTerm(n) + math.Log(float64(n)/(float64(n)-load))
	// Scale every term by the largest before summing.
	top := logTail
	for k := 0; k < n; k++ {
		top = math.Max(top, logTerm(k))
	}
	sum := 0.0
	for k := 0; k < n; k++ {
		sum += math.Exp(logTerm(k) - top)
	}
	tail := math.Exp(logTail - top)
	return tail / (sum + tail)
}

// The classic worked example: 100 calls in 30 minutes at 180 s handle time
// is 10 Erlangs; target 80% within 20 s. Values computed by hand from the
// direct formula (and the same as the 200 calls an hour).
func TestErlangCReproducesTheTenErlangWorkedExample(t *testing.T) {
	t.Parallel()
	arrivals := 100.0 / 1800
	want := []struct {
		n            int
		wait, sl, as float64
	}{
		{11, 0.6821, 0.3896, 122.78},
		{12, 0.4494, 0.6402, 40.44},
		{13, 0.2853, 0.7956, 17.12},
		{14, 0.1741, 0.8884, 7.84},
		{15, 0.1020, 0.9415, 3.67},
	}
	for _, w := range want {
		require.InDelta(t, w.wait, ErlangC(w.n, 10), 5e-5, "P(wait) with %d agents", w.n)
		require.InDelta(t, w.sl, ErlangSL(w.n, arrivals, 180, 20), 5e-5, "SL with %d agents", w.n)
		require.InDelta(t, w.as, ErlangASA(w.n, arrivals, 180), 5e-3, "ASA with %d agents", w.n)
	}
	require.Equal(t, 14, SmallestTeam(arrivals, 180, 20, 0.8), "13 agents answer 79.6%, 14 answer 88.8%")
	require.Equal(t, 14, SmallestTeam(200.0/3600, 180, 20, 0.8), "the issue's 200 calls an hour is the same load")
}

func TestErlangCAgreesWithDirectSummationUpTo2000Agents(t *testing.T) {
	t.Parallel()
	cases := 0
	for _, n := range []int{1, 2, 3, 5, 10, 37, 100, 250, 600, 1000, 2000} {
		for _, occ := range []float64{0.01, 0.3, 0.7, 0.9, 0.95, 0.99, 0.999} {
			load := occ * float64(n)
			got, want := ErlangC(n, load), directErlangC(n, load)
			require.True(t, got >= 0 && got < 1, "n=%d load=%g gives %g", n, load, got)
			if want < 1e-290 { // beyond float64: both round to 0
				require.Less(t, got, 1e-290, "n=%d load=%g", n, load)
			} else {
				require.InEpsilon(t, want, got, 1e-9, "n=%d load=%g", n, load)
			}
			cases++
		}
	}
	// The brief's upper end: 2000 agents at 1900 Erlangs.
	require.InEpsilon(t, directErlangC(2000, 1900), ErlangC(2000, 1900), 1e-9)
	require.Equal(t, 77, cases)
}

func TestErlangCWithoutSpareCapacityAlwaysWaits(t *testing.T) {
	t.Parallel()
	require.Equal(t, 1.0, ErlangC(10, 10))
	require.Equal(t, 1.0, ErlangC(10, 12))
	require.Equal(t, 1.0, ErlangC(0, 0.5))
	require.Equal(t, 0.0, ErlangSL(10, 1, 10, 20), "10 Erlangs on 10 agents: the queue grows without end")
	require.True(t, math.IsInf(ErlangASA(10, 1, 12), 1))
	// No callers: nobody waits.
	require.Equal(t, 0.0, ErlangC(5, 0))
	require.Equal(t, 1.0, ErlangSL(5, 0, 180, 20))
	require.Equal(t, 0.0, ErlangASA(5, 0, 180))
	require.Equal(t, 0, SmallestTeam(0, 180, 20, 0.8))
	require.Equal(t, 0, SmallestTeam(1, 0, 20, 0.8))
}

func TestErlangSLGrowsWithTeamAndThreshold(t *testing.T) {
	t.Parallel()
	arrivals, handle := 0.5, 240.0 // 120 Erlangs
	prev := 0.0
	for n := 121; n < 160; n++ {
		sl := ErlangSL(n, arrivals, handle, 20)
		require.GreaterOrEqual(t, sl, prev, "n=%d", n)
		require.Greater(t, ErlangSL(n, arrivals, handle, 30), sl, "a longer threshold is met more often, n=%d", n)
		require.Equal(t, 1-ErlangC(n, 120), ErlangSL(n, arrivals, handle, 0), "threshold 0 counts only callers answered at once")
		prev = sl
	}
}

func TestSmallestTeamIsTheFewestAgentsMeetingTheTarget(t *testing.T) {
	t.Parallel()
	for _, perHour := range []float64{5, 60, 200, 1000, 6000} {
		for _, handle := range []float64{30, 180, 600} {
			for _, target := range []float64{0, 0.5, 0.8, 0.95, 1} {
				arrivals := perHour / 3600
				n := SmallestTeam(arrivals, handle, 20, target)
				require.Greater(t, float64(n), arrivals*handle, "the team keeps up")
				require.GreaterOrEqual(t, ErlangSL(n, arrivals, handle, 20), target)
				if float64(n-1) > arrivals*handle {
					require.Less(t, ErlangSL(n-1, arrivals, handle, 20), target, "one agent fewer misses")
				}
			}
		}
	}
	// Large loads stay quick and exact: 1900 Erlangs.
	n := SmallestTeam(1900.0/180, 180, 20, 0.8)
	require.GreaterOrEqual(t, ErlangSL(n, 1900.0/180, 180, 20), 0.8)
	require.Less(t, ErlangSL(n-1, 1900.0/180, 180, 20), 0.8)
	require.Less(t, n, 2000)
	// Nonsense targets end rather than loop.
	require.Equal(t, SmallestTeam(0.1, 100, 20, 1), SmallestTeam(0.1, 100, 20, 7))
	require.Equal(t, SmallestTeam(0.1, 100, 20, 1), SmallestTeam(0.1, 100, 20, math.NaN()))
}
