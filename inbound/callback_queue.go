package inbound

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Queue callbacks: a caller waiting in a queue leaves a request instead of
// waiting on (the API, the simulated carrier, or the queue's callback
// action). The request keeps the caller's place (entered_at, their first
// entry in any queue): the router holding it (the node column's) sorts it
// among the callers by the same key, and when it comes first for a free
// member the member is offered it like a call. Accepting dials it; the
// call's outcome settles it (SettleRequests): reached, or tried again
// after the queue's retry time until its attempts are used up, or expired.
// Only a pending request can be claimed for a dial (ClaimRequest moves it
// to dialling under its row lock), so it is never dialled twice at once,
// whichever nodes try.

// Callbacks are a queue's rules for callback requests.
type Callbacks struct {
	// Allow lets callers waiting in the queue leave a request (the
	// queue's callback action makes one whatever this says).
	Allow bool
	// Attempts is how many times a request is dialled (default 3, 1-10).
	Attempts int
	// RetryAfter is how long after a try that did not reach the caller
	// it is tried again (default 5 min, 1 min to 24 h).
	RetryAfter time.Duration
	// ExpireAfter is how long after it was left a request is given up
	// (default 8 h, 10 min to 7 days).
	ExpireAfter time.Duration
}

// Callback defaults and bounds.
const (
	DefaultCallbackAttempts = 3
	DefaultCallbackRetry    = 5 * time.Minute
	DefaultCallbackExpire   = 8 * time.Hour
)

// placeGrace is how long a live node may hold a request in dialling with
// no call placed before SettleRequests takes it back: placing a call takes
// a few database round trips, far less.
const placeGrace = 2 * time.Minute

// ErrRequestTaken is wrapped by ClaimRequest's error when the request is
// not pending: another agent is dialling it, or it was settled.
var ErrRequestTaken = errors.New("callback request is not waiting to be dialled")

// LeftRequest is a caller leaving a queue for a callback.
type LeftRequest struct {
	Queue Queue
	// Phone is the number to call back (E.164, or in Region's national
	// form); Name and Notes are shown to the agent.
	Phone, Region, Name, Notes string
	// Entered is the caller's place: their first entry in any queue.
	Entered time.Time
	// Node is the node whose router holds the request.
	Node string
	Now  time.Time
}

// CreateQueueRequest records a queue callback request.
func CreateQueueRequest(ctx context.Context, db TxDB, p LeftRequest) (CallbackRequest, error) {
	phone, err := normalizeRequest(p.Phone, p.Region, p.Notes)
	if err != nil {
		return CallbackRequest{}, err
	}
	cb := p.Queue.Callbacks.withDefaults()
	if p.Entered.IsZero() || p.Entered.After(p.Now) {
		p.Entered = p.Now
	}
	return insertRequest(ctx, db, step{Event: ReqCreate, At: p.Now, Node: p.Node}, `INSERT INTO callback_requests
	(kind, queue_id, queue, phone, name, notes, requested_at, auto_until, entered_at, node, expires_at, max_attempts)
VALUES ('queue', $1, $2, $3, $4, $5, $6, $6, $7, $8, $9, $10) RETURNING `+requestColumns,
		int64(p.Queue.ID), p.Queue.Name, phone, p.Name, p.Notes, dbTime(p.Now), dbTime(p.Entered), p.Node,
		dbTime(p.Now.Add(cb.ExpireAfter)), cb.Attempts)
}

func (c Callbacks) withDefaults() Callbacks {
	if c.Attempts <= 0 {
		c.Attempts = DefaultCallbackAttempts
	}
	if c.RetryAfter <= 0 {
		c.RetryAfter = DefaultCallbackRetry
	}
	if c.ExpireAfter <= 0 {
		c.ExpireAfter = DefaultCallbackExpire
	}
	return c
}

// HeldRequests lists the open queue requests node's router holds, oldest
// place first.
func HeldRequests(ctx context.Context, db DB, node string) ([]CallbackRequest, error) {
	rows, err := db.Query(ctx, "SELECT "+requestColumns+` FROM callback_requests
WHERE kind = 'queue' AND status IN ('pending', 'dialling') AND node = $1 ORDER BY entered_at, id`, node)
	if err != nil {
		return nil, fmt.Errorf("held callback requests: %w", err)
	}
	return pgx.CollectRows(rows, scanRequest)
}

// Dial is an agent starting to call a queue request back.
type Dial struct {
	Request  RequestID
	Agent    int64
	Campaign int64
	Node     string
	Now      time.Time
}

// ClaimRequest moves a pending queue request to dialling for d's agent. It
// fails, wrapping ErrRequestTaken, when the request is not pending (being
// dialled by someone else, settled, expired) or not due yet.
func ClaimRequest(ctx context.Context, db TxDB, d Dial) (CallbackRequest, error) {
	st := step{ID: d.Request, Event: ReqDial, At: d.Now, Agent: d.Agent, Node: d.Node}
	out, err := st.run(ctx, db, func(tx pgx.Tx, to RequestStatus) (pgx.Rows, error) {
		return tx.Query(ctx, `UPDATE callback_requests SET status = $2, dial_agent = $3, dial_campaign = $4,
	dial_lead = NULL, dial_call = NULL, dialled_at = $5, node = $6
WHERE id = $1 AND kind = 'queue' AND expires_at > $5 AND (not_before IS NULL OR not_before <= $5)
RETURNING `+requestColumns, d.Request, string(to), d.Agent, d.Campaign, dbTime(d.Now), d.Node)
	})
	switch {
	case errors.Is(err, ErrRequestTransition), errors.Is(err, pgx.ErrNoRows):
		return out, fmt.Errorf("callback request %d: %w", d.Request, ErrRequestTaken)
	case err != nil:
		return out, fmt.Errorf("claim callback request %d: %w", d.Request, err)
	}
	return out, nil
}

// RequestPlaced records the call and lead of a request's dial.
func RequestPlaced(ctx context.Context, db DB, id RequestID, lead, call int64) error {
	tag, err := db.Exec(ctx, `UPDATE callback_requests SET dial_lead = NULLIF($2::bigint, 0), dial_call = $3
WHERE id = $1 AND status = 'dialling'`, id, lead, call)
	if err != nil {
		return fmt.Errorf("callback request %d placed: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("callback request %d placed: %w", id, ErrRequestTaken)
	}
	return nil
}

// RequestNotPlaced settles a dialling request whose call was not placed:
// ReqNotPlaced puts it back (due again at notBefore, if set), ReqDNC and
// ReqRefuse close it; detail says why.
func RequestNotPlaced(ctx context.Context, db TxDB, id RequestID, ev RequestEvent, detail string, notBefore time.Time,
	node string, now time.Time) (CallbackRequest, error) {
	var nb *time.Time
	if !notBefore.IsZero() {
		t := dbTime(notBefore)
		nb = &t
	}
	return step{ID: id, Event: ev, At: now, Node: node, Detail: detail}.run(ctx, db,
		func(tx pgx.Tx, to RequestStatus) (pgx.Rows, error) {
			return tx.Query(ctx, `UPDATE callback_requests SET status = $2, not_before = $3,
	closed_at = CASE WHEN $2 = 'closed' THEN $4::timestamptz END
WHERE id = $1 RETURNING `+requestColumns, id, string(to), nb, dbTime(now))
		})
}

// nodeAlive is SQL true when the node named by the expression is alive.
const nodeAliveSQL = `EXISTS (SELECT 1 FROM nodes n WHERE n.id = %s AND n.expires_at > now() AND n.stopped_at IS NULL)`

// SettleRequests settles the dialling requests whose outcome is known: the
// ones node dials, and those of nodes no longer alive. A request whose call
// has connected the caller to an agent is answered (at once: the rest is
// the agent's call); one whose call ended otherwise is retried after its queue's retry time, keeping its place, or
// given up when its attempts are used up. One with no call placed is
// taken back (recover) when its node died or placing has taken longer than
// placeGrace; so is one whose node died with its call never recorded. It
// returns how many it settled.
func SettleRequests(ctx context.Context, db TxDB, node string, now time.Time) (int, error) {
	// A call placed but not yet recorded on the request (the node died, or
	// the database was out, between placing and RequestPlaced) is found by
	// its campaign, agent and number since the dial began.
	rows, err := db.Query(ctx, `SELECT r.id, r.attempts, r.max_attempts, coalesce(q.callback_retry_ms, $3),
	r.dial_call IS NOT NULL OR c.id IS NOT NULL, r.dialled_at, coalesce(r.dial_agent, 0), coalesce(r.dial_call, c.id, 0),
	c.id IS NOT NULL, coalesce(c.state = 'ended', false), c.connected_at IS NOT NULL, coalesce(c.outcome, ''),
	`+fmt.Sprintf(nodeAliveSQL, "r.node")+`
FROM callback_requests r LEFT JOIN queues q ON q.id = r.queue_id
LEFT JOIN LATERAL (SELECT c.id, c.state, c.connected_at, c.outcome FROM calls c
	WHERE c.id = r.dial_call OR r.dial_call IS NULL AND c.campaign_id = r.dial_campaign AND c.agent_id = r.dial_agent
		AND c.phone = r.phone AND c.dialed_at >= r.dialled_at
	ORDER BY c.dialed_at LIMIT 1) c ON true
WHERE r.kind = 'queue' AND r.status = 'dialling' AND (r.node = $1 OR NOT `+fmt.Sprintf(nodeAliveSQL, "r.node")+`)
  AND r.dialled_at <= $2`, node, dbTime(now), DefaultCallbackRetry.Milliseconds())
	if err != nil {
		return 0, fmt.Errorf("dialling callback requests: %w", err)
	}
	type dialling struct {
		id                           RequestID
		attempts, max                int
		retryMS                      int64
		placed                       bool
		at                           time.Time
		agent, call                  int64
		found, ended, connected, own bool
		outcome                      string
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (dialling, error) {
		var d dialling
		alive := false
		err := row.Scan(&d.id, &d.attempts, &d.max, &d.retryMS, &d.placed, &d.at, &d.agent, &d.call, &d.found, &d.ended,
			&d.connected, &d.outcome, &alive)
		d.own = alive
		return d, err
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range list {
		st := step{ID: d.id, At: now, Agent: d.agent, Node: node, Call: d.call}
		attempt, notBefore := 0, time.Time{}
		switch {
		case d.connected:
			st.Event, attempt = ReqAnswer, 1 // reached: the rest is the agent's call
		case d.ended || d.placed && !d.found && !d.own:
			// Not reached (or its call died unrecorded with its node).
			st.Event, attempt, st.Detail = ReqRetry, 1, d.outcome
			if d.attempts+1 >= d.max {
				st.Event = ReqGiveUp
			} else {
				notBefore = now.Add(time.Duration(d.retryMS) * time.Millisecond)
			}
			if st.Detail == "" {
				st.Detail = "node lost"
			}
		case !d.placed && (!d.own || now.Sub(d.at) > placeGrace):
			st.Event, st.Detail = ReqRecover, "the call was never placed"
		default:
			continue // still dialling
		}
		var nb *time.Time
		if !notBefore.IsZero() {
			t := dbTime(notBefore)
			nb = &t
		}
		_, err := st.run(ctx, db, func(tx pgx.Tx, to RequestStatus) (pgx.Rows, error) {
			return tx.Query(ctx, `UPDATE callback_requests SET status = $2, attempts = attempts + $3, not_before = $4,
	closed_at = CASE WHEN $2 IN ('answered', 'unanswered') THEN $5::timestamptz END,
	dial_call = coalesce(dial_call, NULLIF($6::bigint, 0))
WHERE id = $1 RETURNING `+requestColumns, d.id, string(to), attempt, nb, dbTime(now), d.call)
		})
		if errors.Is(err, ErrRequestTransition) {
			continue // settled by another node just now
		}
		if err != nil {
			return n, fmt.Errorf("settle callback request %d: %w", d.id, err)
		}
		n++
	}
	return n, nil
}

// AdoptRequests gives node the pending queue requests of nodes no longer
// alive (killed, or stopped: their routers are gone), so they keep their
// places in this node's router. It returns how many it adopted.
func AdoptRequests(ctx context.Context, db TxDB, node string, now time.Time) (int, error) {
	return sweepRequests(ctx, db, `kind = 'queue' AND status = 'pending' AND node <> $1 AND NOT `+
		fmt.Sprintf(nodeAliveSQL, "node"), step{Event: ReqAdopt, At: now, Node: node}, node)
}

// MoveRequests gives node the pending queue requests held by another node
// where none of their queue's members is logged in, when one is logged in
// on node: a request is offered only to the agents of the campaigns its
// node runs (as a caller is, dialer/blend's Placer), and the node that
// runs none would hold it until it expired. It keeps its place (its first
// entry time) in this node's router. It returns how many it moved.
//
// Two routers may hold a request for a moment (the one it left drops it at
// its next sync); the claim that dials it (ClaimRequest) moves it out of
// pending, so only one of them can ever dial it.
func MoveRequests(ctx context.Context, db TxDB, node string, now time.Time) (int, error) {
	return sweepRequests(ctx, db, `kind = 'queue' AND status = 'pending' AND node <> $1 AND `+
		fmt.Sprintf(memberHereSQL, "$1")+` AND NOT `+fmt.Sprintf(memberHereSQL, "node"),
		step{Event: ReqMove, At: now, Node: node}, node)
}

// memberHereSQL is SQL true when a member of the request's queue holds a
// seat on the node named by the expression (agent_seats.node_id runs the
// campaign the agent is logged in to).
const memberHereSQL = `EXISTS (SELECT 1 FROM queue_members qm JOIN agent_seats st ON st.agent_id = qm.agent_id
	WHERE qm.queue_id = callback_requests.queue_id AND st.node_id = %s)`

// ExpireRequests closes the pending queue requests whose time ran out. It
// returns how many it closed.
func ExpireRequests(ctx context.Context, db TxDB, node string, now time.Time) (int, error) {
	return sweepRequests(ctx, db, `kind = 'queue' AND status = 'pending' AND expires_at <= $1`,
		step{Event: ReqExpire, At: now, Node: node}, dbTime(now))
}

// sweepRequests applies st to every request matching where (its arguments
// from $1), one transaction each; the update sets the status the event
// leads to, closed_at for a closed one, and node to st's for an adoption
// or a move, each checked again under the request's lock (its node dead;
// no member on its node and one on st's).
func sweepRequests(ctx context.Context, db TxDB, where string, st step, args ...any) (int, error) {
	rows, err := db.Query(ctx, `SELECT id FROM callback_requests WHERE `+where+` ORDER BY id`, args...)
	if err != nil {
		return 0, fmt.Errorf("callback requests to %s: %w", st.Event, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[RequestID])
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		st.ID = id
		_, err := st.run(ctx, db, func(tx pgx.Tx, to RequestStatus) (pgx.Rows, error) {
			return tx.Query(ctx, `UPDATE callback_requests SET status = $2,
	node = CASE WHEN $3 IN ('adopt', 'move') THEN $4 ELSE node END,
	closed_at = CASE WHEN $2 = 'closed' THEN $5::timestamptz END
WHERE id = $1 AND ($3 <> 'adopt' OR NOT `+fmt.Sprintf(nodeAliveSQL, "node")+`)
	AND ($3 <> 'move' OR (`+fmt.Sprintf(memberHereSQL, "$4")+` AND NOT `+fmt.Sprintf(memberHereSQL, "node")+`))
RETURNING `+requestColumns, id, string(to), string(st.Event), st.Node, dbTime(st.At))
		})
		if errors.Is(err, ErrRequestTransition) || errors.Is(err, pgx.ErrNoRows) {
			continue // moved by someone else since the list was read
		}
		if err != nil {
			return n, fmt.Errorf("%s callback request %d: %w", st.Event, id, err)
		}
		n++
	}
	return n, nil
}
