package dialer

import (
	"context"
	"fmt"

	"github.com/pacer-dialer/pacer/agents"
)

// PriorityOffers is where an agent's own work comes from (a callback due for
// them): asked when the agent becomes READY, before the agent joins the
// ready queue, so it goes ahead of new predictive calls. A live answer
// already waiting for an agent still comes first (it would be abandoned). It
// is called on the engine's goroutine and may claim the lead.
type PriorityOffers interface {
	OfferFor(ctx context.Context, agent agents.ID) (Lead, bool)
}

// offerOwn offers a READY agent their own lead, if any, as a preview
// (RINGING; accept dials it with the agent on the line, reject releases it
// through the lead source). It reports whether the agent took an offer.
func (e *Engine) offerOwn(ctx context.Context, s *agentSlot) bool {
	if e.deps.Offers == nil || len(e.waiting) > 0 || e.stopped {
		return false
	}
	lead, ok := e.deps.Offers.OfferFor(ctx, s.a.ID())
	if !ok {
		return false
	}
	if err := e.offer(ctx, s, lead); err != nil {
		e.log.Error("offer agent their lead", "agent", int64(s.a.ID()), "lead", int64(lead.ID), "err", err)
		return s.a.State() != agents.Ready
	}
	return true
}

// OfferLead offers a lead to a READY agent as a preview call (a callback
// that fell due while they were already waiting). On refusal the lead is not
// released: it is the caller's.
func (e *Engine) OfferLead(ctx context.Context, id agents.ID, lead Lead) error {
	s, ok := e.agents[id]
	if !ok {
		return fmt.Errorf("agent %d not in campaign %d", id, e.cfg.Campaign)
	}
	if s.a.State() != agents.Ready {
		return fmt.Errorf("offer to agent %d: agent is %s, not READY", id, s.a.State())
	}
	if e.stopped {
		return fmt.Errorf("offer to agent %d: %w", id, ErrStopped)
	}
	return e.offer(ctx, s, lead)
}

// WithdrawOffers takes back every preview offer still ringing (the node is
// draining): the agents go back to READY and the leads to the hopper or
// their callbacks, undialled.
func (e *Engine) WithdrawOffers(ctx context.Context) {
	for _, s := range e.agentList {
		if s.offered && s.a.State() == agents.Ringing {
			if err := e.answerOffer(ctx, s, agents.Event{Kind: agents.EvReject}, false); err != nil {
				e.log.Error("withdraw preview offer", "agent", int64(s.a.ID()), "err", err)
			}
		}
	}
}

func (e *Engine) offer(ctx context.Context, s *agentSlot, lead Lead) error {
	if _, busy := e.inFlight[lead.ID]; busy {
		return fmt.Errorf("lead %d is already in a call", lead.ID)
	}
	s.offer, s.offered = lead, true
	if err := e.applyAgent(ctx, s, agents.Event{Kind: agents.EvOffer}); err != nil {
		s.offered = false
		return err
	}
	return nil
}
