package sim

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/dialer/blend"
	"github.com/pacer-dialer/pacer/inbound"
)

// The inbound harness runs the real engine, the real router and the
// simulated carrier on the virtual clock, with agents the test scripts
// itself (no simulated agents that accept on their own) and callers it
// brings in and hangs up by hand.

// testDID is the number the harness's callers dial.
const testDID = "+18005550100"

// scriptPolicy dials what the test says: Dial calls once at the next pacing
// (the engine's tick), and, with Power, progressive pacing (one line per
// READY agent not reserved) from then on.
type scriptPolicy struct {
	Dial  int
	Power bool
}

func (p *scriptPolicy) Name() string { return "script" }

func (p *scriptPolicy) Decide(s *dialer.Snapshot) int {
	n := p.Dial
	p.Dial = 0
	if p.Power {
		n += dialer.Power{Ratio: 1}.Decide(s)
	}
	return n
}

// heldTrunk is the simulated carrier whose dials never resolve by
// themselves: the test answers them (answer) when it wants.
type heldTrunk struct {
	*Carrier
	dials []dialer.DialRequest
	// carry, when set, lets the carrier resolve dials itself (every one a
	// person answering after 5 s).
	carry bool
}

func (t *heldTrunk) Dial(ctx context.Context, req dialer.DialRequest) error {
	t.dials = append(t.dials, req)
	if t.carry {
		return t.Carrier.Dial(ctx, req)
	}
	return nil
}

type inHarness struct {
	t      *testing.T
	ctx    context.Context
	drv    *Driver
	in     *inboundSim
	router *inbound.Router
	eng    *dialer.Engine
	trunk  *heldTrunk
	pol    *scriptPolicy
	// trans is every agent transition, in order; badRings lists the
	// transitions to RINGING that did not come from READY.
	trans    []agents.Transition
	badRings []agents.Transition
}

func (h *inHarness) AppendTransition(tr agents.Transition) {
	h.trans = append(h.trans, tr)
	if tr.To == agents.Ringing && tr.From != agents.Ready {
		h.badRings = append(h.badRings, tr)
	}
}

// newInHarness starts an engine in mode with n agents logged in and READY
// (agents 1..n, READY in that order one second apart) serving one queue
// (set up by q over the test defaults) on testDID.
func newInHarness(t *testing.T, n int, mode dialer.Mode, q func(*inbound.Queue)) *inHarness {
	t.Helper()
	return newInHarnessWith(t, harnessOpts{agents: n, mode: mode, queue: q})
}

type harnessOpts struct {
	agents int
	mode   dialer.Mode
	queue  func(*inbound.Queue)
	// routing is the router's mode (Blended by default); members are the
	// queue's members (all agents when nil).
	routing inbound.Mode
	members []agents.ID
}

func newInHarnessWith(t *testing.T, o harnessOpts) *inHarness {
	t.Helper()
	n, mode, q := o.agents, o.mode, o.queue
	ctx := context.Background()
	sc := &Scenario{
		Name: "inbound-harness", Agents: n, Seed: 1,
		Campaign: Campaign{AbandonTarget: 0.03, RingTimeoutS: 30, ConnectDeadlineS: 2},
		Outcomes: []Outcome{{Kind: "human", P: 1, After: Dist{Dist: "const", Value: 5}}},
		Talk:     Dist{Dist: "const", Value: 30},
		Dispo:    Dist{Dist: "const", Value: 0},
		Inbound: &Inbound{Queues: []InboundQueue{{Name: "support",
			Talk: Dist{Dist: "const", Value: 20}, Dispo: Dist{Dist: "const", Value: 0},
			Patience: Dist{Dist: "const", Value: 1e6}, SLThresholdS: 20, SLTarget: 0.8}}},
	}
	drv := NewDriver(simStart)
	in, err := newInboundSim(sc, drv, o.routing, 1)
	require.NoError(t, err)
	cfg := inbound.Queue{ID: 1, Name: "support", SLThreshold: 20 * time.Second, SLTarget: 0.8,
		RingTime: 30 * time.Second, NoAgents: inbound.Fallback{Action: inbound.ActionWait}}
	if q != nil {
		q(&cfg)
	}
	if o.members == nil {
		for a := 1; a <= n; a++ {
			o.members = append(o.members, agents.ID(a))
		}
	}
	var members []inbound.Member
	for _, a := range o.members {
		members = append(members, inbound.Member{Queue: 1, Agent: a, Level: 1})
	}
	require.NoError(t, in.router.SetQueue(cfg, members))
	in.router.SetDID(testDID, 1)

	h := &inHarness{t: t, ctx: ctx, drv: drv, in: in, router: in.router, pol: &scriptPolicy{}}
	h.trunk = &heldTrunk{Carrier: NewCarrier(drv, sc.Seed, sc.Outcomes, sc.Talk)}
	h.trunk.in = in
	eng, err := dialer.NewEngine(dialer.Config{Campaign: 1, Mode: mode, RingTimeout: 30 * time.Second,
		ConnectDeadline: 2 * time.Second, AbandonTarget: 0.03},
		dialer.Deps{Scheduler: drv, Trunk: h.trunk, Leads: &dialer.SyntheticLeads{}, Policy: h.pol,
			AgentSink: h, Inbound: blend.Engines{R: in.router}})
	require.NoError(t, err)
	h.eng = eng
	drv.Attach(eng)
	require.NoError(t, eng.Start(ctx))
	in.start(ctx, eng) // no arrivals of its own (rate 0): the router's clock
	for i := 1; i <= n; i++ {
		require.NoError(t, eng.AddAgent(agents.ID(i), agents.Config{}))
		h.do(agents.ID(i), agents.EvLogin)
	}
	for i := 1; i <= n; i++ {
		h.do(agents.ID(i), agents.EvReady)
		h.run(time.Second)
	}
	t.Cleanup(func() {
		require.Empty(t, h.badRings, "an agent was rung from another state than READY")
	})
	return h
}

// run advances virtual time by d, delivering everything due.
func (h *inHarness) run(d time.Duration) {
	h.t.Helper()
	require.NoError(h.t, h.drv.RunUntil(h.ctx, h.drv.Now().Add(d)))
}

// do is the agent acting now; it must be accepted.
func (h *inHarness) do(id agents.ID, kind agents.EventKind) {
	h.t.Helper()
	require.NoError(h.t, h.eng.HandleAgent(h.ctx, id, agents.Event{Kind: kind}))
}

// call brings a caller in now and lets the engine react.
func (h *inHarness) call(from string) dialer.CallID {
	h.t.Helper()
	h.in.next++
	key := h.in.next
	leg := blend.Leg(key)
	h.in.callers[leg], _ = h.in.newCaller(0)
	require.NoError(h.t, h.router.Arrive(inbound.Arrival{Call: key, DID: testDID, From: from}, h.drv.Now()))
	h.run(0)
	return leg
}

// hangUp is the caller hanging up before an agent took them.
func (h *inHarness) hangUp(leg dialer.CallID) {
	h.t.Helper()
	c, ok := h.in.callers[leg]
	require.True(h.t, ok && c.waiting, "caller %d is waiting", leg)
	c.waiting = false
	delete(h.in.callers, leg)
	h.router.HungUp(blend.Key(leg), h.drv.Now())
	h.run(0)
}

// answer has the carrier answer an outbound dial (by its order) now.
func (h *inHarness) answer(i int) {
	h.t.Helper()
	require.Greater(h.t, len(h.trunk.dials), i, "dial %d was placed", i)
	h.drv.DeliverTrunk(h.drv.Now(), dialer.TrunkEvent{Call: h.trunk.dials[i].Call, Kind: dialer.TrunkAnsweredHuman})
	h.run(0)
}

func (h *inHarness) state(id agents.ID) agents.State { return h.eng.Agent(id).State() }

func (h *inHarness) requireStates(want map[agents.ID]agents.State) {
	h.t.Helper()
	got := map[agents.ID]agents.State{}
	for id := range want {
		got[id] = h.state(id)
	}
	require.Equal(h.t, fmt.Sprint(want), fmt.Sprint(got))
}

// offered is the inbound offer ringing the agent; it must be there.
func (h *inHarness) offered(id agents.ID) dialer.InboundOffer {
	h.t.Helper()
	off, ok := h.eng.InboundOffered(id)
	require.True(h.t, ok, "agent %d is offered a call (state %s)", id, h.state(id))
	require.Equal(h.t, agents.Ringing, h.state(id))
	return off
}

// events lists the kinds of the queue events of a caller.
func (h *inHarness) events(leg dialer.CallID) []inbound.EventKind {
	var out []inbound.EventKind
	for _, ev := range h.in.events {
		if ev.Call == blend.Key(leg) {
			out = append(out, ev.Kind)
		}
	}
	return out
}
