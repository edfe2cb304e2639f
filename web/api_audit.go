package web

import (
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/pacer-dialer/pacer/campaigns"
)

// apiDispositionChanges lists the logged changes to a campaign's
// dispositions, newest first (limit, default 200, at most 1000).
func (s *Server) apiDispositionChanges(c *fiber.Ctx) error {
	id, err := campaignParam(c)
	if err != nil {
		return err
	}
	if _, err := campaigns.Get(c.UserContext(), s.db, id); err != nil {
		return storeError(err)
	}
	changes, err := campaigns.DispositionChanges(c.UserContext(), s.db, id, historyLimit(c))
	if err != nil {
		return err
	}
	if changes == nil {
		changes = []campaigns.DispositionChange{}
	}
	return c.JSON(fiber.Map{"changes": changes})
}

func historyLimit(c *fiber.Ctx) int {
	limit := c.QueryInt("limit", 200)
	if limit < 1 || limit > 1000 {
		limit = 200
	}
	return limit
}

// dncHistoryFilter reads campaign_id (absent: every list; 0: the global
// list) and number (digits of the number or part of it).
func (s *Server) dncHistoryFilter(c *fiber.Ctx) (campaigns.DNCHistoryFilter, error) {
	f := campaigns.DNCHistoryFilter{Number: c.Query("number")}
	if strings.TrimSpace(f.Number) != "" && !strings.ContainsAny(f.Number, "0123456789") {
		return f, apiError(fiber.StatusBadRequest, "number %q has no digits to look for", f.Number)
	}
	if c.Query("campaign_id") != "" {
		scope, _, err := s.dncScopeOf(c, 0)
		if err != nil {
			return f, err
		}
		f.Scope = &scope
	}
	return f, nil
}

// dncEvents reads the history f picks, naming the agents of dispositions
// by their usernames.
func (s *Server) dncEvents(c *fiber.Ctx, f campaigns.DNCHistoryFilter, fn func(campaigns.DNCEvent) error) error {
	users, err := ListUsers(c.UserContext(), s.db)
	if err != nil {
		return err
	}
	names := make(map[int64]string, len(users))
	for _, u := range users {
		names[u.ID] = u.Username
	}
	return campaigns.DNCHistory(c.UserContext(), s.db, f, func(e campaigns.DNCEvent) error {
		if name, ok := names[e.ByUser]; ok && e.How == string(campaigns.DNCViaDisposition) {
			e.By = name
		}
		return fn(e)
	})
}

// apiDNCHistory is who put numbers on the DNC lists or took them off, how,
// when and why, newest first.
func (s *Server) apiDNCHistory(c *fiber.Ctx) error {
	f, err := s.dncHistoryFilter(c)
	if err != nil {
		return err
	}
	f.Limit = historyLimit(c)
	events := []campaigns.DNCEvent{}
	if err := s.dncEvents(c, f, func(e campaigns.DNCEvent) error {
		events = append(events, e)
		return nil
	}); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"events": events})
}

// apiDNCHistoryCSV exports the whole history the filter picks as CSV, every
// cell kept from running as a spreadsheet formula.
func (s *Server) apiDNCHistoryCSV(c *fiber.Ctx) error {
	f, err := s.dncHistoryFilter(c)
	if err != nil {
		return err
	}
	all, err := campaigns.List(c.UserContext(), s.db)
	if err != nil {
		return err
	}
	lists := map[campaigns.ID]string{0: "global"}
	for _, camp := range all {
		lists[camp.ID] = camp.Name
	}
	var b strings.Builder
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"at", "action", "list", "phone", "how", "by", "by_user", "call_id", "reason"})
	err = s.dncEvents(c, f, func(e campaigns.DNCEvent) error {
		list, ok := lists[e.Campaign]
		if !ok {
			list = fmt.Sprintf("campaign %d", e.Campaign)
		}
		row := []string{e.At.UTC().Format(time.RFC3339), e.Action, list, e.Phone, e.How, e.By, idCell(e.ByUser),
			idCell(e.Call), e.Reason}
		for i := range row {
			row[i] = campaigns.CSVSafe(row[i])
		}
		return w.Write(row)
	})
	if err != nil {
		return err
	}
	w.Flush()
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="dnc-history.csv"`)
	c.Type("csv")
	return c.SendString(b.String())
}

func idCell(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}
