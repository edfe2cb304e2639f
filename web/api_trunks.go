package web

import (
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/pacer-dialer/pacer/campaigns"
)

// trunkRequest is a trunk to add or the fields to change. password is
// write-only: answers never carry it (password_set says whether there is
// one); "" removes it, leaving it out keeps it.
type trunkRequest struct {
	Name           *string  `json:"name"`
	URI            *string  `json:"uri"`
	Username       *string  `json:"username"`
	Password       *string  `json:"password"`
	MaxChannels    *int     `json:"max_channels"`
	CPS            *float64 `json:"cps"`
	CallerIDHeader *string  `json:"caller_id_header"`
	TransferMethod *string  `json:"transfer_method"`
	Enabled        *bool    `json:"enabled"`
}

func (r trunkRequest) spec() campaigns.TrunkSpec {
	return campaigns.TrunkSpec{Name: r.Name, URI: r.URI, Username: r.Username, Password: r.Password,
		MaxChannels: r.MaxChannels, CPS: r.CPS, CallerIDHeader: r.CallerIDHeader,
		TransferMethod: r.TransferMethod, Enabled: r.Enabled}
}

// trunkStoreError answers a refused trunk change: a bad field 400 naming
// it, a trunk in use 409 naming the campaigns, a campaign whose state
// forbids the change (simulated, or active without its information
// message) 409 naming the setting, not found 404.
func trunkStoreError(err error) error {
	var te *campaigns.TrunkError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, campaigns.ErrTrunkInUse):
		return apiError(fiber.StatusConflict, "%v", err)
	case errors.As(err, &te):
		return fieldError(fiber.StatusBadRequest, te.Field, "%v", err)
	case errors.Is(err, campaigns.ErrNotFound):
		return apiError(fiber.StatusNotFound, "%v", err)
	case campaigns.FieldOf(err) != "":
		return fieldError(fiber.StatusConflict, campaigns.FieldOf(err), "%v", err)
	case errors.Is(err, campaigns.ErrInputInvalid):
		return apiError(fiber.StatusBadRequest, "%v", err)
	}
	return err
}

func trunkParam(c *fiber.Ctx) (campaigns.TrunkID, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, apiError(fiber.StatusBadRequest, "bad trunk id %q", c.Params("id"))
	}
	return campaigns.TrunkID(id), nil
}

// apiTrunks lists the trunks with the campaigns using each.
func (s *Server) apiTrunks(c *fiber.Ctx) error {
	list, err := campaigns.ListTrunks(c.UserContext(), s.db)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"trunks": list})
}

func (s *Server) apiTrunk(c *fiber.Ctx) error {
	id, err := trunkParam(c)
	if err != nil {
		return err
	}
	t, err := campaigns.GetTrunk(c.UserContext(), s.db, id)
	if err != nil {
		return trunkStoreError(err)
	}
	return c.JSON(t)
}

func (s *Server) apiTrunkCreate(c *fiber.Ctx) error {
	var req trunkRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	t, err := campaigns.AddTrunk(c.UserContext(), s.db, req.spec())
	if err != nil {
		return trunkStoreError(err)
	}
	s.log.Info("trunk added", "trunk", int64(t.ID), "name", t.Name, "by", sessionOf(c).User.Username)
	return c.Status(fiber.StatusCreated).JSON(t)
}

func (s *Server) apiTrunkUpdate(c *fiber.Ctx) error {
	id, err := trunkParam(c)
	if err != nil {
		return err
	}
	var req trunkRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if req.spec() == (campaigns.TrunkSpec{}) {
		return apiError(fiber.StatusBadRequest, "nothing to change: send at least one field")
	}
	t, err := campaigns.UpdateTrunk(c.UserContext(), s.db, id, req.spec())
	if err != nil {
		return trunkStoreError(err)
	}
	s.log.Info("trunk changed", "trunk", int64(t.ID), "name", t.Name, "by", sessionOf(c).User.Username)
	return c.JSON(t)
}

func (s *Server) apiTrunkDelete(c *fiber.Ctx) error {
	id, err := trunkParam(c)
	if err != nil {
		return err
	}
	if err := campaigns.DeleteTrunk(c.UserContext(), s.db, id); err != nil {
		return trunkStoreError(err)
	}
	s.log.Info("trunk removed", "trunk", int64(id), "by", sessionOf(c).User.Username)
	return c.SendStatus(fiber.StatusNoContent)
}

// apiCampaignTrunks is the campaign's trunks in priority order; none means
// the simulated carrier.
func (s *Server) apiCampaignTrunks(c *fiber.Ctx) error {
	id, err := campaignParam(c)
	if err != nil {
		return err
	}
	if _, err := campaigns.Get(c.UserContext(), s.db, id); err != nil {
		return storeError(err)
	}
	list, err := campaigns.CampaignTrunks(c.UserContext(), s.db, id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"trunks": list})
}

// apiCampaignTrunksSet replaces the campaign's trunks: {"trunks": ["a", "b"]}
// by name, first tried first; [] puts it back on the simulated carrier.
func (s *Server) apiCampaignTrunksSet(c *fiber.Ctx) error {
	id, err := campaignParam(c)
	if err != nil {
		return err
	}
	var req struct {
		Trunks []string `json:"trunks"`
	}
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if req.Trunks == nil {
		return fieldError(fiber.StatusBadRequest, "trunks", `send {"trunks": [names in priority order]}; [] for the simulated carrier`)
	}
	list, err := campaigns.SetCampaignTrunks(c.UserContext(), s.db, id, req.Trunks)
	if err != nil {
		return trunkStoreError(err)
	}
	s.log.Info("campaign trunks set", "campaign", int64(id), "trunks", req.Trunks, "by", sessionOf(c).User.Username)
	return c.JSON(fiber.Map{"trunks": list})
}
