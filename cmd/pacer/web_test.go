package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/dialer/sim"
	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/internal/testwait"
	"github.com/pacer-dialer/pacer/web"
)

// webSim answers every call at once and keeps the customer on the line long
// enough for a test to act on the call.
func webSim() *sim.Realtime {
	u := func(lo, hi float64) sim.Dist { return sim.Dist{Dist: "uniform", Min: lo, Max: hi} }
	rt := sim.DemoRealtime()
	rt.Outcomes = []sim.Outcome{{Kind: "human", P: 1, After: u(0.02, 0.05)}}
	rt.RingAfter = u(0.005, 0.01)
	rt.CustomerTalk = u(120, 180)
	return &rt
}

// carrierLog keeps what the simulated carrier did with the agents' calls.
type carrierLog struct {
	mu    sync.Mutex
	as    []sim.Action
	camps []dialer.CampaignID
}

func (l *carrierLog) add(c dialer.CampaignID, a sim.Action) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.as = append(l.as, a)
	l.camps = append(l.camps, c)
}

// of lists the carrier's actions on one call of a campaign, as "op digits
// target".
func (l *carrierLog) of(campaign campaigns.ID, call uint64) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for i, a := range l.as {
		if l.camps[i] == dialer.CampaignID(campaign) && uint64(a.Call) == call {
			out = append(out, strings.TrimSpace(fmt.Sprintf("%s %s %s", a.Op, a.Digits, a.Target)))
		}
	}
	return out
}

// callFlags is what the workspace shows of a call.
type callFlags struct {
	State      string `json:"state"`
	OnHold     bool   `json:"on_hold"`
	Muted      bool   `json:"muted"`
	Conference string `json:"conference"`
}

func (c *client) callFlags() callFlags {
	c.t.Helper()
	code, body := c.do("GET", "/api/v1/agent/call", nil, false)
	require.Equal(c.t, http.StatusOK, code, body)
	var f callFlags
	mustJSON(c.t, body, &f)
	return f
}

// serveWeb runs serve in-process and returns its base URL.
func serveWeb(t *testing.T, o serveOptions) (base string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	go func() { done <- serve(ctx, o, logger, func(addr string) { ready <- addr }) }()
	select {
	case addr := <-ready:
		base = "http://" + addr
	case err := <-done:
		cancel()
		t.Fatalf("serve failed: %v\n%s", err, logs)
	case <-testwait.Expired(t):
		cancel()
		t.Fatalf("serve not ready; logs:\n%s", logs)
	}
	var once bool
	stop = func() {
		if once {
			return
		}
		once = true
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-testwait.Expired(t):
			t.Fatalf("serve did not stop; logs:\n%s", logs)
		}
	}
	t.Cleanup(stop)
	return base, stop
}

// client is one logged-in browser or script.
type client struct {
	t    *testing.T
	base string
	http *http.Client
	csrf string
	tab  string // the workspace the requests come from (X-Pacer-Tab), if any
}

func newClient(t *testing.T, base string) *client {
	jar, _ := cookiejar.New(nil)
	// The timeout only guards against a hang: a login on a busy machine
	// under -race may take seconds.
	return &client{t: t, base: base, http: &http.Client{Jar: jar, Timeout: testwait.HangGuard,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// do sends a request; csrf says whether to send the session's token.
func (c *client) do(method, path string, body any, csrf bool) (int, string) {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	require.NoError(c.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if csrf {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	if c.tab != "" {
		req.Header.Set("X-Pacer-Tab", c.tab)
	}
	resp, err := c.http.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (c *client) login(user, password string) int {
	c.t.Helper()
	code, body := c.do("POST", "/api/v1/login", map[string]string{"username": user, "password": password}, false)
	if code == http.StatusOK {
		var r struct {
			CSRF string `json:"csrf_token"`
		}
		require.NoError(c.t, json.Unmarshal([]byte(body), &r))
		require.NotEmpty(c.t, r.CSRF)
		c.csrf = r.CSRF
	}
	return code
}

func mustJSON(t *testing.T, s string, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal([]byte(s), v), s)
}

// The web's security rules, against the real server on the simulated
// carrier: who may call what, CSRF, ownership of calls and leads, login
// throttling, and HTML in lead fields and notes shown as text.
func TestWebSecurity(t *testing.T) {
	dbURL := testdb.New(t)
	db, err := pgxpool.New(context.Background(), dbURL)
	require.NoError(t, err)
	t.Cleanup(db.Close)
	ctx := context.Background()

	for _, u := range []struct{ name, role string }{{"alice", "agent"}, {"bob", "agent"}, {"sue", "supervisor"},
		{"max", "manager"}, {"eve", "agent"}, {"pat", "agent"}} {
		_, err := web.CreateUser(ctx, db, web.NewUser{Username: u.name, Role: web.Role(u.role), Password: "password-" + u.name,
			Cost: bcrypt.MinCost})
		require.NoError(t, err)
	}
	camp, err := campaigns.Create(ctx, db, "Secure", map[string]string{"mode": "predictive", "window_start": "00:00",
		"window_end": "24:00", "simulated": "true", "script": "Hi {first_name}, this is {agent}."})
	require.NoError(t, err)
	evil := `<script>alert(1)</script>`
	var csv strings.Builder
	csv.WriteString("phone,first_name,last_name,city\n")
	for i := range 40 {
		fmt.Fprintf(&csv, "+1202555%04d,%s,<b>Bold%d</b>,<img src=x onerror=alert(2)>\n", 1000+i, evil, i)
	}
	_, err = campaigns.Import(ctx, db, strings.NewReader(csv.String()), campaigns.ImportOptions{Campaign: camp.ID,
		Name: "evil.csv", Format: campaigns.FormatCSV})
	require.NoError(t, err)
	// A note from an earlier call on every lead, with markup in it.
	_, err = db.Exec(ctx, `INSERT INTO calls (run_id, seq, campaign_id, lead_id, phone, node, state, outcome, queued_at,
		dialed_at, ended_at, disposition, dispositioned_at, notes)
		SELECT gen_random_uuid(), 1, campaign_id, id, phone, 'earlier', 'ended', 'no_answer', now() - interval '2 days',
			now() - interval '2 days', now() - interval '2 days', 'NA', now() - interval '2 days', '<iframe src="https://evil.example"></iframe>' FROM leads`)
	require.NoError(t, err)
	_, err = campaigns.SetStatus(ctx, db, camp.ID, campaigns.StatusActive)
	require.NoError(t, err)
	assignAgents(t, db, camp.ID, "alice", "bob", "eve", "pat")

	carrier := &carrierLog{}
	rt := webSim()
	rt.OnAction = carrier.add
	base, _ := serveWeb(t, serveOptions{db: dbOptions{url: dbURL}, httpAddr: "127.0.0.1:0", nodeID: "web-test",
		engine: engineOptions{noDemo: true, sim: rt, poll: 100 * time.Millisecond, summary: -1},
		web: webOptions{bcryptCost: bcrypt.MinCost, sessionTTL: time.Hour, agentGone: 300 * time.Millisecond,
			metricsToken: "scrape-token"}})

	anon := newClient(t, base)
	for _, r := range [][2]string{{"GET", "/api/v1/me"}, {"GET", "/api/v1/agent/call"}, {"POST", "/api/v1/agent/state"},
		{"POST", "/api/v1/agent/call/hangup"}, {"POST", "/api/v1/agent/disposition"}, {"GET", "/api/v1/campaigns"},
		{"POST", "/api/v1/campaigns"}, {"GET", "/api/v1/campaigns/1/stats"}, {"GET", "/api/v1/users"},
		{"GET", "/api/v1/events"}, {"POST", "/api/v1/logout"}} {
		code, body := anon.do(r[0], r[1], nil, false)
		require.Equal(t, http.StatusUnauthorized, code, "%s %s: %s", r[0], r[1], body)
		require.Contains(t, body, `"error"`)
	}
	code, _ := anon.do("GET", "/agent", nil, false)
	require.Equal(t, http.StatusSeeOther, code, "pages send visitors to the login page")
	code, _ = anon.do("GET", "/api/v1/openapi.json", nil, false)
	require.Equal(t, http.StatusOK, code)

	alice, bob, sue, max := newClient(t, base), newClient(t, base), newClient(t, base), newClient(t, base)
	require.Equal(t, http.StatusOK, alice.login("alice", "password-alice"))
	require.Equal(t, http.StatusOK, bob.login("bob", "password-bob"))
	require.Equal(t, http.StatusOK, sue.login("sue", "password-sue"))
	require.Equal(t, http.StatusOK, max.login("max", "password-max"))

	t.Run("roles", func(t *testing.T) {
		for _, r := range [][2]string{{"GET", "/api/v1/campaigns"}, {"POST", "/api/v1/campaigns"},
			{"GET", fmt.Sprintf("/api/v1/campaigns/%d/stats", camp.ID)}, {"POST", fmt.Sprintf("/api/v1/campaigns/%d/start", camp.ID)},
			{"GET", "/api/v1/users"}, {"POST", "/api/v1/users"}, {"GET", "/api/v1/dnc"}, {"GET", "/api/v1/lists/1"}} {
			code, body := alice.do(r[0], r[1], map[string]string{}, true)
			require.Equal(t, http.StatusForbidden, code, "agent on %s %s: %s", r[0], r[1], body)
		}
		code, body := sue.do("POST", "/api/v1/campaigns", map[string]string{"name": "nope"}, true)
		require.Equal(t, http.StatusForbidden, code, "supervisors do not create campaigns: %s", body)
		code, _ = sue.do("GET", fmt.Sprintf("/api/v1/campaigns/%d/stats", camp.ID), nil, false)
		require.Equal(t, http.StatusOK, code)
		code, _ = sue.do("POST", "/api/v1/agent/state", map[string]string{"state": "READY"}, true)
		require.Equal(t, http.StatusForbidden, code, "supervisors do not take calls")
		code, _ = max.do("POST", "/api/v1/users", map[string]string{"username": "root2", "role": "admin", "password": "long-enough"}, true)
		require.Equal(t, http.StatusForbidden, code, "only admins make admins")
		code, _ = alice.do("GET", "/manage", nil, false)
		require.Equal(t, http.StatusForbidden, code)
	})

	t.Run("csrf", func(t *testing.T) {
		code, body := alice.do("POST", "/api/v1/agent/state", map[string]string{"state": "PAUSED"}, false)
		require.Equal(t, http.StatusForbidden, code, body)
		require.Contains(t, body, "CSRF")
		saved := alice.csrf
		alice.csrf = bob.csrf // another session's token is no good either
		code, _ = alice.do("POST", "/api/v1/agent/state", map[string]string{"state": "PAUSED"}, true)
		require.Equal(t, http.StatusForbidden, code)
		alice.csrf = saved
		code, _ = max.do("POST", "/api/v1/campaigns", map[string]string{"name": "csrf-less"}, false)
		require.Equal(t, http.StatusForbidden, code)
		code, _ = max.do("POST", "/api/v1/logout", nil, false)
		require.Equal(t, http.StatusForbidden, code)
		code, body = alice.do("GET", "/api/v1/me", nil, false)
		require.Equal(t, http.StatusOK, code)
		require.Contains(t, body, `"csrf_token":"`+alice.csrf+`"`)
	})

	t.Run("ownership", func(t *testing.T) {
		code, body := alice.do("POST", "/api/v1/agent/state", map[string]any{"state": "READY", "campaign_id": camp.ID}, true)
		require.Equal(t, http.StatusOK, code, body)
		call := alice.waitCall("connected") // a predictive call reaches alice

		// The page shows the lead, its notes and the script as text.
		code, page := alice.do("GET", "/agent", nil, false)
		require.Equal(t, http.StatusOK, code)
		require.Contains(t, page, "&lt;script&gt;alert(1)&lt;/script&gt;")
		require.Contains(t, page, "&lt;b&gt;Bold")
		require.Contains(t, page, "&lt;img src=x onerror=alert(2)&gt;")
		require.Contains(t, page, "&lt;iframe src=&#34;https://evil.example&#34;&gt;")
		require.NotContains(t, page, evil)
		require.NotContains(t, page, "<iframe")
		require.NotContains(t, page, "<b>Bold")

		// Bob is logged in to the same campaign but has no call: alice's
		// call and lead are not his to touch or see.
		code, _ = bob.do("POST", "/api/v1/agent/state", map[string]any{"state": "PAUSED", "campaign_id": camp.ID}, true)
		require.Equal(t, http.StatusOK, code)
		for _, a := range []string{"hangup", "hold", "mute", "transfer", "dtmf"} {
			code, body := bob.do("POST", "/api/v1/agent/call/"+a, map[string]any{"call_id": call.ID, "target": "+12025550100",
				"digits": "1"}, true)
			require.Contains(t, []int{http.StatusForbidden, http.StatusNotFound}, code, "%s: %s", a, body)
		}
		code, _ = bob.do("GET", fmt.Sprintf("/api/v1/agent/leads/%d", call.Lead.ID), nil, false)
		require.Equal(t, http.StatusNotFound, code)
		code, _ = bob.do("POST", "/api/v1/agent/disposition", map[string]string{"code": "SALE"}, true)
		require.Equal(t, http.StatusConflict, code)
		// Naming another call ID is refused even for the call's owner.
		code, _ = alice.do("POST", "/api/v1/agent/call/hangup", map[string]any{"call_id": call.ID + 1000}, true)
		require.Equal(t, http.StatusNotFound, code)
		code, _ = alice.do("GET", fmt.Sprintf("/api/v1/agent/leads/%d", call.Lead.ID), nil, false)
		require.Equal(t, http.StatusOK, code)

		// Alice's own controls go through the engine to the carrier, show
		// on her screen, and are recorded.
		control := func(a string, body map[string]any) (int, string) {
			if body == nil {
				body = map[string]any{}
			}
			body["call_id"] = call.ID
			return alice.do("POST", "/api/v1/agent/call/"+a, body, true)
		}
		for _, step := range []struct {
			action string
			want   callFlags
		}{
			{"hold", callFlags{State: "held", OnHold: true}},
			{"resume", callFlags{State: "connected"}},
			{"mute", callFlags{State: "connected", Muted: true}},
			{"unmute", callFlags{State: "connected"}},
		} {
			code, body := control(step.action, nil)
			require.Equal(t, http.StatusNoContent, code, "%s: %s", step.action, body)
			require.Equal(t, step.want, alice.callFlags(), "after %s", step.action)
		}
		code, body = control("resume", nil)
		require.Equal(t, http.StatusConflict, code, "resume when not on hold")
		require.Contains(t, body, "event resume not allowed in state connected")
		code, _ = control("mute", nil)
		require.Equal(t, http.StatusNoContent, code)
		_, body = alice.do("GET", "/api/v1/agent/state", nil, false)
		require.Contains(t, body, `"muted":true`, "the agent's state shows the mute too")
		code, body = control("mute", nil)
		require.Equal(t, http.StatusConflict, code)
		require.Contains(t, body, "already muted")
		code, _ = control("unmute", nil)
		require.Equal(t, http.StatusNoContent, code)
		code, _ = control("hold", nil)
		require.Equal(t, http.StatusNoContent, code)
		code, body = control("dtmf", map[string]any{"digits": "1"})
		require.Equal(t, http.StatusConflict, code, "no keys to a customer on hold: %s", body)
		code, _ = control("resume", nil)
		require.Equal(t, http.StatusNoContent, code)
		code, _ = alice.do("POST", "/api/v1/agent/call/dtmf", map[string]string{"digits": "<x>"}, true)
		require.Equal(t, http.StatusBadRequest, code)
		code, _ = alice.do("POST", "/api/v1/agent/call/dtmf", map[string]string{"digits": "42#"}, true)
		require.Equal(t, http.StatusNoContent, code)
		for _, bad := range []string{"agent:nobody", "agent:sue", "queue:no such queue", "12"} {
			code, body = control("transfer", map[string]any{"target": bad})
			require.Equal(t, http.StatusBadRequest, code, "%s: %s", bad, body)
		}
		require.Equal(t, []string{"hold", "resume", "mute", "unmute", "mute", "unmute", "hold", "resume", "dtmf 42#"},
			carrier.of(camp.ID, call.ID), "the carrier did each control, and only those")
		code, _ = alice.do("POST", "/api/v1/agent/disposition", map[string]string{"code": "SALE"}, true)
		require.Equal(t, http.StatusConflict, code, "no disposition while the call is up")
		code, _ = alice.do("POST", "/api/v1/agent/state", map[string]string{"state": "READY"}, true)
		require.Equal(t, http.StatusConflict, code, "no READY while in a call")
		code, _ = alice.do("POST", "/api/v1/agent/call/hangup", nil, true)
		require.Equal(t, http.StatusNoContent, code)
		code, _ = alice.do("POST", "/api/v1/agent/state", map[string]string{"state": "READY"}, true)
		require.Equal(t, http.StatusConflict, code, "no READY before the disposition is saved")
		code, _ = alice.do("POST", "/api/v1/agent/disposition", map[string]string{"code": "NOPE"}, true)
		require.Equal(t, http.StatusBadRequest, code)
		code, _ = alice.do("POST", "/api/v1/agent/disposition", map[string]string{"code": "DROP"}, true)
		require.Equal(t, http.StatusBadRequest, code, "system dispositions are not the agent's")
		code, body = alice.do("POST", "/api/v1/agent/disposition", map[string]any{"code": "NI", "notes": "<script>x()</script>",
			"pause_after": true, "pause_code": "LUNCH"}, true)
		require.Equal(t, http.StatusOK, code, body)
		require.Contains(t, body, `"state":"PAUSED"`)
		require.Contains(t, body, `"pause_code":"LUNCH"`)
		require.Equal(t, 1, countRows(t, db, `SELECT count(*) FROM calls c JOIN users u ON u.id = c.agent_id
			WHERE u.username = 'alice' AND c.notes = '<script>x()</script>' AND c.disposition = 'NI' AND c.lead_id = $1`, call.Lead.ID))
		for a, n := range map[string]int{"hold": 2, "resume": 2, "mute": 2, "unmute": 2, "dtmf": 1, "disposition": 1} {
			require.Equal(t, n, countRows(t, db, `SELECT count(*) FROM call_actions WHERE action = $1 AND call_seq = $2 AND lead_id = $3`,
				a, call.ID, call.Lead.ID), "%s: each control done is recorded, none refused", a)
		}
		code, body = alice.do("GET", "/api/v1/agent/history", nil, false)
		require.Equal(t, http.StatusOK, code)
		require.Contains(t, body, `"disposition":"NI"`)
		code, _ = alice.do("GET", "/api/v1/agent/call", nil, false)
		require.Equal(t, http.StatusNoContent, code)
	})

	t.Run("manager API", func(t *testing.T) {
		code, body := max.do("POST", "/api/v1/campaigns", map[string]any{"name": "Spring", "mode": "power", "power_ratio": 1.5,
			"ring_timeout_s": 20}, true)
		require.Equal(t, http.StatusCreated, code, body)
		var c struct {
			ID     int64   `json:"id"`
			Ratio  float64 `json:"power_ratio"`
			Status string  `json:"status"`
		}
		mustJSON(t, body, &c)
		require.Equal(t, 1.5, c.Ratio)
		code, body = max.do("POST", "/api/v1/campaigns", map[string]any{"name": "Spring"}, true)
		require.Equal(t, http.StatusBadRequest, code)
		require.Contains(t, body, "already exists")
		code, body = max.do("PATCH", fmt.Sprintf("/api/v1/campaigns/%d", c.ID), map[string]any{"ring_timeout_s": 5}, true)
		require.Equal(t, http.StatusBadRequest, code)
		require.Contains(t, body, `"error":"ring_timeout_s: 5 s refused: US rules (TCPA) need at least 15 s of ringing (allowed 15..600 s)"`)
		code, _ = max.do("PATCH", "/api/v1/campaigns/999999", map[string]any{"ring_timeout_s": 30}, true)
		require.Equal(t, http.StatusNotFound, code)
		// The law's floors: refused with the rule and the range.
		for _, tc := range []struct {
			settings map[string]any
			want     string
		}{
			{map[string]any{"abandon_target": 0.05}, "abandon_target 0.05 refused: US rules (TCPA) allow at most 0.03"},
			{map[string]any{"window_start": "00:00", "window_end": "24:00"},
				"calling window 00:00-24:00 refused: US rules (TCPA) allow calls only inside 08:00-21:00 local time"},
			{map[string]any{"state_windows": map[string]any{"FL": "22:00-06:00"}},
				"calling window for FL 22:00-06:00 refused: US rules (TCPA) allow calls only inside 08:00-21:00 local time"},
			{map[string]any{"caller_id": ""}, ""}, // fine while it does not dial
		} {
			code, body = max.do("PATCH", fmt.Sprintf("/api/v1/campaigns/%d", c.ID), tc.settings, true)
			if tc.want == "" {
				require.Equal(t, http.StatusOK, code, body)
				continue
			}
			require.Equal(t, http.StatusBadRequest, code, body)
			require.Contains(t, body, tc.want)
		}
		code, body = max.do("POST", fmt.Sprintf("/api/v1/campaigns/%d/start", c.ID), nil, true)
		require.Equal(t, http.StatusBadRequest, code, body)
		require.Contains(t, body, `caller_id \"\" refused: US rules (TCPA) need a caller ID that can be called back (E.164, e.g. +12025550143) before a power campaign may start`)
		code, body = max.do("PATCH", fmt.Sprintf("/api/v1/campaigns/%d", c.ID), map[string]any{"caller_id": "+12025550143",
			"info_message": "This was Spring calling; dial 202 555 0143 to call back or opt out."}, true)
		require.Equal(t, http.StatusOK, code, body)
		code, body = max.do("POST", fmt.Sprintf("/api/v1/campaigns/%d/start", c.ID), nil, true)
		require.Equal(t, http.StatusOK, code, body)
		require.Contains(t, body, `"status":"active"`)
		code, body = max.do("POST", fmt.Sprintf("/api/v1/campaigns/%d/pause", c.ID), nil, true)
		require.Equal(t, http.StatusOK, code, body)
		require.Contains(t, body, `"status":"paused"`)
		code, body = max.do("PUT", fmt.Sprintf("/api/v1/campaigns/%d/dispositions/hot", c.ID),
			map[string]any{"label": "Hot lead", "category": "contact", "recycle_after_s": 600}, true)
		require.Equal(t, http.StatusNoContent, code, body)
		code, body = max.do("GET", fmt.Sprintf("/api/v1/campaigns/%d", c.ID), nil, false)
		require.Equal(t, http.StatusOK, code)
		require.Contains(t, body, `"code":"HOT","label":"Hot lead"`)

		code, body = max.do("POST", "/api/v1/dnc", map[string]any{"campaign_id": c.ID, "phones": []string{"(202) 555-0199"}}, true)
		require.Equal(t, http.StatusOK, code, body)
		require.Contains(t, body, "+12025550199")
		code, body = max.do("GET", fmt.Sprintf("/api/v1/dnc?campaign_id=%d", c.ID), nil, false)
		require.Equal(t, http.StatusOK, code)
		require.Contains(t, body, "+12025550199")
		code, _ = max.do("POST", "/api/v1/dnc", map[string]any{"phones": []string{"12"}}, true)
		require.Equal(t, http.StatusBadRequest, code)
		code, _ = max.do("DELETE", "/api/v1/dnc", map[string]any{"campaign_id": c.ID, "phones": []string{"+12025550199"},
			"reason": "asked in error"}, true)
		require.Equal(t, http.StatusOK, code)

		// A lead list in a multipart upload: 202 at once, then the list's
		// status, then the rejected rows.
		var form bytes.Buffer
		mw := multipart.NewWriter(&form)
		fw, _ := mw.CreateFormFile("file", "spring.csv")
		io.WriteString(fw, "phone,first_name\n2025550101,Ann\nnot-a-number,Bad\n2025550101,Dup\n")
		mw.Close()
		req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/campaigns/%d/lists", base, c.ID), &form)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("X-CSRF-Token", max.csrf)
		resp, err := max.http.Do(req)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusAccepted, resp.StatusCode, string(b))
		var up struct {
			List int64 `json:"list_id"`
		}
		mustJSON(t, string(b), &up)
		testwait.Until(t, func() bool {
			_, body := max.do("GET", fmt.Sprintf("/api/v1/lists/%d", up.List), nil, false)
			return strings.Contains(body, `"status":"ready"`)
		})
		_, body = max.do("GET", fmt.Sprintf("/api/v1/lists/%d", up.List), nil, false)
		require.Contains(t, body, `"imported":1`)
		code, body = max.do("GET", fmt.Sprintf("/api/v1/lists/%d/errors", up.List), nil, false)
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, 3, len(strings.Split(strings.TrimSpace(body), "\n")), body)
		require.Contains(t, body, "duplicate of line 2")

		// Names with markup render as text on the server-rendered pages.
		code, body = max.do("PATCH", fmt.Sprintf("/api/v1/campaigns/%d", c.ID), map[string]any{"name": `<img src=x onerror=alert(3)>`}, true)
		require.Equal(t, http.StatusOK, code, body)
		for _, page := range []string{"/manage", "/supervise"} {
			code, body = max.do("GET", page, nil, false)
			require.Equal(t, http.StatusOK, code)
			require.Contains(t, body, "&lt;img src=x onerror=alert(3)&gt;", page)
			require.NotContains(t, body, "<img src=x", page)
		}

		code, body = max.do("DELETE", fmt.Sprintf("/api/v1/campaigns/%d", c.ID), nil, true)
		require.Equal(t, http.StatusOK, code)
		require.Contains(t, body, `"status":"archived"`)
		code, body = max.do("GET", "/api/v1/nope", nil, false)
		require.Equal(t, http.StatusNotFound, code)
		require.Contains(t, body, `"error"`)
	})

	t.Run("preview", func(t *testing.T) {
		// A skipped lead may come back to its skipper at once (no hold):
		// two leads serve three previews.
		pv := activeCampaignWith(t, db, "Preview", "preview", "phone,first_name\n+12025557001,Pia\n+12025557002,Quinn\n",
			map[string]string{"preview_skip_hold_s": "0"})
		pat := newClient(t, base)
		require.Equal(t, http.StatusOK, pat.login("pat", "password-pat"))
		var call struct {
			ID    uint64 `json:"id"`
			State string `json:"state"`
			Lead  struct {
				ID        int64  `json:"id"`
				FirstName string `json:"first_name"`
			} `json:"lead"`
		}
		preview := func() {
			testwait.Until(t, func() bool {
				code, body := pat.do("POST", "/api/v1/agent/state", map[string]any{"state": "READY", "campaign_id": pv.ID}, true)
				if code != http.StatusOK && code != http.StatusConflict {
					t.Fatalf("ready: %d %s", code, body)
				}
				code, body = pat.do("GET", "/api/v1/agent/call", nil, false)
				if code != http.StatusOK {
					return false
				}
				mustJSON(t, body, &call)
				return call.State == "preview"
			}, "a preview is offered")
		}
		preview()
		code, _ := pat.do("POST", "/api/v1/agent/call/hangup", nil, true)
		require.Equal(t, http.StatusNotFound, code, "nothing to hang up on a preview")
		// Skip returns the lead undialled (the hopper may offer it again).
		code, body := pat.do("POST", "/api/v1/agent/call/skip", nil, true)
		require.Equal(t, http.StatusNoContent, code, body)
		preview()
		code, body = pat.do("POST", "/api/v1/agent/call/dial", nil, true)
		require.Equal(t, http.StatusNoContent, code, body)
		testwait.Until(t, func() bool {
			_, body := pat.do("GET", "/api/v1/agent/call", nil, false)
			mustJSON(t, body, &call)
			return call.State == "connected"
		})
		code, _ = pat.do("POST", "/api/v1/agent/call/transfer", map[string]string{"target": "(202) 555-0123"}, true)
		require.Equal(t, http.StatusNoContent, code)
		require.Equal(t, 1, countRows(t, db, `SELECT count(*) FROM call_actions WHERE action = 'transfer' AND detail = '+12025550123'`))
		require.Equal(t, []string{"transfer  +12025550123"}, carrier.of(pv.ID, call.ID), "the customer leg went to the number")
		_, body = pat.do("GET", "/api/v1/agent/state", nil, false)
		require.Contains(t, body, `"state":"DISPO"`, "a blind transfer ends the agent's part")
		code, body = pat.do("POST", "/api/v1/agent/disposition", map[string]string{"code": "SALE"}, true)
		require.Equal(t, http.StatusOK, code, body)

		// Warm transfer: Conference brings a third party in, Leave hands the
		// customer over and ends the agent's leg.
		preview()
		code, body = pat.do("POST", "/api/v1/agent/call/dial", nil, true)
		require.Equal(t, http.StatusNoContent, code, body)
		testwait.Until(t, func() bool {
			_, body := pat.do("GET", "/api/v1/agent/call", nil, false)
			mustJSON(t, body, &call)
			return call.State == "connected"
		})
		code, _ = pat.do("POST", "/api/v1/agent/call/leave", nil, true)
		require.Equal(t, http.StatusConflict, code, "nothing to leave before a conference")
		code, _ = pat.do("POST", "/api/v1/agent/call/conference", map[string]string{}, true)
		require.Equal(t, http.StatusBadRequest, code, "a conference needs a third party")
		code, body = pat.do("POST", "/api/v1/agent/call/conference", map[string]string{"target": "+12025550199"}, true)
		require.Equal(t, http.StatusNoContent, code, body)
		_, body = pat.do("GET", "/api/v1/agent/call", nil, false)
		require.Contains(t, body, `"conference":"+12025550199"`)
		require.Equal(t, callFlags{State: "connected", Conference: "+12025550199"}, pat.callFlags())
		code, _ = pat.do("POST", "/api/v1/agent/call/transfer", map[string]string{"target": "+12025550100"}, true)
		require.Equal(t, http.StatusConflict, code, "no blind transfer in the middle of a conference")
		code, _ = pat.do("POST", "/api/v1/agent/call/hold", nil, true)
		require.Equal(t, http.StatusConflict, code, "no hold in a conference")
		code, _ = pat.do("POST", "/api/v1/agent/call/dtmf", map[string]string{"digits": "9"}, true)
		require.Equal(t, http.StatusNoContent, code, "keys reach a conference")
		code, body = pat.do("POST", "/api/v1/agent/call/leave", nil, true)
		require.Equal(t, http.StatusNoContent, code, body)
		testwait.Until(t, func() bool {
			code, body := pat.do("GET", "/api/v1/agent/state", nil, false)
			return code == http.StatusOK && strings.Contains(body, `"state":"DISPO"`)
		}, "leaving the conference ends the agent's leg")
		require.Equal(t, 1, countRows(t, db, `SELECT count(*) FROM call_actions WHERE action = 'conference' AND detail = '+12025550199'`))
		require.Equal(t, 1, countRows(t, db, `SELECT count(*) FROM call_actions WHERE action = 'leave' AND detail = '+12025550199'`))
		require.Equal(t, []string{"add_party  +12025550199", "dtmf 9", "leave  +12025550199"}, carrier.of(pv.ID, call.ID))
		code, body = pat.do("POST", "/api/v1/agent/disposition", map[string]string{"code": "SALE"}, true)
		require.Equal(t, http.StatusOK, code, body)
		pat.do("POST", "/api/v1/agent/state", map[string]string{"state": "LOGGED_OUT"}, true)
	})

	t.Run("manual dial", func(t *testing.T) {
		mc := activeCampaign(t, db, "Manual", "manual", "phone,first_name\n+12025558001,Una\n+12025558002,Val\n")
		_, err := campaigns.AddDNC(ctx, db, campaigns.DNCScope{Campaign: mc.ID}, []string{"+12025558002"}, campaigns.DNCChange{How: campaigns.DNCViaAPI, By: "test"})
		require.NoError(t, err)
		pat := newClient(t, base)
		require.Equal(t, http.StatusOK, pat.login("pat", "password-pat"))
		testwait.Until(t, func() bool {
			code, _ := pat.do("POST", "/api/v1/agent/state", map[string]any{"state": "READY", "campaign_id": mc.ID}, true)
			return code == http.StatusOK
		})
		code, body := pat.do("POST", "/api/v1/agent/call/dial", map[string]string{"number": "202-555-8002"}, true)
		require.Equal(t, http.StatusConflict, code, "on the campaign's DNC list: %s", body)
		code, body = pat.do("POST", "/api/v1/agent/call/dial", map[string]string{"number": "(202) 555-8001"}, true)
		require.Equal(t, http.StatusOK, code, body)
		var dialled struct {
			Lead int64 `json:"lead_id"`
		}
		mustJSON(t, body, &dialled)
		testwait.Until(t, func() bool {
			_, body := pat.do("GET", "/api/v1/agent/call", nil, false)
			return strings.Contains(body, `"state":"connected"`) && strings.Contains(body, "Una")
		})
		code, _ = pat.do("POST", "/api/v1/agent/call/hangup", nil, true)
		require.Equal(t, http.StatusNoContent, code)
		code, body = pat.do("POST", "/api/v1/agent/disposition", map[string]string{"code": "AM"}, true)
		require.Equal(t, http.StatusOK, code, body)

		// Click to dial from history (a lead not finished may be called
		// again by hand before its retry time): the lead is in pat's
		// history; the first call's lead of alice's campaign is not.
		code, _ = pat.do("POST", "/api/v1/agent/call/dial", map[string]any{"lead_id": 1}, true)
		require.Equal(t, http.StatusNotFound, code)
		testwait.Until(t, func() bool {
			_, body := pat.do("GET", "/api/v1/agent/history", nil, false)
			return strings.Contains(body, fmt.Sprintf(`"lead_id":%d`, dialled.Lead))
		})
		code, body = pat.do("POST", "/api/v1/agent/call/dial", map[string]any{"lead_id": dialled.Lead}, true)
		require.Equal(t, http.StatusOK, code, body)
		testwait.Until(t, func() bool {
			_, body := pat.do("GET", "/api/v1/agent/call", nil, false)
			return strings.Contains(body, `"state":"connected"`)
		})
		code, _ = pat.do("POST", "/api/v1/agent/call/dial", map[string]string{"number": "2025558001"}, true)
		require.Equal(t, http.StatusConflict, code, "not while in a call")
		pat.do("POST", "/api/v1/agent/call/hangup", nil, true)
		pat.do("POST", "/api/v1/agent/disposition", map[string]string{"code": "SALE"}, true)
		pat.do("POST", "/api/v1/agent/state", map[string]string{"state": "LOGGED_OUT"}, true)
	})

	t.Run("metrics", func(t *testing.T) {
		code, _ := anon.do("GET", "/metrics", nil, false)
		require.Equal(t, http.StatusUnauthorized, code, "scrapes bring the metrics token")
		scrape := func() (int, string) {
			req, err := http.NewRequest("GET", base+"/metrics", nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer scrape-token")
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		testwait.Until(t, func() bool {
			code, body := scrape()
			return code == http.StatusOK && strings.Contains(body, fmt.Sprintf(`pacer_calls_total{campaign="%d",outcome="completed"} `, camp.ID))
		})
		_, body := scrape()
		for _, m := range []string{"pacer_live_answers_total{", "pacer_abandons_total{", "pacer_dial_level{", "pacer_agents{",
			`state="PAUSED"`, "pacer_pacing_loop_latency_seconds_bucket", "pacer_websocket_clients ", "pacer_lines_in_use{"} {
			require.Contains(t, body, m)
		}
	})

	t.Run("session lost", func(t *testing.T) {
		// Alice's workspace closes and does not come back: she is logged
		// out so no call goes to an empty chair.
		h := http.Header{}
		u, _ := url.Parse(base)
		for _, ck := range alice.http.Jar.Cookies(u) {
			h.Add("Cookie", ck.Name+"="+ck.Value)
		}
		ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/api/v1/events", h)
		require.NoError(t, err)
		_, _, err = ws.ReadMessage()
		require.NoError(t, err)
		ws.Close()
		testwait.Until(t, func() bool {
			_, body := alice.do("GET", "/api/v1/agent/state", nil, false)
			return strings.Contains(body, `"state":"LOGGED_OUT"`)
		})
		testwait.Until(t, func() bool {
			return countRows(t, db, `SELECT count(*) FROM agent_sessions s JOIN users u ON u.id = s.agent_id
				WHERE u.username = 'alice' AND s.end_cause = 'session_lost'`) == 1
		})
		// She comes back: READY again in the same campaign.
		code, body := alice.do("POST", "/api/v1/agent/state", map[string]any{"state": "READY", "campaign_id": camp.ID}, true)
		require.Equal(t, http.StatusOK, code, body)
		// READY, or already on the next call the campaign connected her to.
		require.Regexp(t, `"state":"(READY|INCALL)"`, body)
		alice.do("POST", "/api/v1/agent/state", map[string]string{"state": "LOGGED_OUT"}, true)
	})

	t.Run("login throttling", func(t *testing.T) {
		c := newClient(t, base)
		for range 5 {
			require.Equal(t, http.StatusUnauthorized, c.login("eve", "wrong password"))
		}
		code, body := c.do("POST", "/api/v1/login", map[string]string{"username": "eve", "password": "password-eve"}, false)
		require.Equal(t, http.StatusTooManyRequests, code, "even the right password waits: %s", body)
		require.Equal(t, http.StatusOK, newClient(t, base).login("bob", "password-bob"), "other users are not locked out")
		require.Equal(t, http.StatusUnauthorized, newClient(t, base).login("nobody", "password-x"))
	})

	t.Run("logout", func(t *testing.T) {
		code, _ := bob.do("POST", "/api/v1/logout", nil, true)
		require.Equal(t, http.StatusNoContent, code)
		code, _ = bob.do("GET", "/api/v1/me", nil, false)
		require.Equal(t, http.StatusUnauthorized, code)
	})
}
