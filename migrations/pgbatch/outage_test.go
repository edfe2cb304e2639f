package pgbatch_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/internal/pgproxy"
	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/internal/testwait"
	"github.com/pacer-dialer/pacer/migrations/pgbatch"
)

// Records enqueued before and during an outage are all written once the
// database is back, in order, none refused; the writer says it is unhealthy
// while it holds them.
func TestRecordsQueuedDuringAnOutageAreWrittenAfterIt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	direct := testdb.NewPool(t)
	proxy, proxied := pgproxy.NewPool(t, direct.Config().ConnString())
	_, err := direct.Exec(ctx, `CREATE TABLE t (n int PRIMARY KEY, prev int)`)
	require.NoError(t, err)

	w := pgbatch.New(proxied, pgbatch.Config{Name: "t", Queue: 16, MaxBatch: 8, RetryMax: 200 * time.Millisecond})
	require.NoError(t, w.Start(ctx))
	defer w.Stop()
	insert := `INSERT INTO t (n, prev) SELECT $1, (SELECT n FROM t WHERE n = $1 - 1)`
	for i := 1; i <= 50; i++ {
		w.Enqueue(insert, i)
	}
	require.NoError(t, w.Flush(ctx))
	require.True(t, w.Healthy())

	proxy.Cut()
	enqueued := make(chan struct{})
	go func() {
		defer close(enqueued)
		for i := 51; i <= 200; i++ {
			w.Enqueue(insert, i) // blocks once the queue of 16 is full
		}
	}()
	testwait.Until(t, func() bool { return !w.Healthy() },
		"the first failed write makes the writer unhealthy")
	proxy.Restore()
	<-enqueued
	require.NoError(t, w.Flush(ctx))
	require.True(t, w.Healthy(), "a write went through")

	var n, missingPrev int
	require.NoError(t, direct.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE prev IS NULL) FROM t`).Scan(&n, &missingPrev))
	require.Equal(t, 200, n, "nothing enqueued during the outage is lost")
	require.Equal(t, 1, missingPrev, "every row was written after the one before it")
	require.Zero(t, w.Failed())
}

// A statement the server refuses is not an outage: it is counted and logged
// once, the writer stays healthy and the statements after it are written.
func TestRefusedStatementIsCountedNotRetried(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	_, err := db.Exec(ctx, `CREATE TABLE t (n int PRIMARY KEY CHECK (n <> 13))`)
	require.NoError(t, err)
	w := pgbatch.New(db, pgbatch.Config{Name: "t"})
	require.NoError(t, w.Start(ctx))
	defer w.Stop()
	w.Enqueue(`INSERT INTO t (n) VALUES ($1)`, 13)
	require.NoError(t, w.Flush(ctx))
	w.Enqueue(`INSERT INTO t (n) VALUES ($1)`, 14)
	require.NoError(t, w.Flush(ctx))
	require.EqualValues(t, 1, w.Failed())
	require.True(t, w.Healthy())
	var n int
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM t WHERE n = 14`).Scan(&n))
	require.Equal(t, 1, n)
}

// Stopping while the database is down spools what is left to disk, with
// every argument type the stores enqueue; the next Start writes it before
// anything else, exactly once, and removes the spool.
func TestStopDuringAnOutageSpoolsAndStartReplays(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	direct := testdb.NewPool(t)
	proxy, proxied := pgproxy.NewPool(t, direct.Config().ConnString())
	_, err := direct.Exec(ctx, `CREATE TABLE t (seq int PRIMARY KEY, id uuid, n bigint, pn bigint, at timestamptz,
		pat timestamptz, s text, ps text, b bool, pf float8, f float8, i int, codes text[], ids bigint[],
		ord bigint GENERATED ALWAYS AS IDENTITY)`)
	require.NoError(t, err)
	dir := t.TempDir()
	const insert = `INSERT INTO t (seq, id, n, pn, at, pat, s, ps, b, pf, f, i, codes, ids)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`
	id := uuid.New()
	at := time.Date(2025, 3, 4, 5, 6, 7, 123456000, time.UTC)
	pn, ps, pf := int64(42), "dialing", 1.5
	rows := [][]any{
		{1, id, int64(7), &pn, at, &at, "completed", &ps, true, &pf, 2.25, 3, []string{"a", "b"}, []int64{1, 2}},
		{2, id, int64(8), (*int64)(nil), at, (*time.Time)(nil), "", (*string)(nil), false, (*float64)(nil), 0.0, 0,
			[]string(nil), []int64(nil)},
	}

	w := pgbatch.New(proxied, pgbatch.Config{Name: "calls", SpoolDir: dir, StopTimeout: 300 * time.Millisecond,
		RetryMin: 50 * time.Millisecond, RetryMax: 100 * time.Millisecond})
	require.NoError(t, w.Start(ctx))
	proxy.Cut()
	for _, r := range rows {
		w.Enqueue(insert, r...)
	}
	w.Stop()
	files, err := filepath.Glob(filepath.Join(dir, "calls-*.spool"))
	require.NoError(t, err)
	require.Len(t, files, 1, "what could not be written is spooled")
	require.Zero(t, w.Failed(), "nothing was dropped")
	proxy.Restore()

	// Another writer of the same name, as at the next start.
	w2 := pgbatch.New(direct, pgbatch.Config{Name: "calls", SpoolDir: dir})
	w2.Enqueue(insert, 3, id, int64(9), nil, at, nil, "new", nil, false, nil, 0.0, 0, nil, nil)
	require.NoError(t, w2.Start(ctx))
	w2.Stop()
	var order []int
	r, err := direct.Query(ctx, `SELECT seq FROM t ORDER BY ord`)
	require.NoError(t, err)
	for r.Next() {
		var seq int
		require.NoError(t, r.Scan(&seq))
		order = append(order, seq)
	}
	require.Equal(t, []int{1, 2, 3}, order, "Start replays the spool, once, before writing anything new")
	_, err = os.Stat(files[0])
	require.True(t, os.IsNotExist(err), "a replayed spool is removed")

	type row struct {
		ID    uuid.UUID
		N     int64
		PN    *int64
		At    time.Time
		PAt   *time.Time
		S     string
		PS    *string
		B     bool
		PF    *float64
		F     float64
		I     int
		Codes []string
		IDs   []int64
	}
	var got []row
	r, err = direct.Query(ctx, `SELECT id, n, pn, at, pat, s, ps, b, pf, f, i, codes, ids FROM t ORDER BY seq`)
	require.NoError(t, err)
	for r.Next() {
		var x row
		require.NoError(t, r.Scan(&x.ID, &x.N, &x.PN, &x.At, &x.PAt, &x.S, &x.PS, &x.B, &x.PF, &x.F, &x.I, &x.Codes, &x.IDs))
		got = append(got, x)
	}
	require.NoError(t, r.Err())
	require.Len(t, got, 3)
	require.Equal(t, id, got[0].ID)
	require.Equal(t, int64(7), got[0].N)
	require.Equal(t, &pn, got[0].PN)
	require.True(t, at.Equal(got[0].At))
	require.True(t, at.Equal(*got[0].PAt))
	require.Equal(t, "completed", got[0].S)
	require.Equal(t, &ps, got[0].PS)
	require.True(t, got[0].B)
	require.Equal(t, &pf, got[0].PF)
	require.Equal(t, 2.25, got[0].F)
	require.Equal(t, 3, got[0].I)
	require.Equal(t, []string{"a", "b"}, got[0].Codes)
	require.Equal(t, []int64{1, 2}, got[0].IDs)
	require.Nil(t, got[1].PN)
	require.Nil(t, got[1].PAt)
	require.Nil(t, got[1].PS)
	require.Nil(t, got[1].PF)
	require.Nil(t, got[1].Codes)
	require.Equal(t, "new", got[2].S)
}
