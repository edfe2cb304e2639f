package campaigns

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Callback requests: an inbound caller asked to be called back (the help-desk
// flow; the inbound engine creates them). A request is pending until someone
// answers it (reached the caller), marks it unanswered (tried, no answer) or
// closes it (not needed any more). For AutoAssignFor after it is made it is
// assigned automatically to available agents of its campaign (the jobs
// package's sweep, balanced by how many each already holds); after that it
// is left for someone to take by hand.

// AutoAssignFor is how long after a request it is assigned automatically.
const AutoAssignFor = 2 * time.Hour

// RequestID identifies a callback request.
type RequestID int64

// RequestStatus is where a callback request is.
type RequestStatus string

// Callback request statuses.
const (
	RequestPending    RequestStatus = "pending"
	RequestAnswered   RequestStatus = "answered"
	RequestUnanswered RequestStatus = "unanswered"
	RequestClosed     RequestStatus = "closed"
)

func (s RequestStatus) String() string { return string(s) }

// RequestStatuses lists every status.
func RequestStatuses() []RequestStatus {
	return []RequestStatus{RequestPending, RequestAnswered, RequestUnanswered, RequestClosed}
}

// requestTable: a pending request ends one of three ways; an unanswered one
// can be tried again (pending) or closed. Answered and closed are final.
var requestTable = map[RequestStatus][]RequestStatus{
	RequestPending:    {RequestAnswered, RequestUnanswered, RequestClosed},
	RequestUnanswered: {RequestPending, RequestClosed},
}

// ErrRequestTransition is wrapped when a request cannot move as asked.
var ErrRequestTransition = errors.New("callback request transition not allowed")

func requestTransition(id RequestID, from, to RequestStatus) error {
	for _, s := range requestTable[from] {
		if s == to {
			return nil
		}
	}
	return fmt.Errorf("callback request %d: %s → %s: %w", id, from, to, ErrRequestTransition)
}

// CallbackRequest is an inbound caller's request to be called back.
type CallbackRequest struct {
	ID          RequestID     `json:"id"`
	Campaign    ID            `json:"campaign_id"`
	Queue       string        `json:"queue"`
	Phone       string        `json:"phone"`
	Name        string        `json:"name"`
	Notes       string        `json:"notes"`
	Status      RequestStatus `json:"status"`
	RequestedAt time.Time     `json:"requested_at"`
	// AutoUntil ends automatic assignment.
	AutoUntil  time.Time  `json:"auto_until"`
	Agent      int64      `json:"agent_id"`
	AssignedAt *time.Time `json:"assigned_at,omitempty"`
	Attempts   int        `json:"attempts"`
	ClosedAt   *time.Time `json:"closed_at,omitempty"`
	ClosedBy   int64      `json:"closed_by"`
}

const requestColumns = `id, coalesce(campaign_id, 0), queue, phone, name, notes, status, requested_at, auto_until,
	coalesce(agent_id, 0), assigned_at, attempts, closed_at, coalesce(closed_by, 0)`

func scanRequest(row pgx.CollectableRow) (CallbackRequest, error) {
	var r CallbackRequest
	err := row.Scan(&r.ID, &r.Campaign, &r.Queue, &r.Phone, &r.Name, &r.Notes, &r.Status, &r.RequestedAt,
		&r.AutoUntil, &r.Agent, &r.AssignedAt, &r.Attempts, &r.ClosedAt, &r.ClosedBy)
	return r, err
}

// NewRequest is a caller's request to be called back.
type NewRequest struct {
	// Campaign whose agents it is assigned to (0: none, manual only).
	Campaign ID
	Queue    string
	// Phone in any form; Region is assumed for a number without a country
	// code (default US).
	Phone, Region string
	Name, Notes   string
	Now           time.Time
}

// CreateRequest records a callback request.
func CreateRequest(ctx context.Context, db DB, p NewRequest) (CallbackRequest, error) {
	if p.Region == "" {
		p.Region = "US"
	}
	phone, err := NormalizePhone(p.Phone, p.Region)
	if err != nil {
		return CallbackRequest{}, fmt.Errorf("callback request: %w", err)
	}
	if len(p.Notes) > MaxNotes {
		return CallbackRequest{}, fmt.Errorf("%w: %d characters, at most %d", ErrNotesTooLong, len(p.Notes), MaxNotes)
	}
	rows, err := db.Query(ctx, `INSERT INTO callback_requests (campaign_id, queue, phone, name, notes, requested_at, auto_until)
VALUES (NULLIF($1, 0), $2, $3, $4, $5, $6, $7) RETURNING `+requestColumns,
		p.Campaign, p.Queue, phone, p.Name, p.Notes, p.Now, p.Now.Add(AutoAssignFor))
	if err != nil {
		return CallbackRequest{}, fmt.Errorf("callback request: %w", err)
	}
	return pgx.CollectExactlyOneRow(rows, scanRequest)
}

// GetRequest returns one callback request.
func GetRequest(ctx context.Context, db DB, id RequestID) (CallbackRequest, error) {
	rows, err := db.Query(ctx, "SELECT "+requestColumns+" FROM callback_requests WHERE id = $1", id)
	if err != nil {
		return CallbackRequest{}, err
	}
	r, err := pgx.CollectExactlyOneRow(rows, scanRequest)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, fmt.Errorf("callback request %d: %w", id, ErrNotFound)
	}
	return r, err
}

// RequestFilter selects requests; zero fields do not filter.
type RequestFilter struct {
	Campaign ID
	Agent    int64
	Statuses []RequestStatus
	Limit    int // default 200
}

// ListRequests lists callback requests, oldest pending first.
func ListRequests(ctx context.Context, db DB, f RequestFilter) ([]CallbackRequest, error) {
	if f.Limit <= 0 {
		f.Limit = 200
	}
	statuses := make([]string, len(f.Statuses))
	for i, s := range f.Statuses {
		statuses[i] = string(s)
	}
	rows, err := db.Query(ctx, "SELECT "+requestColumns+` FROM callback_requests
WHERE ($1::bigint = 0 OR campaign_id = $1) AND ($2::bigint = 0 OR agent_id = $2)
  AND (cardinality($3::text[]) = 0 OR status = ANY($3))
ORDER BY status = 'pending' DESC, requested_at, id LIMIT $4`, f.Campaign, f.Agent, statuses, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("list callback requests: %w", err)
	}
	return pgx.CollectRows(rows, scanRequest)
}

// CountRequests counts a campaign's requests by status (campaign 0: all);
// every status is present.
func CountRequests(ctx context.Context, db DB, campaign ID) (map[RequestStatus]int64, error) {
	out := map[RequestStatus]int64{}
	for _, s := range RequestStatuses() {
		out[s] = 0
	}
	rows, err := db.Query(ctx, `SELECT status, count(*) FROM callback_requests WHERE ($1::bigint = 0 OR campaign_id = $1) GROUP BY 1`, campaign)
	if err != nil {
		return nil, fmt.Errorf("count callback requests: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s RequestStatus
		var n int64
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[s] = n
	}
	return out, rows.Err()
}

// SetRequestStatus moves a request (answered, unanswered, closed, or an
// unanswered one back to pending) on behalf of by.
func SetRequestStatus(ctx context.Context, db TxDB, id RequestID, to RequestStatus, by int64, now time.Time) (CallbackRequest, error) {
	var out CallbackRequest
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		var from RequestStatus
		err := tx.QueryRow(ctx, `SELECT status FROM callback_requests WHERE id = $1 FOR UPDATE`, id).Scan(&from)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("callback request %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if err := requestTransition(id, from, to); err != nil {
			return err
		}
		attempt := 0
		if to == RequestAnswered || to == RequestUnanswered {
			attempt = 1
		}
		rows, err := tx.Query(ctx, `UPDATE callback_requests SET status = $2, attempts = attempts + $3,
	closed_at = CASE WHEN $2 = 'pending' THEN NULL ELSE $4::timestamptz END,
	closed_by = CASE WHEN $2 = 'pending' THEN NULL ELSE NULLIF($5, 0) END
WHERE id = $1 RETURNING `+requestColumns, id, string(to), attempt, now, by)
		if err != nil {
			return err
		}
		out, err = pgx.CollectExactlyOneRow(rows, scanRequest)
		return err
	})
	return out, err
}

// AssignRequest gives a pending request to an agent (by hand, or by the
// automatic assignment).
func AssignRequest(ctx context.Context, db DB, id RequestID, agent int64, now time.Time) (CallbackRequest, error) {
	rows, err := db.Query(ctx, `UPDATE callback_requests SET agent_id = $2, assigned_at = $3
WHERE id = $1 AND status = 'pending' RETURNING `+requestColumns, id, agent, now)
	if err != nil {
		return CallbackRequest{}, err
	}
	r, err := pgx.CollectExactlyOneRow(rows, scanRequest)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, fmt.Errorf("callback request %d is not pending: %w", id, ErrRequestTransition)
	}
	return r, err
}

// AutoAssign assigns a campaign's pending requests that are still inside
// their automatic period and held by no available agent: each goes to the
// available agent holding the fewest pending requests. available are the
// agents who may take one now (READY, in order of preference); loggedIn are
// all the campaign's agents logged in, whose requests stay theirs. It
// returns how many it assigned.
func AutoAssign(ctx context.Context, db TxDB, campaign ID, available, loggedIn []int64, now time.Time) (int, error) {
	if len(available) == 0 {
		return 0, nil
	}
	if loggedIn == nil {
		loggedIn = []int64{}
	}
	n := 0
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id FROM callback_requests
WHERE campaign_id = $1 AND status = 'pending' AND auto_until > $2 AND (agent_id IS NULL OR NOT agent_id = ANY($3))
ORDER BY requested_at, id FOR UPDATE SKIP LOCKED`, campaign, now, loggedIn)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[RequestID])
		if err != nil || len(ids) == 0 {
			return err
		}
		load := map[int64]int{}
		rows, err = tx.Query(ctx, `SELECT agent_id, count(*) FROM callback_requests
WHERE status = 'pending' AND agent_id = ANY($1) GROUP BY 1`, available)
		if err != nil {
			return err
		}
		for rows.Next() {
			var a int64
			var c int
			if err := rows.Scan(&a, &c); err != nil {
				rows.Close()
				return err
			}
			load[a] = c
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range ids {
			best := available[0]
			for _, a := range available[1:] {
				if load[a] < load[best] {
					best = a
				}
			}
			if _, err := AssignRequest(ctx, tx, id, best, now); err != nil {
				return err
			}
			load[best]++
			n++
		}
		return nil
	})
	return n, err
}

// AutoAssignCampaigns lists the campaigns with pending requests still inside
// their automatic period.
func AutoAssignCampaigns(ctx context.Context, db DB, now time.Time) ([]ID, error) {
	rows, err := db.Query(ctx, `SELECT DISTINCT campaign_id FROM callback_requests
WHERE status = 'pending' AND auto_until > $1 AND campaign_id IS NOT NULL`, now)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[ID])
}
