package web

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// A client that cannot keep up is disconnected rather than slowing the
// broadcast; agents see only their own agent and call events.
func TestHubDropsSlowClientsAndScopes(t *testing.T) {
	t.Parallel()
	h := NewHub()
	slow, err := h.add(RoleSupervisor, 1, 1, 0)
	require.NoError(t, err)
	agent, _ := h.add(RoleAgent, 42, 8, 0)
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
	_, err = h.add(RoleAgent, 1, 1, 0)
	require.ErrorIs(t, err, errHubClosed, "a closed hub takes no clients")
	require.Zero(t, h.Clients())
}
