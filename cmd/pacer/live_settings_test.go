package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/internal/testwait"
	"github.com/pacer-dialer/pacer/web"
)

// A manager changes a running campaign's ratio, caller ID, ring timeout and
// then its mode through the API while an agent is on a call: the agent stays
// INCALL on the same connected call, the campaign's loop is never restarted
// (no agent logged out, no call hung up at shutdown, one loop start), and
// the next dials carry the new caller ID and ring timeout at the new ratio.
func TestCampaignSettingsChangeWithoutTouchingALiveCall(t *testing.T) {
	dbURL := testdb.New(t)
	db, err := pgxpool.New(context.Background(), dbURL)
	require.NoError(t, err)
	t.Cleanup(db.Close)
	ctx := context.Background()
	for _, u := range []struct{ name, role string }{{"alice", "agent"}, {"bob", "agent"}, {"max", "manager"}} {
		_, err := web.CreateUser(ctx, db, web.NewUser{Username: u.name, Role: web.Role(u.role), Password: "password-" + u.name,
			Cost: bcrypt.MinCost})
		require.NoError(t, err)
	}
	var csv strings.Builder
	csv.WriteString("phone,first_name\n")
	for i := range 30 {
		fmt.Fprintf(&csv, "+1202555%04d,Lead%d\n", 2000+i, i)
	}
	camp := activeCampaign(t, db, "Live", "power", csv.String())
	_, err = campaigns.Update(ctx, db, camp.ID, map[string]string{"power_ratio": "1", "caller_id": "+12025550101",
		"ring_timeout_s": "20"})
	require.NoError(t, err)

	var mu sync.Mutex
	var dials []dialer.DialRequest
	rt := webSim()
	rt.OnDial = func(_ dialer.CampaignID, r dialer.DialRequest) {
		mu.Lock()
		defer mu.Unlock()
		dials = append(dials, r)
	}
	dialled := func() []dialer.DialRequest {
		mu.Lock()
		defer mu.Unlock()
		return append([]dialer.DialRequest(nil), dials...)
	}
	addr := freeAddr(t)
	logs := &syncBuffer{}
	stop := runServe(t, serveOptions{db: dbOptions{url: dbURL}, httpAddr: addr, nodeID: "live-test",
		engine: engineOptions{noDemo: true, sim: rt, poll: 100 * time.Millisecond, summary: -1},
		web:    webOptions{bcryptCost: bcrypt.MinCost, sessionTTL: time.Hour}}, logs)
	t.Cleanup(stop)
	base := "http://" + addr
	alice, bob, max := newClient(t, base), newClient(t, base), newClient(t, base)
	require.Equal(t, http.StatusOK, alice.login("alice", "password-alice"))
	require.Equal(t, http.StatusOK, bob.login("bob", "password-bob"))
	require.Equal(t, http.StatusOK, max.login("max", "password-max"))

	code, body := alice.do("POST", "/api/v1/agent/state", map[string]any{"state": "READY", "campaign_id": camp.ID}, true)
	require.Equal(t, http.StatusOK, code, body)
	call := alice.waitCall("connected") // a power call reaches alice
	stillOnCall := func(when string) {
		t.Helper()
		var now agentCallJSON
		code, body := alice.do("GET", "/api/v1/agent/call", nil, false)
		require.Equal(t, http.StatusOK, code, "%s: %s", when, body)
		mustJSON(t, body, &now)
		require.Equal(t, call, now, when)
		var st struct {
			State string `json:"state"`
		}
		_, body = alice.do("GET", "/api/v1/agent/state", nil, false)
		mustJSON(t, body, &st)
		require.Equal(t, "INCALL", st.State, when)
	}
	code, body = bob.do("POST", "/api/v1/agent/state", map[string]any{"state": "PAUSED", "pause_code": "BREAK",
		"campaign_id": camp.ID}, true)
	require.Equal(t, http.StatusOK, code, body)

	// Each change is applied once the manager's poll has handed it to the
	// running loop, which it logs.
	applied := 0
	change := func(settings map[string]any) {
		t.Helper()
		code, body := max.do("PATCH", fmt.Sprintf("/api/v1/campaigns/%d", camp.ID), settings, true)
		require.Equal(t, http.StatusOK, code, body)
		applied++
		testwait.Until(t, func() bool {
			return strings.Count(logs.String(), "campaign settings applied to its running loop") >= applied
		}, "settings %v reach the loop\n%s", settings, logs)
	}

	change(map[string]any{"power_ratio": 2, "caller_id": "+12025550102", "ring_timeout_s": 30})
	stillOnCall("after ratio, caller ID and ring timeout")
	// Bob READY: two lines for him at ratio 2, both with the new caller ID
	// and ring timeout.
	before := len(dialled())
	code, body = bob.do("POST", "/api/v1/agent/state", map[string]any{"state": "READY"}, true)
	require.Equal(t, http.StatusOK, code, body)
	testwait.Until(t, func() bool { return len(dialled()) >= before+2 })
	for _, d := range dialled()[before:] {
		require.Equal(t, "+12025550102", d.CallerID)
		require.Equal(t, 30*time.Second, d.RingTimeout)
	}
	stillOnCall("after bob's dials")

	for _, mode := range []string{"predictive", "preview", "manual", "power"} {
		change(map[string]any{"mode": mode})
		stillOnCall("mode " + mode)
	}

	require.Zero(t, countRows(t, db, `SELECT count(*) FROM agent_events WHERE campaign_id = $1
		AND event IN ('logout', 'session_lost')`, camp.ID), "nobody was logged out")
	require.Zero(t, countRows(t, db, `SELECT count(*) FROM calls WHERE campaign_id = $1 AND end_cause = 'shutdown'`, camp.ID),
		"no call was hung up by a loop stopping")
	require.Equal(t, 1, strings.Count(logs.String(), "campaign loop started"), logs.String())
	require.Zero(t, strings.Count(logs.String(), "campaign loop stopped"))
}
