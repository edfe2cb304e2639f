package sim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/dialer/blend"
	"github.com/pacer-dialer/pacer/inbound"
)

func TestInboundOfferAcceptTalkDispo(t *testing.T) {
	h := newInHarness(t, 2, dialer.ModeManual, nil)
	before := h.eng.Counters()
	h.run(10 * time.Second)
	entered := h.drv.Now()
	leg := h.call("+15550001111")

	off := h.offered(1) // the longest idle
	require.Equal(t, leg, off.Leg)
	require.Equal(t, testDID, off.DID)
	require.Equal(t, int64(1), off.Queue)
	require.Equal(t, "support", off.QueueName)
	require.Equal(t, "+15550001111", off.From)
	require.Equal(t, entered, off.Entered)
	require.Equal(t, 30*time.Second, off.RingTime)
	h.requireStates(map[agents.ID]agents.State{1: agents.Ringing, 2: agents.Ready})

	h.run(3 * time.Second)
	h.do(1, agents.EvAccept)
	require.Equal(t, agents.InCall, h.state(1))
	c, ok := h.eng.AgentCall(1)
	require.True(t, ok)
	require.True(t, c.Inbound)
	require.Equal(t, int64(1), c.Queue)
	_, ringing := h.eng.InboundOffered(1)
	require.False(t, ringing)

	h.run(20 * time.Second) // the caller talks 20 s, then hangs up
	require.Equal(t, agents.Dispo, h.state(1))
	h.do(1, agents.EvDispoSaved)
	require.Equal(t, agents.Ready, h.state(1))

	after := h.eng.Counters()
	require.Equal(t, before.Dials, after.Dials)
	require.Equal(t, before.LiveAnswers, after.LiveAnswers)
	require.Equal(t, before.Abandons, after.Abandons)
	require.Equal(t, before.Connected, after.Connected)
	require.Equal(t, before.InboundConnected+1, after.InboundConnected)
	require.Equal(t, []inbound.EventKind{inbound.EvEnter, inbound.EvOffer, inbound.EvConnect}, h.events(leg))
	require.Empty(t, h.router.Waiting())
}

func TestInboundRejectAndRingOutPassOn(t *testing.T) {
	for _, tc := range []struct {
		name    string
		timeout bool
		dnd     bool
	}{{"reject", false, false}, {"reject to DND", false, true}, {"ring out", true, false}, {"ring out to DND", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			h := newInHarness(t, 3, dialer.ModeManual, func(q *inbound.Queue) { q.RejectToDND = tc.dnd })
			leg := h.call("+15550002222")
			require.True(t, h.offered(1).RejectToDND == tc.dnd)
			if tc.timeout {
				h.run(29 * time.Second)
				require.Equal(t, agents.Ringing, h.state(1), "rings for the queue's ring time")
				h.run(time.Second)
			} else {
				h.run(2 * time.Second)
				h.do(1, agents.EvReject)
				h.run(0)
			}
			first := agents.Ready
			if tc.dnd {
				first = agents.DND
			}
			h.requireStates(map[agents.ID]agents.State{1: first, 2: agents.Ringing, 3: agents.Ready})
			require.Equal(t, leg, h.offered(2).Leg, "the call passed to the next agent at once")
			pass := inbound.EvReject
			if tc.timeout {
				pass = inbound.EvTimeout
			}
			require.Equal(t, []inbound.EventKind{inbound.EvEnter, inbound.EvOffer, pass, inbound.EvOffer}, h.events(leg))

			h.do(2, agents.EvAccept)
			require.Equal(t, agents.InCall, h.state(2))
			h.run(time.Minute)
			require.Equal(t, first, h.state(1), "the first agent is not offered anything meanwhile")
		})
	}
}

func TestInboundCallerHangsUpWhileRinging(t *testing.T) {
	h := newInHarness(t, 2, dialer.ModeManual, nil)
	leg := h.call("+15550003333")
	h.offered(1)
	h.run(5 * time.Second)
	h.hangUp(leg)
	h.requireStates(map[agents.ID]agents.State{1: agents.Ready, 2: agents.Ready})
	_, ok := h.eng.InboundOffered(1)
	require.False(t, ok)
	require.Equal(t, []inbound.EventKind{inbound.EvEnter, inbound.EvOffer, inbound.EvAbandon}, h.events(leg))
	// A new caller still reaches agent 1, READY again.
	next := h.call("+15550003334")
	require.Equal(t, next, h.offered(2).Leg, "agent 2 is now the longest idle")
}

func TestInboundAcceptRacingHangUp(t *testing.T) {
	h := newInHarness(t, 1, dialer.ModeManual, nil)
	leg := h.call("+15550004444")
	h.offered(1)
	// The caller hangs up; the router's withdraw has not reached the
	// engine yet when the agent clicks Accept.
	c := h.in.callers[leg]
	c.waiting = false
	delete(h.in.callers, leg)
	h.router.HungUp(blend.Key(leg), h.drv.Now())
	err := h.eng.HandleAgent(h.ctx, 1, agents.Event{Kind: agents.EvAccept})
	require.True(t, errors.Is(err, dialer.ErrCallerGone), "got %v", err)
	require.Equal(t, agents.Ready, h.state(1))
	h.run(time.Second) // the withdraw arrives late and changes nothing
	require.Equal(t, agents.Ready, h.state(1))
	require.Zero(t, h.eng.Counters().InboundConnected)
	next := h.call("+15550004445")
	require.Equal(t, next, h.offered(1).Leg)
}

func TestInboundLogoutWhileRingingPassesOn(t *testing.T) {
	h := newInHarness(t, 2, dialer.ModeManual, nil)
	leg := h.call("+15550005555")
	h.offered(1)
	h.do(1, agents.EvLogout)
	h.run(0)
	require.Equal(t, agents.LoggedOut, h.state(1))
	require.Equal(t, leg, h.offered(2).Leg)
}

func TestInboundNotReadyAgentsAreNotRung(t *testing.T) {
	for _, away := range []agents.EventKind{agents.EvPause, agents.EvDND} {
		t.Run(away.String(), func(t *testing.T) {
			h := newInHarness(t, 2, dialer.ModeManual, nil)
			h.do(1, away)
			h.do(2, away)
			leg := h.call("+15550006666")
			h.run(time.Minute)
			require.Equal(t, []inbound.EventKind{inbound.EvEnter}, h.events(leg))
			back := agents.EvReady
			if away == agents.EvDND {
				back = agents.EvDNDOff
			}
			h.do(2, back)
			h.run(0)
			require.Equal(t, leg, h.offered(2).Leg)
		})
	}
}

// TestInboundRandomAgentsNeverRungUnlessReady runs many callers against
// agents who accept, reject, let offers ring out, pause, go DND and come
// back at random, and checks every transition to RINGING (the harness's
// cleanup) and that every caller's log ends one way.
func TestInboundRandomAgentsNeverRungUnlessReady(t *testing.T) {
	t.Run("inbound only", func(t *testing.T) { randomAgents(t, dialer.ModeManual) })
	t.Run("blended", func(t *testing.T) { randomAgents(t, dialer.ModeAuto) })
}

func randomAgents(t *testing.T, mode dialer.Mode) {
	h := newInHarness(t, 5, mode, func(q *inbound.Queue) { q.RejectToDND = true })
	if mode == dialer.ModeAuto {
		h.trunk.carry = true
		h.pol.Power = true
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var legs []dialer.CallID
	for step := 0; step < 600; step++ {
		h.run(time.Duration(1+rng.IntN(6)) * time.Second)
		if rng.IntN(3) == 0 {
			legs = append(legs, h.call("+15550007777"))
		}
		if rng.IntN(8) == 0 && len(h.in.callers) > 0 {
			for leg, c := range h.in.callers {
				if c.waiting {
					h.hangUp(leg)
					break
				}
			}
		}
		id := agents.ID(1 + rng.IntN(5))
		var ev agents.EventKind
		switch s := h.state(id); s {
		case agents.Ringing:
			ev = []agents.EventKind{agents.EvAccept, agents.EvAccept, agents.EvReject, agents.EvPause}[rng.IntN(4)]
			if ev == agents.EvPause {
				continue // let it ring out
			}
		case agents.Dispo:
			ev = agents.EvDispoSaved
		case agents.DND:
			ev = agents.EvDNDOff
		case agents.Paused:
			ev = agents.EvReady
		case agents.Ready:
			ev = []agents.EventKind{agents.EvPause, agents.EvDND}[rng.IntN(2)]
		default:
			continue
		}
		err := h.eng.HandleAgent(h.ctx, id, agents.Event{Kind: ev})
		if !errors.Is(err, dialer.ErrCallerGone) {
			require.NoError(t, err, "agent %d %s", id, ev)
		}
	}
	var rings, connects int
	for _, tr := range h.trans {
		if tr.To == agents.Ringing {
			rings++
		}
	}
	for _, leg := range legs {
		evs := h.events(leg)
		require.Equal(t, inbound.EvEnter, evs[0])
		for _, k := range evs {
			if k == inbound.EvConnect {
				connects++
			}
		}
	}
	require.Greater(t, rings, 100, "the run offered many calls")
	require.Positive(t, connects)
	c := h.eng.Counters()
	require.Equal(t, int64(connects), c.InboundConnected)
	if mode == dialer.ModeAuto {
		require.Positive(t, c.Connected, "outbound calls were connected too")
		require.Equal(t, c.LiveAnswers, c.Connected+c.Abandons)
		require.Equal(t, int64(len(h.trunk.dials)), c.Dials)
	}
}

// TestInboundOrderOutboundAnswerFirst: an agent freed while an outbound
// answer waits and an inbound caller waits takes the outbound answer (the
// 2-second rule); freed again, the inbound caller before any new dial.
func TestInboundOrderOutboundAnswerFirst(t *testing.T) {
	h := newInHarness(t, 1, dialer.ModeAuto, nil)
	first := h.call("+15550008888")
	h.offered(1)
	h.do(1, agents.EvAccept)
	h.run(20 * time.Second) // the caller hangs up
	require.Equal(t, agents.Dispo, h.state(1))

	h.pol.Dial = 1
	h.run(2 * time.Second) // the engine's tick dials
	require.Len(t, h.trunk.dials, 1)
	waiting := h.call("+15550009999")
	h.answer(0)
	require.Equal(t, 1, len(h.router.Waiting()))

	h.pol.Power = true // pacing would now dial for a READY agent
	h.do(1, agents.EvDispoSaved)
	require.Equal(t, agents.InCall, h.state(1), "the outbound answer first")
	c, ok := h.eng.AgentCall(1)
	require.True(t, ok)
	require.False(t, c.Inbound)
	require.Equal(t, h.trunk.dials[0].Call, c.ID)
	require.Equal(t, []inbound.EventKind{inbound.EvEnter}, h.events(waiting), "the caller still waits")

	h.run(30 * time.Second) // the customer hangs up
	require.Equal(t, agents.Dispo, h.state(1))
	h.do(1, agents.EvDispoSaved)
	require.Equal(t, waiting, h.offered(1).Leg, "then the waiting caller")
	h.run(5 * time.Second)
	require.Len(t, h.trunk.dials, 1, "and no new dial for the agent taken by the caller")
	require.Equal(t, []inbound.EventKind{inbound.EvEnter, inbound.EvOffer, inbound.EvConnect}, h.events(first))
	c0 := h.eng.Counters()
	require.Equal(t, int64(1), c0.Dials)
	require.Equal(t, int64(1), c0.Connected)
	require.Zero(t, c0.Abandons)
}

// TestInboundBlendedRun runs the blended policy on a blended scenario (the
// issue's 20 agents, 200 calls an hour at 180 s handle time, with the
// outbound campaign of markov-n20) and checks the outbound abandon rate
// stays within target while the queue is served.
func TestInboundBlendedRun(t *testing.T) {
	sc := blendedScenario()
	var outboundByTeam, outboundByOthers int
	team := sc.SplitTeam()
	require.Positive(t, team)
	for _, pol := range []string{"blended", "split"} {
		t.Run(pol, func(t *testing.T) {
			// Long enough for the abandon rate to be the policy's, not the
			// first hour's: short runs of plain predictive scatter around
			// the target too.
			hours := 10.0
			if pol == "split" {
				hours = 3
			}
			opt := Options{Hours: hours, Calls: callSinkFunc(func(rec *dialer.CallRecord) {
				if pol != "split" || rec.Inbound || !rec.HasAgent {
					return
				}
				if int(rec.Agent) <= team {
					outboundByTeam++
				} else {
					outboundByOthers++
				}
			})}
			r, err := Run(context.Background(), sc, pol, opt)
			require.NoError(t, err)
			t.Logf("%s: abandon %.2f%% of %d live, outbound talks/h %.0f, inbound %+v", pol, 100*r.AbandonRate,
				r.LiveAnswers, r.OutboundTalksPerHour, *r.Inbound)
			require.NotNil(t, r.Inbound)
			require.Greater(t, r.LiveAnswers, int64(100))
			require.LessOrEqual(t, r.AbandonRate, sc.Campaign.AbandonTarget)
			require.Greater(t, r.Inbound.Offered, int(150*hours), "about 200 callers an hour")
			require.Greater(t, r.Inbound.Answered, r.Inbound.Offered*8/10)
			require.Positive(t, r.Inbound.ServiceLevel)
			require.Positive(t, r.Inbound.Intervals)
			require.Positive(t, r.OutboundTalksPerHour)
		})
	}
	require.Positive(t, outboundByOthers, "split's other agents take outbound calls")
	require.Zero(t, outboundByTeam, "split's dedicated team never takes an outbound call")
}

func blendedScenario() *Scenario {
	sc := markov("blend-n20", 20, 0.3, 150, 3, 1)
	sc.Inbound = &Inbound{Queues: []InboundQueue{{Name: "support", ArrivalsPerHour: 200,
		Talk: Dist{Dist: "exp", Mean: 150}, Dispo: Dist{Dist: "exp", Mean: 30},
		Patience: Dist{Dist: "exp", Mean: 120}, SLThresholdS: 20, SLTarget: 0.8}}}
	return sc
}

type callSinkFunc func(rec *dialer.CallRecord)

func (f callSinkFunc) RecordCall(_ context.Context, rec *dialer.CallRecord) error {
	f(rec)
	return nil
}

// TestInboundReofferGetsAFullRingTime: a caller the only member rejected
// overflows to a second queue of the same agent and is offered to them
// again at once; the first offer's ring timer must not cut the new one.
func TestInboundReofferGetsAFullRingTime(t *testing.T) {
	h := newInHarness(t, 1, dialer.ModeManual, func(q *inbound.Queue) {
		q.NoAgents = inbound.Fallback{Action: inbound.ActionQueue, Target: 2}
	})
	require.NoError(t, h.router.SetQueue(inbound.Queue{ID: 2, Name: "overflow", RingTime: 30 * time.Second,
		NoAgents: inbound.Fallback{Action: inbound.ActionWait}}, []inbound.Member{{Queue: 2, Agent: 1, Level: 1}}))
	leg := h.call("+15550001212")
	h.offered(1)
	h.run(5 * time.Second)
	h.do(1, agents.EvReject)
	h.run(0)
	off := h.offered(1)
	require.Equal(t, leg, off.Leg)
	require.Equal(t, int64(2), off.Queue)
	h.run(29 * time.Second)
	require.Equal(t, agents.Ringing, h.state(1), "the new offer rings its whole ring time")
	h.run(time.Second)
	require.NotEqual(t, agents.Ringing, h.state(1))
	require.Equal(t, []inbound.EventKind{inbound.EvEnter, inbound.EvOffer, inbound.EvReject, inbound.EvOverflow,
		inbound.EvEnter, inbound.EvOffer, inbound.EvTimeout}, h.events(leg))
}

// TestInboundPacingLeavesWaitingCallersTheirAgents: with a caller waiting
// for the queue's member (on a call), pacing places no call for the READY
// agent who does not serve the queue under vicidial_no_dial (Stop) nor
// under blending (one reserved per caller waiting), and dials once the
// caller is gone.
func TestInboundPacingLeavesWaitingCallersTheirAgents(t *testing.T) {
	for _, routing := range []inbound.Mode{inbound.NoDialWhileWaiting, inbound.Blended} {
		t.Run(fmt.Sprint(routing), func(t *testing.T) {
			h := newInHarnessWith(t, harnessOpts{agents: 2, mode: dialer.ModeAuto, routing: routing,
				members: []agents.ID{1}})
			h.call("+15550001313")
			h.do(1, agents.EvAccept)
			require.Equal(t, agents.InCall, h.state(1))
			waiting := h.call("+15550001314")
			h.pol.Power = true
			h.run(10 * time.Second)
			require.Empty(t, h.trunk.dials, "no dial while the caller waits")
			require.Equal(t, agents.Ready, h.state(2))
			h.hangUp(waiting)
			h.run(2 * time.Second)
			if routing == inbound.NoDialWhileWaiting {
				require.Len(t, h.trunk.dials, 1, "dialling again for agent 2")
			}
		})
	}
}

// TestInboundRingAll: a ring-all queue rings every READY member; the first
// to accept takes the caller and the others are READY again.
func TestInboundRingAll(t *testing.T) {
	h := newInHarness(t, 3, dialer.ModeManual, func(q *inbound.Queue) { q.Method = inbound.RingAll })
	h.do(3, agents.EvPause)
	leg := h.call("+15550001515")
	h.run(0)
	require.Equal(t, leg, h.offered(1).Leg)
	require.Equal(t, leg, h.offered(2).Leg)
	require.Equal(t, agents.Paused, h.state(3))
	h.run(2 * time.Second)
	h.do(2, agents.EvAccept)
	h.run(0)
	h.requireStates(map[agents.ID]agents.State{1: agents.Ready, 2: agents.InCall, 3: agents.Paused})
	err := h.eng.HandleAgent(h.ctx, 1, agents.Event{Kind: agents.EvAccept})
	require.Error(t, err, "agent 1's offer is gone")
	require.Equal(t, agents.Ready, h.state(1))
	require.Equal(t, int64(1), h.eng.Counters().InboundConnected)
}

// The policies are compared on the same callers (common random numbers):
// each queue's arrivals come from a stream of their own, so they do not
// shift with how many talk or patience draws a policy's run happened to
// make before them.
func TestInboundPoliciesSeeTheSameCallers(t *testing.T) {
	sc := blendedScenario()
	offered := map[string]int{}
	for _, pol := range InboundPolicies {
		r, err := Run(context.Background(), sc, pol, Options{Hours: 1})
		require.NoError(t, err)
		offered[pol] = r.Inbound.Offered
	}
	require.Greater(t, offered["blended"], 150)
	require.Equal(t, offered["blended"], offered["split"], "%v", offered)
	require.Equal(t, offered["blended"], offered["vicidial_no_dial"], "%v", offered)
}
