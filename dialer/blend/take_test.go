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
	"github.com/pacer-dialer/pacer/internal/testwait"
)

type eventLog struct{ evs chan inbound.Event }

func (l eventLog) Append(ev inbound.Event) { l.evs <- ev }

// TestTakingACallerFromTheQueuePanel: a second-level member, not offered the
// caller yet (the queue widens after ten minutes), takes them from the
// panel: they are connected at once, the offer and the connect are logged;
// a caller of a queue that does not allow taking, or of a queue the agent
// does not serve, is refused with the reason.
func TestTakingACallerFromTheQueuePanel(t *testing.T) {
	ctx := context.Background()
	notify := &blend.Loops{}
	log := eventLog{evs: make(chan inbound.Event, 64)}
	var callers *sim.Callers
	r, err := inbound.NewRouter(inbound.Config{}, inbound.Deps{Notify: notify, Line: lineFunc(func(k inbound.CallKey, why string) {
		callers.Dismiss(k, why)
	}), Log: log})
	require.NoError(t, err)
	callers, err = sim.NewCallers(r, wallClock{}, sim.CallersConfig{Talk: sim.Dist{Dist: "const", Value: 3600},
		Patience: sim.Dist{Dist: "const", Value: 3600}})
	require.NoError(t, err)
	queue := func(id inbound.QueueID, did string, take bool) inbound.QueueDetail {
		return inbound.QueueDetail{Queue: inbound.Queue{ID: id, Name: did, AllowTake: take, WidenAfter: 10 * time.Minute,
			NoAgents: inbound.Fallback{Action: inbound.ActionWait}}.WithDefaults(),
			Members: []inbound.Member{{Queue: id, Agent: 1, Level: 2}}, DIDs: []string{did}}
	}
	other := inbound.QueueDetail{Queue: inbound.Queue{ID: 3, Name: "other",
		NoAgents: inbound.Fallback{Action: inbound.ActionWait}, AllowTake: true}.WithDefaults(),
		Members: []inbound.Member{{Queue: 3, Agent: 2}}, DIDs: []string{"+12025550103"}}
	require.NoError(t, r.Replace([]inbound.QueueDetail{queue(1, "+12025550101", true), queue(2, "+12025550102", false),
		other}, time.Now()))

	rt := sim.DemoRealtime()
	loop, err := dialer.NewLoop(dialer.LoopConfig{Engine: dialer.Config{Campaign: 1, Mode: dialer.ModeManual,
		RingTimeout: 20 * time.Second}, Summary: -1},
		dialer.LoopDeps{Clock: wallClock{}, Leads: &noLeads{}, Inbound: blend.Engines{R: r, Where: notify},
			Trunk: func(del dialer.TrunkDeliverer) (dialer.Trunk, error) { return rt.TrunkFor(1, del, callers), nil }})
	require.NoError(t, err)
	notify.Find = func(dialer.CampaignID) (*dialer.Loop, bool) { return loop, true }
	require.NoError(t, loop.Start(ctx))
	defer loop.Stop()
	require.NoError(t, loop.Login(ctx, 1, agents.Config{}))
	require.NoError(t, loop.AgentEvent(ctx, 1, agents.Event{Kind: agents.EvReady}))

	take, err := callers.Inject(ctx, "+12025550101", "+12025550199")
	require.NoError(t, err)
	noTake, err := callers.Inject(ctx, "+12025550102", "+12025550198")
	require.NoError(t, err)
	notMine, err := callers.Inject(ctx, "+12025550103", "+12025550197")
	require.NoError(t, err)
	for range 3 {
		require.Equal(t, inbound.EvEnter, next(t, log.evs).Kind)
	}
	v, err := loop.AgentView(ctx, 1)
	require.NoError(t, err)
	require.Equal(t, agents.Ready, v.State, "a second-level member is not offered before the queue widens")

	require.ErrorIs(t, loop.TakeInbound(ctx, 1, blend.Leg(noTake)), inbound.ErrNoTake)
	require.ErrorIs(t, loop.TakeInbound(ctx, 1, blend.Leg(notMine)), inbound.ErrNotMember)
	require.NoError(t, loop.TakeInbound(ctx, 1, blend.Leg(take)))
	v, err = loop.AgentView(ctx, 1)
	require.NoError(t, err)
	require.Equal(t, agents.InCall, v.State)
	offer, connect := next(t, log.evs), next(t, log.evs)
	require.Equal(t, inbound.EvOffer, offer.Kind)
	require.Equal(t, inbound.EvConnect, connect.Kind)
	require.Equal(t, take, connect.Call)
	require.ErrorIs(t, loop.TakeInbound(ctx, 1, blend.Leg(take)), dialer.ErrNotReady, "one call at a time")
}

type lineFunc func(inbound.CallKey, string)

func (f lineFunc) Dismiss(k inbound.CallKey, why string) { f(k, why) }

func next(t *testing.T, evs chan inbound.Event) inbound.Event {
	t.Helper()
	select {
	case ev := <-evs:
		return ev
	case <-testwait.Expired(t):
		t.Fatal("no queue event")
		return inbound.Event{}
	}
}
