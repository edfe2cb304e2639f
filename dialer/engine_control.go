package dialer

import (
	"context"
	"errors"
	"fmt"

	"github.com/pacer-dialer/pacer/agents"
)

// The agent's controls of their bridged call. Each names the call it means
// (0: whichever call the agent is on), is checked against the call table
// first, then carried out by the trunk, and only when the trunk has done it
// does the call (and, for hold, the agent) change: a refusal from either
// leaves everything as it was. The engine owns the outcome: whether the call
// is held, muted or a conference is the Call's, and the workspace reads it
// back through AgentView.

// agentCall finds the agent's open call; call 0 matches whichever it is.
func (e *Engine) agentCall(id agents.ID, call CallID) (*agentSlot, *Call, error) {
	s, ok := e.agents[id]
	if !ok {
		return nil, nil, fmt.Errorf("agent %d, campaign %d: %w", id, e.cfg.Campaign, ErrAgentNotInCampaign)
	}
	if s.call == nil || (call != 0 && s.call.ID != call) {
		return s, nil, fmt.Errorf("agent %d: %w", id, ErrNoCall)
	}
	if err := s.call.guestRefusal(); err != nil {
		return s, nil, err
	}
	return s, s.call, nil
}

// control checks ev against the agent's call and asks the trunk to do it.
func (e *Engine) control(ctx context.Context, id agents.ID, call CallID, ev callEvent,
	do func(ctx context.Context, c CallID) error) (*agentSlot, *Call, error) {
	s, c, err := e.agentCall(id, call)
	if err != nil {
		return nil, nil, err
	}
	if err := c.can(ev); err != nil {
		return nil, nil, err
	}
	if err := do(ctx, c.leg); err != nil {
		return nil, nil, fmt.Errorf("%s on call %d: %w", ev, c.ID, err)
	}
	return s, c, nil
}

// Hold puts the customer on hold (re-INVITE a=sendonly, music on the
// customer leg); the agent's hold time starts.
func (e *Engine) Hold(ctx context.Context, id agents.ID, call CallID) error {
	return e.holdOrResume(ctx, id, call, agents.Event{Kind: agents.EvHold})
}

// Resume takes the customer off hold.
func (e *Engine) Resume(ctx context.Context, id agents.ID, call CallID) error {
	return e.holdOrResume(ctx, id, call, agents.Event{Kind: agents.EvResume})
}

func (e *Engine) holdOrResume(ctx context.Context, id agents.ID, call CallID, ev agents.Event) error {
	ce, op := ceHold, e.deps.Trunk.Hold
	if ev.Kind == agents.EvResume {
		ce, op = ceResume, e.deps.Trunk.Resume
	}
	s, c, err := e.agentCall(id, call)
	if err != nil {
		if s != nil && s.a.State() != agents.InCall {
			if _, aerr := s.a.Peek(ev); aerr != nil {
				return aerr // not in a call at all: the agent's machine says why
			}
		}
		return err
	}
	if err := c.can(ce); err != nil {
		return err
	}
	if _, err := s.a.Peek(ev); err != nil {
		return err
	}
	if err := op(ctx, c.leg); err != nil {
		return fmt.Errorf("%s on call %d: %w", ce, c.ID, err)
	}
	if err := e.applyAgent(ctx, s, ev); err != nil {
		return err
	}
	e.step(c, ce)
	return nil
}

// Mute stops relaying the agent's audio to the customer.
func (e *Engine) Mute(ctx context.Context, id agents.ID, call CallID) error {
	_, c, err := e.control(ctx, id, call, ceMute, e.deps.Trunk.Mute)
	if err != nil {
		return err
	}
	e.step(c, ceMute)
	return nil
}

// Unmute relays the agent's audio to the customer again.
func (e *Engine) Unmute(ctx context.Context, id agents.ID, call CallID) error {
	_, c, err := e.control(ctx, id, call, ceUnmute, e.deps.Trunk.Unmute)
	if err != nil {
		return err
	}
	e.step(c, ceUnmute)
	return nil
}

// SendDTMF sends keypad digits to the customer (RFC 4733).
func (e *Engine) SendDTMF(ctx context.Context, id agents.ID, call CallID, digits Digits) error {
	if _, err := ParseDigits(string(digits)); err != nil {
		return err
	}
	_, c, err := e.control(ctx, id, call, ceDTMF, func(ctx context.Context, c CallID) error {
		return e.deps.Trunk.SendDTMF(ctx, c, digits)
	})
	if err != nil {
		return err
	}
	e.step(c, ceDTMF)
	return nil
}

// checkTarget refuses a target the trunk could not reach, or the agent
// themself.
func checkTarget(id agents.ID, to Target) error {
	if err := to.Validate(); err != nil {
		return err
	}
	if to.Kind == TargetAgent && to.Agent == id {
		return fmt.Errorf("%w: agent %d cannot transfer to or conference themself", ErrBadControl, id)
	}
	return nil
}

// ErrTargetUnavailable: the agent a transfer or conference names cannot
// take the customer now (not in this campaign, or not READY).
var ErrTargetUnavailable = errors.New("the agent you chose cannot take the customer")

// readyTarget is the agent of this campaign a transfer or conference to
// another agent hands the customer to: they must be READY here (their own
// phone up), since the customer goes straight into their line and they
// are busy from then on, with the call theirs to disposition.
func (e *Engine) readyTarget(to Target) (*agentSlot, error) {
	b, ok := e.agents[to.Agent]
	if !ok || b.a.State() == agents.LoggedOut {
		// Said to the agent who chose them: no internal ids.
		return nil, fmt.Errorf("%w: they are not working in this campaign", ErrTargetUnavailable)
	}
	if b.a.State() != agents.Ready || e.phoneDown(b) {
		return nil, fmt.Errorf("%w: they are %s, not READY", ErrTargetUnavailable, b.a.State())
	}
	if e.outOfIDs() {
		return nil, fmt.Errorf("%w: this run of the campaign has used all its call ids", ErrTargetUnavailable)
	}
	return b, nil
}

// handOn gives the customer of call from to agent b (READY; the trunk has
// already put the customer on b's line): b is connected, on a call of
// their own that shares from's trunk leg and carries from's lead, in state
// (connected after a transfer, conference while b is a guest in one).
func (e *Engine) handOn(ctx context.Context, from *Call, b *agentSlot, state CallState) *Call {
	if err := e.applyAgent(ctx, b, agents.Event{Kind: agents.EvConnect}); err != nil {
		// b was READY a moment ago on this goroutine: nothing can refuse.
		e.log.Error("connect transfer target", "agent", int64(b.a.ID()), "err", err)
	}
	c := e.newCall()
	now := e.now()
	*c = Call{ID: e.nextID, Campaign: from.Campaign, Lead: from.Lead, Settings: from.Settings, State: state,
		Agent: b.a.ID(), HasAgent: true, TransferredFrom: from.ID, leg: from.leg, idx: len(e.active),
		attached: from.attached, Inbound: from.Inbound, Queue: from.Queue}
	// The customer's call was dialled and answered once: the new call keeps
	// when, and is connected (to b) from now.
	for st := CallQueued; st <= CallAnsweredHuman; st++ {
		c.Stamps[st] = from.Stamps[st]
	}
	c.Stamps[CallConnected] = now
	c.Stamps[state] = now
	e.active = append(e.active, c)
	b.call = c
	if e.deps.Watcher != nil {
		e.deps.Watcher.CallProgressed(c)
	}
	e.callChanged(c, CallAnsweredHuman, ceConnect)
	return c
}

// takeOver makes c the call that has its customer's leg and lead.
func (e *Engine) takeOver(c *Call) {
	c.noLead = false
	e.calls[c.leg] = c
	if c.Lead.ID != 0 {
		e.inFlight[c.Lead.ID] = c.ID
	}
}

// Transfer hands the customer to the target (blind transfer: REFER, or a
// new leg bridged to the customer's) and ends the agent's part: the call is
// completed, and the agent goes on to its disposition.
//
// A trunk that must first reach the target (a number) answers
// ErrTransferPending: the agent keeps the call until the target answers
// (TrunkTransferAnswered ends the agent's part then) or does not
// (TrunkTransferFailed: the agent still has the customer, and is told).
func (e *Engine) Transfer(ctx context.Context, id agents.ID, call CallID, to Target) error {
	if err := checkTarget(id, to); err != nil {
		return err
	}
	if _, c, err := e.agentCall(id, call); err == nil && !c.transferTo.IsZero() {
		return fmt.Errorf("transfer on call %d: %w: a transfer to %s is under way", c.ID, ErrTrunkRefused, c.transferTo)
	}
	if to.Kind == TargetAgent {
		return e.transferToAgent(ctx, id, call, to)
	}
	pending := false
	_, c, err := e.control(ctx, id, call, ceTransfer, func(ctx context.Context, c CallID) error {
		err := e.deps.Trunk.Transfer(ctx, c, to)
		if errors.Is(err, ErrTransferPending) {
			pending, err = true, nil
		}
		return err
	})
	if err != nil {
		return err
	}
	if pending {
		c.transferTo = to
		return nil
	}
	e.end(ctx, c, ceTransfer, transferredCause(to))
	e.pace(ctx)
	return nil
}

// transferToAgent hands the customer to another READY agent of the
// campaign: the trunk puts the customer on their line, they get a call of
// their own (with the lead, theirs to disposition), and the transferring
// agent's call ends into its disposition without the lead.
func (e *Engine) transferToAgent(ctx context.Context, id agents.ID, call CallID, to Target) error {
	_, c, err := e.agentCall(id, call)
	if err != nil {
		return err
	}
	if err := c.can(ceTransfer); err != nil {
		return err
	}
	b, err := e.readyTarget(to)
	if err != nil {
		return err
	}
	if err := e.deps.Trunk.Transfer(ctx, c.leg, to); err != nil {
		return fmt.Errorf("%s on call %d: %w", ceTransfer, c.ID, err)
	}
	next := e.handOn(ctx, c, b, CallConnected)
	e.takeOver(next)
	c.noLead = true
	e.end(ctx, c, ceTransfer, transferredCause(to))
	e.pace(ctx)
	return nil
}

// transferDone ends a transfer the trunk finished later.
func (e *Engine) transferDone(ctx context.Context, c *Call, ev TrunkEvent) {
	to := c.transferTo
	if to.IsZero() {
		return
	}
	c.transferTo = Target{}
	if ev.Kind == TrunkTransferAnswered {
		if c.can(ceTransfer) == nil {
			e.end(ctx, c, ceTransfer, transferredCause(to))
		}
		return
	}
	if e.deps.Changes != nil && c.HasAgent {
		e.deps.Changes.CallChanged(CallChange{Call: c.ID, Lead: c.Lead.ID, Number: c.Lead.Number, Agent: c.Agent,
			State: c.State, Muted: c.Muted, At: e.now(),
			Notice: fmt.Sprintf("Transfer to %s not answered (%s): you still have the customer.", to, ev.Cause)})
	}
}

// AddParty brings a third party into the call (the first half of a warm
// transfer): customer, agent and party hear each other.
func (e *Engine) AddParty(ctx context.Context, id agents.ID, call CallID, party Target) error {
	if err := checkTarget(id, party); err != nil {
		return err
	}
	var b *agentSlot
	_, c, err := e.control(ctx, id, call, ceAddParty, func(ctx context.Context, c CallID) error {
		if party.Kind == TargetAgent {
			var err error
			if b, err = e.readyTarget(party); err != nil {
				return err
			}
		}
		return e.deps.Trunk.AddParty(ctx, c, party)
	})
	if err != nil {
		return err
	}
	e.step(c, ceAddParty)
	c.Party = party
	if b != nil {
		// The agent joins as the host's guest: busy, on a call of their own
		// that ends with the host's unless the host leaves it to them.
		g := e.handOn(ctx, c, b, CallConference)
		g.noLead, g.Party = true, AgentTarget(id)
		c.partner, g.partner = g, c
	}
	return nil
}

// Leave takes the agent out of the conference; the customer stays with the
// third party and the agent goes on to the disposition.
func (e *Engine) Leave(ctx context.Context, id agents.ID, call CallID) error {
	if _, c, err := e.agentCall(id, call); err == nil && c.Party.Kind == TargetAgent && c.partner == nil {
		// Said to the host as it is: no internal ids.
		return fmt.Errorf("leave call %d: %w: the other agent has left the conference; hang up or go on talking",
			c.ID, ErrTrunkRefused)
	}
	_, c, err := e.control(ctx, id, call, ceLeave, e.deps.Trunk.Leave)
	if err != nil {
		return err
	}
	if g := c.partner; g != nil {
		// The guest agent has the customer to themself now, and the lead.
		c.partner, g.partner = nil, nil
		e.takeOver(g)
		g.Party = Target{}
		e.step(g, ceTakeOver)
		c.noLead = true
	}
	e.end(ctx, c, ceLeave, CauseLeftConference)
	e.pace(ctx)
	return nil
}

// AgentCall returns a copy of the agent's open call (state, mute, conference
// party), if they have one.
func (e *Engine) AgentCall(id agents.ID) (Call, bool) {
	s, ok := e.agents[id]
	if !ok || s.call == nil {
		return Call{}, false
	}
	return *s.call, true
}
