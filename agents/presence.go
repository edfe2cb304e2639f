package agents

import (
	"sync"
	"time"
)

// Presence notices agents who have left their desk without logging out: it
// counts each agent's open workspace connections and, when the last one
// closes, waits After; if none has come back by then it reports the agent
// gone (the caller logs them out with "session lost", so calls stop going to
// an empty chair). A connection within After calls the report off.
//
// Safe for use from any goroutine. It holds no goroutine of its own: gone
// runs on the timer's goroutine, without Presence's lock held. Stop cancels
// every pending report and refuses new ones; a report already running when
// Stop is called may still finish.
type Presence struct {
	after  time.Duration
	timers Timers
	gone   func(ID)

	mu      sync.Mutex
	conns   map[ID]int
	pending map[ID]*goneTimer
	stopped bool
}

// PresenceConfig configures a Presence.
type PresenceConfig struct {
	// After is how long an agent may have no connection before they are
	// reported gone (default 30 s; negative: never).
	After time.Duration
	// Timers schedules the reports (default: the wall clock).
	Timers Timers
}

// Timers runs f once after d unless the returned stop is called first: the
// presence's clock, so a test decides when time passes.
type Timers interface {
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

type wallTimers struct{}

func (wallTimers) AfterFunc(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }

type goneTimer struct{ stop func() bool }

// NewPresence returns a presence that calls gone for each agent gone.
func NewPresence(cfg PresenceConfig, gone func(ID)) *Presence {
	if cfg.After == 0 {
		cfg.After = 30 * time.Second
	}
	if cfg.Timers == nil {
		cfg.Timers = wallTimers{}
	}
	return &Presence{after: cfg.After, timers: cfg.Timers, gone: gone, conns: map[ID]int{}, pending: map[ID]*goneTimer{}}
}

// Connect notes one more connection of the agent's and calls off a pending
// report.
func (p *Presence) Connect(id ID) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conns[id]++
	p.cancelLocked(id)
}

// Disconnect notes a connection closed; when it was the agent's last, the
// report is scheduled.
func (p *Presence) Disconnect(id ID) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns[id]--; p.conns[id] > 0 {
		return
	}
	delete(p.conns, id)
	if p.after < 0 || p.stopped {
		return
	}
	p.cancelLocked(id)
	t := &goneTimer{}
	p.pending[id] = t
	t.stop = p.timers.AfterFunc(p.after, func() { p.fire(id, t) })
}

// Connections is how many connections of the agent's are open.
func (p *Presence) Connections(id ID) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.conns[id]
}

// Pending reports whether the agent will be reported gone unless they
// connect again.
func (p *Presence) Pending(id ID) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pending[id] != nil
}

func (p *Presence) fire(id ID, t *goneTimer) {
	p.mu.Lock()
	// A timer stopped too late, or replaced by a newer one, finds another
	// (or no) entry: only the current one reports.
	if p.stopped || p.pending[id] != t || p.conns[id] > 0 {
		p.mu.Unlock()
		return
	}
	delete(p.pending, id)
	p.mu.Unlock()
	p.gone(id)
}

func (p *Presence) cancelLocked(id ID) {
	if t := p.pending[id]; t != nil {
		t.stop()
		delete(p.pending, id)
	}
}

// Stop cancels every pending report and makes Disconnect schedule none
// (the process is stopping: sockets closing now are not agents leaving).
// Idempotent.
func (p *Presence) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopped = true
	for id := range p.pending {
		p.cancelLocked(id)
	}
}
