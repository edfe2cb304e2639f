package web

import (
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
)

// Callbacks as the API shows them, and who may touch which. The campaigns
// store does not check ownership: every handler here does. An agent sees
// and changes only the callbacks they set, of either scope, and may also
// dial an anyone callback of a campaign they are assigned to (another's
// answers 404, as if it did not exist); supervisors and managers any.

// CallbackView is a callback with its due time in the lead's time zone too.
type CallbackView struct {
	ID       campaigns.CallbackID     `json:"id"`
	Campaign campaigns.ID             `json:"campaign_id"`
	Lead     campaigns.LeadID         `json:"lead_id"`
	Agent    int64                    `json:"agent_id"`
	Scope    campaigns.CallbackScope  `json:"scope"`
	Status   campaigns.CallbackStatus `json:"status"`
	// DueAt is UTC; DueAtLocal the same instant in the lead's zone
	// (LeadZone). RequestedAt is what was asked for: they differ when the
	// lead's calling window moved the callback (Moved).
	DueAt       time.Time `json:"due_at"`
	DueAtLocal  string    `json:"due_at_local"`
	LeadZone    string    `json:"lead_zone"`
	RequestedAt time.Time `json:"requested_at"`
	Moved       bool      `json:"moved"`
	Notes       string    `json:"notes"`
	Phone       string    `json:"phone"`
	Name        string    `json:"name"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func callbackView(cb campaigns.Callback) CallbackView {
	v := CallbackView{ID: cb.ID, Campaign: cb.Campaign, Lead: cb.Lead, Agent: cb.Agent, Scope: cb.Scope, Status: cb.Status,
		DueAt: cb.DueAt.UTC(), LeadZone: cb.LeadZone, RequestedAt: cb.RequestedAt.UTC(), Moved: cb.Moved, Notes: cb.Notes,
		Phone: cb.Phone, Name: strings.TrimSpace(cb.FirstName + " " + cb.LastName), UpdatedAt: cb.UpdatedAt}
	v.DueAtLocal = v.DueAt.Format(time.RFC3339)
	if loc, err := time.LoadLocation(cb.LeadZone); err == nil && cb.LeadZone != "" {
		v.DueAtLocal = v.DueAt.In(loc).Format(time.RFC3339)
	}
	return v
}

func callbackViews(list []campaigns.Callback) []CallbackView {
	out := make([]CallbackView, 0, len(list))
	for _, cb := range list {
		out = append(out, callbackView(cb))
	}
	return out
}

// callbackStatuses parses ?status=due,missed (empty: def).
func callbackStatuses(q string, def []campaigns.CallbackStatus) ([]campaigns.CallbackStatus, error) {
	if strings.TrimSpace(q) == "" {
		return def, nil
	}
	var out []campaigns.CallbackStatus
	for _, p := range strings.Split(q, ",") {
		st := campaigns.CallbackStatus(strings.ToLower(strings.TrimSpace(p)))
		known := false
		for _, k := range campaigns.CallbackStatuses() {
			known = known || k == st
		}
		if !known {
			return nil, apiError(fiber.StatusBadRequest, "unknown callback status %q", p)
		}
		out = append(out, st)
	}
	return out, nil
}

// agentCallbackStatuses are what an agent's list shows by default: every
// callback still to make.
var agentCallbackStatuses = []campaigns.CallbackStatus{campaigns.CallbackDue, campaigns.CallbackOffered,
	campaigns.CallbackDialled, campaigns.CallbackMissed, campaigns.CallbackScheduled}

// apiAgentCallbacks lists the agent's own callbacks, due first.
func (s *Server) apiAgentCallbacks(c *fiber.Ctx) error {
	st, err := callbackStatuses(c.Query("status"), agentCallbackStatuses)
	if err != nil {
		return err
	}
	list, err := campaigns.ListCallbacks(c.UserContext(), s.db, campaigns.CallbackFilter{Agent: sessionOf(c).User.ID,
		Statuses: st})
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"callbacks": callbackViews(list)})
}

// apiCallbacks lists callbacks for supervisors: by campaign and status
// (default missed, the ones that need someone).
func (s *Server) apiCallbacks(c *fiber.Ctx) error {
	st, err := callbackStatuses(c.Query("status"), []campaigns.CallbackStatus{campaigns.CallbackMissed})
	if err != nil {
		return err
	}
	list, err := campaigns.ListCallbacks(c.UserContext(), s.db, campaigns.CallbackFilter{
		Campaign: campaigns.ID(c.QueryInt("campaign_id")), Agent: int64(c.QueryInt("agent_id")), Statuses: st})
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"callbacks": callbackViews(list)})
}

// callbackFor loads the callback named by :id if the caller may change it:
// an agent the callbacks they set (their list), others any.
func (s *Server) callbackFor(c *fiber.Ctx) (campaigns.Callback, error) {
	return s.loadCallback(c, func(cb campaigns.Callback, agent int64) bool { return cb.Agent == agent })
}

// callbackToDial loads the callback named by :id if the caller may dial it:
// an agent one they set (either scope: both are in their list) or any
// anyone callback of a campaign they are assigned to.
func (s *Server) callbackToDial(c *fiber.Ctx) (campaigns.Callback, error) {
	return s.loadCallback(c, func(cb campaigns.Callback, agent int64) bool {
		if cb.Agent == agent {
			return true
		}
		return cb.Scope == campaigns.ScopeAnyone &&
			campaigns.CheckAssigned(c.UserContext(), s.db, cb.Campaign, agent) == nil
	})
}

func (s *Server) loadCallback(c *fiber.Ctx, agentMay func(cb campaigns.Callback, agent int64) bool) (campaigns.Callback, error) {
	id, err := c.ParamsInt("id")
	if err != nil || id <= 0 {
		return campaigns.Callback{}, apiError(fiber.StatusBadRequest, "bad callback id")
	}
	cb, err := campaigns.GetCallback(c.UserContext(), s.db, campaigns.CallbackID(id))
	if errors.Is(err, campaigns.ErrNotFound) {
		return cb, apiError(fiber.StatusNotFound, "callback %d not found", id)
	}
	if err != nil {
		return cb, err
	}
	u := sessionOf(c).User
	if u.Role == RoleAgent && !agentMay(cb, u.ID) {
		return cb, apiError(fiber.StatusNotFound, "callback %d is not one of yours", id)
	}
	return cb, nil
}

// callbackError answers a refused callback change.
func callbackError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, campaigns.ErrNotFound):
		return apiError(fiber.StatusNotFound, "%v", err)
	case errors.Is(err, campaigns.ErrCallbackTransition):
		return apiError(fiber.StatusConflict, "%v", err)
	case campaigns.IsDispositionInputError(err):
		return apiError(fiber.StatusBadRequest, "%v", err)
	}
	return err
}

func (s *Server) needCallbackJobs() error {
	if s.callbackJobs == nil {
		return apiError(fiber.StatusServiceUnavailable, "the job queue is not running on this node")
	}
	return nil
}

type rescheduleRequest struct {
	// At is RFC 3339 in any offset (the caller's).
	At    string  `json:"callback_at"`
	Scope string  `json:"callback_scope"`
	Notes *string `json:"notes"`
}

// apiCallbackReschedule moves a callback to a new time (moved into the
// lead's calling window, and said so), optionally with a new scope or notes.
func (s *Server) apiCallbackReschedule(c *fiber.Ctx) error {
	if err := s.needCallbackJobs(); err != nil {
		return err
	}
	var req rescheduleRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	at, err := time.Parse(time.RFC3339, req.At)
	if err != nil {
		return apiError(fiber.StatusBadRequest, "callback_at must be an RFC 3339 time such as 2026-11-21T15:04:05-05:00")
	}
	cb, err := s.callbackFor(c)
	if err != nil {
		return err
	}
	out, err := campaigns.Reschedule(c.UserContext(), s.db, s.callbackJobs, campaigns.RescheduleCallback{ID: cb.ID, At: at,
		Scope: campaigns.CallbackScope(strings.ToLower(strings.TrimSpace(req.Scope))), Notes: req.Notes,
		By: sessionOf(c).User.ID, Now: s.clock.Now()})
	if err != nil {
		return callbackError(err)
	}
	return c.JSON(callbackView(out))
}

type cancelRequest struct {
	Reason string `json:"reason"`
}

// apiCallbackCancel cancels a callback; its lead returns to ordinary dialling.
func (s *Server) apiCallbackCancel(c *fiber.Ctx) error {
	if err := s.needCallbackJobs(); err != nil {
		return err
	}
	var req cancelRequest
	if len(c.Body()) > 0 {
		if err := decodeBody(c, &req); err != nil {
			return err
		}
	}
	if len(req.Reason) > 500 {
		return apiError(fiber.StatusBadRequest, "reason is limited to 500 characters")
	}
	cb, err := s.callbackFor(c)
	if err != nil {
		return err
	}
	out, err := campaigns.CancelCallback(c.UserContext(), s.db, s.callbackJobs, campaigns.CloseCallback{ID: cb.ID,
		By: sessionOf(c).User.ID, Reason: req.Reason, Now: s.clock.Now()})
	if err != nil {
		return callbackError(err)
	}
	return c.JSON(callbackView(out))
}

// apiAgentCallbackDial dials one of the agent's callbacks now (click to
// dial): the agent must be READY in the callback's campaign.
func (s *Server) apiAgentCallbackDial(c *fiber.Ctx) error {
	if err := s.needEngine(); err != nil {
		return err
	}
	cb, err := s.callbackToDial(c)
	if err != nil {
		return err
	}
	agent := sessionOf(c).User.ID
	if err := s.staleTab(c, agent); err != nil {
		return err
	}
	ctx := c.UserContext()
	campaign, ok := s.agentCampaignOf(agent)
	if !ok {
		return apiError(fiber.StatusConflict, "log in to campaign %d and go READY to dial this callback", cb.Campaign)
	}
	if campaign != int64(cb.Campaign) {
		return apiError(fiber.StatusConflict, "this callback is campaign %d's; you are working campaign %d", cb.Campaign, campaign)
	}
	call, err := s.engine.DialCallback(ctx, campaigns.ID(campaign), agents.ID(agent), cb.ID)
	if err != nil {
		return callbackError(engineError(err))
	}
	return c.JSON(fiber.Map{"call_id": call, "lead_id": cb.Lead, "callback_id": cb.ID})
}
