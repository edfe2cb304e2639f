package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/dialer/sim"
	"github.com/pacer-dialer/pacer/internal/dialcheck"
	"github.com/pacer-dialer/pacer/internal/simtest"
	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/internal/testwait"
)

// cluster is a database shared by several real `pacer serve` processes,
// with a campaign worked by simulated agents at test speed.
type cluster struct {
	t        testing.TB
	dbURL    string
	db       *pgxpool.Pool
	dir      string
	simPath  string
	campaign string
	env      []string
	agents   int // simulated agents per node (0: 3; negative: none)
}

func newCluster(t testing.TB, leads int) *cluster {
	t.Helper()
	return newClusterWith(t, leads, "predictive", nil)
}

// newClusterWith makes the campaign in mode, with the simulated carrier
// and agents changed by tweak.
func newClusterWith(t testing.TB, leads int, mode string, tweak func(*sim.Realtime)) *cluster {
	t.Helper()
	c := &cluster{t: t, dbURL: testdb.New(t), dir: workDir(t), campaign: "Owned"}
	var err error
	c.db, err = pgxpool.New(context.Background(), c.dbURL)
	require.NoError(t, err)
	t.Cleanup(c.db.Close)
	var csv strings.Builder
	csv.WriteString("phone,first_name\n")
	for i := range leads {
		fmt.Fprintf(&csv, "+1212%03d%04d,Lead%d\n", 200+i/10000, i%10000, i)
	}
	activeCampaign(t, c.db, c.campaign, mode, csv.String())
	c.env = cleanEnv("DATABASE_URL=" + c.dbURL)
	rt := simtest.FastRealtime()
	if tweak != nil {
		tweak(&rt)
	}
	b, err := json.Marshal(rt)
	require.NoError(t, err)
	c.simPath = filepath.Join(c.dir, "sim.json")
	require.NoError(t, os.WriteFile(c.simPath, b, 0o644))
	return c
}

// args are a node's serve flags.
func (c *cluster) args(addr, node string, extra ...string) []string {
	agents := c.agents
	switch {
	case agents == 0:
		agents = 3
	case agents < 0:
		agents = 0
	}
	a := []string{"serve", "--http-addr", addr, "--no-demo", "--sim-config", c.simPath, "--sim-agents", fmt.Sprint(agents),
		"--sim-campaign", c.campaign, "--campaign-poll", "200ms", "--lease-ttl", "2s", "--bcrypt-cost", "4"}
	if node != "" {
		a = append(a, "--node-id", node)
	}
	return append(a, extra...)
}

func (c *cluster) count(sql string, args ...any) int {
	c.t.Helper()
	return countRows(c.t, c.db, sql, args...)
}

// waitCalls waits until at least n calls matching where have ended.
func (c *cluster) waitCalls(n int, where string, args ...any) {
	c.t.Helper()
	testwait.Until(c.t, func() bool {
		return c.count(`SELECT count(*) FROM calls WHERE state = 'ended' AND `+where, args...) >= n
	}, "%d calls where %s", n, where)
}

// promisesKept runs the dialer's promises over everything the run did.
func (c *cluster) promisesKept(settled bool) {
	c.t.Helper()
	v, err := dialcheck.Violations(context.Background(), c.db, settled)
	require.NoError(c.t, err)
	require.Empty(c.t, v, dialcheck.Report(v))
}

// runToExit runs pacer and returns its exit code and last line of stderr.
func runToExit(t *testing.T, dir string, env []string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, pacerBin, args...)
	cmd.Dir, cmd.Env = dir, env
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "pacer should fail: %v\n%s", err, stderr.String())
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	return exit.ExitCode(), lines[len(lines)-1]
}

// A second `pacer serve` — the same command in the same directory, or the
// name of a live node on another port — exits non-zero with one line and
// changes nothing: the first keeps dialling, nobody recovers it, and no lead
// is dialled twice or sooner than its retry delay.
func TestASecondServeChangesNothing(t *testing.T) {
	t.Parallel()
	c := newCluster(t, 400)
	env := cleanEnv("DATABASE_URL=" + c.dbURL)
	addr := freeAddr(t)
	stop, logs := startPacer(t, c.dir, env, c.args(addr, "")...)
	waitReady(t, addr, logs)
	c.waitCalls(15, "true")
	var node string
	require.NoError(t, c.db.QueryRow(context.Background(), `SELECT id FROM nodes`).Scan(&node))

	code, line := runToExit(t, c.dir, env, c.args(addr, "")...)
	require.Equal(t, 1, code)
	require.Contains(t, line, "address already in use")
	// The port is bound before anything else: pointed at a database it
	// would have to migrate, a start that cannot bind leaves it untouched.
	empty := testdb.Empty(t)
	code, line = runToExit(t, c.dir, cleanEnv("DATABASE_URL="+empty), c.args(addr, "")...)
	require.Equal(t, 1, code)
	require.Contains(t, line, "address already in use")
	edb, err := pgx.Connect(context.Background(), empty)
	require.NoError(t, err)
	var tables int
	require.NoError(t, edb.QueryRow(context.Background(),
		`SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`).Scan(&tables))
	require.NoError(t, edb.Close(context.Background()))
	require.Zero(t, tables, "a start that failed to bind migrated a database")
	code, line = runToExit(t, c.dir, env, c.args(freeAddr(t), node)...)
	require.Equal(t, 1, code)
	require.Contains(t, line, "held by a live node")
	require.Contains(t, line, node)
	require.True(t, strings.HasPrefix(line, "pacer serve:"), line)

	require.Equal(t, 1, c.count(`SELECT count(*) FROM nodes`), "the failed starts registered nothing")
	require.Zero(t, c.count(`SELECT count(*) FROM calls WHERE end_cause <> ''`), "no call of the first was closed")
	require.Zero(t, c.count(`SELECT count(*) FROM agent_sessions WHERE logout_at IS NOT NULL`), "no agent was logged out")
	before := c.count(`SELECT count(*) FROM calls WHERE state = 'ended'`)
	c.waitCalls(before+15, "true")
	require.Equal(t, 1, c.count(`SELECT count(DISTINCT epoch) FROM calls`), "the first kept its lease throughout")
	stop()
	require.Empty(t, errorLines(logs.String()))
	c.promisesKept(true)
	require.Equal(t, 1, c.count(`SELECT count(*) FROM nodes WHERE stopped_at IS NOT NULL`), "a clean exit is recorded")
}

// logTime is the time= of the first log line containing msg.
func logTime(t *testing.T, logs string, msg string) time.Time {
	t.Helper()
	for _, line := range strings.Split(logs, "\n") {
		if !strings.Contains(line, msg) {
			continue
		}
		f := strings.Fields(line)
		require.NotEmpty(t, f)
		at, err := time.Parse(time.RFC3339Nano, strings.TrimPrefix(f[0], "time="))
		require.NoError(t, err, line)
		return at
	}
	t.Fatalf("no log line %q in:\n%s", msg, logs)
	return time.Time{}
}

// SIGTERM with calls connected: /readyz turns 503, no call is dialled after
// the drain starts, the connected calls run to their end and their agents
// disposition them, no abandon is counted, and the process exits 0 when they
// are done.
func TestSIGTERMDrainsCallsInProgress(t *testing.T) {
	t.Parallel()
	c := newClusterWith(t, 400, "power", func(rt *sim.Realtime) {
		rt.AgentTalk = sim.Dist{Dist: "uniform", Min: 1.5, Max: 2.5}
		rt.CustomerTalk = sim.Dist{Dist: "uniform", Min: 5, Max: 6}
	})
	_, err := c.db.Exec(context.Background(), `UPDATE campaigns SET power_ratio = 1`)
	require.NoError(t, err)
	addr := freeAddr(t)
	cmd := exec.Command(pacerBin, c.args(addr, "drainer", "--drain-timeout", "1m")...)
	cmd.Dir, cmd.Env = c.dir, cleanEnv("DATABASE_URL="+c.dbURL)
	logs, done := launch(t, cmd)
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	waitReady(t, addr, logs)
	c.waitCalls(3, "true")
	testwait.Until(t, func() bool {
		return c.count(`SELECT count(*) FROM calls WHERE state = 'connected'`) >= 2
	}, "calls are connected when the signal comes")

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	testwait.Until(t, func() bool {
		code, _ := get(t, "http://"+addr+"/readyz")
		return code == http.StatusServiceUnavailable
	}, "/readyz turns 503 while draining")
	var exitErr error
	select {
	case exitErr = <-done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("pacer did not exit after draining; logs:\n%s", logs)
	}
	require.NoError(t, exitErr, "exit 0 after a drain; logs:\n%s", logs)
	out := logs.String()
	// The campaign's loop logs this once its engine has stopped placing
	// calls (the node's own "draining" line comes just before).
	drainAt := logTime(t, out, "campaign draining: no new calls")
	logTime(t, out, "drained: every call ended and dispositioned")
	t.Logf("drain: %s", out[strings.Index(out, "drained: "):][:120])

	// The loop logs its own count of dials when it stops placing calls.
	m := regexp.MustCompile(`campaign draining: no new calls[^\n]* dials=(\d+)`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	dials, _ := strconv.Atoi(m[1])
	require.Equal(t, dials, c.count(`SELECT count(*) FROM calls`), "no dial after the drain starts")
	require.Positive(t, c.count(`SELECT count(*) FROM calls WHERE connected_at < $1 AND ended_at > $1`, drainAt),
		"calls connected at the signal ran on")
	require.Zero(t, c.count(`SELECT count(*) FROM calls WHERE end_cause <> ''`), "every call ended by itself")
	require.Zero(t, c.count(`SELECT count(*) FROM calls WHERE outcome = 'completed' AND (disposition IS NULL OR auto_disposition)`),
		"every connected call was dispositioned by its agent")
	require.Zero(t, c.count(`SELECT count(*) FROM calls WHERE abandoned AND ended_at > $1`, drainAt), "no abandon from the shutdown")
	require.Equal(t, 1, c.count(`SELECT count(*) FROM nodes WHERE stopped_at IS NOT NULL`))
	c.promisesKept(true)
}

// A drain that outlasts --drain-timeout ends the calls still up: each
// connected call gets the automatic disposition and its attempt counts, so
// the customer is not called again sooner than its retry delay.
func TestDrainTimeoutEndsTheCallsLeft(t *testing.T) {
	t.Parallel()
	c := newClusterWith(t, 100, "power", func(rt *sim.Realtime) {
		rt.AgentTalk = sim.Dist{Dist: "uniform", Min: 300, Max: 400}
		rt.CustomerTalk = sim.Dist{Dist: "uniform", Min: 300, Max: 400}
	})
	addr := freeAddr(t)
	stop, logs := startPacer(t, c.dir, cleanEnv("DATABASE_URL="+c.dbURL), c.args(addr, "", "--drain-timeout", "1s")...)
	waitReady(t, addr, logs)
	testwait.Until(t, func() bool {
		return c.count(`SELECT count(*) FROM calls WHERE state = 'connected'`) >= 2
	})
	stop()
	require.Contains(t, logs.String(), "drain timeout: ending the calls still in progress")
	require.Positive(t, c.count(`SELECT count(*) FROM calls WHERE outcome = 'completed' AND disposition = 'AUTO'`))
	require.Zero(t, c.count(`SELECT count(*) FROM leads l WHERE l.attempts = 0 AND EXISTS (
		SELECT 1 FROM calls c WHERE c.lead_id = l.id)`), "every dialled lead counts its attempt")
	c.promisesKept(true)
}

// proc is one `pacer serve` of a cluster.
type proc struct {
	addr string
	cmd  *exec.Cmd
	done chan error
	logs *syncBuffer
}

// start runs a node (a random node id) and waits until it is ready.
func (c *cluster) start(extra ...string) *proc {
	c.t.Helper()
	p := &proc{addr: freeAddr(c.t)}
	p.cmd = exec.Command(pacerBin, c.args(p.addr, "", extra...)...)
	p.cmd.Dir, p.cmd.Env = c.dir, c.env
	p.logs, p.done = launch(c.t, p.cmd)
	c.t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	waitReady(c.t, p.addr, p.logs)
	return p
}

func (p *proc) kill(t testing.TB) {
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGKILL))
	<-p.done
}

// termAll sends SIGTERM to every node at once and waits for them all.
func (c *cluster) termAll(procs map[string]*proc) {
	c.t.Helper()
	for _, p := range procs {
		require.NoError(c.t, p.cmd.Process.Signal(syscall.SIGTERM))
	}
	for _, p := range procs {
		select {
		case err := <-p.done:
			require.NoError(c.t, err, "exit 0 after SIGTERM; logs:\n%s", p.logs)
		case <-testwait.Expired(c.t):
			c.t.Fatalf("no exit after SIGTERM; logs:\n%s", p.logs)
		}
	}
}

// owner is the node id owning the campaign now, and its process.
func (c *cluster) owner(procs map[string]*proc) (string, *proc) {
	c.t.Helper()
	var id string
	testwait.Until(c.t, func() bool {
		err := c.db.QueryRow(context.Background(), `SELECT l.node_id FROM campaign_leases l JOIN campaigns k ON k.id = l.campaign_id
			WHERE k.name = $1 AND l.node_id <> '' AND l.expires_at > now()`, c.campaign).Scan(&id)
		return err == nil
	}, "someone owns the campaign")
	p := procs[id]
	require.NotNil(c.t, p, "owner %s is one of this test's processes", id)
	return id, p
}

// startNode starts a node and returns its id.
func (c *cluster) startNode(procs map[string]*proc) string {
	c.t.Helper()
	p := c.start()
	var id string
	require.NoError(c.t, c.db.QueryRow(context.Background(),
		`SELECT id FROM nodes WHERE http_addr = $1 AND stopped_at IS NULL AND recovered_at IS NULL`, p.addr).Scan(&id))
	procs[id] = p
	return id
}

// killOwner kills the campaign's owner with SIGKILL and waits for another
// node to dial it: the takeover is the dead node's heartbeat expiry to the
// new owner's first dial.
func (c *cluster) killOwner(procs map[string]*proc) (dead string, takeover time.Duration) {
	c.t.Helper()
	dead, p := c.owner(procs)
	c.waitCalls(1, "node = $1", dead)
	p.kill(c.t)
	delete(procs, dead)
	var first time.Time
	testwait.Until(c.t, func() bool {
		return c.db.QueryRow(context.Background(), `SELECT min(c.dialed_at) FROM calls c, nodes n
			WHERE n.id = $1 AND c.node <> $1 AND c.dialed_at > n.expires_at`, dead).Scan(&first) == nil && !first.IsZero()
	}, "another node takes the campaign over")
	var expired time.Time
	require.NoError(c.t, c.db.QueryRow(context.Background(), `SELECT expires_at FROM nodes WHERE id = $1`, dead).Scan(&expired))
	return dead, first.Sub(expired)
}

// Three nodes on one database: the campaign is paced by exactly one node at
// a time; SIGKILL of its owner hands it to another within the lease TTL and
// a few seconds; over the whole run no lead is dialled twice at once or
// sooner than its retry delay, no DNC number is dialled, no agent has two
// calls, the abandon rate stays within target, and every call is closed
// with its attempt counted.
func TestThreeNodesSurviveKillingTheOwner(t *testing.T) {
	t.Parallel()
	c := newCluster(t, 3000)
	// A connected call of a killed node awaits its agent's disposition for
	// the wrap-up limit, then gets AUTO: keep that short here.
	_, err := c.db.Exec(context.Background(), `UPDATE campaigns SET wrapup_limit_s = 1`)
	require.NoError(t, err)
	byID := map[string]*proc{}
	for range 3 {
		c.startNode(byID)
	}
	c.waitCalls(20, "true")
	// A manager puts numbers on the DNC list while the campaign runs: no
	// node, before or after a takeover, dials them from then on.
	_, err = c.db.Exec(context.Background(), `INSERT INTO dnc (phone, source)
		SELECT phone, 'manual' FROM leads WHERE status IN ('new', 'retry') ORDER BY id LIMIT 200 ON CONFLICT DO NOTHING`)
	require.NoError(t, err)
	for range 2 {
		dead, took := c.killOwner(byID)
		t.Logf("owner %s killed; another node dialled %.2f s after its lease expired", dead, took.Seconds())
		require.Less(t, took, time.Minute, "takeover within the lease TTL and a few seconds")
		c.startNode(byID)
	}
	c.waitCalls(c.count(`SELECT count(*) FROM calls WHERE state = 'ended'`)+10, "true")
	require.Zero(t, c.count(`
		SELECT count(*) FROM calls x JOIN calls y ON x.campaign_id = y.campaign_id AND x.node <> y.node AND x.id < y.id
		WHERE tstzrange(x.dialed_at, x.ended_at) && tstzrange(y.dialed_at, y.ended_at)
		  AND x.end_cause = '' AND y.end_cause = ''`), "two live nodes never dial the campaign at once")
	testwait.Until(t, func() bool {
		return c.count(`SELECT count(*) FROM calls WHERE end_cause = 'node_lost' AND outcome = 'completed' AND disposition IS NULL`) == 0
	}, "the killed nodes' connected calls get AUTO once their agents' wrap-up limit passes")
	// All at once: a node draining alone would hand the campaign to another
	// whose simulated agents share its agents' ids (simulated people, not
	// real agents, whom their seat keeps in one place).
	c.termAll(byID)
	c.promisesKept(true)
	require.Zero(t, c.count(`SELECT count(*) FROM leads l WHERE l.attempts < (SELECT count(*) FROM calls k WHERE k.lead_id = l.id)`),
		"every call's attempt is counted on its lead")
	var live, abandoned int
	require.NoError(t, c.db.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE outcome IN ('completed', 'abandoned')),
		count(*) FILTER (WHERE abandoned) FROM calls`).Scan(&live, &abandoned))
	t.Logf("%d live answers, %d abandoned (%.1f%%)", live, abandoned, 100*float64(abandoned)/float64(max(live, 1)))
	require.LessOrEqual(t, float64(abandoned), 0.03*float64(live)+1, "the abandon rate stays within the 3%% target")
	require.Equal(t, 2, c.count(`SELECT count(*) FROM nodes WHERE recovered_at IS NOT NULL`), "each killed node was recovered once")
}

// errorLines are the ERROR lines of Pacer's own components in logs (River
// logs a cancelled transaction of its own when it stops).
func errorLines(logs string) []string {
	var out []string
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, "level=ERROR") && !strings.Contains(l, "component=river") {
			out = append(out, l)
		}
	}
	return out
}
