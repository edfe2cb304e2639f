package inbound

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
)

type pokeLog struct {
	mu    sync.Mutex
	poked []agents.ID
}

func (p *pokeLog) Poke(a agents.ID) {
	p.mu.Lock()
	p.poked = append(p.poked, a)
	p.mu.Unlock()
}
func (*pokeLog) Withdraw(agents.ID, CallKey) {}

type noLine struct{}

func (noLine) Dismiss(CallKey, string) {}

// Deps.CanTake keeps a call from the agents whose side cannot carry it
// (a SIP caller and an agent on the simulated carrier): they are neither
// poked for it nor given it when they claim, even as the longest idle;
// the agent who can take it gets it.
func TestRouterCanTakeKeepsCallsFromAgentsWhoCannotCarryThem(t *testing.T) {
	notify := &pokeLog{}
	const sipCaller CallKey = 1 << 62
	r, err := NewRouter(Config{}, Deps{Notify: notify, Line: noLine{},
		CanTake: func(a agents.ID, call CallKey) bool { return a != 1 || call < sipCaller }})
	require.NoError(t, err)
	require.NoError(t, r.SetQueue(Queue{ID: 1, Name: "q", NoAgents: Fallback{Action: ActionWait}}.WithDefaults(),
		[]Member{{Queue: 1, Agent: 1, Level: 1}, {Queue: 1, Agent: 2, Level: 1}}))
	r.SetDID("+12025550100", 1)
	now := time.Now()
	r.AgentChanged(1, 1, agents.Ready, now.Add(-time.Hour)) // longest idle
	r.AgentChanged(2, 1, agents.Ready, now)
	require.NoError(t, r.Arrive(Arrival{Call: sipCaller, DID: "+12025550100"}, now))
	notify.mu.Lock()
	require.Equal(t, []agents.ID{2}, notify.poked, "only the agent who can carry the call is poked")
	notify.mu.Unlock()
	_, ok := r.Claim(1, now)
	require.False(t, ok, "agent 1 cannot claim it")
	off, ok := r.Claim(2, now)
	require.True(t, ok)
	require.Equal(t, sipCaller, off.Call)

	// Nor can agent 1 take such a caller from the queue panel.
	const sipCaller2 CallKey = 1<<62 + 1
	require.NoError(t, r.SetQueue(Queue{ID: 1, Name: "q", AllowTake: true, NoAgents: Fallback{Action: ActionWait}}.WithDefaults(),
		[]Member{{Queue: 1, Agent: 1, Level: 1}, {Queue: 1, Agent: 2, Level: 1}}))
	r.AgentChanged(2, 1, agents.InCall, now)
	require.NoError(t, r.Arrive(Arrival{Call: sipCaller2, DID: "+12025550100"}, now))
	_, err = r.Take(1, sipCaller2, now)
	require.ErrorIs(t, err, ErrCannotCarry)

	require.NoError(t, r.Arrive(Arrival{Call: 7, DID: "+12025550100"}, now))
	off, ok = r.Claim(1, now)
	require.True(t, ok, "another call agent 1 can carry is theirs")
	require.Equal(t, CallKey(7), off.Call)
}
