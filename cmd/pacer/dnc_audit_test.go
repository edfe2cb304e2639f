package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/web"
)

// The case on the real server: a manager renames the DNC
// disposition, then an agent's "DNC" still puts the number on the
// campaign's list and ends the lead, and the list's history names the agent
// and the call. The engine's codes can be neither edited by the manager nor
// chosen by the agent.
func TestAgentDNCDispositionKeepsItsMeaning(t *testing.T) {
	t.Parallel()
	dbURL := testdb.New(t)
	db, err := pgxpool.New(context.Background(), dbURL)
	require.NoError(t, err)
	t.Cleanup(db.Close)
	ctx := context.Background()
	ids := map[string]int64{}
	for _, u := range []struct{ name, role string }{{"alice", "agent"}, {"max", "manager"}} {
		created, err := web.CreateUser(ctx, db, web.NewUser{Username: u.name, Role: web.Role(u.role), Password: "password-" + u.name,
			Cost: bcrypt.MinCost})
		require.NoError(t, err)
		ids[u.name] = created.ID
	}
	camp := activeCampaign(t, db, "Opt-outs", "predictive", "phone,first_name\n+12025550160,Dana\n")
	base, _ := serveWeb(t, serveOptions{db: dbOptions{url: dbURL}, httpAddr: "127.0.0.1:0", nodeID: "dnc-test",
		engine: engineOptions{noDemo: true, sim: webSim(), poll: 100 * time.Millisecond, summary: -1},
		web:    webOptions{bcryptCost: bcrypt.MinCost, sessionTTL: time.Hour, agentGone: -1}})
	alice, max := newClient(t, base), newClient(t, base)
	require.Equal(t, http.StatusOK, alice.login("alice", "password-alice"))
	require.Equal(t, http.StatusOK, max.login("max", "password-max"))

	code, body := max.do("PUT", fmt.Sprintf("/api/v1/campaigns/%d/dispositions/DNC", camp.ID), map[string]string{"label": "Remove me"}, true)
	require.Equal(t, http.StatusNoContent, code, body)
	code, body = max.do("PUT", fmt.Sprintf("/api/v1/campaigns/%d/dispositions/DROP", camp.ID), map[string]string{"label": "Dropped"}, true)
	require.Equal(t, http.StatusForbidden, code, body)
	require.Contains(t, body, "cannot be edited")

	code, body = alice.do("POST", "/api/v1/agent/state", map[string]any{"state": "READY", "campaign_id": camp.ID}, true)
	require.Equal(t, http.StatusOK, code, body)
	call := alice.waitCall("connected")
	code, body = alice.do("POST", "/api/v1/agent/call/hangup", nil, true)
	require.Equal(t, http.StatusNoContent, code, body)
	for _, engine := range []string{"DROP", "NA", "AUTO"} {
		code, body = alice.do("POST", "/api/v1/agent/disposition", map[string]string{"code": engine}, true)
		require.Equal(t, http.StatusBadRequest, code, "%s: %s", engine, body)
		require.Contains(t, body, "disposition code is reserved for the system")
	}
	code, body = alice.do("POST", "/api/v1/agent/disposition", map[string]any{"code": "DNC", "call_id": call.ID}, true)
	require.Equal(t, http.StatusOK, code, body)

	var status string
	var onList bool
	require.NoError(t, db.QueryRow(ctx, `SELECT status, EXISTS (SELECT 1 FROM dnc WHERE campaign_id = $2 AND phone = '+12025550160')
		FROM leads WHERE id = $1`, call.Lead.ID, camp.ID).Scan(&status, &onList))
	require.True(t, onList, "the renamed DNC still puts the number on the campaign's list")
	require.Equal(t, "done", status, "and ends the lead")
	var callRow int64
	require.NoError(t, db.QueryRow(ctx, `SELECT id FROM calls WHERE lead_id = $1 AND disposition = 'DNC'`, call.Lead.ID).Scan(&callRow))

	code, body = max.do("GET", "/api/v1/dnc/history?number=2025550160", nil, false)
	require.Equal(t, http.StatusOK, code, body)
	var h struct {
		Events []struct {
			Action   string `json:"action"`
			Campaign int64  `json:"campaign_id"`
			How      string `json:"how"`
			By       string `json:"by"`
			ByUser   int64  `json:"by_user"`
			Call     int64  `json:"call_id"`
			Reason   string `json:"reason"`
		} `json:"events"`
	}
	mustJSON(t, body, &h)
	require.Len(t, h.Events, 1, body)
	e := h.Events[0]
	require.Equal(t, "add", e.Action)
	require.EqualValues(t, camp.ID, e.Campaign)
	require.Equal(t, "disposition", e.How)
	require.Equal(t, "alice", e.By)
	require.Equal(t, ids["alice"], e.ByUser)
	require.Equal(t, callRow, e.Call)
	require.Equal(t, "disposition DNC", e.Reason)
	alice.do("POST", "/api/v1/agent/state", map[string]string{"state": "LOGGED_OUT"}, true)
}

// `pacer dnc add/remove/import` record who (--by, else the OS user), how
// and why; a removal without --reason is refused.
func TestDNCCommandsRecordWhoAndWhy(t *testing.T) {
	t.Parallel()
	dbURL := testdb.New(t)
	me, err := user.Current()
	require.NoError(t, err)
	_, errOut, code := pacerCLI(t, dbURL, "campaigns", "create", "--name", "Quiet", "--mode", "power")
	require.Zero(t, code, errOut)

	out, errOut, code := pacerCLI(t, dbURL, "dnc", "add", "--number", "415-555-1234", "--campaign", "Quiet",
		"--reason", "complained by letter", "--by", "carol")
	require.Zero(t, code, errOut)
	require.JSONEq(t, `{"number":"+14155551234","campaign":"Quiet","changed":true}`, lastLine(out))
	_, errOut, code = pacerCLI(t, dbURL, "dnc", "add", "--number", "202-555-0110")
	require.Zero(t, code, errOut)
	_, errOut, code = pacerCLI(t, dbURL, "dnc", "remove", "--number", "415-555-1234", "--campaign", "Quiet")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "removing a number from a DNC list needs a reason: give it with --reason")
	out, errOut, code = pacerCLI(t, dbURL, "dnc", "remove", "--number", "415-555-1234", "--campaign", "Quiet",
		"--reason", "consent given", "--by", "carol")
	require.Zero(t, code, errOut)
	require.Contains(t, out, `"changed":true`)
	file := filepath.Join(t.TempDir(), "numbers.txt")
	require.NoError(t, os.WriteFile(file, []byte("2025550111\n"), 0o644))
	_, errOut, code = pacerCLI(t, dbURL, "dnc", "import", "--file", file)
	require.Zero(t, code, errOut)

	db, err := pgx.Connect(context.Background(), dbURL)
	require.NoError(t, err)
	defer db.Close(context.Background())
	rows, err := db.Query(context.Background(), `SELECT action, phone, how, by_name, reason FROM dnc_events ORDER BY id`)
	require.NoError(t, err)
	type event struct{ Action, Phone, How, By, Reason string }
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[event])
	require.NoError(t, err)
	require.Equal(t, []event{
		{"add", "+14155551234", "cli", "carol", "complained by letter"},
		{"add", "+12025550110", "cli", me.Username, ""},
		{"remove", "+14155551234", "cli", "carol", "consent given"},
		{"add", "+12025550111", "import", me.Username, "import of numbers.txt"},
	}, got)
}
