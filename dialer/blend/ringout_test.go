package blend_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/dialer/blend"
	"github.com/pacer-dialer/pacer/dialer/sim"
	"github.com/pacer-dialer/pacer/inbound"
)

// TestAnOfferRingsOutInRealTime: in a campaign's real-time loop (not the
// simulator's virtual clock), an offer nobody answers ends after the
// queue's ring time: the agent goes to DND (the queue says so) and the
// caller is offered to the next agent. The ring timer once went to the
// loop's own timers and never fired, leaving agents RINGING for minutes.
func TestAnOfferRingsOutInRealTime(t *testing.T) {
	ctx := context.Background()
	notify := &blend.Loops{}
	log := eventLog{evs: make(chan inbound.Event, 64)}
	var callers *sim.Callers
	r, err := inbound.NewRouter(inbound.Config{}, inbound.Deps{Notify: notify, Log: log,
		Line: lineFunc(func(k inbound.CallKey, why string) { callers.Dismiss(k, why) })})
	require.NoError(t, err)
	callers, err = sim.NewCallers(r, wallClock{}, sim.CallersConfig{Talk: sim.Dist{Dist: "const", Value: 3600},
		Patience: sim.Dist{Dist: "const", Value: 3600}})
	require.NoError(t, err)
	q := inbound.Queue{ID: 1, Name: "support", RejectToDND: true}.WithDefaults()
	q.RingTime = 300 * time.Millisecond // below what a manager may set, to keep the test short
	require.NoError(t, r.Replace([]inbound.QueueDetail{{Queue: q, DIDs: []string{"+12025550100"},
		Members: []inbound.Member{{Queue: 1, Agent: 1}, {Queue: 1, Agent: 2}}}}, time.Now()))

	rt := sim.DemoRealtime()
	loop, err := dialer.NewLoop(dialer.LoopConfig{Engine: dialer.Config{Campaign: 1, Mode: dialer.ModeManual,
		RingTimeout: 20 * time.Second}, Summary: -1},
		dialer.LoopDeps{Clock: wallClock{}, Leads: &noLeads{}, Inbound: blend.Engines{R: r, Where: notify},
			Trunk: func(del dialer.TrunkDeliverer) (dialer.Trunk, error) { return rt.TrunkFor(1, del, callers), nil }})
	require.NoError(t, err)
	notify.Find = func(dialer.CampaignID) (*dialer.Loop, bool) { return loop, true }
	require.NoError(t, loop.Start(ctx))
	defer loop.Stop()
	for _, id := range []agents.ID{1, 2} {
		require.NoError(t, loop.Login(ctx, id, agents.Config{}))
		require.NoError(t, loop.AgentEvent(ctx, id, agents.Event{Kind: agents.EvReady}))
	}
	_, err = callers.Inject(ctx, "+12025550100", "+12025550123")
	require.NoError(t, err)

	require.Equal(t, inbound.EvEnter, next(t, log.evs).Kind)
	first := next(t, log.evs)
	require.Equal(t, inbound.EvOffer, first.Kind)
	timeout := next(t, log.evs)
	require.Equal(t, inbound.EvTimeout, timeout.Kind, "the offer rang out")
	require.Equal(t, first.Agent, timeout.Agent)
	second := next(t, log.evs)
	require.Equal(t, inbound.EvOffer, second.Kind)
	require.NotEqual(t, first.Agent, second.Agent, "passed on to the other agent")
	v, err := loop.AgentView(ctx, first.Agent)
	require.NoError(t, err)
	require.Equal(t, agents.DND, v.State)

	// A supervisor can log out an agent who is in DND (idle, at the desk).
	require.NoError(t, loop.LogoutIdle(ctx, first.Agent))
	v, err = loop.AgentView(ctx, first.Agent)
	require.NoError(t, err)
	require.Equal(t, agents.LoggedOut, v.State)
}
