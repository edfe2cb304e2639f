package web

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
)

type transferNumberRequest struct {
	Campaign *campaigns.ID `json:"campaign_id"`
	Label    string        `json:"label"`
	Number   string        `json:"number"`
}

// apiTransferNumbers lists the directory's external numbers.
func (s *Server) apiTransferNumbers(c *fiber.Ctx) error {
	list, err := campaigns.ListTransferNumbers(c.UserContext(), s.db)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"transfer_numbers": list})
}

// apiTransferNumberCreate adds a number: E.164, or national in the
// campaign's default region when it names a campaign.
func (s *Server) apiTransferNumberCreate(c *fiber.Ctx) error {
	var req transferNumberRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	region := ""
	if req.Campaign != nil {
		camp, err := campaigns.Get(c.UserContext(), s.db, *req.Campaign)
		if err != nil {
			return workspaceStoreError(err)
		}
		region = camp.DefaultRegion
	}
	t, err := campaigns.AddTransferNumber(c.UserContext(), s.db,
		campaigns.TransferNumber{Campaign: req.Campaign, Label: req.Label, Number: req.Number}, region)
	if err != nil {
		return workspaceStoreError(err)
	}
	return c.Status(fiber.StatusCreated).JSON(t)
}

func (s *Server) apiTransferNumberDelete(c *fiber.Ctx) error {
	id, err := c.ParamsInt("id")
	if err != nil || id <= 0 {
		return apiError(fiber.StatusBadRequest, "bad transfer number id")
	}
	if err := campaigns.DeleteTransferNumber(c.UserContext(), s.db, int64(id)); err != nil {
		return workspaceStoreError(err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// directoryAgent is another agent of the campaign, as the transfer
// directory shows them.
type directoryAgent struct {
	Agent    agents.ID    `json:"agent_id"`
	Username string       `json:"username"`
	Name     string       `json:"name"`
	State    agents.State `json:"state"`
	Target   string       `json:"target"` // what POST /agent/call/transfer takes
}

// apiAgentTransferDirectory is whom the agent can transfer to: the other
// agents logged in to their campaign with their state (from the engine),
// and the saved external numbers. Queues come with inbound; until then
// there are none and the list is empty.
func (s *Server) apiAgentTransferDirectory(c *fiber.Ctx) error {
	if err := s.needEngine(); err != nil {
		return err
	}
	me := sessionOf(c).User.ID
	campaign, ok := s.agentCampaignOf(me)
	if !ok {
		return apiError(fiber.StatusConflict, "you are not logged in to a campaign")
	}
	ctx := c.UserContext()
	people, err := s.directoryAgents(ctx, campaigns.ID(campaign), me)
	if err != nil {
		return err
	}
	numbers, err := campaigns.CampaignTransferNumbers(ctx, s.db, campaigns.ID(campaign))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"agents": people, "queues": []string{}, "numbers": numbers})
}

// directoryAgents are the campaign's agents but me that have a user
// (simulated agents have none and cannot take a transfer).
func (s *Server) directoryAgents(ctx context.Context, campaign campaigns.ID, me int64) ([]directoryAgent, error) {
	st, err := s.engine.Status(ctx, campaign)
	if err != nil {
		return nil, engineError(err)
	}
	out := []directoryAgent{}
	for _, a := range st.Agents {
		if int64(a.Agent) == me || a.State == agents.LoggedOut {
			continue
		}
		u, err := GetUser(ctx, s.db, int64(a.Agent))
		if err != nil || u.Role != RoleAgent || u.Disabled {
			continue
		}
		out = append(out, directoryAgent{Agent: a.Agent, Username: u.Username, Name: u.DisplayName, State: a.State,
			Target: "agent:" + u.Username})
	}
	return out, nil
}
