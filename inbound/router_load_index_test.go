package inbound

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
)

type quietNotifier struct{}

func (quietNotifier) Poke(agents.ID)              {}
func (quietNotifier) Withdraw(agents.ID, CallKey) {}
func (quietNotifier) Dismiss(CallKey, string)     {}

// TestLoadFollowsAnAgentWhoChangesCampaign: Load counts an agent in the
// campaign they were last reported in only: one who moved to another
// campaign leaves the first one's reserve and joins the second's.
func TestLoadFollowsAnAgentWhoChangesCampaign(t *testing.T) {
	r, err := NewRouter(Config{}, Deps{Notify: quietNotifier{}, Line: quietNotifier{}})
	require.NoError(t, err)
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	require.NoError(t, r.SetQueue(Queue{ID: 1, Name: "q", SLThreshold: 20 * time.Second, SLTarget: 0.8,
		RingTime: 30 * time.Second, NoAgents: Fallback{Action: ActionWait}},
		[]Member{{Queue: 1, Agent: 1}, {Queue: 1, Agent: 2}}))
	r.SetDID("+12025550100", 1)
	r.AgentChanged(1, 10, agents.Paused, now)
	r.AgentChanged(2, 10, agents.InCall, now)
	require.NoError(t, r.Arrive(Arrival{Call: 1, DID: "+12025550100"}, now))
	require.Equal(t, 1, r.Load(10, now).Waiting, "the caller waits for campaign 10's agent")
	require.Zero(t, r.Load(20, now).Waiting)

	r.AgentChanged(2, 20, agents.InCall, now.Add(time.Second)) // agent 2 now works campaign 20
	require.Zero(t, r.Load(10, now).Waiting, "campaign 10 has no agent at work for the queue any more")
	require.Equal(t, 1, r.Load(20, now).Waiting)
	require.Positive(t, r.Load(20, now).Reserve)
}
