package campaigns

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The import queue. An import holds up to five connections of its own
// (coordinator and copy streams) for as long as it runs, so imports run a
// few at a time across every node that shares the database, and the rest
// wait their turn in lead_lists, status queued, in upload order.
//
// A running import holds one of Concurrency slots: an advisory lock
// (importSlotLockKey, k) on its coordinating connection, which PostgreSQL
// releases when the connection ends, the process's death included. A
// waiting import holds no connection at all: it polls through the pool and
// beats queue_beat_at, so an entry whose process died stops counting after
// queueBeatTimeout and the recovery sweep fails it.

// DefaultImportConcurrency is how many imports run at once when
// ImportOptions.Concurrency is 0.
const DefaultImportConcurrency = 2

const (
	importSlotLockKey = 1885430631
	// A waiting import beats this often, and counts as gone when it has
	// not beaten for queueBeatTimeout.
	queueBeatEvery   = 5 * time.Second
	queueBeatTimeout = `make_interval(secs => 30)`
	// The head of the queue looks for a free slot this often; entries
	// further back look less often (pollEvery × position, at most
	// pollMax), which keeps a long queue from polling the database hard.
	queuePollEvery = 50 * time.Millisecond
	queuePollMax   = 2 * time.Second
)

// queuedAheadSQL is a waiting list's place: 1 + the live entries before
// it. Shared by the waiting import and the status (GetList, Lists).
const queuedAheadSQL = `(SELECT count(*) FROM lead_lists q WHERE q.status = 'queued' AND q.id <= lead_lists.id
	AND q.queue_beat_at > now() - ` + queueBeatTimeout + `)`

// queuePollSQL beats (when $3) and reads a waiting list's status, place and
// how many slots of the first $2 are taken.
const queuePollSQL = `
WITH beat AS (
	UPDATE lead_lists SET queue_beat_at = now() WHERE id = $1 AND status = 'queued' AND $3
)
SELECT status,
	(SELECT count(*) FROM lead_lists q WHERE q.status = 'queued' AND q.id < $1
		AND q.queue_beat_at > now() - ` + queueBeatTimeout + `) + 1,
	(SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND classid = $4::bigint::oid AND objid < $2::bigint::oid AND objsubid = 2)
FROM lead_lists WHERE id = $1`

// waitTurn waits until list may run, then returns its coordinating
// connection holding an import slot and the list's import lock, the list
// marked importing.
func waitTurn(ctx context.Context, pool *pgxpool.Pool, list ListID, concurrency int) (*pgx.Conn, error) {
	lastBeat := time.Now()
	for {
		beat := time.Since(lastBeat) >= queueBeatEvery
		if beat {
			lastBeat = time.Now()
		}
		var status string
		var place, taken int
		if err := pool.QueryRow(ctx, queuePollSQL, list, concurrency, beat, importSlotLockKey).Scan(&status, &place, &taken); err != nil {
			if !isTooManyConnections(err) {
				return nil, fmt.Errorf("import queue: %w", err)
			}
		} else if status != "queued" {
			return nil, fmt.Errorf("list %d left the import queue while waiting (now %s)", list, status)
		} else if place <= concurrency-taken {
			coord, err := takeSlot(ctx, pool, list, concurrency)
			if coord != nil || err != nil {
				return coord, err
			}
		}
		wait := min(queuePollEvery*time.Duration(max(place, 1)), queuePollMax)
		select {
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		case <-time.After(wait):
		}
	}
}

// takeSlot opens the coordinating connection and tries each slot; nil
// without an error when none is free (or no connection is to be had) yet.
func takeSlot(ctx context.Context, pool *pgxpool.Pool, list ListID, concurrency int) (*pgx.Conn, error) {
	coord, err := pgx.ConnectConfig(ctx, pool.Config().ConnConfig)
	if isTooManyConnections(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("connect for import: %w", err)
	}
	got := false
	for k := 0; k < concurrency && err == nil && !got; k++ {
		err = coord.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, $2)`, importSlotLockKey, k).Scan(&got)
	}
	if err == nil && got {
		var started bool
		err = pgx.BeginFunc(ctx, coord, func(tx pgx.Tx) error {
			tag, err := tx.Exec(ctx, `UPDATE lead_lists SET status = 'importing', queue_beat_at = NULL
				WHERE id = $1 AND status = 'queued'`, list)
			if err != nil || tag.RowsAffected() == 0 {
				return err
			}
			started = true
			_, err = tx.Exec(ctx, `SELECT pg_advisory_lock($1, $2)`, importListLockKey, int64(list))
			return err
		})
		if err == nil && !started {
			err = fmt.Errorf("list %d left the import queue while waiting", list)
		}
		if err == nil {
			return coord, nil
		}
	}
	// Closing the connection gives back the slot, if it took one.
	coord.Close(context.WithoutCancel(ctx))
	return nil, err
}

// connectImport opens one of an import's own connections, waiting while
// the server has none to give rather than failing the import.
func connectImport(ctx context.Context, pool *pgxpool.Pool) (*pgx.Conn, error) {
	wait := queuePollEvery
	for {
		conn, err := pgx.ConnectConfig(ctx, pool.Config().ConnConfig)
		if !isTooManyConnections(err) {
			if err != nil {
				return nil, fmt.Errorf("connect for import: %w", err)
			}
			return conn, nil
		}
		select {
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		case <-time.After(wait):
		}
		wait = min(2*wait, queuePollMax)
	}
}

// isTooManyConnections: the server (or the role) has no connection slot free.
func isTooManyConnections(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "53300"
}
