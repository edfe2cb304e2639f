package sim

import (
	"context"
	"fmt"
	"math"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/dialer"
)

// markovOptimum solves the Markov pacing problem exactly, as a yardstick for
// the predictive policy: n agents talk exp(talk) seconds; each dial resolves
// after exp(ring) seconds, as a person with probability p (connected if an
// agent is free, otherwise abandoned — the 2-s deadline is negligible next to
// the time scales) or not. State (b busy agents, c calls in flight); after
// any event the policy may place more calls. It maximises occupancy subject
// to abandons ≤ alpha × live answers by relative value iteration on the
// uniformised chain for the Lagrangian, bisecting the multiplier until the
// abandon rate meets alpha, and returns the policy's occupancy and rate.
func markovOptimum(n int, p, talk, ring, alpha float64) (occ, rate float64, cstar []int) {
	lo, hi := 0.0, 2000.0
	occHi, rateHi, cstar := solveLagrangian(n, p, talk, ring, alpha, hi)
	occLo, rateLo, _ := solveLagrangian(n, p, talk, ring, alpha, lo)
	for range 30 {
		mid := (lo + hi) / 2
		o, r, cs := solveLagrangian(n, p, talk, ring, alpha, mid)
		if r <= alpha {
			hi, occHi, rateHi, cstar = mid, o, r, cs
		} else {
			lo, occLo, rateLo = mid, o, r
		}
	}
	if rateLo <= rateHi {
		return occHi, rateHi, cstar
	}
	// At the critical multiplier the optimum mixes the two neighbouring
	// deterministic policies so the abandon rate meets alpha exactly.
	w := (alpha - rateHi) / (rateLo - rateHi)
	return occHi + w*(occLo-occHi), alpha, cstar
}

// solveLagrangian also returns cstar[b], the optimal number of calls in
// flight when b agents are busy and none are in flight.
func solveLagrangian(n int, p, talk, ring, alpha, lambda float64) (occ, rate float64, cstar []int) {
	mu, nu := 1/talk, 1/ring
	cmax := n + 60
	L := float64(n)*mu + float64(cmax)*nu
	idx := func(b, c int) int { return b*(cmax+1) + c }
	size := (n + 1) * (cmax + 1)
	V := make([]float64, size)
	T := make([]float64, size)
	next := make([]float64, size)
	post := func(b, c int, V []float64) float64 {
		fb, fc := float64(b), float64(c)
		r := fb / float64(n) // occupancy rate
		live := fc * nu * p
		up := b
		if b < n {
			r += lambda * alpha * live
			up = b + 1
		} else {
			r -= lambda * (1 - alpha) * live
		}
		v := r / L
		stay := L - fb*mu - fc*nu
		if b > 0 {
			v += fb * mu / L * V[idx(b-1, c)]
		}
		if c > 0 {
			v += fc * nu / L * (p*V[idx(up, c-1)] + (1-p)*V[idx(b, c-1)])
		}
		return v + stay/L*V[idx(b, c)]
	}
	for it := 0; it < 40000; it++ {
		for b := 0; b <= n; b++ {
			for c := 0; c <= cmax; c++ {
				T[idx(b, c)] = post(b, c, V)
			}
			best := math.Inf(-1)
			for c := cmax; c >= 0; c-- { // V(b,c) = max over c' ≥ c
				best = max(best, T[idx(b, c)])
				next[idx(b, c)] = best
			}
		}
		ref := next[0]
		var diff float64
		for i := range next {
			next[i] -= ref
			diff = max(diff, math.Abs(next[i]-V[i]))
		}
		V, next = next, V
		if diff < 1e-11 && it > 100 {
			break
		}
	}
	// The optimal policy: from pre-decision (b,c), go to the c' ≥ c that
	// maximises T.
	pol := make([]int, size)
	cstar = make([]int, n+1)
	for b := 0; b <= n; b++ {
		bestC := cmax
		for c := cmax; c >= 0; c-- {
			if T[idx(b, c)] > T[idx(b, bestC)] {
				bestC = c
			}
			pol[idx(b, c)] = bestC
		}
		cstar[b] = pol[idx(b, 0)]
	}
	// Its stationary behaviour, by power iteration over pre-decision states.
	pi := make([]float64, size)
	pi[0] = 1
	nxt := make([]float64, size)
	var busy, liveFlux, abFlux float64
	for it := 0; it < 40000; it++ {
		clear(nxt)
		busy, liveFlux, abFlux = 0, 0, 0
		for b := 0; b <= n; b++ {
			for c := 0; c <= cmax; c++ {
				w := pi[idx(b, c)]
				if w == 0 {
					continue
				}
				c2 := pol[idx(b, c)]
				fb, fc := float64(b), float64(c2)
				busy += w * fb
				liveFlux += w * fc * nu * p
				up := b + 1
				if b == n {
					abFlux += w * fc * nu * p
					up = b
				}
				if b > 0 {
					nxt[idx(b-1, c2)] += w * fb * mu / L
				}
				if c2 > 0 {
					nxt[idx(up, c2-1)] += w * fc * nu * p / L
					nxt[idx(b, c2-1)] += w * fc * nu * (1 - p) / L
				}
				nxt[idx(b, c2)] += w * (L - fb*mu - fc*nu) / L
			}
		}
		pi, nxt = nxt, pi
	}
	return busy / float64(n), abFlux / liveFlux, cstar
}

func TestMarkovOptimum(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("value iteration takes a few seconds")
	}
	occ, rate, cstar := markovOptimum(5, 0.3, 150, 15, 0.03)
	t.Logf("markov-n5 optimum: occupancy %.4f at abandon rate %.4f", occ, rate)
	require.InDelta(t, 0.811, occ, 0.004, "the published optimum for markov-n5")
	require.LessOrEqual(t, rate, 0.0301)

	// The predictive policy, trained by running it, should place about as
	// many calls as the optimum in the states the system actually visits
	// (most agents busy). It is not told the model: it learnt p, the answer
	// delays and the talk times from the calls.
	pol, err := dialer.NewPredictive(dialer.PredictiveConfig{RingTimeout: 600 * time.Second})
	require.NoError(t, err)
	_, err = RunPolicy(context.Background(), markov("train", 5, 0.3, 150, 20, 4), pol, Options{})
	require.NoError(t, err)
	for b := 2; b <= 5; b++ {
		busy := make([]dialer.BusyAgent, b)
		for i := range busy {
			busy[i] = dialer.BusyAgent{Talking: true, Age: 90 * time.Second}
		}
		got := pol.Decide(&dialer.Snapshot{
			Now: simStart.Add(time.Hour), LoggedIn: 5, Ready: 5 - b, InCall: b, Busy: busy,
			Budget: dialer.BudgetState{Target: 0.03, Live: 10000, Remaining: 50}, RingTimeout: 600 * time.Second,
		})
		t.Logf("busy %d: optimum keeps %d calls in flight, predictive places %d", b, cstar[b], got)
		require.InDelta(t, cstar[b], got, 1, "busy agents %d", b)
	}
}

// TestPredictiveNearOptimum compares the predictive policy with the exact
// optimum on the Markov model at several team sizes. Full-length only.
func TestPredictiveNearOptimum(t *testing.T) {
	if os.Getenv("PACER_SIM_FULL") == "" {
		t.Skip("set PACER_SIM_FULL=1 to compare with the value-iteration optimum")
	}
	for _, tc := range []struct {
		n     int
		hours float64
	}{{5, 160}, {20, 40}, {50, 16}} {
		opt, _, _ := markovOptimum(tc.n, 0.3, 150, 15, 0.03)
		r, err := Run(context.Background(), markov(fmt.Sprintf("markov-n%d", tc.n), tc.n, 0.3, 150, tc.hours, 1), "predictive", Options{})
		require.NoError(t, err)
		t.Logf("n=%d optimum %.4f predictive %.4f (gap %.2f points) abandon %.4f", tc.n, opt, r.Occupancy, 100*(opt-r.Occupancy), r.AbandonRate)
		require.LessOrEqual(t, r.AbandonRate, 0.03)
		require.Less(t, opt-r.Occupancy, 0.015)
	}
}
