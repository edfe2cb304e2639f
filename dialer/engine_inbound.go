package dialer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pacer-dialer/pacer/agents"
)

// Inbound is the engine's view of the inbound queues its agents serve
// (package inbound's router; cmd and the simulator wire it, see
// dialer/blend). The router holds the waiting callers; the engine owns its
// agents, so an inbound call reaches an agent only through the engine: the
// engine claims a call for a READY agent, rings them, and reports what
// they did. All methods are called on the engine's goroutine and must not
// call back into the engine.
type Inbound interface {
	// Claim returns the call to offer a READY agent now, if any; the agent
	// must then be rung and Accept or Pass reported.
	Claim(agent agents.ID, now time.Time) (InboundOffer, bool)
	// Accept reports the agent took the call; false if it is gone (the
	// caller hung up): the agent is then not connected.
	Accept(leg CallID, agent agents.ID, now time.Time) bool
	// Pass reports the agent rejected the offer (or let it ring out).
	Pass(leg CallID, agent agents.ID, timeout bool, now time.Time)
	// AgentChanged reports every transition of the engine's agents.
	AgentChanged(agent agents.ID, campaign CampaignID, s agents.State, now time.Time)
	// Load is what pacing must leave free for inbound now.
	Load(campaign CampaignID, now time.Time) InboundLoad
	// Dedicated reports whether the agent takes only inbound calls.
	Dedicated(agent agents.ID) bool
}

// InboundOffer is a caller offered to an agent.
type InboundOffer struct {
	// Leg is the trunk's name for the caller's leg.
	Leg         CallID
	Queue       int64
	QueueName   string
	DID         string
	From        string
	Entered     time.Time
	RingTime    time.Duration
	RejectToDND bool
	Leads       []InboundLead
	// Request is set when the offer is a queue's callback request: the
	// agent accepts it by dialling From (DialRequest), not by a bridge.
	Request int64
	Name    string
}

// InboundLead is a lead whose number matched the caller's.
type InboundLead struct {
	Lead     LeadID
	Campaign CampaignID
	Name     string
}

// InboundLoad is what outbound pacing must leave to inbound.
type InboundLoad struct {
	// Reserve is how many READY agents pacing must not count on.
	Reserve int
	// Stop: place no outbound call now.
	Stop bool
	// Waiting is how many inbound callers (counted in Reserve) wait for
	// these agents; ArrivalsPerSec is the live rate of callers arriving.
	Waiting        int
	ArrivalsPerSec float64
}

// claimInbound offers a READY agent the best waiting inbound call of their
// queues, if any, and reports whether it did.
func (e *Engine) claimInbound(ctx context.Context, s *agentSlot) bool {
	if e.deps.Inbound == nil || s.a.State() != agents.Ready || e.stopped {
		return false
	}
	off, ok := e.deps.Inbound.Claim(s.a.ID(), e.now())
	if !ok {
		return false
	}
	s.inOffer, s.inOffered = off, true
	if err := e.applyAgent(ctx, s, agents.Event{Kind: agents.EvOffer}); err != nil {
		s.inOffered = false
		e.log.Error("ring agent with an inbound call", "agent", int64(s.a.ID()), "err", err)
		e.deps.Inbound.Pass(off.Leg, s.a.ID(), false, e.now())
		return false
	}
	e.inOffers[off.Leg] = s
	e.deps.Scheduler.Schedule(e.now().Add(off.RingTime), Timer{Kind: TimerOfferTimeout, Call: off.Leg})
	return true
}

// answerInbound ends the agent's inbound offer: accepted (the caller is
// bridged to them), rejected, or rung out.
func (e *Engine) answerInbound(ctx context.Context, s *agentSlot, ev agents.EventKind) error {
	off := s.inOffer
	id := s.a.ID()
	now := e.now()
	if ev == agents.EvAccept && off.Request != 0 {
		return fmt.Errorf("%w: callback request %d is accepted by dialling it", ErrNotAnInboundCall, off.Request)
	}
	if ev != agents.EvAccept {
		s.inOffered = false
		delete(e.inOffers, off.Leg)
		// The router first, so the call goes to the next agent and not back
		// to this one when they are READY again.
		e.deps.Inbound.Pass(off.Leg, id, ev == agents.EvRingTimeout, now)
		return e.applyAgent(ctx, s, agents.Event{Kind: ev, DND: off.RejectToDND})
	}
	if !e.deps.Inbound.Accept(off.Leg, id, now) {
		if err := e.withdrawInbound(ctx, s); err != nil {
			return err
		}
		return ErrCallerGone
	}
	s.inOffered = false
	delete(e.inOffers, off.Leg)
	if err := e.applyAgent(ctx, s, agents.Event{Kind: agents.EvAccept}); err != nil {
		return err
	}
	c := e.newCall()
	*c = Call{ID: e.nextID, Campaign: e.cfg.Campaign, Settings: e.cfg.callSettings(), leg: off.Leg,
		idx: len(e.active), Inbound: true, attached: true, Agent: id, HasAgent: true, Queue: off.Queue,
		Lead: Lead{Number: off.From}}
	// Pacer answered the caller when they entered the queue.
	c.Stamps[CallQueued], c.Stamps[CallAnsweredHuman] = off.Entered, off.Entered
	e.calls[c.leg] = c
	e.active = append(e.active, c)
	s.call = c
	s.inboundCall = true
	e.step(c, ceInbound)
	e.counters.InboundConnected++
	if err := e.deps.Trunk.Bridge(ctx, c.leg, id); err != nil {
		e.log.Error("bridge inbound call", "leg", uint64(c.leg), "agent", int64(id), "err", err)
		e.hangup(ctx, c)
		e.end(ctx, c, ceHangup, CauseBridgeFailed)
	}
	return nil
}

// withdrawInbound takes back an inbound offer still ringing the agent (the
// caller hung up, or another agent took the call): back to READY.
func (e *Engine) withdrawInbound(ctx context.Context, s *agentSlot) error {
	s.inOffered = false
	delete(e.inOffers, s.inOffer.Leg)
	if s.a.State() != agents.Ringing {
		return nil
	}
	return e.applyAgent(ctx, s, agents.Event{Kind: agents.EvCallEnd})
}

// PokeInbound is the router asking for a call to be claimed for the agent:
// if they are READY with no outbound answer waiting for them, the engine
// claims and rings them; otherwise it tells the router where they are.
func (e *Engine) PokeInbound(ctx context.Context, id agents.ID) {
	s, ok := e.agents[id]
	if !ok || e.deps.Inbound == nil {
		return
	}
	if s.a.State() != agents.Ready {
		e.deps.Inbound.AgentChanged(id, e.cfg.Campaign, s.a.State(), e.now())
		return
	}
	if len(e.waiting) > 0 && s.readyIdx >= 0 {
		e.serveWaiting(ctx) // the 2-second rule: a live outbound answer first
		if s.a.State() != agents.Ready {
			return
		}
	}
	if e.claimInbound(ctx, s) {
		e.pace(ctx)
	}
}

// WithdrawInbound takes back the agent's offer of the caller on leg, if it
// still rings them.
func (e *Engine) WithdrawInbound(ctx context.Context, id agents.ID, leg CallID) {
	s, ok := e.agents[id]
	if !ok || !s.inOffered || s.inOffer.Leg != leg {
		return
	}
	if err := e.withdrawInbound(ctx, s); err != nil {
		e.log.Error("withdraw inbound offer", "agent", int64(id), "err", err)
	}
	e.pace(ctx)
}

// InboundOffered is the inbound call ringing the agent, if any.
func (e *Engine) InboundOffered(id agents.ID) (InboundOffer, bool) {
	s, ok := e.agents[id]
	if !ok || !s.inOffered {
		return InboundOffer{}, false
	}
	return s.inOffer, true
}

// offerTimedOut runs an inbound offer's ring timer.
func (e *Engine) offerTimedOut(ctx context.Context, leg CallID) {
	s, ok := e.inOffers[leg]
	if !ok || !s.inOffered || s.inOffer.Leg != leg || s.a.State() != agents.Ringing {
		return
	}
	if e.now().Sub(s.a.StateSince()) < s.inOffer.RingTime {
		return // an earlier offer's timer: the same caller offered again since
	}
	if err := e.answerInbound(ctx, s, agents.EvRingTimeout); err != nil {
		e.log.Error("inbound offer rang out", "agent", int64(s.a.ID()), "err", err)
	}
	e.pace(ctx)
}

// DialRequest accepts the callback request ringing the agent on leg by
// dialling it to lead at once, with the agent in the call (as a manual
// dial). It fails with ErrCallerGone when the request is no longer the
// router's to give (it was withdrawn or settled elsewhere): the agent is
// then READY again.
func (e *Engine) DialRequest(ctx context.Context, id agents.ID, leg CallID, lead Lead) (CallID, error) {
	s, ok := e.agents[id]
	if !ok {
		return 0, fmt.Errorf("agent %d not in campaign %d", id, e.cfg.Campaign)
	}
	if !s.inOffered || s.inOffer.Leg != leg || s.inOffer.Request == 0 || s.a.State() != agents.Ringing {
		return 0, fmt.Errorf("agent %d: %w", id, ErrNoOffer)
	}
	if e.stopped {
		return 0, fmt.Errorf("callback request by agent %d: %w", id, ErrStopped)
	}
	if other, busy := e.inFlight[lead.ID]; busy {
		return 0, fmt.Errorf("callback request to lead %d: already in call %d", lead.ID, other)
	}
	if !e.deps.Inbound.Accept(leg, id, e.now()) {
		if err := e.withdrawInbound(ctx, s); err != nil {
			return 0, err
		}
		return 0, ErrCallerGone
	}
	s.inOffered = false
	delete(e.inOffers, leg)
	if err := e.applyAgent(ctx, s, agents.Event{Kind: agents.EvDial}); err != nil {
		return 0, err
	}
	c := e.dial(ctx, lead, s)
	if c == nil {
		e.dialNotPlaced(ctx, s)
		return 0, fmt.Errorf("callback request to lead %d: the dial failed", lead.ID)
	}
	return c.ID, nil
}

// ErrNoOffer: the agent has no callback request ringing them (it rang out,
// was withdrawn, or they answered it already).
var ErrNoOffer = errors.New("no callback request is ringing you")

// ErrNotAnInboundCall: the offer is a callback request, to be dialled.
var ErrNotAnInboundCall = errors.New("not a caller on the line")

// ErrCallerGone: the agent accepted an inbound offer whose caller had just
// hung up; the agent is READY again.
var ErrCallerGone = errors.New("the caller hung up before the call could be taken")
