package dialer

import (
	"context"
	"strings"
	"time"

	"github.com/pacer-dialer/pacer/agents"
)

// An agent's own dial (the preview on their screen, a manual or callback
// dial) keeps the agent DIALING until the customer answers: then the agent
// is in the call (talk starts) and the call is bridged. A dial nobody
// answers (busy, no answer, machine, failed) ends with the engine's outcome
// on the lead, like any unanswered call, and the agent goes back to READY
// (or the next preview) with nothing to disposition.

// skippedRecheck is how long an agent whose only due lead is one they just
// skipped waits before the hopper is asked again for them.
const skippedRecheck = 5 * time.Second

// answerOffer ends the agent's preview offer with ev: accept dials it (the
// agent is DIALING), reject skips it (skip: counted against the agent and
// kept from them for PreviewSkipHold) or withdraws it (!skip: back to the
// hopper as it was).
func (e *Engine) answerOffer(ctx context.Context, s *agentSlot, ev agents.Event, skip bool) error {
	offer := s.offer
	if ev.Kind == agents.EvAccept {
		ev.Kind = agents.EvDial
	}
	if err := e.applyAgent(ctx, s, ev); err != nil {
		return err
	}
	if s.a.State() == agents.Ringing || !s.offered {
		return nil // still offered, or a logout already gave the lead back
	}
	s.offered = false
	switch {
	case ev.Kind == agents.EvDial:
		if e.dial(ctx, offer, s) == nil {
			e.dialNotPlaced(ctx, s)
		}
	case ev.Kind == agents.EvReject && skip:
		e.skip(ctx, s, offer)
	default:
		if err := e.deps.Leads.Release(ctx, offer.ID); err != nil {
			e.log.Error("release preview lead", "lead", int64(offer.ID), "err", err)
		}
	}
	return nil
}

// dialNotPlaced returns an agent whose dial could not even be placed to
// READY (a call that failed at the trunk has done so already).
func (e *Engine) dialNotPlaced(ctx context.Context, s *agentSlot) {
	if s.a.State() != agents.Dialing {
		return
	}
	if err := e.applyAgent(ctx, s, agents.Event{Kind: agents.EvUnanswered}); err != nil {
		e.log.Error("agent's dial not placed", "agent", int64(s.a.ID()), "err", err)
	}
}

// skip gives a skipped preview back to the hopper, counted, and keeps it
// from the agent for the campaign's hold.
func (e *Engine) skip(ctx context.Context, s *agentSlot, lead Lead) {
	if err := e.deps.Leads.Skip(ctx, lead.ID, s.a.ID()); err != nil {
		e.log.Error("skip preview lead", "lead", int64(lead.ID), "err", err)
	}
	if e.cfg.PreviewSkipHold <= 0 {
		return
	}
	now := e.now()
	if s.skipped == nil {
		s.skipped = map[LeadID]time.Time{}
	}
	for id, until := range s.skipped {
		if !now.Before(until) {
			delete(s.skipped, id)
		}
	}
	s.skipped[lead.ID] = now.Add(e.cfg.PreviewSkipHold)
}

// heldBack reports whether lead is one the agent skipped within the hold.
func (s *agentSlot) heldBack(lead LeadID, now time.Time) bool {
	until, ok := s.skipped[lead]
	return ok && now.Before(until)
}

// CallChange is a change of a call an agent has on their screen (their own
// dial, or a call connected to them): its new state, and once it ended its
// outcome. The workspace follows its call by these.
type CallChange struct {
	Call    CallID
	Lead    LeadID
	Number  string
	Agent   agents.ID
	State   CallState
	Outcome Outcome
	Muted   bool
	// Digit, when set, is a key the customer pressed: the call itself did
	// not change.
	Digit rune
	// Notice, when set, is news for the agent about the call that changes
	// nothing (a transfer the target did not answer).
	Notice string
	At     time.Time
}

// CallChanges receives every change of a call that has an agent, on the
// engine's goroutine; it must not block.
type CallChanges interface {
	CallChanged(ch CallChange)
}

// customerDTMF shows the agent a key the customer pressed on their call.
func (e *Engine) customerDTMF(c *Call, digit rune) {
	if e.deps.Changes == nil || !c.HasAgent || !strings.ContainsRune("0123456789*#ABCD", digit) {
		return
	}
	e.deps.Changes.CallChanged(CallChange{Call: c.ID, Lead: c.Lead.ID, Number: c.Lead.Number, Agent: c.Agent,
		State: c.State, Muted: c.Muted, Digit: digit, At: e.now()})
}

// callChanged tells Deps.Changes of a change of an agent's call.
func (e *Engine) callChanged(c *Call, from CallState, ev callEvent) {
	if e.deps.Changes == nil || !c.HasAgent || (from == c.State && ev != ceMute && ev != ceUnmute) {
		return
	}
	e.deps.Changes.CallChanged(CallChange{Call: c.ID, Lead: c.Lead.ID, Number: c.Lead.Number, Agent: c.Agent,
		State: c.State, Outcome: c.Outcome, Muted: c.Muted, At: e.now()})
}
