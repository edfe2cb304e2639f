package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/internal/testwait"
	"github.com/pacer-dialer/pacer/web"
)

// assignServer is a served database with agents ann and bo, manager max,
// and two manual campaigns, Mine (ann assigned) and Theirs (nobody).
type assignServer struct {
	dbURL        string
	db           *pgxpool.Pool
	base         string
	mine, theirs campaigns.Campaign
}

func startAssignServer(t *testing.T) *assignServer {
	t.Helper()
	s := &assignServer{dbURL: testdb.New(t)}
	var err error
	s.db, err = pgxpool.New(context.Background(), s.dbURL)
	require.NoError(t, err)
	t.Cleanup(s.db.Close)
	ctx := context.Background()
	var lines strings.Builder
	lines.WriteString("phone,first_name\n")
	for i := range 6 {
		fmt.Fprintf(&lines, "+1202555%04d,Lead%d\n", 3000+i, i)
	}
	s.mine = activeCampaign(t, s.db, "Mine", "manual", lines.String())
	s.theirs = activeCampaign(t, s.db, "Theirs", "manual", "phone,first_name\n+12025553100,Other\n")
	for _, u := range []struct{ name, role string }{{"ann", "agent"}, {"bo", "agent"}, {"max", "manager"}} {
		_, err := web.CreateUser(ctx, s.db, web.NewUser{Username: u.name, Role: web.Role(u.role), Password: "password-" + u.name,
			Cost: bcrypt.MinCost})
		require.NoError(t, err)
	}
	assignAgents(t, s.db, s.mine.ID, "ann")
	s.base, _ = serveWeb(t, serveOptions{db: dbOptions{url: s.dbURL}, httpAddr: "127.0.0.1:0", nodeID: "assign-test",
		engine: engineOptions{noDemo: true, sim: webSim(), poll: 100 * time.Millisecond, summary: -1},
		web:    webOptions{bcryptCost: bcrypt.MinCost, sessionTTL: time.Hour, agentGone: time.Minute}})
	return s
}

func (s *assignServer) login(t *testing.T, user string) *client {
	t.Helper()
	c := newClient(t, s.base)
	require.Equal(t, http.StatusOK, c.login(user, "password-"+user))
	return c
}

// ready makes the agent READY in campaign once its loop runs.
func (c *client) ready(campaign campaigns.ID) {
	c.t.Helper()
	var code int
	var body string
	testwait.Until(c.t, func() bool {
		code, body = c.do("POST", "/api/v1/agent/state", map[string]any{"state": "READY", "campaign_id": campaign}, true)
		return code == http.StatusOK || code == http.StatusForbidden
	})
	require.Equal(c.t, http.StatusOK, code, body)
}

// Agents work only the campaigns they are assigned to: joining another is
// refused with a 403 that says why, the agent's campaign list shows only
// theirs, and a manager assigns and unassigns through the API (GET, PUT,
// POST, DELETE) and `pacer campaigns assign`.
func TestAgentsJoinOnlyTheirCampaigns(t *testing.T) {
	t.Parallel()
	s := startAssignServer(t)
	ann, max := s.login(t, "ann"), s.login(t, "max")

	testwait.Until(t, func() bool {
		_, body := ann.do("GET", "/api/v1/agent/campaigns", nil, false)
		return strings.Contains(body, `"Mine"`)
	}, "ann's campaign runs")
	_, body := ann.do("GET", "/api/v1/agent/campaigns", nil, false)
	require.NotContains(t, body, "Theirs", "only the campaigns ann is assigned to")
	var code int
	testwait.Until(t, func() bool {
		code, body = ann.do("POST", "/api/v1/agent/state", map[string]any{"state": "READY", "campaign_id": s.theirs.ID}, true)
		return code != http.StatusConflict // its loop may not run yet
	})
	require.Equal(t, http.StatusForbidden, code, body)
	require.Contains(t, body, `you are not assigned to campaign \"Theirs\"; ask a manager to assign you`)

	// The API: POST adds, GET lists, DELETE removes one, PUT replaces.
	path := fmt.Sprintf("/api/v1/campaigns/%d/agents", s.theirs.ID)
	code, body = ann.do("POST", path, map[string]any{"usernames": []string{"ann"}}, true)
	require.Equal(t, http.StatusForbidden, code, "agents do not assign themselves: %s", body)
	code, body = max.do("POST", path, map[string]any{"usernames": []string{"max"}}, true)
	require.Equal(t, http.StatusBadRequest, code, body)
	require.Contains(t, body, `\"max\" is not an active agent`)
	code, body = max.do("POST", path, map[string]any{"usernames": []string{"ann", "bo"}}, true)
	require.Equal(t, http.StatusOK, code, body)
	var list struct {
		Agents []web.AssignedAgent `json:"agents"`
	}
	mustJSON(t, body, &list)
	require.Len(t, list.Agents, 2)
	require.Equal(t, "ann", list.Agents[0].Username)
	ann.ready(s.theirs.ID)

	code, body = max.do("DELETE", fmt.Sprintf("%s/%d", path, list.Agents[1].ID), nil, true)
	require.Equal(t, http.StatusOK, code, body)
	require.NotContains(t, body, `"bo"`)
	code, _ = max.do("DELETE", fmt.Sprintf("%s/%d", path, list.Agents[1].ID), nil, true)
	require.Equal(t, http.StatusNotFound, code, "bo is no longer on it")
	code, body = max.do("PUT", path, map[string]any{"usernames": []string{"bo"}}, true)
	require.Equal(t, http.StatusOK, code, body)
	_, body = max.do("GET", path, nil, false)
	require.Contains(t, body, `"bo"`)
	require.NotContains(t, body, `"ann"`)
	_, body = ann.do("GET", "/api/v1/agent/state", nil, false)
	require.Contains(t, body, `"state":"LOGGED_OUT"`, "ann, READY without a call, is logged out of it at once")
	code, body = ann.do("POST", "/api/v1/agent/state", map[string]any{"state": "READY", "campaign_id": s.theirs.ID}, true)
	require.Equal(t, http.StatusForbidden, code, body)

	// The CLI: assign, unassign, list.
	run := func(args ...string) (string, string, int) { return runPacer(t, s.dbURL, "", args...) }
	out, errOut, code := run("campaigns", "assign", "Theirs", "--agents", "ann", "--remove", "bo")
	require.Zero(t, code, errOut)
	require.Regexp(t, `(?m)^ann\s+\d+`, out)
	require.NotContains(t, out, "bo ")
	out, _, code = run("campaigns", "assign", "Theirs")
	require.Zero(t, code)
	require.Regexp(t, `(?m)^ann\s+\d+`, out, "no flags: the list")
	_, errOut, code = run("campaigns", "assign", "Theirs", "--agents", "max")
	require.NotZero(t, code)
	require.Contains(t, errOut, `"max" is not an active agent`)
	ann.ready(s.theirs.ID)

	// An empty list takes everyone off.
	code, body = max.do("PUT", path, map[string]any{"usernames": []string{}}, true)
	require.Equal(t, http.StatusOK, code, body)
	require.JSONEq(t, `{"agents":[]}`, body)
	_, body = ann.do("GET", "/api/v1/agent/state", nil, false)
	require.Contains(t, body, `"state":"LOGGED_OUT"`)
}

// A manual dial obeys the campaign's rules and says which one refused it: a
// lead finished with a final disposition (NI), on a DNC list, locked out
// after an abandoned call, outside its calling window, and a number that is
// no lead but on a DNC list.
func TestManualDialRefusedWithItsReason(t *testing.T) {
	t.Parallel()
	s := startAssignServer(t)
	ctx := context.Background()
	ann := s.login(t, "ann")
	ann.ready(s.mine.ID)

	// Lead 0 is called and finished as not interested.
	code, body := ann.do("POST", "/api/v1/agent/call/dial", map[string]string{"number": "202 555 3000"}, true)
	require.Equal(t, http.StatusOK, code, body)
	ann.waitCall("connected")
	ann.do("POST", "/api/v1/agent/call/hangup", nil, true)
	code, body = ann.do("POST", "/api/v1/agent/disposition", map[string]string{"code": "NI"}, true)
	require.Equal(t, http.StatusOK, code, body)
	// Lead 1 is on the campaign's DNC list, lead 2 locked out, number
	// 202 555 3999 on the global list.
	_, err := campaigns.AddDNC(ctx, s.db, campaigns.DNCScope{Campaign: s.mine.ID}, []string{"+12025553001"}, campaigns.DNCChange{How: campaigns.DNCViaAPI, By: "test"})
	require.NoError(t, err)
	_, err = campaigns.AddDNC(ctx, s.db, campaigns.Global, []string{"+12025553999"}, campaigns.DNCChange{How: campaigns.DNCViaAPI, By: "test"})
	require.NoError(t, err)
	_, err = s.db.Exec(ctx, `UPDATE leads SET locked_until = now() + interval '3 days' WHERE phone = '+12025553002'`)
	require.NoError(t, err)

	for _, tc := range []struct{ number, want string }{
		{"2025553000", "is finished: its last disposition NI is final"},
		{"2025553001", "is on a do-not-call list"},
		{"2025553002", "is locked out after an abandoned call until"},
		{"2025553999", "+12025553999 is on a do-not-call list"},
	} {
		code, body := ann.do("POST", "/api/v1/agent/call/dial", map[string]string{"number": tc.number}, true)
		require.Equal(t, http.StatusConflict, code, "%s: %s", tc.number, body)
		require.Contains(t, body, tc.want, tc.number)
	}
	var made int
	require.NoError(t, s.db.QueryRow(ctx, `SELECT count(*) FROM leads WHERE phone = '+12025553999'`).Scan(&made))
	require.Zero(t, made, "a refused number becomes no lead")

	// Outside the window: the campaign's hours end before they begin
	// anywhere in the lead's zone right now (an hour-wide window twelve
	// hours away).
	loc, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	start := time.Now().In(loc).Add(12 * time.Hour)
	end := start.Add(time.Hour)
	_, err = campaigns.Update(ctx, s.db, s.mine.ID, map[string]string{"window_start": start.Format("15:00"),
		"window_end": end.Format("15:00")})
	if err != nil && strings.Contains(err.Error(), "start before it ends") {
		start, end = start.Add(-2*time.Hour), end.Add(-2*time.Hour)
		_, err = campaigns.Update(ctx, s.db, s.mine.ID, map[string]string{"window_start": start.Format("15:00"),
			"window_end": end.Format("15:00")})
	}
	require.NoError(t, err)
	testwait.Until(t, func() bool {
		code, body = ann.do("POST", "/api/v1/agent/call/dial", map[string]string{"number": "2025553004"}, true)
		return code == http.StatusConflict
	}, "the new window applies")
	require.Contains(t, body, "outside the calling window")
	code, body = ann.do("POST", "/api/v1/agent/call/dial", map[string]string{"number": "2025553997"}, true)
	require.Equal(t, http.StatusConflict, code, body)
	require.Contains(t, body, "outside the calling window in its time zone")
	code, body = ann.do("POST", "/api/v1/agent/call/dial", map[string]string{"number": "2025553000"}, true)
	require.Equal(t, http.StatusConflict, code, body)
	require.Contains(t, body, "is finished", "a rule that holds at any hour says more than the window")
}

// An agent taken off the campaign during a call finishes the call and its
// disposition, gets no new call meanwhile (paused UNASSIGNED), and is then
// logged out with the reason.
func TestUnassignedMidCallFinishesThenLeaves(t *testing.T) {
	t.Parallel()
	s := startAssignServer(t)
	ann, max := s.login(t, "ann"), s.login(t, "max")
	ann.ready(s.mine.ID)
	code, body := ann.do("POST", "/api/v1/agent/call/dial", map[string]string{"number": "202 555 3003"}, true)
	require.Equal(t, http.StatusOK, code, body)
	ann.waitCall("connected")

	var annID int64
	require.NoError(t, s.db.QueryRow(context.Background(), `SELECT id FROM users WHERE username = 'ann'`).Scan(&annID))
	code, body = max.do("DELETE", fmt.Sprintf("/api/v1/campaigns/%d/agents/%d", s.mine.ID, annID), nil, true)
	require.Equal(t, http.StatusOK, code, body)
	ann.waitCall("connected") // the call goes on
	_, body = ann.do("GET", "/api/v1/agent/state", nil, false)
	require.Contains(t, body, `"pause_pending":"UNASSIGNED"`, "no call follows this one")

	ann.do("POST", "/api/v1/agent/call/hangup", nil, true)
	code, body = ann.do("POST", "/api/v1/agent/disposition", map[string]string{"code": "SALE"}, true)
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"state":"LOGGED_OUT"`)
	require.Contains(t, body, "you are no longer assigned to campaign")
	code, body = ann.do("POST", "/api/v1/agent/state", map[string]any{"state": "READY", "campaign_id": s.mine.ID}, true)
	require.Equal(t, http.StatusForbidden, code, body)
}

// Callbacks through the API cannot escape the rules: one more than a year
// ahead is refused with a clear 400 (a disposition's and a reschedule), and
// an anyone callback in the agent's list can be dialled from it.
func TestCallbackRulesThroughTheAPI(t *testing.T) {
	t.Parallel()
	s := startAssignServer(t)
	ann := s.login(t, "ann")
	ann.ready(s.mine.ID)
	code, body := ann.do("POST", "/api/v1/agent/call/dial", map[string]string{"number": "202 555 3005"}, true)
	require.Equal(t, http.StatusOK, code, body)
	ann.waitCall("connected")
	ann.do("POST", "/api/v1/agent/call/hangup", nil, true)

	tooFar := time.Now().Add(366 * 24 * time.Hour).Format(time.RFC3339)
	code, body = ann.do("POST", "/api/v1/agent/disposition", map[string]string{"code": "CALLBK",
		"callback_at": tooFar, "callback_scope": "anyone"}, true)
	require.Equal(t, http.StatusBadRequest, code, body)
	require.Contains(t, body, "callback time is more than a year ahead")
	code, body = ann.do("POST", "/api/v1/agent/disposition", map[string]string{"code": "CALLBK",
		"callback_at": time.Now().Add(2 * time.Hour).Format(time.RFC3339), "callback_scope": "anyone"}, true)
	require.Equal(t, http.StatusOK, code, body)

	list := ann.callbacks("/api/v1/agent/callbacks")
	require.Len(t, list, 1)
	require.Equal(t, "anyone", list[0].Scope, "ann's anyone callback is in her list")
	code, body = ann.do("POST", fmt.Sprintf("/api/v1/callbacks/%d/reschedule", list[0].ID),
		map[string]string{"callback_at": tooFar}, true)
	require.Equal(t, http.StatusBadRequest, code, body)
	require.Contains(t, body, "callback time is more than a year ahead")

	ann.ready(s.mine.ID)
	code, body = ann.do("POST", fmt.Sprintf("/api/v1/agent/callbacks/%d/dial", list[0].ID), nil, true)
	require.Equal(t, http.StatusOK, code, "the anyone callback in her list can be dialled: %s", body)
	call := ann.waitCall("connected")
	require.Equal(t, list[0].Lead, call.Lead.ID)
}
