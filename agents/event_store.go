package agents

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pacer-dialer/pacer/migrations/pgbatch"
)

// The agent tables (migrations/0002_engine.sql): a session per login to a
// campaign and the append-only state log.
const (
	// A login first closes the agent's open session of the campaign on
	// another node (seat_moved, at its last recorded transition): the seat
	// moved here while that node's logout is still on its way (a campaign
	// handed over by a draining node), and an agent has one session per
	// campaign. Two statements, in this order: a data-modifying CTE would not
	// make the unique index see the update before the insert.
	moveSessionSQL = `
UPDATE agent_sessions s SET end_cause = 'seat_moved', logout_at = greatest(s.login_at, coalesce(
	(SELECT max(e.at) FROM agent_events e WHERE e.session_id = s.id), s.login_at))
WHERE s.agent_id = $1 AND s.campaign_id = $2 AND s.logout_at IS NULL AND s.node <> $3`

	insertSessionSQL = `
INSERT INTO agent_sessions (id, agent_id, campaign_id, node, login_at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (id) DO NOTHING`

	// Each event carries a key made when it happens, so a batch written
	// again after a commit whose answer the outage swallowed adds nothing.
	insertEventSQL = `
INSERT INTO agent_events (session_id, agent_id, campaign_id, at, event, from_state, to_state, pause_code,
	call_talk_s, call_hold_s, call_dispo_s, event_key)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT (event_key) DO NOTHING`

	closeSessionSQL = `
UPDATE agent_sessions SET logout_at = $2, end_cause = $3, calls = $4, wait_s = $5, ring_s = $6, talk_s = $7,
	hold_s = $8, dispo_s = $9, pause_s = $10, pause_by_code = $11
WHERE id = $1 AND (logout_at IS NULL OR end_cause = 'seat_moved')`

	// A node that died left its agents logged in; they are logged out at
	// their last recorded transition.
	recoverSessionsSQL = `
UPDATE agent_sessions s SET logout_at = greatest(s.login_at, coalesce(
		(SELECT max(e.at) FROM agent_events e WHERE e.session_id = s.id), s.login_at)),
	end_cause = 'node_lost'
WHERE s.node = $1 AND s.logout_at IS NULL`
)

// DB is what the store's direct queries need.
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// EventStore writes agent sessions and the state log to PostgreSQL through a
// bounded write-behind queue (migrations/pgbatch): AppendTransition is called on
// the engine's goroutine and must not wait for the database. One writer
// goroutine per store; Start launches it, Stop drains the queue and returns
// when it has exited.
type EventStore struct {
	w    *pgbatch.Writer
	node string
}

// EventStoreConfig configures an EventStore.
type EventStoreConfig struct {
	// Node names this node in agent_sessions (recovery closes its sessions).
	Node string
	// Queue is the write-behind queue length (default 4096).
	Queue int
	// SpoolDir keeps what Stop could not write during an outage, for the
	// next Start (pgbatch.Config.SpoolDir; empty: none).
	SpoolDir string
	Logger   *slog.Logger
}

// NewEventStore returns a stopped store writing through db.
func NewEventStore(db pgbatch.DB, cfg EventStoreConfig) *EventStore {
	return &EventStore{
		w: pgbatch.New(db, pgbatch.Config{Name: "agent_events", Queue: cfg.Queue, SpoolDir: cfg.SpoolDir,
			Logger: cfg.Logger}),
		node: cfg.Node,
	}
}

// Start writes what an earlier Stop spooled, then launches the writer
// goroutine.
func (s *EventStore) Start(ctx context.Context) error { return s.w.Start(ctx) }

// Healthy is false while transitions wait for an unreachable database.
func (s *EventStore) Healthy() bool { return s.w.Healthy() }

// Stop writes what is queued and stops the writer. Idempotent.
func (s *EventStore) Stop() { s.w.Stop() }

// Flush waits until everything appended so far is written.
func (s *EventStore) Flush(ctx context.Context) error { return s.w.Flush(ctx) }

// RecoverSessions closes the sessions a dead node left open (end cause
// node_lost), at each session's last recorded transition. Node recovery
// (dialer.RecoverNode) calls it inside its transaction.
func RecoverSessions(ctx context.Context, db DB, node string) (int64, error) {
	tag, err := db.Exec(ctx, recoverSessionsSQL, node)
	if err != nil {
		return 0, fmt.Errorf("close agent sessions left open by node %s: %w", node, err)
	}
	return tag.RowsAffected(), nil
}

// Sink returns the sink for one campaign's agents. Like the Agents it serves
// it belongs to one goroutine (the campaign's engine).
func (s *EventStore) Sink(campaign int64) *EventSink {
	return &EventSink{store: s, campaign: campaign, sessions: map[ID]uuid.UUID{}, written: map[ID]Transition{}}
}

// EventSink appends a campaign's agent transitions to the state log and opens
// and closes sessions at login and logout. Not safe for concurrent use.
type EventSink struct {
	store    *EventStore
	campaign int64
	sessions map[ID]uuid.UUID
	// written holds a transition already written by AppendTx, which
	// AppendTransition then skips once.
	written map[ID]Transition
}

// AppendTransition implements Sink.
func (k *EventSink) AppendTransition(t Transition) {
	if w, ok := k.written[t.Agent]; ok {
		delete(k.written, t.Agent)
		if w.Event == t.Event && w.At.Equal(t.At) && w.To == t.To && w.PauseCode == t.PauseCode {
			return
		}
	}
	if t.Event == EvLogin {
		id := uuid.New()
		k.sessions[t.Agent] = id
		k.store.w.Enqueue(moveSessionSQL, int64(t.Agent), k.campaign, k.store.node)
		k.store.w.Enqueue(insertSessionSQL, id, int64(t.Agent), k.campaign, k.store.node, t.At)
	}
	id, ok := k.sessions[t.Agent]
	if !ok {
		return // transitions of an agent who never logged in are refused by the table first
	}
	k.store.w.Enqueue(insertEventSQL, k.eventArgs(id, t)...)
}

func (k *EventSink) eventArgs(session uuid.UUID, t Transition) []any {
	var pause *string
	if t.To == Paused {
		pause = &t.PauseCode
	}
	var talk, hold, dispo *float64
	if c := t.Call; c != nil {
		talk, hold, dispo = secs(c.Talk), secs(c.Hold), secs(c.Dispo)
	}
	return []any{session, int64(t.Agent), k.campaign, t.At, t.Event.String(), t.From.String(), t.To.String(), pause,
		talk, hold, dispo, uuid.New()}
}

// Flush waits until every transition appended so far is written.
func (k *EventSink) Flush(ctx context.Context) error { return k.store.Flush(ctx) }

// AppendTx writes a transition that is about to happen in the caller's
// transaction (a disposition, whose agent event must commit with the call
// record it closes). Flush first, so the session and the events before it are
// written. The owner then applies the transition; AppendTransition
// recognises it and does not write it again. If the transaction rolls back
// the owner must not apply it, and calls Forget.
func (k *EventSink) AppendTx(ctx context.Context, tx Execer, t Transition) error {
	id, ok := k.sessions[t.Agent]
	if !ok {
		return fmt.Errorf("agent %d has no open session", t.Agent)
	}
	if _, err := tx.Exec(ctx, insertEventSQL, k.eventArgs(id, t)...); err != nil {
		return fmt.Errorf("agent %d %s: %w", t.Agent, t.Event, err)
	}
	k.written[t.Agent] = t
	return nil
}

// Forget drops a transition AppendTx wrote in a transaction that rolled back.
func (k *EventSink) Forget(agent ID) { delete(k.written, agent) }

// Written says t is already in the log (an earlier transaction wrote it and
// committed though its caller never heard back), so AppendTransition skips
// it once.
func (k *EventSink) Written(t Transition) { k.written[t.Agent] = t }

// Execer runs a statement; a pgx.Tx is one.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// EndSession writes a session's totals when the agent logs out; s is the
// agent's accounting for the session that just ended.
func (k *EventSink) EndSession(agent ID, at time.Time, cause EventKind, s Session) {
	id, ok := k.sessions[agent]
	if !ok {
		return
	}
	delete(k.sessions, agent)
	end := "logout"
	if cause == EvSessionLost {
		end = "session_lost"
	}
	byCode := make(map[string]float64, len(s.Pause))
	for code, d := range s.Pause {
		byCode[code] = d.Seconds()
	}
	codes, _ := json.Marshal(byCode)
	k.store.w.Enqueue(closeSessionSQL, id, at, end, s.Calls, s.Wait.Seconds(), s.Ring.Seconds(), s.Talk.Seconds(),
		s.Hold.Seconds(), s.Dispo.Seconds(), s.PauseTotal().Seconds(), string(codes))
}

func secs(d time.Duration) *float64 {
	f := d.Seconds()
	return &f
}

// SessionSink is a Sink that also keeps per-session totals: whoever owns the
// agents calls EndSession right after a transition to LOGGED_OUT, with the
// session's accounting (Agent.Session).
type SessionSink interface {
	Sink
	EndSession(agent ID, at time.Time, cause EventKind, s Session)
}

var _ SessionSink = (*EventSink)(nil)
