package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/pacer-dialer/pacer/migrations/pgcluster"
)

// psqlCommand opens psql on Pacer's database: DATABASE_URL's server, or the
// private cluster under --data-dir, found (or started, as serve and every
// other command do) through pgcluster. A cluster psql started is stopped
// again when psql exits, unless a running serve still uses it. Pacer's own
// flags come first; everything from the first other argument (or after
// "--") goes to psql as given.
func psqlCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := newDBCommand("psql", "pacer psql [--database-url URL] [--data-dir DIR] [--] [psql arguments, e.g. -c 'select 1']",
		stdout)
	own, rest := splitPsqlArgs(args)
	if err := c.fs.parse(own); err != nil {
		return err
	}
	psql, err := findPsql()
	if err != nil {
		return err
	}
	logger, err := c.logs.logger(stderr)
	if err != nil {
		return err
	}
	d, err := openDatabase(ctx, c.db, logger)
	if err != nil {
		return err
	}
	defer d.Close()

	// Ctrl-C belongs to psql (it cancels the running query); pacer stays
	// alive until psql exits, so it can release the cluster.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	defer signal.Stop(sig)

	target, password := withoutPassword(d.cluster.URL())
	cmd := exec.Command(psql, append([]string{target}, rest...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	if password != "" {
		// In the environment, not on psql's command line, where ps shows it.
		cmd.Env = append(os.Environ(), "PGPASSWORD="+password)
	}
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return fmt.Errorf("psql exited with status %d", exit.ExitCode())
	}
	if err != nil {
		return fmt.Errorf("run %s: %w", psql, err)
	}
	return nil
}

// splitPsqlArgs separates pacer's flags (the database ones, logging, help)
// at the front of args from psql's arguments after them.
func splitPsqlArgs(args []string) (own, rest []string) {
	withValue := map[string]bool{"database-url": true, "data-dir": true, "log-format": true, "log-level": true}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return own, args[i+1:]
		}
		name := strings.TrimLeft(a, "-")
		if a == "-h" || a == "--help" || a == "-help" {
			own = append(own, a)
			continue
		}
		if !strings.HasPrefix(a, "--") {
			return own, args[i:]
		}
		if n, _, ok := strings.Cut(name, "="); ok && withValue[n] {
			own = append(own, a)
			continue
		}
		if withValue[name] && i+1 < len(args) {
			own = append(own, a, args[i+1])
			i++
			continue
		}
		return own, args[i:]
	}
	return own, nil
}

// withoutPassword takes the password out of a postgres:// URL.
func withoutPassword(dbURL string) (string, string) {
	u, err := url.Parse(dbURL)
	if err != nil || u.User == nil {
		return dbURL, ""
	}
	password, ok := u.User.Password()
	if !ok {
		return dbURL, ""
	}
	u.User = url.User(u.User.Username())
	return u.String(), password
}

// findPsql finds psql on PATH, else beside the server binaries.
func findPsql() (string, error) {
	if p, err := exec.LookPath("psql"); err == nil {
		return p, nil
	}
	if dir, err := pgcluster.BinDir(); err == nil {
		if p := filepath.Join(dir, "psql"); isExecutable(p) {
			return p, nil
		}
	}
	return "", errors.New("psql is not installed: install the PostgreSQL client (apt-get install postgresql-client) and try again")
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}
