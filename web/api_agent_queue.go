package web

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/inbound"
)

// The queue panel: the callers waiting in the queues an agent serves, and
// taking one of them ahead of the order where the queue allows it. Both
// go to the node running the agent's campaign (Engine.Waiting,
// Engine.TakeInbound), whose router holds the callers its engine can
// bridge to the agent.

// queueCaller is one waiting caller as the panel shows it.
type queueCaller struct {
	Call      string    `json:"call_id"`
	Queue     int64     `json:"queue_id"`
	QueueName string    `json:"queue"`
	From      string    `json:"from"`
	DID       string    `json:"did"`
	LeadName  string    `json:"lead_name"`
	Leads     int       `json:"leads"`
	Entered   time.Time `json:"entered"`
	WaitS     float64   `json:"wait_s"`
	Ringing   []string  `json:"ringing"`
	CanTake   bool      `json:"can_take"`
	WhyNot    string    `json:"why_not,omitempty"`
	// Callback: a callback request the caller left, waiting at their place
	// (nobody on the line).
	Callback bool `json:"callback"`
}

// apiAgentQueue lists the callers waiting in the agent's queues, longest
// waiting first: by entry time, the wait a caller feels, not by the
// router's place order (which ages priorities), so the panel reads like a
// clock; each says whether this agent may take it and, if not, why.
func (s *Server) apiAgentQueue(c *fiber.Ctx) error {
	if err := s.needEngine(); err != nil {
		return err
	}
	agent := sessionOf(c).User.ID
	campaign, ok := s.agentCampaignOf(agent)
	if !ok {
		return apiError(fiber.StatusConflict, "you are not logged in to a campaign: press Ready or Pause to see your queues")
	}
	ctx := c.UserContext()
	ws, err := s.engine.Waiting(ctx, campaigns.ID(campaign), agents.ID(agent))
	if err != nil {
		return engineError(err)
	}
	var ids []int64
	for _, w := range ws {
		for _, a := range w.Ringing {
			ids = append(ids, int64(a))
		}
	}
	names := map[int64]string{}
	if len(ids) > 0 && s.db != nil {
		if names, err = s.userNames(ctx, ids); err != nil {
			return err
		}
	}
	slices.SortStableFunc(ws, func(a, b WaitingCaller) int { return a.Entered.Compare(b.Entered) })
	now := s.clock.Now()
	out := make([]queueCaller, len(ws))
	for i, w := range ws {
		q := queueCaller{Call: strconv.FormatUint(uint64(w.Call), 10), Queue: w.Queue, QueueName: w.QueueName,
			From: w.From, DID: w.DID, Leads: len(w.Leads), Entered: w.Entered,
			WaitS: max(0, now.Sub(w.Entered).Seconds()), Ringing: []string{}}
		if len(w.Leads) == 1 {
			q.LeadName = w.Leads[0].Name
		}
		if w.RequestID != 0 {
			q.Callback, q.LeadName = true, w.Name
		}
		for _, a := range w.Ringing {
			name := names[int64(a)]
			if name == "" {
				name = "agent " + strconv.FormatInt(int64(a), 10)
			}
			q.Ringing = append(q.Ringing, name)
		}
		switch {
		case w.RequestID != 0:
			q.WhyNot = "a callback request: it is offered to an agent to dial when its turn comes"
		case !w.AllowTake:
			q.WhyNot = "this queue does not allow taking"
		case w.CannotCarry:
			q.WhyNot = "your campaign's line cannot carry this caller"
		case len(w.Ringing) > 0:
			q.WhyNot = "ringing " + strings.Join(q.Ringing, ", ")
		default:
			q.CanTake = true
		}
		out[i] = q
	}
	return c.JSON(fiber.Map{"order": "longest_wait", "callers": out, "now": now})
}

type queueTakeRequest struct {
	// Call is the caller's call_id from the panel, as a string: the ids
	// are above 2^53, which a JSON number in a browser cannot hold.
	Call string `json:"call"`
}

// apiAgentQueueTake gives the READY agent the waiting caller they picked:
// the engine offers it and accepts it at once, so the agent is INCALL.
func (s *Server) apiAgentQueueTake(c *fiber.Ctx) error {
	if err := s.needEngine(); err != nil {
		return err
	}
	var req queueTakeRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if req.Call == "" {
		return apiError(fiber.StatusBadRequest, `"call" (the call_id of a waiting caller, as a string) is required`)
	}
	call, err := strconv.ParseUint(req.Call, 10, 64)
	if err != nil || call == 0 {
		return apiError(fiber.StatusBadRequest, "call %q is not a call id", req.Call)
	}
	agent := sessionOf(c).User.ID
	if err := s.staleTab(c, agent); err != nil {
		return err
	}
	campaign, ok := s.agentCampaignOf(agent)
	if !ok {
		return apiError(fiber.StatusConflict, "you are not logged in to a campaign: press Ready first")
	}
	ctx := c.UserContext()
	err = s.engine.TakeInbound(ctx, campaigns.ID(campaign), agents.ID(agent), CallID(call))
	switch {
	case err == nil:
		if err := s.attachOnlyMatch(c, campaign, agent); err != nil {
			return err
		}
		return s.apiAgentState(c)
	case errors.Is(err, ErrNotWaiting):
		// The router forgets a caller once they leave; the queue event
		// log, across nodes, tells a caller who was here from a number
		// that never called.
		if s.db == nil {
			return apiError(fiber.StatusConflict, "the caller is no longer waiting")
		}
		evs, lerr := s.eventStore().OfCall(ctx, inbound.CallKey(call))
		if lerr != nil {
			return lerr
		}
		if len(evs) == 0 {
			return apiError(fiber.StatusNotFound, "no caller %d has waited in a queue", call)
		}
		return apiError(fiber.StatusConflict, "the caller is no longer waiting (answered, hung up or sent on)")
	case errors.Is(err, ErrNotReady):
		if v, verr := s.engine.Agent(ctx, campaigns.ID(campaign), agents.ID(agent)); verr == nil {
			return apiError(fiber.StatusConflict, "you are %s: only a READY agent can take a call", v.State)
		}
		return apiError(fiber.StatusConflict, "only a READY agent can take a call")
	}
	return engineError(asConflict(err))
}
