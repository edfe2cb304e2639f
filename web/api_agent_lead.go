package web

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/pacer-dialer/pacer/campaigns"
)

type leadEditRequest struct {
	// LeadID must be the lead on the agent's screen: an edit typed for one
	// call never lands on the next.
	LeadID campaigns.LeadID `json:"lead_id"`
	// Fields maps a field (first_name, …, custom.<name>) to its new value;
	// an empty custom value removes the field.
	Fields map[string]string `json:"fields"`
}

// apiAgentLeadEdit changes fields of the lead on the agent's screen (a
// preview, a call, or one awaiting its disposition). Each changed field is
// logged in lead_edits with who and when; the answer is the lead as it is
// now and the edits made (none when nothing changed).
func (s *Server) apiAgentLeadEdit(c *fiber.Ctx) error {
	if err := s.needEngine(); err != nil {
		return err
	}
	var req leadEditRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if req.LeadID <= 0 {
		return apiError(fiber.StatusBadRequest, "lead_id is required: the lead on your screen")
	}
	agent := sessionOf(c).User.ID
	if err := s.staleTab(c, agent); err != nil {
		return err
	}
	campaign, v, err := s.currentCall(c)
	if err != nil {
		return err
	}
	if v.Call == nil || v.Call.Lead != req.LeadID {
		return apiError(fiber.StatusNotFound, "lead %d is not on your screen", req.LeadID)
	}
	ctx := c.UserContext()
	camp, err := campaigns.Get(ctx, s.db, campaigns.ID(campaign))
	if err != nil {
		return err
	}
	edits, lead, err := campaigns.EditLead(ctx, s.db, campaigns.LeadChange{Lead: req.LeadID, Campaign: campaigns.ID(campaign),
		Fields: req.Fields, User: agent, Call: int64(v.Call.ID), At: s.clock.Now(), Region: camp.DefaultRegion})
	if err != nil {
		return workspaceStoreError(err)
	}
	if edits == nil {
		edits = []campaigns.LeadEdit{}
	}
	return c.JSON(fiber.Map{"lead": lead, "edits": edits, "local": leadLocal(lead, s.clock.Now())})
}

// apiAgentLeadEdits lists the edits made to the lead on the agent's screen.
func (s *Server) apiAgentLeadEdits(c *fiber.Ctx) error {
	id, err := s.leadOnScreen(c)
	if err != nil {
		return err
	}
	edits, err := campaigns.LeadEdits(c.UserContext(), s.db, id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"edits": edits})
}

// leadLocal is the time at the lead, for the lead panel.
func leadLocal(l campaigns.Lead, now time.Time) []campaigns.LocalTime {
	return campaigns.LeadLocalTimes(l, now)
}
