package web

import (
	"bytes"
	"context"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Every page is html/template: values are escaped for their context, so a
// lead's name or a note containing HTML shows as text.
var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"fmtTime": func(t time.Time) string { return t.Local().Format("2006-01-02 15:04") },
	"split":   strings.Fields,
	// hasPrefix marks a section's pages (manage, manage-lists, ...) in the
	// main navigation.
	"hasPrefix": strings.HasPrefix,
	// recording is the argument of template "recording": the kind, its
	// title, and what it is for.
	"recording": func(kind, title, hint string) map[string]string {
		return map[string]string{"Kind": kind, "Title": title, "Name": strings.ToLower(title), "Hint": hint}
	},
	"dur": func(s float64) string {
		d := time.Duration(s * float64(time.Second)).Round(time.Second)
		return d.String()
	},
}).ParseFS(templateFS, "templates/*.html"))

// pageData is what every page template gets.
type pageData struct {
	Title string
	Page  string
	User  User
	CSRF  string
	Next  string
	Data  any
}

// securityHeaders: scripts and styles only from this origin (no inline
// script, so injected markup cannot run), no framing, no sniffing.
func securityHeaders(c *fiber.Ctx) {
	c.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	c.Set("X-Frame-Options", "DENY")
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Referrer-Policy", "same-origin")
}

func (s *Server) render(c *fiber.Ctx, name string, d pageData) error {
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, name, d); err != nil {
		return err
	}
	securityHeaders(c)
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Type("html", "utf-8")
	return c.Send(b.Bytes())
}

func (s *Server) static() fiber.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	fsh := filesystem.New(filesystem.Config{Root: http.FS(sub), MaxAge: 300})
	return func(c *fiber.Ctx) error {
		securityHeaders(c)
		return fsh(c)
	}
}

func (s *Server) pageRoot(c *fiber.Ctx) error {
	ss, ok, err := s.lookupSession(c)
	if err != nil {
		return err
	}
	if !ok {
		return c.Redirect("/login", fiber.StatusSeeOther)
	}
	return c.Redirect(homeOf(ss.User.Role), fiber.StatusSeeOther)
}

func (s *Server) pageLogin(c *fiber.Ctx) error {
	return s.render(c, "login.html", pageData{Title: "Log in", Page: "login", Next: safeNext(c.Query("next"))})
}

// agentPage is the workspace's first paint; the script keeps it current.
type agentPage struct {
	Campaigns []campaigns.Campaign
	Call      *agentCallPage
}

type agentCallPage struct {
	Lead     campaigns.Lead
	Previous []HistoryCall
	Notes    []Note
}

func (s *Server) pageAgent(c *fiber.Ctx) error {
	ss := sessionOf(c)
	d := agentPage{}
	if call, err := s.agentCallPage(c.UserContext(), ss.User.ID); err != nil {
		return err
	} else {
		d.Call = call
	}
	return s.render(c, "agent.html", pageData{Title: "Agent", Page: "agent", User: ss.User, CSRF: ss.CSRF, Data: d})
}

// agentCallPage is the lead on the agent's screen, if any.
func (s *Server) agentCallPage(ctx context.Context, agent int64) (*agentCallPage, error) {
	campaign, ok := s.agentCampaignOf(agent)
	if !ok || s.engine == nil {
		return nil, nil
	}
	v, err := s.engine.Agent(ctx, campaigns.ID(campaign), agents.ID(agent))
	if err != nil || v.Call == nil {
		return nil, nil
	}
	lead, err := campaigns.GetLead(ctx, s.db, campaigns.LeadID(v.Call.Lead))
	if err != nil {
		return nil, nil
	}
	prev, err := s.engine.LeadHistory(ctx, lead.ID, 20)
	if err != nil {
		return nil, err
	}
	return &agentCallPage{Lead: lead, Previous: prev, Notes: leadNotes(prev)}, nil
}

func (s *Server) pageSupervise(c *fiber.Ctx) error {
	ss := sessionOf(c)
	list, err := campaigns.List(c.UserContext(), s.db)
	if err != nil {
		return err
	}
	return s.render(c, "supervise.html", pageData{Title: "Wallboard", Page: "supervise", User: ss.User, CSRF: ss.CSRF, Data: list})
}

func (s *Server) pageReports(c *fiber.Ctx) error {
	ss := sessionOf(c)
	return s.render(c, "reports.html", pageData{Title: "Reports", Page: "reports", User: ss.User, CSRF: ss.CSRF})
}

func (s *Server) pageJobs(c *fiber.Ctx) error {
	ss := sessionOf(c)
	return s.render(c, "jobs.html", pageData{Title: "Jobs", Page: "jobs", User: ss.User, CSRF: ss.CSRF})
}
