package inbound

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pacer-dialer/pacer/agents"
)

// DB is what the stores need: *pgxpool.Pool, *pgx.Conn and pgx.Tx satisfy
// it, so a caller can run store calls inside its own transaction.
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// TxDB can also open a transaction (or, on a pgx.Tx, a savepoint).
type TxDB interface {
	DB
	Begin(ctx context.Context) (pgx.Tx, error)
}

// The queue event log: table queue_events (migrations/0026_inbound.sql).
const (
	// appendLockKey serialises appenders ("qevlog" in ASCII): each takes it
	// before its inserts and holds it to commit, so seq order is commit
	// order and a reader following seq (Since) never passes over a row
	// that commits later with a smaller seq.
	appendLockKey int64 = 0x7165766c6f67

	insertQueueEventSQL = `INSERT INTO queue_events (queue_id, call_key, kind, at, entered, agent_id, from_number, did, detail, node)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING seq`

	queueEventColumns = `seq, queue_id, call_key, kind, at, entered, agent_id, from_number, did, detail, node`
)

// Field lengths the log keeps (the CHECKs of queue_events).
const (
	maxEventNumber = 128
	maxEventDetail = 500
)

// EventStore appends to and reads the queue event log. It holds no
// goroutines; each call is one round trip.
type EventStore struct {
	db DB
}

// NewEventStore returns an event store on db.
func NewEventStore(db DB) *EventStore { return &EventStore{db: db} }

// Append writes evs to the log in one round trip and one transaction (all
// or none), in the order given, and sets each event's Seq. PostgreSQL keeps
// time to the microsecond: Append rounds At and Entered down to it, in UTC,
// in evs too, so evs then hold exactly what the log holds. Appenders take
// turns (see appendLockKey); on a caller's transaction the turn lasts until
// it commits, so keep such a transaction short.
func (s *EventStore) Append(ctx context.Context, evs []Event) error {
	if len(evs) == 0 {
		return nil
	}
	for i, e := range evs {
		if err := e.check(); err != nil {
			return fmt.Errorf("append queue events: event %d of %d: %w", i+1, len(evs), err)
		}
	}
	b := &pgx.Batch{}
	b.Queue("SELECT pg_advisory_xact_lock($1)", appendLockKey)
	for _, e := range evs {
		var entered *time.Time
		if !e.Entered.IsZero() {
			t := dbTime(e.Entered)
			entered = &t
		}
		var agent *int64
		if e.Agent != 0 {
			a := int64(e.Agent)
			agent = &a
		}
		b.Queue(insertQueueEventSQL, int64(e.Queue), int64(e.Call), e.Kind.String(), dbTime(e.At), entered, agent,
			e.From, e.DID, e.Detail, e.Node)
	}
	seqs := make([]int64, len(evs))
	err := func() error {
		br := s.db.SendBatch(ctx, b)
		defer br.Close()
		if _, err := br.Exec(); err != nil {
			return err
		}
		for i := range seqs {
			if err := br.QueryRow().Scan(&seqs[i]); err != nil {
				return err
			}
		}
		return br.Close()
	}()
	if err != nil {
		return fmt.Errorf("append %d queue events: %w", len(evs), err)
	}
	for i := range evs {
		evs[i].Seq = seqs[i]
		evs[i].At = dbTime(evs[i].At)
		if !evs[i].Entered.IsZero() {
			evs[i].Entered = dbTime(evs[i].Entered)
		}
	}
	return nil
}

// dbTime is t as the log keeps it.
func dbTime(t time.Time) time.Time { return t.Truncate(time.Microsecond).UTC() }

// check refuses an event the log's CHECKs would refuse, with the reason.
func (e Event) check() error {
	switch {
	case e.Kind < EvEnter || e.Kind >= numEventKinds:
		return fmt.Errorf("unknown kind %d", uint8(e.Kind))
	case e.Queue <= 0:
		return fmt.Errorf("%s of call %d names no queue", e.Kind, e.Call)
	case e.At.IsZero():
		return fmt.Errorf("%s of call %d has no time", e.Kind, e.Call)
	case e.Agent < 0:
		return fmt.Errorf("%s of call %d names agent %d", e.Kind, e.Call, e.Agent)
	case e.Agent == 0 && (e.Kind == EvOffer || e.Kind == EvConnect || e.Kind == EvReject || e.Kind == EvTimeout):
		return fmt.Errorf("%s of call %d names no agent", e.Kind, e.Call)
	case len(e.From) > maxEventNumber || len(e.DID) > maxEventNumber:
		return fmt.Errorf("%s of call %d: caller or dialled number longer than %d bytes", e.Kind, e.Call, maxEventNumber)
	case len(e.Node) > maxEventNumber:
		return fmt.Errorf("%s of call %d: node name longer than %d bytes", e.Kind, e.Call, maxEventNumber)
	case len(e.Detail) > maxEventDetail:
		return fmt.Errorf("%s of call %d: detail longer than %d bytes", e.Kind, e.Call, maxEventDetail)
	}
	return nil
}

// Between returns the events that happened in [from, to), in log order.
func (s *EventStore) Between(ctx context.Context, from, to time.Time) ([]Event, error) {
	evs, err := s.query(ctx, `SELECT `+queueEventColumns+` FROM queue_events WHERE at >= $1 AND at < $2 ORDER BY seq`,
		from, to)
	if err != nil {
		return nil, fmt.Errorf("queue events from %s to %s: %w", from.Format(time.RFC3339), to.Format(time.RFC3339), err)
	}
	return evs, nil
}

// Since returns every event appended after seq, in log order: a reader
// that passes the last Seq it saw gets each event exactly once. It is not
// paged: a reader starts from a recent Seq (or Between), not from 0 on a
// long log.
func (s *EventStore) Since(ctx context.Context, seq int64) ([]Event, error) {
	evs, err := s.query(ctx, `SELECT `+queueEventColumns+` FROM queue_events WHERE seq > $1 ORDER BY seq`, seq)
	if err != nil {
		return nil, fmt.Errorf("queue events after %d: %w", seq, err)
	}
	return evs, nil
}

// OfCall returns one call's events, in log order (none: the log never
// heard of it).
func (s *EventStore) OfCall(ctx context.Context, call CallKey) ([]Event, error) {
	evs, err := s.query(ctx, `SELECT `+queueEventColumns+` FROM queue_events WHERE call_key = $1 ORDER BY seq`, int64(call))
	if err != nil {
		return nil, fmt.Errorf("queue events of call %d: %w", call, err)
	}
	return evs, nil
}

// through returns the events that happened in [from, now].
func (s *EventStore) through(ctx context.Context, from, now time.Time) ([]Event, error) {
	evs, err := s.query(ctx, `SELECT `+queueEventColumns+` FROM queue_events WHERE at >= $1 AND at <= $2 ORDER BY seq`,
		from, now)
	if err != nil {
		return nil, fmt.Errorf("queue events from %s to %s: %w", from.Format(time.RFC3339), now.Format(time.RFC3339), err)
	}
	return evs, nil
}

// StoredFigures is Compute over the log: the figures of the calls that
// entered each queue in [from, to), as of now.
func (s *EventStore) StoredFigures(ctx context.Context, thresholds map[QueueID]time.Duration,
	from, to, now time.Time) (map[QueueID]Figures, error) {
	evs, err := s.through(ctx, from, now)
	if err != nil {
		return nil, err
	}
	return Compute(evs, thresholds, from, to, now), nil
}

// StoredIntervals is Intervals over the log.
func (s *EventStore) StoredIntervals(ctx context.Context, thresholds map[QueueID]time.Duration,
	dayStart, now time.Time, step time.Duration) (map[QueueID][]IntervalFigures, error) {
	evs, err := s.through(ctx, dayStart, now)
	if err != nil {
		return nil, err
	}
	return Intervals(evs, thresholds, dayStart, now, step), nil
}

func (s *EventStore) query(ctx context.Context, sql string, args ...any) ([]Event, error) {
	rows, err := s.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Event{}
	for rows.Next() {
		var (
			e       Event
			queue   int64
			call    int64
			kind    string
			entered *time.Time
			agent   *int64
		)
		if err := rows.Scan(&e.Seq, &queue, &call, &kind, &e.At, &entered, &agent, &e.From, &e.DID, &e.Detail, &e.Node); err != nil {
			return nil, err
		}
		if e.Kind, err = ParseEventKind(kind); err != nil {
			return nil, err
		}
		e.Queue, e.Call, e.At = QueueID(queue), CallKey(call), e.At.UTC()
		if entered != nil {
			e.Entered = entered.UTC()
		}
		if agent != nil {
			e.Agent = agents.ID(*agent)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Records are the figures of each queue's 30-minute intervals of the last
// day up to now's (Router.SetRecords keeps the finished ones), by the
// intervals the router judges (aligned on the clock, as the sim and the
// router count them).
func (s *EventStore) Records(ctx context.Context, thresholds map[QueueID]time.Duration, now time.Time) (map[QueueID][]IntervalFigures, error) {
	return s.StoredIntervals(ctx, thresholds, now.Truncate(slInterval).Add(-slDay), now, slInterval)
}
