package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pacer-dialer/pacer/migrations/pgcluster"
)

// dbOptions are the flags every command that needs the database shares.
type dbOptions struct {
	url     string
	dataDir string
}

func (o *dbOptions) register(fs *flagSet) {
	fs.StringVar(&o.url, "database-url", "", "PostgreSQL URL; when empty, a private cluster is started under --data-dir")
	fs.extraEnv["database-url"] = []string{"DATABASE_URL"}
	fs.StringVar(&o.dataDir, "data-dir", ".pacer", "directory for Pacer's local state; the private PostgreSQL cluster lives in its pg/ folder")
}

// database is an open connection pool and the server behind it.
type database struct {
	cluster *pgcluster.Cluster
	pool    *pgxpool.Pool
}

// openDatabase finds or starts the server and connects to it, failing fast
// with one clear line when the server is unreachable or the URL malformed.
func openDatabase(ctx context.Context, o dbOptions, logger *slog.Logger) (*database, error) {
	cluster, err := pgcluster.Open(ctx, pgcluster.Config{
		URL:    o.url,
		Dir:    filepath.Join(o.dataDir, "pg"),
		Logger: logger,
	})
	if err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(cluster.URL())
	if err != nil {
		cluster.Stop()
		return nil, fmt.Errorf("malformed DATABASE_URL: %v", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		cluster.Stop()
		return nil, fmt.Errorf("database: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		cluster.Stop()
		return nil, fmt.Errorf("cannot reach the database at %s: %w", describe(cfg), rootCause(err))
	}
	return &database{cluster: cluster, pool: pool}, nil
}

// Close closes the pool, then releases the server (stopping a private
// cluster nobody else uses).
func (d *database) Close() error {
	d.pool.Close()
	return d.cluster.Stop()
}

// describe names a server without its password.
func describe(cfg *pgxpool.Config) string {
	c := cfg.ConnConfig
	return fmt.Sprintf("%s:%d/%s (user %s)", c.Host, c.Port, c.Database, c.User)
}

func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// logOptions are the logging flags every command shares.
type logOptions struct {
	format string
	level  string
}

func (o *logOptions) register(fs *flagSet) {
	fs.StringVar(&o.format, "log-format", "text", "log format: text or json")
	fs.StringVar(&o.level, "log-level", "info", "log level: debug, info, warn or error")
}

func (o logOptions) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.level)); err != nil {
		return nil, usageError{fmt.Sprintf("unknown log level %q", o.level)}
	}
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(o.format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, usageError{fmt.Sprintf("unknown log format %q (text or json)", o.format)}
	}
}

// wallClock is the real clock handed to components; domain code never calls
// time.Now itself so the simulator can substitute virtual time.
type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

// secretFromStdin reads a password from the first line of stdin, without
// its line ending, so that `echo secret | pacer ...` works and the secret
// never appears in the process list or the shell's history. An empty line
// is returned as "": the caller says what to write.
func secretFromStdin(stdin io.Reader, what string) (string, error) {
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read %s from stdin: %w", what, err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}
