package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/inbound"
	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/internal/testwait"
	"github.com/pacer-dialer/pacer/web"
)

// callbackJSON is a callback as the API answers it.
type callbackJSON struct {
	ID          int64     `json:"id"`
	Lead        int64     `json:"lead_id"`
	Agent       int64     `json:"agent_id"`
	Scope       string    `json:"scope"`
	Status      string    `json:"status"`
	DueAt       time.Time `json:"due_at"`
	DueAtLocal  string    `json:"due_at_local"`
	LeadZone    string    `json:"lead_zone"`
	RequestedAt time.Time `json:"requested_at"`
	Moved       bool      `json:"moved"`
	Notes       string    `json:"notes"`
	Name        string    `json:"name"`
	Phone       string    `json:"phone"`
}

type agentCallJSON struct {
	ID    uint64 `json:"id"`
	State string `json:"state"`
	Lead  struct {
		ID int64 `json:"id"`
	} `json:"lead"`
	Callback *callbackJSON `json:"callback"`
}

// waitCall polls the agent's call until it is in state.
func (c *client) waitCall(state string, logs ...fmt.Stringer) agentCallJSON {
	c.t.Helper()
	var call agentCallJSON
	testwait.Until(c.t, func() bool {
		code, body := c.do("GET", "/api/v1/agent/call", nil, false)
		if code != http.StatusOK {
			return false
		}
		call = agentCallJSON{}
		mustJSON(c.t, body, &call)
		return call.State == state
	}, "the agent's call reaches %s; logs: %v", state, logs)
	return call
}

func (c *client) callbacks(path string) []callbackJSON {
	c.t.Helper()
	code, body := c.do("GET", path, nil, false)
	require.Equal(c.t, http.StatusOK, code, body)
	var r struct {
		Callbacks []callbackJSON `json:"callbacks"`
	}
	mustJSON(c.t, body, &r)
	return r.Callbacks
}

// Callbacks through the JSON API on the real server: a CALLBK disposition
// with its time and scope, every kind of bad disposition refused with a
// clear 4xx, the agent's callbacks list, reschedule and cancel (an agent
// only their own; a supervisor any), click to dial, the supervisors'
// missed list and callback requests, and the admin-only jobs endpoints.
func TestWebCallbacks(t *testing.T) {
	t.Parallel()
	dbURL := testdb.New(t)
	db, err := pgxpool.New(context.Background(), dbURL)
	require.NoError(t, err)
	t.Cleanup(db.Close)
	ctx := context.Background()
	for _, u := range []struct{ name, role string }{{"alice", "agent"}, {"bob", "agent"}, {"sue", "supervisor"},
		{"max", "manager"}, {"root", "admin"}} {
		_, err := web.CreateUser(ctx, db, web.NewUser{Username: u.name, Role: web.Role(u.role), Password: "password-" + u.name,
			Cost: bcrypt.MinCost})
		require.NoError(t, err)
	}
	// One lead: once it waits for its callback nothing else is dialled, so
	// the agent's READY is free for the callback.
	camp := activeCampaign(t, db, "Callbacks", "predictive", "phone,first_name,last_name\n+12025550150,Cora,<i>Back</i>\n")
	req, err := inbound.CreateRequest(ctx, db, inbound.NewRequest{Campaign: camp.ID, Phone: "+12025550177", Name: "Caller",
		Now: time.Now()})
	require.NoError(t, err)

	base, _ := serveWeb(t, serveOptions{db: dbOptions{url: dbURL}, httpAddr: "127.0.0.1:0", nodeID: "cb-test",
		engine: engineOptions{noDemo: true, sim: webSim(), poll: 100 * time.Millisecond, summary: -1},
		web:    webOptions{bcryptCost: bcrypt.MinCost, sessionTTL: time.Hour, agentGone: -1}})
	alice, bob, sue, max, root := newClient(t, base), newClient(t, base), newClient(t, base), newClient(t, base), newClient(t, base)
	for c, u := range map[*client]string{alice: "alice", bob: "bob", sue: "sue", max: "max", root: "root"} {
		require.Equal(t, http.StatusOK, c.login(u, "password-"+u))
	}

	// Alice takes the lead's call and hangs up; bob works the campaign too.
	code, body := bob.do("POST", "/api/v1/agent/state", map[string]any{"state": "PAUSED", "campaign_id": camp.ID}, true)
	require.Equal(t, http.StatusOK, code, body)
	code, body = alice.do("POST", "/api/v1/agent/state", map[string]any{"state": "READY", "campaign_id": camp.ID}, true)
	require.Equal(t, http.StatusOK, code, body)
	call := alice.waitCall("connected")
	code, _ = alice.do("POST", "/api/v1/agent/call/hangup", nil, true)
	require.Equal(t, http.StatusNoContent, code)

	soon := func(d time.Duration) string { return time.Now().Add(d).Format(time.RFC3339) }
	t.Run("bad dispositions", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			body map[string]any
			code int
			says string
		}{
			{"callback in the past", map[string]any{"code": "CALLBK", "callback_at": soon(-time.Minute), "callback_scope": "me"}, 400, "in the past"},
			{"unknown code", map[string]any{"code": "NOPE"}, 400, "unknown disposition"},
			{"system code", map[string]any{"code": "DROP"}, 400, "reserved for the system"},
			{"callback code without a time", map[string]any{"code": "CALLBK"}, 400, "needs a callback time"},
			{"callback time on a code without one", map[string]any{"code": "NI", "callback_at": soon(time.Hour)}, 400, "does not schedule a callback"},
			{"bad scope", map[string]any{"code": "CALLBK", "callback_at": soon(time.Hour), "callback_scope": "them"}, 400, "scope"},
			{"not RFC 3339", map[string]any{"code": "CALLBK", "callback_at": "tomorrow at 3", "callback_scope": "me"}, 400, "RFC 3339"},
			{"notes too long", map[string]any{"code": "NI", "notes": strings.Repeat("x", 4001)}, 400, "too long"},
			{"another call", map[string]any{"code": "NI", "call_id": call.ID + 1000}, 403, "not the agent's"},
		} {
			code, body := alice.do("POST", "/api/v1/agent/disposition", tc.body, true)
			require.Equal(t, tc.code, code, "%s: %s", tc.name, body)
			require.Contains(t, body, tc.says, tc.name)
		}
		// Bob names alice's call: it is not his.
		code, body := bob.do("POST", "/api/v1/agent/disposition", map[string]any{"code": "SALE", "call_id": call.ID}, true)
		require.Equal(t, http.StatusForbidden, code, body)
		code, body = bob.do("POST", "/api/v1/agent/disposition", map[string]any{"code": "SALE"}, true)
		require.Equal(t, http.StatusConflict, code, "bob has no call awaiting a disposition: %s", body)
		_, body = alice.do("GET", "/api/v1/agent/state", nil, false)
		require.Contains(t, body, `"state":"DISPO"`, "nothing changed")
	})

	var cb callbackJSON
	t.Run("callback disposition", func(t *testing.T) {
		at := soon(time.Hour)
		code, body := alice.do("POST", "/api/v1/agent/disposition", map[string]any{"code": "CALLBK", "call_id": call.ID,
			"notes": "Call after <b>lunch</b>", "callback_at": at, "callback_scope": "me", "pause_after": true}, true)
		require.Equal(t, http.StatusOK, code, body)
		var r struct {
			State       string       `json:"state"`
			Disposition string       `json:"disposition"`
			Callback    callbackJSON `json:"callback"`
		}
		mustJSON(t, body, &r)
		require.Equal(t, "PAUSED", r.State)
		require.Equal(t, "CALLBK", r.Disposition)
		cb = r.Callback
		require.Equal(t, "scheduled", cb.Status)
		require.Equal(t, "me", cb.Scope)
		require.False(t, cb.Moved, "the window is always open")
		due, err := time.Parse(time.RFC3339, at)
		require.NoError(t, err)
		require.True(t, due.Equal(cb.DueAt), "due when the agent said: %s, not %s", at, cb.DueAt)
		require.Equal(t, "America/New_York", cb.LeadZone)
		local, err := time.Parse(time.RFC3339, cb.DueAtLocal)
		require.NoError(t, err)
		require.True(t, local.Equal(cb.DueAt))
		ny, _ := time.LoadLocation("America/New_York")
		require.Equal(t, cb.DueAt.In(ny).Format(time.RFC3339), cb.DueAtLocal)
		require.Equal(t, 1, countRows(t, db, `SELECT count(*) FROM calls WHERE lead_id = $1 AND disposition = 'CALLBK'
			AND notes = 'Call after <b>lunch</b>'`, cb.Lead), "the notes are on the call")
		require.Zero(t, countRows(t, db, `SELECT count(*) FROM call_actions WHERE action = 'notes'`), "and only there")

		code, body = alice.do("POST", "/api/v1/agent/disposition", map[string]any{"code": "SALE", "call_id": call.ID}, true)
		require.Equal(t, http.StatusConflict, code, body)
		require.Contains(t, body, "already has a disposition")
	})

	t.Run("lists", func(t *testing.T) {
		list := alice.callbacks("/api/v1/agent/callbacks")
		require.Len(t, list, 1)
		got := list[0]
		require.Equal(t, cb.ID, got.ID)
		require.Equal(t, call.Lead.ID, got.Lead)
		require.Equal(t, "Call after <b>lunch</b>", got.Notes)
		require.Equal(t, "Cora <i>Back</i>", got.Name)
		require.Equal(t, "+12025550150", got.Phone)
		require.Empty(t, bob.callbacks("/api/v1/agent/callbacks"), "bob sees only his own")
		require.Empty(t, sue.callbacks(fmt.Sprintf("/api/v1/callbacks?campaign_id=%d", camp.ID)), "nothing missed")
		require.Len(t, sue.callbacks(fmt.Sprintf("/api/v1/callbacks?campaign_id=%d&status=scheduled", camp.ID)), 1)
		code, _ := alice.do("GET", "/api/v1/callbacks", nil, false)
		require.Equal(t, http.StatusForbidden, code, "the missed list is the supervisors'")
		code, _ = sue.do("GET", "/api/v1/callbacks?status=later", nil, false)
		require.Equal(t, http.StatusBadRequest, code)

		code, body := sue.do("GET", fmt.Sprintf("/api/v1/callback-requests?campaign_id=%d", camp.ID), nil, false)
		require.Equal(t, http.StatusOK, code, body)
		require.Contains(t, body, `"pending":1`)
		require.Contains(t, body, `"answered":0`)
		require.Contains(t, body, fmt.Sprintf(`"id":%d`, req.ID))
		code, _ = alice.do("GET", "/api/v1/callback-requests", nil, false)
		require.Equal(t, http.StatusForbidden, code)

		// Supervisors work requests by hand: assign, then close the loop.
		var aliceID, sueID int64
		require.NoError(t, db.QueryRow(ctx, "SELECT id FROM users WHERE username = 'alice'").Scan(&aliceID))
		require.NoError(t, db.QueryRow(ctx, "SELECT id FROM users WHERE username = 'sue'").Scan(&sueID))
		reqPath := func(verb string) string { return fmt.Sprintf("/api/v1/callback-requests/%d/%s", req.ID, verb) }
		code, _ = alice.do("POST", reqPath("status"), map[string]string{"status": "closed"}, true)
		require.Equal(t, http.StatusForbidden, code, "agents do not close requests")
		code, _ = sue.do("POST", reqPath("assign"), map[string]any{"agent_id": sueID}, true)
		require.Equal(t, http.StatusBadRequest, code, "only an agent can be given a request")
		code, body = sue.do("POST", reqPath("assign"), map[string]any{"agent_id": aliceID}, true)
		require.Equal(t, http.StatusOK, code, body)
		require.Contains(t, body, fmt.Sprintf(`"agent_id":%d`, aliceID))
		code, _ = sue.do("POST", reqPath("status"), map[string]string{"status": "later"}, true)
		require.Equal(t, http.StatusBadRequest, code)
		code, body = sue.do("POST", reqPath("status"), map[string]string{"status": "unanswered"}, true)
		require.Equal(t, http.StatusOK, code, body)
		code, body = sue.do("POST", reqPath("status"), map[string]string{"status": "answered"}, true)
		require.Equal(t, http.StatusConflict, code, "an unanswered request goes back to pending or is closed: %s", body)
		code, body = sue.do("POST", reqPath("status"), map[string]string{"status": "closed"}, true)
		require.Equal(t, http.StatusOK, code, body)
		code, _ = sue.do("POST", reqPath("assign"), map[string]any{"agent_id": aliceID}, true)
		require.Equal(t, http.StatusConflict, code, "a closed request is not assigned")
		code, _ = sue.do("POST", "/api/v1/callback-requests/999999/status", map[string]string{"status": "closed"}, true)
		require.Equal(t, http.StatusNotFound, code)
		code, body = sue.do("GET", fmt.Sprintf("/api/v1/callback-requests?campaign_id=%d", camp.ID), nil, false)
		require.Equal(t, http.StatusOK, code, body)
		require.Contains(t, body, `"closed":1`)
	})

	var oldJob int64
	t.Run("reschedule", func(t *testing.T) {
		path := fmt.Sprintf("/api/v1/callbacks/%d/reschedule", cb.ID)
		for _, c := range []*client{bob} {
			code, body := c.do("POST", path, map[string]any{"callback_at": soon(2 * time.Hour)}, true)
			require.Equal(t, http.StatusNotFound, code, "another agent's callback: %s", body)
			code, _ = c.do("POST", fmt.Sprintf("/api/v1/callbacks/%d/cancel", cb.ID), nil, true)
			require.Equal(t, http.StatusNotFound, code)
			code, _ = c.do("POST", fmt.Sprintf("/api/v1/agent/callbacks/%d/dial", cb.ID), nil, true)
			require.Equal(t, http.StatusNotFound, code)
		}
		code, _ := alice.do("POST", path, map[string]any{"callback_at": soon(2 * time.Hour)}, false)
		require.Equal(t, http.StatusForbidden, code, "CSRF")
		code, body := alice.do("POST", path, map[string]any{"callback_at": soon(-time.Hour)}, true)
		require.Equal(t, http.StatusBadRequest, code, body)
		require.Contains(t, body, "in the past")
		require.NoError(t, db.QueryRow(ctx, `SELECT job_id FROM callbacks WHERE id = $1`, cb.ID).Scan(&oldJob))
		// Twice within a minute, then a supervisor: each works.
		for i, c := range []*client{alice, alice, sue} {
			at := time.Now().Add(time.Duration(90+i) * time.Minute).Truncate(time.Second)
			code, body := c.do("POST", path, map[string]any{"callback_at": at.Format(time.RFC3339), "notes": fmt.Sprintf("take %d", i)}, true)
			require.Equal(t, http.StatusOK, code, body)
			var got callbackJSON
			mustJSON(t, body, &got)
			require.Equal(t, "scheduled", got.Status)
			require.True(t, got.DueAt.Equal(at), "%s vs %s", got.DueAt, at)
			require.Equal(t, fmt.Sprintf("take %d", i), got.Notes)
		}
		require.Equal(t, 3, countRows(t, db, `SELECT count(*) FROM callback_events WHERE callback_id = $1 AND event = 'reschedule'`, cb.ID))
	})

	t.Run("jobs", func(t *testing.T) {
		for _, c := range []*client{alice, sue, max} {
			code, _ := c.do("GET", "/api/v1/jobs", nil, false)
			require.Equal(t, http.StatusForbidden, code)
			code, _ = c.do("POST", fmt.Sprintf("/api/v1/jobs/%d/retry", oldJob), nil, true)
			require.Equal(t, http.StatusForbidden, code)
			code, _ = c.do("POST", fmt.Sprintf("/api/v1/jobs/%d/cancel", oldJob), nil, true)
			require.Equal(t, http.StatusForbidden, code)
			code, _ = c.do("GET", "/admin/jobs", nil, false)
			require.Equal(t, http.StatusForbidden, code)
		}
		code, body := root.do("GET", "/api/v1/jobs?kind=callback_due&state=cancelled", nil, false)
		require.Equal(t, http.StatusOK, code, body)
		require.Contains(t, body, fmt.Sprintf(`"id":%d,"kind":"callback_due","state":"cancelled"`, oldJob),
			"a rescheduled callback's old job is cancelled")
		require.Contains(t, body, `{"kind":"callback_due","state":"scheduled","count":1}`)
		code, _ = root.do("GET", "/api/v1/jobs?state=sleeping", nil, false)
		require.Equal(t, http.StatusBadRequest, code)
		// Retrying the old version's job runs it; it leaves the callback alone.
		code, body = root.do("POST", fmt.Sprintf("/api/v1/jobs/%d/retry", oldJob), nil, false)
		require.Equal(t, http.StatusForbidden, code, "CSRF: %s", body)
		code, body = root.do("POST", fmt.Sprintf("/api/v1/jobs/%d/retry", oldJob), nil, true)
		require.Equal(t, http.StatusOK, code, body)
		testwait.Until(t, func() bool {
			return countRows(t, db, `SELECT count(*) FROM river_job WHERE id = $1 AND state = 'completed'`, oldJob) == 1
		})
		require.Equal(t, "scheduled", alice.callbacks("/api/v1/agent/callbacks")[0].Status)
		code, body = root.do("POST", fmt.Sprintf("/api/v1/jobs/%d/cancel", oldJob), nil, true)
		require.Equal(t, http.StatusOK, code, "cancelling a finished job changes nothing: %s", body)
		code, _ = root.do("POST", "/api/v1/jobs/99999999/retry", nil, true)
		require.Equal(t, http.StatusNotFound, code)
		code, body = root.do("GET", "/admin/jobs", nil, false)
		require.Equal(t, http.StatusOK, code)
		require.Contains(t, body, "/static/jobs.js")
	})

	t.Run("click to dial", func(t *testing.T) {
		path := fmt.Sprintf("/api/v1/agent/callbacks/%d/dial", cb.ID)
		code, body := alice.do("POST", path, nil, true)
		require.Equal(t, http.StatusConflict, code, "not READY: %s", body)
		code, body = alice.do("POST", "/api/v1/agent/state", map[string]any{"state": "READY"}, true)
		require.Equal(t, http.StatusOK, code, body)
		code, body = alice.do("POST", path, nil, true)
		require.Equal(t, http.StatusOK, code, body)
		got := alice.waitCall("connected")
		require.Equal(t, cb.Lead, got.Lead.ID)
		require.Equal(t, "dialled", alice.callbacks("/api/v1/agent/callbacks")[0].Status)
		code, _ = alice.do("POST", "/api/v1/agent/call/hangup", nil, true)
		require.Equal(t, http.StatusNoContent, code)
		// A new callback for the same lead; the dialled one is completed.
		code, body = alice.do("POST", "/api/v1/agent/disposition", map[string]any{"code": "CALLBK", "callback_at": soon(time.Hour),
			"callback_scope": "me", "notes": "second try", "pause_after": true}, true)
		require.Equal(t, http.StatusOK, code, body)
		list := alice.callbacks("/api/v1/agent/callbacks?status=completed,scheduled")
		require.Len(t, list, 2)
		require.Equal(t, "scheduled", list[0].Status)
		require.Equal(t, "completed", list[1].Status)
		require.Equal(t, cb.ID, list[1].ID)
		cb = list[0]
	})

	t.Run("moved and cancelled", func(t *testing.T) {
		// The window closes at night: a supervisor's 03:00 (lead's time)
		// becomes 09:00, and the answer says so.
		_, err := campaigns.Update(ctx, db, camp.ID, map[string]string{"window_start": "09:00", "window_end": "17:00"})
		require.NoError(t, err)
		ny, _ := time.LoadLocation("America/New_York")
		n := time.Now().In(ny)
		at := time.Date(n.Year(), n.Month(), n.Day()+1, 3, 0, 0, 0, ny)
		code, body := sue.do("POST", fmt.Sprintf("/api/v1/callbacks/%d/reschedule", cb.ID), map[string]any{
			"callback_at": at.UTC().Format(time.RFC3339)}, true)
		require.Equal(t, http.StatusOK, code, body)
		var got callbackJSON
		mustJSON(t, body, &got)
		require.True(t, got.Moved)
		require.True(t, got.RequestedAt.Equal(at))
		require.Equal(t, at.Add(6*time.Hour).Format(time.RFC3339), got.DueAtLocal)
		require.Equal(t, "me", got.Scope)
		// Alice cancels her own; cancelled is final.
		path := fmt.Sprintf("/api/v1/callbacks/%d/cancel", cb.ID)
		code, _ = bob.do("POST", path, nil, true)
		require.Equal(t, http.StatusNotFound, code)
		code, body = alice.do("POST", path, map[string]string{"reason": "customer called in"}, true)
		require.Equal(t, http.StatusOK, code, body)
		require.Contains(t, body, `"status":"cancelled"`)
		code, body = sue.do("POST", path, nil, true)
		require.Equal(t, http.StatusConflict, code, "cancelled is final: %s", body)
		require.Equal(t, 1, countRows(t, db, `SELECT count(*) FROM river_job WHERE kind = 'callback_due' AND state = 'cancelled'
			AND (args->>'callback')::bigint = $1 AND (args->>'version')::int = $2`, cb.ID, 2), "its job is cancelled too")
	})
}

// The end-to-end promise on the real binary with the simulated
// carrier: an agent dispositions a call as CALLBK due in 40 s with scope me
// and goes PAUSED; the server is killed with SIGKILL and started again; the
// agent logs in, goes READY, and the callback's lead reaches them as a
// preview showing the notes shortly after it is due, once.
func TestCallbackSurvivesKill(t *testing.T) {
	t.Parallel()
	dbURL := testdb.New(t)
	db, err := pgxpool.New(context.Background(), dbURL)
	require.NoError(t, err)
	t.Cleanup(db.Close)
	ctx := context.Background()
	_, err = web.CreateUser(ctx, db, web.NewUser{Username: "ann", Role: web.RoleAgent, Password: "password-ann", Cost: bcrypt.MinCost})
	require.NoError(t, err)
	camp := activeCampaign(t, db, "Kill", "predictive", "phone,first_name\n+12025550160,Kit\n")
	dir := workDir(t)
	simConfig := filepath.Join(dir, "sim.json")
	require.NoError(t, os.WriteFile(simConfig, []byte(`{
		"outcomes": [{"kind": "human", "p": 1, "after_s": {"dist": "uniform", "min": 0.05, "max": 0.1}}],
		"ring_after_s": {"dist": "uniform", "min": 0.01, "max": 0.02},
		"customer_talk_s": {"dist": "uniform", "min": 300, "max": 400}
	}`), 0o644))

	start := func() (addr string, cmd *exec.Cmd, done chan error, logs *syncBuffer) {
		addr = freeAddr(t)
		cmd = exec.Command(pacerBin, "serve", "--http-addr", addr, "--no-demo", "--sim-config", simConfig,
			"--campaign-poll", "200ms", "--bcrypt-cost", "4", "--node-id", "kill-test", "--lease-ttl", "2s")
		cmd.Dir = dir
		cmd.Env = cleanEnv("DATABASE_URL=" + dbURL)
		logs, done = launch(t, cmd)
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			<-done
		})
		waitReady(t, addr, logs)
		return addr, cmd, done, logs
	}

	addr, first, firstDone, firstLogs := start()
	ann := newClient(t, "http://"+addr)
	require.Equal(t, http.StatusOK, ann.login("ann", "password-ann"))
	code, body := ann.do("POST", "/api/v1/agent/state", map[string]any{"state": "READY", "campaign_id": camp.ID}, true)
	require.Equal(t, http.StatusOK, code, body)
	call := ann.waitCall("connected")
	code, _ = ann.do("POST", "/api/v1/agent/call/hangup", nil, true)
	require.Equal(t, http.StatusNoContent, code)
	notes := "Wants the <b>quote</b> by phone"
	code, body = ann.do("POST", "/api/v1/agent/disposition", map[string]any{"code": "CALLBK", "call_id": call.ID, "notes": notes,
		"callback_at": time.Now().Add(40 * time.Second).Format(time.RFC3339), "callback_scope": "me", "pause_after": true}, true)
	require.Equal(t, http.StatusOK, code, body)
	var saved struct {
		State    string       `json:"state"`
		Callback callbackJSON `json:"callback"`
	}
	mustJSON(t, body, &saved)
	require.Equal(t, "PAUSED", saved.State)
	cb := saved.Callback
	require.Equal(t, "scheduled", cb.Status)

	require.NoError(t, first.Process.Signal(syscall.SIGKILL))
	<-firstDone
	t.Logf("first server's logs:\n%s", firstLogs)
	// The name is held until the dead node's heartbeat expires; the next
	// life of the name then recovers it as it registers.
	testwait.Until(t, func() bool {
		return countRows(t, db, `SELECT count(*) FROM nodes WHERE id = 'kill-test' AND expires_at < now()`) == 1
	})

	addr, _, _, logs := start()
	ann = newClient(t, "http://"+addr)
	require.Equal(t, http.StatusOK, ann.login("ann", "password-ann"))
	code, body = ann.do("POST", "/api/v1/agent/state", map[string]any{"state": "READY", "campaign_id": camp.ID}, true)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, "scheduled", ann.callbacks("/api/v1/agent/callbacks")[0].Status, "not due yet; kept across the kill")
	offer := ann.waitCall("preview", logs)
	arrived := time.Now()
	require.NotNil(t, offer.Callback, "the preview is the callback; server logs:\n%s", logs)
	require.Equal(t, cb.ID, offer.Callback.ID)
	require.Equal(t, call.Lead.ID, offer.Lead.ID)
	require.Equal(t, notes, offer.Callback.Notes, "the preview shows the callback's notes")
	require.False(t, arrived.Before(cb.DueAt.Add(-time.Second)), "not before it is due")
	require.Less(t, arrived.Sub(cb.DueAt), 15*time.Second, "shortly after it is due")
	t.Logf("callback offered %.1f s after its due time", arrived.Sub(cb.DueAt).Seconds())

	code, body = ann.do("POST", "/api/v1/agent/call/dial", nil, true)
	require.Equal(t, http.StatusNoContent, code, body)
	ann.waitCall("connected")
	code, _ = ann.do("POST", "/api/v1/agent/call/hangup", nil, true)
	require.Equal(t, http.StatusNoContent, code)
	code, body = ann.do("POST", "/api/v1/agent/disposition", map[string]any{"code": "SALE", "pause_after": true}, true)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, "completed", ann.callbacks("/api/v1/agent/callbacks?status=completed")[0].Status)
	require.Equal(t, 1, countRows(t, db, `SELECT count(*) FROM callback_events WHERE callback_id = $1 AND event = 'fall_due'`, cb.ID),
		"fell due once")
	require.Equal(t, 1, countRows(t, db, `SELECT count(*) FROM callback_events WHERE callback_id = $1 AND event = 'dial'`, cb.ID),
		"dialled once")
	require.Equal(t, 2, countRows(t, db, `SELECT count(*) FROM calls WHERE lead_id = $1`, call.Lead.ID))
}
