package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pacer-dialer/pacer/migrations"
	"github.com/pacer-dialer/pacer/migrations/pgcluster"
)

var (
	once     sync.Once
	server   *pgcluster.Cluster
	template string
	setupErr error
)

// Main runs a package's tests and releases the shared server afterwards. Use
// it from TestMain in every package that calls New.
func Main(m *testing.M) {
	code := m.Run()
	if server != nil {
		if err := server.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "testdb:", err)
		}
	}
	os.Exit(code)
}

// ServerURL returns the URL of the test server's maintenance database, starting
// the server if needed. Tests that create their own databases use it.
func ServerURL(t testing.TB) string {
	t.Helper()
	setup(t)
	return server.URL()
}

// New creates a fresh database cloned from the migrated template and returns
// its URL; the database is dropped when the test ends.
func New(t testing.TB) string {
	t.Helper()
	setup(t)
	return create(t, "pacer_t_", "TEMPLATE "+pgx.Identifier{template}.Sanitize())
}

// NewPool is New plus a pool closed when the test ends.
func NewPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), New(t))
	if err != nil {
		t.Fatalf("testdb: pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// Empty creates a fresh database with no schema at all; dropped at test end.
func Empty(t testing.TB) string {
	t.Helper()
	setup(t)
	return create(t, "pacer_e_", "")
}

// create makes a uniquely named database (with the given CREATE DATABASE
// options) and drops it when the test ends.
func create(t testing.TB, prefix, options string) string {
	t.Helper()
	name := prefix + randomHex(6)
	admin := connectAdmin(t)
	defer admin.Close(context.Background())
	if _, err := admin.Exec(context.Background(), "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" "+options); err != nil {
		t.Fatalf("testdb: create %s: %v", name, err)
	}
	t.Cleanup(func() {
		conn := connectAdmin(t)
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("testdb: drop %s: %v", name, err)
		}
	})
	return withDatabase(t, server.URL(), name)
}

func setup(t testing.TB) {
	once.Do(func() { setupErr = start() })
	if setupErr != nil {
		t.Fatalf("testdb: %v", setupErr)
	}
}

func start() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := pgcluster.Config{ForTests: true, Database: "postgres"}
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		cfg.URL = u
	} else if u := os.Getenv("DATABASE_URL"); u != "" {
		cfg.URL = u
	} else {
		cfg.Dir = filepath.Join(os.TempDir(), fmt.Sprintf("pacer-test-pg-%d", os.Getuid()))
	}
	var err error
	if server, err = pgcluster.Open(ctx, cfg); err != nil {
		return err
	}
	template = "pacer_tmpl_" + migrations.Fingerprint()
	return ensureTemplate(ctx)
}

// ensureTemplate builds the migrated template once per schema version. Test
// processes of one run race here, so the check-and-build holds an advisory lock.
func ensureTemplate(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, server.URL())
	if err != nil {
		return fmt.Errorf("connect to test server: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(7061636501)"); err != nil {
		return err
	}
	defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock(7061636501)")

	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", template).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	building := template + "_build"
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{building}.Sanitize()+" WITH (FORCE)"); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{building}.Sanitize()); err != nil {
		return err
	}
	cfg, err := pgxpool.ParseConfig(server.URL())
	if err != nil {
		return err
	}
	cfg.ConnConfig.Database = building
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return err
	}
	_, err = migrations.Migrate(ctx, pool, nil)
	pool.Close()
	if err != nil {
		return fmt.Errorf("migrate template: %w", err)
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf("ALTER DATABASE %s RENAME TO %s",
		pgx.Identifier{building}.Sanitize(), pgx.Identifier{template}.Sanitize())); err != nil {
		return err
	}
	_, err = conn.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{template}.Sanitize()+" IS_TEMPLATE true")
	return err
}

func connectAdmin(t testing.TB) *pgx.Conn {
	conn, err := pgx.Connect(context.Background(), server.URL())
	if err != nil {
		t.Fatalf("testdb: connect: %v", err)
	}
	return conn
}

// withDatabase points a server URL (URL or key=value form) at another database.
func withDatabase(t testing.TB, base, name string) string {
	if u, err := url.Parse(base); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + name
		return u.String()
	}
	return base + " dbname=" + name
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
