package dialer_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/dialer"
)

// changeLog records the changes of agents' calls.
type changeLog struct{ got []dialer.CallChange }

func (c *changeLog) CallChanged(ch dialer.CallChange) { c.got = append(c.got, ch) }

func (c *changeLog) states() []string {
	var out []string
	for _, ch := range c.got {
		s := ch.State.String()
		if ch.Muted {
			s += "+muted"
		}
		if ch.Outcome != dialer.OutcomeNone {
			s += ":" + ch.Outcome.String()
		}
		out = append(out, s)
	}
	return out
}

// A preview dial nobody answers (busy, no answer, a machine, a failure)
// gets its outcome by itself: the agent is never in DISPO, counts no talk
// and no dispo time, and is shown the next preview at once.
func TestUnansweredPreviewDialReturnsTheAgentToTheNextPreview(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		far  dialer.TrunkEventKind
		want dialer.Outcome
	}{
		{dialer.TrunkBusy, dialer.OutcomeBusy},
		{dialer.TrunkNoAnswer, dialer.OutcomeNoAnswer},
		{dialer.TrunkAnsweredMachine, dialer.OutcomeMachine},
		{dialer.TrunkFailed, dialer.OutcomeFailed},
	} {
		t.Run(tc.want.String(), func(t *testing.T) {
			t.Parallel()
			hop := dialer.NewMemoryHopper(leads(10, 11)...)
			changes := &changeLog{}
			h := newHarnessWith(t, dialer.Config{Mode: dialer.ModePreview}, dialer.Deps{Leads: hop, Changes: changes})
			h.agentReady(1)
			require.NoError(t, h.eng.PreviewDial(h.ctx, 1))
			call := h.trunk.dials[0].Call
			h.far(call, dialer.TrunkRinging, time.Second)
			h.far(call, tc.far, 20*time.Second)
			h.advance(30 * time.Second)

			a := h.eng.Agent(1)
			require.Equal(t, agents.Ringing, a.State(), "the next preview is on screen")
			l, ok := h.eng.PreviewLead(1)
			require.True(t, ok)
			require.EqualValues(t, 11, l.ID)
			s := a.Session()
			require.Zero(t, s.Talk, "nobody answered: no talk")
			require.Zero(t, s.Dispo, "nothing to disposition: no dispo time")
			require.Zero(t, s.Calls)
			require.Equal(t, []dialer.Outcome{tc.want}, hop.Outcomes(10))
			require.Equal(t, tc.want, h.log.Records()[0].Outcome)
			last := changes.got[len(changes.got)-1]
			require.Equal(t, dialer.CallEnded, last.State)
			require.Equal(t, tc.want, last.Outcome, "the screen is told the outcome")
			require.Equal(t, call, last.Call)
		})
	}
}

// The same for a manual dial: back to READY, or PAUSED when the agent asked
// for a pause while it rang.
func TestUnansweredManualDialHonoursAPauseAskedWhileItRang(t *testing.T) {
	t.Parallel()
	h := newHarness(t, dialer.Config{Mode: dialer.ModeManual}, nil, dialer.NewMemoryHopper(), nil)
	h.agentReady(1)
	id, err := h.eng.ManualDial(h.ctx, 1, dialer.Lead{ID: 42, Number: "+15550142"})
	require.NoError(t, err)
	require.NoError(t, h.eng.HandleAgent(h.ctx, 1, agents.Event{Kind: agents.EvPause, PauseCode: "LUNCH"}))
	h.far(id, dialer.TrunkNoAnswer, 20*time.Second)
	h.advance(time.Minute)
	a := h.eng.Agent(1)
	require.Equal(t, agents.Paused, a.State())
	require.Equal(t, "LUNCH", a.PauseCode())
	require.Zero(t, a.Session().Dispo)
}

// Every change of the agent's own call reaches its watcher: ringing, the
// answer, hold and resume, mute, the end with its outcome.
func TestEveryChangeOfAnAgentsCallIsReported(t *testing.T) {
	t.Parallel()
	changes := &changeLog{}
	h := newHarnessWith(t, dialer.Config{Mode: dialer.ModePreview}, dialer.Deps{Leads: dialer.NewMemoryHopper(leads(10)...),
		Changes: changes})
	h.agentReady(1)
	require.NoError(t, h.eng.PreviewDial(h.ctx, 1))
	call := h.trunk.dials[0].Call
	h.far(call, dialer.TrunkRinging, time.Second)
	h.far(call, dialer.TrunkAnsweredHuman, 5*time.Second)
	h.advance(10 * time.Second)
	require.NoError(t, h.eng.Hold(h.ctx, 1, call))
	require.NoError(t, h.eng.Resume(h.ctx, 1, call))
	require.NoError(t, h.eng.Mute(h.ctx, 1, call))
	require.NoError(t, h.eng.Unmute(h.ctx, 1, call))
	require.NoError(t, h.eng.HangupCall(h.ctx, 1))
	require.Equal(t, []string{"dialing", "ringing", "answered_human", "connected", "held", "connected",
		"connected+muted", "connected", "wrap_up:completed"}, changes.states())
	for _, ch := range changes.got {
		require.Equal(t, agents.ID(1), ch.Agent)
		require.Equal(t, call, ch.Call)
	}
}

// A skipped preview goes to the back of the hopper, counted, and is not
// offered again to the agent who skipped it within the campaign's hold:
// another agent may take it, and the skipper gets it again after the hold.
func TestASkippedLeadIsKeptFromItsSkipperForTheHold(t *testing.T) {
	t.Parallel()
	hop := dialer.NewMemoryHopper(leads(10, 11)...)
	h := newHarness(t, dialer.Config{Mode: dialer.ModePreview, PreviewSkipHold: 10 * time.Minute}, nil, hop, nil)
	h.agentReady(1)
	require.NoError(t, h.eng.PreviewSkip(h.ctx, 1))
	l, _ := h.eng.PreviewLead(1)
	require.EqualValues(t, 11, l.ID, "skip moves to another lead")
	require.NoError(t, h.eng.PreviewSkip(h.ctx, 1))
	h.advance(time.Minute)
	_, offered := h.eng.PreviewLead(1)
	require.False(t, offered, "both leads were skipped by agent 1 a moment ago")
	require.Equal(t, agents.Ready, h.eng.Agent(1).State())

	h.agentReady(2)
	l2, ok := h.eng.PreviewLead(2)
	require.True(t, ok, "another agent gets a lead agent 1 skipped")

	h.advance(10 * time.Minute)
	l, ok = h.eng.PreviewLead(1)
	require.True(t, ok, "after the hold the skipper may get it again")
	require.NotEqual(t, l2.ID, l.ID)
	require.Equal(t, 1, hop.Skips(10))
	require.Equal(t, 1, hop.Skips(11))
}

// An agent who logs out with a preview on screen gives it back once, as it
// was: no skip is counted against them.
func TestLogoutWithAPreviewReleasesItUncounted(t *testing.T) {
	t.Parallel()
	hop := dialer.NewMemoryHopper(leads(10, 11)...)
	h := newHarness(t, dialer.Config{Mode: dialer.ModePreview, PreviewSkipHold: time.Hour}, nil, hop, nil)
	h.agentReady(1)
	h.agent(1, agents.EvLogout)
	require.Equal(t, 2, hop.Remaining())
	require.Zero(t, hop.Skips(10))
	h.agent(1, agents.EvLogin)
	h.agent(1, agents.EvReady)
	l, ok := h.eng.PreviewLead(1)
	require.True(t, ok, "not held back: it was not skipped")
	require.EqualValues(t, 11, l.ID)
}
