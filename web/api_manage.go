package web

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/pacer-dialer/pacer/campaigns"
)

func campaignParam(c *fiber.Ctx) (campaigns.ID, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, apiError(fiber.StatusBadRequest, "bad campaign id %q", c.Params("id"))
	}
	return campaigns.ID(id), nil
}

// storeError answers a campaigns store error: not found is 404, a refused
// setting 400.
func storeError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, campaigns.ErrNotFound) {
		return apiError(fiber.StatusNotFound, "%v", err)
	}
	var fe *fiber.Error
	if errors.As(err, &fe) {
		return err
	}
	if errors.Is(err, campaigns.ErrListBusy) || errors.Is(err, campaigns.ErrListDeleted) {
		return apiError(fiber.StatusConflict, "%v", err)
	}
	if f := campaigns.FieldOf(err); f != "" {
		return fieldError(fiber.StatusBadRequest, f, "%v", err)
	}
	return apiError(fiber.StatusBadRequest, "%v", err)
}

func (s *Server) apiCampaigns(c *fiber.Ctx) error {
	list, err := campaigns.List(c.UserContext(), s.db)
	if err != nil {
		return err
	}
	if list == nil {
		list = []campaigns.Campaign{}
	}
	return c.JSON(fiber.Map{"campaigns": list})
}

func (s *Server) apiCampaign(c *fiber.Ctx) error {
	id, err := campaignParam(c)
	if err != nil {
		return err
	}
	camp, err := campaigns.Get(c.UserContext(), s.db, id)
	if err != nil {
		return storeError(err)
	}
	dispos, err := campaigns.Dispositions(c.UserContext(), s.db, id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"campaign": camp, "dispositions": dispos})
}

// settingsBody turns a JSON object of settings into the text values the
// campaigns store parses (numbers and strings alike; no setting is true or
// false, and the name is text).
func settingsBody(c *fiber.Ctx) (string, map[string]string, error) {
	var body map[string]any
	if err := decodeBody(c, &body); err != nil {
		return "", nil, err
	}
	out := map[string]string{}
	var name string
	for k, v := range body {
		var sv string
		switch x := v.(type) {
		case string:
			sv = x
		case float64:
			if k == "name" {
				return "", nil, fieldError(fiber.StatusBadRequest, "name", "field \"name\" must be a string, not a number")
			}
			sv = strconv.FormatFloat(x, 'f', -1, 64)
		case nil:
			continue
		case map[string]any:
			parts := []string{}
			for st, w := range x {
				parts = append(parts, fmt.Sprintf("%s=%v", st, w))
			}
			sv = strings.Join(parts, ",")
		default:
			want := "a string or a number"
			if k == "name" {
				want = "a string"
			}
			return "", nil, fieldError(fiber.StatusBadRequest, k, "field %q must be %s", k, want)
		}
		if k == "name" {
			name = sv
		}
		out[k] = sv
	}
	return name, out, nil
}

func (s *Server) apiCampaignCreate(c *fiber.Ctx) error {
	name, settings, err := settingsBody(c)
	if err != nil {
		return err
	}
	if strings.TrimSpace(name) == "" {
		return fieldError(fiber.StatusBadRequest, "name", "name is required")
	}
	delete(settings, "name")
	camp, err := campaigns.Create(c.UserContext(), s.db, strings.TrimSpace(name), settings)
	if err != nil {
		return storeError(err)
	}
	s.log.Info("campaign created", "campaign", int64(camp.ID), "name", camp.Name, "by", sessionOf(c).User.Username)
	return c.Status(fiber.StatusCreated).JSON(camp)
}

func (s *Server) apiCampaignUpdate(c *fiber.Ctx) error {
	id, err := campaignParam(c)
	if err != nil {
		return err
	}
	_, settings, err := settingsBody(c)
	if err != nil {
		return err
	}
	camp, err := campaigns.Update(c.UserContext(), s.db, id, settings)
	if err != nil {
		return storeError(err)
	}
	return c.JSON(camp)
}

// apiCampaignArchive is DELETE: campaigns keep their call records, so a
// campaign is archived (stops dialling, hidden from agents), not erased.
func (s *Server) apiCampaignArchive(c *fiber.Ctx) error {
	return s.setCampaignStatus(c, campaigns.StatusArchived)
}

func (s *Server) apiCampaignStart(c *fiber.Ctx) error {
	return s.setCampaignStatus(c, campaigns.StatusActive)
}
func (s *Server) apiCampaignPause(c *fiber.Ctx) error {
	return s.setCampaignStatus(c, campaigns.StatusPaused)
}

func (s *Server) setCampaignStatus(c *fiber.Ctx, st campaigns.Status) error {
	id, err := campaignParam(c)
	if err != nil {
		return err
	}
	camp, err := campaigns.SetStatus(c.UserContext(), s.db, id, st)
	if err != nil {
		return storeError(err)
	}
	s.log.Info("campaign status changed", "campaign", int64(id), "status", string(st), "by", sessionOf(c).User.Username)
	return c.JSON(camp)
}

// apiDispositionSave adds a disposition or changes the fields the body
// gives (dispositionPatch); engine codes are refused, and each change is
// logged with who made it.
func (s *Server) apiDispositionSave(c *fiber.Ctx) error {
	id, err := campaignParam(c)
	if err != nil {
		return err
	}
	if _, err := campaigns.Get(c.UserContext(), s.db, id); err != nil {
		return storeError(err)
	}
	code := strings.ToUpper(c.Params("code"))
	p, err := dispositionPatch(c.Body(), code)
	if err != nil {
		return err
	}
	u := sessionOf(c).User
	_, err = campaigns.EditDisposition(c.UserContext(), s.db, id, code, p,
		campaigns.Editor{User: u.ID, Name: u.Username, At: s.clock.Now()})
	if errors.Is(err, campaigns.ErrEngineDisposition) {
		return apiError(fiber.StatusForbidden, "%v", err)
	}
	if err != nil {
		return storeError(err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// apiListUpload accepts a lead file (multipart field "file"; optional
// "format" csv|tsv|vicidial and "mapping" column=field,...), answers 202
// with the list id as soon as the import has started, and imports in the
// background; progress is pushed as "list" events and readable at
// GET /lists/{id}.
func (s *Server) apiListUpload(c *fiber.Ctx) error {
	id, err := campaignParam(c)
	if err != nil {
		return err
	}
	if _, err := campaigns.Get(c.UserContext(), s.db, id); err != nil {
		return storeError(err)
	}
	fh, err := c.FormFile("file")
	if err != nil {
		return apiError(fiber.StatusBadRequest, "send the lead file as multipart field \"file\"")
	}
	format, err := campaigns.ParseFileFormat(c.FormValue("format", "auto"))
	if err != nil {
		return apiError(fiber.StatusBadRequest, "%v", err)
	}
	mapping, err := campaigns.ParseMapping(c.FormValue("mapping"))
	if err != nil {
		return apiError(fiber.StatusBadRequest, "%v", err)
	}
	// The request's memory is reused once the handler returns: the import
	// reads from a private copy, in a spool the recovery sweep removes
	// should this process die before the import ends.
	src, err := fh.Open()
	if err != nil {
		return err
	}
	defer src.Close()
	spool, err := campaigns.NewImportSpool("")
	if err != nil {
		return err
	}
	tmp, err := spool.Create("upload-*")
	if err != nil {
		spool.Close()
		return err
	}
	size, err := io.Copy(tmp, src)
	if err == nil {
		_, err = tmp.Seek(0, io.SeekStart)
	}
	if err != nil {
		tmp.Close()
		spool.Close()
		return err
	}
	name := fh.Filename
	if len(name) > 200 {
		name = name[:200]
	}
	listed := make(chan campaigns.ListID, 1)
	finished := make(chan error, 1)
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		defer spool.Close()
		defer tmp.Close()
		var sent bool
		res, err := campaigns.Import(s.bgContext(), s.db, bufio.NewReaderSize(tmp, 1<<16), campaigns.ImportOptions{
			Campaign: id, Name: name, Format: format, Mapping: mapping, Size: size, ProgressEvery: 100 * time.Millisecond,
			Concurrency: s.cfg.ImportConcurrency, Spool: spool,
			Listed: func(list campaigns.ListID) {
				sent = true
				listed <- list
			},
			Progress: func(p campaigns.ImportProgress) {
				s.publish(Event{Type: "list", Campaign: int64(id), Data: map[string]any{"list_id": p.List,
					"status": "importing", "rows_read": p.RowsRead, "bytes_read": p.BytesRead, "bytes_total": p.Size}})
			}})
		if err != nil {
			s.log.Warn("lead import failed", "campaign", int64(id), "list", int64(res.List), "err", err)
		}
		if res.List != 0 {
			if l, gerr := campaigns.GetList(context.WithoutCancel(s.bgContext()), s.db, res.List); gerr == nil {
				s.publish(Event{Type: "list", Campaign: int64(id), Data: l})
			}
		}
		if !sent {
			finished <- err
		}
	}()
	select {
	case list := <-listed:
		// Queued or already importing: GET /lists/{id} says which, with
		// the place in the queue.
		l, err := campaigns.GetList(c.UserContext(), s.db, list)
		if err != nil {
			return storeError(err)
		}
		s.publish(Event{Type: "list", Campaign: int64(id), Data: l})
		return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"list_id": list, "status": l.Status,
			"queue_position": l.QueuePosition, "status_url": fmt.Sprintf("/api/v1/lists/%d", list)})
	case err := <-finished:
		return apiError(fiber.StatusBadRequest, "import failed: %v", err)
	}
}

func listParam(c *fiber.Ctx) (campaigns.ListID, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, apiError(fiber.StatusBadRequest, "bad list id")
	}
	return campaigns.ListID(id), nil
}

// apiList is a list's status, with progress while it imports.
func (s *Server) apiList(c *fiber.Ctx) error {
	id, err := listParam(c)
	if err != nil {
		return err
	}
	l, err := campaigns.GetList(c.UserContext(), s.db, id)
	if err != nil {
		return storeError(err)
	}
	return c.JSON(l)
}

func (s *Server) apiCampaignLists(c *fiber.Ctx) error {
	id, err := campaignParam(c)
	if err != nil {
		return err
	}
	if _, err := campaigns.Get(c.UserContext(), s.db, id); err != nil {
		return storeError(err)
	}
	ls, err := campaigns.ListsWithCounts(c.UserContext(), s.db, id, s.clock.Now())
	if err != nil {
		return err
	}
	if ls == nil {
		ls = []campaigns.ListCounts{}
	}
	return c.JSON(fiber.Map{"lists": ls})
}

// apiListErrors downloads the rejected rows as CSV (line, reason, raw).
func (s *Server) apiListErrors(c *fiber.Ctx) error {
	id, err := listParam(c)
	if err != nil {
		return err
	}
	if _, err := campaigns.GetList(c.UserContext(), s.db, id); err != nil {
		return storeError(err)
	}
	var b strings.Builder
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"line", "reason", "raw"})
	err = campaigns.ImportErrors(c.UserContext(), s.db, id, func(r campaigns.RejectedRow) error {
		return w.Write([]string{strconv.Itoa(r.Line), campaigns.CSVSafe(r.Reason), campaigns.CSVSafe(r.Raw)})
	})
	if err != nil {
		return err
	}
	w.Flush()
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="list-%d-rejected.csv"`, id))
	c.Type("csv")
	return c.SendString(b.String())
}

// dncScopeOf reads campaign_id (absent or 0: the global list).
func (s *Server) dncScopeOf(c *fiber.Ctx, fromBody int64) (campaigns.DNCScope, string, error) {
	id := fromBody
	if id == 0 {
		id = int64(c.QueryInt("campaign_id", 0))
	}
	if id == 0 {
		return campaigns.Global, "US", nil
	}
	camp, err := campaigns.Get(c.UserContext(), s.db, campaigns.ID(id))
	if err != nil {
		return campaigns.DNCScope{}, "", storeError(err)
	}
	return campaigns.DNCScope{Campaign: camp.ID}, camp.DefaultRegion, nil
}

func (s *Server) apiDNCList(c *fiber.Ctx) error {
	scope, _, err := s.dncScopeOf(c, 0)
	if err != nil {
		return err
	}
	es, err := campaigns.ListDNC(c.UserContext(), s.db, scope, 500)
	if err != nil {
		return err
	}
	if es == nil {
		es = []campaigns.DNCEntry{}
	}
	return c.JSON(fiber.Map{"numbers": es})
}

type dncRequest struct {
	Campaign int64    `json:"campaign_id"`
	Phones   []string `json:"phones"`
	// Reason is required to remove numbers.
	Reason string `json:"reason"`
	// Via is "console" from the manager console; empty or "api" otherwise.
	Via string `json:"via"`
}

// dncChangeBy is a change the session's user makes.
func (s *Server) dncChangeBy(c *fiber.Ctx, how campaigns.DNCHow, reason string) campaigns.DNCChange {
	u := sessionOf(c).User
	return campaigns.DNCChange{How: how, ByUser: u.ID, By: u.Username, Reason: reason, At: s.clock.Now()}
}

func (s *Server) apiDNCChange(add bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req dncRequest
		if err := decodeBody(c, &req); err != nil {
			return err
		}
		if len(req.Phones) == 0 || len(req.Phones) > 10000 {
			return apiError(fiber.StatusBadRequest, "body must be {\"phones\":[...],\"campaign_id\",\"reason\"} with 1-10000 numbers")
		}
		how := campaigns.DNCViaAPI
		switch req.Via {
		case "", "api":
		case "console":
			how = campaigns.DNCViaConsole
		default:
			return apiError(fiber.StatusBadRequest, "via must be \"api\" or \"console\"")
		}
		if !add && strings.TrimSpace(req.Reason) == "" {
			return apiError(fiber.StatusBadRequest, "%v: send it as \"reason\"", campaigns.ErrDNCReasonRequired)
		}
		scope, region, err := s.dncScopeOf(c, req.Campaign)
		if err != nil {
			return err
		}
		var phones []string
		for _, p := range req.Phones {
			e, err := campaigns.NormalizePhone(p, region)
			if err != nil {
				return apiError(fiber.StatusBadRequest, "%q: %v", p, err)
			}
			phones = append(phones, e)
		}
		by := s.dncChangeBy(c, how, req.Reason)
		var n int64
		if add {
			n, err = campaigns.AddDNC(c.UserContext(), s.db, scope, phones, by)
		} else {
			n, err = campaigns.RemoveDNC(c.UserContext(), s.db, scope, phones, by)
		}
		if errors.Is(err, campaigns.ErrDNCReasonRequired) || errors.Is(err, campaigns.ErrDNCReasonTooLong) {
			return apiError(fiber.StatusBadRequest, "%v", err)
		}
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"changed": n, "phones": phones})
	}
}

// apiDNCImport adds the numbers of a file (multipart "file"; optional
// "reason", else the file's name is recorded as the reason).
func (s *Server) apiDNCImport(c *fiber.Ctx) error {
	scope, region, err := s.dncScopeOf(c, int64(c.QueryInt("campaign_id", 0)))
	if err != nil {
		return err
	}
	fh, err := c.FormFile("file")
	if err != nil {
		return apiError(fiber.StatusBadRequest, "send the numbers as multipart field \"file\", one per line")
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	reason := strings.TrimSpace(c.FormValue("reason"))
	if reason == "" {
		name := []rune(fh.Filename)
		reason = "import of " + string(name[:min(len(name), 200)])
	}
	res, err := campaigns.ImportDNC(c.UserContext(), s.db, scope, f, region, s.dncChangeBy(c, campaigns.DNCViaImport, reason))
	if err != nil {
		return storeError(err)
	}
	return c.JSON(res)
}

type userRequest struct {
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	Role        string `json:"role"`
	Password    string `json:"password"`
}

func (s *Server) apiUserCreate(c *fiber.Ctx) error {
	var req userRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	role, err := ParseRole(req.Role)
	if err != nil {
		return apiError(fiber.StatusBadRequest, "%v", err)
	}
	if (role == RoleAdmin || role == RoleManager) && sessionOf(c).User.Role != RoleAdmin {
		return apiError(fiber.StatusForbidden, "only an admin may create %s users", role)
	}
	u, err := CreateUser(c.UserContext(), s.db, NewUser{Username: req.Username, DisplayName: req.DisplayName, Role: role,
		Password: req.Password, Cost: s.cfg.BcryptCost})
	if errors.Is(err, ErrUserExists) {
		return apiError(fiber.StatusConflict, "%v", err)
	}
	if err != nil {
		return apiError(fiber.StatusBadRequest, "%v", err)
	}
	if err := RecordUserEvent(c.UserContext(), s.db, u.ID, "create", sessionOf(c).User); err != nil {
		return err
	}
	s.log.Info("user created", "user", u.Username, "role", string(u.Role), "by", sessionOf(c).User.Username)
	return c.Status(fiber.StatusCreated).JSON(u)
}

func (s *Server) apiUserDisable(disabled bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := c.ParamsInt("id")
		if err != nil {
			return apiError(fiber.StatusBadRequest, "bad user id")
		}
		u, err := GetUser(c.UserContext(), s.db, int64(id))
		if errors.Is(err, ErrUserNotFound) {
			return apiError(fiber.StatusNotFound, "user %d not found", id)
		}
		if err != nil {
			return err
		}
		me := sessionOf(c).User
		if u.ID == me.ID {
			return apiError(fiber.StatusBadRequest, "you cannot disable yourself")
		}
		if (u.Role == RoleAdmin || u.Role == RoleManager) && me.Role != RoleAdmin {
			return apiError(fiber.StatusForbidden, "only an admin may change %s users", u.Role)
		}
		if err := SetDisabled(c.UserContext(), s.db, u.ID, disabled); err != nil {
			return err
		}
		action := "enable"
		if disabled {
			action = "disable"
		}
		if err := RecordUserEvent(c.UserContext(), s.db, u.ID, action, me); err != nil {
			return err
		}
		if disabled && u.Role == RoleAgent {
			s.logoutAgent(c.UserContext(), u.ID)
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
}
