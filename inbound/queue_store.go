package inbound

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
)

// Queues, their numbers and members: tables queues, queue_dids and
// queue_members (migrations/0026_inbound.sql).

// ErrNotFound is wrapped by the error of reading or changing a queue,
// number or member that does not exist.
var ErrNotFound = errors.New("not found")

// ErrInUse is wrapped by the error of deleting a queue that numbers still
// reach or other queues still send callers to.
var ErrInUse = errors.New("queue in use")

// QueueInUseError names what keeps a queue from being deleted.
type QueueInUseError struct {
	Queue  string
	DIDs   []string // numbers that reach it
	Queues []string // queues whose fallbacks send callers to it
}

func (e *QueueInUseError) Error() string {
	var parts []string
	if len(e.DIDs) > 0 {
		parts = append(parts, "numbers "+strings.Join(e.DIDs, ", ")+" reach it")
	}
	if len(e.Queues) > 0 {
		parts = append(parts, "queues "+strings.Join(e.Queues, ", ")+" send callers to it")
	}
	return fmt.Sprintf("queue %q is in use: %s; move them to another queue first", e.Queue, strings.Join(parts, "; "))
}

// Unwrap makes a QueueInUseError an ErrInUse.
func (e *QueueInUseError) Unwrap() error { return ErrInUse }

// QueueDetail is a queue with the agents serving it and the numbers that
// reach it.
type QueueDetail struct {
	Queue
	Members []Member
	DIDs    []string
}

// QueueStore reads and writes queues, numbers and members. It holds no
// goroutines; the methods that change several rows run in one transaction.
type QueueStore struct {
	db TxDB
}

// NewQueueStore returns a queue store on db.
func NewQueueStore(db TxDB) *QueueStore { return &QueueStore{db: db} }

const queueColumns = `q.id, q.name, q.priority, q.sl_threshold_ms, q.sl_target, q.method, q.ring_ms, q.reject_to_dnd,
	q.max_wait_ms, q.max_depth, q.overflow_action, q.overflow_queue, q.open_always, q.hours, q.time_zone,
	q.after_hours_action, q.after_hours_queue, q.at_close_action, q.at_close_queue, q.no_agents_action,
	q.no_agents_queue, q.widen_after_ms, q.sticky_ms, q.allow_take, q.allow_callback, q.callback_attempts,
	q.callback_retry_ms, q.callback_expire_ms, q.comfort_every_ms`

// fallbackColumns are the queues columns naming a fallback's target, with
// the field a refusal names.
var fallbackColumns = []struct{ column, field string }{
	{"overflow_queue", "overflow"},
	{"after_hours_queue", "after_hours"},
	{"at_close_queue", "at_close"},
	{"no_agents_queue", "no_agents"},
}

// weekSeconds is Hours.Days as the hours column keeps it.
type weekSeconds [7][2]int64

func scanQueue(row pgx.Row) (Queue, error) {
	var (
		q                                             Queue
		slMS, ringMS, maxWaitMS, widenMS, stickyMS    int64
		method, overflow, afterHours, atClose, noAgts string
		overflowQ, afterHoursQ, atCloseQ, noAgentsQ   *int64
		week                                          weekSeconds
		zone                                          string
		cbRetryMS, cbExpireMS, comfortMS              int64
	)
	err := row.Scan(&q.ID, &q.Name, &q.Priority, &slMS, &q.SLTarget, &method, &ringMS, &q.RejectToDND, &maxWaitMS,
		&q.MaxDepth, &overflow, &overflowQ, &q.Hours.Always, &week, &zone, &afterHours, &afterHoursQ, &atClose,
		&atCloseQ, &noAgts, &noAgentsQ, &widenMS, &stickyMS, &q.AllowTake, &q.Callbacks.Allow, &q.Callbacks.Attempts,
		&cbRetryMS, &cbExpireMS, &comfortMS)
	if errors.Is(err, pgx.ErrNoRows) {
		return q, ErrNotFound
	}
	if err != nil {
		return q, err
	}
	ms := func(v int64) time.Duration { return time.Duration(v) * time.Millisecond }
	q.SLThreshold, q.RingTime, q.MaxWait, q.WidenAfter, q.StickyFor = ms(slMS), ms(ringMS), ms(maxWaitMS), ms(widenMS),
		ms(stickyMS)
	q.Callbacks.RetryAfter, q.Callbacks.ExpireAfter = ms(cbRetryMS), ms(cbExpireMS)
	q.ComfortEvery = ms(comfortMS)
	if q.Method, err = ParseMethod(method); err != nil {
		return q, err
	}
	for _, f := range []struct {
		dst    *Fallback
		action string
		target *int64
	}{
		{&q.Overflow, overflow, overflowQ},
		{&q.AfterHours, afterHours, afterHoursQ},
		{&q.AtClose, atClose, atCloseQ},
		{&q.NoAgents, noAgts, noAgentsQ},
	} {
		if f.dst.Action, err = ParseAction(f.action); err != nil {
			return q, err
		}
		if f.target != nil {
			f.dst.Target = QueueID(*f.target)
		}
	}
	for d, open := range week {
		q.Hours.Days[d].Open, q.Hours.Days[d].Close = time.Duration(open[0])*time.Second, time.Duration(open[1])*time.Second
	}
	if q.Hours.Zone, err = time.LoadLocation(zone); err != nil {
		return q, fmt.Errorf("queue %q: time zone: %w", q.Name, err)
	}
	return q, nil
}

// queueArgs are q's columns after the id, in the order of queueColumns.
func queueArgs(q Queue) []any {
	target := func(f Fallback) *int64 {
		if f.Action != ActionQueue {
			return nil
		}
		t := int64(f.Target)
		return &t
	}
	var week weekSeconds
	for d, day := range q.Hours.Days {
		week[d] = [2]int64{int64(day.Open / time.Second), int64(day.Close / time.Second)}
	}
	return []any{q.Name, q.Priority, q.SLThreshold.Milliseconds(), q.SLTarget, q.Method.String(),
		q.RingTime.Milliseconds(), q.RejectToDND, q.MaxWait.Milliseconds(), q.MaxDepth, q.Overflow.Action.String(),
		target(q.Overflow), q.Hours.Always, week, q.Hours.Zone.String(), q.AfterHours.Action.String(),
		target(q.AfterHours), q.AtClose.Action.String(), target(q.AtClose), q.NoAgents.Action.String(),
		target(q.NoAgents), q.WidenAfter.Milliseconds(), q.StickyFor.Milliseconds(), q.AllowTake,
		q.Callbacks.Allow, q.Callbacks.Attempts, q.Callbacks.RetryAfter.Milliseconds(), q.Callbacks.ExpireAfter.Milliseconds(),
		q.ComfortEvery.Milliseconds()}
}

const (
	insertQueueSQL = `INSERT INTO queues (name, priority, sl_threshold_ms, sl_target, method, ring_ms, reject_to_dnd,
	max_wait_ms, max_depth, overflow_action, overflow_queue, open_always, hours, time_zone, after_hours_action,
	after_hours_queue, at_close_action, at_close_queue, no_agents_action, no_agents_queue, widen_after_ms,
	sticky_ms, allow_take, allow_callback, callback_attempts, callback_retry_ms, callback_expire_ms, comfort_every_ms)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23,
	$24, $25, $26, $27, $28)
RETURNING id`

	updateQueueSQL = `UPDATE queues SET name = $2, priority = $3, sl_threshold_ms = $4, sl_target = $5, method = $6,
	ring_ms = $7, reject_to_dnd = $8, max_wait_ms = $9, max_depth = $10, overflow_action = $11, overflow_queue = $12,
	open_always = $13, hours = $14, time_zone = $15, after_hours_action = $16, after_hours_queue = $17,
	at_close_action = $18, at_close_queue = $19, no_agents_action = $20, no_agents_queue = $21,
	widen_after_ms = $22, sticky_ms = $23, allow_take = $24, allow_callback = $25, callback_attempts = $26,
	callback_retry_ms = $27, callback_expire_ms = $28, comfort_every_ms = $29, updated_at = now()
WHERE id = $1`
)

// queueWriteError turns a violated constraint into the refusal a manager
// reads; Validate catches the same first, except a name already taken and
// a target queue that does not exist.
func queueWriteError(err error, q Queue) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return fmt.Errorf("save queue %q: %w", q.Name, err)
	}
	switch pe.Code {
	case "23505":
		return queueError("name", "a queue named %q already exists", q.Name)
	case "23503":
		for _, c := range fallbackColumns {
			if strings.Contains(pe.ConstraintName, c.column) {
				return queueError(c.field, "%s: the queue to move callers to does not exist", c.field)
			}
		}
	case "23514":
		return queueError("", "queue %q refused by rule %s", q.Name, pe.ConstraintName)
	}
	return fmt.Errorf("save queue %q: %w", q.Name, err)
}

// CreateQueue adds a queue with q's settings (WithDefaults filled in,
// q.ID ignored) and returns it as stored.
func (s *QueueStore) CreateQueue(ctx context.Context, q Queue) (Queue, error) {
	q = q.WithDefaults()
	q.ID = 0
	if err := q.Validate(); err != nil {
		return q, err
	}
	var id QueueID
	if err := s.db.QueryRow(ctx, insertQueueSQL, queueArgs(q)...).Scan(&id); err != nil {
		return q, queueWriteError(err, q)
	}
	return s.Queue(ctx, id)
}

// UpdateQueue replaces the settings of queue q.ID with q's (WithDefaults
// filled in) and returns it as stored. Ring all is refused for a queue with
// more than MaxRingAll members.
func (s *QueueStore) UpdateQueue(ctx context.Context, q Queue) (Queue, error) {
	q = q.WithDefaults()
	if err := q.Validate(); err != nil {
		return q, err
	}
	var out Queue
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		var members int
		err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM queue_members m WHERE m.queue_id = q.id)
			FROM queues q WHERE q.id = $1 FOR UPDATE`, q.ID).Scan(&members)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("queue %d: %w", q.ID, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("queue %d: %w", q.ID, err)
		}
		if err := q.ValidateMembers(members); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, updateQueueSQL, append([]any{q.ID}, queueArgs(q)...)...); err != nil {
			return queueWriteError(err, q)
		}
		out, err = getQueue(ctx, tx, q.ID)
		return err
	})
	return out, err
}

// Queue returns one queue's settings.
func (s *QueueStore) Queue(ctx context.Context, id QueueID) (Queue, error) {
	return getQueue(ctx, s.db, id)
}

func getQueue(ctx context.Context, db DB, id QueueID) (Queue, error) {
	q, err := scanQueue(db.QueryRow(ctx, "SELECT "+queueColumns+" FROM queues q WHERE q.id = $1", id))
	if err != nil {
		return q, fmt.Errorf("queue %d: %w", id, err)
	}
	return q, nil
}

// Queues returns every queue by name, each with its members (by level,
// rank, agent) and numbers.
func (s *QueueStore) Queues(ctx context.Context) ([]QueueDetail, error) {
	rows, err := s.db.Query(ctx, "SELECT "+queueColumns+" FROM queues q ORDER BY q.name")
	if err != nil {
		return nil, fmt.Errorf("list queues: %w", err)
	}
	queues, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Queue, error) { return scanQueue(row) })
	if err != nil {
		return nil, fmt.Errorf("list queues: %w", err)
	}
	members, err := queryMembers(ctx, s.db, "ORDER BY queue_id, level, rank, agent_id")
	if err != nil {
		return nil, fmt.Errorf("list queue members: %w", err)
	}
	dids, err := queryDIDs(ctx, s.db, "ORDER BY number")
	if err != nil {
		return nil, fmt.Errorf("list queue numbers: %w", err)
	}
	out := make([]QueueDetail, len(queues))
	index := make(map[QueueID]*QueueDetail, len(queues))
	for i, q := range queues {
		out[i] = QueueDetail{Queue: q, Members: []Member{}, DIDs: []string{}}
		index[q.ID] = &out[i]
	}
	// A queue created between the reads has no entry: it shows next time.
	for _, m := range members {
		if d, ok := index[m.Queue]; ok {
			d.Members = append(d.Members, m)
		}
	}
	for _, n := range dids {
		if d, ok := index[n.Queue]; ok {
			d.DIDs = append(d.DIDs, n.Number)
		}
	}
	return out, nil
}

// DeleteQueue removes a queue and its members. A queue that numbers still
// reach or other queues still send callers to is refused with a
// *QueueInUseError naming them. The queue's events stay in the log.
func (s *QueueStore) DeleteQueue(ctx context.Context, id QueueID) error {
	return pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		var name string
		err := tx.QueryRow(ctx, "SELECT name FROM queues WHERE id = $1 FOR UPDATE", id).Scan(&name)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("queue %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("queue %d: %w", id, err)
		}
		inUse := &QueueInUseError{Queue: name}
		err = tx.QueryRow(ctx, `SELECT
			ARRAY(SELECT number FROM queue_dids WHERE queue_id = $1 ORDER BY number),
			ARRAY(SELECT name FROM queues WHERE id <> $1 AND $1 IN (overflow_queue, after_hours_queue,
				at_close_queue, no_agents_queue) ORDER BY name)`, id).Scan(&inUse.DIDs, &inUse.Queues)
		if err != nil {
			return fmt.Errorf("queue %q: %w", name, err)
		}
		if len(inUse.DIDs)+len(inUse.Queues) > 0 {
			return inUse
		}
		// A number or a fallback added after the check above still meets
		// the foreign key, which refuses the delete.
		if _, err := tx.Exec(ctx, "DELETE FROM queues WHERE id = $1", id); err != nil {
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Code == "23503" {
				inUse.Queues = []string{"(one changed just now)"}
				return inUse
			}
			return fmt.Errorf("delete queue %q: %w", name, err)
		}
		return nil
	})
}

// NormalizeDID returns number in E.164 form, or a *QueueError saying why
// it is not a number callers can dial in on.
func NormalizeDID(number string) (string, error) {
	n, err := campaigns.NormalizePhone(number, "")
	if err != nil {
		var pe *campaigns.PhoneError
		if errors.As(err, &pe) {
			return "", queueError("number", "%q is not a number callers can dial (%s): give it in E.164 form, e.g. +12025550143",
				number, pe.Reason)
		}
		return "", queueError("number", "%q is not a number callers can dial: give it in E.164 form, e.g. +12025550143", number)
	}
	return n, nil
}

// SetDID makes calls to number (normalised to E.164) reach queue, moving
// the number from the queue it reached before, if any.
func (s *QueueStore) SetDID(ctx context.Context, number string, queue QueueID) (DID, error) {
	n, err := NormalizeDID(number)
	if err != nil {
		return DID{}, err
	}
	_, err = s.db.Exec(ctx, `INSERT INTO queue_dids (number, queue_id) VALUES ($1, $2)
		ON CONFLICT (number) DO UPDATE SET queue_id = excluded.queue_id`, n, queue)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23503" {
		return DID{}, fmt.Errorf("number %s: queue %d: %w", n, queue, ErrNotFound)
	}
	if err != nil {
		return DID{}, fmt.Errorf("number %s to queue %d: %w", n, queue, err)
	}
	return DID{Number: n, Queue: queue}, nil
}

// RemoveDID stops number from reaching any queue.
func (s *QueueStore) RemoveDID(ctx context.Context, number string) error {
	n, err := NormalizeDID(number)
	if err != nil {
		return err
	}
	tag, err := s.db.Exec(ctx, "DELETE FROM queue_dids WHERE number = $1", n)
	if err != nil {
		return fmt.Errorf("remove number %s: %w", n, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("number %s: %w", n, ErrNotFound)
	}
	return nil
}

// DIDs returns every number that reaches a queue, by number.
func (s *QueueStore) DIDs(ctx context.Context) ([]DID, error) {
	dids, err := queryDIDs(ctx, s.db, "ORDER BY number")
	if err != nil {
		return nil, fmt.Errorf("list numbers: %w", err)
	}
	return dids, nil
}

func queryDIDs(ctx context.Context, db DB, order string) ([]DID, error) {
	rows, err := db.Query(ctx, "SELECT number, queue_id FROM queue_dids "+order)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (DID, error) {
		var d DID
		err := row.Scan(&d.Number, &d.Queue)
		return d, err
	})
}

// QueueByDID returns the queue a call to number reaches.
func (s *QueueStore) QueueByDID(ctx context.Context, number string) (Queue, error) {
	n, err := NormalizeDID(number)
	if err != nil {
		return Queue{}, err
	}
	q, err := scanQueue(s.db.QueryRow(ctx, "SELECT "+queueColumns+` FROM queues q
		JOIN queue_dids d ON d.queue_id = q.id WHERE d.number = $1`, n))
	if err != nil {
		return q, fmt.Errorf("queue of number %s: %w", n, err)
	}
	return q, nil
}

// SetMember makes m.Agent serve m.Queue at m.Level (0: level 1) and m.Rank,
// or changes their level and rank if they already do. Ring all queues
// refuse members past MaxRingAll.
func (s *QueueStore) SetMember(ctx context.Context, m Member) (Member, error) {
	if m.Level == 0 {
		m.Level = 1
	}
	if err := m.validate(); err != nil {
		return m, err
	}
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		q, err := scanQueue(tx.QueryRow(ctx, "SELECT "+queueColumns+" FROM queues q WHERE q.id = $1 FOR UPDATE", m.Queue))
		if err != nil {
			return fmt.Errorf("queue %d: %w", m.Queue, err)
		}
		var others int
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM queue_members WHERE queue_id = $1 AND agent_id <> $2",
			m.Queue, m.Agent).Scan(&others); err != nil {
			return fmt.Errorf("queue %q members: %w", q.Name, err)
		}
		if err := q.ValidateMembers(others + 1); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO queue_members (queue_id, agent_id, level, rank) VALUES ($1, $2, $3, $4)
			ON CONFLICT (queue_id, agent_id) DO UPDATE SET level = excluded.level, rank = excluded.rank`,
			m.Queue, m.Agent, m.Level, m.Rank)
		if err != nil {
			return fmt.Errorf("agent %d in queue %q: %w", m.Agent, q.Name, err)
		}
		return nil
	})
	return m, err
}

// RemoveMember stops agent from serving queue.
func (s *QueueStore) RemoveMember(ctx context.Context, queue QueueID, agent agents.ID) error {
	tag, err := s.db.Exec(ctx, "DELETE FROM queue_members WHERE queue_id = $1 AND agent_id = $2", queue, agent)
	if err != nil {
		return fmt.Errorf("remove agent %d from queue %d: %w", agent, queue, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("agent %d in queue %d: %w", agent, queue, ErrNotFound)
	}
	return nil
}

// Members returns the agents serving queue, by level, rank and agent.
func (s *QueueStore) Members(ctx context.Context, queue QueueID) ([]Member, error) {
	out, err := queryMembers(ctx, s.db, "WHERE queue_id = $1 ORDER BY level, rank, agent_id", queue)
	if err == nil && len(out) == 0 {
		err = s.db.QueryRow(ctx, "SELECT FROM queues WHERE id = $1", queue).Scan()
		if errors.Is(err, pgx.ErrNoRows) {
			err = ErrNotFound
		}
	}
	if err != nil {
		return nil, fmt.Errorf("members of queue %d: %w", queue, err)
	}
	return out, nil
}

// MembersOf returns the queues agent serves, with their level and rank, by
// queue.
func (s *QueueStore) MembersOf(ctx context.Context, agent agents.ID) ([]Member, error) {
	out, err := queryMembers(ctx, s.db, "WHERE agent_id = $1 ORDER BY queue_id", agent)
	if err != nil {
		return nil, fmt.Errorf("queues of agent %d: %w", agent, err)
	}
	return out, nil
}

func queryMembers(ctx context.Context, db DB, where string, args ...any) ([]Member, error) {
	rows, err := db.Query(ctx, "SELECT queue_id, agent_id, level, rank FROM queue_members "+where, args...)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Member, error) {
		var m Member
		err := row.Scan(&m.Queue, &m.Agent, &m.Level, &m.Rank)
		return m, err
	})
	if out == nil {
		out = []Member{}
	}
	return out, err
}
