package dialer

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/migrations/pgbatch"
)

// Clock is the time source of the real-time parts of the engine.
type Clock interface {
	Now() time.Time
}

// HopperLeads is the LeadSource of a campaign stored in PostgreSQL: claims go
// through the campaigns hopper (FOR UPDATE SKIP LOCKED, so two loops or nodes
// never hold the same lead) and attempts are recorded with
// campaigns.Complete, which applies retry rules, attempt limits, lock-outs
// and DNC dispositions.
//
// Claim runs on the caller's goroutine: the engine needs the leads now.
// Completions and releases are queued to one worker goroutine, because a
// completion is a small transaction the engine need not wait for; the lead
// stays `dialing` (unclaimable) until it is written, so nothing can dial it
// meanwhile. While the database cannot be reached a completion is retried
// (200 ms doubling to 5 s) for as long as the worker runs, the queue fills
// and callers wait, and Healthy is false. Start launches the worker; Stop
// finishes what is queued (trying for StopTimeout while the database is
// unreachable) and returns when it has exited.
type HopperLeads struct {
	db       campaigns.TxDB
	hopper   *campaigns.Hopper
	campaign atomic.Pointer[campaigns.Campaign]
	clock    Clock
	log      *slog.Logger
	cfg      HopperLeadsConfig
	healthy  atomic.Bool

	// ctx is the worker's own; cancel ends it StopTimeout after Stop.
	ctx    context.Context
	cancel context.CancelFunc

	q        chan leadOp
	mu       sync.Mutex
	started  bool
	stopping chan struct{}
	exited   chan struct{}
}

type leadOp struct {
	lead    LeadID
	release bool
	skip    bool
	agent   agents.ID
	outcome Outcome
	code    string
	at      time.Time
	flush   chan struct{}
}

// HopperLeadsConfig configures HopperLeads.
type HopperLeadsConfig struct {
	// Node is recorded on each claim (campaigns.RecoverStuck returns a dead
	// node's claims).
	Node string
	// Epoch is the campaign lease the claims are fenced by (0: none).
	Epoch int64
	// Queue bounds the completions waiting to be written (default 1024).
	Queue int
	// StopTimeout is how long Stop keeps trying to write completions while
	// the database is unreachable (default 10 s).
	StopTimeout time.Duration
	Logger      *slog.Logger
	// Callbacks queues the next try of a callback whose dial did not reach
	// the person (campaigns.Attempt.Callbacks); nil leaves it to the sweep.
	Callbacks campaigns.CallbackJobs
}

// WithDefaults fills unset fields.
func (c HopperLeadsConfig) WithDefaults() HopperLeadsConfig {
	if c.Queue == 0 {
		c.Queue = 1024
	}
	if c.StopTimeout == 0 {
		c.StopTimeout = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return c
}

// Backoff of a completion retried while the database is unreachable.
const (
	leadRetryMin = 200 * time.Millisecond
	leadRetryMax = 5 * time.Second
)

// NewHopperLeads returns a stopped lead source for campaign c.
func NewHopperLeads(db campaigns.TxDB, c campaigns.Campaign, clock Clock, cfg HopperLeadsConfig) *HopperLeads {
	cfg = cfg.WithDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	h := &HopperLeads{db: db, hopper: campaigns.NewHopper(cfg.Node), clock: clock, cfg: cfg,
		log: cfg.Logger.With("campaign", int64(c.ID)), q: make(chan leadOp, cfg.Queue), ctx: ctx, cancel: cancel,
		stopping: make(chan struct{}), exited: make(chan struct{})}
	h.hopper.SetEpoch(cfg.Epoch)
	h.campaign.Store(&c)
	h.healthy.Store(true)
	return h
}

// SetCampaign takes changed settings (window, retry rules, attempt limits)
// for the claims and completions that follow.
func (h *HopperLeads) SetCampaign(c campaigns.Campaign) { h.campaign.Store(&c) }

// Start launches the completion worker. It runs until Stop.
func (h *HopperLeads) Start(context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.started {
		return errors.New("lead source already started")
	}
	h.started = true
	go h.run()
	return nil
}

// Stop writes the queued completions and returns when the worker has exited.
// Idempotent.
func (h *HopperLeads) Stop() {
	h.mu.Lock()
	if !h.started {
		h.mu.Unlock()
		h.cancel()
		return
	}
	select {
	case <-h.stopping:
	default:
		close(h.stopping)
		t := time.AfterFunc(h.cfg.StopTimeout, h.cancel)
		defer t.Stop()
	}
	h.mu.Unlock()
	<-h.exited
	h.cancel()
}

// Healthy is false from the first failure to reach the database until a
// completion is written again. Cheap; safe from any goroutine.
func (h *HopperLeads) Healthy() bool { return h.healthy.Load() }

// Flush waits until every completion queued so far is written.
func (h *HopperLeads) Flush(ctx context.Context) error {
	done := make(chan struct{})
	select {
	case h.q <- leadOp{flush: done}:
	case <-h.exited:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
	case <-h.exited:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// Claim implements LeadSource.
func (h *HopperLeads) Claim(ctx context.Context, dst []Lead, n int) ([]Lead, error) {
	c := h.campaign.Load()
	got, err := h.hopper.Claim(ctx, h.db, c, n, h.clock.Now())
	if err != nil {
		return dst, err
	}
	for _, l := range got {
		dst = append(dst, Lead{ID: LeadID(l.ID), Number: l.Phone})
	}
	return dst, nil
}

// Complete implements LeadSource: the attempt takes the outcome's system
// disposition (campaigns decides which: NA, B, AA, DROP, FAIL).
func (h *HopperLeads) Complete(_ context.Context, id LeadID, o Outcome) error {
	h.enqueue(leadOp{lead: id, outcome: o, at: h.clock.Now()})
	return nil
}

// CompleteDisposed records a connected call's attempt with the agent's
// disposition code.
func (h *HopperLeads) CompleteDisposed(_ context.Context, id LeadID, o Outcome, code string) error {
	h.enqueue(leadOp{lead: id, outcome: o, code: code, at: h.clock.Now()})
	return nil
}

// Skip implements LeadSource.
func (h *HopperLeads) Skip(_ context.Context, id LeadID, agent agents.ID) error {
	h.enqueue(leadOp{lead: id, skip: true, agent: agent, at: h.clock.Now()})
	return nil
}

// Release implements LeadSource.
func (h *HopperLeads) Release(_ context.Context, id LeadID) error {
	h.enqueue(leadOp{lead: id, release: true})
	return nil
}

func (h *HopperLeads) enqueue(op leadOp) {
	select {
	case <-h.stopping:
		h.log.Error("lead completion after stop dropped; the lead stays claimed until recovered", "lead", int64(op.lead))
		return
	default:
	}
	select {
	case h.q <- op:
	case <-h.stopping:
	}
}

func (h *HopperLeads) run() {
	defer close(h.exited)
	// Completions queued before Stop are written even though the loop that
	// queued them is gone: they are the attempt records.
	ctx := h.ctx
	for {
		select {
		case op := <-h.q:
			h.apply(ctx, op)
		case <-h.stopping:
			for {
				select {
				case op := <-h.q:
					h.apply(ctx, op)
				default:
					return
				}
			}
		}
	}
}

// apply writes one completion or release, retrying while the database is
// unreachable (a lead left `dialing` would wait hours for the stuck-lead
// sweep, and its attempt would go uncounted) until ctx ends, StopTimeout
// after Stop. A refusal by the database itself is logged, not retried.
func (h *HopperLeads) apply(ctx context.Context, op leadOp) {
	if op.flush != nil {
		close(op.flush)
		return
	}
	wait := leadRetryMin
	for {
		err := h.write(ctx, op)
		if err == nil {
			if !h.healthy.Swap(true) {
				h.log.Info("database reachable again; held lead attempts written")
			}
			return
		}
		if ctx.Err() != nil {
			h.log.Error("database unreachable at stop: lead attempt not recorded; the lead stays claimed until recovered",
				"lead", int64(op.lead), "release", op.release, "outcome", op.outcome.String(), "disposition", op.code)
			return
		}
		if !pgbatch.IsConnectionError(err) {
			h.healthy.Store(true)
			h.log.Error("record attempt", "lead", int64(op.lead), "release", op.release, "outcome", op.outcome.String(),
				"disposition", op.code, "err", err)
			return
		}
		if h.healthy.Swap(false) {
			h.log.Error("database unreachable; lead attempts are held and retried until it is back", "err", err)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
		wait = min(2*wait, leadRetryMax)
	}
}

func (h *HopperLeads) write(ctx context.Context, op leadOp) error {
	if op.skip {
		c := h.campaign.Load()
		return campaigns.Skip(ctx, h.db, c.ID, campaigns.LeadID(op.lead), int64(op.agent), op.at)
	}
	if op.release {
		return campaigns.Release(ctx, h.db, campaigns.LeadID(op.lead))
	}
	c := h.campaign.Load()
	return campaigns.Complete(ctx, h.db, c, campaigns.Attempt{Lead: campaigns.LeadID(op.lead), Node: h.cfg.Node,
		Outcome: CampaignOutcome(op.outcome), Disposition: op.code, At: op.at, Callbacks: h.cfg.Callbacks})
}

// CampaignOutcome maps an engine outcome to the campaigns package's.
func CampaignOutcome(o Outcome) campaigns.Outcome {
	switch o {
	case OutcomeNoAnswer:
		return campaigns.OutcomeNoAnswer
	case OutcomeBusy:
		return campaigns.OutcomeBusy
	case OutcomeMachine:
		return campaigns.OutcomeMachine
	case OutcomeAbandoned:
		return campaigns.OutcomeAbandoned
	case OutcomeCompleted:
		return campaigns.OutcomeCompleted
	case OutcomeInvalid:
		return campaigns.OutcomeInvalid
	}
	return campaigns.OutcomeFailed
}

// SystemDisposition is the code campaigns gives an attempt no agent
// dispositioned, for the call record; "" for a connected call, which the
// agent dispositions.
func SystemDisposition(o Outcome) string {
	switch o {
	case OutcomeNoAnswer:
		return campaigns.DispoNoAnswer
	case OutcomeBusy:
		return campaigns.DispoBusy
	case OutcomeMachine:
		return campaigns.DispoMachine
	case OutcomeAbandoned:
		return campaigns.DispoDrop
	case OutcomeFailed, OutcomeInvalid:
		return campaigns.DispoFail
	}
	return ""
}

var _ LeadSource = (*HopperLeads)(nil)
