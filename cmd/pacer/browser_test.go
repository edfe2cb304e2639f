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

// browserRun is one browser test's fresh database, the real server on it
// and the tools that walk it with web/e2e's scripts.
type browserRun struct {
	t                      *testing.T
	node, chromium, e2eDir string
	shots                  string // the scripts' screenshots: $SHOTS, or web/e2e/screenshots
	dbURL                  string
	addr, base             string      // the server's, once it runs
	logs                   *syncBuffer // the server's output, for a failure's message
}

// newBrowserRun finds the tools (skipping the test loudly without them) and
// makes a fresh database.
func newBrowserRun(t *testing.T) *browserRun {
	node, chromium, e2eDir := browserTools(t)
	shots := os.Getenv("SHOTS")
	if shots == "" {
		shots = filepath.Join(e2eDir, "screenshots")
	}
	return &browserRun{t: t, node: node, chromium: chromium, e2eDir: e2eDir, shots: shots, dbURL: testdb.New(t)}
}

// serve starts `pacer serve` on the database with a quick campaign poll,
// cheap password hashes and flags, waits until it is ready, and returns
// what stops it (a drain; the test's end kills it otherwise).
func (b *browserRun) serve(flags ...string) (stop func()) {
	b.t.Helper()
	b.addr = freeAddr(b.t)
	b.base = "http://" + b.addr
	args := append([]string{"serve", "--http-addr", b.addr, "--campaign-poll", "200ms", "--bcrypt-cost", "4"}, flags...)
	stop, b.logs = startPacer(b.t, workDir(b.t), cleanEnv("DATABASE_URL="+b.dbURL), args...)
	waitReady(b.t, b.addr, b.logs)
	return stop
}

// script runs web/e2e's script against the server with BASE_URL, SHOTS and
// CHROMIUM set and env added, requires it to succeed, and decodes the JSON
// line it prints last into out unless out is nil. It returns what it printed.
func (b *browserRun) script(name string, out any, env ...string) string {
	b.t.Helper()
	stdout, stderr, err := runScript(b.node, b.e2eDir, name,
		append([]string{"BASE_URL=" + b.base, "SHOTS=" + b.shots, "CHROMIUM=" + b.chromium}, env...)...)
	b.t.Logf("%s: %s", name, strings.TrimSpace(stdout))
	logs := ""
	if b.logs != nil {
		logs = b.logs.String()
	}
	require.NoError(b.t, err, "%s failed:\n%s\n%s\nserver logs:\n%s", name, stdout, stderr, logs)
	if out != nil {
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		require.NoError(b.t, json.Unmarshal([]byte(lines[len(lines)-1]), out))
	}
	return stdout
}

// requireShots requires web/e2e's screenshots names (without .png).
func (b *browserRun) requireShots(names ...string) {
	b.t.Helper()
	for _, s := range names {
		require.FileExists(b.t, filepath.Join(b.shots, s+".png"))
	}
}

// db opens a pool on the test's database, closed at the test's end.
func (b *browserRun) db() *pgxpool.Pool {
	b.t.Helper()
	db, err := pgxpool.New(context.Background(), b.dbURL)
	require.NoError(b.t, err)
	b.t.Cleanup(db.Close)
	return db
}

// simConfig writes a simulated carrier's config for --sim-config and
// returns its path.
func simConfig(t *testing.T, config string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sim.json")
	require.NoError(t, os.WriteFile(path, []byte(config), 0o644))
	return path
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
	b := newBrowserRun(t)
	// Every dial is answered by a person within a second and stays on the
	// line for minutes, so the agent decides when the call ends.
	sim := simConfig(t, `{
		"outcomes": [{"kind": "human", "p": 1, "after_s": {"dist": "uniform", "min": 0.3, "max": 0.8}}],
		"ring_after_s": {"dist": "uniform", "min": 0.05, "max": 0.1},
		"customer_talk_s": {"dist": "uniform", "min": 300, "max": 400}
	}`)
	var csv bytes.Buffer
	csv.WriteString("phone,first_name,last_name,city,state\n")
	for i := range 30000 {
		fmt.Fprintf(&csv, "+1202%03d%04d,First%d,Last%d,Washington,DC\n", 300+i/10000, i%10000, i, i)
	}
	csv.WriteString("not a number,Bad,Row,,\n+12023000001,Dup,Row,,\n,Empty,Phone,,\n")
	leads := filepath.Join(t.TempDir(), "leads.csv")
	require.NoError(t, os.WriteFile(leads, csv.Bytes(), 0o644))

	defer b.serve("--sim-config", sim)()
	addWebUser(t, b.dbURL, "root", web.RoleAdmin, "root-password")

	var out struct {
		ReadyMS int    `json:"supervisor_sees_ready_ms"`
		Report  int    `json:"report_lines"`
		Why     string `json:"unassigned_reason"`
	}
	b.script("walk.mjs", &out, "LEADS_CSV="+leads)
	// How fast the board follows is a timing claim: BenchmarkWSBroadcast1000
	// measures it; here it is only reported.
	t.Logf("the supervisor's board showed READY %d ms after the agent's click", out.ReadyMS)
	require.Equal(t, 3, out.Report, "three rejected rows: a bad number, a duplicate, an empty phone")
	require.Contains(t, out.Why, "you are not assigned to any running campaign", "the agent page says why Ready was refused")
	b.requireShots("login", "agent-ready", "agent-incall", "agent-dispo", "agent-history", "agent-callback",
		"agent-callbacks", "jobs", "supervise", "manage-upload", "agent-unassigned", "manage-agents")
}

// A login link whose ?next= tries to leave the site (a tab or backslash the
// browser drops or turns into a slash, "//host", an absolute URL, encoded
// and dot-segment forms) lands the user on their own page in Chromium,
// which never even tries to reach another host: web/e2e/login_redirect.mjs.
func TestBrowserLoginStaysOnSite(t *testing.T) {
	b := newBrowserRun(t)
	addWebUser(t, b.dbURL, "ann", web.RoleAgent, "password-ann")
	b.base, _ = serveWeb(t, serveOptions{db: dbOptions{url: b.dbURL}, httpAddr: "127.0.0.1:0", nodeID: "redirect-test",
		engine: engineOptions{noDemo: true, summary: -1}, web: webOptions{bcryptCost: bcrypt.MinCost, sessionTTL: time.Hour}})

	var out struct{ Cases int }
	b.script("login_redirect.mjs", &out, "USER_NAME=ann", "PASSWORD=password-ann", "HOME_PATH=/agent")
	require.Equal(t, 10, out.Cases)
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
