package inbound

import "math"

// Erlang C: the textbook staffing model for a queue answered by a dedicated
// team. It assumes callers arrive at random (a Poisson process at a steady
// rate), handle times are exponential with a known mean, every agent of the
// team does nothing but this queue, callers are answered first come first
// served, and nobody hangs up while waiting. Real queues lose impatient
// callers, so Erlang C overstates waits; that errs on the safe side when it
// sizes a team.
//
// Load is in Erlangs: arrivals per second times handle seconds, the average
// number of agents the queue keeps busy.

// ErlangC is the probability that a caller has to wait, with n agents and
// the given load in Erlangs. It is 1 when the load is at least n (the queue
// grows without end) and 0 when there is no load.
//
// It runs Erlang B's recurrence, which stays accurate for thousands of agents
// where the factorials of the direct formula overflow.
func ErlangC(n int, load float64) float64 {
	if load <= 0 {
		return 0
	}
	if n <= 0 || load >= float64(n) {
		return 1
	}
	return erlangCFromB(n, load, erlangB(n, load))
}

// erlangB is the probability that all n servers are busy in a loss system
// (Erlang B), by the recurrence B(k) = A·B(k−1) / (k + A·B(k−1)).
func erlangB(n int, load float64) float64 {
	b := 1.0
	for k := 1; k <= n; k++ {
		b = load * b / (float64(k) + load*b)
	}
	return b
}

// erlangCFromB turns Erlang B into Erlang C for the same n and load (n > load).
func erlangCFromB(n int, load, b float64) float64 {
	nf := float64(n)
	return nf * b / (nf - load*(1-b))
}

// ErlangSL is the share of callers answered within thresholdSec, with n
// agents, arrivalsPerSec callers a second and handleSec seconds of handle
// time each: 1 − C·exp(−(n/handle − arrivals)·threshold). It is 0 when the
// team cannot keep up (in the long run the wait exceeds any threshold) and 1
// when there are no callers.
func ErlangSL(n int, arrivalsPerSec, handleSec, thresholdSec float64) float64 {
	load := arrivalsPerSec * handleSec
	if load <= 0 {
		return 1
	}
	if n <= 0 || load >= float64(n) {
		return 0
	}
	return erlangSLFromC(n, load, handleSec, thresholdSec, ErlangC(n, load))
}

func erlangSLFromC(n int, load, handleSec, thresholdSec, c float64) float64 {
	if !(thresholdSec > 0) { // negative or NaN
		thresholdSec = 0
	}
	return 1 - c*math.Exp(-(float64(n)-load)*thresholdSec/handleSec)
}

// ErlangASA is the average seconds a caller waits before an agent answers
// (answered at once counts as 0): C·handle/(n − load). It is +Inf when the
// team cannot keep up and 0 when there are no callers.
func ErlangASA(n int, arrivalsPerSec, handleSec float64) float64 {
	load := arrivalsPerSec * handleSec
	if load <= 0 {
		return 0
	}
	if n <= 0 || load >= float64(n) {
		return math.Inf(1)
	}
	return ErlangC(n, load) * handleSec / (float64(n) - load)
}

// SmallestTeam is the fewest agents, all dedicated to the queue, whose
// Erlang C service level (share answered within thresholdSec) reaches
// target. It is 0 when there is no work (no arrivals or no handle time).
// A target above 1 is read as 1, which float64 reaches once the chance of
// waiting past the threshold drops below about 1e-16; a target of 0 or less
// asks only for a team that keeps up (more agents than the load).
func SmallestTeam(arrivalsPerSec, handleSec, thresholdSec, target float64) int {
	load := arrivalsPerSec * handleSec
	if arrivalsPerSec <= 0 || handleSec <= 0 || math.IsNaN(load) || math.IsInf(load, 0) {
		return 0
	}
	if !(target < 1) { // above 1 or NaN
		target = 1
	}
	// Erlang B for n agents follows from n−1 agents in one step, so the
	// search walks n upward carrying B instead of starting over.
	n := int(math.Floor(load)) + 1
	b := erlangB(n, load)
	for {
		c := erlangCFromB(n, load, b)
		if erlangSLFromC(n, load, handleSec, thresholdSec, c) >= target {
			return n
		}
		n++
		b = load * b / (float64(n) + load*b)
	}
}
