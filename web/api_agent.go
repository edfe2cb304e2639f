package web

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
)

// engineError answers an engine refusal with the status that says why.
func engineError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNoCall):
		return apiError(fiber.StatusNotFound, "%v", err)
	case errors.Is(err, ErrCallerGone):
		return apiError(fiber.StatusConflict, "The caller hung up before you could take the call; you are READY")
	case errors.Is(err, ErrInvalid):
		return apiError(fiber.StatusBadRequest, "%v", err)
	case errors.Is(err, ErrNotRunning), errors.Is(err, ErrNotLoggedIn), errors.Is(err, ErrConflict), errors.Is(err, ErrBusy),
		errors.Is(err, ErrNotReady), errors.Is(err, ErrNotWaiting):
		return apiError(fiber.StatusConflict, "%v", err)
	}
	return err
}

// asConflict makes an engine's refusal of an agent's action a 409, once:
// an error the engine already called a conflict keeps its one prefix.
func asConflict(err error) error {
	if errors.Is(err, ErrConflict) {
		return err
	}
	return fmt.Errorf("%w: %v", ErrConflict, err)
}

func (s *Server) needEngine() error {
	if s.engine == nil {
		return apiError(fiber.StatusServiceUnavailable, "the dialer engine is not running on this node")
	}
	return nil
}

// tabHeader names the workspace (browser tab) a request comes from; the
// agent's seat belongs to one (agents.Seat).
const tabHeader = "X-Pacer-Tab"

// agentCampaignOf is the campaign the agent works: their seat, wherever in
// the cluster they took it (the node-local map without a database).
func (s *Server) agentCampaignOf(agent int64) (int64, bool) {
	if s.db != nil {
		ctx, cancel := context.WithTimeout(s.bgContext(), 5*time.Second)
		defer cancel()
		seat, err := agents.GetSeat(ctx, s.db, agents.ID(agent))
		if err == nil {
			return seat.Campaign, true
		}
		if errors.Is(err, agents.ErrNoSeat) {
			return 0, false
		}
		s.log.Warn("read agent's seat", "agent", agent, "err", err)
	}
	s.agentMu.Lock()
	defer s.agentMu.Unlock()
	c, ok := s.agentCampaign[agent]
	return c, ok
}

// setAgentCampaign notes where the agent works on this node; campaign 0
// frees their seat there.
func (s *Server) setAgentCampaign(agent, campaign int64) {
	s.agentMu.Lock()
	old, had := s.agentCampaign[agent]
	if campaign == 0 {
		delete(s.agentCampaign, agent)
	} else {
		s.agentCampaign[agent] = campaign
	}
	s.agentMu.Unlock()
	if campaign == 0 && s.db != nil {
		ctx, cancel := context.WithTimeout(s.bgContext(), 5*time.Second)
		defer cancel()
		if seat, err := agents.GetSeat(ctx, s.db, agents.ID(agent)); err == nil && (!had || seat.Campaign == old) {
			if err := agents.LeaveSeat(ctx, s.db, agents.ID(agent), seat.Campaign); err != nil {
				s.log.Warn("free agent's seat", "agent", agent, "err", err)
			}
		}
	}
}

func (s *Server) logoutAgent(ctx context.Context, agent int64) {
	if c, ok := s.agentCampaignOf(agent); ok && s.engine != nil {
		if err := s.engine.Act(ctx, campaigns.ID(c), agents.ID(agent), ActLogout, ""); err != nil && !errors.Is(err, ErrNotRunning) {
			s.log.Debug("agent logout", "agent", agent, "err", err)
		}
	}
	s.setAgentCampaign(agent, 0)
}

// AgentGone logs out, with "session lost", an agent whose workspace has
// stayed disconnected from this node (agents.Presence reports it): wherever
// their campaign runs, unless their seat is held by a workspace another node
// serves. It reports whether the agent was logged out.
func (s *Server) AgentGone(ctx context.Context, agent agents.ID) (bool, error) {
	if s.engine == nil || s.db == nil {
		return false, nil
	}
	seat, err := agents.GetSeat(ctx, s.db, agent)
	if errors.Is(err, agents.ErrNoSeat) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if seat.WebNode != "" && seat.WebNode != s.cfg.Node {
		return false, nil // their workspace is another node's
	}
	err = s.engine.Act(ctx, campaigns.ID(seat.Campaign), agents.ID(agent), ActSessionLost, "")
	if errors.Is(err, ErrNotRunning) || errors.Is(err, ErrNotLoggedIn) {
		err = nil
	}
	s.setAgentCampaign(int64(agent), 0)
	return true, err
}

// staleTab refuses a call action or disposition from a workspace that no
// longer holds the agent's seat (another tab took it over).
func (s *Server) staleTab(c *fiber.Ctx, agent int64) error {
	tab := c.Get(tabHeader)
	if tab == "" || s.db == nil {
		return nil
	}
	seat, err := agents.GetSeat(c.UserContext(), s.db, agents.ID(agent))
	if err != nil || seat.Tab == "" || seat.Tab == tab {
		return nil
	}
	return apiError(fiber.StatusConflict, "this workspace was taken over by another tab or window; use that one, or reload this page to take it back")
}

// joinCampaign logs the agent in to campaign (0: the first running one)
// from workspace tab and gives them the seat (agents.Seat): one campaign,
// one workspace in the whole cluster. A seat in another campaign is left
// first (refused while the agent is on a call there); a seat in the same
// campaign moves to this tab, and the old tab is told.
func (s *Server) joinCampaign(ctx context.Context, agent, campaign int64, tab string) (int64, error) {
	if s.db == nil {
		return s.joinCampaignLocal(ctx, agent, campaign)
	}
	if len(tab) > 64 {
		return 0, apiError(fiber.StatusBadRequest, "workspace id too long")
	}
	if campaign == 0 {
		cur, ok := s.agentCampaignOf(agent)
		if !ok {
			var err error
			if cur, err = s.firstRunning(ctx, agent); err != nil {
				return 0, err
			}
		}
		campaign = cur
	}
	if err := s.checkAssigned(ctx, campaign, agent); err != nil {
		return 0, err
	}
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := agents.LockSeat(ctx, tx, agents.ID(agent)); err != nil {
		return 0, err
	}
	prev, err := agents.GetSeat(ctx, tx, agents.ID(agent))
	had := err == nil
	if err != nil && !errors.Is(err, agents.ErrNoSeat) {
		return 0, err
	}
	if had && prev.Campaign != campaign {
		v, err := s.engine.Agent(ctx, campaigns.ID(prev.Campaign), agents.ID(agent))
		switch {
		case err == nil && (v.State == agents.InCall || v.State == agents.Dispo || v.State == agents.Ringing || v.State == agents.Dialing):
			return 0, apiError(fiber.StatusConflict, "you are on a call in another campaign (%s in another tab or window); finish it there first", v.State)
		case err == nil && v.State != agents.LoggedOut:
			if err := s.engine.Act(ctx, campaigns.ID(prev.Campaign), agents.ID(agent), ActLogout, ""); err != nil &&
				!errors.Is(err, ErrNotRunning) && !errors.Is(err, ErrNotLoggedIn) {
				return 0, engineError(fmt.Errorf("leave campaign %d: %w", prev.Campaign, err))
			}
		}
	}
	loggedIn := false
	if v, err := s.engine.Agent(ctx, campaigns.ID(campaign), agents.ID(agent)); err != nil || v.State == agents.LoggedOut {
		if err := s.engine.Login(ctx, campaigns.ID(campaign), agents.ID(agent)); err != nil {
			if v, verr := s.engine.Agent(ctx, campaigns.ID(campaign), agents.ID(agent)); verr != nil || v.State == agents.LoggedOut {
				return 0, engineError(err)
			}
		} else {
			loggedIn = true
		}
	}
	seat := agents.Seat{Agent: agents.ID(agent), Campaign: campaign, Tab: tab, WebNode: s.cfg.Node, TakenAt: s.clock.Now()}
	if had && prev.Campaign == campaign && !loggedIn {
		seat.Node = prev.Node
	}
	if s.router != nil && seat.Node == "" {
		// Logged in just now, by the campaign's owner (a login always goes
		// to the owner), or a seat that never named its node.
		owner, err := s.router.Owner(ctx, campaigns.ID(campaign))
		if err != nil {
			return 0, engineError(err)
		}
		seat.Node = owner.ID
	}
	if err := agents.TakeSeat(ctx, tx, seat); err != nil {
		return 0, err
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, err
	}
	s.agentMu.Lock()
	s.agentCampaign[agent] = campaign
	s.agentMu.Unlock()
	if had && prev.Tab != tab {
		// The workspace that held the seat learns it has lost it.
		s.publish(Event{Type: "seat", Campaign: campaign, Agent: agent, At: s.clock.Now(), Data: fiber.Map{"tab": tab}})
	}
	return campaign, nil
}

// firstRunning is the campaign an agent who names none joins: the first
// running one they are assigned to (any running one without a database).
func (s *Server) firstRunning(ctx context.Context, agent int64) (int64, error) {
	mine, err := s.agentRunning(ctx, agent)
	if err != nil {
		return 0, err
	}
	if len(mine) > 0 {
		return int64(mine[0]), nil
	}
	running, err := s.engine.Running(ctx)
	if err != nil {
		return 0, err
	}
	if len(running) > 0 {
		return 0, apiError(fiber.StatusForbidden, "you are not assigned to any running campaign; ask a manager to assign you")
	}
	return 0, apiError(fiber.StatusConflict, "no campaign is running; ask a manager to start one")
}

// agentRunning lists the running campaigns the agent is assigned to.
func (s *Server) agentRunning(ctx context.Context, agent int64) ([]campaigns.ID, error) {
	running, err := s.engine.Running(ctx)
	if err != nil || s.db == nil {
		return running, err
	}
	mine, err := campaigns.AgentCampaigns(ctx, s.db, agent)
	if err != nil {
		return nil, err
	}
	out := running[:0:0]
	for _, id := range running {
		if slices.Contains(mine, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// joinCampaignLocal is joinCampaign for a server without a database (tests
// of the web layer alone): the node-local map is the seat.
func (s *Server) joinCampaignLocal(ctx context.Context, agent, campaign int64) (int64, error) {
	cur, ok := s.agentCampaignOf(agent)
	if ok && (campaign == 0 || campaign == cur) {
		if v, err := s.engine.Agent(ctx, campaigns.ID(cur), agents.ID(agent)); err == nil && v.State != agents.LoggedOut {
			return cur, nil
		}
		// The loop stopped (the campaign was paused) and may run again, or
		// the engine logged the agent out (session lost, drain): join
		// again. Settings changes never stop it.
	}
	if ok && campaign != 0 && campaign != cur {
		s.logoutAgent(ctx, agent)
	}
	if campaign == 0 {
		var err error
		if campaign, err = s.firstRunning(ctx, agent); err != nil {
			return 0, err
		}
	}
	if err := s.engine.Login(ctx, campaigns.ID(campaign), agents.ID(agent)); err != nil {
		if v, verr := s.engine.Agent(ctx, campaigns.ID(campaign), agents.ID(agent)); verr != nil || v.State == agents.LoggedOut {
			return 0, engineError(err)
		}
	}
	s.setAgentCampaign(agent, campaign)
	return campaign, nil
}

type stateRequest struct {
	State     string `json:"state"`
	PauseCode string `json:"pause_code"`
	Campaign  int64  `json:"campaign_id"`
}

var pauseCodePattern = func(code string) bool {
	if len(code) == 0 || len(code) > 16 {
		return false
	}
	for _, r := range code {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// apiAgentSetState: READY, PAUSED (with a code; during a call it is the
// "pause after this call" request) or LOGGED_OUT.
func (s *Server) apiAgentSetState(c *fiber.Ctx) error {
	if err := s.needEngine(); err != nil {
		return err
	}
	var req stateRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	agent := sessionOf(c).User.ID
	ctx := c.UserContext()
	var action AgentAction
	switch strings.ToUpper(req.State) {
	case "READY":
		action = ActReady
	case "PAUSED":
		action = ActPause
		// The campaign's pause codes decide; the one being joined when the
		// agent works none yet is checked once it is known (below).
		known := req.Campaign
		if known == 0 {
			known, _ = s.agentCampaignOf(agent)
		}
		if known != 0 {
			code, err := s.checkPauseCode(c, known, req.PauseCode)
			if err != nil {
				return err
			}
			req.PauseCode = code
		}
	case "LOGGED_OUT":
		s.logoutAgent(ctx, agent)
		return c.SendStatus(fiber.StatusNoContent)
	default:
		return apiError(fiber.StatusBadRequest, "state must be READY, PAUSED or LOGGED_OUT")
	}
	campaign, err := s.joinCampaign(ctx, agent, req.Campaign, c.Get(tabHeader))
	if err != nil {
		return err
	}
	if action == ActPause {
		if req.PauseCode, err = s.checkPauseCode(c, campaign, req.PauseCode); err != nil {
			return err
		}
	}
	v, err := s.engine.Agent(ctx, campaigns.ID(campaign), agents.ID(agent))
	if err != nil {
		return engineError(err)
	}
	if !(action == ActPause && v.State == agents.Paused && v.PauseCode == req.PauseCode) && !(action == ActReady && v.State == agents.Ready) {
		if err := s.engine.Act(ctx, campaigns.ID(campaign), agents.ID(agent), action, req.PauseCode); err != nil {
			return engineError(asConflict(err))
		}
	}
	return s.apiAgentState(c)
}

// apiAgentSeat names the workspace that holds the agent's seat ("tab", empty
// when the agent works no campaign): a page told by an event that another
// workspace took the seat asks here before it goes quiet.
func (s *Server) apiAgentSeat(c *fiber.Ctx) error {
	tab := ""
	if s.db != nil {
		seat, err := agents.GetSeat(c.UserContext(), s.db, agents.ID(sessionOf(c).User.ID))
		if err != nil && !errors.Is(err, agents.ErrNoSeat) {
			return err
		}
		tab = seat.Tab
	}
	return c.JSON(fiber.Map{"tab": tab})
}

// apiAgentTakeSeat moves the agent's seat to this workspace (a page opened
// in a new tab, or "use this tab instead") without changing their state; the
// workspace that held it is told. 204 when the agent works no campaign.
func (s *Server) apiAgentTakeSeat(c *fiber.Ctx) error {
	if err := s.needEngine(); err != nil {
		return err
	}
	agent := sessionOf(c).User.ID
	campaign, ok := s.agentCampaignOf(agent)
	if !ok {
		return c.SendStatus(fiber.StatusNoContent) // no seat to take: the agent works no campaign
	}
	if _, err := s.joinCampaign(c.UserContext(), agent, campaign, c.Get(tabHeader)); err != nil {
		return err
	}
	return s.apiAgentState(c)
}

// apiAgentState is the agent's state, session figures and campaign.
func (s *Server) apiAgentState(c *fiber.Ctx) error {
	out, err := s.agentState(c)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

func (s *Server) agentState(c *fiber.Ctx) (fiber.Map, error) {
	agent := sessionOf(c).User.ID
	campaign, ok := s.agentCampaignOf(agent)
	if !ok || s.engine == nil {
		return fiber.Map{"agent_id": agent, "state": "LOGGED_OUT"}, nil
	}
	v, err := s.engine.Agent(c.UserContext(), campaigns.ID(campaign), agents.ID(agent))
	if err != nil {
		s.setAgentCampaign(agent, 0)
		return fiber.Map{"agent_id": agent, "state": "LOGGED_OUT"}, nil
	}
	out := fiber.Map{"agent_id": agent, "campaign_id": campaign, "state": v.State, "since": v.Since,
		"pause_code": v.PauseCode, "pause_pending": v.PausePending, "on_hold": v.OnHold, "session": v.Session,
		"muted": v.Call != nil && v.Call.Muted, "now": s.clock.Now()}
	if v.Inbound != nil {
		out["inbound"] = v.Inbound
	}
	if err := s.addWorkspaceLimits(c.UserContext(), out, campaign, v); err != nil {
		return nil, err
	}
	return out, nil
}

// addWorkspaceLimits adds the limits the workspace counts down to: the
// campaign's wrap-up limit (wrapup_limit_s, 0: none; in DISPO the
// automatic disposition comes at since + the limit) and, while PAUSED, the
// pause code's label, billable flag and time limit (pause_limit_min, null:
// none), which the wallboard holds pauses to as well.
func (s *Server) addWorkspaceLimits(ctx context.Context, out fiber.Map, campaign int64, v AgentView) error {
	if s.db == nil {
		return nil
	}
	camp, err := campaigns.Get(ctx, s.db, campaigns.ID(campaign))
	if err != nil {
		return storeError(err)
	}
	out["wrapup_limit_s"] = camp.WrapupLimitS
	out["wrapup_then"] = camp.WrapupThen
	if v.State != agents.Paused {
		return nil
	}
	if v.PauseCode == agents.PauseCodePhone {
		out["pause_label"] = "Phone disconnected: reconnecting"
		return nil
	}
	p, err := campaigns.CampaignPauseCode(ctx, s.db, campaigns.ID(campaign), v.PauseCode)
	if errors.Is(err, campaigns.ErrPauseCode) {
		return nil // the engine's own (LOGIN, WRAPUP, DND) or one removed since
	}
	if err != nil {
		return err
	}
	out["pause_label"], out["pause_billable"], out["pause_limit_min"] = p.Label, p.Billable, p.LimitMin
	return nil
}

// currentCall is the agent's campaign and the call on their screen.
func (s *Server) currentCall(c *fiber.Ctx) (int64, AgentView, error) {
	agent := sessionOf(c).User.ID
	campaign, ok := s.agentCampaignOf(agent)
	if !ok || s.engine == nil {
		return 0, AgentView{}, nil
	}
	v, err := s.engine.Agent(c.UserContext(), campaigns.ID(campaign), agents.ID(agent))
	if err != nil {
		return campaign, AgentView{}, nil
	}
	return campaign, v, nil
}

// apiAgentCall: 200 with the call, its lead, the script and the
// dispositions, or 204 when the agent has none.
func (s *Server) apiAgentCall(c *fiber.Ctx) error {
	campaign, v, err := s.currentCall(c)
	if err != nil {
		return err
	}
	if v.Call == nil {
		return c.SendStatus(fiber.StatusNoContent)
	}
	ctx := c.UserContext()
	conference := ""
	if v.Call.Party != nil {
		conference = s.targetLabel(ctx, *v.Call.Party)
	}
	out := fiber.Map{"id": v.Call.ID, "state": v.Call.State, "start": v.Call.Start, "campaign_id": campaign,
		"on_hold": v.OnHold, "muted": v.Call.Muted, "conference": conference, "conference_guest": v.Call.Guest,
		"agent_state": v.State}
	if v.Call.Inbound {
		if err := s.inboundCallView(ctx, out, v); err != nil {
			return err
		}
	}
	lead, err := campaigns.GetLead(ctx, s.db, campaigns.LeadID(v.Call.Lead))
	if err == nil {
		out["lead"] = lead
		out["lead_local"] = leadLocal(lead, s.clock.Now())
		if v.Call.Number == "" {
			v.Call.Number = lead.Phone
		}
	} else {
		out["lead"] = fiber.Map{"id": v.Call.Lead, "phone": v.Call.Number}
	}
	out["number"] = v.Call.Number
	if camp, err := campaigns.Get(ctx, s.db, campaigns.ID(campaign)); err == nil {
		out["campaign_name"] = camp.Name
		out["script"] = camp.Script
		if v.Call.State == "preview" {
			skips, err := campaigns.Skips(ctx, s.db, &camp, sessionOf(c).User.ID, s.clock.Now())
			if err != nil {
				return err
			}
			out["skips"] = skips
		}
	}
	dispos, err := campaigns.Dispositions(ctx, s.db, campaigns.ID(campaign))
	if err != nil {
		return err
	}
	var agentDispos []campaigns.Disposition
	for _, d := range dispos {
		if !d.System {
			agentDispos = append(agentDispos, d)
		}
	}
	out["dispositions"] = agentDispos
	prev, err := s.engine.LeadHistory(ctx, v.Call.Lead, 20)
	if err != nil {
		return err
	}
	out["previous_calls"] = prev
	out["notes"] = leadNotes(prev)
	if v.Call.Callback != nil {
		out["callback"] = callbackView(*v.Call.Callback)
	}
	return c.JSON(out)
}

// leadOnScreen is the lead of the route's :id, refused unless it is the one
// on the agent's screen.
func (s *Server) leadOnScreen(c *fiber.Ctx) (campaigns.LeadID, error) {
	id, err := c.ParamsInt("id")
	if err != nil {
		return 0, apiError(fiber.StatusBadRequest, "bad lead id")
	}
	_, v, err := s.currentCall(c)
	if err != nil {
		return 0, err
	}
	if v.Call == nil || v.Call.Lead != campaigns.LeadID(id) {
		return 0, apiError(fiber.StatusNotFound, "lead %d is not on your screen", id)
	}
	return campaigns.LeadID(id), nil
}

// apiAgentLead returns a lead only while it is on the agent's screen.
func (s *Server) apiAgentLead(c *fiber.Ctx) error {
	id, err := s.leadOnScreen(c)
	if err != nil {
		return err
	}
	lead, err := campaigns.GetLead(c.UserContext(), s.db, id)
	if errors.Is(err, campaigns.ErrNotFound) {
		return apiError(fiber.StatusNotFound, "lead %d not found", id)
	}
	if err != nil {
		return err
	}
	return c.JSON(lead)
}

type callActionRequest struct {
	// CallID, when given, must be the agent's own call.
	CallID CallID `json:"call_id"`
	Target string `json:"target"`
	Digits string `json:"digits"`
	// Number or LeadID: what a manual dial (dial without a preview) calls.
	Number string           `json:"number"`
	LeadID campaigns.LeadID `json:"lead_id"`
}

// apiAgentCallAction runs one call control on the agent's own call.
func (s *Server) apiAgentCallAction(c *fiber.Ctx) error {
	if err := s.needEngine(); err != nil {
		return err
	}
	action := c.Params("action")
	var req callActionRequest
	if len(c.Body()) > 0 {
		if err := decodeBody(c, &req); err != nil {
			return err
		}
	}
	agent := sessionOf(c).User.ID
	if err := s.staleTab(c, agent); err != nil {
		return err
	}
	ctx := c.UserContext()
	campaign, ok := s.agentCampaignOf(agent)
	if !ok {
		return apiError(fiber.StatusNotFound, "you have no call")
	}
	v, err := s.engine.Agent(ctx, campaigns.ID(campaign), agents.ID(agent))
	if err != nil {
		return apiError(fiber.StatusNotFound, "you have no call")
	}
	if action == "accept" || action == "reject" {
		return s.answerOffer(c, campaign, agent, v, action, req.LeadID)
	}
	if action == "dial" && v.Call == nil {
		if v.State != agents.Ready {
			return apiError(fiber.StatusConflict, "go READY to dial (you are %s)", v.State)
		}
		return s.manualDial(c, campaign, agent, req)
	}
	if v.Call == nil || (req.CallID != 0 && req.CallID != v.Call.ID) {
		// Another agent's call is indistinguishable from no call at all.
		return apiError(fiber.StatusNotFound, "no such call on your screen")
	}
	switch action {
	case "dial", "skip":
		if v.Call.State != "preview" {
			return apiError(fiber.StatusConflict, "%s applies to a preview, and this call is %s", action, v.Call.State)
		}
		act := ActDial
		if action == "skip" {
			act = ActSkip
			if err := s.skipAllowed(ctx, campaign, agent); err != nil {
				return err
			}
		}
		if err := s.engine.Act(ctx, campaigns.ID(campaign), agents.ID(agent), act, ""); err != nil {
			return engineError(asConflict(err))
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
	kind, ok := controlOf(action)
	if !ok {
		return apiError(fiber.StatusNotFound, "unknown call action %q", action)
	}
	ctl := CallControl{Kind: kind}
	detail := ""
	switch kind {
	case ControlTransfer, ControlConference:
		if ctl.Target, err = s.parseTarget(ctx, campaign, req.Target); err != nil {
			return apiError(fiber.StatusBadRequest, "%s needs a target: %v", action, err)
		}
		detail = s.targetLabel(ctx, ctl.Target)
	case ControlLeave:
		if v.Call.Party != nil {
			detail = s.targetLabel(ctx, *v.Call.Party) // who the customer stays with
		}
	case ControlDTMF:
		digits := strings.TrimSpace(req.Digits)
		if digits == "" || len(digits) > 32 || strings.Trim(digits, "0123456789*#ABCD") != "" {
			return apiError(fiber.StatusBadRequest, "digits must be 1-32 of 0-9 * # A-D")
		}
		ctl.Digits, detail = digits, digits
	}
	if v.Call.ID == 0 {
		return apiError(fiber.StatusNotFound, "%s needs a call, and a preview is not dialled yet", action)
	}
	if err := s.engine.Control(ctx, campaigns.ID(campaign), agents.ID(agent), v.Call.ID, ctl); err != nil {
		return engineError(err)
	}
	if err := recordAction(ctx, s.db, campaign, agent, v.Call.Lead, v.Call.ID, action, detail, s.clock.Now()); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

type dispositionRequest struct {
	Code  string `json:"code"`
	Notes string `json:"notes"`
	// CallID, when given, must be the agent's call awaiting a disposition.
	CallID CallID `json:"call_id"`
	// CallbackAt (RFC 3339, any offset: the agent's) and CallbackScope
	// ("me" or "anyone") schedule the callback a callback disposition asks for.
	CallbackAt    string `json:"callback_at"`
	CallbackScope string `json:"callback_scope"`
	PauseAfter    bool   `json:"pause_after"`
	PauseCode     string `json:"pause_code"`
}

// input checks the request's shape and turns it into the flow's input.
func (r dispositionRequest) input() (campaigns.DispositionInput, error) {
	in := campaigns.DispositionInput{Code: strings.ToUpper(strings.TrimSpace(r.Code)), Notes: r.Notes}
	if in.Code == "" {
		return in, apiError(fiber.StatusBadRequest, "a disposition code is required")
	}
	if r.CallbackAt == "" && r.CallbackScope == "" {
		return in, nil
	}
	if r.CallbackAt == "" {
		return in, apiError(fiber.StatusBadRequest, "callback_scope needs a callback_at")
	}
	at, err := time.Parse(time.RFC3339, r.CallbackAt)
	if err != nil {
		return in, apiError(fiber.StatusBadRequest, "callback_at must be an RFC 3339 time such as 2026-11-21T15:04:05-05:00")
	}
	scope := campaigns.CallbackScope(strings.ToLower(strings.TrimSpace(r.CallbackScope)))
	if scope == "" {
		scope = campaigns.ScopeMe
	}
	in.Callback = &campaigns.CallbackInput{At: at, Scope: scope}
	return in, nil
}

// dispositionError answers a refused disposition: the agent's mistakes with
// a 4xx that says what was wrong.
func dispositionError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, campaigns.ErrNotAgentsCall):
		return apiError(fiber.StatusForbidden, "%v", err)
	case errors.Is(err, campaigns.ErrAlreadyDispositioned), errors.Is(err, campaigns.ErrNoCallToDisposition),
		errors.Is(err, campaigns.ErrCallbackTransition), errors.Is(err, campaigns.ErrLeadClaimed),
		errors.Is(err, campaigns.ErrCallbackNeedsLead):
		return apiError(fiber.StatusConflict, "%v", err)
	case campaigns.IsDispositionInputError(err):
		return apiError(fiber.StatusBadRequest, "%v", err)
	}
	return engineError(err)
}

// apiAgentDisposition saves the disposition of the call the agent finished
// (notes and any callback with it, in one transaction); the agent goes
// READY, or PAUSED if they asked. The answer is the agent's state with the
// disposition and the callback scheduled: its due time in UTC and in the
// lead's time zone, and whether the lead's calling window moved it (a time
// outside the window is moved to the next allowed instant, not refused).
func (s *Server) apiAgentDisposition(c *fiber.Ctx) error {
	if err := s.needEngine(); err != nil {
		return err
	}
	var req dispositionRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	in, err := req.input()
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
		return apiError(fiber.StatusConflict, "you are not logged in to a campaign")
	}
	v, err := s.engine.Agent(ctx, campaigns.ID(campaign), agents.ID(agent))
	if err != nil {
		return engineError(err)
	}
	if v.Call != nil && v.Call.Inbound && v.Call.Lead == 0 && in.Callback != nil {
		// Refused before the pause below (the engine refuses it too).
		return dispositionError(campaigns.ErrCallbackNeedsLead)
	}
	// Refuse bad input before anything changes (the pause below).
	if _, err := campaigns.CheckDisposition(ctx, s.db, campaigns.ID(campaign), in, s.clock.Now(), false); err != nil {
		return dispositionError(err)
	}
	if req.PauseAfter && v.PausePending == "" && v.State == agents.Dispo {
		code, err := s.checkPauseCode(c, campaign, req.PauseCode)
		if err != nil {
			return err
		}
		if err := s.engine.Act(ctx, campaigns.ID(campaign), agents.ID(agent), ActPause, code); err != nil {
			return engineError(asConflict(err))
		}
	}
	res, err := s.engine.Disposition(ctx, campaigns.ID(campaign), agents.ID(agent), req.CallID, in)
	if err != nil {
		return dispositionError(err)
	}
	if v.Call != nil {
		if err := recordAction(ctx, s.db, campaign, agent, v.Call.Lead, v.Call.ID, "disposition", res.Disposition.Code,
			s.clock.Now()); err != nil {
			return err
		}
	}
	reason, err := s.logoutIfUnassigned(ctx, campaign, agent)
	if err != nil {
		return err
	}
	out, err := s.agentState(c)
	if err != nil {
		return err
	}
	if reason != "" {
		out["logged_out_reason"] = reason
	}
	out["disposition"] = res.Disposition.Code
	if res.Callback != nil {
		out["callback"] = callbackView(*res.Callback)
	}
	return c.JSON(out)
}

func (s *Server) apiAgentHistory(c *fiber.Ctx) error {
	if err := s.needEngine(); err != nil {
		return err
	}
	limit := c.QueryInt("limit", 50)
	if limit < 1 || limit > 500 {
		limit = 50
	}
	h, err := s.engine.History(c.UserContext(), agents.ID(sessionOf(c).User.ID), limit)
	if err != nil {
		return err
	}
	if h == nil {
		h = []HistoryCall{}
	}
	return c.JSON(fiber.Map{"calls": h})
}

// apiAgentCampaigns lists the campaigns an agent can work: running, and
// assigned to them.
func (s *Server) apiAgentCampaigns(c *fiber.Ctx) error {
	if err := s.needEngine(); err != nil {
		return err
	}
	ids, err := s.agentRunning(c.UserContext(), sessionOf(c).User.ID)
	if err != nil {
		return err
	}
	out := []fiber.Map{}
	for _, id := range ids {
		camp, err := campaigns.Get(c.UserContext(), s.db, campaigns.ID(id))
		if err != nil {
			continue
		}
		out = append(out, fiber.Map{"id": camp.ID, "name": camp.Name, "mode": camp.Mode})
	}
	return c.JSON(fiber.Map{"campaigns": out})
}

// Note is a note an agent saved with a disposition.
type Note struct {
	Agent int64     `json:"agent_id"`
	Text  string    `json:"text"`
	At    time.Time `json:"at"`
}

// leadNotes are the notes agents saved with the lead's dispositions (on its
// calls), newest first.
func leadNotes(calls []HistoryCall) []Note {
	out := []Note{}
	for _, h := range calls {
		if strings.TrimSpace(h.Notes) == "" {
			continue
		}
		n := Note{Text: h.Notes, At: h.DialedAt}
		if h.Agent != nil {
			n.Agent = *h.Agent
		}
		if h.EndedAt != nil {
			n.At = *h.EndedAt
		}
		out = append(out, n)
	}
	return out
}

func recordAction(ctx context.Context, db UserDB, campaign, agent int64, lead campaigns.LeadID, call CallID, action, detail string, at time.Time) error {
	var leadArg any
	if lead > 0 {
		leadArg = lead
	}
	if call == 0 {
		return nil // a preview not dialled has no call to record against
	}
	_, err := db.Exec(ctx, `INSERT INTO call_actions (campaign_id, agent_id, lead_id, call_seq, action, detail, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, campaign, agent, leadArg, int64(call), action, detail, at)
	if err != nil {
		return fmt.Errorf("record %s: %w", action, err)
	}
	return nil
}

// skipAllowed refuses a preview skip past the campaign's hourly cap, saying
// when the agent may skip again.
func (s *Server) skipAllowed(ctx context.Context, campaign, agent int64) error {
	if s.db == nil {
		return nil
	}
	camp, err := campaigns.Get(ctx, s.db, campaigns.ID(campaign))
	if err != nil {
		return storeError(err)
	}
	skips, err := campaigns.Skips(ctx, s.db, &camp, agent, s.clock.Now())
	if err != nil {
		return err
	}
	if skips.Exhausted() {
		return apiError(fiber.StatusConflict,
			"skip limit reached: this campaign allows %d preview skips an hour and you have used them; dial this lead", skips.Limit)
	}
	return nil
}

// notDialable answers a manual dial the rules refuse with the reason.
func notDialable(err error) error {
	if errors.Is(err, campaigns.ErrNotDialable) {
		return apiError(fiber.StatusConflict, "%v", err)
	}
	return err
}

// manualDial dials a number the agent typed (a lead of their campaign, or
// a new one of its manual list) or a lead from their own history (click to
// dial). The engine
// claims the lead under the campaign's rules and refuses, with the reason,
// one that is finished, on a DNC list, locked out or outside its window.
func (s *Server) manualDial(c *fiber.Ctx, campaign, agent int64, req callActionRequest) error {
	ctx := c.UserContext()
	var lead campaigns.LeadID
	switch {
	case req.LeadID != 0:
		calls, err := s.engine.LeadHistory(ctx, req.LeadID, 100)
		if err != nil {
			return err
		}
		mine := false
		for _, h := range calls {
			mine = mine || (h.Agent != nil && *h.Agent == agent && h.Campaign == campaign)
		}
		if !mine {
			return apiError(fiber.StatusNotFound, "lead %d is not in your call history for this campaign", req.LeadID)
		}
		lead = req.LeadID
	case strings.TrimSpace(req.Number) != "":
		camp, err := campaigns.Get(ctx, s.db, campaigns.ID(campaign))
		if err != nil {
			return storeError(err)
		}
		phone, err := campaigns.NormalizePhone(req.Number, camp.DefaultRegion)
		if err != nil {
			return apiError(fiber.StatusBadRequest, "%v", err)
		}
		// A number that is no lead yet becomes one of the campaign's
		// manual list, once it passes the rules that need no lead (DNC,
		// calling window); the engine's claim applies the rest.
		id, err := campaigns.ManualLead(ctx, s.db, &camp, phone, s.clock.Now())
		if err != nil {
			return notDialable(err)
		}
		lead = id
	default:
		return apiError(fiber.StatusBadRequest, "dial needs a preview on screen, a number or a lead_id")
	}
	call, err := s.engine.ManualDial(ctx, campaigns.ID(campaign), agents.ID(agent), lead)
	if err != nil {
		return engineError(err)
	}
	return c.Status(fiber.StatusOK).JSON(fiber.Map{"call_id": call, "lead_id": lead})
}
