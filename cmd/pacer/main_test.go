package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/crypto/bcrypt"

	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/internal/testport"
	"github.com/pacer-dialer/pacer/internal/testwait"
)

var pacerBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pacer-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	pacerBin = filepath.Join(dir, "pacer")
	if out, err := exec.Command("go", "build", "-o", pacerBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build pacer: %v\n%s", err, out)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	testdb.Main(m)
}

// cleanEnv is the environment without anything that names a database or sets
// a Pacer flag, so each test says exactly what the process sees.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PACER_") || strings.HasPrefix(kv, "DATABASE_URL=") || strings.HasPrefix(kv, "TEST_DATABASE_URL=") {
			continue
		}
		env = append(env, kv)
	}
	// Every password hash a test's pacer makes (demo users, users add) is
	// cheap; a flag on the command line still wins.
	env = append(env, fmt.Sprintf("PACER_BCRYPT_COST=%d", bcrypt.MinCost))
	// Tests run side by side (and two suites at once): each serve takes a
	// SIP port of its own instead of 5060.
	env = append(env, "PACER_SIP_ADDR=127.0.0.1:0")
	return append(env, extra...)
}

func freeAddr(t testing.TB) string {
	return testport.TCPAddr(t)
}

func get(t testing.TB, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// waitReady waits until the process launch started answers 200 on
// /readyz at addr. A process that exits first fails the test at once, and
// a failure prints what the process logged.
func waitReady(t testing.TB, addr string, logs *syncBuffer) {
	t.Helper()
	testwait.Until(t, func() bool {
		select {
		case <-logs.exited:
			require.FailNow(t, "pacer exited before it was ready", "addr %s; logs:\n%s", addr, logs)
		default:
		}
		code, _ := get(t, "http://"+addr+"/readyz")
		return code == http.StatusOK
	}, "/readyz on %s turns 200; logs so far:\n%s", addr, logs)
}

// launch starts cmd with its output in logs. done receives Wait's error
// and is then closed; logs.exited is closed too.
func launch(t testing.TB, cmd *exec.Cmd) (logs *syncBuffer, done chan error) {
	t.Helper()
	logs = &syncBuffer{exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = logs, logs
	require.NoError(t, cmd.Start())
	done = make(chan error, 1)
	go func() {
		done <- cmd.Wait()
		close(done)
		close(logs.exited)
	}()
	return logs, done
}

// startPacer runs the real binary; the returned func sends SIGTERM and waits
// for a clean exit.
func startPacer(t testing.TB, dir string, env []string, args ...string) (stop func(), logs *syncBuffer) {
	t.Helper()
	cmd := exec.Command(pacerBin, args...)
	cmd.Dir = dir
	cmd.Env = env
	logs, done := launch(t, cmd)
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
		select {
		case err := <-done:
			require.NoError(t, err, "pacer exits 0 after SIGTERM; logs:\n%s", logs)
		case <-testwait.Expired(t):
			_ = cmd.Process.Kill()
			t.Fatalf("pacer did not stop after SIGTERM; logs:\n%s", logs)
		}
	}
	t.Cleanup(func() {
		if !stopped {
			_ = cmd.Process.Kill()
			<-done
		}
	})
	return stop, logs
}

// syncBuffer collects a child's output while the test reads it.
type syncBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	exited chan struct{} // closed when the child has exited (launch)
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// workDir is a directory the postgres user can traverse (t.TempDir is 0700).
func workDir(t testing.TB) string {
	dir, err := os.MkdirTemp("", "pacer-run-")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dir, 0o755))
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func postgresRunningIn(dataDir string) bool {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(cmdline), "\x00")
		if strings.HasSuffix(args[0], "postgres") && strings.Contains(string(cmdline), dataDir) {
			stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
			if !strings.Contains(string(stat), ") Z ") { // zombies are already dead
				return true
			}
		}
	}
	return false
}

func requireBinaries(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/usr/lib/postgresql"); err != nil {
		if _, err := exec.LookPath("pg_config"); err != nil {
			t.Skip("SKIPPED LOUDLY: no PostgreSQL binaries installed (apt-get install postgresql); private-cluster tests cannot run")
		}
	}
}

// The promise of `make run`: with no DATABASE_URL and no server running, the
// product starts its own cluster, becomes ready, and on SIGTERM leaves no
// PostgreSQL process behind. A second process on the same directory shares
// the cluster; the last one out stops it.
func TestPrivateClusterLifecycle(t *testing.T) {
	requireBinaries(t)
	t.Parallel()
	dir := workDir(t)
	dataDir := filepath.Join(dir, ".pacer", "pg", "data")

	addrA := freeAddr(t)
	stopA, logsA := startPacer(t, dir, cleanEnv(), "serve", "--http-addr", addrA)
	waitReady(t, addrA, logsA)
	require.True(t, postgresRunningIn(dataDir))

	addrB := freeAddr(t)
	stopB, logsB := startPacer(t, dir, cleanEnv("PACER_HTTP_ADDR="+addrB), "serve")
	waitReady(t, addrB, logsB)
	require.Contains(t, logsB.String(), "using running private PostgreSQL")

	stopA()
	require.Contains(t, logsA.String(), "shutting down")
	code, body := get(t, "http://"+addrB+"/readyz")
	require.Equal(t, http.StatusOK, code, "the second process keeps the shared cluster: %s", body)
	require.True(t, postgresRunningIn(dataDir))

	stopB()
	require.Contains(t, logsB.String(), "stopped private PostgreSQL")
	testwait.Until(t, func() bool { return !postgresRunningIn(dataDir) }, "no PostgreSQL process is left behind")

	// Kept between runs: a restart reuses the initialised cluster.
	addrC := freeAddr(t)
	stopC, logsC := startPacer(t, dir, cleanEnv(), "serve", "--http-addr", addrC)
	waitReady(t, addrC, logsC)
	stopC()
	require.NotContains(t, logsC.String(), "initialising private PostgreSQL cluster")
	testwait.Until(t, func() bool { return !postgresRunningIn(dataDir) }, "no PostgreSQL process is left behind")
}

func TestServeAgainstNamedServer(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	stop, logs := startPacer(t, workDir(t), cleanEnv("DATABASE_URL="+testdb.New(t)), "serve", "--http-addr", addr, "--log-format", "json")
	waitReady(t, addr, logs)
	code, body := get(t, "http://"+addr+"/healthz")
	require.Equal(t, http.StatusOK, code)
	require.JSONEq(t, `{"status":"ok"}`, body)
	stop()
	require.Contains(t, logs.String(), `"msg":"pacer is ready"`, "JSON logs with --log-format json")
	require.NotContains(t, logs.String(), "private PostgreSQL")
}

func TestBadInputGivesOneLineAndNonZeroExit(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { busy.Close() }) // not defer: the parallel subtests run after this function returns
	named := testdb.New(t)

	cases := []struct {
		name string
		env  []string
		args []string
		code int
		want string
	}{
		{"unknown flag", nil, []string{"serve", "--no-such-flag"}, 2, "flag provided but not defined: -no-such-flag"},
		{"unknown command", nil, []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"bad flag value from env", []string{"PACER_LOG_FORMAT=xml", "DATABASE_URL=" + named}, []string{"serve"}, 2, `unknown log format "xml"`},
		{"malformed DATABASE_URL", []string{"DATABASE_URL=postgres://user:secret@host:notaport/db"}, []string{"serve"}, 1, "malformed DATABASE_URL"},
		{"unreachable DATABASE_URL", []string{"DATABASE_URL=postgres://pacer:secret@127.0.0.1:1/pacer?connect_timeout=3"}, []string{"migrate"}, 1, "cannot reach the database at 127.0.0.1:1/pacer"},
		{"HTTP port in use", []string{"DATABASE_URL=" + named}, []string{"serve", "--http-addr", busy.Addr().String()}, 1, "address already in use"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(pacerBin, tc.args...)
			cmd.Env = cleanEnv(tc.env...)
			cmd.Dir = workDir(t)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			require.ErrorAs(t, err, &exit, "stderr: %s", stderr.String())
			require.Equal(t, tc.code, exit.ExitCode(), "stderr: %s", stderr.String())
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			last := lines[len(lines)-1]
			require.Contains(t, last, tc.want)
			require.True(t, strings.HasPrefix(last, "pacer"), "the error line names the program: %q", last)
			require.NotContains(t, stderr.String(), "goroutine ", "no stack trace")
			require.NotContains(t, stderr.String(), "secret", "no password echoed")
		})
	}
}

// In-process: readiness follows the database, and a full start/stop leaves
// no goroutine behind.
func TestReadyzFollowsDatabaseAndShutdownLeaksNothing(t *testing.T) {
	defer testwait.NoLeaks(t, goleak.IgnoreCurrent(),
		// fasthttp's process-wide Date-header ticker, started once and never stopped.
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"),
		// fasthttp's idle-worker reaper notices the pool has stopped on its next
		// 10 s tick and exits; it holds nothing of ours meanwhile.
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2"))
	dbURL := testdb.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, serveOptions{db: dbOptions{url: dbURL}, httpAddr: "127.0.0.1:0", nodeID: "test",
			web: webOptions{bcryptCost: bcrypt.MinCost}},
			discardLogger(), func(addr string) { ready <- addr })
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("serve failed: %v", err)
	case <-testwait.Expired(t):
		t.Fatal("serve not ready")
	}
	code, _ := get(t, "http://"+addr+"/readyz")
	require.Equal(t, http.StatusOK, code)

	u, err := url.Parse(dbURL)
	require.NoError(t, err)
	name := strings.TrimPrefix(u.Path, "/")
	admin, err := pgx.Connect(ctx, testdb.ServerURL(t))
	require.NoError(t, err)
	defer admin.Close(context.Background())
	_, err = admin.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{name}.Sanitize()+" ALLOW_CONNECTIONS false")
	require.NoError(t, err)
	_, err = admin.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name)
	require.NoError(t, err)

	testwait.Until(t, func() bool {
		code, body := get(t, "http://"+addr+"/readyz")
		return code == http.StatusServiceUnavailable && strings.Contains(body, `"check":"database"`)
	}, "/readyz turns 503 when the database goes away")
	code, _ = get(t, "http://"+addr+"/healthz")
	require.Equal(t, http.StatusOK, code, "liveness does not depend on the database")

	_, err = admin.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{name}.Sanitize()+" ALLOW_CONNECTIONS true")
	require.NoError(t, err)
	testwait.Until(t, func() bool {
		code, _ := get(t, "http://"+addr+"/readyz")
		return code == http.StatusOK
	}, "/readyz returns to 200 when the database is back")

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-testwait.Expired(t):
		t.Fatal("serve did not stop")
	}
	http.DefaultClient.CloseIdleConnections()
}
