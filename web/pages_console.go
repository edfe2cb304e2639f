package web

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/pacer-dialer/pacer/campaigns"
)

// The manager console is several pages: the campaigns (/manage), a
// campaign's settings, lists, dispositions and agents
// (/manage/campaigns/:id/...), the DNC lists (/manage/dnc), the users
// (/manage/users) and the SIP trunks (/manage/trunks). Each page's script loads its data from the API; the
// template paints the first view.

// consolePage is what a console page's template gets.
type consolePage struct {
	Campaigns []campaigns.Campaign
	// Campaign is the campaign a campaign page is about (zero for
	// /manage/campaigns/new).
	Campaign campaigns.Campaign
}

func (s *Server) renderConsole(c *fiber.Ctx, tmpl, page, title string, d consolePage) error {
	ss := sessionOf(c)
	return s.render(c, tmpl, pageData{Title: title, Page: page, User: ss.User, CSRF: ss.CSRF, Data: d})
}

func (s *Server) pageManage(c *fiber.Ctx) error {
	list, err := campaigns.List(c.UserContext(), s.db)
	if err != nil {
		return err
	}
	return s.renderConsole(c, "manage.html", "manage", "Campaigns", consolePage{Campaigns: list})
}

// consoleCampaign is the campaign of a /manage/campaigns/:id page; an
// unknown one is the console's 404.
func (s *Server) consoleCampaign(c *fiber.Ctx) (campaigns.Campaign, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return campaigns.Campaign{}, fiber.NewError(fiber.StatusNotFound, "no such campaign")
	}
	camp, err := campaigns.Get(c.UserContext(), s.db, campaigns.ID(id))
	if err != nil {
		return camp, fiber.NewError(fiber.StatusNotFound, "no such campaign")
	}
	return camp, nil
}

// campaignPage renders one of a campaign's console pages.
func (s *Server) campaignPage(tmpl, page, title string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		camp, err := s.consoleCampaign(c)
		if err != nil {
			return err
		}
		return s.renderConsole(c, tmpl, page, title+" · "+camp.Name, consolePage{Campaign: camp})
	}
}

func (s *Server) pageCampaignNew(c *fiber.Ctx) error {
	return s.renderConsole(c, "manage-campaign.html", "manage-campaign", "New campaign", consolePage{})
}

func (s *Server) pageManageDNC(c *fiber.Ctx) error {
	list, err := campaigns.List(c.UserContext(), s.db)
	if err != nil {
		return err
	}
	return s.renderConsole(c, "manage-dnc.html", "manage-dnc", "Do not call", consolePage{Campaigns: list})
}

func (s *Server) pageManageUsers(c *fiber.Ctx) error {
	return s.renderConsole(c, "manage-users.html", "manage-users", "Users", consolePage{})
}

// pageManageTrunks is the SIP trunks: their limits, whether a password is
// set (never the password), the campaigns using each; add, edit, remove.
func (s *Server) pageManageTrunks(c *fiber.Ctx) error {
	return s.renderConsole(c, "manage-trunks.html", "manage-trunks", "Trunks", consolePage{})
}

// pageManageQueues is the inbound queues: their settings, numbers and
// members; add, edit, remove.
func (s *Server) pageManageQueues(c *fiber.Ctx) error {
	return s.renderConsole(c, "manage-queues.html", "manage-queues", "Queues", consolePage{})
}
