package pgbatch_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/internal/testwait"
	"github.com/pacer-dialer/pacer/migrations/pgbatch"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// Records queued before Stop are all written, in order; a row the database
// refuses costs only itself, not the batch it travelled in.
func TestWriterKeepsOrderAndLosesOnlyTheBadRow(t *testing.T) {
	ctx := context.Background()
	db := testdb.NewPool(t)
	_, err := db.Exec(ctx, `CREATE TABLE t (n int PRIMARY KEY CHECK (n <> 13), prev int)`)
	require.NoError(t, err)
	defer testwait.NoLeaks(t, goleak.IgnoreCurrent())

	w := pgbatch.New(db, pgbatch.Config{Name: "t", Queue: 8, MaxBatch: 50})
	require.NoError(t, w.Start(ctx))
	for i := 1; i <= 200; i++ {
		// Each row names the one before it, which must already be there
		// unless it was the refused one.
		w.Enqueue(`INSERT INTO t (n, prev) SELECT $1, (SELECT n FROM t WHERE n = $1 - 1)`, i)
	}
	require.NoError(t, w.Flush(ctx))
	var n, missingPrev int
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE prev IS NULL) FROM t`).Scan(&n, &missingPrev))
	require.Equal(t, 199, n, "only row 13 is refused")
	require.Equal(t, 2, missingPrev, "row 1 and row 14 have no predecessor; every other row was written after its own")
	require.EqualValues(t, 1, w.Failed())

	w.Enqueue(`INSERT INTO t (n) VALUES (1000)`)
	w.Stop()
	w.Stop()
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM t WHERE n = 1000`).Scan(&n))
	require.Equal(t, 1, n, "Stop writes what was queued")
}
