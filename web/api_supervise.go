package web

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
)

// ForcedPauseCode is the pause code of a supervisor's force pause.
const ForcedPauseCode = "SUPERVISOR"

// SupervisorAction is one audited force pause or force logout.
type SupervisorAction struct {
	ID         int64        `json:"id"`
	At         time.Time    `json:"at"`
	ActorID    int64        `json:"actor_id"`
	ActorName  string       `json:"actor_name"`
	Campaign   campaigns.ID `json:"campaign_id"`
	Agent      agents.ID    `json:"agent_id"`
	Action     string       `json:"action"` // force_pause, force_logout
	Reason     string       `json:"reason"`
	AgentState string       `json:"agent_state"` // before the action
	// Outcome: paused, pause_after_call (taken when the call's disposition
	// is saved) or logged_out.
	Outcome string `json:"outcome"`
}

type forceBody struct {
	Reason string `json:"reason"`
}

// apiWallboard is the overview: every campaign that is not archived, with
// its figures and alerts (live for those running on this node).
func (s *Server) apiWallboard(c *fiber.Ctx) error {
	list, err := campaigns.List(c.UserContext(), s.db)
	if err != nil {
		return err
	}
	out := []CampaignStats{}
	for _, camp := range list {
		if camp.Status == campaigns.StatusArchived {
			continue
		}
		st, err := s.buildStats(c.UserContext(), int64(camp.ID))
		if err != nil {
			return storeError(err)
		}
		out = append(out, st)
	}
	return c.JSON(fiber.Map{"campaigns": out})
}

// apiForcePause pauses an agent for a supervisor: at once when READY or
// PAUSED, after the call (when its disposition is saved) when on a call or
// in wrap-up; refused while a call rings for them (409).
func (s *Server) apiForcePause(c *fiber.Ctx) error {
	return s.force(c, "force_pause")
}

// apiForceLogout logs an agent out for a supervisor, only while READY or
// PAUSED: on a call, ringing or in wrap-up it is refused (409) so no caller
// is cut off and no disposition lost; force a pause first, then log out.
func (s *Server) apiForceLogout(c *fiber.Ctx) error {
	return s.force(c, "force_logout")
}

func (s *Server) force(c *fiber.Ctx, action string) error {
	if err := s.needEngine(); err != nil {
		return err
	}
	campaign, err := campaignParam(c)
	if err != nil {
		return err
	}
	agentID, err := strconv.ParseInt(c.Params("agent"), 10, 64)
	if err != nil || agentID <= 0 {
		return apiError(fiber.StatusBadRequest, "bad agent id %q", c.Params("agent"))
	}
	agent := agents.ID(agentID)
	var body forceBody
	if err := decodeBody(c, &body); err != nil {
		return err
	}
	body.Reason = strings.TrimSpace(body.Reason)
	if n := len([]rune(body.Reason)); n < 1 || n > 200 {
		return apiError(fiber.StatusBadRequest, "give a reason of 1 to 200 characters")
	}
	ctx := c.UserContext()
	before, err := s.engine.Agent(ctx, campaign, agent)
	if err != nil {
		return engineError(err)
	}
	rec := SupervisorAction{Campaign: campaign, Agent: agent, Action: action, Reason: body.Reason,
		AgentState: before.State.String()}
	switch action {
	case "force_pause":
		switch {
		case before.State == agents.LoggedOut:
			return apiError(fiber.StatusConflict, "agent %d is logged out", agent)
		case before.State == agents.Paused || before.PausePending != "":
			return apiError(fiber.StatusConflict, "agent %d is already paused or pausing after the call", agent)
		}
		if err := s.engine.Act(ctx, campaign, agent, ActPause, ForcedPauseCode); err != nil {
			return engineError(err)
		}
		after, err := s.engine.Agent(ctx, campaign, agent)
		if err != nil {
			return engineError(err)
		}
		rec.Outcome = "paused"
		if after.State != agents.Paused {
			rec.Outcome = "pause_after_call"
		}
	case "force_logout":
		if before.State == agents.LoggedOut {
			return apiError(fiber.StatusConflict, "agent %d is already logged out", agent)
		}
		if err := s.engine.Act(ctx, campaign, agent, ActLogoutIdle, ""); err != nil {
			if errors.Is(err, ErrBusy) {
				return apiError(fiber.StatusConflict, "agent %d has a call (%v): logging out now would cut the caller off or lose the disposition; force a pause, which is taken after the call, then log them out", agent, err)
			}
			return engineError(err)
		}
		rec.Outcome = "logged_out"
		if cur, ok := s.agentCampaignOf(agentID); ok && cur == int64(campaign) {
			s.setAgentCampaign(agentID, 0)
		}
	}
	ss := sessionOf(c)
	rec.ActorID, rec.ActorName, rec.At = ss.User.ID, ss.User.Username, s.clock.Now()
	if rec.ID, err = insertSupervisorAction(ctx, s.db, rec); err != nil {
		// The engine already acted; the answer says it was not recorded.
		return fmt.Errorf("%s of agent %d done but not audited: %w", action, agent, err)
	}
	s.log.Info("supervisor action", "action", action, "campaign", campaign, "agent", agent, "by", rec.ActorName,
		"outcome", rec.Outcome)
	return c.JSON(rec)
}

// apiSupervisorActions lists a campaign's audited supervisor actions,
// newest first (limit, default 200).
func (s *Server) apiSupervisorActions(c *fiber.Ctx) error {
	campaign, err := campaignParam(c)
	if err != nil {
		return err
	}
	list, err := supervisorActions(c.UserContext(), s.db, campaign, historyLimit(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"actions": list})
}

func insertSupervisorAction(ctx context.Context, db campaigns.DB, a SupervisorAction) (int64, error) {
	var id int64
	err := db.QueryRow(ctx, `INSERT INTO supervisor_actions (at, actor_id, actor_name, campaign_id, agent_id, action,
		reason, agent_state, outcome) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		a.At, a.ActorID, a.ActorName, int64(a.Campaign), int64(a.Agent), a.Action, a.Reason, a.AgentState, a.Outcome).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("audit %s of agent %d: %w", a.Action, a.Agent, err)
	}
	return id, nil
}

func supervisorActions(ctx context.Context, db campaigns.DB, campaign campaigns.ID, limit int) ([]SupervisorAction, error) {
	rows, err := db.Query(ctx, `SELECT id, at, actor_id, actor_name, campaign_id, agent_id, action, reason,
		agent_state, outcome FROM supervisor_actions WHERE campaign_id = $1 ORDER BY at DESC, id DESC LIMIT $2`,
		int64(campaign), limit)
	if err != nil {
		return nil, fmt.Errorf("supervisor actions of campaign %d: %w", campaign, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (SupervisorAction, error) {
		var a SupervisorAction
		err := r.Scan(&a.ID, &a.At, &a.ActorID, &a.ActorName, &a.Campaign, &a.Agent, &a.Action, &a.Reason,
			&a.AgentState, &a.Outcome)
		return a, err
	})
	if out == nil {
		out = []SupervisorAction{}
	}
	return out, err
}
