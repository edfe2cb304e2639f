package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNoBinaries is returned when no server was named and no PostgreSQL
// installation can be found to start a private one. Its text is the one line an
// operator needs.
var ErrNoBinaries = errors.New("no PostgreSQL server binaries found: install PostgreSQL (apt-get install postgresql) or set DATABASE_URL")

// superuser is the role initdb creates in a private cluster. Access is by unix
// socket only, inside a directory only its owner can enter, so trust auth is safe.
const superuser = "pacer"

// Config says which server to use. The zero value is not usable: set URL or Dir.
type Config struct {
	// URL of a server the operator named (DATABASE_URL). When set it is used as
	// is and no private cluster is started.
	URL string
	// Dir holds a private cluster: the data directory is Dir/data, the lock
	// files live beside it. Created when missing and kept between runs.
	Dir string
	// Database is the database created in a private cluster and named in its
	// URL. Default "pacer".
	Database string
	// ForTests trades durability for speed (fsync, synchronous_commit and
	// full_page_writes off). Never for a cluster that holds real data.
	ForTests bool
	// StockWAL starts the server with PostgreSQL's own WAL and durability
	// settings (wal_level replica, fsync, synchronous commit and full-page
	// writes on), as most production servers run, instead of the private
	// cluster's wal_level minimal (and ForTests' shortcuts). For benchmarks
	// that report what such a server costs; use a Dir of its own.
	StockWAL bool
	// Logger receives start and stop notices. Default: discard.
	Logger *slog.Logger
}

// WithDefaults returns the config with empty fields filled in.
func (c Config) WithDefaults() Config {
	if c.Database == "" {
		c.Database = "pacer"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports a config that cannot work.
func (c Config) Validate() error {
	if c.URL != "" {
		if _, err := pgx.ParseConfig(c.URL); err != nil {
			return fmt.Errorf("malformed DATABASE_URL: %s", redactParseError(err))
		}
		return nil
	}
	if c.Dir == "" {
		return errors.New("pgcluster: neither a database URL nor a cluster directory was given")
	}
	if strings.ContainsAny(c.Dir, "'\\") {
		return fmt.Errorf("cluster directory %q must not contain quotes or backslashes", c.Dir)
	}
	return nil
}

// redactParseError keeps pgx's reason but not the URL it quotes, which may hold
// a password.
func redactParseError(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 && strings.Contains(msg, "cannot parse") {
		return "cannot parse URL: " + msg[i+2:]
	}
	return msg
}

// Cluster is a server in use by this process. Stop releases it.
type Cluster struct {
	url     string
	private *private
	stop    sync.Once
	stopErr error
}

// private is the state of a cluster this process may have to stop.
type private struct {
	bin     string
	dir     string
	data    string
	owner   *syscall.Credential // nil: run the binaries as ourselves
	users   *os.File            // holds a shared flock while this process uses the cluster
	logger  *slog.Logger
	started bool
}

// Open returns the server to use: the one named by cfg.URL, or a private
// cluster in cfg.Dir, started if no other process is running it.
func Open(ctx context.Context, cfg Config) (*Cluster, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.URL != "" {
		return &Cluster{url: cfg.URL}, nil
	}
	p, url, err := openPrivate(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &Cluster{url: url, private: p}, nil
}

// URL is the connection string for the cluster's database.
func (c *Cluster) URL() string { return c.url }

// Private reports whether this cluster was started from local binaries rather
// than named by the operator.
func (c *Cluster) Private() bool { return c.private != nil }

// Stop releases the cluster. A private cluster is shut down when no other
// process is using it. Safe to call more than once.
func (c *Cluster) Stop() error {
	c.stop.Do(func() {
		if c.private != nil {
			c.stopErr = c.private.release()
		}
	})
	return c.stopErr
}

func openPrivate(ctx context.Context, cfg Config) (*private, string, error) {
	bin, err := findBinaries()
	if err != nil {
		return nil, "", err
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, "", fmt.Errorf("cluster directory: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", fmt.Errorf("create cluster directory: %w", err)
	}
	p := &private{bin: bin, dir: dir, data: filepath.Join(dir, "data"), logger: cfg.Logger}
	if os.Geteuid() == 0 {
		// initdb refuses to run as root; the cluster belongs to the postgres user.
		if p.owner, err = postgresUser(); err != nil {
			return nil, "", err
		}
		if err := reachableBy(dir, p.owner); err != nil {
			return nil, "", err
		}
	}

	control, err := lockFile(filepath.Join(dir, "control.lock"), syscall.LOCK_EX)
	if err != nil {
		return nil, "", err
	}
	defer control.Close() // closing drops the flock

	sock, port, err := p.ensureRunning(ctx, cfg.ForTests, cfg.StockWAL)
	if err != nil && cfg.ForTests {
		// A test cluster holds nothing worth keeping: one that will not start
		// (left by another PostgreSQL version, or damaged by a killed run) is
		// rebuilt rather than failing the suite.
		p.logger.Warn("rebuilding the test cluster", "dir", p.data, "err", err)
		if rmErr := os.RemoveAll(p.data); rmErr != nil {
			return nil, "", errors.Join(err, rmErr)
		}
		sock, port, err = p.ensureRunning(ctx, cfg.ForTests, cfg.StockWAL)
	}
	if err != nil {
		return nil, "", err
	}
	if p.users, err = lockFile(filepath.Join(dir, "users.lock"), syscall.LOCK_SH); err != nil {
		return nil, "", err
	}
	u := fmt.Sprintf("postgres://%s@/%s?host=%s&port=%d&sslmode=disable",
		superuser, cfg.Database, url.QueryEscape(sock), port)
	if err := ensureDatabase(ctx, u, cfg.Database); err != nil {
		p.users.Close()
		return nil, "", err
	}
	return p, u, nil
}

// ensureRunning initialises the data directory if needed and starts the
// server unless another process already runs it. Caller holds the control lock.
func (p *private) ensureRunning(ctx context.Context, forTests, stockWAL bool) (sockDir string, port int, err error) {
	if _, err := os.Stat(filepath.Join(p.data, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := p.initdb(ctx, forTests); err != nil {
			return "", 0, err
		}
	}
	if sockDir, port, ok := p.running(ctx); ok {
		p.logger.Info("using running private PostgreSQL", "dir", p.data)
		return sockDir, port, nil
	}

	sockDir = p.data
	if len(sockDir)+len("/.s.PGSQL.65535") >= 100 {
		// Unix socket paths are limited to ~107 bytes; fall back to a short
		// private directory when the data directory is deeply nested.
		sockDir = filepath.Join(os.TempDir(), fmt.Sprintf("pacer-pg-%d-%x", os.Getuid(), hashString(p.data)))
		if err := p.ownedDir(sockDir); err != nil {
			return "", 0, err
		}
	}
	if port, err = freePort(); err != nil {
		return "", 0, err
	}
	opts := []string{
		"-p " + strconv.Itoa(port),
		"-c listen_addresses=''",
		"-c unix_socket_directories='" + sockDir + "'",
		"-c max_connections=300",
		// A lead import writes a million rows and their indexes in one go:
		// the default 128 MB of buffers and 1 GB of WAL between checkpoints
		// turn that into write-back churn.
		"-c shared_buffers=512MB",
		"-c max_wal_size=4GB",
	}
	if !stockWAL {
		// The private cluster has no replicas and no archive, so it keeps
		// only the WAL crash recovery needs: a table created and filled in
		// one transaction (each stream of a lead import) is then written
		// once, not also to the WAL. Point DATABASE_URL at a server of
		// your own for replication.
		opts = append(opts, "-c wal_level=minimal", "-c max_wal_senders=0")
	}
	if forTests && !stockWAL {
		opts = append(opts, "-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off")
	}
	args := []string{"start", "-D", p.data, "-w", "-t", "60", "-l", filepath.Join(p.data, "server.log"), "-o", strings.Join(opts, " ")}
	if out, err := p.run(ctx, "pg_ctl", args...); err != nil {
		return "", 0, fmt.Errorf("start private PostgreSQL in %s: %w: %s (see %s)", p.data, err, lastLine(out), filepath.Join(p.data, "server.log"))
	}
	p.started = true
	p.logger.Info("started private PostgreSQL", "dir", p.data, "socket", sockDir)
	return sockDir, port, nil
}

func (p *private) initdb(ctx context.Context, forTests bool) error {
	if err := p.ownedDir(p.data); err != nil {
		return err
	}
	args := []string{"-D", p.data, "-U", superuser, "--auth=trust", "-E", "UTF8", "--no-locale", "--no-instructions"}
	if forTests {
		args = append(args, "--no-sync")
	}
	p.logger.Info("initialising private PostgreSQL cluster", "dir", p.data)
	if out, err := p.run(ctx, "initdb", args...); err != nil {
		return fmt.Errorf("initdb %s: %w: %s", p.data, err, lastLine(out))
	}
	return nil
}

// running reports the socket directory and port of a server already running on
// the data directory, as recorded in its postmaster.pid.
func (p *private) running(ctx context.Context) (string, int, bool) {
	if _, err := p.run(ctx, "pg_ctl", "status", "-D", p.data); err != nil {
		return "", 0, false
	}
	raw, err := os.ReadFile(filepath.Join(p.data, "postmaster.pid"))
	if err != nil {
		return "", 0, false
	}
	lines := strings.Split(string(raw), "\n")
	if len(lines) < 5 {
		return "", 0, false
	}
	port, err := strconv.Atoi(strings.TrimSpace(lines[3]))
	if err != nil {
		return "", 0, false
	}
	return strings.TrimSpace(lines[4]), port, true
}

// release drops this process's use of the cluster and stops the server when
// nobody else uses it.
func (p *private) release() error {
	control, err := lockFile(filepath.Join(p.dir, "control.lock"), syscall.LOCK_EX)
	if err != nil {
		p.users.Close()
		return err
	}
	defer control.Close()
	if err := syscall.Flock(int(p.users.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		// Another process still uses the cluster; it stops it when it leaves.
		p.users.Close()
		return nil
	}
	defer p.users.Close()
	// Stopping may happen after the caller's context is gone (shutdown), so it
	// has its own deadline.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := p.run(ctx, "pg_ctl", "stop", "-D", p.data, "-m", "fast", "-w", "-t", "25"); err != nil {
		return fmt.Errorf("stop private PostgreSQL in %s: %w: %s", p.data, err, lastLine(out))
	}
	p.logger.Info("stopped private PostgreSQL", "dir", p.data)
	return nil
}

func (p *private) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(p.bin, name), args...)
	// The server must not share our process group: a terminal's Ctrl-C would
	// reach it first and pull the database from under our own clean shutdown.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: p.owner}
	cmd.Dir = "/"
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	return cmd.CombinedOutput()
}

// ownedDir creates dir with mode 0700 for whoever runs the server.
func (p *private) ownedDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	if p.owner != nil {
		if err := os.Chown(dir, int(p.owner.Uid), int(p.owner.Gid)); err != nil {
			return fmt.Errorf("give %s to the postgres user: %w", dir, err)
		}
	}
	return os.Chmod(dir, 0o700)
}

// BinDir is the directory of the PostgreSQL server binaries a private
// cluster runs from (its client tools, such as psql, are usually there too),
// or ErrNoBinaries.
func BinDir() (string, error) { return findBinaries() }

func findBinaries() (string, error) {
	has := func(dir string) bool {
		for _, b := range []string{"initdb", "pg_ctl", "postgres"} {
			if fi, err := os.Stat(filepath.Join(dir, b)); err != nil || fi.IsDir() {
				return false
			}
		}
		return true
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		if dir := strings.TrimSpace(string(out)); has(dir) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if has(d) {
			return d, nil
		}
	}
	if path, err := exec.LookPath("initdb"); err == nil && has(filepath.Dir(path)) {
		return filepath.Dir(path), nil
	}
	return "", ErrNoBinaries
}

func versionOf(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

func postgresUser() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, errors.New("running as root: a private PostgreSQL cluster needs a 'postgres' system user to own it (install PostgreSQL, or set DATABASE_URL)")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// reachableBy checks that every parent of dir can be traversed by the postgres
// user, so initdb fails here with a clear reason rather than deep inside.
func reachableBy(dir string, owner *syscall.Credential) error {
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		mode := fi.Mode().Perm()
		ok := mode&0o001 != 0 ||
			(st.Uid == owner.Uid && mode&0o100 != 0) ||
			(st.Gid == owner.Gid && mode&0o010 != 0)
		if !ok {
			return fmt.Errorf("the postgres user cannot enter %s, which holds the private cluster directory %s: run from a directory others can traverse, or set DATABASE_URL", d, dir)
		}
		if d == "/" || d == "." {
			return nil
		}
	}
}

func lockFile(path string, how int) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, nil
}

// freePort picks a port no TCP listener holds. The server listens only on its
// unix socket, but the port names that socket and keeps it distinct.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick a port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func ensureDatabase(ctx context.Context, dbURL, name string) error {
	cfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		return err
	}
	cfg.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect to private PostgreSQL: %w", err)
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

func lastLine(out []byte) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

func hashString(s string) uint32 {
	var h uint32 = 2166136261
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}
