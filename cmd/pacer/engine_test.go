package main

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/crypto/bcrypt"

	"github.com/pacer-dialer/pacer/dialer/sim"
	"github.com/pacer-dialer/pacer/internal/simtest"
	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/internal/testwait"
)

// fastSim is the simulated carrier and agents at test speed.
func fastSim() *sim.Realtime {
	rt := simtest.FastRealtime()
	return &rt
}

func countRows(t testing.TB, db *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, db.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

// runServe runs serve in-process until the returned stop is called.
func runServe(t *testing.T, o serveOptions, logs *syncBuffer) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	go func() { done <- serve(ctx, o, logger, func(addr string) { ready <- addr }) }()
	select {
	case addr := <-ready:
		code, _ := get(t, "http://"+addr+"/readyz")
		require.Equal(t, http.StatusOK, code)
	case err := <-done:
		cancel()
		t.Fatalf("serve failed: %v\n%s", err, logs)
	case <-testwait.Expired(t):
		cancel()
		t.Fatalf("serve not ready; logs:\n%s", logs)
	}
	return func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-testwait.Expired(t):
			t.Fatalf("serve did not stop; logs:\n%s", logs)
		}
		http.DefaultClient.CloseIdleConnections()
	}
}

// The first start of `pacer serve` on an empty database creates the demo
// campaign, simulated agents work it through the engine and every step lands
// in the database; a restart keeps the campaign, closes the calls this node
// left open and keeps the abandon window; stopping leaves no goroutine.
func TestServeRunsTheDemoCampaignWithSimulatedAgents(t *testing.T) {
	dbURL := testdb.New(t)
	db, err := pgxpool.New(context.Background(), dbURL)
	require.NoError(t, err)
	t.Cleanup(db.Close)
	defer testwait.NoLeaks(t, goleak.IgnoreCurrent(),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2"))

	o := serveOptions{db: dbOptions{url: dbURL}, httpAddr: "127.0.0.1:0", nodeID: "test-node",
		engine: engineOptions{simAgents: 3, simCampaign: "Demo", sim: fastSim(), poll: 200 * time.Millisecond,
			summary: 300 * time.Millisecond},
		web: webOptions{bcryptCost: bcrypt.MinCost}}
	logs := &syncBuffer{}
	stop := runServe(t, o, logs)

	require.Equal(t, 5000, countRows(t, db, `SELECT count(*) FROM leads l JOIN campaigns c ON c.id = l.campaign_id
		WHERE c.name = 'Demo' AND c.status = 'active' AND c.dial_mode = 'predictive'
		AND c.window_start = '00:00' AND c.window_end = '24:00' AND c.window_note LIKE '%simulated%'`))
	require.GreaterOrEqual(t, countRows(t, db, `SELECT count(DISTINCT g.zones) FROM leads l JOIN tz_groups g ON g.id = l.tz_group`), 5,
		"demo leads span several time zones")
	testwait.Until(t, func() bool {
		return countRows(t, db, `SELECT count(*) FROM calls WHERE outcome = 'completed' AND dispositioned_at IS NOT NULL
			AND disposition IN ('SALE', 'NI', 'CALLBK', 'AM', 'WN', 'DNC')`) >= 5
	}, "calls are placed, answered, connected and dispositioned; logs:\n%s", logs)
	testwait.Until(t, func() bool {
		return countRows(t, db, `SELECT count(*) FROM calls WHERE outcome = 'abandoned'`) > 0 ||
			countRows(t, db, `SELECT count(*) FROM calls WHERE outcome = 'machine'`) > 0
	})
	stop()

	require.Zero(t, countRows(t, db, `SELECT count(*) FROM calls WHERE state <> 'ended'`))
	require.Zero(t, countRows(t, db, `SELECT count(*) FROM calls WHERE node <> 'test-node'`))
	require.Positive(t, countRows(t, db, `SELECT count(*) FROM leads WHERE attempts > 0 AND last_disposition <> ''`))
	require.Zero(t, countRows(t, db, `SELECT count(*) FROM leads WHERE status = 'dialing'`))
	require.Equal(t,
		countRows(t, db, `SELECT coalesce(sum(attempts), 0) FROM leads`),
		countRows(t, db, `SELECT count(*) FROM calls WHERE disposition IS NOT NULL`), "one attempt per dispositioned call")
	for _, ev := range []string{"login", "ready", "connect", "call_end", "dispo_saved", "logout"} {
		require.Positive(t, countRows(t, db, `SELECT count(*) FROM agent_events WHERE event = $1`, ev), ev)
	}
	require.Equal(t, 3, countRows(t, db, `SELECT count(*) FROM agent_sessions WHERE logout_at IS NOT NULL AND end_cause = 'logout'`))
	require.Positive(t, countRows(t, db, `SELECT sum(calls) FROM agent_sessions WHERE talk_s > 0`))
	for _, msg := range []string{"created the demo campaign", "campaign loop started", "simulated agents joining the campaign",
		"msg=\"campaign summary\"", "live_answers=", "abandon_rate=", "dial_level=", "ready=", "campaign loop stopped"} {
		require.Contains(t, logs.String(), msg)
	}

	// A call this node had open when it "crashed" (its heartbeat stopped
	// without a clean exit), then a restart under the same name, which
	// recovers its previous life before taking the name.
	var campaign int64
	require.NoError(t, db.QueryRow(context.Background(), `SELECT id FROM campaigns WHERE name = 'Demo'`).Scan(&campaign))
	_, err = db.Exec(context.Background(), `INSERT INTO calls (run_id, seq, campaign_id, phone, node, state, queued_at, dialed_at,
		answered_at, answered_by) VALUES ($1, 1, $2, '+12125550100', 'test-node', 'answered', now(), now(), now(), 'human')`,
		uuid.New(), campaign)
	require.NoError(t, err)
	_, err = db.Exec(context.Background(), `UPDATE nodes SET stopped_at = NULL, started_at = now() - interval '2 minutes',
		heartbeat_at = now() - interval '1 minute', expires_at = now() - interval '1 second' WHERE id = 'test-node'`)
	require.NoError(t, err)
	abandons := countRows(t, db, `SELECT count(*) FROM calls WHERE abandoned`)
	live := countRows(t, db, `SELECT count(*) FROM calls WHERE outcome IN ('completed', 'abandoned')`)

	o.engine.simAgents = 0
	logs2 := &syncBuffer{}
	stop = runServe(t, o, logs2)
	stop()
	require.Equal(t, 1, countRows(t, db, `SELECT count(*) FROM campaigns`), "the demo is created once")
	require.Equal(t, 1, countRows(t, db, `SELECT count(*) FROM calls WHERE end_cause = 'node_lost' AND outcome = 'abandoned'`))
	require.Contains(t, logs2.String(), "recovered what this node's previous life left open")
	require.Contains(t, logs2.String(), "window_abandons="+strconv.Itoa(abandons+1))
	require.Contains(t, logs2.String(), "window_live_answers="+strconv.Itoa(live+1))
}

// PACER_NO_DEMO keeps an empty database empty; PACER_SIM_AGENTS without a
// campaign to work is a warning, not a failure.
func TestNoDemoFromTheEnvironment(t *testing.T) {
	t.Parallel()
	dbURL := testdb.New(t)
	addr := freeAddr(t)
	stop, logs := startPacer(t, workDir(t), cleanEnv("DATABASE_URL="+dbURL, "PACER_NO_DEMO=1", "PACER_SIM_AGENTS=2"),
		"serve", "--http-addr", addr)
	waitReady(t, addr, logs)
	stop()
	db, err := pgxpool.New(context.Background(), dbURL)
	require.NoError(t, err)
	defer db.Close()
	require.Zero(t, countRows(t, db, `SELECT count(*) FROM campaigns`))
	require.Contains(t, logs.String(), "no campaign for the simulated agents")
	require.NotContains(t, logs.String(), "created the demo campaign")
}
