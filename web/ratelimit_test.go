package web

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Five failures lock a key out until the oldest leaves the window; other
// keys are unaffected; a success clears the key.
func TestLoginLimiter(t *testing.T) {
	t.Parallel()
	l := newLoginLimiter(5, 15*time.Minute)
	t0 := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	for i := range 5 {
		require.Zero(t, l.blocked(t0.Add(time.Duration(i)*time.Minute), "u:ann"), "attempt %d", i+1)
		l.fail(t0.Add(time.Duration(i)*time.Minute), "u:ann")
	}
	require.Equal(t, 11*time.Minute, l.blocked(t0.Add(4*time.Minute), "u:ann"))
	require.Zero(t, l.blocked(t0.Add(4*time.Minute), "u:bob"))
	require.Positive(t, l.blocked(t0.Add(14*time.Minute), "u:ann"))
	require.Zero(t, l.blocked(t0.Add(15*time.Minute), "u:ann"), "the first failure has left the window")
	l.fail(t0.Add(15*time.Minute), "u:ann")
	require.Positive(t, l.blocked(t0.Add(15*time.Minute), "u:ann"))
	l.succeed("u:ann")
	require.Zero(t, l.blocked(t0.Add(15*time.Minute), "u:ann"))
}

// A client that cannot keep up is disconnected rather than slowing the
// broadcast; agents see only their own agent and call events.
func TestHubDropsSlowClientsAndScopes(t *testing.T) {
	t.Parallel()
	h := NewHub()
	slow, ok := h.add(RoleSupervisor, 1, 1)
	require.True(t, ok)
	agent, _ := h.add(RoleAgent, 42, 8)
	for range 3 {
		h.Broadcast(Event{Type: "stats", Campaign: 1})
	}
	select {
	case <-slow.done:
	default:
		t.Fatal("the slow client is closed")
	}
	require.EqualValues(t, 2, h.dropped.Load())
	require.Empty(t, agent.q, "agents get no stats")
	h.Broadcast(Event{Type: "agent", Agent: 7})
	h.Broadcast(Event{Type: "call", Agent: 42})
	require.Len(t, agent.q, 1, "only their own call event")
	h.remove(slow)
	h.remove(agent)
	h.Close()
	h.Wait()
	_, ok = h.add(RoleAgent, 1, 1)
	require.False(t, ok, "a closed hub takes no clients")
	require.Zero(t, h.Clients())
}
