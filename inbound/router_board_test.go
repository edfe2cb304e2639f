package inbound

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
)

type quietEngines struct{}

func (quietEngines) Poke(agents.ID)              {}
func (quietEngines) Withdraw(agents.ID, CallKey) {}
func (quietEngines) Dismiss(CallKey, string)     {}

// The wallboard's live figures per queue: callers waiting and ringing, the
// longest wait from the first entry (an overflowed caller keeps their
// place), members READY and at work.
func TestRouterNowIsTheWallboardsLivePart(t *testing.T) {
	r, err := NewRouter(Config{}, Deps{Notify: quietEngines{}, Line: quietEngines{}})
	require.NoError(t, err)
	t0 := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	sales := Queue{ID: 1, Name: "Sales"}.WithDefaults()
	support := Queue{ID: 2, Name: "Support", NoAgents: Fallback{Action: ActionWait}}.WithDefaults()
	require.NoError(t, r.SetQueue(sales, []Member{{Queue: 1, Agent: 11}, {Queue: 1, Agent: 12}, {Queue: 1, Agent: 13}}))
	require.NoError(t, r.SetQueue(support, []Member{{Queue: 2, Agent: 13}}))
	r.SetDID("+12025550101", 1)
	r.SetDID("+12025550102", 2)

	r.AgentChanged(11, 1, agents.Paused, t0)
	r.AgentChanged(12, 1, agents.Paused, t0)
	require.NoError(t, r.Arrive(Arrival{Call: 1, DID: "+12025550101", From: "+15550001"}, t0))
	require.NoError(t, r.Arrive(Arrival{Call: 2, DID: "+12025550101", From: "+15550002"}, t0.Add(10*time.Second)))
	// A caller who first called a minute ago keeps that place here.
	require.NoError(t, r.Arrive(Arrival{Call: 3, DID: "+12025550102", From: "+15550003", Entered: t0.Add(-time.Minute)},
		t0.Add(20*time.Second)))
	r.AgentChanged(12, 1, agents.Ready, t0.Add(30*time.Second))
	offer, ok := r.Claim(12, t0.Add(30*time.Second))
	require.True(t, ok)
	require.Equal(t, CallKey(1), offer.Call)

	now := t0.Add(40 * time.Second)
	require.Equal(t, []QueueNow{
		{Queue: 1, Waiting: 2, Ringing: 1, Oldest: t0, LongestWait: 40 * time.Second, Members: 3, Available: 0, LoggedIn: 2},
		{Queue: 2, Waiting: 1, Oldest: t0.Add(-time.Minute), LongestWait: 100 * time.Second, Members: 1},
	}, r.Now(now))

	r.AgentChanged(13, 1, agents.Ready, now)
	for _, q := range r.Now(now) {
		if q.Queue == 2 {
			require.Equal(t, 1, q.LoggedIn)
		}
	}
	require.True(t, r.Accept(1, 12, now))
	got := r.Now(now)
	require.Equal(t, 1, got[0].Waiting, "the answered caller left Sales")
	require.Equal(t, t0.Add(10*time.Second), got[0].Oldest)
}
