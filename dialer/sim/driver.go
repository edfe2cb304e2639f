package sim

import (
	"context"
	"fmt"
	"time"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/dialer"
)

type itemKind uint8

const (
	itTimer itemKind = iota
	itTrunk
	itAgent
	itPhase
	itFunc
)

// item is one scheduled happening. A flat struct (no interfaces) keeps the
// queue free of per-event allocations.
type item struct {
	at    int64 // virtual nanoseconds since the driver's base time
	seq   uint64
	kind  itemKind
	timer dialer.Timer
	trunk dialer.TrunkEvent
	agent agents.ID
	event agents.Event
	phase int
	fn    func()
}

func (a *item) before(b *item) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	return a.seq < b.seq
}

// Driver is the virtual clock: it implements dialer.Scheduler and delivers
// timers, trunk events and simulated agent actions to the engine in time
// order (ties in scheduling order), jumping straight from one to the next.
type Driver struct {
	base  time.Time
	now   int64
	seq   uint64
	queue []item

	eng     *dialer.Engine
	onPhase func(int)
}

// NewDriver starts virtual time at base.
func NewDriver(base time.Time) *Driver { return &Driver{base: base} }

// Attach sets the engine the driver feeds.
func (d *Driver) Attach(e *dialer.Engine) { d.eng = e }

func (d *Driver) Now() time.Time { return d.base.Add(time.Duration(d.now)) }

func (d *Driver) Schedule(at time.Time, t dialer.Timer) {
	d.push(item{at: d.offset(at), kind: itTimer, timer: t})
}

// DeliverTrunk queues a trunk event for time at.
func (d *Driver) DeliverTrunk(at time.Time, ev dialer.TrunkEvent) {
	d.push(item{at: d.offset(at), kind: itTrunk, trunk: ev})
}

// DeliverAgent queues an agent action for time at.
func (d *Driver) DeliverAgent(at time.Time, id agents.ID, ev agents.Event) {
	d.push(item{at: d.offset(at), kind: itAgent, agent: id, event: ev})
}

// DeliverFunc runs f on the driver's goroutine at time at (the inbound
// router's pokes and the simulated callers).
func (d *Driver) DeliverFunc(at time.Time, f func()) {
	d.push(item{at: d.offset(at), kind: itFunc, fn: f})
}

func (d *Driver) schedulePhase(at time.Time, i int) {
	d.push(item{at: d.offset(at), kind: itPhase, phase: i})
}

func (d *Driver) offset(at time.Time) int64 {
	off := int64(at.Sub(d.base))
	return max(off, d.now) // nothing is delivered in the past
}

// RunUntil processes everything due up to and including until.
func (d *Driver) RunUntil(ctx context.Context, until time.Time) error {
	end := d.offset(until)
	var n int
	for len(d.queue) > 0 && d.queue[0].at <= end {
		it := d.pop()
		d.now = it.at
		switch it.kind {
		case itTimer:
			d.eng.HandleTimer(ctx, it.timer)
		case itTrunk:
			d.eng.HandleTrunk(ctx, it.trunk)
		case itAgent:
			if err := d.eng.HandleAgent(ctx, it.agent, it.event); err != nil {
				return fmt.Errorf("simulated agent %d at %s: %w", it.agent, d.Now().Format(time.TimeOnly), err)
			}
		case itPhase:
			if d.onPhase != nil {
				d.onPhase(it.phase)
			}
		case itFunc:
			it.fn()
		}
		if n++; n&0xffff == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	d.now = max(d.now, end)
	return nil
}

func (d *Driver) push(it item) {
	d.seq++
	it.seq = d.seq
	d.queue = append(d.queue, it)
	q := d.queue
	i := len(q) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !q[i].before(&q[p]) {
			break
		}
		q[i], q[p] = q[p], q[i]
		i = p
	}
}

func (d *Driver) pop() item {
	q := d.queue
	top := q[0]
	last := len(q) - 1
	q[0] = q[last]
	q = q[:last]
	i := 0
	for {
		l := 2*i + 1
		if l >= len(q) {
			break
		}
		m := l
		if r := l + 1; r < len(q) && q[r].before(&q[l]) {
			m = r
		}
		if !q[m].before(&q[i]) {
			break
		}
		q[i], q[m] = q[m], q[i]
		i = m
	}
	d.queue = q
	return top
}
