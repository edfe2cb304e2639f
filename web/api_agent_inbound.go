package web

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
)

// An inbound call reaches the agent as an offer (AgentView.Inbound) they
// accept or reject; the engine takes it from there (the next agent, DND).
// An inbound call is dialled for no lead: the agent attaches the caller's
// lead to it (Engine.AttachLead; call_actions logs it as attach_lead) — the
// one lead whose number is the caller's at once, one of several as the
// agent chooses, or a new lead of the campaign's manual list made from the
// call — and their disposition settles it as an outbound one would, without
// counting an attempt.

// answerOffer accepts or rejects the inbound call ringing the agent. An
// accept may name which of the caller's leads they are (lead_id); with one
// match that lead is attached by itself.
func (s *Server) answerOffer(c *fiber.Ctx, campaign, agent int64, v AgentView, action string, lead campaigns.LeadID) error {
	if v.Inbound == nil {
		return apiError(fiber.StatusNotFound, "no inbound call is ringing you")
	}
	ctx := c.UserContext()
	if lead != 0 && !slices.ContainsFunc(v.Inbound.Leads, func(m CallerLead) bool { return m.Lead == lead }) {
		return apiError(fiber.StatusBadRequest, "lead %d is not one of the caller's leads", lead)
	}
	act := ActAccept
	if action == "reject" {
		act = ActReject
	}
	if err := s.engine.Act(ctx, campaigns.ID(campaign), agents.ID(agent), act, ""); err != nil {
		if errors.Is(err, ErrCallerGone) {
			return engineError(err)
		}
		return engineError(asConflict(err))
	}
	if act == ActReject {
		return c.SendStatus(fiber.StatusNoContent)
	}
	if lead == 0 && len(v.Inbound.Leads) == 1 {
		lead = v.Inbound.Leads[0].Lead
	}
	if lead != 0 {
		now, err := s.engine.Agent(ctx, campaigns.ID(campaign), agents.ID(agent))
		if err == nil && now.Call != nil && now.Call.Inbound {
			if err := s.attachLead(ctx, campaign, agent, now.Call.ID, lead); err != nil {
				return err
			}
		}
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// attachOnlyMatch attaches the caller's lead to the inbound call the agent
// has just taken, when exactly one lead has the caller's number (as an
// accept does).
func (s *Server) attachOnlyMatch(c *fiber.Ctx, campaign, agent int64) error {
	ctx := c.UserContext()
	v, err := s.engine.Agent(ctx, campaigns.ID(campaign), agents.ID(agent))
	if err != nil || v.Call == nil || !v.Call.Inbound || v.Call.Lead != 0 {
		return nil // the call is gone already, or has its lead
	}
	matches, err := campaigns.CallerLeads(ctx, s.db, v.Call.Number)
	if err != nil || len(matches) != 1 {
		return err
	}
	return s.attachLead(ctx, campaign, agent, v.Call.ID, matches[0].Lead)
}

// attachLead attaches the lead to the agent's inbound call in the engine
// and logs it with the call's actions.
func (s *Server) attachLead(ctx context.Context, campaign, agent int64, call CallID, lead campaigns.LeadID) error {
	if err := s.engine.AttachLead(ctx, campaigns.ID(campaign), agents.ID(agent), call, lead); err != nil {
		return engineError(err)
	}
	return recordAction(ctx, s.db, campaign, agent, lead, call, "attach_lead", "", s.clock.Now())
}

type inboundLeadRequest struct {
	// LeadID attaches one of the caller's leads; without it, a lead of the
	// campaign's manual list is made for the caller with the name given.
	LeadID    campaigns.LeadID `json:"lead_id"`
	FirstName string           `json:"first_name"`
	LastName  string           `json:"last_name"`
}

// apiAgentInboundLead attaches a lead to the agent's inbound call (during
// the call or its disposition): one of the leads whose number is the
// caller's, or a new one made from the call.
func (s *Server) apiAgentInboundLead(c *fiber.Ctx) error {
	if err := s.needEngine(); err != nil {
		return err
	}
	var req inboundLeadRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	agent := sessionOf(c).User.ID
	if err := s.staleTab(c, agent); err != nil {
		return err
	}
	ctx := c.UserContext()
	campaign, v, err := s.currentCall(c)
	if err != nil {
		return err
	}
	if v.Call == nil || !v.Call.Inbound || v.Call.ID == 0 {
		return apiError(fiber.StatusNotFound, "you have no inbound call to attach a lead to")
	}
	lead := req.LeadID
	if lead != 0 {
		matches, err := campaigns.CallerLeads(ctx, s.db, v.Call.Number)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(matches, func(m campaigns.CallerLead) bool { return m.Lead == lead }) {
			return apiError(fiber.StatusBadRequest, "lead %d is not one of the caller's leads", lead)
		}
	} else {
		camp, err := campaigns.Get(ctx, s.db, campaigns.ID(campaign))
		if err != nil {
			return storeError(err)
		}
		lead, err = campaigns.InboundLead(ctx, s.db, &camp, v.Call.Number, req.FirstName, req.LastName, s.clock.Now())
		switch {
		case errors.Is(err, campaigns.ErrInvalidPhone), errors.Is(err, campaigns.ErrNameTooLong):
			return apiError(fiber.StatusBadRequest, "%v", err)
		case err != nil:
			return err
		}
	}
	if err := s.attachLead(ctx, campaign, agent, v.Call.ID, lead); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"lead_id": lead, "call_id": v.Call.ID})
}

type dndRequest struct {
	On *bool `json:"on"`
}

// apiAgentDND switches do-not-disturb on (from READY or PAUSED: no inbound
// offers, no outbound calls) or off (back to where the agent was).
func (s *Server) apiAgentDND(c *fiber.Ctx) error {
	if err := s.needEngine(); err != nil {
		return err
	}
	var req dndRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if req.On == nil {
		return apiError(fiber.StatusBadRequest, `"on" (true or false) is required`)
	}
	agent := sessionOf(c).User.ID
	if err := s.staleTab(c, agent); err != nil {
		return err
	}
	ctx := c.UserContext()
	campaign, ok := s.agentCampaignOf(agent)
	if !ok {
		return apiError(fiber.StatusConflict, "you are not logged in to a campaign: press Ready or Pause first")
	}
	v, err := s.engine.Agent(ctx, campaigns.ID(campaign), agents.ID(agent))
	if err != nil {
		return engineError(err)
	}
	act := ActDNDOff
	if *req.On {
		switch v.State {
		case agents.DND:
			return s.apiAgentState(c)
		case agents.Ready, agents.Paused:
			act = ActDND
		default:
			return apiError(fiber.StatusConflict, "do not disturb can be switched on only when READY or PAUSED, and you are %s", v.State)
		}
	} else if v.State != agents.DND {
		return apiError(fiber.StatusConflict, "you are not in do not disturb (you are %s)", v.State)
	}
	if err := s.engine.Act(ctx, campaigns.ID(campaign), agents.ID(agent), act, ""); err != nil {
		return engineError(asConflict(err))
	}
	return s.apiAgentState(c)
}

// SimInbound injects simulated inbound callers: cmd/pacer wires it to the
// simulated carrier when that carries the calls.
type SimInbound interface {
	// InjectCaller makes a caller from the number from ring did; a number
	// no queue answers wraps ErrNoQueue, and ErrNoSimCarrier says no
	// campaign takes simulated callers. callbackAfter > 0: the caller
	// asks for a callback after waiting that long.
	InjectCaller(ctx context.Context, did, from string, callbackAfter time.Duration) error
	// Place is the HTTP address of the node a caller of did from the
	// number from is to wait on, when it is not this one (none of their
	// queue's agents works here: dialer/blend's Placer).
	Place(ctx context.Context, did, from string) (httpAddr string, elsewhere bool, err error)
}

// Errors a SimInbound wraps.
var (
	// ErrNoQueue: no inbound queue answers the number dialled.
	ErrNoQueue = errors.New("no queue answers this number")
	// ErrNoSimCarrier: no campaign runs on the simulated carrier, so a
	// simulated caller could reach no agent.
	ErrNoSimCarrier = errors.New("the simulated carrier is not in use")
)

type simInboundRequest struct {
	DID  string `json:"did"`
	From string `json:"from"`
	// CallbackAfterS, when set, makes the caller ask for a callback after
	// waiting that many seconds (if no agent took them by then).
	CallbackAfterS float64 `json:"callback_after_s"`
}

// apiSimInbound makes one simulated caller ring a number (admins only): the
// demo and the browser tests show inbound offers with it.
func (s *Server) apiSimInbound(c *fiber.Ctx) error {
	var req simInboundRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	did, err := campaigns.NormalizePhone(req.DID, "US")
	if err != nil {
		return apiError(fiber.StatusBadRequest, "did: %v", err)
	}
	from, err := campaigns.NormalizePhone(req.From, "US")
	if err != nil {
		return apiError(fiber.StatusBadRequest, "from: %v", err)
	}
	if !(req.CallbackAfterS >= 0 && req.CallbackAfterS <= 86400) {
		return fieldError(fiber.StatusBadRequest, "callback_after_s", "callback_after_s: seconds from 0 (never) to 86400")
	}
	if s.simInbound == nil {
		return apiError(fiber.StatusConflict, "the simulated carrier is not in use on this node, so it has no callers to inject")
	}
	if addr := s.simCallerElsewhere(c.UserContext(), did, from); addr != "" {
		return s.forwardSimCaller(c, addr, simInboundRequest{DID: did, From: from, CallbackAfterS: req.CallbackAfterS})
	}
	return s.injectSimCaller(c, did, from, req.CallbackAfterS)
}

// simCallerElsewhere is the HTTP address of the node a simulated caller of
// did from the number from is to wait on, when it is not this one (else
// ""; also when that cannot be learnt: the caller waits here).
func (s *Server) simCallerElsewhere(ctx context.Context, did, from string) string {
	if s.simInbound == nil || s.secret == "" {
		return ""
	}
	addr, elsewhere, err := s.simInbound.Place(ctx, did, from)
	if err != nil {
		s.log.Warn("could not learn where the caller's queue is served; the caller waits here", "did", did, "err", err)
		return ""
	}
	if !elsewhere {
		return ""
	}
	return addr
}

// sendSimCaller hands a simulated caller to the node at addr (its internal
// /internal/v1/sim/inbound, which queues them there without placing them
// again) and returns its answer.
func (s *Server) sendSimCaller(ctx context.Context, addr string, req simInboundRequest) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return postInternal(ctx, s.internalClient, s.secret, addr, "/internal/v1/sim/inbound", req, 1<<20)
}

// SendSimCaller is the simulated callers' generator (--sim-inbound-per-hour)
// asking where a caller of did from the number from waits: true when they
// were sent to another node (its queue's agents work there), false when
// they are to wait here (also when sending them failed).
func (s *Server) SendSimCaller(ctx context.Context, did, from string) bool {
	addr := s.simCallerElsewhere(ctx, did, from)
	if addr == "" {
		return false
	}
	status, raw, err := s.sendSimCaller(ctx, addr, simInboundRequest{DID: did, From: from})
	if err != nil || status != fiber.StatusAccepted {
		s.log.Warn("a simulated caller could not be sent to the node serving their queue; they wait here", "did", did,
			"node", addr, "status", status, "answer", string(raw), "err", err)
		return false
	}
	return true
}

// injectSimCaller queues the simulated caller on this node.
func (s *Server) injectSimCaller(c *fiber.Ctx, did, from string, callbackAfterS float64) error {
	err := s.simInbound.InjectCaller(c.UserContext(), did, from, time.Duration(callbackAfterS*float64(time.Second)))
	switch {
	case errors.Is(err, ErrNoQueue):
		return apiError(fiber.StatusNotFound, "no queue answers %s: route the number to a queue first", did)
	case errors.Is(err, ErrNoSimCarrier):
		return apiError(fiber.StatusConflict, "%v, so no agent could take a simulated caller", err)
	case err != nil:
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"did": did, "from": from})
}

// forwardSimCaller hands the caller to the node at addr (its internal
// /internal/v1/sim/inbound, which queues them there without placing them
// again) and answers as it answered.
func (s *Server) forwardSimCaller(c *fiber.Ctx, addr string, req simInboundRequest) error {
	status, raw, err := s.sendSimCaller(c.UserContext(), addr, req)
	if err != nil {
		return apiError(fiber.StatusBadGateway, "the node serving the queue of %s: %v", req.DID, err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Status(status).Send(raw)
}

// apiInternalSimInbound queues a simulated caller another node placed
// here. Only nodes that know the cluster secret may call it.
func (s *Server) apiInternalSimInbound(c *fiber.Ctx) error {
	if !s.fromCluster(c) {
		return apiError(fiber.StatusForbidden, "internal calls need the cluster secret")
	}
	if s.simInbound == nil {
		return apiError(fiber.StatusConflict, "the simulated carrier is not in use on this node, so it has no callers to inject")
	}
	var req simInboundRequest
	if err := json.Unmarshal(c.Body(), &req); err != nil {
		return apiError(fiber.StatusBadRequest, "simulated caller: %v", err)
	}
	return s.injectSimCaller(c, req.DID, req.From, req.CallbackAfterS)
}

// inboundCallView adds to the agent's inbound call what the workspace shows
// of it: the caller's leads to choose from (several), or to make one from
// (none), and the lead attached (the engine's v.Call.Lead), which the lead
// panel shows.
func (s *Server) inboundCallView(ctx context.Context, out fiber.Map, v AgentView) error {
	matches, err := campaigns.CallerLeads(ctx, s.db, v.Call.Number)
	if err != nil {
		return err
	}
	if matches == nil {
		matches = []campaigns.CallerLead{}
	}
	out["inbound"] = fiber.Map{"from": v.Call.Number, "queue_id": v.Call.Queue, "leads": matches, "attached_lead_id": v.Call.Lead}
	return nil
}
