package campaigns

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// LeadID identifies a lead.
type LeadID int64

// ClaimedLead is a lead reserved for dialling by Claim.
type ClaimedLead struct {
	ID       LeadID `json:"id"`
	Phone    string `json:"phone"`
	Attempts int    `json:"attempts"`
	Priority int    `json:"priority"`
	next     time.Time
	list     ListID
	line     int
}

// Outcome is how a dial attempt ended, as the engine saw it.
type Outcome string

// Attempt outcomes.
const (
	// OutcomeCompleted: a person was connected to an agent; the agent's
	// disposition decides what happens to the lead.
	OutcomeCompleted Outcome = "completed"
	OutcomeNoAnswer  Outcome = "no_answer"
	OutcomeBusy      Outcome = "busy"
	OutcomeMachine   Outcome = "machine"
	OutcomeAbandoned Outcome = "abandoned"
	OutcomeFailed    Outcome = "failed"
	// OutcomeInvalid: the carrier says the number does not exist; final.
	OutcomeInvalid Outcome = "invalid"
)

// systemDisposition is the disposition an outcome gets when no agent gives one.
func (o Outcome) systemDisposition() string {
	switch o {
	case OutcomeNoAnswer:
		return DispoNoAnswer
	case OutcomeBusy:
		return DispoBusy
	case OutcomeMachine:
		return DispoMachine
	case OutcomeAbandoned:
		return DispoDrop
	case OutcomeFailed, OutcomeInvalid:
		return DispoFail
	}
	return ""
}

// Hopper hands out leads to dial. It caches the calling-window groups (an
// immutable id → zones+states table that imports only ever append to), so a
// claim decides which groups are open in Go without a scan.
type Hopper struct {
	node  string
	epoch atomic.Int64

	mu     sync.Mutex
	groups map[int32]tzGroup
	maxID  int32
}

type tzGroup struct {
	zones, states []string
	// complete is false for a group made before migration 0012, which holds
	// its address's zones only: never open (CompleteLeadGroups moves its
	// leads out).
	complete bool
}

// NewHopper returns a hopper whose claims are recorded as made by node.
func NewHopper(node string) *Hopper {
	return &Hopper{node: node, groups: map[int32]tzGroup{}}
}

// SetEpoch fences the hopper's claims with the campaign lease node holds
// at epoch (dialer's campaign_leases, DESIGN.md §7): a claim is refused,
// returning no leads, unless that lease is the campaign's current one and
// has not expired by the database's clock. Epoch 0 (the default) claims
// without a lease: tests and tools that run no cluster.
func (h *Hopper) SetEpoch(epoch int64) { h.epoch.Store(epoch) }

// refreshGroupsLocked loads groups added since the last call.
func (h *Hopper) refreshGroupsLocked(ctx context.Context, db DB) error {
	rows, err := db.Query(ctx, "SELECT id, zones, states, complete FROM tz_groups WHERE id > $1", h.maxID)
	if err != nil {
		return fmt.Errorf("load calling-window groups: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int32
		var g tzGroup
		if err := rows.Scan(&id, &g.zones, &g.states, &g.complete); err != nil {
			return err
		}
		h.groups[id] = g
		h.maxID = max(h.maxID, id)
	}
	return rows.Err()
}

// openGroups returns the groups inside the window at now, and the earliest
// local date among them (for the per-day attempt limit).
func (h *Hopper) openGroups(ctx context.Context, db DB, w Window, now time.Time) ([]int32, time.Time, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.refreshGroupsLocked(ctx, db); err != nil {
		return nil, time.Time{}, err
	}
	var open []int32
	var minDay time.Time
	for id, g := range h.groups {
		if !g.complete || !w.AllowedIn(now, g.zones, g.states) {
			continue
		}
		open = append(open, id)
		if d := localDate(now, g.zones); minDay.IsZero() || d.Before(minDay) {
			minDay = d
		}
	}
	return open, minDay, nil
}

// localDate is the calendar date at now in the first of zones, as a UTC
// midnight for comparison with a date column.
func localDate(now time.Time, zones []string) time.Time {
	loc := time.UTC
	if len(zones) > 0 {
		if l, err := loadLocation(zones[0]); err == nil {
			loc = l
		}
	}
	y, m, d := now.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// The claim: every rule a lead must pass to be dialled now, checked in one
// statement that locks what it takes and skips what another claimer holds.
// DNC is checked against the lists themselves, not only the lead's flag, so
// a number added a moment ago is never claimed.
const claimSQL = `
WITH picked AS (
	SELECT l.id FROM leads l
	WHERE l.campaign_id = $1
	  AND l.status IN ('new', 'retry') AND NOT l.dnc
	  AND l.next_attempt_at <= $2
	  AND l.tz_group = ANY($3)
	  AND l.attempts < $4
	  AND (l.attempts_today < $5 OR l.attempts_day IS NULL OR l.attempts_day < $6)
	  AND (l.locked_until IS NULL OR l.locked_until <= $2)
	  AND NOT EXISTS (SELECT 1 FROM dnc d WHERE d.campaign_id IS NULL AND d.phone = l.phone)
	  AND NOT EXISTS (SELECT 1 FROM dnc d WHERE d.campaign_id = $1 AND d.phone = l.phone)
	  AND EXISTS (SELECT 1 FROM campaigns c WHERE c.id = $1 AND c.status = 'active')
	  AND ($9::bigint = 0 OR EXISTS (SELECT 1 FROM campaign_leases cl
	       WHERE cl.campaign_id = $1 AND cl.node_id = $8 AND cl.epoch = $9 AND cl.expires_at > now()))
	ORDER BY l.priority DESC, l.next_attempt_at, l.list_id, l.line, l.id
	LIMIT $7
	FOR UPDATE OF l SKIP LOCKED
)
UPDATE leads l SET status = 'dialing', claimed_at = $2, claimed_by = $8
FROM picked WHERE l.id = picked.id AND l.campaign_id = $1
RETURNING l.id, l.phone, l.attempts, l.priority, l.next_attempt_at, l.list_id, l.line`

// Claim returns up to n leads of an active campaign that may be dialled at
// now, and marks them dialing. Order: priority, then the lead whose next
// attempt fell due first, then the oldest list, in file order. A campaign
// with random lead order gets random next-attempt instants in the epoch's
// first second at import, so its new leads come out at random while retries
// still go oldest-due first.
// Only the campaign's own lists are read (each list partition's CHECK on
// campaign_id rules out the others when the statement is planned; small
// lists share leads_shared, read through its campaign_id index). Concurrent
// claimers (other loops, other nodes) never receive the same lead.
func (h *Hopper) Claim(ctx context.Context, db DB, c *Campaign, n int, now time.Time) ([]ClaimedLead, error) {
	if n <= 0 {
		return nil, nil
	}
	w, err := c.Window()
	if err != nil {
		return nil, fmt.Errorf("campaign %d window: %w", c.ID, err)
	}
	open, minDay, err := h.openGroups(ctx, db, w, now)
	if err != nil || len(open) == 0 {
		return nil, err
	}
	rows, err := db.Query(ctx, claimSQL, c.ID, now, open, c.MaxAttempts, c.MaxAttemptsPerDay, minDay, n, h.node,
		h.epoch.Load())
	if err != nil {
		return nil, fmt.Errorf("claim leads for campaign %d: %w", c.ID, err)
	}
	leads, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ClaimedLead, error) {
		var l ClaimedLead
		err := row.Scan(&l.ID, &l.Phone, &l.Attempts, &l.Priority, &l.next, &l.list, &l.line)
		return l, err
	})
	if err != nil {
		return nil, fmt.Errorf("claim leads for campaign %d: %w", c.ID, err)
	}
	// UPDATE … RETURNING does not keep the CTE's order.
	sort.Slice(leads, func(i, j int) bool {
		a, b := leads[i], leads[j]
		if a.Priority != b.Priority {
			return a.Priority > b.Priority
		}
		if !a.next.Equal(b.next) {
			return a.next.Before(b.next)
		}
		if a.list != b.list {
			return a.list < b.list
		}
		if a.line != b.line {
			return a.line < b.line
		}
		return a.ID < b.ID
	})
	return leads, nil
}

// Release returns a claimed lead to the pool without counting an attempt
// (a preview the agent skipped, a claim the engine could not use).
func Release(ctx context.Context, db DB, id LeadID) error {
	tag, err := db.Exec(ctx, `UPDATE leads SET status = CASE WHEN attempts = 0 THEN 'new' ELSE 'retry' END,
		claimed_at = NULL, claimed_by = '' WHERE id = $1 AND status = 'dialing'`, id)
	if err != nil {
		return fmt.Errorf("release lead %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("release lead %d: not claimed: %w", id, ErrNotFound)
	}
	return nil
}

// Attempt is the result of dialling a claimed lead.
type Attempt struct {
	Lead    LeadID
	Outcome Outcome
	// Disposition is the agent's code; empty takes the outcome's system
	// disposition (NA, B, AA, DROP, FAIL).
	Disposition string
	At          time.Time
	// Node, when set, is the node that claimed the lead: an attempt from a
	// node whose claim is gone (it was declared dead, its work recovered and
	// the lead claimed again) is refused with ErrNotClaimed.
	Node string
	// Callbacks queues the job of a callback the attempt keeps open (its
	// dial did not reach the person); nil leaves it to the callback sweep.
	Callbacks CallbackJobs
}

// ErrNotClaimed is returned when completing a lead that is not being dialled.
var ErrNotClaimed = errors.New("lead is not claimed")

// Complete records an attempt: counts it (lifetime and per local day), applies
// the disposition (final, recycle, DNC) and the campaign's retry rules, and
// either schedules the next attempt or finishes the lead. An abandoned call
// locks the number out for the campaign's lock-out period (72 h under UK rules).
func Complete(ctx context.Context, db TxDB, c *Campaign, a Attempt) error {
	return pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error { return complete(ctx, tx, c, a) })
}

// CompleteTx is Complete inside the caller's transaction (recovery closes a
// dead node's calls and counts their attempts in one).
func CompleteTx(ctx context.Context, tx pgx.Tx, c *Campaign, a Attempt) error {
	return complete(ctx, tx, c, a)
}

func complete(ctx context.Context, tx pgx.Tx, c *Campaign, a Attempt) error {
	var (
		phone, state, status, by string
		zones                    []string
		attempts, today          int
		day                      *time.Time
		lockedUntil              *time.Time
	)
	err := tx.QueryRow(ctx, `
SELECT l.phone, l.state, l.status, l.claimed_by, g.zones, l.attempts, l.attempts_today, l.attempts_day, l.locked_until
FROM leads l JOIN tz_groups g ON g.id = l.tz_group
WHERE l.id = $1 AND l.campaign_id = $2 FOR UPDATE OF l`, a.Lead, c.ID).Scan(
		&phone, &state, &status, &by, &zones, &attempts, &today, &day, &lockedUntil)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("complete lead %d: %w", a.Lead, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("complete lead %d: %w", a.Lead, err)
	}
	if status != "dialing" {
		return fmt.Errorf("complete lead %d (status %s): %w", a.Lead, status, ErrNotClaimed)
	}
	if a.Node != "" && by != a.Node {
		return fmt.Errorf("complete lead %d for node %s (claimed by %q): %w", a.Lead, a.Node, by, ErrNotClaimed)
	}

	code := a.Disposition
	if code == "" {
		code = a.Outcome.systemDisposition()
	}
	if code == "" {
		return fmt.Errorf("complete lead %d: outcome %q needs a disposition", a.Lead, a.Outcome)
	}
	d, err := GetDisposition(ctx, tx, c.ID, code)
	if err != nil {
		return fmt.Errorf("complete lead %d: %w", a.Lead, err)
	}

	attempts++
	localDay := localDate(a.At, zones)
	if day != nil && day.Equal(localDay) {
		today++
	} else {
		today = 1
	}

	done := d.Final || a.Outcome == OutcomeInvalid || attempts >= c.MaxAttempts
	next := a.At.Add(retryDelay(c, a.Outcome, d))
	if a.Outcome == OutcomeAbandoned && c.AbandonLockoutS > 0 {
		until := a.At.Add(time.Duration(c.AbandonLockoutS) * time.Second)
		lockedUntil = &until
		if next.Before(until) {
			next = until
		}
	}
	if today >= c.MaxAttemptsPerDay {
		if tomorrow := nextLocalMidnight(a.At, zones); next.Before(tomorrow) {
			next = tomorrow
		}
	}
	if d.Category == CategoryDNC {
		if _, err := tx.Exec(ctx, `INSERT INTO dnc (campaign_id, phone, source) VALUES ($1, $2, 'disposition') ON CONFLICT DO NOTHING`,
			c.ID, phone); err != nil {
			return fmt.Errorf("add lead %d to DNC: %w", a.Lead, err)
		}
		done = true
	}
	newStatus := "retry"
	if done {
		newStatus = "done"
	}
	_, err = tx.Exec(ctx, `
UPDATE leads SET status = $2, attempts = $3, attempts_day = $4, attempts_today = $5, next_attempt_at = $6,
	locked_until = $7, claimed_at = NULL, claimed_by = '', last_outcome = $8, last_disposition = $9,
	last_attempt_at = $10, dnc = dnc OR $11
WHERE id = $1`, a.Lead, newStatus, attempts, localDay, today, next, lockedUntil, string(a.Outcome), code, a.At,
		d.Category == CategoryDNC)
	if err != nil {
		return fmt.Errorf("complete lead %d: %w", a.Lead, err)
	}
	if err := settleCallbacks(ctx, tx, c, a, done, next); err != nil {
		return fmt.Errorf("complete lead %d: %w", a.Lead, err)
	}
	return nil
}

// retryDelay is how long a non-final lead waits: the disposition's own
// recycle time, else the campaign's delay for the outcome.
func retryDelay(c *Campaign, o Outcome, d Disposition) time.Duration {
	if d.RecycleAfterS > 0 {
		return time.Duration(d.RecycleAfterS) * time.Second
	}
	s := c.RetryNoAnswerS
	switch {
	case o == OutcomeBusy:
		s = c.RetryBusyS
	case o == OutcomeMachine || d.Category == CategoryMachine:
		s = c.RetryMachineS
	case o == OutcomeAbandoned:
		s = c.RetryAbandonedS
	case o == OutcomeFailed:
		s = c.RetryFailedS
	}
	return time.Duration(s) * time.Second
}

// nextLocalMidnight is the first instant after at when every zone has
// reached its next calendar day.
func nextLocalMidnight(at time.Time, zones []string) time.Time {
	var latest time.Time
	for _, z := range zones {
		loc, err := loadLocation(z)
		if err != nil {
			loc = time.UTC
		}
		t := at.In(loc)
		m := time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, loc)
		if m.After(latest) {
			latest = m
		}
	}
	if latest.IsZero() {
		latest = at.Add(24 * time.Hour)
	}
	return latest
}
