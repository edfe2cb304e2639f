package dialer_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/dialer"
)

// completions counts how often each lead is completed: a customer handed
// from agent to agent is one attempt, completed once.
type completions struct{ n map[dialer.LeadID]int }

func (c *completions) Claim(_ context.Context, dst []dialer.Lead, _ int) ([]dialer.Lead, error) {
	return dst, nil
}
func (c *completions) Complete(_ context.Context, id dialer.LeadID, _ dialer.Outcome) error {
	c.n[id]++
	return nil
}
func (c *completions) Release(context.Context, dialer.LeadID) error         { return nil }
func (c *completions) Skip(context.Context, dialer.LeadID, agents.ID) error { return nil }

// phoneDesk is a manual campaign on a trunk with agents' phones: agents
// 1, 2 and 3 logged in with their phones up; 1 and 2 READY, 3 PAUSED.
func phoneDesk(t *testing.T) (*harness, *completions) {
	t.Helper()
	leads := &completions{n: map[dialer.LeadID]int{}}
	h := newHarnessWith(t, dialer.Config{Mode: dialer.ModeManual}, dialer.Deps{Leads: leads, Phones: &phoneBook{}})
	for _, id := range []agents.ID{1, 2, 3} {
		require.NoError(t, h.eng.AddAgent(id, agents.Config{}))
		h.agent(id, agents.EvLogin)
		h.phone(id, dialer.TrunkPhoneUp)
		if id != 3 {
			h.agent(id, agents.EvReady)
		}
	}
	return h, leads
}

// talking has agent 1 dial lead 42 and the customer answer.
func talking(t *testing.T, h *harness) dialer.CallID {
	t.Helper()
	call, err := h.eng.ManualDial(h.ctx, 1, dialer.Lead{ID: 42, Number: "+15550142"})
	require.NoError(t, err)
	h.far(call, dialer.TrunkAnsweredHuman, time.Second)
	h.advance(5 * time.Second)
	require.Equal(t, agents.InCall, h.eng.Agent(1).State())
	return call
}

// A blind transfer to another READY agent of the campaign puts the
// customer on their line and makes them busy with a call of their own:
// theirs to talk on and disposition, holding the lead, while the first
// agent's part ends into its disposition without it. The lead is completed
// once, by the call that has the customer when they hang up.
func TestBlindTransferToAnAgentMakesThemBusyWithTheCustomer(t *testing.T) {
	t.Parallel()
	h, leads := phoneDesk(t)
	call := talking(t, h)

	require.NoError(t, h.eng.Transfer(h.ctx, 1, call, dialer.AgentTarget(2)))
	require.Equal(t, []string{"transfer " + itoa(call)}, h.trunk.controls, "the trunk moves the customer's leg")
	require.Equal(t, agents.Dispo, h.eng.Agent(1).State(), "the first agent's part is over")
	require.Equal(t, agents.InCall, h.eng.Agent(2).State(), "the target is busy with the customer")
	got, ok := h.eng.AgentCall(2)
	require.True(t, ok)
	require.Equal(t, call, got.TransferredFrom)
	require.NotEqual(t, call, got.ID, "a call of their own")
	require.Equal(t, dialer.CallConnected, got.State)
	require.Equal(t, dialer.LeadID(42), got.Lead.ID)
	require.Zero(t, leads.n[42], "the lead goes on with the customer")

	first := h.log.Records()[0]
	require.Equal(t, call, first.ID)
	require.True(t, first.WithoutLead)
	require.Equal(t, "transferred to agent:2", first.Cause.Reason)

	// The target is not offered another customer while they talk.
	_, err := h.eng.ManualDial(h.ctx, 2, dialer.Lead{ID: 43, Number: "+15550143"})
	require.Error(t, err)

	// The customer's leg is still the one the trunk knows: its hangup ends
	// the target's call, and controls reach the same leg.
	require.NoError(t, h.eng.Mute(h.ctx, 2, got.ID))
	require.Equal(t, "mute "+itoa(call), h.trunk.controls[len(h.trunk.controls)-1])
	h.far(call, dialer.TrunkHungUp, time.Second)
	h.advance(2 * time.Second)
	require.Equal(t, agents.Dispo, h.eng.Agent(2).State())
	second := h.log.Records()[1]
	require.Equal(t, got.ID, second.ID)
	require.Equal(t, call, second.TransferredFrom)
	require.False(t, second.WithoutLead)
	require.Equal(t, agents.ID(2), second.Agent)
	require.Equal(t, 1, leads.n[42], "one attempt, completed once")
}

// itoa names a call as the scripted trunk's controls do.
func itoa(c dialer.CallID) string { return strconv.FormatUint(uint64(c), 10) }

// Only a READY agent of this campaign can take a transferred customer: a
// paused one, one not in the campaign or the agent themself are refused
// with the reason, and nothing is asked of the trunk.
func TestTransferToAnAgentWhoCannotTakeItIsRefused(t *testing.T) {
	t.Parallel()
	h, _ := phoneDesk(t)
	call := talking(t, h)
	for to, want := range map[agents.ID]string{3: "they are PAUSED, not READY", 9: "they are not working in this campaign"} {
		err := h.eng.Transfer(h.ctx, 1, call, dialer.AgentTarget(to))
		require.ErrorIs(t, err, dialer.ErrTargetUnavailable)
		require.ErrorContains(t, err, want)
		require.ErrorIs(t, h.eng.AddParty(h.ctx, 1, call, dialer.AgentTarget(to)), dialer.ErrTargetUnavailable)
	}
	require.ErrorIs(t, h.eng.Transfer(h.ctx, 1, call, dialer.AgentTarget(1)), dialer.ErrBadControl)
	require.Empty(t, h.trunk.controls, "nothing asked of the trunk")
	require.Equal(t, agents.InCall, h.eng.Agent(1).State())
	require.Equal(t, agents.Paused, h.eng.Agent(3).State())
}

// A conference with another agent makes them busy as the host's guest:
// the conference is the host's (the guest's controls are refused); when
// the host leaves, the guest has the customer and the lead.
func TestConferenceWithAnAgentHandsTheCustomerOnWhenTheHostLeaves(t *testing.T) {
	t.Parallel()
	h, leads := phoneDesk(t)
	call := talking(t, h)

	require.NoError(t, h.eng.AddParty(h.ctx, 1, call, dialer.AgentTarget(2)))
	require.Equal(t, agents.InCall, h.eng.Agent(2).State(), "the guest is busy")
	guest, ok := h.eng.AgentCall(2)
	require.True(t, ok)
	require.Equal(t, dialer.CallConference, guest.State)
	require.Equal(t, dialer.AgentTarget(1), guest.Party, "the guest sees whose conference it is")
	for name, err := range map[string]error{
		"mute":     h.eng.Mute(h.ctx, 2, guest.ID),
		"hold":     h.eng.Hold(h.ctx, 2, guest.ID),
		"leave":    h.eng.Leave(h.ctx, 2, guest.ID),
		"hang up":  h.eng.HangupCall(h.ctx, 2),
		"transfer": h.eng.Transfer(h.ctx, 2, guest.ID, dialer.NumberTarget("+15550001111")),
	} {
		require.ErrorIs(t, err, dialer.ErrTrunkRefused, name)
		require.ErrorContains(t, err, "agent 1's conference", name)
	}
	require.Equal(t, []string{"add_party " + itoa(call)}, h.trunk.controls)

	require.NoError(t, h.eng.Leave(h.ctx, 1, call))
	require.Equal(t, agents.Dispo, h.eng.Agent(1).State())
	now, ok := h.eng.AgentCall(2)
	require.True(t, ok)
	require.Equal(t, guest.ID, now.ID)
	require.Equal(t, dialer.CallConnected, now.State, "the customer is the guest's now")
	require.True(t, now.Party.IsZero())
	require.True(t, h.log.Records()[0].WithoutLead, "the host's call left the lead to the guest")
	require.NoError(t, h.eng.Mute(h.ctx, 2, now.ID), "their controls work now")

	h.far(call, dialer.TrunkHungUp, time.Second)
	h.advance(2 * time.Second)
	require.Equal(t, agents.Dispo, h.eng.Agent(2).State())
	require.Equal(t, 1, leads.n[42])
	require.False(t, h.log.Records()[1].WithoutLead)
}

// When the customer hangs up during the conference, host and guest both go
// to their dispositions; the host's call holds the lead.
func TestConferenceHangupEndsTheHostsAndTheGuestsCalls(t *testing.T) {
	t.Parallel()
	h, leads := phoneDesk(t)
	call := talking(t, h)
	require.NoError(t, h.eng.AddParty(h.ctx, 1, call, dialer.AgentTarget(2)))
	h.far(call, dialer.TrunkHungUp, time.Second)
	h.advance(2 * time.Second)
	require.Equal(t, agents.Dispo, h.eng.Agent(1).State())
	require.Equal(t, agents.Dispo, h.eng.Agent(2).State())
	recs := h.log.Records()
	require.Len(t, recs, 2)
	require.False(t, recs[0].WithoutLead, "the host's call holds the lead")
	require.True(t, recs[1].WithoutLead, "the guest's part does not")
	require.Equal(t, 1, leads.n[42])
}

// A guest who logs out leaves the conference to the host and the
// customer: the customer's leg is not hung up, and the host can no longer
// leave it to them.
func TestAGuestLoggingOutLeavesTheConferenceToTheHost(t *testing.T) {
	t.Parallel()
	h, _ := phoneDesk(t)
	call := talking(t, h)
	require.NoError(t, h.eng.AddParty(h.ctx, 1, call, dialer.AgentTarget(2)))
	h.agent(2, agents.EvLogout)
	require.False(t, h.trunk.hungUp[call], "the customer stays")
	require.Equal(t, agents.InCall, h.eng.Agent(1).State())
	err := h.eng.Leave(h.ctx, 1, call)
	require.ErrorIs(t, err, dialer.ErrTrunkRefused)
	require.ErrorContains(t, err, "the other agent has left the conference")
	require.NoError(t, h.eng.HangupCall(h.ctx, 1))
	require.True(t, h.trunk.hungUp[call])
	require.Equal(t, agents.Dispo, h.eng.Agent(1).State())
}
