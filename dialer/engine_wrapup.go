package dialer

import (
	"context"
	"fmt"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
)

// A call an agent talked on does not end when the customer's leg does: it
// waits in wrap-up (CallWrapUp), holding its lead, until the agent's
// disposition settles it (Dispose), or AUTO does when the agent leaves it
// (logout, session lost, shutdown). The engine tells its CallWatcher of each
// call's progress and of each settlement, and the watcher writes them
// through; nothing outside the engine keeps a copy of a call's state.

// CallWatcher follows calls as the engine moves them, on the engine's
// goroutine; it must not call back into the engine.
type CallWatcher interface {
	// CallProgressed: the call reached c.State (dialing, ringing, answered
	// by a person or a machine, or first connected to an agent).
	CallProgressed(c *Call)
	// CallSettled: a call in wrap-up was settled by its agent's
	// disposition, or by AUTO when the agent left it; the watcher completes
	// its lead with the code unless s.Saved.
	CallSettled(ctx context.Context, s *Settlement)
}

// Disposal is an agent's disposition as it settles their call in wrap-up.
type Disposal struct {
	Code string
	// Saved: the caller has already written the disposition (call record,
	// lead, agent event) in one transaction; nothing is left to write.
	Saved bool
}

// Settlement is how a call in wrap-up was settled.
type Settlement struct {
	Call  CallID
	Lead  LeadID
	Agent agents.ID
	Code  string
	Saved bool
	// Left: the agent left the call without a disposition (logout, session
	// lost, shutdown): the code is campaigns.DispoAuto.
	Left bool
	// NoLead: the call handed its customer on to another agent (or was a
	// guest's part of a conference); its settlement does not complete the
	// lead.
	NoLead bool
	// Attached is the lead attached to an inbound caller's call (NoLead
	// is then set): its settlement applies the disposition to it without
	// counting an attempt. 0: none.
	Attached LeadID
	// Transition is the agent's move that settled it; its Call holds the
	// call's talk, hold and dispo time (nil if the agent had none open).
	Transition agents.Transition
}

// progressed reports whether from → to is a step of a call's progress a
// watcher is told of: a resume from hold is not a new connect.
func progressed(from, to CallState) bool {
	switch to {
	case CallDialing, CallAnsweredHuman, CallAnsweredMachine:
		return true
	case CallRinging:
		return from == CallDialing
	case CallConnected:
		// An inbound caller's call starts connected.
		return from == CallAnsweredHuman || from == CallQueued
	}
	return false
}

// settle ends a call in wrap-up with its agent's disposal d, or AUTO when
// d is nil (the agent left it without one).
func (e *Engine) settle(ctx context.Context, c *Call, s *agentSlot, tr agents.Transition, d *Disposal) {
	st := Settlement{Call: c.ID, Lead: c.Lead.ID, Agent: c.Agent, Transition: tr, NoLead: !c.holdsLead(),
		Attached: c.attachedLead()}
	if d != nil {
		st.Code, st.Saved = d.Code, d.Saved
	} else {
		st.Code, st.Left = campaigns.DispoAuto, true
	}
	if s != nil && s.wrap == c {
		s.wrap = nil
		s.settled = c.ID
	}
	e.step(c, ceSettle)
	if e.deps.Watcher != nil {
		e.deps.Watcher.CallSettled(ctx, &st)
	}
	e.release(c)
}

// Dispose saves the agent's disposition: ev (EvDispoSaved, or
// EvWrapupTimeout at the wrap-up limit) moves them out of DISPO, and the
// call in wrap-up, if any, is settled with d.
func (e *Engine) Dispose(ctx context.Context, id agents.ID, ev agents.Event, d Disposal) error {
	s, ok := e.agents[id]
	if !ok {
		return fmt.Errorf("agent %d, campaign %d: %w", id, e.cfg.Campaign, ErrAgentNotInCampaign)
	}
	if ev.Kind != agents.EvDispoSaved && ev.Kind != agents.EvWrapupTimeout {
		return fmt.Errorf("agent %d: %s is not a disposition", id, ev.Kind)
	}
	if err := e.applyAgentDisposal(ctx, s, ev, &d); err != nil {
		return err
	}
	e.pace(ctx)
	return nil
}

// dispositionCall is the call the agent's disposition is for: the one they
// are talking on (connected, held, conference) or the one in wrap-up.
func (e *Engine) dispositionCall(id agents.ID) *Call {
	s, ok := e.agents[id]
	switch {
	case !ok:
		return nil
	case s.wrap != nil:
		return s.wrap
	case s.call != nil && s.call.State >= CallConnected:
		return s.call
	}
	return nil
}

// settledCall is the last call the agent's disposition settled (0: none
// since login).
func (e *Engine) settledCall(id agents.ID) CallID {
	if s, ok := e.agents[id]; ok {
		return s.settled
	}
	return 0
}
