package web

import (
	"crypto/rand"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/pacer-dialer/pacer/campaigns"
)

// apiCampaignFields describes every campaign setting (label, group, unit,
// the range the store checks and what the law adds), for the campaign
// editor: the numbers come from the rules that check them.
func (s *Server) apiCampaignFields(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"fields": campaigns.FieldSpecs(), "lead_classes": campaigns.LeadClasses})
}

// apiListDelete deletes a list's leads (campaigns.DeleteList): 409 while it
// imports or while calls or callbacks of its leads are under way.
func (s *Server) apiListDelete(c *fiber.Ctx) error {
	id, err := listParam(c)
	if err != nil {
		return err
	}
	by := sessionOf(c).User.Username
	res, err := campaigns.DeleteList(c.UserContext(), s.db, id, by)
	if err != nil {
		return storeError(err)
	}
	s.log.Info("lead list deleted", "list", int64(id), "leads", res.Deleted, "by", by)
	if l, err := campaigns.GetList(c.UserContext(), s.db, id); err == nil {
		s.publish(Event{Type: "list", Campaign: int64(l.Campaign), Data: l})
	}
	return c.JSON(res)
}

type recycleRequest struct {
	Dispositions  []string `json:"dispositions"`
	ResetAttempts bool     `json:"reset_attempts"`
	// DryRun counts what would change and changes nothing (the console's
	// confirmation).
	DryRun bool `json:"dry_run"`
}

// apiListRecycle makes leads of a list callable again by last disposition;
// with dry_run it only counts them.
func (s *Server) apiListRecycle(c *fiber.Ctx) error {
	id, err := listParam(c)
	if err != nil {
		return err
	}
	var req recycleRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if len(req.Dispositions) == 0 || len(req.Dispositions) > 100 {
		return fieldError(fiber.StatusBadRequest, "dispositions", "name 1 to 100 dispositions to recycle, e.g. {\"dispositions\":[\"NA\",\"B\"]}")
	}
	r := campaigns.ListRecycle{List: id, Dispositions: req.Dispositions, ResetAttempts: req.ResetAttempts, At: s.clock.Now()}
	var p campaigns.RecyclePreview
	if req.DryRun {
		p, err = campaigns.PreviewListRecycle(c.UserContext(), s.db, r)
	} else {
		p, err = campaigns.RecycleList(c.UserContext(), s.db, r)
	}
	if err != nil {
		return storeError(err)
	}
	if !req.DryRun {
		s.log.Info("lead list recycled", "list", int64(id), "dispositions", req.Dispositions, "reset_attempts", req.ResetAttempts,
			"leads", p.Matched, "by", sessionOf(c).User.Username)
	}
	return c.JSON(fiber.Map{"dry_run": req.DryRun, "matched": p.Matched, "at_limit": p.AtLimit, "callable": p.Callable})
}

// apiListExport downloads a list's leads as CSV, in file order, each with
// its class (new, dialling, callable, retry_later, callback, finished, dnc)
// at the time of the download. Every text cell goes through CSVSafe, so a
// lead's name cannot be a spreadsheet formula.
func (s *Server) apiListExport(c *fiber.Ctx) error {
	id, err := listParam(c)
	if err != nil {
		return err
	}
	l, err := campaigns.GetList(c.UserContext(), s.db, id)
	if err != nil {
		return storeError(err)
	}
	now := s.clock.Now()
	// The body is written after the handler returns: the export runs on
	// the server's context. An error half-way ends the download early (the
	// status is sent by then); it is logged.
	ctx := s.bgContext()
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="list-%d-leads.csv"`, l.ID))
	c.Type("csv")
	pr, pw := io.Pipe()
	go func() {
		w := csv.NewWriter(pw)
		_ = w.Write([]string{"id", "line", "phone", "first_name", "last_name", "state", "postal_code", "email", "status",
			"attempts", "last_outcome", "last_disposition", "last_attempt_at", "next_attempt_at"})
		err := campaigns.ExportList(ctx, s.db, id, now, func(e campaigns.ExportedLead) error {
			last := ""
			if e.LastAttemptAt != nil {
				last = e.LastAttemptAt.UTC().Format(time.RFC3339)
			}
			return w.Write([]string{strconv.FormatInt(int64(e.ID), 10), strconv.Itoa(e.Line), campaigns.CSVSafe(e.Phone),
				campaigns.CSVSafe(e.FirstName), campaigns.CSVSafe(e.LastName), campaigns.CSVSafe(e.State),
				campaigns.CSVSafe(e.PostalCode), campaigns.CSVSafe(e.Email), e.Class, strconv.Itoa(e.Attempts),
				campaigns.CSVSafe(e.LastOutcome), campaigns.CSVSafe(e.LastDisposition), last,
				e.NextAttemptAt.UTC().Format(time.RFC3339)})
		})
		w.Flush()
		if err == nil {
			err = w.Error()
		}
		if err != nil {
			s.log.Warn("list export failed", "list", int64(id), "err", err)
		}
		pw.CloseWithError(err)
	}()
	// The pipe's reader is closed by the server when the response ends, so
	// a client that goes away stops the export (its writes then fail).
	return c.SendStream(pr)
}

// userView is a user with the campaigns an agent is assigned to.
type userView struct {
	User
	Campaigns []int64 `json:"campaigns"`
}

func (s *Server) apiUsers(c *fiber.Ctx) error {
	us, err := ListUsers(c.UserContext(), s.db)
	if err != nil {
		return err
	}
	rows, err := s.db.Query(c.UserContext(), `SELECT agent_id, array_agg(campaign_id ORDER BY campaign_id) FROM campaign_agents GROUP BY agent_id`)
	if err != nil {
		return err
	}
	assigned := map[int64][]int64{}
	for rows.Next() {
		var agent int64
		var ids []int64
		if err := rows.Scan(&agent, &ids); err != nil {
			rows.Close()
			return err
		}
		assigned[agent] = ids
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	out := make([]userView, len(us))
	for i, u := range us {
		out[i] = userView{User: u, Campaigns: assigned[u.ID]}
		if out[i].Campaigns == nil {
			out[i].Campaigns = []int64{}
		}
	}
	return c.JSON(fiber.Map{"users": out})
}

type passwordRequest struct {
	// Password is the new password; empty with Generate true makes one,
	// answered once in "password".
	Password string `json:"password"`
	Generate bool   `json:"generate"`
}

// choose fills in a generated password when the request asks for one, and
// refuses a request with both a password and generate, or with neither
// (missing says what to send).
func (r *passwordRequest) choose(missing string) error {
	switch {
	case r.Generate && r.Password != "":
		return apiError(fiber.StatusBadRequest, "send either a password or generate, not both")
	case r.Generate:
		p, err := generatePassword()
		if err != nil {
			return err
		}
		r.Password = p
	case r.Password == "":
		return fieldError(fiber.StatusBadRequest, "password", "%s", missing)
	}
	return nil
}

// generatedPasswordLen is long enough (16 of 56 symbols: ~93 bits) to need
// no other rule.
const generatedPasswordLen = 16

// generatePassword makes a password without look-alike characters.
func generatePassword() (string, error) {
	const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, generatedPasswordLen)
	for i := range b {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			return "", err
		}
		b[i] = alphabet[n.Int64()]
	}
	return string(b), nil
}

// apiUserPassword resets a user's password (a manager for agents and
// supervisors, an admin for anyone) and ends the user's sessions; the reset
// is recorded in user_events. A generated password is answered once and
// never stored in clear.
func (s *Server) apiUserPassword(c *fiber.Ctx) error {
	u, err := s.userToChange(c)
	if err != nil {
		return err
	}
	var req passwordRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if err := req.choose("send the new password, or generate: true"); err != nil {
		return err
	}
	me := sessionOf(c).User
	if err := SetPassword(c.UserContext(), s.db, u.ID, req.Password, s.cfg.BcryptCost, me); err != nil {
		if errors.Is(err, ErrUserNotFound) {
			return apiError(fiber.StatusNotFound, "user %d not found", u.ID)
		}
		return fieldError(fiber.StatusBadRequest, "password", "%v", err)
	}
	if u.Role == RoleAgent {
		s.logoutAgent(c.UserContext(), u.ID)
	}
	s.log.Info("password reset", "user", u.Username, "by", me.Username)
	out := fiber.Map{"user_id": u.ID, "username": u.Username, "sessions_ended": true}
	if req.Generate {
		out["password"] = req.Password
	}
	return c.JSON(out)
}

// apiUserEvents lists the recorded changes to a user account.
func (s *Server) apiUserEvents(c *fiber.Ctx) error {
	id, err := c.ParamsInt("id")
	if err != nil || id <= 0 {
		return apiError(fiber.StatusBadRequest, "bad user id")
	}
	if _, err := GetUser(c.UserContext(), s.db, int64(id)); errors.Is(err, ErrUserNotFound) {
		return apiError(fiber.StatusNotFound, "user %d not found", id)
	} else if err != nil {
		return err
	}
	es, err := UserEvents(c.UserContext(), s.db, int64(id), historyLimit(c))
	if err != nil {
		return err
	}
	if es == nil {
		es = []UserEvent{}
	}
	return c.JSON(fiber.Map{"events": es})
}

// userToChange is the user :id names, when the caller may change them: not
// themselves through this route, and a manager or admin only if the caller
// is an admin.
func (s *Server) userToChange(c *fiber.Ctx) (User, error) {
	id, err := c.ParamsInt("id")
	if err != nil || id <= 0 {
		return User{}, apiError(fiber.StatusBadRequest, "bad user id")
	}
	u, err := GetUser(c.UserContext(), s.db, int64(id))
	if errors.Is(err, ErrUserNotFound) {
		return User{}, apiError(fiber.StatusNotFound, "user %d not found", id)
	}
	if err != nil {
		return User{}, err
	}
	me := sessionOf(c).User
	if (u.Role == RoleAdmin || u.Role == RoleManager) && me.Role != RoleAdmin && u.ID != me.ID {
		return User{}, apiError(fiber.StatusForbidden, "only an admin may change %s users", u.Role)
	}
	return u, nil
}

// campaignSummary is a row of the console's campaign list.
type campaignSummary struct {
	campaigns.Campaign
	// Lists counts the campaign's lists that are not deleted; Agents the
	// agents assigned to it.
	Lists  int64 `json:"lists"`
	Agents int64 `json:"agents"`
}

// apiCampaignSummaries is every campaign with how many lists and assigned
// agents it has (two index-only counts, no lead is read).
func (s *Server) apiCampaignSummaries(c *fiber.Ctx) error {
	list, err := campaigns.List(c.UserContext(), s.db)
	if err != nil {
		return err
	}
	counts := map[campaigns.ID][2]int64{}
	rows, err := s.db.Query(c.UserContext(), `SELECT c.id,
	(SELECT count(*) FROM lead_lists l WHERE l.campaign_id = c.id AND l.deleted_at IS NULL),
	(SELECT count(*) FROM campaign_agents a WHERE a.campaign_id = c.id) FROM campaigns c`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id campaigns.ID
		var n [2]int64
		if err := rows.Scan(&id, &n[0], &n[1]); err != nil {
			rows.Close()
			return err
		}
		counts[id] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	out := make([]campaignSummary, len(list))
	for i, camp := range list {
		out[i] = campaignSummary{Campaign: camp, Lists: counts[camp.ID][0], Agents: counts[camp.ID][1]}
	}
	return c.JSON(fiber.Map{"campaigns": out})
}
