package dialer

import "time"

// budgetBucket is the granularity of the rolling window. An hour keeps a
// 30-day window at 720 buckets and makes the window edge at most an hour
// generous, which is well inside what regulators measure.
const budgetBucket = time.Hour

// BudgetState is the abandon budget at one instant.
type BudgetState struct {
	Target   float64
	Live     int64 // live answers in the window, abandoned ones included
	Abandons int64
	// Remaining is how many more abandons the window can take now:
	// target × live − abandons. It can be negative.
	Remaining float64
}

// Rate is abandons ÷ live answers (0 without answers).
func (s BudgetState) Rate() float64 {
	if s.Live == 0 {
		return 0
	}
	return float64(s.Abandons) / float64(s.Live)
}

// Budget tracks live answers and abandons over a rolling window.
type Budget struct {
	target   float64
	window   time.Duration
	buckets  []BudgetBucket // oldest first
	live     int64
	abandons int64
}

// NewBudget returns an empty budget; Restore it from history before use.
func NewBudget(target float64, window time.Duration) *Budget {
	return &Budget{target: target, window: window}
}

// Restore adds history buckets (any order, may repeat bucket starts).
func (b *Budget) Restore(hist []BudgetBucket) {
	for _, h := range hist {
		b.add(h.Start, h.Live, h.Abandons)
	}
}

// Record counts one live answer, abandoned or connected, at time at.
func (b *Budget) Record(at time.Time, abandoned bool) {
	var ab int64
	if abandoned {
		ab = 1
	}
	b.add(at, 1, ab)
}

func (b *Budget) add(at time.Time, live, abandons int64) {
	start := at.Truncate(budgetBucket)
	i := len(b.buckets)
	for i > 0 && b.buckets[i-1].Start.After(start) {
		i--
	}
	if i > 0 && b.buckets[i-1].Start.Equal(start) {
		b.buckets[i-1].Live += live
		b.buckets[i-1].Abandons += abandons
	} else {
		b.buckets = append(b.buckets, BudgetBucket{})
		copy(b.buckets[i+1:], b.buckets[i:])
		b.buckets[i] = BudgetBucket{Start: start, Live: live, Abandons: abandons}
	}
	b.live += live
	b.abandons += abandons
}

// State expires buckets older than the window and returns the budget at now.
func (b *Budget) State(now time.Time) BudgetState {
	cut := now.Add(-b.window).Truncate(budgetBucket)
	n := 0
	for n < len(b.buckets) && b.buckets[n].Start.Before(cut) {
		b.live -= b.buckets[n].Live
		b.abandons -= b.buckets[n].Abandons
		n++
	}
	if n > 0 {
		b.buckets = append(b.buckets[:0], b.buckets[n:]...)
	}
	return BudgetState{
		Target:    b.target,
		Live:      b.live,
		Abandons:  b.abandons,
		Remaining: b.target*float64(b.live) - float64(b.abandons),
	}
}
