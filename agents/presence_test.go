package agents

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// manualTimers fires timers only when the test says time has passed.
type manualTimers struct {
	mu  sync.Mutex
	now time.Duration
	ts  []*manualTimer
}

type manualTimer struct {
	at      time.Duration
	f       func()
	stopped bool
	fired   bool
}

func (m *manualTimers) AfterFunc(d time.Duration, f func()) func() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := &manualTimer{at: m.now + d, f: f}
	m.ts = append(m.ts, t)
	return func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		was := !t.stopped && !t.fired
		t.stopped = true
		return was
	}
}

// advance moves time on and runs the timers that fall due, in order.
func (m *manualTimers) advance(d time.Duration) {
	m.mu.Lock()
	m.now += d
	var due []*manualTimer
	for _, t := range m.ts {
		if !t.stopped && !t.fired && t.at <= m.now {
			t.fired = true
			due = append(due, t)
		}
	}
	m.mu.Unlock()
	for _, t := range due {
		t.f()
	}
}

type goneLog struct {
	mu  sync.Mutex
	ids []ID
}

func (g *goneLog) gone(id ID) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.ids = append(g.ids, id)
}

func (g *goneLog) list() []ID {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]ID(nil), g.ids...)
}

// An agent whose workspaces have all closed is reported gone once the grace
// period passes, not before; a reconnect within it calls the report off,
// and an agent with a workspace still open is never reported.
func TestPresenceReportsAnAgentGoneOnlyAfterTheirLastWorkspaceStaysClosed(t *testing.T) {
	t.Parallel()
	clk := &manualTimers{}
	var log goneLog
	p := NewPresence(PresenceConfig{After: 30 * time.Second, Timers: clk}, log.gone)

	// Agent 1 has two tabs; closing one is not leaving.
	p.Connect(1)
	p.Connect(1)
	p.Disconnect(1)
	clk.advance(time.Minute)
	require.Empty(t, log.list())
	require.Equal(t, 1, p.Connections(1))

	// The last tab closes: gone after 30 s, not at 29.
	p.Disconnect(1)
	require.True(t, p.Pending(1))
	clk.advance(29 * time.Second)
	require.Empty(t, log.list())
	clk.advance(time.Second)
	require.Equal(t, []ID{1}, log.list())
	require.False(t, p.Pending(1))
	clk.advance(time.Hour)
	require.Equal(t, []ID{1}, log.list(), "reported once")

	// Agent 2's network blips: back within the grace period, never reported.
	p.Connect(2)
	p.Disconnect(2)
	clk.advance(20 * time.Second)
	p.Connect(2)
	clk.advance(time.Hour)
	require.Equal(t, []ID{1}, log.list())

	// Leaving again starts a fresh grace period.
	p.Disconnect(2)
	clk.advance(20 * time.Second)
	require.Equal(t, []ID{1}, log.list())
	clk.advance(10 * time.Second)
	require.Equal(t, []ID{1, 2}, log.list())
}

// Stopping (the server shuts down and closes every socket) reports nobody,
// and a negative grace period never reports anyone.
func TestPresenceStopAndNeverReportNobody(t *testing.T) {
	t.Parallel()
	clk := &manualTimers{}
	var log goneLog
	p := NewPresence(PresenceConfig{After: time.Second, Timers: clk}, log.gone)
	p.Connect(1)
	p.Connect(2)
	p.Disconnect(1)
	p.Stop()
	p.Stop()
	p.Disconnect(2)
	clk.advance(time.Hour)
	require.Empty(t, log.list())
	require.False(t, p.Pending(1))

	never := NewPresence(PresenceConfig{After: -1, Timers: clk}, log.gone)
	never.Connect(3)
	never.Disconnect(3)
	clk.advance(time.Hour)
	require.Empty(t, log.list())
}

// The default clock is the wall clock: a short grace period really passes.
func TestPresenceOnTheWallClock(t *testing.T) {
	t.Parallel()
	gone := make(chan ID, 1)
	p := NewPresence(PresenceConfig{After: time.Millisecond}, func(id ID) { gone <- id })
	p.Connect(9)
	p.Disconnect(9)
	require.Equal(t, ID(9), <-gone)
}
