package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/internal/testwait"
)

// startServer runs a Server without an engine on db.
func startServer(t testing.TB, db *pgxpool.Pool, node string) *Server {
	t.Helper()
	return startServerWith(t, db, Config{Node: node})
}

// startServerWith is startServer with cfg (its address, bcrypt cost and
// shutdown timeout are the tests').
func startServerWith(t testing.TB, db *pgxpool.Pool, cfg Config) *Server {
	t.Helper()
	cfg.Addr, cfg.BcryptCost, cfg.ShutdownTimeout = "127.0.0.1:0", bcrypt.MinCost, time.Second
	s, err := New(cfg, Deps{DB: db}, nil)
	require.NoError(t, err)
	require.NoError(t, s.Start(context.Background()))
	t.Cleanup(s.Stop)
	return s
}

func addUser(t testing.TB, db *pgxpool.Pool, name string, role Role) User {
	t.Helper()
	u, err := CreateUser(context.Background(), db, NewUser{Username: name, Role: role, Password: "password-" + name,
		Cost: bcrypt.MinCost})
	require.NoError(t, err)
	return u
}

// loginCookie logs in over HTTP and returns the session cookie header.
func loginCookie(t testing.TB, s *Server, name string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": name, "password": "password-" + name})
	resp, err := http.Post("http://"+s.Addr()+"/api/v1/login", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			require.True(t, c.HttpOnly, "the session cookie is HttpOnly")
			require.Equal(t, http.SameSiteLaxMode, c.SameSite)
			return c.Name + "=" + c.Value
		}
	}
	t.Fatal("no session cookie")
	return ""
}

func dialEvents(t testing.TB, s *Server, cookie, origin string) (*websocket.Conn, *http.Response, error) {
	h := http.Header{}
	if cookie != "" {
		h.Set("Cookie", cookie)
	}
	if origin != "" {
		h.Set("Origin", origin)
	}
	d := websocket.Dialer{HandshakeTimeout: testwait.HangGuard}
	return d.Dial("ws://"+s.Addr()+"/api/v1/events", h)
}

// next reads events until one of type typ arrives.
func next(t testing.TB, c *websocket.Conn, typ string, within time.Duration) (Event, bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		_ = c.SetReadDeadline(deadline)
		_, b, err := c.ReadMessage()
		if err != nil {
			return Event{}, false
		}
		var ev Event
		require.NoError(t, json.Unmarshal(b, &ev))
		if ev.Type == typ {
			return ev, true
		}
	}
}

// Live events reach each user in their scope only, across processes
// through LISTEN/NOTIFY; the socket needs a session and a same-origin page.
func TestEventsScopeAndCrossNode(t *testing.T) {
	db := testdb.NewPool(t)
	a, b := startServer(t, db, "node-a"), startServer(t, db, "node-b")
	ann := addUser(t, db, "ann", RoleAgent)
	addUser(t, db, "bea", RoleAgent)
	addUser(t, db, "sam", RoleSupervisor)

	_, resp, err := dialEvents(t, a, "", "")
	require.Error(t, err)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	_, resp, err = dialEvents(t, a, loginCookie(t, a, "sam"), "http://evil.example")
	require.Error(t, err)
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "cross-site WebSocket hijacking is refused")

	annWS, _, err := dialEvents(t, b, loginCookie(t, b, "ann"), "http://"+b.Addr())
	require.NoError(t, err)
	defer annWS.Close()
	beaWS, _, err := dialEvents(t, b, loginCookie(t, b, "bea"), "")
	require.NoError(t, err)
	defer beaWS.Close()
	samWS, _, err := dialEvents(t, b, loginCookie(t, b, "sam"), "")
	require.NoError(t, err)
	defer samWS.Close()
	for _, c := range []*websocket.Conn{annWS, beaWS, samWS} {
		_, ok := next(t, c, "hello", 5*time.Second)
		require.True(t, ok)
	}
	testwait.Until(t, func() bool { return b.Hub().Clients() == 3 })

	// Published on node A, delivered by node B.
	a.publish(Event{Type: "agent", Campaign: 7, Agent: ann.ID, Data: Transition{Agent: agents.ID(ann.ID), To: agents.Ready}})
	a.publish(Event{Type: "stats", Campaign: 7, Data: map[string]int{"lines": 3}})
	ev, ok := next(t, annWS, "agent", 5*time.Second)
	require.True(t, ok, "ann gets her own state change from the other node")
	require.Equal(t, ann.ID, ev.Agent)
	_, ok = next(t, samWS, "agent", 5*time.Second)
	require.True(t, ok, "the supervisor sees it")
	_, ok = next(t, samWS, "stats", 5*time.Second)
	require.True(t, ok, "and the campaign's stats")
	_, ok = next(t, annWS, "stats", 300*time.Millisecond)
	require.False(t, ok, "agents get no campaign stats")
	_, ok = next(t, beaWS, "agent", 300*time.Millisecond)
	require.False(t, ok, "bea does not see ann's state")

	b.Stop()
	require.Zero(t, b.Hub().Clients(), "stopping the server closes every socket")
}

// The OpenAPI document is valid JSON and names every API route.
func TestOpenAPIListsEveryRoute(t *testing.T) {
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(openAPIDoc, &doc))
	require.True(t, strings.HasPrefix(doc.OpenAPI, "3."))
	s, err := New(Config{Addr: "127.0.0.1:0"}, Deps{DB: &pgxpool.Pool{}}, nil)
	require.NoError(t, err)
	for _, r := range s.app.GetRoutes(true) {
		if !strings.HasPrefix(r.Path, "/api/v1/") || r.Method == "HEAD" || r.Path == "/api/v1/openapi.json" {
			continue
		}
		p := r.Path[len("/api/v1"):]
		for _, name := range r.Params {
			p = strings.Replace(p, ":"+name, "{"+name+"}", 1)
		}
		if strings.Contains(p, "*") {
			continue
		}
		ops, ok := doc.Paths[p]
		require.True(t, ok, "openapi.json lacks %s", p)
		_, ok = ops[strings.ToLower(r.Method)]
		require.True(t, ok, "openapi.json lacks %s %s", r.Method, p)
	}
	_ = fmt.Sprint()
}
