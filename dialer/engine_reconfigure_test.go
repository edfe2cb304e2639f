package dialer_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/dialer"
)

// Every engine setting of a running campaign changes one after another
// while an agent talks to a customer: the call stays connected and the agent
// INCALL throughout; the next dials carry the new caller ID and ring
// timeout; a call ringing when the ring timeout changed gives up at its
// original timeout; an answered call waiting for an agent is abandoned at
// the connect deadline and with the message it was dialled with; the abandon
// budget keeps its window through a new target; and the mode goes
// predictive → power → preview → manual → predictive, with a READY agent
// kept for a call power placed rather than offered a preview, an agent's
// preview offer surviving the switch to manual, and manual never dialling by
// itself.
func TestSettingsApplyLiveWhileAnAgentTalks(t *testing.T) {
	t.Parallel()
	ids := make([]int64, 60)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	cfg := dialer.Config{Campaign: 5, RingTimeout: 20 * time.Second, ConnectDeadline: 2 * time.Second,
		CallerID: "+15550000001", InfoPrompt: "msg-a"}
	h := newHarness(t, cfg, dialer.Power{Ratio: 1}, dialer.NewMemoryHopper(leads(ids...)...), nil)
	reconf := func(pol dialer.Policy) {
		t.Helper()
		require.NoError(t, h.eng.Reconfigure(h.ctx, cfg, pol))
	}
	last := func() dialer.DialRequest { return h.trunk.dials[len(h.trunk.dials)-1] }
	record := func(id dialer.CallID) (dialer.CallRecord, bool) {
		for _, r := range h.log.Records() {
			if r.ID == id {
				return r, true
			}
		}
		return dialer.CallRecord{}, false
	}
	predictive := func() dialer.Policy {
		p, err := dialer.NewPredictive(dialer.PredictiveConfig{Target: cfg.AbandonTarget, RingTimeout: cfg.RingTimeout})
		require.NoError(t, err)
		return p
	}

	// Agent 1 talks on call a.
	h.agentReady(1)
	a := last().Call
	h.far(a, dialer.TrunkAnsweredHuman, time.Second)
	h.advance(2 * time.Second)
	stillTalking := func(when string) {
		t.Helper()
		require.Equal(t, agents.ID(1), h.trunk.bridged[a], when)
		require.False(t, h.trunk.hungUp[a], "%s: call %d hung up", when, a)
		_, ended := record(a)
		require.False(t, ended, "%s: call %d ended", when, a)
		require.Equal(t, agents.InCall, h.eng.Agent(1).State(), when)
	}
	stillTalking("before any change")

	// Agent 2 READY: call b rings under the first settings.
	h.agentReady(2)
	b, bAt := last(), h.drv.Now()
	require.Equal(t, "+15550000001", b.CallerID)
	require.Equal(t, 20*time.Second, b.RingTimeout)

	// Ratio 2: a second line for the one READY agent, at once.
	reconf(dialer.Power{Ratio: 2})
	stillTalking("ratio")
	require.Len(t, h.trunk.dials, 3)
	c := last().Call

	// Caller ID: the next dial (replacing busy c) presents the new one.
	cfg.CallerID = "+15550000002"
	reconf(dialer.Power{Ratio: 2})
	h.far(c, dialer.TrunkBusy, 100*time.Millisecond)
	h.advance(time.Second)
	stillTalking("caller ID")
	d := last()
	require.NotEqual(t, c, d.Call)
	require.Equal(t, "+15550000002", d.CallerID)
	require.Equal(t, 20*time.Second, d.RingTimeout)

	// Ring timeout: the next dial rings 30 s.
	cfg.RingTimeout = 30 * time.Second
	reconf(dialer.Power{Ratio: 2})
	h.far(d.Call, dialer.TrunkBusy, 100*time.Millisecond)
	h.advance(time.Second)
	stillTalking("ring timeout")
	e := last()
	require.NotEqual(t, d.Call, e.Call)
	require.Equal(t, "+15550000002", e.CallerID)
	require.Equal(t, 30*time.Second, e.RingTimeout)

	// Connect deadline and message: e, dialled before the change, is
	// abandoned 2 s after its answer with the first message.
	cfg.ConnectDeadline, cfg.InfoPrompt = time.Second, "msg-b"
	reconf(dialer.Power{Ratio: 2})
	h.agent(2, agents.EvPause)
	h.far(e.Call, dialer.TrunkAnsweredHuman, 100*time.Millisecond)
	h.advance(1600 * time.Millisecond)
	require.NotContains(t, h.trunk.played, e.Call, "the new 1 s deadline does not reach a call dialled before it")
	h.advance(600 * time.Millisecond)
	stillTalking("connect deadline and message")
	require.Equal(t, "msg-a", h.trunk.played[e.Call])
	rec, ok := record(e.Call)
	require.True(t, ok)
	require.Equal(t, dialer.OutcomeAbandoned, rec.Outcome)
	require.Equal(t, 2*time.Second, rec.EndedAt().Sub(rec.AnsweredAt()))
	// A call dialled after the change has the new deadline and message.
	h.agent(2, agents.EvReady)
	f := last().Call
	h.agent(2, agents.EvPause)
	h.far(f, dialer.TrunkAnsweredHuman, 100*time.Millisecond)
	h.advance(1200 * time.Millisecond)
	require.Equal(t, "msg-b", h.trunk.played[f])
	rec, ok = record(f)
	require.True(t, ok)
	require.Equal(t, time.Second, rec.EndedAt().Sub(rec.AnsweredAt()))

	// b, dialled with 20 s, gives up at 20 s although the campaign now says 30.
	h.advance(bAt.Add(20 * time.Second).Sub(h.drv.Now()))
	rec, ok = record(b.Call)
	require.True(t, ok)
	require.Equal(t, dialer.OutcomeNoAnswer, rec.Outcome)
	require.Equal(t, 20*time.Second, rec.EndedAt().Sub(rec.DialedAt()))
	stillTalking("after the old ring timeout")

	// A new target keeps the window's answers and abandons.
	before := h.eng.Budget()
	require.EqualValues(t, 3, before.Live) // a, e, f
	require.EqualValues(t, 2, before.Abandons)
	cfg.AbandonTarget = 0.02
	reconf(dialer.Power{Ratio: 2})
	after := h.eng.Budget()
	require.Equal(t, 0.02, after.Target)
	require.Equal(t, before.Live, after.Live)
	require.Equal(t, before.Abandons, after.Abandons)

	// Mode: predictive, then power with agent 2 READY.
	cfg.Mode = dialer.ModeAuto
	reconf(predictive())
	stillTalking("predictive")
	reconf(dialer.Power{Ratio: 1})
	h.agent(2, agents.EvReady)
	g := last().Call
	stillTalking("power")

	// Preview: READY agent 2 is kept for g, still ringing from power mode,
	// rather than offered a lead that would leave g's answer to be
	// abandoned; after g, agent 2 is offered a lead, and nothing is dialled
	// by itself.
	cfg.Mode = dialer.ModePreview
	reconf(nil)
	n := len(h.trunk.dials)
	require.Equal(t, agents.Ready, h.eng.Agent(2).State())
	h.far(g, dialer.TrunkAnsweredHuman, 100*time.Millisecond)
	h.advance(time.Second)
	require.Equal(t, agents.ID(2), h.trunk.bridged[g])
	h.far(g, dialer.TrunkHungUp, 0)
	h.advance(time.Millisecond)
	h.agent(2, agents.EvDispoSaved)
	require.Equal(t, agents.Ringing, h.eng.Agent(2).State())
	offer, ok := h.eng.PreviewLead(2)
	require.True(t, ok)
	h.advance(5 * time.Second)
	require.Len(t, h.trunk.dials, n)
	stillTalking("preview")

	// Manual: agent 2 keeps the offer and may still dial it; nothing else
	// is dialled.
	cfg.Mode = dialer.ModeManual
	reconf(nil)
	require.Equal(t, agents.Ringing, h.eng.Agent(2).State())
	kept, ok := h.eng.PreviewLead(2)
	require.True(t, ok)
	require.Equal(t, offer, kept)
	h.advance(5 * time.Second)
	require.Len(t, h.trunk.dials, n)
	require.NoError(t, h.eng.PreviewDial(h.ctx, 2))
	require.Len(t, h.trunk.dials, n+1)
	require.Equal(t, offer.ID, last().Lead)
	require.Equal(t, "+15550000002", last().CallerID)
	require.Equal(t, agents.Dialing, h.eng.Agent(2).State())
	h.far(last().Call, dialer.TrunkBusy, 100*time.Millisecond)
	h.advance(time.Second)
	require.Equal(t, agents.Ready, h.eng.Agent(2).State(), "a busy dial has nothing to disposition")
	h.advance(5 * time.Second)
	require.Len(t, h.trunk.dials, n+1, "manual never dials by itself")
	stillTalking("manual")

	// Back to predictive: the READY agent gets a line at once.
	cfg.Mode = dialer.ModeAuto
	reconf(predictive())
	require.Len(t, h.trunk.dials, n+2)
	require.Equal(t, "+15550000002", last().CallerID)
	require.Equal(t, 30*time.Second, last().RingTimeout)
	stillTalking("predictive again")

	// The customer finally hangs up: one completed call, agent 1's.
	h.far(a, dialer.TrunkHungUp, 0)
	h.advance(time.Millisecond)
	rec, ok = record(a)
	require.True(t, ok)
	require.Equal(t, dialer.OutcomeCompleted, rec.Outcome)
	require.Equal(t, agents.ID(1), rec.Agent)
	require.Equal(t, agents.Dispo, h.eng.Agent(1).State())
}

// Moving a running campaign from UK rules (24 h window) to US rules (30
// days) counts the older history the 24 h window had dropped, once, next to
// what the engine recorded itself; and a predictive policy given a new
// target and ring timeout keeps what it learned instead of starting cold.
func TestSettingsChangeKeepsTheAbandonWindowAndWhatPacingLearned(t *testing.T) {
	t.Parallel()
	const camp = 8
	hist := &dialer.MemoryCallLog{}
	old := dialer.CallRecord{Campaign: camp, Outcome: dialer.OutcomeAbandoned}
	old.Stamps[dialer.CallAnsweredHuman] = t0.Add(-72 * time.Hour)
	old.Stamps[dialer.CallEnded] = t0.Add(-72*time.Hour + 2*time.Second)
	recent := dialer.CallRecord{Campaign: camp, Outcome: dialer.OutcomeCompleted}
	recent.Stamps[dialer.CallConnected] = t0.Add(-3 * time.Hour)
	recent.Stamps[dialer.CallEnded] = t0.Add(-3*time.Hour + time.Minute)
	for _, r := range []dialer.CallRecord{old, recent} {
		require.NoError(t, hist.RecordCall(t.Context(), &r))
	}
	pol := trainedPredictive(t)
	cfg := dialer.Config{Campaign: camp, AbandonWindow: 24 * time.Hour, AMDFalsePositive: 0.1}
	h := newHarness(t, cfg, pol, dialer.NewMemoryHopper(leads(1, 2, 3)...), hist)
	require.EqualValues(t, 1, h.eng.Budget().Live, "the UK window holds the recent call only")

	// One call of the engine's own, connected and ended, written through.
	h.agentReady(1)
	call := h.trunk.dials[0].Call
	h.far(call, dialer.TrunkAnsweredHuman, time.Second)
	h.far(call, dialer.TrunkHungUp, 10*time.Second)
	h.advance(11 * time.Second)
	for _, r := range h.log.Records() {
		require.NoError(t, hist.RecordCall(t.Context(), &r))
	}
	require.EqualValues(t, 2, h.eng.Budget().Live)

	theta := pol.Threshold()
	next, err := dialer.NewPredictive(dialer.PredictiveConfig{Target: 0.02, RingTimeout: 40 * time.Second})
	require.NoError(t, err)
	cfg.AbandonTarget, cfg.AbandonWindow, cfg.AMDFalsePositive, cfg.RingTimeout = 0.02, 30*24*time.Hour, 0, 40*time.Second
	require.NoError(t, h.eng.Reconfigure(h.ctx, cfg, next))

	b := h.eng.Budget()
	require.Equal(t, 0.02, b.Target)
	require.EqualValues(t, 3, b.Live, "the older history joins, the engine's own call is counted once")
	require.EqualValues(t, 1, b.Abandons)
	require.Zero(t, b.AMDEstimate, "US rules count no AMD false positives")

	require.Same(t, pol, h.eng.Policy(), "the learned policy stays")
	require.InDelta(t, 1.0/3, pol.LiveProbability(), 0.02, "the third of dials answered live is still known (a cold start says 0.25)")
	require.InDelta(t, theta*2/3, pol.Threshold(), 1e-12, "θ follows the target")
	h.agentReady(2)
	require.Equal(t, 40*time.Second, h.trunk.dials[len(h.trunk.dials)-1].RingTimeout)
}
