package dialer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pacer-dialer/pacer/agents"
)

// InboundTaker is implemented by an Inbound whose queues let agents take a
// waiting caller from the queue panel.
type InboundTaker interface {
	Take(agent agents.ID, leg CallID, now time.Time) (InboundOffer, error)
}

// ErrNotReady: the agent must be READY for what they asked.
var ErrNotReady = errors.New("agent not READY")

// TakeInbound gives a READY agent the waiting caller on leg they picked
// from the queue panel: the caller is offered and accepted at once.
func (e *Engine) TakeInbound(ctx context.Context, id agents.ID, leg CallID) error {
	s, ok := e.agents[id]
	if !ok {
		return fmt.Errorf("agent %d, campaign %d: %w", id, e.cfg.Campaign, ErrAgentNotInCampaign)
	}
	taker, ok := e.deps.Inbound.(InboundTaker)
	if !ok {
		return fmt.Errorf("%w: no inbound queues here", ErrTrunkRefused)
	}
	if st := s.a.State(); st != agents.Ready {
		return fmt.Errorf("%w: you are %s: only a READY agent can take a call", ErrNotReady, st)
	}
	off, err := taker.Take(id, leg, e.now())
	if err != nil {
		return err
	}
	s.inOffer, s.inOffered = off, true
	if err := e.applyAgent(ctx, s, agents.Event{Kind: agents.EvOffer}); err != nil {
		s.inOffered = false
		e.deps.Inbound.Pass(off.Leg, id, false, e.now())
		return err
	}
	e.inOffers[off.Leg] = s
	err = e.answerInbound(ctx, s, agents.EvAccept)
	e.pace(ctx)
	return err
}
