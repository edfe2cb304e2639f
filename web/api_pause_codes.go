package web

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
)

// workspaceStoreError answers a refused pause code or transfer number.
func workspaceStoreError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, campaigns.ErrNotFound):
		return apiError(fiber.StatusNotFound, "%v", err)
	case errors.Is(err, campaigns.ErrDuplicate):
		return apiError(fiber.StatusConflict, "%v", err)
	case errors.Is(err, campaigns.ErrInputInvalid), errors.Is(err, campaigns.ErrPauseCode):
		return apiError(fiber.StatusBadRequest, "%v", err)
	}
	return err
}

type pauseCodeRequest struct {
	Campaign *campaigns.ID `json:"campaign_id"`
	Code     string        `json:"code"`
	Label    string        `json:"label"`
	Billable bool          `json:"billable"`
	LimitMin *int          `json:"limit_min"`
}

func (r pauseCodeRequest) code(id int64) campaigns.PauseCode {
	return campaigns.PauseCode{ID: id, Campaign: r.Campaign, Code: r.Code, Label: r.Label, Billable: r.Billable, LimitMin: r.LimitMin}
}

// apiPauseCodes lists every pause code (campaign_id null: every campaign).
func (s *Server) apiPauseCodes(c *fiber.Ctx) error {
	list, err := campaigns.ListPauseCodes(c.UserContext(), s.db)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"pause_codes": list})
}

// apiPauseCodeCreate adds a pause code, for a campaign or every campaign.
func (s *Server) apiPauseCodeCreate(c *fiber.Ctx) error {
	var req pauseCodeRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	p, err := campaigns.SavePauseCode(c.UserContext(), s.db, req.code(0))
	if err != nil {
		return workspaceStoreError(err)
	}
	return c.Status(fiber.StatusCreated).JSON(p)
}

// apiPauseCodeUpdate replaces a pause code's fields.
func (s *Server) apiPauseCodeUpdate(c *fiber.Ctx) error {
	id, err := c.ParamsInt("id")
	if err != nil || id <= 0 {
		return apiError(fiber.StatusBadRequest, "bad pause code id")
	}
	var req pauseCodeRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	p, err := campaigns.SavePauseCode(c.UserContext(), s.db, req.code(int64(id)))
	if err != nil {
		return workspaceStoreError(err)
	}
	return c.JSON(p)
}

func (s *Server) apiPauseCodeDelete(c *fiber.Ctx) error {
	id, err := c.ParamsInt("id")
	if err != nil || id <= 0 {
		return apiError(fiber.StatusBadRequest, "bad pause code id")
	}
	if err := campaigns.DeletePauseCode(c.UserContext(), s.db, int64(id)); err != nil {
		return workspaceStoreError(err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// agentCampaignParam is the campaign an agent asks about: the one they work,
// else the one they name (?campaign_id=, from the page's picker), which must
// be running and assigned to them.
func (s *Server) agentCampaignParam(c *fiber.Ctx) (campaigns.ID, error) {
	agent := sessionOf(c).User.ID
	if campaign, ok := s.agentCampaignOf(agent); ok {
		return campaigns.ID(campaign), nil
	}
	id := c.QueryInt("campaign_id", 0)
	if id <= 0 {
		return 0, apiError(fiber.StatusBadRequest, "you work no campaign yet: name one with ?campaign_id=")
	}
	if err := s.checkAssigned(c.UserContext(), int64(id), agent); err != nil {
		return 0, err
	}
	return campaigns.ID(id), nil
}

// apiAgentPauseCodes are the pause codes the agent may choose in their
// campaign, with the time limit the wallboard holds a pause to.
func (s *Server) apiAgentPauseCodes(c *fiber.Ctx) error {
	campaign, err := s.agentCampaignParam(c)
	if err != nil {
		return err
	}
	list, err := campaigns.CampaignPauseCodes(c.UserContext(), s.db, campaign)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"campaign_id": campaign, "pause_codes": list})
}

// checkPauseCode normalizes the pause code an agent chose and refuses one
// their campaign does not list (campaign 0: the one they are joining,
// checked once it is known).
func (s *Server) checkPauseCode(c *fiber.Ctx, campaign int64, code string) (string, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	if code == "" {
		code = agents.PauseCodeDefault
	}
	if !pauseCodePattern(code) {
		return "", apiError(fiber.StatusBadRequest, "pause code must be 1-16 of A-Z, 0-9 and _")
	}
	if _, err := campaigns.CampaignPauseCode(c.UserContext(), s.db, campaigns.ID(campaign), code); err != nil {
		if errors.Is(err, campaigns.ErrPauseCode) {
			return "", apiError(fiber.StatusBadRequest, "%v; choose one from the list", err)
		}
		return "", err
	}
	return code, nil
}
