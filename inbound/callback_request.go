package inbound

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pacer-dialer/pacer/campaigns"
)

// Callback requests: a caller asked to be called back instead of waiting.
// A request is one of two kinds:
//
//   - manual (the help-desk flow): a person handles it. For AutoAssignFor
//     after it is made it is assigned automatically to available agents of
//     its campaign (the jobs package's sweep, balanced by how many each
//     already holds); after that it is left for someone to take by hand.
//     Whoever calls marks it answered or unanswered, or closes it.
//   - queue: left by a caller waiting in a queue (callback_queue.go). It
//     keeps the caller's place in the queue and is dialled by an agent the
//     router reserves for it when that place reaches the front.
//
// Both move by one state machine, requestTable: (status, event) → status.
// Every step is a row of callback_request_events, written in the same
// transaction as the status it leads to.

// AutoAssignFor is how long after a manual request it is assigned
// automatically.
const AutoAssignFor = 2 * time.Hour

// RequestID identifies a callback request.
type RequestID int64

// RequestKind says who dials a request.
type RequestKind string

// Request kinds.
const (
	KindManual RequestKind = "manual"
	KindQueue  RequestKind = "queue"
)

// RequestStatus is where a callback request is.
type RequestStatus string

// Callback request statuses. pending: waiting (a queue request: for its
// place to reach the front). dialling: a queue request an agent is calling
// now. answered: the caller was reached. unanswered: tried and not reached.
// closed: not needed any more (by hand, expired, on a do-not-call list).
const (
	RequestPending    RequestStatus = "pending"
	RequestDialling   RequestStatus = "dialling"
	RequestAnswered   RequestStatus = "answered"
	RequestUnanswered RequestStatus = "unanswered"
	RequestClosed     RequestStatus = "closed"
)

func (s RequestStatus) String() string { return string(s) }

// Open reports whether the request may still be called.
func (s RequestStatus) Open() bool { return s == RequestPending || s == RequestDialling }

// RequestStatuses lists every status.
func RequestStatuses() []RequestStatus {
	return []RequestStatus{RequestPending, RequestDialling, RequestAnswered, RequestUnanswered, RequestClosed}
}

// RequestEvent is one step of a request's life: a row of
// callback_request_events.
type RequestEvent string

// Request events.
const (
	ReqCreate       RequestEvent = "request"         // a caller asked
	ReqAssign       RequestEvent = "assign"          // given to an agent (manual)
	ReqAdopt        RequestEvent = "adopt"           // its node is gone; another node's router holds it now
	ReqMove         RequestEvent = "move"            // none of its queue's agents works on its node; a node where some do holds it now
	ReqDial         RequestEvent = "dial"            // an agent the router reserved is calling it
	ReqNotPlaced    RequestEvent = "not_placed"      // the call could not be placed now (calling window, the agent left)
	ReqAnswer       RequestEvent = "answer"          // the call reached the caller and an agent
	ReqRetry        RequestEvent = "retry"           // not reached; tried again later, keeping its place
	ReqGiveUp       RequestEvent = "give_up"         // not reached, and its attempts are used up
	ReqRecover      RequestEvent = "recover"         // the node dialling it died before the call was placed
	ReqDNC          RequestEvent = "dnc"             // the number is on a do-not-call list
	ReqRefuse       RequestEvent = "refuse"          // the campaign's rules refuse the number (Detail says which)
	ReqExpire       RequestEvent = "expire"          // its time ran out before it was reached
	ReqMarkAnswered RequestEvent = "mark_answered"   // a person reached the caller (manual)
	ReqMarkNoAnswer RequestEvent = "mark_unanswered" // a person tried and did not (manual)
	ReqClose        RequestEvent = "close"           // a person closed it
	ReqReopen       RequestEvent = "reopen"          // a person opened an unanswered one again
)

// requestTable is the request state machine; anything not listed is
// illegal. It is the documentation: a dialling request ends only by its
// call's outcome (answer, retry, give_up), its placing failing (not_placed,
// dnc, refuse) or its node's death (recover); a person cannot close it
// under a live call.
var requestTable = map[RequestStatus]map[RequestEvent]RequestStatus{
	"": {ReqCreate: RequestPending},
	RequestPending: {
		ReqAssign: RequestPending, ReqAdopt: RequestPending, ReqMove: RequestPending, ReqDial: RequestDialling,
		ReqMarkAnswered: RequestAnswered, ReqMarkNoAnswer: RequestUnanswered, ReqClose: RequestClosed,
		ReqExpire: RequestClosed, ReqDNC: RequestClosed,
	},
	RequestDialling: {
		ReqAnswer: RequestAnswered, ReqRetry: RequestPending, ReqGiveUp: RequestUnanswered,
		ReqNotPlaced: RequestPending, ReqRecover: RequestPending, ReqDNC: RequestClosed, ReqRefuse: RequestClosed,
	},
	RequestUnanswered: {ReqReopen: RequestPending, ReqClose: RequestClosed},
}

// ErrRequestTransition is wrapped when a request cannot move as asked.
var ErrRequestTransition = errors.New("callback request transition not allowed")

// nextRequest is where ev takes a request in status from.
func nextRequest(id RequestID, from RequestStatus, ev RequestEvent) (RequestStatus, error) {
	if to, ok := requestTable[from][ev]; ok {
		return to, nil
	}
	return "", fmt.Errorf("callback request %d: %s in %s: %w", id, ev, from, ErrRequestTransition)
}

// CallbackRequest is a caller's request to be called back.
type CallbackRequest struct {
	ID          RequestID     `json:"id"`
	Kind        RequestKind   `json:"kind"`
	Campaign    campaigns.ID  `json:"campaign_id"`
	Queue       string        `json:"queue"`
	QueueID     QueueID       `json:"queue_id"`
	Phone       string        `json:"phone"`
	Name        string        `json:"name"`
	Notes       string        `json:"notes"`
	Status      RequestStatus `json:"status"`
	RequestedAt time.Time     `json:"requested_at"`
	// AutoUntil ends automatic assignment (manual requests).
	AutoUntil  time.Time  `json:"auto_until"`
	Agent      int64      `json:"agent_id"`
	AssignedAt *time.Time `json:"assigned_at,omitempty"`
	Attempts   int        `json:"attempts"`
	ClosedAt   *time.Time `json:"closed_at,omitempty"`
	ClosedBy   int64      `json:"closed_by"`
	// Queue requests: the caller's place (their first entry in any
	// queue), the node whose router holds it, the earliest next try, when
	// it expires and how many tries it gets.
	Entered     *time.Time `json:"entered_at,omitempty"`
	Node        string     `json:"node,omitempty"`
	NotBefore   *time.Time `json:"not_before,omitempty"`
	Expires     *time.Time `json:"expires_at,omitempty"`
	MaxAttempts int        `json:"max_attempts"`
	// The current or last dial: by which agent of which campaign, to which
	// lead, on which call.
	DialAgent    int64      `json:"dial_agent_id,omitempty"`
	DialCampaign int64      `json:"dial_campaign_id,omitempty"`
	DialLead     int64      `json:"dial_lead_id,omitempty"`
	DialCall     int64      `json:"dial_call_id,omitempty"`
	DialledAt    *time.Time `json:"dialled_at,omitempty"`
}

const requestColumns = `id, kind, coalesce(campaign_id, 0), queue, coalesce(queue_id, 0), phone, name, notes, status,
	requested_at, auto_until, coalesce(agent_id, 0), assigned_at, attempts, closed_at, coalesce(closed_by, 0),
	entered_at, node, not_before, expires_at, max_attempts, coalesce(dial_agent, 0), coalesce(dial_campaign, 0),
	coalesce(dial_lead, 0), coalesce(dial_call, 0), dialled_at`

func scanRequest(row pgx.CollectableRow) (CallbackRequest, error) {
	var r CallbackRequest
	err := row.Scan(&r.ID, &r.Kind, &r.Campaign, &r.Queue, &r.QueueID, &r.Phone, &r.Name, &r.Notes, &r.Status,
		&r.RequestedAt, &r.AutoUntil, &r.Agent, &r.AssignedAt, &r.Attempts, &r.ClosedAt, &r.ClosedBy, &r.Entered,
		&r.Node, &r.NotBefore, &r.Expires, &r.MaxAttempts, &r.DialAgent, &r.DialCampaign, &r.DialLead, &r.DialCall,
		&r.DialledAt)
	return r, err
}

// step is one event applied to one request.
type step struct {
	ID     RequestID
	Event  RequestEvent
	At     time.Time
	Agent  int64  // the agent it concerns, if any
	By     int64  // the user who did it by hand, if any
	Node   string // the node that did it
	Call   int64
	Detail string
}

// apply runs st in tx: it locks the request, checks the transition, runs
// update (given the status it moves to; it must write that status and
// whatever else the step changes) and logs the event. It returns the
// request as it is after.
func (st step) apply(ctx context.Context, tx pgx.Tx, update func(to RequestStatus) (pgx.Rows, error)) (CallbackRequest, error) {
	var from RequestStatus
	err := tx.QueryRow(ctx, `SELECT status FROM callback_requests WHERE id = $1 FOR UPDATE`, st.ID).Scan(&from)
	if errors.Is(err, pgx.ErrNoRows) {
		return CallbackRequest{}, fmt.Errorf("callback request %d: %w", st.ID, ErrNotFound)
	}
	if err != nil {
		return CallbackRequest{}, err
	}
	to, err := nextRequest(st.ID, from, st.Event)
	if err != nil {
		return CallbackRequest{}, err
	}
	rows, err := update(to)
	if err != nil {
		return CallbackRequest{}, err
	}
	out, err := pgx.CollectExactlyOneRow(rows, scanRequest)
	if err != nil {
		return out, err
	}
	return out, st.log(ctx, tx, from, to)
}

func (st step) log(ctx context.Context, tx pgx.Tx, from, to RequestStatus) error {
	_, err := tx.Exec(ctx, `INSERT INTO callback_request_events (request_id, at, event, from_status, to_status,
	agent_id, by_user, node, call_id, detail) VALUES ($1, $2, $3, $4, $5, NULLIF($6::bigint, 0), NULLIF($7::bigint, 0), $8, NULLIF($9::bigint, 0), $10)`,
		st.ID, dbTime(st.At), string(st.Event), string(from), string(to), st.Agent, st.By, st.Node, st.Call, st.Detail)
	if err != nil {
		return fmt.Errorf("log callback request %d %s: %w", st.ID, st.Event, err)
	}
	return nil
}

// run is apply in a transaction of its own.
func (st step) run(ctx context.Context, db TxDB, update func(tx pgx.Tx, to RequestStatus) (pgx.Rows, error)) (CallbackRequest, error) {
	var out CallbackRequest
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		var err error
		out, err = st.apply(ctx, tx, func(to RequestStatus) (pgx.Rows, error) { return update(tx, to) })
		return err
	})
	return out, err
}

// NewRequest is a caller's request to be called back by hand.
type NewRequest struct {
	// Campaign whose agents it is assigned to (0: none, manual only).
	Campaign campaigns.ID
	Queue    string
	// Phone in any form; Region is assumed for a number without a country
	// code (default US).
	Phone, Region string
	Name, Notes   string
	Now           time.Time
}

// normalizeRequest checks a request's number and notes.
func normalizeRequest(phone, region, notes string) (string, error) {
	if region == "" {
		region = "US"
	}
	e164, err := campaigns.NormalizePhone(phone, region)
	if err != nil {
		return "", fmt.Errorf("callback request: %w", err)
	}
	if len(notes) > campaigns.MaxNotes {
		return "", fmt.Errorf("%w: %d characters, at most %d", campaigns.ErrNotesTooLong, len(notes), campaigns.MaxNotes)
	}
	return e164, nil
}

// CreateRequest records a manual callback request.
func CreateRequest(ctx context.Context, db TxDB, p NewRequest) (CallbackRequest, error) {
	phone, err := normalizeRequest(p.Phone, p.Region, p.Notes)
	if err != nil {
		return CallbackRequest{}, err
	}
	return insertRequest(ctx, db, step{Event: ReqCreate, At: p.Now}, `INSERT INTO callback_requests
	(campaign_id, queue, phone, name, notes, requested_at, auto_until)
VALUES (NULLIF($1::bigint, 0), $2, $3, $4, $5, $6, $7) RETURNING `+requestColumns,
		p.Campaign, p.Queue, phone, p.Name, p.Notes, p.Now, p.Now.Add(AutoAssignFor))
}

// insertRequest inserts a request with sql and logs its creation.
func insertRequest(ctx context.Context, db TxDB, st step, sql string, args ...any) (CallbackRequest, error) {
	var out CallbackRequest
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		if out, err = pgx.CollectExactlyOneRow(rows, scanRequest); err != nil {
			return err
		}
		st.ID = out.ID
		return st.log(ctx, tx, "", RequestPending)
	})
	if err != nil {
		return CallbackRequest{}, fmt.Errorf("callback request: %w", err)
	}
	return out, nil
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
	Campaign campaigns.ID
	Agent    int64
	Queue    QueueID
	Statuses []RequestStatus
	Limit    int // default 200
}

// ListRequests lists callback requests, open ones first, oldest first.
func ListRequests(ctx context.Context, db DB, f RequestFilter) ([]CallbackRequest, error) {
	if f.Limit <= 0 {
		f.Limit = 200
	}
	statuses := make([]string, len(f.Statuses))
	for i, s := range f.Statuses {
		statuses[i] = string(s)
	}
	rows, err := db.Query(ctx, "SELECT "+requestColumns+` FROM callback_requests
WHERE ($1::bigint = 0 OR campaign_id = $1 OR dial_campaign = $1) AND ($2::bigint = 0 OR agent_id = $2)
  AND ($3::bigint = 0 OR queue_id = $3) AND (cardinality($4::text[]) = 0 OR status = ANY($4))
ORDER BY status IN ('pending', 'dialling') DESC, coalesce(entered_at, requested_at), id LIMIT $5`,
		f.Campaign, f.Agent, f.Queue, statuses, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("list callback requests: %w", err)
	}
	return pgx.CollectRows(rows, scanRequest)
}

// CountRequests counts a campaign's requests by status (campaign 0: all);
// every status is present.
func CountRequests(ctx context.Context, db DB, campaign campaigns.ID) (map[RequestStatus]int64, error) {
	out := map[RequestStatus]int64{}
	for _, s := range RequestStatuses() {
		out[s] = 0
	}
	rows, err := db.Query(ctx, `SELECT status, count(*) FROM callback_requests
WHERE ($1::bigint = 0 OR campaign_id = $1 OR dial_campaign = $1) GROUP BY 1`, campaign)
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

// handEvents are the events a person causes by setting a status by hand.
var handEvents = map[RequestStatus]RequestEvent{
	RequestAnswered: ReqMarkAnswered, RequestUnanswered: ReqMarkNoAnswer, RequestClosed: ReqClose,
	RequestPending: ReqReopen,
}

// SetRequestStatus moves a request by hand (answered, unanswered, closed, or
// an unanswered one back to pending) on behalf of by. A request being
// dialled cannot be moved: its call decides.
func SetRequestStatus(ctx context.Context, db TxDB, id RequestID, to RequestStatus, by int64, now time.Time) (CallbackRequest, error) {
	ev, ok := handEvents[to]
	if !ok {
		return CallbackRequest{}, fmt.Errorf("callback request %d: cannot be set to %s by hand: %w", id, to, ErrRequestTransition)
	}
	return step{ID: id, Event: ev, At: now, By: by}.run(ctx, db, func(tx pgx.Tx, to RequestStatus) (pgx.Rows, error) {
		attempt := 0
		if ev == ReqMarkAnswered || ev == ReqMarkNoAnswer {
			attempt = 1
		}
		return tx.Query(ctx, `UPDATE callback_requests SET status = $2, attempts = attempts + $3,
	closed_at = CASE WHEN $2 = 'pending' THEN NULL ELSE $4::timestamptz END,
	closed_by = CASE WHEN $2 = 'pending' THEN NULL ELSE NULLIF($5::bigint, 0) END,
	not_before = NULL
WHERE id = $1 RETURNING `+requestColumns, id, string(to), attempt, now, by)
	})
}

// AssignRequest gives a pending request to an agent (by hand, or by the
// automatic assignment).
func AssignRequest(ctx context.Context, db TxDB, id RequestID, agent int64, now time.Time) (CallbackRequest, error) {
	return step{ID: id, Event: ReqAssign, At: now, Agent: agent}.run(ctx, db, func(tx pgx.Tx, to RequestStatus) (pgx.Rows, error) {
		return tx.Query(ctx, `UPDATE callback_requests SET agent_id = $2, assigned_at = $3
WHERE id = $1 RETURNING `+requestColumns, id, agent, now)
	})
}

// AutoAssign assigns a campaign's pending manual requests that are still
// inside their automatic period and held by no available agent: each goes
// to the available agent holding the fewest pending requests. available are
// the agents who may take one now (READY, in order of preference); loggedIn
// are all the campaign's agents logged in, whose requests stay theirs. It
// returns how many it assigned.
func AutoAssign(ctx context.Context, db TxDB, campaign campaigns.ID, available, loggedIn []int64, now time.Time) (int, error) {
	if len(available) == 0 {
		return 0, nil
	}
	if loggedIn == nil {
		loggedIn = []int64{}
	}
	n := 0
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id FROM callback_requests
WHERE campaign_id = $1 AND kind = 'manual' AND status = 'pending' AND auto_until > $2
  AND (agent_id IS NULL OR NOT agent_id = ANY($3))
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
			if _, err := (step{ID: id, Event: ReqAssign, At: now, Agent: best}).apply(ctx, tx,
				func(RequestStatus) (pgx.Rows, error) {
					return tx.Query(ctx, `UPDATE callback_requests SET agent_id = $2, assigned_at = $3
WHERE id = $1 RETURNING `+requestColumns, id, best, now)
				}); err != nil {
				return err
			}
			load[best]++
			n++
		}
		return nil
	})
	return n, err
}

// AutoAssignCampaigns lists the campaigns with pending manual requests still
// inside their automatic period.
func AutoAssignCampaigns(ctx context.Context, db DB, now time.Time) ([]campaigns.ID, error) {
	rows, err := db.Query(ctx, `SELECT DISTINCT campaign_id FROM callback_requests
WHERE kind = 'manual' AND status = 'pending' AND auto_until > $1 AND campaign_id IS NOT NULL`, now)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[campaigns.ID])
}

// RequestLogEntry is one row of a request's event log.
type RequestLogEntry struct {
	Seq    int64         `json:"seq"`
	At     time.Time     `json:"at"`
	Event  RequestEvent  `json:"event"`
	From   RequestStatus `json:"from"`
	To     RequestStatus `json:"to"`
	Agent  int64         `json:"agent_id,omitempty"`
	By     int64         `json:"by_user,omitempty"`
	Node   string        `json:"node,omitempty"`
	Call   int64         `json:"call_id,omitempty"`
	Detail string        `json:"detail,omitempty"`
}

// RequestLog is a request's event log, in order.
func RequestLog(ctx context.Context, db DB, id RequestID) ([]RequestLogEntry, error) {
	rows, err := db.Query(ctx, `SELECT seq, at, event, from_status, to_status, coalesce(agent_id, 0), coalesce(by_user, 0),
	node, coalesce(call_id, 0), detail FROM callback_request_events WHERE request_id = $1 ORDER BY seq`, id)
	if err != nil {
		return nil, fmt.Errorf("callback request %d log: %w", id, err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (RequestLogEntry, error) {
		var e RequestLogEntry
		err := row.Scan(&e.Seq, &e.At, &e.Event, &e.From, &e.To, &e.Agent, &e.By, &e.Node, &e.Call, &e.Detail)
		return e, err
	})
}
