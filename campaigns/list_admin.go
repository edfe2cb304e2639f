package campaigns

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Lead classes: where a lead stands for the hopper, as the console counts
// and exports them. Every lead is in exactly one.
const (
	ClassNew        = "new"         // never attempted, may be claimed
	ClassDialling   = "dialling"    // claimed: a call is in progress or about to be
	ClassCallable   = "callable"    // attempted before, due now (the calling window still applies)
	ClassRetryLater = "retry_later" // attempted, next attempt or abandon lock-out still ahead
	ClassCallback   = "callback"    // held for a scheduled callback
	ClassFinished   = "finished"    // done: final disposition or no attempts left
	ClassDNC        = "dnc"         // on a do-not-call list
)

// LeadClasses lists the classes in the console's order.
var LeadClasses = []string{ClassNew, ClassDialling, ClassCallable, ClassRetryLater, ClassCallback, ClassFinished, ClassDNC}

// leadClassSQL classifies a lead l of campaign c at $now, by the rules the
// hopper's claim applies (hopper.go): a lead being dialled counts as
// dialling even if its number was just put on DNC; a lead at its
// campaign's attempt limit is finished whatever its status says, since no
// claim takes it.
const leadClassSQL = `CASE
	WHEN l.status = 'dialing' THEN 'dialling'
	WHEN l.dnc THEN 'dnc'
	WHEN l.status = 'callback' THEN 'callback'
	WHEN l.status = 'done' OR l.attempts >= c.max_attempts THEN 'finished'
	WHEN l.status = 'new' THEN 'new'
	WHEN l.next_attempt_at <= $NOW AND (l.locked_until IS NULL OR l.locked_until <= $NOW) THEN 'callable'
	ELSE 'retry_later' END`

func classSQL(nowArg string) string { return strings.ReplaceAll(leadClassSQL, "$NOW", nowArg) }

// ListCounts is a list with its leads counted by class.
type ListCounts struct {
	LeadList
	Counts map[string]int64 `json:"counts"`
	Total  int64            `json:"total"`
}

// ListsWithCounts returns a campaign's lists, newest first, each with its
// leads counted by class at now. It reads each of the campaign's leads once
// (one pass over the campaign's partitions; BenchmarkListAdmin1M: 1.5 s for
// 1.1 million leads on a busy 2-core host), so the console asks for it on
// opening the lists page and after an action, not on a timer.
func ListsWithCounts(ctx context.Context, db DB, campaign ID, now time.Time) ([]ListCounts, error) {
	ls, err := Lists(ctx, db, campaign)
	if err != nil {
		return nil, err
	}
	rows, err := db.Query(ctx, `SELECT l.list_id, `+classSQL("$2")+` AS class, count(*)
FROM leads l JOIN campaigns c ON c.id = l.campaign_id
WHERE l.campaign_id = $1 GROUP BY 1, 2`, campaign, now)
	if err != nil {
		return nil, fmt.Errorf("count leads of campaign %d: %w", campaign, err)
	}
	defer rows.Close()
	counts := map[ListID]map[string]int64{}
	for rows.Next() {
		var list ListID
		var class string
		var n int64
		if err := rows.Scan(&list, &class, &n); err != nil {
			return nil, err
		}
		if counts[list] == nil {
			counts[list] = map[string]int64{}
		}
		counts[list][class] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count leads of campaign %d: %w", campaign, err)
	}
	out := make([]ListCounts, len(ls))
	for i, l := range ls {
		out[i] = ListCounts{LeadList: l, Counts: map[string]int64{}}
		for _, k := range LeadClasses {
			n := counts[l.ID][k]
			out[i].Counts[k] = n
			out[i].Total += n
		}
	}
	return out, nil
}

// ErrListBusy is returned when a list cannot be changed now: it is still
// importing, or calls or callbacks of its leads are under way.
var ErrListBusy = errors.New("list is busy")

// ErrListDeleted is returned when acting on a deleted list.
var ErrListDeleted = errors.New("list was deleted")

// DeleteResult is what DeleteList removed.
type DeleteResult struct {
	List    ListID `json:"list_id"`
	Deleted int64  `json:"deleted"`
}

// DeleteList deletes a list's leads and marks the list deleted (its row
// stays, with its name, file and import counts, for reports). The calls of
// its leads stay, with lead_id NULL (as the foreign key's ON DELETE SET
// NULL leaves them), keeping their campaign, phone, outcome and
// disposition; call actions likewise; the leads' closed callbacks go.
//
// It never pulls a lead from under the engine: a list with a lead being
// dialled, or with an open callback, is refused with ErrListBusy and
// nothing changes; so is a list still importing. A small list's leads are
// deleted in one statement that locks them (deleteSharedLeads); a large
// list's partitions are dropped whole under a lock on the leads table
// (dropOwnPartitions).
func DeleteList(ctx context.Context, db TxDB, id ListID, by string) (DeleteResult, error) {
	res := DeleteResult{List: id}
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		var campaign ID
		var status string
		var deleted *time.Time
		err := tx.QueryRow(ctx, `SELECT campaign_id, status, deleted_at FROM lead_lists WHERE id = $1 FOR UPDATE`, id).
			Scan(&campaign, &status, &deleted)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("list %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("list %d: %w", id, err)
		}
		if deleted != nil {
			return fmt.Errorf("list %d: %w", id, ErrListDeleted)
		}
		if status == "queued" || status == "importing" {
			return fmt.Errorf("list %d is %s: %w; wait for the import to end", id, status, ErrListBusy)
		}
		// Imports into the campaign compare against its leads when they
		// finish: take the same lock so none is half-way through.
		if _, err := tx.Exec(ctx, importLockSQL, int64(campaign)); err != nil {
			return err
		}
		parts, err := listPartitions(ctx, tx, id)
		if err != nil {
			return err
		}
		if len(parts) > 0 {
			res.Deleted, err = dropOwnPartitions(ctx, tx, id, parts)
		} else {
			res.Deleted, err = deleteSharedLeads(ctx, tx, id, campaign)
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE lead_lists SET deleted_at = now(), deleted_by = $2 WHERE id = $1`, id, by)
		return err
	})
	return res, err
}

// openCallbacksSQL counts the open callbacks of leads in a range of ids.
const openCallbacksSQL = `SELECT count(*) FROM callbacks
WHERE lead_id >= $1 AND lead_id < $2 AND status IN ('scheduled', 'due', 'offered', 'dialled')`

func busyError(id ListID, dialling, callbacks int64) error {
	if callbacks > 0 {
		return fmt.Errorf("list %d has %d open callback(s): %w; cancel them (or let them finish) first", id, callbacks, ErrListBusy)
	}
	return fmt.Errorf("list %d has %d call(s) in progress: %w; wait for them to end (or pause the campaign) and delete again",
		id, dialling, ErrListBusy)
}

// deleteSharedLeads deletes a small list's leads from leads_shared (at most
// sharedListMaxLeads rows, through leads_shared_list). The leads are
// deleted in one statement that locks them: a claim either took a lead
// first (the delete then sees it dialling and the transaction rolls back)
// or skips it (claims SKIP LOCKED).
func deleteSharedLeads(ctx context.Context, tx pgx.Tx, id ListID, campaign ID) (int64, error) {
	var callbacks int64
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM callbacks cb JOIN leads l ON l.id = cb.lead_id
WHERE l.list_id = $1 AND l.campaign_id = $2 AND cb.status IN ('scheduled', 'due', 'offered', 'dialled')`,
		id, campaign).Scan(&callbacks); err != nil {
		return 0, fmt.Errorf("callbacks of list %d: %w", id, err)
	}
	if callbacks > 0 {
		return 0, busyError(id, 0, callbacks)
	}
	var deleted, dialling int64
	if err := tx.QueryRow(ctx, `WITH gone AS (DELETE FROM leads WHERE list_id = $1 AND campaign_id = $2 RETURNING status)
SELECT count(*), count(*) FILTER (WHERE status = 'dialing') FROM gone`, id, campaign).Scan(&deleted, &dialling); err != nil {
		return 0, fmt.Errorf("delete leads of list %d: %w", id, err)
	}
	if dialling > 0 {
		return 0, busyError(id, dialling, 0)
	}
	return deleted, nil
}

// dropOwnPartitions removes a large list's partitions whole: deleting a
// million rows one by one (each firing the foreign keys of calls,
// call_actions and callbacks) takes a minute, dropping the tables well
// under a second. The leads table is locked first (ACCESS EXCLUSIVE, which
// DETACH needs anyway; taking it first leaves no lock to deadlock on): no
// claim runs while the list is checked and dropped, so none can take a lead
// of it in between. The lock waits at most lockWait for running claims and
// imports; the hopper's claims, of every campaign, wait for the drop.
func dropOwnPartitions(ctx context.Context, tx pgx.Tx, id ListID, parts []string) (int64, error) {
	if _, err := tx.Exec(ctx, fmt.Sprintf(`SET LOCAL lock_timeout = '%dms'`, lockWait.Milliseconds())); err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE leads IN ACCESS EXCLUSIVE MODE`); err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "55P03" {
			return 0, fmt.Errorf("list %d: the dialler kept the leads table busy for %s: %w; try again", id, lockWait, ErrListBusy)
		}
		return 0, fmt.Errorf("lock leads: %w", err)
	}
	lo, hi := int64(id)<<listIDShift, int64(id+1)<<listIDShift
	var total, dialling, callbacks int64
	if err := tx.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'dialing') FROM leads WHERE id >= $1 AND id < $2`,
		lo, hi).Scan(&total, &dialling); err != nil {
		return 0, fmt.Errorf("leads of list %d: %w", id, err)
	}
	if err := tx.QueryRow(ctx, openCallbacksSQL, lo, hi).Scan(&callbacks); err != nil {
		return 0, fmt.Errorf("callbacks of list %d: %w", id, err)
	}
	if dialling > 0 || callbacks > 0 {
		return 0, busyError(id, dialling, callbacks)
	}
	// What the foreign keys would do row by row, done by range: calls and
	// call actions keep their rows without the lead, closed callbacks go.
	for _, sql := range []string{
		`UPDATE calls SET lead_id = NULL WHERE lead_id >= $1 AND lead_id < $2`,
		`UPDATE call_actions SET lead_id = NULL WHERE lead_id >= $1 AND lead_id < $2`,
		`DELETE FROM callbacks WHERE lead_id >= $1 AND lead_id < $2`,
	} {
		if _, err := tx.Exec(ctx, sql, lo, hi); err != nil {
			return 0, fmt.Errorf("records of list %d: %w", id, err)
		}
	}
	for _, name := range parts {
		ident := pgx.Identifier{name}.Sanitize()
		if _, err := tx.Exec(ctx, `ALTER TABLE leads DETACH PARTITION `+ident); err != nil {
			return 0, fmt.Errorf("detach %s: %w", name, err)
		}
		if _, err := tx.Exec(ctx, `DROP TABLE `+ident); err != nil {
			return 0, fmt.Errorf("drop %s: %w", name, err)
		}
	}
	return total, nil
}

// lockWait is how long DeleteList waits for the leads table.
const lockWait = 5 * time.Second

// listPartitions names the partitions a large list was given at import
// (leads_list_<id>_<n>); a small list's leads are in leads_shared.
func listPartitions(ctx context.Context, tx pgx.Tx, id ListID) ([]string, error) {
	rows, err := tx.Query(ctx, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'leads'::regclass AND c.relname LIKE $1 ORDER BY 1`, fmt.Sprintf("leads\\_list\\_%d\\_%%", id))
	if err != nil {
		return nil, fmt.Errorf("partitions of list %d: %w", id, err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("partitions of list %d: %w", id, err)
	}
	return names, nil
}

// ListRecycle is a request to make finished or waiting leads callable again by
// their last disposition.
type ListRecycle struct {
	List         ListID
	Dispositions []string
	// ResetAttempts sets the leads' lifetime attempts to 0 (they count as
	// new); otherwise they keep them, and a lead at the campaign's attempt
	// limit stays finished. Today's attempts are kept either way, so the
	// per-day limit still holds.
	ResetAttempts bool
	At            time.Time
}

// RecyclePreview is what a ListRecycle would change (or changed).
type RecyclePreview struct {
	// Matched is how many leads have one of the dispositions last and are
	// neither dialling, held for a callback nor on DNC.
	Matched int64 `json:"matched"`
	// AtLimit is how many of them have used every attempt: without
	// ResetAttempts they stay finished.
	AtLimit int64 `json:"at_limit"`
	// Callable is how many become callable (now or at their lock-out's end).
	Callable int64 `json:"callable"`
}

const recycleWhere = `l.list_id = $1 AND l.campaign_id = $2 AND l.last_disposition = ANY($3)
	AND l.status IN ('done', 'retry') AND NOT l.dnc`

func (r ListRecycle) check(ctx context.Context, db DB) (ID, error) {
	if len(r.Dispositions) == 0 {
		return 0, errors.New("name at least one disposition to recycle")
	}
	var campaign ID
	var status string
	var deleted *time.Time
	err := db.QueryRow(ctx, `SELECT campaign_id, status, deleted_at FROM lead_lists WHERE id = $1`, r.List).Scan(&campaign, &status, &deleted)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("list %d: %w", r.List, ErrNotFound)
	}
	if err != nil {
		return 0, err
	}
	if deleted != nil {
		return 0, fmt.Errorf("list %d: %w", r.List, ErrListDeleted)
	}
	if status != "ready" {
		return 0, fmt.Errorf("list %d is %s: %w", r.List, status, ErrListBusy)
	}
	return campaign, nil
}

func normalizeCodes(codes []string) []string {
	out := make([]string, 0, len(codes))
	for _, c := range codes {
		if c = strings.ToUpper(strings.TrimSpace(c)); c != "" {
			out = append(out, c)
		}
	}
	return out
}

// PreviewListRecycle counts what RecycleList would change, for the console's
// confirmation.
func PreviewListRecycle(ctx context.Context, db DB, r ListRecycle) (RecyclePreview, error) {
	r.Dispositions = normalizeCodes(r.Dispositions)
	campaign, err := r.check(ctx, db)
	if err != nil {
		return RecyclePreview{}, err
	}
	var p RecyclePreview
	err = db.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE l.attempts >= c.max_attempts)
FROM leads l JOIN campaigns c ON c.id = l.campaign_id WHERE `+recycleWhere, r.List, campaign, r.Dispositions).
		Scan(&p.Matched, &p.AtLimit)
	if err != nil {
		return p, fmt.Errorf("preview recycle of list %d: %w", r.List, err)
	}
	p.Callable = p.Matched
	if !r.ResetAttempts {
		p.Callable -= p.AtLimit
	}
	return p, nil
}

// RecycleList makes the leads of a list whose last disposition is one of
// r.Dispositions callable again: status retry (new if attempts are reset),
// next attempt now, or at the end of an abandon lock-out, which is never
// shortened. Leads being dialled, held for a callback or on DNC are left
// alone; so are their call records. It returns how many leads changed and
// how many of those can now be claimed (the others are at the attempt
// limit). A lead that already used today's attempts is still held by the
// per-day limit until its local midnight (the claim checks it), though it
// counts as callable now meanwhile.
func RecycleList(ctx context.Context, db DB, r ListRecycle) (RecyclePreview, error) {
	r.Dispositions = normalizeCodes(r.Dispositions)
	campaign, err := r.check(ctx, db)
	if err != nil {
		return RecyclePreview{}, err
	}
	var p RecyclePreview
	err = db.QueryRow(ctx, `WITH changed AS (
UPDATE leads l SET
	status = CASE WHEN $4 THEN 'new' ELSE 'retry' END,
	attempts = CASE WHEN $4 THEN 0 ELSE l.attempts END,
	next_attempt_at = GREATEST($5::timestamptz, l.locked_until)
FROM campaigns c WHERE c.id = l.campaign_id AND `+recycleWhere+`
RETURNING l.attempts >= c.max_attempts AS at_limit)
SELECT count(*), count(*) FILTER (WHERE at_limit) FROM changed`,
		r.List, campaign, r.Dispositions, r.ResetAttempts, r.At).Scan(&p.Matched, &p.AtLimit)
	if err != nil {
		return p, fmt.Errorf("recycle list %d: %w", r.List, err)
	}
	p.Callable = p.Matched - p.AtLimit
	return p, nil
}

// ExportedLead is one row of a list's download.
type ExportedLead struct {
	ID              LeadID
	Line            int
	Phone           string
	FirstName       string
	LastName        string
	State           string
	PostalCode      string
	Email           string
	Class           string
	Attempts        int
	LastOutcome     string
	LastDisposition string
	LastAttemptAt   *time.Time
	NextAttemptAt   time.Time
}

// ExportList calls fn for each lead of a list in file order, with its class
// at now. It streams (one query, rows read as they come), so a million
// leads need no more memory than one.
func ExportList(ctx context.Context, db DB, id ListID, now time.Time, fn func(ExportedLead) error) error {
	var campaign ID
	if err := db.QueryRow(ctx, `SELECT campaign_id FROM lead_lists WHERE id = $1`, id).Scan(&campaign); errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("list %d: %w", id, ErrNotFound)
	} else if err != nil {
		return err
	}
	rows, err := db.Query(ctx, `SELECT l.id, l.line, l.phone, l.first_name, l.last_name, l.state, l.postal_code, l.email,
	`+classSQL("$3")+`, l.attempts, l.last_outcome, l.last_disposition, l.last_attempt_at, l.next_attempt_at
FROM leads l JOIN campaigns c ON c.id = l.campaign_id
WHERE l.list_id = $1 AND l.campaign_id = $2 ORDER BY l.line, l.id`, id, campaign, now)
	if err != nil {
		return fmt.Errorf("export list %d: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var e ExportedLead
		if err := rows.Scan(&e.ID, &e.Line, &e.Phone, &e.FirstName, &e.LastName, &e.State, &e.PostalCode, &e.Email,
			&e.Class, &e.Attempts, &e.LastOutcome, &e.LastDisposition, &e.LastAttemptAt, &e.NextAttemptAt); err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}
