package dialer_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/dialer/sim"
	"github.com/pacer-dialer/pacer/internal/testwait"
)

// takenCaller is oneCaller whose caller is still there when accepted.
type takenCaller struct{ oneCaller }

func (*takenCaller) Accept(dialer.CallID, agents.ID, time.Time) bool { return true }

// The lead of an inbound caller's call is the one the agent attaches, on
// the call or in its wrap-up, in place of any before; it is what the
// workspace shows; nothing can be attached once the disposition settled
// the call, nor to an agent with no call.
func TestAgentAttachesTheCallersLead(t *testing.T) {
	ctx := context.Background()
	in := &takenCaller{oneCaller{offer: dialer.InboundOffer{Leg: 7, Queue: 3, QueueName: "Support", DID: "+12025550100",
		From: "+12025550123", Entered: time.Now(), RingTime: 30 * time.Second}}}
	rt := fastSim()
	rt.CustomerTalk = sim.Dist{Dist: "uniform", Min: 3000, Max: 3600} // the agent hangs up
	cfg := dialer.Config{Campaign: 1, Mode: dialer.ModeManual}
	loop, err := dialer.NewLoop(dialer.LoopConfig{Engine: cfg, Summary: -1}, dialer.LoopDeps{
		Clock: wallClock{}, Leads: noLeads{}, Inbound: in,
		Trunk: func(del dialer.TrunkDeliverer) (dialer.Trunk, error) { return rt.Trunk(cfg.Campaign, del), nil },
	})
	require.NoError(t, err)
	require.NoError(t, loop.Start(ctx))
	t.Cleanup(loop.Stop)
	require.NoError(t, loop.Login(ctx, 5, agents.Config{}))
	require.NoError(t, loop.Login(ctx, 6, agents.Config{}))

	_, err = loop.AttachLead(ctx, 6, 0, 11)
	require.ErrorIs(t, err, dialer.ErrNoCall, "no call to attach to")
	_, err = loop.AttachLead(ctx, 9, 0, 11)
	require.ErrorIs(t, err, dialer.ErrAgentNotInCampaign)

	require.NoError(t, loop.AgentEvent(ctx, 5, agents.Event{Kind: agents.EvReady}))
	testwait.Until(t, func() bool { v, err := loop.AgentView(ctx, 5); return err == nil && v.State == agents.Ringing })
	require.NoError(t, loop.AgentEvent(ctx, 5, agents.Event{Kind: agents.EvAccept}))
	v, err := loop.AgentView(ctx, 5)
	require.NoError(t, err)
	require.Equal(t, agents.InCall, v.State)
	require.True(t, v.Call.Inbound)
	require.Zero(t, v.Call.Lead, "no lead until the agent attaches one")
	call := v.Call.ID

	got, err := loop.AttachLead(ctx, 5, call, 11)
	require.NoError(t, err)
	require.Equal(t, call, got)
	_, err = loop.AttachLead(ctx, 5, call+1, 12)
	require.ErrorIs(t, err, dialer.ErrNoCall, "another call than the agent's")
	v, err = loop.AgentView(ctx, 5)
	require.NoError(t, err)
	require.Equal(t, dialer.LeadID(11), v.Call.Lead)
	require.Equal(t, "+12025550123", v.Call.Number, "the caller's number stays")

	require.NoError(t, loop.Hangup(ctx, 5))
	v, err = loop.AgentView(ctx, 5)
	require.NoError(t, err)
	require.Equal(t, agents.Dispo, v.State)
	_, err = loop.AttachLead(ctx, 5, 0, 12)
	require.NoError(t, err, "in the wrap-up: the agent made or found the lead late")
	v, err = loop.AgentView(ctx, 5)
	require.NoError(t, err)
	require.Equal(t, dialer.LeadID(12), v.Call.Lead)

	_, err = loop.Disposition(ctx, 5, call, campaigns.DispositionInput{Code: "SALE"})
	require.NoError(t, err)
	_, err = loop.AttachLead(ctx, 5, call, 13)
	require.ErrorIs(t, err, dialer.ErrNoCall, "settled")
}
