package web

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
)

// Which agents work which campaign (campaigns.AssignAgents): listed for
// supervisors and managers, changed by managers. An agent taken off a
// campaign they are working gets no new call there: one between calls is
// logged out of it at once; one on a call or in its disposition finishes
// it, is paused (code UNASSIGNED) so no call follows, and is logged out when
// the disposition is saved. Either way the workspace is told why.

// PauseUnassigned is the pause code of an agent taken off the campaign
// during a call.
const PauseUnassigned = "UNASSIGNED"

// AssignedAgent is one agent on a campaign.
type AssignedAgent struct {
	ID          int64     `json:"agent_id"`
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name"`
	AssignedAt  time.Time `json:"assigned_at"`
	// Simulated marks the simulated agents of `pacer serve --sim-agents`
	// (ids 1..N), who are not users.
	Simulated bool `json:"simulated"`
}

// firstUserID is the smallest id a user has (migration 0003): smaller ids
// are simulated agents.
const firstUserID = 1_000_001

func (s *Server) assignedAgents(ctx context.Context, campaign campaigns.ID) ([]AssignedAgent, error) {
	list, err := campaigns.CampaignAgents(ctx, s.db, campaign)
	if err != nil {
		return nil, err
	}
	out := make([]AssignedAgent, 0, len(list))
	for _, a := range list {
		v := AssignedAgent{ID: a.Agent, AssignedAt: a.AssignedAt, Simulated: a.Agent < firstUserID}
		if v.Simulated {
			v.Username = fmt.Sprintf("sim-%d", a.Agent)
		} else if u, err := GetUser(ctx, s.db, a.Agent); err == nil {
			v.Username, v.DisplayName = u.Username, u.DisplayName
		}
		out = append(out, v)
	}
	return out, nil
}

// apiCampaignAgents lists the campaign's assigned agents.
func (s *Server) apiCampaignAgents(c *fiber.Ctx) error {
	id, err := campaignParam(c)
	if err != nil {
		return err
	}
	if _, err := campaigns.Get(c.UserContext(), s.db, id); err != nil {
		return storeError(err)
	}
	list, err := s.assignedAgents(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"agents": list})
}

// assignBody names agents by user id or username (both may be given).
type assignBody struct {
	AgentIDs  []int64  `json:"agent_ids"`
	Usernames []string `json:"usernames"`
}

// agentIDs resolves the body to the ids of active agent users.
func (s *Server) agentIDs(ctx context.Context, b assignBody) ([]int64, error) {
	var ids []int64
	check := func(u User, err error, name string) error {
		if err != nil || u.Role != RoleAgent || u.Disabled {
			return apiError(fiber.StatusBadRequest, "%s is not an active agent", name)
		}
		ids = append(ids, u.ID)
		return nil
	}
	for _, id := range b.AgentIDs {
		u, err := GetUser(ctx, s.db, id)
		if err := check(u, err, fmt.Sprintf("user %d", id)); err != nil {
			return nil, err
		}
	}
	for _, name := range b.Usernames {
		name = strings.TrimSpace(name)
		u, err := GetUserByName(ctx, s.db, name)
		if err := check(u, err, fmt.Sprintf("%q", name)); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// apiCampaignAgentsChange adds agents (POST) or makes them the whole list
// (PUT); the answer is the list after the change.
func (s *Server) apiCampaignAgentsChange(replace bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := campaignParam(c)
		if err != nil {
			return err
		}
		var body assignBody
		if err := c.BodyParser(&body); err != nil {
			return apiError(fiber.StatusBadRequest, `body must be {"agent_ids": [N, ...], "usernames": ["name", ...]}`)
		}
		ctx := c.UserContext()
		ids, err := s.agentIDs(ctx, body)
		if err != nil {
			return err
		}
		if !replace && len(ids) == 0 {
			return apiError(fiber.StatusBadRequest, "name at least one agent in agent_ids or usernames")
		}
		var removed []int64
		if replace {
			_, removed, err = campaigns.SetAgents(ctx, s.db, id, ids)
		} else {
			_, err = campaigns.AssignAgents(ctx, s.db, id, ids)
		}
		if err != nil {
			return storeError(err)
		}
		s.unassigned(ctx, id, removed)
		return s.apiCampaignAgents(c)
	}
}

// apiCampaignAgentRemove takes one agent off the campaign.
func (s *Server) apiCampaignAgentRemove(c *fiber.Ctx) error {
	id, err := campaignParam(c)
	if err != nil {
		return err
	}
	agent, err := c.ParamsInt("agent")
	if err != nil || agent <= 0 {
		return apiError(fiber.StatusBadRequest, "bad agent id %q", c.Params("agent"))
	}
	ctx := c.UserContext()
	removed, err := campaigns.UnassignAgents(ctx, s.db, id, []int64{int64(agent)})
	if err != nil {
		return storeError(err)
	}
	if len(removed) == 0 {
		return apiError(fiber.StatusNotFound, "agent %d is not assigned to campaign %d", agent, id)
	}
	s.unassigned(ctx, id, removed)
	return s.apiCampaignAgents(c)
}

// unassigned ends the work of agents just taken off campaign: see the top
// of this file.
func (s *Server) unassigned(ctx context.Context, campaign campaigns.ID, removed []int64) {
	if s.engine == nil {
		return
	}
	for _, agent := range removed {
		if cur, ok := s.agentCampaignOf(agent); !ok || cur != int64(campaign) {
			continue
		}
		reason := fmt.Sprintf("a manager took you off campaign %d", campaign)
		v, err := s.engine.Agent(ctx, campaign, agents.ID(agent))
		if err != nil {
			continue
		}
		switch v.State {
		case agents.InCall, agents.Dispo, agents.Ringing, agents.Dialing:
			if err := s.engine.Act(ctx, campaign, agents.ID(agent), ActPause, PauseUnassigned); err != nil {
				s.log.Warn("pause an unassigned agent after their call", "agent", agent, "err", err)
			}
			reason += "; finish this call and its disposition, then you are logged out of it"
		default:
			s.logoutAgent(ctx, agent)
			reason += "; you are logged out of it"
		}
		s.publish(Event{Type: "unassigned", Campaign: int64(campaign), Agent: agent, Data: fiber.Map{"reason": reason}})
	}
}

// logoutIfUnassigned logs out, after their disposition, an agent taken off
// the campaign during the call.
func (s *Server) logoutIfUnassigned(ctx context.Context, campaign, agent int64) (string, error) {
	err := campaigns.CheckAssigned(ctx, s.db, campaigns.ID(campaign), agent)
	if !errors.Is(err, campaigns.ErrNotAssigned) {
		return "", err
	}
	s.logoutAgent(ctx, agent)
	return fmt.Sprintf("you are no longer assigned to campaign %d and were logged out of it", campaign), nil
}

// checkAssigned refuses to let an agent join a campaign they are not
// assigned to.
func (s *Server) checkAssigned(ctx context.Context, campaign, agent int64) error {
	err := campaigns.CheckAssigned(ctx, s.db, campaigns.ID(campaign), agent)
	if errors.Is(err, campaigns.ErrNotAssigned) {
		name := fmt.Sprintf("campaign %d", campaign)
		if camp, err := campaigns.Get(ctx, s.db, campaigns.ID(campaign)); err == nil {
			name = fmt.Sprintf("campaign %q", camp.Name)
		}
		return apiError(fiber.StatusForbidden, "you are not assigned to %s; ask a manager to assign you", name)
	}
	return err
}
