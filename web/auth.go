package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
)

// The session cookie holds a random token; the database holds its SHA-256,
// the user and the session's CSRF token. HttpOnly so scripts cannot read it,
// SameSite=Lax so other sites' forms do not carry it, Secure over TLS.
const sessionCookie = "pacer_session"

// session is an authenticated request's user and CSRF token.
type session struct {
	User User
	CSRF string
	hash []byte
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func tokenHash(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

// newSession stores a session for u and sets its cookie.
func (s *Server) newSession(c *fiber.Ctx, u User) (session, error) {
	tok, csrf := randomToken(), randomToken()
	now := s.clock.Now()
	h := tokenHash(tok)
	// Logins are rare enough to sweep expired sessions as they happen.
	if _, err := s.db.Exec(c.UserContext(), "DELETE FROM user_sessions WHERE expires_at < $1", now); err != nil {
		return session{}, fmt.Errorf("expire sessions: %w", err)
	}
	if _, err := s.db.Exec(c.UserContext(), `INSERT INTO user_sessions (token_hash, user_id, csrf_token, created_at, last_seen, expires_at)
		VALUES ($1, $2, $3, $4, $4, $5)`, h, u.ID, csrf, now, now.Add(s.cfg.SessionTTL)); err != nil {
		return session{}, fmt.Errorf("create session: %w", err)
	}
	c.Cookie(&fiber.Cookie{Name: sessionCookie, Value: tok, Path: "/", HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode,
		Secure: s.cfg.SecureCookies || c.Protocol() == "https", Expires: now.Add(s.cfg.SessionTTL)})
	return session{User: u, CSRF: csrf, hash: h}, nil
}

// lookupSession finds the request's session, sliding its expiry.
func (s *Server) lookupSession(c *fiber.Ctx) (session, bool, error) {
	tok := c.Cookies(sessionCookie)
	if tok == "" {
		return session{}, false, nil
	}
	h := tokenHash(tok)
	now := s.clock.Now()
	var ss session
	ss.hash = h
	err := s.db.QueryRow(c.UserContext(), `UPDATE user_sessions s SET last_seen = $2, expires_at = $3
		FROM users u WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.id = s.user_id AND NOT u.disabled
		RETURNING s.csrf_token, u.id, u.username, u.display_name, u.role, u.disabled, u.created_at`,
		h, now, now.Add(s.cfg.SessionTTL)).Scan(&ss.CSRF, &ss.User.ID, &ss.User.Username, &ss.User.DisplayName,
		&ss.User.Role, &ss.User.Disabled, &ss.User.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return session{}, false, nil
	}
	if err != nil {
		return session{}, false, fmt.Errorf("look up session: %w", err)
	}
	return ss, true, nil
}

func (s *Server) endSession(ctx context.Context, ss session) error {
	_, err := s.db.Exec(ctx, "DELETE FROM user_sessions WHERE token_hash = $1", ss.hash)
	return err
}

const localSession = "session"

func sessionOf(c *fiber.Ctx) session {
	ss, _ := c.Locals(localSession).(session)
	return ss
}

// stateChanging reports methods that must carry the CSRF token.
func stateChanging(method string) bool {
	switch method {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return false
	}
	return true
}

// authAPI requires a session (401 otherwise), one of roles (403), and for
// state-changing methods the session's CSRF token in X-CSRF-Token or a form
// body (403).
func (s *Server) authAPI(roles ...Role) fiber.Handler {
	return func(c *fiber.Ctx) error {
		ss, ok, err := s.lookupSession(c)
		if err != nil {
			return err
		}
		if !ok {
			return apiError(fiber.StatusUnauthorized, "log in first")
		}
		if !allowed(ss.User.Role, roles) {
			return apiError(fiber.StatusForbidden, "your role (%s) may not do this", ss.User.Role)
		}
		if stateChanging(c.Method()) && !s.csrfOK(c, ss) {
			return apiError(fiber.StatusForbidden, "missing or wrong CSRF token (send it in the X-CSRF-Token header or a form body's _csrf field, never in the URL)")
		}
		c.Locals(localSession, ss)
		return c.Next()
	}
}

// csrfOK checks the token in X-CSRF-Token or a form body's _csrf field;
// never in the URL, where it would leak into logs, history and Referer.
func (s *Server) csrfOK(c *fiber.Ctx, ss session) bool {
	got := c.Get("X-CSRF-Token")
	if got == "" {
		got = formField(c, "_csrf")
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(ss.CSRF)) == 1
}

// formField is a field of a form body (URL-encoded or multipart), ignoring
// the query string that fasthttp's FormValue also reads.
func formField(c *fiber.Ctx, name string) string {
	ct := strings.ToLower(c.Get(fiber.HeaderContentType))
	switch {
	case strings.HasPrefix(ct, fiber.MIMEApplicationForm):
		return string(c.Request().PostArgs().Peek(name))
	case strings.HasPrefix(ct, fiber.MIMEMultipartForm):
		if f, err := c.MultipartForm(); err == nil && len(f.Value[name]) > 0 {
			return f.Value[name][0]
		}
	}
	return ""
}

// authPage is authAPI for pages: a visitor without a session is sent to
// the login page, a user of another role to their own page.
func (s *Server) authPage(roles ...Role) fiber.Handler {
	return func(c *fiber.Ctx) error {
		ss, ok, err := s.lookupSession(c)
		if err != nil {
			return err
		}
		if !ok {
			return c.Redirect("/login?next="+url.QueryEscape(c.OriginalURL()), fiber.StatusSeeOther)
		}
		if !allowed(ss.User.Role, roles) {
			return c.Status(fiber.StatusForbidden).Type("html").SendString(
				`<!doctype html><title>Forbidden</title><p>Your role may not open this page. <a href="` + homeOf(ss.User.Role) + `">Go to your page</a></p>`)
		}
		c.Locals(localSession, ss)
		return c.Next()
	}
}

// allowed: admins everywhere; otherwise the role must be listed.
func allowed(r Role, roles []Role) bool {
	return r == RoleAdmin || len(roles) == 0 || slices.Contains(roles, r)
}

// homeOf is where each role lands after login.
func homeOf(r Role) string {
	switch r {
	case RoleAgent:
		return "/agent"
	case RoleSupervisor:
		return "/supervise"
	default:
		return "/manage"
	}
}

// sameOrigin rejects a browser request whose Origin names another site (the
// WebSocket handshake is not covered by SameSite or CORS).
func sameOrigin(c *fiber.Ctx) bool {
	o := c.Get(fiber.HeaderOrigin)
	if o == "" {
		return true // not a browser, or a same-origin navigation
	}
	u, err := url.Parse(o)
	return err == nil && strings.EqualFold(u.Host, c.Hostname())
}

// loginRequest is POST /api/v1/login's body.
type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

func (s *Server) apiLogin(c *fiber.Ctx) error {
	if !strings.HasPrefix(c.Get(fiber.HeaderContentType), fiber.MIMEApplicationJSON) {
		// A cross-site form cannot send JSON without a CORS preflight,
		// which this server never grants: no login CSRF.
		return apiError(fiber.StatusUnsupportedMediaType, "send the credentials as application/json")
	}
	var req loginRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if req.Username == "" || req.Password == "" {
		return apiError(fiber.StatusBadRequest, "username and password are required")
	}
	client := s.clientAddr(c)
	if !usernamePattern.MatchString(req.Username) {
		// No such user can exist; nothing to count.
		return apiError(fiber.StatusUnauthorized, "%v", errBadLogin)
	}
	wait, err := s.throttle.admit(c.UserContext(), req.Username, client, s.clock.Now())
	if err != nil {
		return err
	}
	if wait > 0 {
		secs := int((wait + time.Second - 1) / time.Second)
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(secs))
		return apiError(fiber.StatusTooManyRequests, "too many failed logins from your address; try again in %s",
			time.Duration(secs)*time.Second)
	}
	u, err := checkPassword(c.UserContext(), s.db, req.Username, req.Password, s.dummyHash)
	if errors.Is(err, errBadLogin) {
		s.log.Warn("failed login", "username", req.Username, "client", client.String())
		return apiError(fiber.StatusUnauthorized, "%v", err)
	}
	if err != nil {
		if gerr := s.throttle.giveBack(context.WithoutCancel(c.UserContext()), req.Username, client); gerr != nil {
			s.log.Warn("login throttle", "err", gerr)
		}
		return err
	}
	if err := s.throttle.succeeded(c.UserContext(), req.Username, client); err != nil {
		return fmt.Errorf("login throttle: %w", err)
	}
	ss, err := s.newSession(c, u)
	if err != nil {
		return err
	}
	if _, err := s.db.Exec(c.UserContext(), "UPDATE users SET last_login_at = $2 WHERE id = $1", u.ID, s.clock.Now()); err != nil {
		return fmt.Errorf("record login: %w", err)
	}
	return c.JSON(meResponse(ss))
}

func meResponse(ss session) fiber.Map {
	return fiber.Map{"user": ss.User, "csrf_token": ss.CSRF, "home": homeOf(ss.User.Role)}
}

func (s *Server) apiMe(c *fiber.Ctx) error {
	return c.JSON(meResponse(sessionOf(c)))
}

func (s *Server) apiLogout(c *fiber.Ctx) error {
	ss := sessionOf(c)
	if ss.User.Role == RoleAgent {
		s.logoutAgent(c.UserContext(), ss.User.ID)
	}
	if err := s.endSession(c.UserContext(), ss); err != nil {
		return err
	}
	c.ClearCookie(sessionCookie)
	return c.SendStatus(fiber.StatusNoContent)
}
