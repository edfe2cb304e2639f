package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/web"
)

// browserTools finds what the browser walk needs; a missing tool skips the
// test loudly (CI installs them all: .ci/run).
func browserTools(t *testing.T) (node, chromium, e2eDir string) {
	t.Helper()
	e2eDir, _ = filepath.Abs(filepath.Join("..", "..", "web", "e2e"))
	chromium = os.Getenv("PACER_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	var missing []string
	node, err := exec.LookPath("node")
	if err != nil {
		missing = append(missing, "node (apt-get install nodejs)")
	}
	if _, err := os.Stat(chromium); err != nil {
		missing = append(missing, "chromium at "+chromium+" (apt-get install chromium)")
	}
	if _, err := os.Stat(filepath.Join(e2eDir, "node_modules", "playwright-core")); err != nil {
		missing = append(missing, "playwright-core (cd web/e2e && npm ci)")
	}
	if len(missing) > 0 {
		msg := "BROWSER TESTS SKIPPED: missing " + strings.Join(missing, ", ")
		fmt.Fprintln(os.Stderr, "\n*** "+msg+" ***")
		t.Skip(msg)
	}
	return node, chromium, e2eDir
}

// The real binary on the simulated carrier, walked in headless Chromium by
// web/e2e/walk.mjs: an agent logs in, goes READY, takes a predictive call
// (lead panel, running timer), holds and resumes, hangs up, saves a
// disposition with notes and is READY again while a supervisor's wallboard
// follows within a second; on the next call the agent sets a callback
// (date, time and scope in the Disposition form) and finds it in the
// Callbacks tab; an admin sees its job on the jobs page; a manager creates a campaign and uploads a lead
// file with bad rows, sees the import's progress and downloads the report.
// Screenshots of every page land in web/e2e/screenshots.
func TestBrowser(t *testing.T) {
	node, chromium, e2eDir := browserTools(t)
	dir := t.TempDir()
	simConfig := filepath.Join(dir, "sim.json")
	// Every dial is answered by a person within a second and stays on the
	// line for minutes, so the agent decides when the call ends.
	require.NoError(t, os.WriteFile(simConfig, []byte(`{
		"outcomes": [{"kind": "human", "p": 1, "after_s": {"dist": "uniform", "min": 0.3, "max": 0.8}}],
		"ring_after_s": {"dist": "uniform", "min": 0.05, "max": 0.1},
		"customer_talk_s": {"dist": "uniform", "min": 300, "max": 400}
	}`), 0o644))
	var csv bytes.Buffer
	csv.WriteString("phone,first_name,last_name,city,state\n")
	for i := range 30000 {
		fmt.Fprintf(&csv, "+1202%03d%04d,First%d,Last%d,Washington,DC\n", 300+i/10000, i%10000, i, i)
	}
	csv.WriteString("not a number,Bad,Row,,\n+12023000001,Dup,Row,,\n,Empty,Phone,,\n")
	leads := filepath.Join(dir, "leads.csv")
	require.NoError(t, os.WriteFile(leads, csv.Bytes(), 0o644))

	dbURL := testdb.New(t)
	addr := freeAddr(t)
	stop, logs := startPacer(t, workDir(t), cleanEnv("DATABASE_URL="+dbURL), "serve", "--http-addr", addr,
		"--sim-config", simConfig, "--campaign-poll", "200ms", "--bcrypt-cost", "4")
	defer stop()
	waitReady(t, addr)
	addWebUser(t, dbURL, "root", web.RoleAdmin, "root-password")

	shots := filepath.Join(e2eDir, "screenshots")
	stdout, stderr, err := runScript(node, e2eDir, "walk.mjs", "BASE_URL=http://"+addr, "SHOTS="+shots,
		"CHROMIUM="+chromium, "LEADS_CSV="+leads)
	t.Logf("walk: %s", strings.TrimSpace(stdout))
	require.NoError(t, err, "browser walk failed:\n%s\nserver logs:\n%s", stderr, logs)
	var out struct {
		ReadyMS int    `json:"supervisor_sees_ready_ms"`
		Report  int    `json:"report_lines"`
		Why     string `json:"unassigned_reason"`
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &out))
	// How fast the board follows is a timing claim: BenchmarkWSBroadcast1000
	// measures it; here it is only reported.
	t.Logf("the supervisor's board showed READY %d ms after the agent's click", out.ReadyMS)
	require.Equal(t, 3, out.Report, "three rejected rows: a bad number, a duplicate, an empty phone")
	require.Contains(t, out.Why, "you are not assigned to any running campaign", "the agent page says why Ready was refused")
	for _, s := range []string{"login", "agent-ready", "agent-incall", "agent-dispo", "agent-history", "agent-callback",
		"agent-callbacks", "jobs", "supervise", "manage-upload", "agent-unassigned", "manage-agents"} {
		require.FileExists(t, filepath.Join(shots, s+".png"))
	}
}

// A login link whose ?next= tries to leave the site (a tab or backslash the
// browser drops or turns into a slash, "//host", an absolute URL, encoded
// and dot-segment forms) lands the user on their own page in Chromium,
// which never even tries to reach another host: web/e2e/login_redirect.mjs.
func TestBrowserLoginStaysOnSite(t *testing.T) {
	node, chromium, e2eDir := browserTools(t)
	dbURL := testdb.New(t)
	addWebUser(t, dbURL, "ann", web.RoleAgent, "password-ann")
	base, _ := serveWeb(t, serveOptions{db: dbOptions{url: dbURL}, httpAddr: "127.0.0.1:0", nodeID: "redirect-test",
		engine: engineOptions{noDemo: true, summary: -1}, web: webOptions{bcryptCost: bcrypt.MinCost, sessionTTL: time.Hour}})

	stdout, stderr, err := runScript(node, e2eDir, "login_redirect.mjs", "BASE_URL="+base, "CHROMIUM="+chromium,
		"USER_NAME=ann", "PASSWORD=password-ann", "HOME_PATH=/agent")
	require.NoError(t, err, "browser login failed:\n%s\n%s", stdout, stderr)
	require.Contains(t, stdout, `"cases":10`)
}

// runScript runs one of web/e2e's scripts with env added to this process's.
func runScript(node, e2eDir, script string, env ...string) (stdout, stderr string, err error) {
	cmd := exec.Command(node, filepath.Join(e2eDir, script))
	cmd.Dir = e2eDir
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// addWebUser creates a user in the database at dbURL.
func addWebUser(t *testing.T, dbURL, name string, role web.Role, password string) {
	t.Helper()
	db, err := pgxpool.New(context.Background(), dbURL)
	require.NoError(t, err)
	defer db.Close()
	_, err = web.CreateUser(context.Background(), db, web.NewUser{Username: name, Role: role, Password: password,
		Cost: bcrypt.MinCost})
	require.NoError(t, err)
}
