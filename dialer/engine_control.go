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
	if err := do(ctx, c.ID); err != nil {
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
	if err := op(ctx, c.ID); err != nil {
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

// agentTargetOnPhones refuses another agent as a transfer or conference
// target where agents talk on phone legs of their own: the trunk would put
// the customer into that agent's leg, but the engine does not yet make the
// agent busy, so they could be given a second customer on the same line.
func (e *Engine) agentTargetOnPhones(to Target) error {
	if e.deps.Phones == nil || to.Kind != TargetAgent {
		return nil
	}
	return fmt.Errorf("%w: transfer or conference to another agent is not available on a real trunk yet; use a number", ErrTrunkRefused)
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
	if err := e.agentTargetOnPhones(to); err != nil {
		return err
	}
	if _, c, err := e.agentCall(id, call); err == nil && !c.transferTo.IsZero() {
		return fmt.Errorf("transfer on call %d: %w: a transfer to %s is under way", c.ID, ErrTrunkRefused, c.transferTo)
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
	if err := e.agentTargetOnPhones(party); err != nil {
		return err
	}
	_, c, err := e.control(ctx, id, call, ceAddParty, func(ctx context.Context, c CallID) error {
		return e.deps.Trunk.AddParty(ctx, c, party)
	})
	if err != nil {
		return err
	}
	e.step(c, ceAddParty)
	c.Party = party
	return nil
}

// Leave takes the agent out of the conference; the customer stays with the
// third party and the agent goes on to the disposition.
func (e *Engine) Leave(ctx context.Context, id agents.ID, call CallID) error {
	_, c, err := e.control(ctx, id, call, ceLeave, e.deps.Trunk.Leave)
	if err != nil {
		return err
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
