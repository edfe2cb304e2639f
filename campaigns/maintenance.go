package campaigns

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Maintenance the job runner calls on a schedule (package jobs): each is one
// set-based statement, safe to run on any node at any time and to repeat.

// ReleaseOrphanedLeads returns to ordinary dialling the leads held for a
// callback (status callback) that no open callback holds any more: the
// invariant every callback step keeps, checked from the other side, so a
// lead can never wait forever for a callback that is gone.
func ReleaseOrphanedLeads(ctx context.Context, db DB, now time.Time) (int64, error) {
	tag, err := db.Exec(ctx, `
UPDATE leads l SET status = CASE WHEN attempts = 0 THEN 'new' ELSE 'retry' END, next_attempt_at = $1
WHERE l.status = 'callback'
  AND NOT EXISTS (SELECT 1 FROM callbacks cb WHERE cb.lead_id = l.id AND cb.status IN ('scheduled', 'due', 'offered', 'dialled', 'missed'))`, now)
	if err != nil {
		return 0, fmt.Errorf("release leads held for callbacks that are gone: %w", err)
	}
	return tag.RowsAffected(), nil
}

// RecycleLeads is a manager's "recycle leads by disposition": a campaign's
// finished leads whose last disposition is one of Codes, last tried before
// Before, go back to the pool with their attempt counts reset (DNC'd
// numbers never do). Used for a new pass over, say, every NI of last month.
type RecycleLeads struct {
	Campaign ID
	Codes    []string
	Before   time.Time
	Now      time.Time
}

// Recycle applies RecycleLeads and returns how many leads it put back.
func Recycle(ctx context.Context, db DB, p RecycleLeads) (int64, error) {
	if len(p.Codes) == 0 {
		return 0, nil
	}
	tag, err := db.Exec(ctx, `
UPDATE leads l SET status = 'new', attempts = 0, attempts_today = 0, attempts_day = NULL, next_attempt_at = $4
WHERE l.campaign_id = $1 AND l.status = 'done' AND NOT l.dnc AND l.last_disposition = ANY($2)
  AND (l.last_attempt_at IS NULL OR l.last_attempt_at < $3)
  AND NOT EXISTS (SELECT 1 FROM dnc d WHERE d.phone = l.phone AND (d.campaign_id IS NULL OR d.campaign_id = l.campaign_id))`,
		p.Campaign, p.Codes, p.Before, p.Now)
	if err != nil {
		return 0, fmt.Errorf("recycle leads of campaign %d: %w", p.Campaign, err)
	}
	return tag.RowsAffected(), nil
}

// PurgeResult counts what PurgeScratch removed.
type PurgeResult struct {
	Rejects  int64 `json:"rejects"`
	Requests int64 `json:"callback_requests"`
}

// PurgeScratch deletes what is kept only for a while: rejected-row reports of
// imports finished before before and callback requests closed before before.
func PurgeScratch(ctx context.Context, db DB, before time.Time) (PurgeResult, error) {
	var r PurgeResult
	tag, err := db.Exec(ctx, `DELETE FROM lead_import_rejects r USING lead_lists l
WHERE r.list_id = l.id AND l.finished_at < $1`, before)
	if err != nil {
		return r, fmt.Errorf("purge import reports: %w", err)
	}
	r.Rejects = tag.RowsAffected()
	tag, err = db.Exec(ctx, `DELETE FROM callback_requests WHERE status <> 'pending' AND closed_at < $1`, before)
	if err != nil {
		return r, fmt.Errorf("purge callback requests: %w", err)
	}
	r.Requests = tag.RowsAffected()
	return r, nil
}

// FailAbandonedImports marks failed every importing list whose import is no
// longer running (its process died: the list's import lock is free) and
// drops the partition tables it had built, and every queued list whose
// process stopped beating (import_queue.go). It returns how many it found.
func FailAbandonedImports(ctx context.Context, db TxDB) (int64, error) {
	tag, err := db.Exec(ctx, `UPDATE lead_lists SET status = 'failed', finished_at = now(), queue_beat_at = NULL,
		error = 'import interrupted: the uploading process stopped before its turn'
		WHERE status = 'queued' AND queue_beat_at <= now() - `+queueBeatTimeout)
	if err != nil {
		return 0, fmt.Errorf("fail abandoned queued imports: %w", err)
	}
	n := tag.RowsAffected()
	rows, err := db.Query(ctx, `SELECT id FROM lead_lists WHERE status = 'importing' ORDER BY id`)
	if err != nil {
		return 0, fmt.Errorf("importing lists: %w", err)
	}
	lists, err := pgx.CollectRows(rows, pgx.RowTo[ListID])
	if err != nil {
		return 0, fmt.Errorf("importing lists: %w", err)
	}
	for _, list := range lists {
		err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
			var free bool
			if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1, $2)`, importListLockKey, int64(list)).Scan(&free); err != nil || !free {
				return err
			}
			rows, err := tx.Query(ctx, `SELECT relname::text FROM pg_class
WHERE relkind = 'r' AND relname ~ ('^leads_list_' || $1::bigint || '_[0-9]+$') AND NOT relispartition`, int64(list))
			if err != nil {
				return err
			}
			tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
			var parts []*leadPart
			for _, t := range tables {
				parts = append(parts, &leadPart{name: pgx.Identifier{t}.Sanitize()})
			}
			n++
			return failImport(ctx, tx, list, parts, "import interrupted: the importing process stopped")
		})
		if err != nil {
			return n, fmt.Errorf("clean up abandoned import of list %d: %w", list, err)
		}
	}
	return n, nil
}
