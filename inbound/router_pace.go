package inbound

import (
	"math"
	"time"
)

// slTally counts a queue's callers of the current service-level interval
// (by the interval they entered in) that are settled: answered within the
// threshold, or late (answered after it, or hung up after it). Callers who
// hung up within the threshold count in neither, as in the wallboard's
// second formula.
type slTally struct {
	start        time.Time
	within, late int
	// extra is how many agents the reserve adds to the model's c, learned
	// from outcomes: the model takes outbound work to start the moment an
	// agent is free beyond c, but a predictive dialer starts it ahead, on
	// a forecast, so the free count at a caller's arrival is spread around
	// c and runs dry more often than the model says. Each late caller adds
	// (1 − miss) agents and each caller in time takes miss, so extra
	// settles where the share in time is the aim (miss = 1 − aim, the aim
	// at an interval's start); it never goes below zero: the model's c
	// already errs toward serving more, and an interval ahead of its goal
	// lowers the aim instead.
	extra float64
	miss  float64
}

// see counts a connect or an abandon of a caller who entered at entered.
func (t *slTally) see(kind EventKind, entered, at time.Time, threshold time.Duration) {
	if kind != EvConnect && kind != EvAbandon {
		return
	}
	t.roll(at)
	if entered.Before(t.start) {
		return // judged with the interval before
	}
	switch {
	case at.Sub(entered) > threshold:
		t.late++
		t.extra += 1 - t.miss
	case kind == EvConnect:
		t.within++
		t.extra = max(t.extra-t.miss, 0)
	}
}

// roll starts a new interval's count when now has left the last one.
func (t *slTally) roll(now time.Time) {
	if start := now.Truncate(slInterval); !start.Equal(t.start) {
		*t = slTally{start: start, extra: t.extra, miss: t.miss}
	}
}

// aimedSL is the service level the reserve must give q's callers from now
// to the end of the current interval for the interval to meet q's target
// with 95% confidence: with a settled within and b late so far (callers
// still waiting past the threshold count as late), and m more expected at
// the live arrival rate, the interval's share (a + X)/(a + b + m), X ~
// Binomial(m, s), reaches the target t unless X falls 1.645 standard
// deviations short, so s·m ≥ t(a+b+m) − a + 1.645·√(m·t(1−t)). At an
// interval's start this is t plus the one-sided margin on its calls; an
// interval gone well lets the rest run with a smaller reserve, one gone
// badly asks for a larger one. The result is clamped to [0, maxAimedSL].
func (q *queueState) aimedSL(now time.Time, lateWaiting int, rate float64) float64 {
	q.tally.roll(now)
	t := q.cfg.SLTarget
	if !(t < 1) {
		return t
	}
	a, b := float64(q.tally.within), float64(q.tally.late+lateWaiting)
	if n := rate * slInterval.Seconds(); n >= 1 {
		q.tally.miss = max(1-t-1.645*math.Sqrt(t*(1-t)/n), 0)
	}
	m := rate * q.tally.start.Add(slInterval).Sub(now).Seconds()
	if m < 1 {
		m = 1
	}
	s := (t*(a+b+m) - a + 1.645*math.Sqrt(m*t*(1-t))) / m
	return min(max(s, 0), maxAimedSL)
}
