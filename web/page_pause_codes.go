package web

import (
	"github.com/gofiber/fiber/v2"

	"github.com/pacer-dialer/pacer/campaigns"
)

// pagePauseCodes is the managers' page for pause codes and transfer
// numbers; its data comes from /api/v1/pause-codes and /transfer-numbers.
func (s *Server) pagePauseCodes(c *fiber.Ctx) error {
	ss := sessionOf(c)
	list, err := campaigns.List(c.UserContext(), s.db)
	if err != nil {
		return err
	}
	return s.render(c, "pause_codes.html", pageData{Title: "Pause codes", Page: "manage-pause-codes", User: ss.User, CSRF: ss.CSRF,
		Data: map[string]any{"Campaigns": list}})
}
