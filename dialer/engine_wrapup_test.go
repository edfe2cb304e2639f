package dialer_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/dialer"
)

// settlements records what the engine tells its watcher.
type settlements struct {
	progress []dialer.CallState
	settled  []dialer.Settlement
}

func (w *settlements) CallProgressed(c *dialer.Call) { w.progress = append(w.progress, c.State) }
func (w *settlements) CallSettled(_ context.Context, s *dialer.Settlement) {
	w.settled = append(w.settled, *s)
}

// talkedCall connects one call to agent 1, who talks until the customer
// hangs up; it returns the call.
func talkedCall(t *testing.T, h *harness) dialer.CallID {
	t.Helper()
	h.agentReady(1)
	h.advance(time.Second)
	call := h.trunk.dials[0].Call
	h.far(call, dialer.TrunkAnsweredHuman, time.Second)
	h.far(call, dialer.TrunkHungUp, 30*time.Second)
	h.advance(40 * time.Second)
	require.Equal(t, agents.Dispo, h.eng.Agent(1).State())
	return call
}

// A call the agent talked on keeps its lead until the agent's disposition:
// the customer hanging up writes the call's record, but the lead's attempt
// is settled only by the agent's code, once; a second disposition finds
// nothing to settle.
func TestTalkedCallHoldsItsLeadUntilTheAgentsDisposition(t *testing.T) {
	t.Parallel()
	hop := dialer.NewMemoryHopper(leads(7)...)
	w := &settlements{}
	h := newHarnessWith(t, dialer.Config{}, dialer.Deps{Leads: hop, Policy: dialer.Power{Ratio: 1}, Watcher: w})
	call := talkedCall(t, h)

	require.Len(t, h.log.Records(), 1, "the customer's leg ended: its record is written")
	require.Equal(t, dialer.OutcomeCompleted, h.log.Records()[0].Outcome)
	require.Empty(t, hop.Outcomes(7), "the lead waits for the agent's disposition")
	require.Empty(t, w.settled)
	require.Equal(t, []dialer.CallState{dialer.CallDialing, dialer.CallAnsweredHuman, dialer.CallConnected}, w.progress)

	require.NoError(t, h.eng.Dispose(h.ctx, 1, agents.Event{Kind: agents.EvDispoSaved}, dialer.Disposal{Code: "SALE"}))
	require.Equal(t, agents.Ready, h.eng.Agent(1).State())
	require.Len(t, w.settled, 1)
	s := w.settled[0]
	require.Equal(t, call, s.Call)
	require.Equal(t, dialer.LeadID(7), s.Lead)
	require.Equal(t, "SALE", s.Code)
	require.False(t, s.Left)
	require.NotNil(t, s.Transition.Call, "the settlement carries the agent's talk and dispo time")
	require.InDelta(t, 30, s.Transition.Call.Talk.Seconds(), 1)

	err := h.eng.Dispose(h.ctx, 1, agents.Event{Kind: agents.EvDispoSaved}, dialer.Disposal{Code: "NI"})
	require.Error(t, err, "READY: nothing to disposition")
	require.Len(t, w.settled, 1)
}

// An agent who logs out in wrap-up leaves their call to the automatic
// disposition; one who logs out mid-call too, after the call is finished.
func TestAgentLeavingWrapUpSettlesTheCallWithAUTO(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		hangup time.Duration // when the customer hangs up; 0: never (the agent leaves mid-call)
	}{{"in wrap-up", 30 * time.Second}, {"mid-call", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			hop := dialer.NewMemoryHopper(leads(8)...)
			w := &settlements{}
			h := newHarnessWith(t, dialer.Config{}, dialer.Deps{Leads: hop, Policy: dialer.Power{Ratio: 1}, Watcher: w})
			h.agentReady(1)
			h.advance(time.Second)
			call := h.trunk.dials[0].Call
			h.far(call, dialer.TrunkAnsweredHuman, time.Second)
			if tc.hangup > 0 {
				h.far(call, dialer.TrunkHungUp, tc.hangup)
			}
			h.advance(40 * time.Second)
			h.agent(1, agents.EvLogout)
			require.Equal(t, agents.LoggedOut, h.eng.Agent(1).State())
			require.Len(t, w.settled, 1)
			require.Equal(t, campaigns.DispoAuto, w.settled[0].Code)
			require.True(t, w.settled[0].Left)
			require.Equal(t, agents.EvLogout, w.settled[0].Transition.Event)
			require.Empty(t, hop.Outcomes(8), "the watcher completes the lead with AUTO")
		})
	}
}

// Without a watcher (the simulator's engine), the lead is completed when
// the customer's leg ends, as the simulator's results assume.
func TestWithoutAWatcherTheLeadCompletesAtHangup(t *testing.T) {
	t.Parallel()
	hop := dialer.NewMemoryHopper(leads(9)...)
	h := newHarness(t, dialer.Config{}, dialer.Power{Ratio: 1}, hop, nil)
	talkedCall(t, h)
	require.Equal(t, []dialer.Outcome{dialer.OutcomeCompleted}, hop.Outcomes(9))
	h.agent(1, agents.EvDispoSaved)
	require.Equal(t, agents.Ready, h.eng.Agent(1).State())
}
