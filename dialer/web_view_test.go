package dialer_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/internal/testwait"
)

// noLeads is a manual campaign's lead source: nothing to dial.
type noLeads struct{}

func (noLeads) Claim(_ context.Context, dst []dialer.Lead, _ int) ([]dialer.Lead, error) {
	return dst, nil
}
func (noLeads) Complete(context.Context, dialer.LeadID, dialer.Outcome) error { return nil }
func (noLeads) Release(context.Context, dialer.LeadID) error                  { return nil }
func (noLeads) Skip(context.Context, dialer.LeadID, agents.ID) error          { return nil }
func (noLeads) CompleteDisposed(context.Context, dialer.LeadID, dialer.Outcome, string) error {
	return nil
}

// oneCaller is an inbound side with one caller waiting, offered to the
// first READY agent who asks, and told who passed.
type oneCaller struct {
	mu      sync.Mutex
	offer   dialer.InboundOffer
	claimed bool
	passed  []agents.ID
}

func (o *oneCaller) Claim(agents.ID, time.Time) (dialer.InboundOffer, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.claimed {
		return dialer.InboundOffer{}, false
	}
	o.claimed = true
	return o.offer, true
}
func (o *oneCaller) Accept(dialer.CallID, agents.ID, time.Time) bool { return false }
func (o *oneCaller) Pass(_ dialer.CallID, a agents.ID, _ bool, _ time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.passed = append(o.passed, a)
}
func (o *oneCaller) AgentChanged(agents.ID, dialer.CampaignID, agents.State, time.Time) {}
func (o *oneCaller) Load(dialer.CampaignID, time.Time) dialer.InboundLoad {
	return dialer.InboundLoad{}
}
func (o *oneCaller) Dedicated(agents.ID) bool { return false }

// The workspace sees the inbound caller ringing an agent (number dialled,
// queue, caller, their leads, ring time) and nothing once it is rejected;
// DND goes on from READY or PAUSED and off back to where the agent was, and
// is refused while the agent rings.
func TestAgentViewShowsTheInboundOfferAndDND(t *testing.T) {
	ctx := context.Background()
	in := &oneCaller{offer: dialer.InboundOffer{Leg: 7, Queue: 3, QueueName: "Support", DID: "+12025550100",
		From: "+12025550123", Entered: time.Now(), RingTime: 30 * time.Second, RejectToDND: true,
		Leads: []dialer.InboundLead{{Lead: 11, Campaign: 1, Name: "Grace Hopper"}}}}
	rt := fastSim()
	cfg := dialer.Config{Campaign: 1, Mode: dialer.ModeManual}
	loop, err := dialer.NewLoop(dialer.LoopConfig{Engine: cfg, Summary: -1}, dialer.LoopDeps{
		Clock: wallClock{}, Leads: noLeads{}, Inbound: in,
		Trunk: func(del dialer.TrunkDeliverer) (dialer.Trunk, error) { return rt.Trunk(cfg.Campaign, del), nil },
	})
	require.NoError(t, err)
	require.NoError(t, loop.Start(ctx))
	t.Cleanup(loop.Stop)
	require.NoError(t, loop.Login(ctx, 5, agents.Config{}))

	require.NoError(t, loop.DND(ctx, 5, true), "from PAUSED")
	v, err := loop.AgentView(ctx, 5)
	require.NoError(t, err)
	require.Equal(t, agents.DND, v.State)
	require.NoError(t, loop.DND(ctx, 5, false))
	v, err = loop.AgentView(ctx, 5)
	require.NoError(t, err)
	require.Equal(t, agents.Paused, v.State, "back to the pause")
	require.Error(t, loop.DND(ctx, 5, false), "not in DND")
	require.ErrorIs(t, loop.DND(ctx, 6, true), dialer.ErrAgentNotInCampaign)

	require.NoError(t, loop.AgentEvent(ctx, 5, agents.Event{Kind: agents.EvReady}))
	testwait.Until(t, func() bool {
		v, err = loop.AgentView(ctx, 5)
		return err == nil && v.State == agents.Ringing
	})
	require.Nil(t, v.Call, "an offer is no call yet")
	require.NotNil(t, v.Inbound)
	require.Equal(t, "Support", v.Inbound.QueueName)
	require.Equal(t, "+12025550100", v.Inbound.DID)
	require.Equal(t, "+12025550123", v.Inbound.From)
	require.Equal(t, 30*time.Second, v.Inbound.RingTime)
	require.Equal(t, []dialer.InboundLead{{Lead: 11, Campaign: 1, Name: "Grace Hopper"}}, v.Inbound.Leads)
	require.Error(t, loop.DND(ctx, 5, true), "not while ringing")

	require.NoError(t, loop.AgentEvent(ctx, 5, agents.Event{Kind: agents.EvReject}))
	v, err = loop.AgentView(ctx, 5)
	require.NoError(t, err)
	require.Equal(t, agents.DND, v.State, "the queue sends a rejecting agent to DND")
	require.Nil(t, v.Inbound)
	in.mu.Lock()
	require.Equal(t, []agents.ID{5}, in.passed)
	in.mu.Unlock()
	require.NoError(t, loop.DND(ctx, 5, false))
	v, err = loop.AgentView(ctx, 5)
	require.NoError(t, err)
	require.Equal(t, agents.Ready, v.State)
}
