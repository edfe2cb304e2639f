package web

import (
	"errors"
	"sort"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/pacer-dialer/pacer/agents"
)

// Agents' SIP phones (issue 13): a manager (or an admin) sets an agent's
// SIP password, with which the phone registers as the agent's username, or
// a fixed URI Pacer calls. Only the password's digest HA1 is stored; a
// generated password is answered once. Each change is recorded in
// user_events with who made it.

// phoneView is an agent's phone as the API and the console show it.
type phoneView struct {
	UserID   int64  `json:"user_id"`
	Username string `json:"username"`
	// Status is where Pacer calls the phone now: "registered" (Contact),
	// "fixed" (FixedURI) or "none".
	Status         string             `json:"status"`
	Contact        string             `json:"contact,omitempty"`
	ContactExpires *time.Time         `json:"contact_expires,omitempty"`
	SIPPasswordSet bool               `json:"sip_password_set"`
	Realm          string             `json:"realm,omitempty"`
	FixedURI       string             `json:"fixed_uri,omitempty"`
	Registrations  []registrationView `json:"registrations"`
}

type registrationView struct {
	Contact      string    `json:"contact"`
	Source       string    `json:"source"`
	Transport    string    `json:"transport"`
	ExpiresAt    time.Time `json:"expires_at"`
	Node         string    `json:"node"`
	UserAgent    string    `json:"user_agent"`
	RegisteredAt time.Time `json:"registered_at"`
}

func newPhoneView(p agents.Phone) phoneView {
	v := phoneView{UserID: int64(p.Agent), Username: p.Username, Status: "none", SIPPasswordSet: p.HasSIPPassword(),
		Realm: p.Realm, FixedURI: p.FixedURI, Registrations: []registrationView{}}
	for _, r := range p.Registrations {
		v.Registrations = append(v.Registrations, registrationView{Contact: r.Contact, Source: r.Source.String(),
			Transport: r.Transport, ExpiresAt: r.ExpiresAt, Node: r.Node, UserAgent: r.UserAgent, RegisteredAt: r.RegisteredAt})
	}
	switch {
	case len(p.Registrations) > 0:
		v.Status, v.Contact = "registered", p.Registrations[0].Contact
		exp := p.Registrations[0].ExpiresAt
		v.ContactExpires = &exp
	case p.FixedURI != "":
		v.Status, v.Contact = "fixed", p.FixedURI
	}
	return v
}

// phoneUser is the agent user :id names, when the caller may change them.
func (s *Server) phoneUser(c *fiber.Ctx) (User, error) {
	u, err := s.userToChange(c)
	if err != nil {
		return User{}, err
	}
	if u.Role != RoleAgent {
		return User{}, apiError(fiber.StatusConflict, "user %s is a %s: only agents have SIP phones", u.Username, u.Role)
	}
	return u, nil
}

// apiUserPhone answers an agent's phone.
func (s *Server) apiUserPhone(c *fiber.Ctx) error {
	u, err := s.phoneUser(c)
	if err != nil {
		return err
	}
	return s.answerPhone(c, u)
}

func (s *Server) answerPhone(c *fiber.Ctx, u User) error {
	p, err := agents.GetPhone(c.UserContext(), s.db, agents.ID(u.ID), time.Now())
	if errors.Is(err, agents.ErrNoUser) {
		return apiError(fiber.StatusNotFound, "user %d not found", u.ID)
	}
	if err != nil {
		return err
	}
	return c.JSON(newPhoneView(p))
}

// apiPhones lists every agent's phone, by username.
func (s *Server) apiPhones(c *fiber.Ctx) error {
	ps, err := agents.ListPhones(c.UserContext(), s.db, time.Now())
	if err != nil {
		return err
	}
	out := make([]phoneView, 0, len(ps))
	for _, p := range ps {
		out = append(out, newPhoneView(p))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Username < out[j].Username })
	return c.JSON(fiber.Map{"phones": out})
}

type phoneURIRequest struct {
	URI string `json:"uri"`
}

// apiUserPhoneURISet sets the fixed URI Pacer calls the agent's phone at.
func (s *Server) apiUserPhoneURISet(c *fiber.Ctx) error {
	u, err := s.phoneUser(c)
	if err != nil {
		return err
	}
	var req phoneURIRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if req.URI == "" {
		return fieldError(fiber.StatusBadRequest, "uri", "send the phone's URI, e.g. sip:agent1@10.0.0.5:5060 (DELETE removes it)")
	}
	if err := agents.CheckPhoneURI(req.URI); err != nil {
		return fieldError(fiber.StatusBadRequest, "uri", "%v", err)
	}
	if err := agents.SetPhoneURI(c.UserContext(), s.db, agents.ID(u.ID), req.URI); err != nil {
		return err
	}
	if err := RecordUserEvent(c.UserContext(), s.db, u.ID, "phone_uri_set", sessionOf(c).User); err != nil {
		return err
	}
	s.log.Info("phone URI set", "user", u.Username, "by", sessionOf(c).User.Username)
	return s.answerPhone(c, u)
}

// apiUserPhoneURIClear removes the agent's fixed phone URI.
func (s *Server) apiUserPhoneURIClear(c *fiber.Ctx) error {
	u, err := s.phoneUser(c)
	if err != nil {
		return err
	}
	if err := agents.ClearPhoneURI(c.UserContext(), s.db, agents.ID(u.ID)); err != nil {
		return err
	}
	if err := RecordUserEvent(c.UserContext(), s.db, u.ID, "phone_uri_clear", sessionOf(c).User); err != nil {
		return err
	}
	s.log.Info("phone URI removed", "user", u.Username, "by", sessionOf(c).User.Username)
	return s.answerPhone(c, u)
}

// apiUserSIPPasswordSet sets the SIP password the agent's phone registers
// with (given, or generated and answered once in "password").
func (s *Server) apiUserSIPPasswordSet(c *fiber.Ctx) error {
	u, err := s.phoneUser(c)
	if err != nil {
		return err
	}
	var req passwordRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if err := req.choose("send the SIP password, or generate: true"); err != nil {
		return err
	}
	if err := agents.CheckSIPPassword(req.Password); err != nil {
		return fieldError(fiber.StatusBadRequest, "password", "%v", err)
	}
	// The realm stays what it was (a phone registers in one realm); a new
	// phone gets the default, which is what `pacer serve` challenges in.
	p, err := agents.GetPhone(c.UserContext(), s.db, agents.ID(u.ID), time.Now())
	if err != nil {
		return err
	}
	if err := agents.SetSIPPassword(c.UserContext(), s.db, agents.SIPPassword{Agent: agents.ID(u.ID), Realm: p.Realm,
		Password: req.Password}); err != nil {
		return fieldError(fiber.StatusBadRequest, "password", "%v", err)
	}
	if err := RecordUserEvent(c.UserContext(), s.db, u.ID, "sip_password_set", sessionOf(c).User); err != nil {
		return err
	}
	s.log.Info("SIP password set", "user", u.Username, "by", sessionOf(c).User.Username)
	p, err = agents.GetPhone(c.UserContext(), s.db, agents.ID(u.ID), time.Now())
	if err != nil {
		return err
	}
	out := fiber.Map{"phone": newPhoneView(p), "sip_username": u.Username}
	if req.Generate {
		out["password"] = req.Password
	}
	return c.JSON(out)
}

// apiUserSIPPasswordClear removes the SIP password: the phone's bindings go
// and it can no longer register.
func (s *Server) apiUserSIPPasswordClear(c *fiber.Ctx) error {
	u, err := s.phoneUser(c)
	if err != nil {
		return err
	}
	if err := agents.ClearSIPPassword(c.UserContext(), s.db, agents.ID(u.ID)); err != nil {
		return err
	}
	if err := RecordUserEvent(c.UserContext(), s.db, u.ID, "sip_password_clear", sessionOf(c).User); err != nil {
		return err
	}
	s.log.Info("SIP password removed", "user", u.Username, "by", sessionOf(c).User.Username)
	return s.answerPhone(c, u)
}
