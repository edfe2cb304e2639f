package web

import (
	"errors"
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
