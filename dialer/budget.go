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
	// Machines counts answers the detector called machines.
	Machines int64
	// AMDEstimate is the share of Machines estimated to have been people
	// (UK rules): they were live answers, and abandoned ones, that the
	// detector hid. Zero under US rules.
	AMDEstimate float64
	// Remaining is how many more abandons the window can take now:
	// target × (live + estimate) − (abandons + estimate). It can be negative.
	Remaining float64
}

// Rate is (abandons + AMD estimate) ÷ (live answers + AMD estimate), 0
// without answers: the rate a regulator counts.
func (s BudgetState) Rate() float64 {
	live := float64(s.Live) + s.AMDEstimate
	if live == 0 {
		return 0
	}
	return (float64(s.Abandons) + s.AMDEstimate) / live
}

// Budget tracks live answers and abandons over a rolling window.
type Budget struct {
	target   float64
	window   time.Duration
	amdFP    float64
	buckets  []BudgetBucket // oldest first
	live     int64
	abandons int64
	machines int64
}

// NewBudget returns an empty budget; Restore it from history before use.
func NewBudget(target float64, window time.Duration) *Budget {
	return &Budget{target: target, window: window}
}

// WithAMDFalsePositive makes the budget count that share of machine
// detections as people who were answered and abandoned (Ofcom's rule).
func (b *Budget) WithAMDFalsePositive(fp float64) *Budget {
	b.amdFP = fp
	return b
}

// Retune takes new settings and keeps the answers and abandons recorded so
// far: a shorter window forgets its oldest buckets at the next State; a
// longer one holds only what the old window kept, so the caller restores the
// older history (Engine.Reconfigure does).
func (b *Budget) Retune(target float64, window time.Duration, amdFP float64) {
	b.target, b.window, b.amdFP = target, window, amdFP
}

// Restore adds history buckets (any order, may repeat bucket starts).
func (b *Budget) Restore(hist []BudgetBucket) {
	for _, h := range hist {
		b.add(h.Start, h.Live, h.Abandons, h.Machines)
	}
}

// RecordMachine counts one answer the detector called a machine.
func (b *Budget) RecordMachine(at time.Time) { b.add(at, 0, 0, 1) }

// Record counts one live answer, abandoned or connected, at time at.
func (b *Budget) Record(at time.Time, abandoned bool) {
	var ab int64
	if abandoned {
		ab = 1
	}
	b.add(at, 1, ab, 0)
}

func (b *Budget) add(at time.Time, live, abandons, machines int64) {
	start := at.Truncate(budgetBucket)
	i := len(b.buckets)
	for i > 0 && b.buckets[i-1].Start.After(start) {
		i--
	}
	if i > 0 && b.buckets[i-1].Start.Equal(start) {
		b.buckets[i-1].Live += live
		b.buckets[i-1].Abandons += abandons
		b.buckets[i-1].Machines += machines
	} else {
		b.buckets = append(b.buckets, BudgetBucket{})
		copy(b.buckets[i+1:], b.buckets[i:])
		b.buckets[i] = BudgetBucket{Start: start, Live: live, Abandons: abandons, Machines: machines}
	}
	b.live += live
	b.abandons += abandons
	b.machines += machines
}

// State expires buckets older than the window and returns the budget at now.
func (b *Budget) State(now time.Time) BudgetState {
	cut := now.Add(-b.window).Truncate(budgetBucket)
	n := 0
	for n < len(b.buckets) && b.buckets[n].Start.Before(cut) {
		b.live -= b.buckets[n].Live
		b.abandons -= b.buckets[n].Abandons
		b.machines -= b.buckets[n].Machines
		n++
	}
	if n > 0 {
		b.buckets = append(b.buckets[:0], b.buckets[n:]...)
	}
	est := b.amdFP * float64(b.machines)
	return BudgetState{
		Target:      b.target,
		Live:        b.live,
		Abandons:    b.abandons,
		Machines:    b.machines,
		AMDEstimate: est,
		Remaining:   b.target*(float64(b.live)+est) - (float64(b.abandons) + est),
	}
}
