package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/internal/testwait"
)

// The real binary on the simulated carrier with five simulated agents:
// once they have talked to and dispositioned some calls, a manager opens
// Reports from the navigation and is shown every report for the demo
// campaign, sees a backwards range refused with its reason, and downloads
// the call detail records as CSV (web/e2e/reports.mjs; its screenshot is
// reports.png). The demo setup's admin (admin / admin) logs in too.
func TestBrowserReports(t *testing.T) {
	node, chromium, e2eDir := browserTools(t)
	dbURL := testdb.New(t)
	addr := freeAddr(t)
	stop, logs := startPacer(t, workDir(t), cleanEnv("DATABASE_URL="+dbURL), "serve", "--http-addr", addr,
		"--sim-agents", "5", "--campaign-poll", "200ms", "--bcrypt-cost", "4")
	defer stop()
	waitReady(t, addr)

	db, err := pgxpool.New(context.Background(), dbURL)
	require.NoError(t, err)
	defer db.Close()
	const talked = 5
	testwait.Until(t, func() bool {
		var n int
		err := db.QueryRow(context.Background(),
			`SELECT count(*) FROM calls WHERE agent_id IS NOT NULL AND disposition IS NOT NULL`).Scan(&n)
		return err == nil && n >= talked
	}, "the simulated agents disposition %d calls", talked)

	body, _ := json.Marshal(map[string]string{"username": "admin", "password": "admin"})
	resp, err := http.Post("http://"+addr+"/api/v1/login", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "the demo admin logs in with admin / admin")

	shots := filepath.Join(e2eDir, "screenshots")
	stdout, stderr, err := runScript(node, e2eDir, "reports.mjs", "BASE_URL=http://"+addr, "SHOTS="+shots,
		"CHROMIUM="+chromium)
	t.Logf("reports: %s", strings.TrimSpace(stdout))
	require.NoError(t, err, "browser reports failed:\n%s\nserver logs:\n%s", stderr, logs)
	var out struct {
		Shown   map[string]int `json:"shown"`
		Refused string         `json:"refused"`
		Name    string         `json:"csv_name"`
		Header  string         `json:"csv_header"`
		Rows    int            `json:"csv_rows"`
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &out))
	for _, r := range []string{"calls", "agent-time", "dispositions", "abandon", "penetration"} {
		require.Positive(t, out.Shown[r], "%s shows rows", r)
	}
	require.Contains(t, out.Refused, "is before from")
	require.Regexp(t, `^pacer-calls-\d{4}-\d\d-\d\d-\d{4}-\d\d-\d\d\.csv$`, out.Name)
	require.True(t, strings.HasPrefix(out.Header, "call_id,time,campaign_id,campaign,list_id,list,lead_id,"), out.Header)
	require.GreaterOrEqual(t, out.Rows, talked, "the CSV has every call so far")
	require.FileExists(t, filepath.Join(shots, "reports.png"))
}
