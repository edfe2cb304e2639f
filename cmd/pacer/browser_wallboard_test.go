package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/internal/testdb"
)

// The supervisor's wallboard with real clicks on `pacer serve
// --sim-agents 3` (web/e2e/wallboard.mjs): the overview lists the running
// campaigns with their alerts (a five-lead campaign's hopper is low), a
// click opens one campaign, agent1 (logged in from a second browser) is
// force-paused through the confirm dialog and shows PAUSED on the board and
// in the audit, the sim agents' rows show calls, talk and state, and the
// chart's range switch changes its time axis. Screenshots:
// supervise-overview.png and supervise.png.
func TestBrowserWallboard(t *testing.T) {
	node, chromium, e2eDir := browserTools(t)
	dbURL := testdb.New(t)
	addr := freeAddr(t)
	stop, logs := startPacer(t, workDir(t), cleanEnv("DATABASE_URL="+dbURL), "serve", "--http-addr", addr,
		"--sim-agents", "3", "--campaign-poll", "200ms", "--bcrypt-cost", "4")
	defer stop()
	waitReady(t, addr)

	db, err := pgxpool.New(context.Background(), dbURL)
	require.NoError(t, err)
	defer db.Close()
	var csv strings.Builder
	csv.WriteString("phone,first_name\n")
	for _, n := range []string{"3001", "3002", "3003", "3004", "3005"} {
		csv.WriteString("+1202555" + n + ",Lead" + n + "\n")
	}
	activeCampaign(t, db, "Floor", "manual", csv.String())

	shots := filepath.Join(e2eDir, "screenshots")
	stdout, stderr, err := runScript(node, e2eDir, "wallboard.mjs", "BASE_URL=http://"+addr, "SHOTS="+shots,
		"CHROMIUM="+chromium)
	t.Logf("wallboard: %s", strings.TrimSpace(stdout))
	require.NoError(t, err, "browser wallboard failed:\n%s\nserver logs:\n%s", stderr, logs)
	require.Contains(t, stdout, `"floor_url":"?campaign=`)
	for _, s := range []string{"supervise-overview", "supervise"} {
		require.FileExists(t, filepath.Join(shots, s+".png"))
	}
}
