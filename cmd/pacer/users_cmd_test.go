package main

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/internal/testdb"
)

// `pacer users add` reads the password from stdin and stores only a bcrypt
// hash; the user can then be listed, disabled and enabled.
func TestUsersCommand(t *testing.T) {
	t.Parallel()
	dbURL := testdb.New(t)
	run := func(input string, args ...string) (string, string, int) {
		return runPacer(t, dbURL, input, args...)
	}
	out, errOut, code := run("s3cret-pass\n", "users", "add", "--username", "ann", "--role", "supervisor", "--bcrypt-cost", "4")
	require.Zero(t, code, errOut)
	require.Contains(t, out, "added supervisor user ann")
	require.Contains(t, errOut, "bcrypt cost 4 is for tests", "a weak hash is allowed, and said so")
	_, errOut, code = run("s3cret-pass\n", "users", "add", "--username", "cy", "--role", "agent", "--bcrypt-cost", "3")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "bcrypt cost 3 is outside 4..14", "bcrypt would quietly hash at its own default")

	_, errOut, code = run("s3cret-pass\n", "users", "add", "--username", "ANN", "--role", "agent", "--bcrypt-cost", "4")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "already exists", "usernames are unique regardless of case")
	_, errOut, code = run("short\n", "users", "add", "--username", "bo", "--role", "agent")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "at least 8 characters")
	_, errOut, code = run("", "users", "add", "--username", "bo", "--role", "agent")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "stdin")
	_, errOut, code = run("whatever-long\n", "users", "add", "--username", "bo", "--role", "root")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "unknown role")

	db, err := pgxpool.New(context.Background(), dbURL)
	require.NoError(t, err)
	defer db.Close()
	var hash string
	require.NoError(t, db.QueryRow(context.Background(), `SELECT password_hash FROM users WHERE username = 'ann'`).Scan(&hash))
	require.True(t, strings.HasPrefix(hash, "$2a$04$"), hash)
	require.NotContains(t, hash, "s3cret")

	_, errOut, code = run("", "users", "disable", "--username", "ann")
	require.Zero(t, code, errOut)
	out, _, code = run("", "users", "list")
	require.Zero(t, code)
	require.Regexp(t, `ann\s+supervisor\s+disabled`, out)
	_, _, code = run("", "users", "enable", "--username", "ann")
	require.Zero(t, code)
	out, _, _ = run("", "users", "list")
	require.Regexp(t, `ann\s+supervisor\s+active`, out)
}
