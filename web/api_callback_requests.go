package web

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/inbound"
)

// apiCallbackRequests lists inbound callers' callback requests with the
// counts by state.
func (s *Server) apiCallbackRequests(c *fiber.Ctx) error {
	var statuses []inbound.RequestStatus
	if q := strings.TrimSpace(c.Query("status")); q != "" {
		for _, p := range strings.Split(q, ",") {
			st := inbound.RequestStatus(strings.ToLower(strings.TrimSpace(p)))
			known := false
			for _, k := range inbound.RequestStatuses() {
				known = known || k == st
			}
			if !known {
				return apiError(fiber.StatusBadRequest, "unknown callback request status %q", p)
			}
			statuses = append(statuses, st)
		}
	}
	campaign := campaigns.ID(c.QueryInt("campaign_id"))
	ctx := c.UserContext()
	list, err := inbound.ListRequests(ctx, s.db, inbound.RequestFilter{Campaign: campaign, Statuses: statuses})
	if err != nil {
		return err
	}
	counts, err := inbound.CountRequests(ctx, s.db, campaign)
	if err != nil {
		return err
	}
	if list == nil {
		list = []inbound.CallbackRequest{}
	}
	return c.JSON(fiber.Map{"requests": list, "counts": counts})
}

type requestStatusBody struct {
	Status string `json:"status"`
}

// apiCallbackRequestStatus moves a callback request: answered, unanswered or
// closed, or an unanswered one back to pending.
func (s *Server) apiCallbackRequestStatus(c *fiber.Ctx) error {
	id, err := c.ParamsInt("id")
	if err != nil || id <= 0 {
		return apiError(fiber.StatusBadRequest, "bad callback request id")
	}
	var body requestStatusBody
	if err := decodeBody(c, &body); err != nil {
		return err
	}
	to := inbound.RequestStatus(strings.ToLower(strings.TrimSpace(body.Status)))
	known := false
	for _, k := range inbound.RequestStatuses() {
		known = known || k == to
	}
	if !known {
		return apiError(fiber.StatusBadRequest, "unknown callback request status %q", body.Status)
	}
	r, err := inbound.SetRequestStatus(c.UserContext(), s.db, inbound.RequestID(id), to, sessionOf(c).User.ID, s.clock.Now())
	if err != nil {
		return requestError(err)
	}
	return c.JSON(r)
}

type requestAssignBody struct {
	AgentID int64 `json:"agent_id"`
}

// apiCallbackRequestAssign gives a pending request to an agent by hand (after
// its automatic period, or to override it).
func (s *Server) apiCallbackRequestAssign(c *fiber.Ctx) error {
	id, err := c.ParamsInt("id")
	if err != nil || id <= 0 {
		return apiError(fiber.StatusBadRequest, "bad callback request id")
	}
	var body requestAssignBody
	if err := decodeBody(c, &body); err != nil {
		return err
	}
	if body.AgentID <= 0 {
		return apiError(fiber.StatusBadRequest, `body must be {"agent_id": N}`)
	}
	u, err := GetUser(c.UserContext(), s.db, body.AgentID)
	if err != nil || u.Role != RoleAgent || u.Disabled {
		return apiError(fiber.StatusBadRequest, "agent %d is not an active agent", body.AgentID)
	}
	r, err := inbound.AssignRequest(c.UserContext(), s.db, inbound.RequestID(id), body.AgentID, s.clock.Now())
	if err != nil {
		return requestError(err)
	}
	return c.JSON(r)
}

func requestError(err error) error {
	switch {
	case errors.Is(err, inbound.ErrNotFound):
		return apiError(fiber.StatusNotFound, "%v", err)
	case errors.Is(err, inbound.ErrRequestTransition):
		return apiError(fiber.StatusConflict, "%v", err)
	}
	return err
}

type newRequestBody struct {
	// QueueID makes a queue request (dialled when its place, now, comes
	// up); CampaignID without it a manual one for that campaign's agents.
	QueueID    int64  `json:"queue_id"`
	CampaignID int64  `json:"campaign_id"`
	Phone      string `json:"phone"`
	Name       string `json:"name"`
	Notes      string `json:"notes"`
}

// apiCallbackRequestCreate records a callback request made outside a queue
// wait (an IVR, a web form, a supervisor taking a message): a queue request
// joins its queue at the back, a manual one goes to its campaign's agents.
func (s *Server) apiCallbackRequestCreate(c *fiber.Ctx) error {
	var body newRequestBody
	if err := decodeBody(c, &body); err != nil {
		return err
	}
	ctx := c.UserContext()
	now := s.clock.Now()
	if strings.TrimSpace(body.Phone) == "" {
		return fieldError(fiber.StatusBadRequest, "phone", "a callback request needs the number to call")
	}
	var (
		r   inbound.CallbackRequest
		err error
	)
	switch {
	case body.QueueID != 0:
		q, qerr := s.queueStore().Queue(ctx, inbound.QueueID(body.QueueID))
		if errors.Is(qerr, inbound.ErrNotFound) {
			return fieldError(fiber.StatusBadRequest, "queue_id", "queue %d does not exist", body.QueueID)
		}
		if qerr != nil {
			return qerr
		}
		p := inbound.LeftRequest{Queue: q, Phone: body.Phone, Name: body.Name, Notes: body.Notes, Entered: now, Now: now}
		if s.inbound == nil {
			r, err = inbound.CreateQueueRequest(ctx, s.db, p) // a node with a router adopts it
		} else {
			r, err = s.inbound.NewRequest(ctx, p)
		}
	case body.CampaignID != 0:
		if _, cerr := campaigns.Get(ctx, s.db, campaigns.ID(body.CampaignID)); cerr != nil {
			return fieldError(fiber.StatusBadRequest, "campaign_id", "campaign %d does not exist", body.CampaignID)
		}
		r, err = inbound.CreateRequest(ctx, s.db, inbound.NewRequest{Campaign: campaigns.ID(body.CampaignID), Phone: body.Phone,
			Name: body.Name, Notes: body.Notes, Now: now})
	default:
		return fieldError(fiber.StatusBadRequest, "queue_id", "give the queue (queue_id) or the campaign (campaign_id) the request is for")
	}
	switch {
	case errors.Is(err, campaigns.ErrInvalidPhone):
		return fieldError(fiber.StatusBadRequest, "phone", "%v", err)
	case errors.Is(err, campaigns.ErrNotesTooLong):
		return fieldError(fiber.StatusBadRequest, "notes", "%v", err)
	case err != nil:
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(r)
}

// apiCallbackRequestLog is a request's event log, in order.
func (s *Server) apiCallbackRequestLog(c *fiber.Ctx) error {
	id, err := c.ParamsInt("id")
	if err != nil || id <= 0 {
		return apiError(fiber.StatusBadRequest, "bad callback request id")
	}
	ctx := c.UserContext()
	if _, err := inbound.GetRequest(ctx, s.db, inbound.RequestID(id)); err != nil {
		return requestError(err)
	}
	log, err := inbound.RequestLog(ctx, s.db, inbound.RequestID(id))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"events": log})
}

// apiInboundCallCallback is a caller waiting in a queue choosing to be
// called back instead (an IVR's "press 1"): they keep their place as a
// callback request and are told so before the line is released. A caller
// not waiting on this node is asked for on the other live nodes (a caller
// waits on the node serving their queue's agents), each through its
// internal route, until one holds them.
func (s *Server) apiInboundCallCallback(c *fiber.Ctx) error {
	raw := c.Params("call")
	call, err := waitingCall(raw)
	if err != nil {
		return err
	}
	err = s.leaveForCallbackHere(call, raw)
	if errors.Is(err, inbound.ErrNotWaiting) && s.router != nil {
		nodes, nerr := s.router.Nodes(c.UserContext())
		if nerr != nil {
			return nerr
		}
		for _, n := range nodes {
			if n.Local {
				continue
			}
			ctx, cancel := context.WithTimeout(c.UserContext(), boardNodeTimeout)
			st, body, perr := postInternal(ctx, s.internalClient, s.secret, n.Addr, "/internal/v1/inbound/calls/"+raw+"/callback",
				struct{}{}, 1<<20)
			cancel()
			if perr != nil {
				s.log.Warn("a node did not answer whether the caller waits there", "node", n.ID, "err", perr)
				continue
			}
			if st != fiber.StatusNotFound {
				c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
				return c.Status(st).Send(body)
			}
		}
		return apiError(fiber.StatusNotFound, "call %s is not a caller waiting on any node", raw)
	}
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"call_id": raw, "callback": true})
}

// apiInternalInboundCallCallback is apiInboundCallCallback for a caller
// waiting on this node, asked by another node. Only nodes that know the
// cluster secret may call it.
func (s *Server) apiInternalInboundCallCallback(c *fiber.Ctx) error {
	if !s.fromCluster(c) {
		return apiError(fiber.StatusForbidden, "internal calls need the cluster secret")
	}
	raw := c.Params("call")
	call, err := waitingCall(raw)
	if err != nil {
		return err
	}
	if err := s.leaveForCallbackHere(call, raw); err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"call_id": raw, "callback": true})
}

// waitingCall is the waiting caller's call_id in the path.
func waitingCall(raw string) (inbound.CallKey, error) {
	leg, err := strconv.ParseUint(raw, 10, 64)
	if err != nil || leg == 0 {
		return 0, apiError(fiber.StatusBadRequest, "call %q: give the waiting caller's call_id", raw)
	}
	return inbound.CallKey(int64(leg)), nil
}

// leaveForCallbackHere turns the caller call (raw as given) waiting on
// this node into a callback request; a caller not waiting here is a 404
// wrapping inbound.ErrNotWaiting.
func (s *Server) leaveForCallbackHere(call inbound.CallKey, raw string) error {
	if s.inbound == nil {
		return apiError(fiber.StatusNotFound, "call %s is not a caller waiting on this node: %v", raw, inbound.ErrNotWaiting)
	}
	err := s.inbound.LeaveForCallback(call, s.clock.Now())
	switch {
	case errors.Is(err, inbound.ErrNotWaiting):
		return apiError(fiber.StatusNotFound, "call %s is not a caller waiting on this node: %v", raw, err)
	case errors.Is(err, inbound.ErrNoCallbackNumber):
		return apiError(fiber.StatusConflict, "%v: they cannot leave a callback request", err)
	case errors.Is(err, inbound.ErrNoCallback):
		return apiError(fiber.StatusConflict, "%v: allow callbacks in the queue's settings first", err)
	}
	return err
}
