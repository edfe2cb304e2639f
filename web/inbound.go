package web

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/inbound"
)

// Inbound is this node's live inbound side as web sees it: cmd/pacer
// implements it over the router. Queue settings and the queue event log are
// read and written through package inbound's stores (like campaigns'); only
// what lives in the router's memory comes through here.
type Inbound interface {
	// Reload pushes the stored queues, numbers and members to the router
	// at once; callers waiting keep their places.
	Reload(ctx context.Context) error
	// Now is every queue as the router holds it: callers waiting, the
	// longest wait, members READY.
	Now(now time.Time) []inbound.QueueNow
	// Load is what blended pacing keeps free for inbound among a
	// campaign's agents now (the reserve) and the callers waiting for them.
	Load(campaign campaigns.ID, now time.Time) inbound.Load
	// LeaveForCallback turns a caller waiting on this node into a
	// callback request that keeps their place (inbound.ErrNotWaiting: no
	// such caller waits here; inbound.ErrNoCallback: their queue does not
	// take requests).
	LeaveForCallback(call inbound.CallKey, now time.Time) error
	// NewRequest stores a queue callback request made through the API
	// (its place: now) and has this node's router hold it.
	NewRequest(ctx context.Context, p inbound.LeftRequest) (inbound.CallbackRequest, error)
}

func (s *Server) queueStore() *inbound.QueueStore { return inbound.NewQueueStore(s.db) }

func (s *Server) eventStore() *inbound.EventStore { return inbound.NewEventStore(s.db) }

// reloadInbound applies a stored queue change to the router at once. The
// change is already stored: a router that refuses it is logged (the next
// periodic reload tries again) and the answer still says it was saved.
func (s *Server) reloadInbound(c *fiber.Ctx, what string) {
	if s.inbound == nil {
		return
	}
	if err := s.inbound.Reload(c.UserContext()); err != nil {
		s.log.Error("queue change saved but not applied to the router", "change", what, "err", err)
	}
}
