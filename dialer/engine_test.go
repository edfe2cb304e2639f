package dialer_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/dialer"
)

func TestConfigRefusesShortRingTimeout(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ring time.Duration
		ok   bool
	}{{14 * time.Second, false}, {15 * time.Second, true}, {0, true}} {
		err := dialer.Config{RingTimeout: tc.ring}.WithDefaults().Validate()
		if tc.ok {
			require.NoError(t, err)
		} else {
			require.ErrorContains(t, err, "legal minimum")
		}
	}
}

// A live answer with nobody READY is abandoned at the connect deadline: the
// information message is played, the call hung up, the abandon counted and
// the lead completed as abandoned.
func TestAbandonAtConnectDeadline(t *testing.T) {
	t.Parallel()
	hop := dialer.NewMemoryHopper(leads(1)...)
	h := newHarness(t, dialer.Config{Campaign: 3}, dialer.Power{Ratio: 1}, hop, nil)
	h.agentReady(1)
	h.advance(time.Second)
	require.Len(t, h.trunk.dials, 1)
	call := h.trunk.dials[0].Call

	// The agent walks away while the call rings: power 1.0's only way to abandon.
	require.NoError(t, h.eng.HandleAgent(h.ctx, 1, agents.Event{Kind: agents.EvPause, PauseCode: "BREAK"}))
	h.far(call, dialer.TrunkAnsweredHuman, 5*time.Second)
	h.advance(5*time.Second + 1999*time.Millisecond)
	require.Empty(t, h.trunk.played, "still inside the deadline")
	h.advance(time.Millisecond)

	require.Equal(t, "abandon-info", h.trunk.played[call])
	require.True(t, h.trunk.hungUp[call])
	c := h.eng.Counters()
	require.EqualValues(t, 1, c.Abandons)
	require.EqualValues(t, 1, c.LiveAnswers)
	require.Equal(t, []dialer.Outcome{dialer.OutcomeAbandoned}, hop.Outcomes(1))
	recs := h.log.Records()
	require.Len(t, recs, 1)
	require.True(t, recs[0].Abandoned)
	require.Equal(t, 2*time.Second, recs[0].EndedAt().Sub(recs[0].AnsweredAt()))
	b := h.eng.Budget()
	require.EqualValues(t, 1, b.Live)
	require.EqualValues(t, 1, b.Abandons)
}

// An agent who becomes READY inside the deadline takes the waiting call.
func TestWaitingCallConnectsWithinDeadline(t *testing.T) {
	t.Parallel()
	h := newHarness(t, dialer.Config{}, dialer.Power{Ratio: 1}, dialer.NewMemoryHopper(leads(1, 2)...), nil)
	h.agentReady(1)
	h.advance(time.Second)
	call := h.trunk.dials[0].Call
	require.NoError(t, h.eng.HandleAgent(h.ctx, 1, agents.Event{Kind: agents.EvPause}))
	h.far(call, dialer.TrunkAnsweredHuman, 3*time.Second)
	h.advance(4 * time.Second) // answered 1 s ago, waiting
	h.agent(1, agents.EvReady)
	require.Equal(t, agents.ID(1), h.trunk.bridged[call])
	require.Equal(t, agents.InCall, h.eng.Agent(1).State())
	h.advance(5 * time.Second)
	require.Empty(t, h.trunk.played)
	require.EqualValues(t, 0, h.eng.Counters().Abandons)
}

// Answered calls go to the READY agent who has waited longest.
func TestRoutesToLongestWaitingAgent(t *testing.T) {
	t.Parallel()
	h := newHarness(t, dialer.Config{}, dialer.Power{Ratio: 1}, dialer.NewMemoryHopper(leads(1, 2, 3)...), nil)
	h.agentReady(1)
	h.advance(10 * time.Second)
	h.agentReady(2)
	h.advance(time.Second)
	require.Len(t, h.trunk.dials, 2)
	// The second-dialled call answers first: it still goes to agent 1.
	h.far(h.trunk.dials[1].Call, dialer.TrunkAnsweredHuman, time.Second)
	h.advance(2 * time.Second)
	require.Equal(t, agents.ID(1), h.trunk.bridged[h.trunk.dials[1].Call])
}

func TestRingTimeoutEndsCallAsNoAnswer(t *testing.T) {
	t.Parallel()
	hop := dialer.NewMemoryHopper(leads(7)...)
	h := newHarness(t, dialer.Config{RingTimeout: 20 * time.Second}, dialer.Power{Ratio: 1}, hop, nil)
	h.agentReady(1)
	h.advance(time.Second)
	require.Len(t, h.trunk.dials, 1)
	require.Equal(t, 20*time.Second, h.trunk.dials[0].RingTimeout)
	h.advance(20 * time.Second)
	require.True(t, h.trunk.hungUp[h.trunk.dials[0].Call])
	require.Equal(t, []dialer.Outcome{dialer.OutcomeNoAnswer}, hop.Outcomes(7))
	rec := h.log.Records()[0]
	require.Equal(t, 20*time.Second, rec.EndedAt().Sub(rec.DialedAt()))
}

// A hopper that hands out the same lead twice must not get it dialled twice
// at once; the duplicate goes back and is dialled after the first call ends.
func TestNoLeadDialledTwiceAtOnce(t *testing.T) {
	t.Parallel()
	hop := dialer.NewMemoryHopper(leads(1, 1, 2, 2, 3, 1)...)
	h := newHarness(t, dialer.Config{}, dialer.Power{Ratio: 1}, hop, nil)
	for id := agents.ID(1); id <= 4; id++ {
		h.agentReady(id)
	}
	for i := 0; i < 10; i++ {
		h.advance(time.Second)
		for _, d := range h.trunk.dials {
			h.far(d.Call, dialer.TrunkBusy, 3*time.Second) // late duplicates are ignored
		}
	}
	require.Positive(t, h.eng.Counters().DuplicateLeads)
	type span struct{ from, to time.Time }
	byLead := map[dialer.LeadID][]span{}
	for _, r := range h.log.Records() {
		for _, s := range byLead[r.Lead] {
			require.False(t, r.DialedAt().Before(s.to) && s.from.Before(r.EndedAt()), "lead %d dialled twice at once", r.Lead)
		}
		byLead[r.Lead] = append(byLead[r.Lead], span{r.DialedAt(), r.EndedAt()})
	}
	require.Len(t, byLead[1], 3, "every copy of lead 1 was dialled, one at a time")
}

func TestPreviewSkipAndDial(t *testing.T) {
	t.Parallel()
	hop := dialer.NewMemoryHopper(leads(10, 11)...)
	h := newHarness(t, dialer.Config{Mode: dialer.ModePreview}, nil, hop, nil)
	h.agentReady(1)
	l, ok := h.eng.PreviewLead(1)
	require.True(t, ok)
	require.EqualValues(t, 10, l.ID)
	require.Equal(t, agents.Ringing, h.eng.Agent(1).State())
	h.advance(30 * time.Second)
	require.Empty(t, h.trunk.dials, "preview never dials by itself")

	require.NoError(t, h.eng.PreviewSkip(h.ctx, 1))
	l, ok = h.eng.PreviewLead(1)
	require.True(t, ok)
	require.EqualValues(t, 11, l.ID, "the next lead is shown after a skip")
	require.Equal(t, 1, hop.Remaining(), "the skipped lead went back to the hopper")
	require.Equal(t, 1, hop.Skips(10), "the skip is counted")

	require.NoError(t, h.eng.PreviewDial(h.ctx, 1))
	require.Len(t, h.trunk.dials, 1)
	require.EqualValues(t, 11, h.trunk.dials[0].Lead)
	require.Equal(t, agents.Dialing, h.eng.Agent(1).State(), "the agent hears the call ring")
	call := h.trunk.dials[0].Call
	h.far(call, dialer.TrunkAnsweredHuman, 4*time.Second)
	h.far(call, dialer.TrunkHungUp, 64*time.Second)
	h.advance(10 * time.Second)
	require.Equal(t, agents.InCall, h.eng.Agent(1).State(), "answered: the agent talks")
	require.Equal(t, h.drv.Now().Add(-6*time.Second), h.eng.Agent(1).CallStart(), "the call starts at the answer")
	h.advance(60 * time.Second)
	require.Equal(t, agents.ID(1), h.trunk.bridged[call])
	require.Equal(t, agents.Dispo, h.eng.Agent(1).State())
	require.Equal(t, 60*time.Second, h.eng.Agent(1).Session().Talk, "talk from the answer to the hangup")
	require.Equal(t, []dialer.Outcome{dialer.OutcomeCompleted}, hop.Outcomes(11))
	require.Empty(t, hop.Outcomes(10), "a skipped lead has no call outcome")
}

func TestManualDial(t *testing.T) {
	t.Parallel()
	hop := dialer.NewMemoryHopper()
	h := newHarness(t, dialer.Config{Mode: dialer.ModeManual}, nil, hop, nil)
	h.agentReady(1)
	h.advance(time.Minute)
	require.Empty(t, h.trunk.dials, "manual never dials by itself")

	lead := dialer.Lead{ID: 42, Number: "+15550142"}
	id, err := h.eng.ManualDial(h.ctx, 1, lead)
	require.NoError(t, err)
	require.Equal(t, agents.Dialing, h.eng.Agent(1).State())
	_, err = h.eng.ManualDial(h.ctx, 1, dialer.Lead{ID: 43})
	require.ErrorContains(t, err, "not READY")

	h.far(id, dialer.TrunkBusy, 6*time.Second)
	h.advance(10 * time.Second)
	require.Equal(t, agents.Ready, h.eng.Agent(1).State(), "a busy manual call has nothing to disposition")
	s := h.eng.Agent(1).Session()
	require.Zero(t, s.Talk)
	require.Zero(t, s.Dispo)
	require.EqualValues(t, 0, h.eng.Counters().Abandons)
	require.Equal(t, dialer.OutcomeBusy, h.log.Records()[0].Outcome)
	require.Equal(t, "+15550142", h.trunk.dials[0].Number)
}

// Logging out mid-call finishes the call first.
func TestLogoutMidCallFinishesCall(t *testing.T) {
	t.Parallel()
	h := newHarness(t, dialer.Config{}, dialer.Power{Ratio: 1}, dialer.NewMemoryHopper(leads(5)...), nil)
	h.agentReady(1)
	h.advance(time.Second)
	call := h.trunk.dials[0].Call
	h.far(call, dialer.TrunkAnsweredHuman, time.Second)
	h.advance(30 * time.Second)
	h.agent(1, agents.EvLogout)
	require.True(t, h.trunk.hungUp[call])
	require.Equal(t, agents.LoggedOut, h.eng.Agent(1).State())
	require.Equal(t, dialer.OutcomeCompleted, h.log.Records()[0].Outcome)
	require.Equal(t, 1, h.eng.Agent(1).Session().Calls)
}

// Hold on the agent holds the customer leg too, and the agent can end the call.
func TestAgentHoldAndHangup(t *testing.T) {
	t.Parallel()
	h := newHarness(t, dialer.Config{}, dialer.Power{Ratio: 1}, dialer.NewMemoryHopper(leads(8)...), nil)
	h.agentReady(1)
	h.advance(time.Second)
	call := h.trunk.dials[0].Call
	h.far(call, dialer.TrunkAnsweredHuman, time.Second)
	h.advance(10 * time.Second)
	h.agent(1, agents.EvHold)
	h.advance(20 * time.Second)
	h.agent(1, agents.EvResume)
	h.advance(5 * time.Second)
	require.NoError(t, h.eng.HangupCall(h.ctx, 1))
	require.ErrorContains(t, h.eng.HangupCall(h.ctx, 1), "no call")
	rec := h.log.Records()[0]
	require.Equal(t, dialer.OutcomeCompleted, rec.Outcome)
	require.False(t, rec.Stamps[dialer.CallHeld].IsZero(), "the hold is on the call record")
	require.True(t, rec.Stamps[dialer.CallConnected].Before(rec.Stamps[dialer.CallHeld]),
		"connected_at is when the call was first connected, not when it was last resumed")
	s := h.eng.Agent(1).Session()
	require.Equal(t, 20*time.Second, s.Hold)
	require.Equal(t, 14*time.Second, s.Talk)
	require.Equal(t, agents.Dispo, h.eng.Agent(1).State())
}

func TestStopEndsPacingButLetsCallsFinish(t *testing.T) {
	t.Parallel()
	hop := dialer.NewMemoryHopper(leads(1, 2, 3)...)
	h := newHarness(t, dialer.Config{}, dialer.Power{Ratio: 1}, hop, nil)
	h.agentReady(1)
	h.advance(time.Second)
	require.Len(t, h.trunk.dials, 1)
	h.eng.Stop()
	h.eng.Stop()
	h.far(h.trunk.dials[0].Call, dialer.TrunkBusy, time.Second)
	h.advance(time.Minute)
	require.Len(t, h.trunk.dials, 1, "no new dials after Stop")
	require.Equal(t, []dialer.Outcome{dialer.OutcomeBusy}, hop.Outcomes(1))
}
