package main

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/internal/testwait"
)

// `pacer psql` opens psql on the database Pacer uses and passes its
// arguments through; psql's failure is pacer's.
func TestPsqlOpensPacersDatabase(t *testing.T) {
	t.Parallel()
	if _, err := findPsql(); err != nil {
		t.Skipf("SKIPPED LOUDLY: %v", err)
	}
	db := testdb.New(t)
	_, errOut, code := pacerCLI(t, db, "campaigns", "create", "--name", "Seen from psql")
	require.Zero(t, code, errOut)

	out, errOut, code := pacerCLI(t, db, "psql", "-tA", "-c", "select name from campaigns")
	require.Zero(t, code, errOut)
	require.Equal(t, "Seen from psql\n", out)

	out, errOut, code = pacerCLI(t, db, "psql", "--log-level", "error", "--", "-tA", "-c", "select 40 + 2")
	require.Zero(t, code, errOut)
	require.Equal(t, "42\n", out)

	_, errOut, code = pacerCLI(t, db, "psql", "-c", "select nope")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `column "nope" does not exist`)
	require.Contains(t, errOut, "pacer psql: psql exited with status 1")

	_, errOut, code = pacerCLI(t, "postgres://nobody@127.0.0.1:1/none?connect_timeout=2", "psql", "-c", "select 1")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "cannot reach the database at 127.0.0.1:1/none")
}

func TestSplitPsqlArgs(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ args, own, rest []string }{
		{[]string{"-c", "select 1"}, nil, []string{"-c", "select 1"}},
		{[]string{"--data-dir", "/d", "-c", "x"}, []string{"--data-dir", "/d"}, []string{"-c", "x"}},
		{[]string{"--database-url=u", "--", "--help"}, []string{"--database-url=u"}, []string{"--help"}},
		{[]string{"--help"}, []string{"--help"}, nil},
		{[]string{"--data-dir", "/d", "--echo-all", "-f", "a.sql"}, []string{"--data-dir", "/d"}, []string{"--echo-all", "-f", "a.sql"}},
	} {
		own, rest := splitPsqlArgs(c.args)
		require.Equal(t, c.own, own, c.args)
		require.Equal(t, c.rest, rest, c.args)
	}
}

func TestPsqlKeepsThePasswordOffTheCommandLine(t *testing.T) {
	t.Parallel()
	u, p := withoutPassword("postgres://pacer:s3cret@db.example:5432/pacer?sslmode=require")
	require.Equal(t, "postgres://pacer@db.example:5432/pacer?sslmode=require", u)
	require.Equal(t, "s3cret", p)
	u, p = withoutPassword("postgres://pacer@/pacer?host=%2Ftmp%2Fx&port=5")
	require.Equal(t, "postgres://pacer@/pacer?host=%2Ftmp%2Fx&port=5", u)
	require.Empty(t, p)
}

// With no DATABASE_URL, `pacer psql` works on the private cluster under
// --data-dir as serve does: it starts the cluster when nothing runs it and
// stops it again when psql exits.
func TestPsqlOnThePrivateCluster(t *testing.T) {
	requireBinaries(t)
	if _, err := findPsql(); err != nil {
		t.Skipf("SKIPPED LOUDLY: %v", err)
	}
	t.Parallel()
	dir := workDir(t)
	data := filepath.Join(dir, "state")
	cmd := exec.Command(pacerBin, "psql", "--data-dir", data, "-tA", "-c", "select current_database()")
	cmd.Env = cleanEnv()
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	require.Equal(t, "pacer\n", string(out))
	// pg_ctl's wait ends when the postmaster removes its pid file, a moment
	// before the process is gone.
	testwait.Until(t, func() bool { return !postgresRunningIn(filepath.Join(data, "pg", "data")) },
		"the cluster psql started is stopped again")
}
