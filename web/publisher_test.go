package web

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/internal/testdb"
)

// A change of an agent's call that leaves the agent's state as it was (their
// own dial answered, a mute, an unanswered dial's outcome) reaches their
// workspace as a "call" event with the change, the call and the outcome.
func TestACallChangeReachesTheAgentsWorkspace(t *testing.T) {
	db := testdb.NewPool(t)
	s := startServer(t, db, "node-a")
	ann := addUser(t, db, "ann", RoleAgent)
	ws, _, err := dialEvents(t, s, loginCookie(t, s, "ann"), "")
	require.NoError(t, err)
	defer ws.Close()
	_, ok := next(t, ws, "hello", 5*time.Second)
	require.True(t, ok)

	p := newPublisher(s)
	p.transition(context.Background(), Transition{Campaign: 7, Agent: agents.ID(ann.ID), At: time.Now(), Event: "call",
		Call: &CallChange{Call: 41, Lead: 9, Number: "+12025550100", State: "ended", Outcome: "busy", Disposition: "B"}})
	ev, ok := next(t, ws, "call", 5*time.Second)
	require.True(t, ok, "the call event arrives")
	require.Equal(t, ann.ID, ev.Agent)
	data, ok := ev.Data.(map[string]any)
	require.True(t, ok, "%T", ev.Data)
	require.Equal(t, "ended", data["change"])
	require.Equal(t, "busy", data["outcome"])
	require.Equal(t, "B", data["disposition"])
	require.EqualValues(t, 41, data["call_id"])
	require.Equal(t, "+12025550100", data["number"])
}
