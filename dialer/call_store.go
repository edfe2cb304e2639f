package dialer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/migrations/pgbatch"
)

// The calls table (migrations/0002_engine.sql). A call is named by the run
// (one life of a campaign loop) and the engine's call ID within it. Progress
// updates are guarded by the state they expect, so a late or out-of-order
// update never moves a call backwards; the final record is an upsert that
// carries every timestamp, so it is complete even if an earlier write was lost.
const (
	insertCallSQL = `
INSERT INTO calls (id, run_id, seq, campaign_id, lead_id, phone, node, agent_id, state, queued_at, dialed_at, epoch)
VALUES ($2, $1, $2, $3, $4, $5, $6, $7, 'dialing', $8, $8, $9)
ON CONFLICT (run_id, seq) DO NOTHING`

	// A customer handed on to another agent: their call starts connected,
	// with the stamps of the call that dialled the customer.
	// A caller from a queue handed on stays an inbound call (direction and
	// queue), dialled when they entered the queue.
	insertTransferredCallSQL = `
INSERT INTO calls (id, run_id, seq, campaign_id, lead_id, phone, node, agent_id, state, answered_by, queued_at,
	dialed_at, ringing_at, answered_at, connected_at, epoch, transferred_from_seq, direction, queue_id, without_lead)
VALUES ($2, $1, $2, $3, $4, $5, $6, $7, 'connected', 'human', $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
ON CONFLICT (run_id, seq) DO NOTHING`
	// An inbound caller an agent took: connected from the start, with no
	// lead of its own (the campaign's outbound figures skip it).
	insertInboundCallSQL = `
INSERT INTO calls (id, run_id, seq, campaign_id, phone, node, agent_id, state, answered_by, queued_at, dialed_at,
	answered_at, connected_at, epoch, without_lead, direction, queue_id)
VALUES ($2, $1, $2, $3, $4, $5, $6, 'connected', 'human', $7, $7, $7, $8, $9, true, 'inbound', $10)
ON CONFLICT (run_id, seq) DO NOTHING`
	ringingCallSQL = `
UPDATE calls SET state = 'ringing', ringing_at = $3 WHERE run_id = $1 AND seq = $2 AND state = 'dialing'`

	answeredCallSQL = `
UPDATE calls SET state = 'answered', answered_at = $3, answered_by = $4
WHERE run_id = $1 AND seq = $2 AND state IN ('dialing', 'ringing')`

	connectedCallSQL = `
UPDATE calls SET state = 'connected', connected_at = $3, agent_id = $4
WHERE run_id = $1 AND seq = $2 AND state = 'answered'`

	endedCallSQL = `
INSERT INTO calls (id, run_id, seq, campaign_id, lead_id, phone, node, agent_id, state, outcome, abandoned,
	answered_by, end_cause, disposition, queued_at, dialed_at, ringing_at, answered_at, connected_at, ended_at,
	dispositioned_at, epoch, sip_code, q850_cause, cause_text, transferred_from_seq, without_lead, direction, queue_id)
VALUES ($2, $1, $2, $3, $4, $5, $6, $7, 'ended', $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23,
	$24, $25, $26, $27)
ON CONFLICT (run_id, seq) DO UPDATE SET agent_id = EXCLUDED.agent_id, state = 'ended',
	outcome = EXCLUDED.outcome, abandoned = EXCLUDED.abandoned, answered_by = EXCLUDED.answered_by,
	end_cause = EXCLUDED.end_cause, disposition = EXCLUDED.disposition, queued_at = EXCLUDED.queued_at,
	sip_code = EXCLUDED.sip_code, q850_cause = EXCLUDED.q850_cause, cause_text = EXCLUDED.cause_text,
	dialed_at = EXCLUDED.dialed_at, ringing_at = EXCLUDED.ringing_at, answered_at = EXCLUDED.answered_at,
	connected_at = EXCLUDED.connected_at, ended_at = EXCLUDED.ended_at, dispositioned_at = EXCLUDED.dispositioned_at,
	without_lead = EXCLUDED.without_lead
WHERE calls.end_cause <> 'node_lost'`

	// The lead an agent attached to an inbound caller's call: the lead's
	// history and the sticky agent (campaigns.CallerLeads) read it.
	attachedLeadSQL = `UPDATE calls SET lead_id = $3 WHERE run_id = $1 AND seq = $2`

	dispositionedCallSQL = `
UPDATE calls SET disposition = $3, dispositioned_at = CASE WHEN $3::text IS NULL THEN NULL ELSE $4::timestamptz END,
	talk_s = $5, hold_s = $6, dispo_s = $7
WHERE run_id = $1 AND seq = $2 AND state = 'ended'`

	// Live answers and abandons per hour over the window, for the abandon
	// budget (a connected call counts when it ends, as in MemoryCallLog).
	budgetHistorySQL = `
SELECT date_trunc('hour', ended_at, 'UTC'), count(*) FILTER (WHERE outcome IN ('completed', 'abandoned')),
	count(*) FILTER (WHERE outcome = 'abandoned'), count(*) FILTER (WHERE outcome = 'machine')
FROM calls
WHERE campaign_id = $1 AND ended_at >= $2 AND outcome IN ('completed', 'abandoned', 'machine')
	AND transferred_from_seq IS NULL AND direction = 'outbound'
GROUP BY 1 ORDER BY 1`
)

// EndCauseShutdown is recorded in calls.end_cause for a call the loop hung
// up because it stopped (EndCauseNodeLost in recovery.go for a dead node's).
const EndCauseShutdown = "shutdown"

// CallProgress is one step of a call, as written through to its record.
type CallProgress struct {
	Call   CallID
	Lead   LeadID
	Number string
	// State is CallDialing, CallRinging, CallAnsweredHuman,
	// CallAnsweredMachine or CallConnected.
	State CallState
	Agent agents.ID
	At    time.Time
	// TransferredFrom: a customer handed on to Agent from that call; the
	// call starts connected, with Stamps (Call.TransferredFrom).
	TransferredFrom CallID
	Stamps          [numCallStates]time.Time
	// Inbound: a caller from queue Queue an agent took; the call starts
	// connected (Stamps[CallQueued]: when they entered the queue).
	Inbound bool
	Queue   int64
}

// CallEnd is a call's final record plus what only the loop knows.
type CallEnd struct {
	Record *CallRecord
	// Cause is why the call ended other than by its own progress
	// (EndCauseShutdown), else empty.
	Cause string
	// Disposition is the system disposition of a call no agent handled.
	Disposition string
}

// CallDisposition is the agent's side of a call, known when the agent
// saves a disposition or leaves without one.
type CallDisposition struct {
	Call CallID
	// Agent is whose disposition it is (DisposeTx only).
	Agent agents.ID
	// Code is the agent's disposition; empty when the agent left without.
	Code              string
	At                time.Time
	Talk, Hold, Dispo time.Duration
	// Notes are the agent's; Auto marks the wrap-up limit's disposition.
	Notes string
	Auto  bool
}

// CallJournal is written through as each call moves, so a record exists
// from the dial on and survives a crash. Methods are called on the loop's
// goroutine and must not wait for the database.
type CallJournal interface {
	CallProgress(p *CallProgress)
	CallEnded(e *CallEnd)
	CallDisposed(d *CallDisposition)
	// CallLeadAttached: the agent attached a lead to an inbound caller's
	// call (or another one in its place).
	CallLeadAttached(call CallID, lead LeadID)
}

// CallStore is the PostgreSQL calls table: a write-behind journal per
// campaign run, budget history and recovery. Writes go through one bounded
// queue drained by one writer goroutine that batches whatever has queued
// (migrations/pgbatch); a full queue makes the loop wait rather than lose
// records. Start launches the writer; Stop drains it and returns when it has
// exited.
type CallStore struct {
	q    queryer
	w    *pgbatch.Writer
	node string
}

type queryer interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// CallStoreDB is what the store needs: a pool satisfies it.
type CallStoreDB interface {
	pgbatch.DB
	queryer
}

// CallStoreConfig configures a CallStore.
type CallStoreConfig struct {
	// Node names this node on its calls; recovery closes its open calls.
	Node string
	// Queue is the write-behind queue length (default 4096).
	Queue int
	// SpoolDir keeps what Stop could not write during an outage, for the
	// next Start (pgbatch.Config.SpoolDir; empty: none).
	SpoolDir string
	Logger   *slog.Logger
}

// NewCallStore returns a stopped store.
func NewCallStore(db CallStoreDB, cfg CallStoreConfig) *CallStore {
	return &CallStore{q: db, node: cfg.Node, w: pgbatch.New(db, pgbatch.Config{Name: "calls", Queue: cfg.Queue,
		SpoolDir: cfg.SpoolDir, Logger: cfg.Logger})}
}

// Start writes what an earlier Stop spooled, then launches the writer
// goroutine.
func (s *CallStore) Start(ctx context.Context) error { return s.w.Start(ctx) }

// Healthy implements WriteHealth.
func (s *CallStore) Healthy() bool { return s.w.Healthy() }

// Stop writes what is queued and stops the writer. Idempotent.
func (s *CallStore) Stop() { s.w.Stop() }

// Flush waits until everything journaled so far is written.
func (s *CallStore) Flush(ctx context.Context) error { return s.w.Flush(ctx) }

// Journal returns the journal of one run of a campaign's loop. Like the
// loop it belongs to one goroutine.
func (s *CallStore) Journal(campaign CampaignID) *StoreJournal {
	return &StoreJournal{s: s, run: uuid.New(), campaign: campaign}
}

// SetEpoch records the campaign lease epoch the run's calls are placed
// under; call before the run's first call.
func (j *StoreJournal) SetEpoch(epoch int64) { j.epoch = epoch }

// BudgetHistory implements BudgetHistory over the calls table.
func (s *CallStore) BudgetHistory(ctx context.Context, campaign CampaignID, since time.Time) ([]BudgetBucket, error) {
	rows, err := s.q.Query(ctx, budgetHistorySQL, int64(campaign), since)
	if err != nil {
		return nil, fmt.Errorf("abandon budget history of campaign %d: %w", campaign, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (BudgetBucket, error) {
		var b BudgetBucket
		err := r.Scan(&b.Start, &b.Live, &b.Abandons, &b.Machines)
		return b, err
	})
	if err != nil {
		return nil, fmt.Errorf("abandon budget history of campaign %d: %w", campaign, err)
	}
	return out, nil
}

// StoreJournal is a CallJournal writing one campaign run's calls.
type StoreJournal struct {
	s        *CallStore
	run      uuid.UUID
	campaign CampaignID
	epoch    int64
}

// Run identifies this run in calls.run_id.
func (j *StoreJournal) Run() uuid.UUID { return j.run }

func (j *StoreJournal) CallProgress(p *CallProgress) {
	w := j.s.w
	if p.TransferredFrom != 0 {
		rec := CallRecord{Inbound: p.Inbound, Queue: p.Queue, Stamps: p.Stamps}
		w.Enqueue(insertTransferredCallSQL, j.run, int64(p.Call), int64(j.campaign), leadArg(p.Lead), p.Number,
			j.s.node, int64(p.Agent), p.Stamps[CallQueued], rec.DialedAt(), stamp(p.Stamps[CallRinging]),
			p.Stamps[CallAnsweredHuman], p.Stamps[CallConnected], j.epoch, int64(p.TransferredFrom), rec.direction(),
			queueArg(&rec), p.Inbound)
		return
	}
	if p.Inbound {
		w.Enqueue(insertInboundCallSQL, j.run, int64(p.Call), int64(j.campaign), p.Number, j.s.node, int64(p.Agent),
			p.Stamps[CallQueued], p.Stamps[CallConnected], j.epoch, p.Queue)
		return
	}
	switch p.State {
	case CallDialing:
		w.Enqueue(insertCallSQL, j.run, int64(p.Call), int64(j.campaign), leadArg(p.Lead), p.Number, j.s.node,
			agentArg(p.Agent), p.At, j.epoch)
	case CallRinging:
		w.Enqueue(ringingCallSQL, j.run, int64(p.Call), p.At)
	case CallAnsweredHuman:
		w.Enqueue(answeredCallSQL, j.run, int64(p.Call), p.At, "human")
	case CallAnsweredMachine:
		w.Enqueue(answeredCallSQL, j.run, int64(p.Call), p.At, "machine")
	case CallConnected:
		w.Enqueue(connectedCallSQL, j.run, int64(p.Call), p.At, int64(p.Agent))
	}
}

func (j *StoreJournal) CallEnded(e *CallEnd) {
	r := e.Record
	var answeredBy *string
	switch {
	case !r.Stamps[CallAnsweredHuman].IsZero():
		answeredBy = ptr("human")
	case !r.Stamps[CallAnsweredMachine].IsZero():
		answeredBy = ptr("machine")
	}
	var agent *int64
	if r.HasAgent {
		agent = ptr(int64(r.Agent))
	}
	var dispo *string
	var dispoAt *time.Time
	if e.Disposition != "" {
		dispo, dispoAt = &e.Disposition, ptr(r.EndedAt())
	}
	j.s.w.Enqueue(endedCallSQL, j.run, int64(r.ID), int64(j.campaign), leadArg(r.Lead), r.Number, j.s.node, agent,
		r.Outcome.String(), r.Abandoned, answeredBy, e.Cause, dispo, r.Stamps[CallQueued], r.DialedAt(),
		stamp(r.Stamps[CallRinging]), stamp(r.AnsweredAt()), stamp(r.Stamps[CallConnected]), r.EndedAt(), dispoAt,
		j.epoch, sipArg(r.Cause), q850Arg(r.Cause), reasonArg(r.Cause), transferredArg(r.TransferredFrom),
		r.WithoutLead, r.direction(), queueArg(r))
}

func (r *CallRecord) direction() string {
	if r.Inbound {
		return "inbound"
	}
	return "outbound"
}

func queueArg(r *CallRecord) *int64 {
	if !r.Inbound {
		return nil
	}
	return &r.Queue
}

// The cause's columns are NULL where the cause has no such part. A cause
// outside the table's ranges (a carrier's odd Reason header) loses the bad
// part rather than the record.
func sipArg(c Cause) *int16 {
	if c.SIP < 100 || c.SIP > 699 {
		return nil
	}
	return ptr(int16(c.SIP))
}

func q850Arg(c Cause) *int16 {
	if c.Q850 < 1 || c.Q850 > 127 {
		return nil
	}
	return ptr(int16(c.Q850))
}

func reasonArg(c Cause) *string {
	if c.Reason == "" {
		return nil
	}
	r := Cause{Reason: c.Reason}
	if r.Validate() != nil {
		return nil
	}
	return &c.Reason
}

func (j *StoreJournal) CallDisposed(d *CallDisposition) {
	var code *string
	if d.Code != "" {
		code = &d.Code
	}
	j.s.w.Enqueue(dispositionedCallSQL, j.run, int64(d.Call), code, d.At, d.Talk.Seconds(), d.Hold.Seconds(),
		d.Dispo.Seconds())
}

func (j *StoreJournal) CallLeadAttached(call CallID, lead LeadID) {
	j.s.w.Enqueue(attachedLeadSQL, j.run, int64(call), leadArg(lead))
}

// disposeCallTxSQL closes the agent's side of a call inside the disposition's
// transaction. A call still without a disposition, or one that only has the
// system's (a preview dial nobody answered), takes the agent's.
const disposeCallTxSQL = `
UPDATE calls SET disposition = $3, dispositioned_at = $4, talk_s = $5, hold_s = $6, dispo_s = $7, notes = $8,
	auto_disposition = $9
WHERE run_id = $1 AND seq = $2 AND state = 'ended' AND (dispositioned_at IS NULL OR outcome <> 'completed')
RETURNING id`

// savedDispositionSQL finds the agent's own disposition of a call already
// committed, when disposeCallTxSQL matched nothing.
const savedDispositionSQL = `
SELECT disposition, dispositioned_at FROM calls
WHERE run_id = $1 AND seq = $2 AND state = 'ended' AND outcome = 'completed' AND dispositioned_at IS NOT NULL
	AND agent_id = $3`

// Flush waits until this run's records so far are written (the store is
// shared, so others' are written too).
func (j *StoreJournal) Flush(ctx context.Context) error { return j.s.Flush(ctx) }

// DisposeTx writes the agent's disposition of a call in the caller's
// transaction and returns the call's row id. The call's end must have been
// written (Flush first). A call that already has the agent's disposition is
// refused with campaigns.ErrAlreadyDispositioned; when it is d.Agent's own,
// saved by an earlier try whose reply was lost, the error is a
// *dispositionSaved saying what and when.
func (j *StoreJournal) DisposeTx(ctx context.Context, tx pgx.Tx, d *CallDisposition) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, disposeCallTxSQL, j.run, int64(d.Call), d.Code, d.At, d.Talk.Seconds(), d.Hold.Seconds(),
		d.Dispo.Seconds(), d.Notes, d.Auto).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		saved := &dispositionSaved{}
		err := tx.QueryRow(ctx, savedDispositionSQL, j.run, int64(d.Call), int64(d.Agent)).Scan(&saved.Code, &saved.At)
		switch {
		case err == nil:
			return 0, fmt.Errorf("call %d of run %s: %w", d.Call, j.run, saved)
		case !errors.Is(err, pgx.ErrNoRows):
			return 0, fmt.Errorf("dispose call %d: %w", d.Call, err)
		}
		return 0, fmt.Errorf("call %d of run %s: %w", d.Call, j.run, campaigns.ErrAlreadyDispositioned)
	}
	if err != nil {
		return 0, fmt.Errorf("dispose call %d: %w", d.Call, err)
	}
	return id, nil
}

func ptr[T any](v T) *T { return &v }

func transferredArg(from CallID) *int64 {
	if from == 0 {
		return nil
	}
	return ptr(int64(from))
}

func stamp(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func leadArg(id LeadID) *int64 {
	if id == 0 {
		return nil
	}
	return ptr(int64(id))
}

func agentArg(id agents.ID) *int64 {
	if id == 0 {
		return nil
	}
	return ptr(int64(id))
}
