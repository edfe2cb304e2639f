package inbound

import "math"

// The live reserve: how many free agents pacing keeps back for inbound.
//
// Blending follows the threshold-reservation rule (Bhulai & Koole 2003; Gans
// & Zhou 2003): outbound work is started only while more than c agents are
// free, so inbound callers usually find an agent, and every other minute goes
// to outbound. Reserve picks the smallest c that meets the queue's service
// level, from the live arrival rate and handle time, each time pacing asks.
//
// The model behind it, kept small so it can run in the pacing loop:
//
//   - N agents serve both inbound and outbound.
//   - Callers arrive at random (Poisson) at a steady rate.
//   - A busy agent frees after a random time (exponential) with one mean,
//     FreeAfterSec, whether the call was inbound or outbound: talk plus wrap
//     up. Where the two differ, the caller passes their mix.
//   - Outbound work starts the moment more than c agents are free, so there
//     are never more than c free agents. Dial delays, calls that do not
//     connect and agents breaking off are left out.
//   - A waiting caller hangs up after a random time (exponential) with mean
//     PatienceSec; 0 means callers never hang up.
//
// The state is k = free agents − waiting callers, at most c. A caller who
// finds k > 0 is answered at once. One who finds k ≤ 0 waits for |k|+1
// agents to free, one after another, while all N are busy, so at rate N/FreeAfter
// each: the wait is Erlang(|k|+1, N/FreeAfter). Callers ahead who hang up would
// shorten that wait; the model ignores them, which overstates waits. It also
// counts a caller as answered in time when that wait is at most the
// threshold, whether or not they would have hung up first. Together these
// put the model's service level below both wallboard formulas (answered in
// time ÷ answered, and ÷ answered plus hung up after the threshold) in every
// case reserve_test.go simulates, so it errs toward a larger reserve; it is not
// a bound on the share of all callers answered in time, which counts early
// hang-ups as misses. Arrivals see the long-run state mix (Poisson arrivals
// see time averages), so SL(c) = Σ_k π_k·P(wait ≤ T | k).
//
// The chain moves up (k+1) when a busy agent frees, at (N − max(k, 0))/FreeAfter
// (below the reserve; at k = c the freed agent takes outbound work), and when a
// waiting caller hangs up, at |k|/Patience for k < 0; it moves down (k−1) when a
// caller arrives, at the arrival rate. Being a birth–death chain, its long-run
// mix has a product form, so SL(c) needs no solver:
//
//	SL(c) = (S + P_c) / (W + P_c)
//
// where W and S are the weights of the states k ≤ 0 (S weighted by the chance
// of an answer within T), the same for every c, and P_c is the weight of
// states 1..c. As S ≤ W, SL grows with P_c and so with c: the smallest c
// meeting the target is found by walking c upward once, O(N) operations plus
// the waiting side, with no search and no linear algebra.

// ReserveInput is the live inbound load that the reserve is computed from.
type ReserveInput struct {
	// Agents is the number of agents serving both inbound and outbound.
	Agents int
	// ArrivalsPerSec is the inbound arrival rate.
	ArrivalsPerSec float64
	// FreeAfterSec is the mean seconds a busy agent takes to free, talk plus
	// wrap up, over inbound and outbound calls alike.
	FreeAfterSec float64
	// ThresholdSec and Target are the queue's service level: Target share of
	// callers answered within ThresholdSec.
	ThresholdSec, Target float64
	// PatienceSec is the mean seconds a caller waits before hanging up; 0
	// means callers never hang up.
	PatienceSec float64
}

// maxModelWaiting bounds the waiting side of the reserve chain. Reaching it
// takes callers arriving faster than the agents and the hang-ups together can
// clear even with this many waiting; such a queue misses any target.
const maxModelWaiting = 100_000

// tailEpsilon is the share of the waiting side's weight the reserve chain may
// leave out.
const tailEpsilon = 1e-12

// Reserve is the smallest number of free agents, from 0 to Agents, that
// pacing must keep back for the queue's service level to reach Target in the
// model above. It is Agents when even keeping everyone for inbound misses
// the target, and 0 when there are no agents, no callers, no handle time or
// no target to meet.
func Reserve(in ReserveInput) int {
	ch, ok := newReserveChain(in)
	if !ok || !(in.Target > 0) {
		return 0
	}
	if ch.overwhelmed || !(in.Target <= 1) {
		return in.Agents
	}
	c := 0
	ch.walk(in.Agents, func(k int, sl float64) bool {
		c = k
		return sl < in.Target
	})
	return c
}

// ReserveSL is the service level (share answered within ThresholdSec) that a
// reserve of c free agents gives in the model above; c is clamped to
// [0, Agents]. It is 1 with no callers or no handle time and 0 with callers
// but no agents.
func ReserveSL(in ReserveInput, c int) float64 {
	if in.Agents <= 0 {
		if in.ArrivalsPerSec > 0 {
			return 0
		}
		return 1
	}
	c = max(0, min(c, in.Agents))
	ch, ok := newReserveChain(in)
	if !ok {
		return 1
	}
	if ch.overwhelmed {
		return 0
	}
	sl := 0.0
	ch.walk(c, func(_ int, s float64) bool {
		sl = s
		return true
	})
	return sl
}

// reserveChain holds the waiting side of the chain (states k ≤ 0), which does
// not depend on c, relative to the weight of state 0.
type reserveChain struct {
	agents int
	// upPerBusy is 1/FreeAfter; arrivals the arrival rate.
	upPerBusy, arrivals float64
	// waiting is W, the weight of states k ≤ 0; late is W − S, that weight
	// times the chance of waiting longer than the threshold.
	waiting, late float64
	// overwhelmed: callers arrive faster than the agents can serve them and
	// no hang-ups (or too few) keep the queue finite.
	overwhelmed bool
}

// newReserveChain reports false when there is nothing to reserve for: no
// agents, no callers or no handle time.
func newReserveChain(in ReserveInput) (reserveChain, bool) {
	if in.Agents <= 0 || !(in.ArrivalsPerSec > 0) || !(in.FreeAfterSec > 0) {
		return reserveChain{}, false
	}
	if math.IsInf(in.ArrivalsPerSec, 1) || math.IsInf(in.FreeAfterSec, 1) {
		return reserveChain{overwhelmed: true}, true
	}
	ch := reserveChain{agents: in.Agents, upPerBusy: 1 / in.FreeAfterSec, arrivals: in.ArrivalsPerSec}
	allBusy := float64(in.Agents) * ch.upPerBusy // frees per second with all busy
	threshold := in.ThresholdSec
	if !(threshold > 0) {
		threshold = 0
	}
	// x is the expected number of frees within the threshold with all
	// agents busy; P(wait ≤ T | k ≤ 0) = P(Poisson(x) ≥ |k|+1).
	x := allBusy * threshold
	if !(in.PatienceSec > 0) || math.IsInf(in.PatienceSec, 1) {
		// Without hang-ups the waiting side is geometric with ratio
		// ρ = λ/(N/FreeAfter), and both sums have closed forms:
		// W = 1/(1−ρ) and S = Σ_j ρ^j P(Poisson(x) > j) = (1 − e^{−x(1−ρ)})/(1−ρ).
		rho := ch.arrivals / allBusy
		if rho >= 1 {
			ch.overwhelmed = true
			return ch, true
		}
		ch.waiting = 1 / (1 - rho)
		ch.late = math.Exp(-x*(1-rho)) / (1 - rho)
		return ch, true
	}
	hangUp := 1 / in.PatienceSec
	// Walk j = |k| = 0, 1, 2, … with weight w_j and P(Poisson(x) ≤ j).
	w := 1.0
	logX := math.Log(x)
	logTerm := -x // log of P(Poisson(x) = j)
	atMost := math.Exp(logTerm)
	if math.IsInf(x, 1) {
		atMost, logTerm = 0, math.Inf(-1)
	}
	for j := 0; ; j++ {
		ch.waiting += w
		ch.late += w * min(atMost, 1)
		// The next state down: w_{j+1} = w_j·λ/(N/FreeAfter + (j+1)/Patience).
		// These ratios only fall with j, so once one is below 1 the rest of
		// the weights sum to at most w·r/(1−r).
		r := ch.arrivals / (allBusy + float64(j+1)*hangUp)
		if r < 1 && w*r/(1-r) < tailEpsilon*ch.waiting {
			break
		}
		if j == maxModelWaiting {
			if r >= 1 {
				ch.overwhelmed = true
				return ch, true
			}
			// Count the rest as waiting too long.
			tail := w * r / (1 - r)
			ch.waiting += tail
			ch.late += tail
			break
		}
		w *= r
		if logTerm > math.Inf(-1) {
			logTerm += logX - math.Log(float64(j+1))
			atMost += math.Exp(logTerm)
		}
	}
	return ch, true
}

// walk calls visit for c = 0, 1, … up to last with SL(c), until visit
// returns false. State c's weight is state (c−1)'s times the rate of frees
// there, (N − c + 1)/FreeAfter, over the arrival rate.
func (ch reserveChain) walk(last int, visit func(c int, sl float64) bool) {
	w, above := 1.0, 0.0 // weight of state c; P_c
	for c := 0; c <= last; c++ {
		if c > 0 {
			w *= float64(ch.agents-c+1) * ch.upPerBusy / ch.arrivals
			above += w
		}
		// 1 − late/(W + P_c) = (S + P_c)/(W + P_c), and stays a number when
		// P_c overflows to +Inf.
		if !visit(c, 1-ch.late/(ch.waiting+above)) {
			return
		}
	}
}
