package dialer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"slices"
	"time"

	"github.com/pacer-dialer/pacer/agents"
)

// Scheduler is the engine's view of its driver: the clock, and a way to be
// called back later. Timers are never cancelled: a timer that fires after
// its call moved on is recognised and ignored, which keeps both the virtual
// driver's queue and the real-time driver simple.
type Scheduler interface {
	Now() time.Time
	// Schedule arranges for Engine.HandleTimer(t) to run on the engine's
	// goroutine at (or, in real time, just after) at.
	Schedule(at time.Time, t Timer)
}

// TimerKind says what a timer is for.
type TimerKind uint8

const (
	TimerTick TimerKind = iota + 1
	TimerRingTimeout
	TimerConnectDeadline
	// TimerOfferTimeout ends an inbound offer nobody answered (Timer.Call
	// is the caller's leg).
	TimerOfferTimeout
)

// Timer is a deferred engine wake-up.
type Timer struct {
	Kind TimerKind
	Call CallID
}

// Deps are the engine's collaborators. Trunk, Leads and Scheduler are
// required; the Trunk must not call back into the engine synchronously.
type Deps struct {
	Scheduler Scheduler
	Trunk     Trunk
	Leads     LeadSource
	Calls     CallSink      // optional
	History   BudgetHistory // optional; restores the abandon budget on Start
	// Learning, optional, replays recent calls and wrap-ups into a policy
	// that learns (predictive) on Start.
	Learning LearningHistory
	Policy   Policy // required in ModeAuto
	// AgentSink receives every agent transition (optional).
	AgentSink agents.Sink
	// Offers gives an agent who becomes READY a lead of their own to offer
	// before any new call (optional; see engine_offer.go).
	Offers PriorityOffers
	// Watcher is told of each call's progress and of each disposition
	// that settles a call (optional). With a Watcher, the lead of a call an
	// agent talked on is completed by the Watcher when the call is settled
	// (it knows the disposition code); without one, the engine completes it
	// when the customer's leg ends.
	Watcher CallWatcher
	// Changes is told of every change of a call that has an agent
	// (optional).
	Changes CallChanges
	// Phones, when the trunk gives agents legs of their own, is asked to
	// set up and tear down each agent's leg (optional; see AgentPhones).
	Phones AgentPhones
	// Inbound, when the campaign's agents serve inbound queues, offers
	// them callers and tells pacing what to leave free (optional; see
	// engine_inbound.go).
	Inbound Inbound
	Logger  *slog.Logger
}

// Counters are running totals since the engine started.
type Counters struct {
	Dials         int64
	LiveAnswers   int64 // connected + abandoned
	Abandons      int64
	Connected     int64
	Machines      int64
	Busy          int64
	Failed        int64
	NoAnswer      int64
	Invalid       int64 // numbers the network says do not exist
	PromptsPlayed int64
	// DuplicateLeads counts claimed leads refused because another call to
	// the same lead was still in flight.
	DuplicateLeads int64
	// InboundConnected counts inbound callers an agent took. Inbound calls
	// are in none of the outbound counters above.
	InboundConnected int64
}

type agentSlot struct {
	a        *agents.Agent
	call     *Call  // open call (bridged, or preview/manual dial in progress)
	wrap     *Call  // the call in wrap-up, awaiting the agent's disposition
	settled  CallID // the last call the agent's disposition settled, until logout
	wrapping bool   // call ended, agent not READY again yet
	callEnd  time.Time
	offer    Lead // preview reservation while RINGING
	offered  bool
	// skipped holds the leads the agent skipped, until when they are not
	// offered to them again; offerAfter pauses their previews while only
	// such a lead is due.
	skipped    map[LeadID]time.Time
	offerAfter time.Time
	readyIdx   int // index in Engine.ready, -1 when not queued
	// phoneUp: the agent's own leg is up (only kept with Deps.Phones).
	phoneUp bool
	// readyOnPhone: the agent asked for READY while their phone was being
	// called; they are READY when it answers, unless they pause meanwhile.
	readyOnPhone bool
	// inOffer is the inbound caller ringing the agent (inOffered);
	// inboundCall: the agent's current or last call is inbound, until they
	// are READY again (its wrap-up teaches pacing nothing).
	inOffer     InboundOffer
	inOffered   bool
	inboundCall bool
	// dedicated: the agent takes only inbound calls; outbound pacing does
	// not count them and no outbound answer is given to them.
	dedicated bool
}

// Engine paces one campaign. It is not safe for concurrent use: exactly one
// goroutine (the driver) calls its methods.
type Engine struct {
	cfg    Config
	deps   Deps
	log    *slog.Logger
	obs    Observer
	budget *Budget

	idBase   CallID // the run's first call id minus one (Config.CallIDBase)
	nextID   CallID
	calls    map[CallID]*Call
	active   []*Call // calls not ended, in a stable (deterministic) order
	free     []*Call
	inFlight map[LeadID]CallID

	agents    map[agents.ID]*agentSlot
	agentList []*agentSlot
	ready     []*agentSlot          // READY agents, longest waiting first
	waiting   []*Call               // live answers without an agent, oldest first
	inOffers  map[CallID]*agentSlot // inbound offers ringing, by caller's leg

	counters Counters
	snap     Snapshot
	claimBuf []Lead
	rec      CallRecord
	started  bool
	stopped  bool
}

// NewEngine checks the configuration and wires the engine; call Start
// before feeding it events.
func NewEngine(cfg Config, deps Deps) (*Engine, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("campaign %d engine config: %w", cfg.Campaign, err)
	}
	if deps.Scheduler == nil || deps.Trunk == nil || deps.Leads == nil {
		return nil, errors.New("engine needs a scheduler, a trunk and a lead source")
	}
	if cfg.Mode == ModeAuto && deps.Policy == nil {
		return nil, errors.New("auto mode needs a pacing policy")
	}
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	e := &Engine{
		cfg:      cfg,
		deps:     deps,
		log:      log.With("campaign", int64(cfg.Campaign)),
		budget:   NewBudget(cfg.AbandonTarget, cfg.AbandonWindow).WithAMDFalsePositive(cfg.AMDFalsePositive),
		calls:    make(map[CallID]*Call),
		inFlight: make(map[LeadID]CallID),
		agents:   make(map[agents.ID]*agentSlot),
		inOffers: make(map[CallID]*agentSlot),
		idBase:   cfg.CallIDBase,
		nextID:   cfg.CallIDBase,
	}
	if o, ok := deps.Policy.(Observer); ok {
		e.obs = o
	}
	return e, nil
}

// Config returns the engine's effective configuration.
func (e *Engine) Config() Config { return e.cfg }

// Counters returns running totals.
func (e *Engine) Counters() Counters { return e.counters }

// Budget returns the abandon budget now.
func (e *Engine) Budget() BudgetState { return e.budget.State(e.now()) }

// Start restores the abandon budget from history and starts the pacing tick.
func (e *Engine) Start(ctx context.Context) error {
	if e.started {
		return errors.New("engine already started")
	}
	now := e.now()
	if e.deps.History != nil {
		hist, err := e.deps.History.BudgetHistory(ctx, e.cfg.Campaign, now.Add(-e.cfg.AbandonWindow))
		if err != nil {
			return fmt.Errorf("restore abandon budget for campaign %d: %w", e.cfg.Campaign, err)
		}
		e.budget.Restore(hist)
	}
	if l, ok := e.deps.Policy.(Learner); ok && e.deps.Learning != nil {
		e.learn(ctx, l)
	}
	e.started = true
	e.deps.Scheduler.Schedule(now.Add(e.cfg.Tick), Timer{Kind: TimerTick})
	return nil
}

// learnWindow is how much history a learning policy is given at start: its
// own observation windows hold about this many.
const learnWindow = 1000

// learn replays the campaign's recent calls and wrap-ups into the policy.
// History that cannot be read costs only a cold start, so it is logged, not
// returned.
func (e *Engine) learn(ctx context.Context, l Learner) {
	calls, err := e.deps.Learning.RecentCalls(ctx, e.cfg.Campaign, learnWindow)
	if err != nil {
		e.log.Warn("pacing starts without history", "err", err)
		return
	}
	for i := range calls {
		l.LearnCall(&calls[i])
	}
	wraps, err := e.deps.Learning.RecentWraps(ctx, e.cfg.Campaign, learnWindow)
	if err != nil {
		e.log.Warn("pacing starts without wrap-up history", "err", err)
		return
	}
	for _, w := range wraps {
		l.ObserveWrap(w)
	}
	e.log.Info("pacing learned from history", "calls", len(calls), "wrapups", len(wraps))
}

// ErrStopped refuses a dial or offer once the engine has stopped pacing
// (its node is draining).
var ErrStopped = errors.New("the campaign is not placing calls on this node (shutting down)")

// Stop ends pacing: no new calls are placed, no lead is offered and the tick
// stops. Calls in flight still finish normally as their events arrive, and
// live answers are still connected to READY agents. Idempotent.
func (e *Engine) Stop() { e.stopped = true }

func (e *Engine) now() time.Time { return e.deps.Scheduler.Now() }

// AddAgent makes an agent (logged out) known to this campaign.
func (e *Engine) AddAgent(id agents.ID, cfg agents.Config) error {
	if _, ok := e.agents[id]; ok {
		return fmt.Errorf("agent %d already in campaign %d", id, e.cfg.Campaign)
	}
	s := &agentSlot{a: agents.New(id, cfg, e.deps.Scheduler, e.deps.AgentSink), readyIdx: -1}
	s.dedicated = e.deps.Inbound != nil && e.deps.Inbound.Dedicated(id)
	e.agents[id] = s
	e.agentList = append(e.agentList, s)
	return nil
}

// Agent returns the agent's state machine for read-only use (accounting,
// state), or nil.
func (e *Engine) Agent(id agents.ID) *agents.Agent {
	if s, ok := e.agents[id]; ok {
		return s.a
	}
	return nil
}

// HandleAgent feeds an agent event (from the workspace, or the simulator's
// agents). Accept and reject of a preview offer dial or skip the lead.
func (e *Engine) HandleAgent(ctx context.Context, id agents.ID, ev agents.Event) error {
	s, ok := e.agents[id]
	if !ok {
		return fmt.Errorf("agent %d not in campaign %d", id, e.cfg.Campaign)
	}
	if (ev.Kind == agents.EvLogout || ev.Kind == agents.EvSessionLost) && s.call != nil {
		// The agent leaves mid-call: finish the call first; the agent's own
		// logout closes its call accounting. A guest in another agent's
		// conference leaves it to the host and the customer.
		c := s.call
		s.call = nil
		if !c.guest() {
			e.hangup(ctx, c)
		}
		if c.State != CallEnded {
			e.end(ctx, c, ceHangup, CauseAgentLoggedOut)
		}
	}
	if e.deps.Phones != nil && ev.Kind == agents.EvLogin && s.a.State() == agents.LoggedOut {
		if err := e.deps.Phones.JoinAgent(ctx, id); err != nil {
			return fmt.Errorf("log agent %d in: %w", id, err)
		}
		s.phoneUp = false
	}
	if ev.Kind == agents.EvHold || ev.Kind == agents.EvResume {
		// Hold is the customer leg's (a re-INVITE) and the agent's (hold
		// time) at once: both must accept it before either changes.
		return e.holdOrResume(ctx, id, 0, ev)
	}
	if s.inOffered && s.a.State() == agents.Ringing && (ev.Kind == agents.EvAccept || ev.Kind == agents.EvReject) {
		err := e.answerInbound(ctx, s, ev.Kind)
		e.pace(ctx)
		return err
	}
	if s.offered && s.a.State() == agents.Ringing {
		if err := e.answerOffer(ctx, s, ev, true); err != nil {
			return err
		}
		e.pace(ctx)
		return nil
	}
	if err := e.applyAgent(ctx, s, ev); err != nil {
		return err
	}
	e.pace(ctx)
	return nil
}

// HangupCall ends the agent's current call from the agent's side.
func (e *Engine) HangupCall(ctx context.Context, id agents.ID) error {
	s, ok := e.agents[id]
	if !ok {
		return fmt.Errorf("agent %d, campaign %d: %w", id, e.cfg.Campaign, ErrAgentNotInCampaign)
	}
	if s.call == nil {
		return fmt.Errorf("agent %d has no call to hang up: %w", id, ErrNoCall)
	}
	c := s.call
	if err := c.guestRefusal(); err != nil {
		return err
	}
	e.hangup(ctx, c)
	e.end(ctx, c, ceHangup, CauseAgentHangup)
	e.pace(ctx)
	return nil
}

// PreviewDial dials the lead offered to the agent.
func (e *Engine) PreviewDial(ctx context.Context, id agents.ID) error {
	return e.HandleAgent(ctx, id, agents.Event{Kind: agents.EvAccept})
}

// PreviewSkip returns the offered lead to the hopper undialled.
func (e *Engine) PreviewSkip(ctx context.Context, id agents.ID) error {
	return e.HandleAgent(ctx, id, agents.Event{Kind: agents.EvReject})
}

// PreviewLead is the lead currently offered to the agent, if any.
func (e *Engine) PreviewLead(id agents.ID) (Lead, bool) {
	s, ok := e.agents[id]
	if !ok || !s.offered {
		return Lead{}, false
	}
	return s.offer, true
}

// ManualDial dials lead for a READY agent, who is put in the call at once
// and hears it ring.
func (e *Engine) ManualDial(ctx context.Context, id agents.ID, lead Lead) (CallID, error) {
	s, ok := e.agents[id]
	if !ok {
		return 0, fmt.Errorf("agent %d not in campaign %d", id, e.cfg.Campaign)
	}
	if s.a.State() != agents.Ready {
		return 0, fmt.Errorf("manual dial by agent %d: agent is %s, not READY", id, s.a.State())
	}
	if e.stopped {
		return 0, fmt.Errorf("manual dial by agent %d: %w", id, ErrStopped)
	}
	if other, busy := e.inFlight[lead.ID]; busy {
		return 0, fmt.Errorf("manual dial of lead %d: already in call %d", lead.ID, other)
	}
	if err := e.applyAgent(ctx, s, agents.Event{Kind: agents.EvDial}); err != nil {
		return 0, err
	}
	c := e.dial(ctx, lead, s)
	if c == nil {
		e.dialNotPlaced(ctx, s)
		return 0, fmt.Errorf("manual dial of lead %d failed", lead.ID)
	}
	return c.ID, nil
}

// applyAgent runs one agent transition and keeps the engine's view (ready
// queue, wrap-up tracking, waiting calls) in step with it.
func (e *Engine) applyAgent(ctx context.Context, s *agentSlot, ev agents.Event) error {
	return e.applyAgentDisposal(ctx, s, ev, nil)
}

// applyAgentDisposal is applyAgent; a transition that takes the agent off
// their call in wrap-up settles it with d (nil: the agent left it without a
// disposition).
func (e *Engine) applyAgentDisposal(ctx context.Context, s *agentSlot, ev agents.Event, d *Disposal) error {
	from := s.a.State()
	if e.phoneDown(s) && (ev.Kind == agents.EvDial || ev.Kind == agents.EvReady && from == agents.Paused) {
		s.readyOnPhone = ev.Kind == agents.EvReady
		return ErrPhoneDown // said to the agent as it is
	}
	if ev.Kind == agents.EvPause || ev.Kind == agents.EvLogout || ev.Kind == agents.EvSessionLost {
		s.readyOnPhone = false
	}
	tr, err := s.a.Apply(ev)
	if err != nil {
		return err
	}
	to := tr.To
	if e.deps.Inbound != nil {
		e.deps.Inbound.AgentChanged(s.a.ID(), e.cfg.Campaign, to, tr.At)
	}
	if s.wrap != nil && to != agents.Dispo && (tr.Call != nil || from == agents.Dispo) {
		e.settle(ctx, s.wrap, s, tr, d)
	}
	if from == agents.Ready && to != agents.Ready {
		e.unready(s)
	}
	switch to {
	case agents.Dispo:
		if from == agents.InCall {
			s.wrapping = true
			s.callEnd = tr.At
		}
	case agents.LoggedOut:
		s.wrapping = false
		s.settled = 0
		if e.deps.Phones != nil && from != agents.LoggedOut {
			e.deps.Phones.LeaveAgent(ctx, s.a.ID())
		}
		if s.offered {
			s.offered = false
			if err := e.deps.Leads.Release(ctx, s.offer.ID); err != nil {
				e.log.Error("release preview lead on logout", "lead", int64(s.offer.ID), "err", err)
			}
		}
		if s.inOffered {
			// The caller goes on to the next agent.
			s.inOffered = false
			delete(e.inOffers, s.inOffer.Leg)
			e.deps.Inbound.Pass(s.inOffer.Leg, s.a.ID(), false, tr.At)
		}
	case agents.Ready:
		if from != agents.Ready {
			if s.wrapping && e.obs != nil {
				if !s.inboundCall {
					e.obs.ObserveWrap(tr.At.Sub(s.callEnd))
				} else if o, ok := e.obs.(InboundObserver); ok {
					o.ObserveInboundWrap(tr.At.Sub(s.callEnd))
				}
			}
			s.wrapping, s.inboundCall = false, false
			if e.phoneDown(s) {
				// Back from a call (or wrap-up) with no phone to take the next.
				return e.applyAgent(ctx, s, agents.Event{Kind: agents.EvPause, PauseCode: agents.PauseCodePhone})
			}
			// An outbound answer waiting first (the 2-second rule), then
			// an inbound caller, then the agent's own callback, then new
			// outbound work.
			if (len(e.waiting) == 0 || s.dedicated) && e.claimInbound(ctx, s) {
				return nil
			}
			if s.dedicated {
				return nil // READY for inbound only: out of the outbound queue
			}
			if e.offerOwn(ctx, s) {
				return nil
			}
			s.readyIdx = len(e.ready)
			e.ready = append(e.ready, s)
			e.serveWaiting(ctx)
		}
	}
	return nil
}

func (e *Engine) unready(s *agentSlot) {
	i := s.readyIdx
	if i < 0 {
		return
	}
	e.ready = slices.Delete(e.ready, i, i+1)
	for j := i; j < len(e.ready); j++ {
		e.ready[j].readyIdx = j
	}
	s.readyIdx = -1
}

// serveWaiting connects waiting live answers to READY agents, oldest call to
// longest-waiting agent.
func (e *Engine) serveWaiting(ctx context.Context) {
	for len(e.waiting) > 0 && len(e.ready) > 0 {
		c := e.waiting[0]
		e.waiting = e.waiting[1:]
		e.connect(ctx, c, e.ready[0])
	}
}

// HandleTrunk feeds call progress from the trunk.
func (e *Engine) HandleTrunk(ctx context.Context, ev TrunkEvent) {
	if ev.Kind == TrunkPhoneUp || ev.Kind == TrunkPhoneDown {
		e.phoneChanged(ctx, ev)
		e.pace(ctx)
		return
	}
	c, ok := e.calls[ev.Call]
	if !ok {
		return // the call already ended here (ring timeout, abandon); late news
	}
	switch ev.Kind {
	case TrunkRinging:
		if c.State == CallDialing {
			e.step(c, ceRinging)
		}
	case TrunkAnsweredHuman:
		if e.step(c, ceAnswerHuman) {
			e.answered(ctx, c)
		}
	case TrunkAnsweredMachine:
		if e.step(c, ceAnswerMachine) {
			// Answering-machine detection drops the call before any agent
			// hears it; it is not a live answer.
			e.hangup(ctx, c)
			e.end(ctx, c, ceDropMachine, CauseMachineDropped)
		}
	case TrunkBusy:
		e.end(ctx, c, ceBusy, ev.Cause)
	case TrunkFailed:
		e.end(ctx, c, ceFailed, ev.Cause)
	case TrunkNoAnswer:
		e.end(ctx, c, ceNoAnswer, ev.Cause)
	case TrunkInvalidNumber:
		e.end(ctx, c, ceInvalid, ev.Cause)
	case TrunkDTMF:
		e.customerDTMF(c, ev.Digit)
		return
	case TrunkTransferAnswered, TrunkTransferFailed:
		e.transferDone(ctx, c, ev)
	case TrunkHungUp:
		if c.State == CallAnsweredHuman {
			e.removeWaiting(c)
		}
		e.end(ctx, c, ceHangup, ev.Cause)
	}
	e.pace(ctx)
}

// HandleTimer runs a timer the engine scheduled.
func (e *Engine) HandleTimer(ctx context.Context, t Timer) {
	switch t.Kind {
	case TimerTick:
		if e.stopped {
			return
		}
		e.pace(ctx)
		e.deps.Scheduler.Schedule(e.now().Add(e.cfg.Tick), t)
	case TimerRingTimeout:
		c, ok := e.calls[t.Call]
		if !ok || (c.State != CallDialing && c.State != CallRinging) {
			return
		}
		e.hangup(ctx, c)
		e.end(ctx, c, ceNoAnswer, CauseRingTimeout)
		e.pace(ctx)
	case TimerOfferTimeout:
		e.offerTimedOut(ctx, t.Call)
	case TimerConnectDeadline:
		c, ok := e.calls[t.Call]
		if !ok || c.State != CallAnsweredHuman {
			return
		}
		e.removeWaiting(c)
		if err := e.deps.Trunk.Play(ctx, c.leg, c.Settings.InfoPrompt); err != nil {
			e.log.Error("play abandon message", "call", uint64(c.ID), "err", err)
		} else {
			e.counters.PromptsPlayed++
		}
		e.hangup(ctx, c)
		e.end(ctx, c, ceDeadline, CauseAbandoned)
		e.pace(ctx)
	}
}

func (e *Engine) removeWaiting(c *Call) {
	if i := slices.Index(e.waiting, c); i >= 0 {
		e.waiting = slices.Delete(e.waiting, i, i+1)
	}
}

// step applies a call event, logging (not failing) if the table refuses:
// trunks can report progress out of order and that must not kill a campaign.
func (e *Engine) step(c *Call, ev callEvent) bool {
	from := c.State
	if err := c.apply(ev, e.now()); err != nil {
		e.log.Warn("ignored call event", "err", err)
		return false
	}
	if e.deps.Watcher != nil && progressed(from, c.State) {
		e.deps.Watcher.CallProgressed(c)
	}
	e.callChanged(c, from, ev)
	return true
}

func (e *Engine) answered(ctx context.Context, c *Call) {
	if c.HasAgent { // preview or manual: the agent is already on the line
		s := e.agents[c.Agent]
		if s.a.State() == agents.Dialing {
			if err := e.applyAgent(ctx, s, agents.Event{Kind: agents.EvAnswer}); err != nil {
				e.log.Error("agent's call answered", "agent", int64(c.Agent), "err", err)
			}
		}
		e.bridge(ctx, c, s)
		return
	}
	if len(e.ready) > 0 {
		e.connect(ctx, c, e.ready[0])
		return
	}
	e.waiting = append(e.waiting, c)
	e.deps.Scheduler.Schedule(e.now().Add(c.Settings.ConnectDeadline), Timer{Kind: TimerConnectDeadline, Call: c.ID})
}

// connect gives a waiting live answer to a READY agent.
func (e *Engine) connect(ctx context.Context, c *Call, s *agentSlot) {
	if err := e.applyAgent(ctx, s, agents.Event{Kind: agents.EvConnect}); err != nil {
		e.log.Error("connect agent", "agent", int64(s.a.ID()), "err", err)
		return
	}
	c.Agent, c.HasAgent = s.a.ID(), true
	e.bridge(ctx, c, s)
}

func (e *Engine) bridge(ctx context.Context, c *Call, s *agentSlot) {
	s.call = c
	e.step(c, ceConnect)
	if c.Inbound {
		return // already bridged by answerInbound
	}
	e.budget.Record(e.now(), false)
	e.counters.LiveAnswers++
	e.counters.Connected++
	if err := e.deps.Trunk.Bridge(ctx, c.leg, s.a.ID()); err != nil {
		e.log.Error("bridge call", "call", uint64(c.ID), "agent", int64(s.a.ID()), "err", err)
		e.hangup(ctx, c)
		e.end(ctx, c, ceHangup, CauseBridgeFailed)
	}
}

func (e *Engine) hangup(ctx context.Context, c *Call) {
	if err := e.deps.Trunk.Hangup(ctx, c.leg); err != nil {
		e.log.Error("hang up call", "call", uint64(c.ID), "err", err)
	}
}

// end moves a call to its terminal state for cause and settles everything
// that hangs off it: lead, call record, budget, agent, learning.
func (e *Engine) end(ctx context.Context, c *Call, ev callEvent, cause Cause) {
	if !e.step(c, ev) || (c.State != CallEnded && c.State != CallWrapUp) {
		return
	}
	c.Cause = cause
	wrap := c.State == CallWrapUp
	// A conference's two calls part: the host's end takes its guest's part
	// with it; a guest's end leaves the host with the customer.
	var guest *Call
	if p := c.partner; p != nil {
		c.partner, p.partner = nil, nil
		if !c.noLead {
			guest = p
		}
	}
	now := c.Stamps[c.State]
	switch c.Outcome {
	case OutcomeAbandoned:
		e.budget.Record(now, true)
		e.counters.LiveAnswers++
		e.counters.Abandons++
	case OutcomeMachine:
		e.budget.RecordMachine(now)
		e.counters.Machines++
	case OutcomeBusy:
		e.counters.Busy++
	case OutcomeFailed:
		e.counters.Failed++
	case OutcomeNoAnswer:
		e.counters.NoAnswer++
	case OutcomeInvalid:
		e.counters.Invalid++
	}

	last := len(e.active) - 1
	e.active[c.idx] = e.active[last]
	e.active[c.idx].idx = c.idx
	e.active = e.active[:last]
	if e.calls[c.leg] == c {
		delete(e.calls, c.leg)
	}
	if e.inFlight[c.Lead.ID] == c.ID {
		delete(e.inFlight, c.Lead.ID)
	}

	if c.holdsLead() && (!wrap || e.deps.Watcher == nil) {
		if err := e.deps.Leads.Complete(ctx, c.Lead.ID, c.Outcome); err != nil {
			e.log.Error("complete lead", "lead", int64(c.Lead.ID), "err", err)
		}
	}
	e.rec = CallRecord{
		ID: c.ID, Campaign: c.Campaign, Lead: c.Lead.ID, Number: c.Lead.Number,
		Agent: c.Agent, HasAgent: c.HasAgent, Outcome: c.Outcome,
		Abandoned: c.Outcome == OutcomeAbandoned, Stamps: c.Stamps, Cause: c.Cause, TransferredFrom: c.TransferredFrom,
		WithoutLead: !c.holdsLead(), Inbound: c.Inbound, Queue: c.Queue,
	}
	e.rec.Stamps[CallEnded] = now
	if e.deps.Calls != nil {
		if err := e.deps.Calls.RecordCall(ctx, &e.rec); err != nil {
			e.log.Error("record call", "call", uint64(c.ID), "err", err)
		}
	}
	if e.obs != nil && c.TransferredFrom == 0 && !c.Inbound {
		// A transferred call is not a dial the pacing learns from.
		e.obs.ObserveCall(&e.rec)
	}
	if o, ok := e.obs.(InboundObserver); ok && c.Inbound && c.TransferredFrom == 0 && !c.Stamps[CallConnected].IsZero() {
		o.ObserveInboundTalk(now.Sub(c.Stamps[CallConnected]))
	}
	var s *agentSlot
	if c.HasAgent {
		s = e.agents[c.Agent]
	}
	switch {
	case s != nil && s.call == c:
		s.call = nil
		if wrap {
			s.wrap = c
		}
		switch s.a.State() {
		case agents.InCall:
			if err := e.applyAgent(ctx, s, agents.Event{Kind: agents.EvCallEnd}); err != nil {
				e.log.Error("end agent call", "agent", int64(c.Agent), "err", err)
			}
		case agents.Dialing:
			// Nobody answered the agent's own dial: the outcome is the
			// lead's (completed above), and the agent has nothing to
			// disposition.
			if err := e.applyAgent(ctx, s, agents.Event{Kind: agents.EvUnanswered}); err != nil {
				e.log.Error("end agent's unanswered dial", "agent", int64(c.Agent), "err", err)
			}
		}
	case s != nil && wrap && s.call == nil && s.wrap == nil:
		// The agent is leaving the call (logout): their logout settles it.
		s.wrap = c
	}
	if wrap && (s == nil || s.wrap != c) {
		// Nobody left to disposition it.
		e.settle(ctx, c, s, agents.Transition{Agent: c.Agent, At: now}, nil)
	} else if !wrap {
		e.release(c)
	}
	if guest != nil {
		e.end(ctx, guest, ceHangup, cause)
	}
}

// outOfIDs: this run of the campaign has used all its call ids (they are
// never reused); the loop must be restarted (a new lease epoch) for more.
func (e *Engine) outOfIDs() bool { return e.nextID-e.idBase >= 1<<CallIDBits-1 }

// newCall takes a Call from the free list (or a new one) for the next call
// id, which it reserves; the caller fills it in.
func (e *Engine) newCall() *Call {
	var c *Call
	if n := len(e.free); n > 0 {
		c = e.free[n-1]
		e.free = e.free[:n-1]
	} else {
		c = new(Call)
	}
	e.nextID++
	return c
}

func (e *Engine) release(c *Call) {
	*c = Call{}
	e.free = append(e.free, c)
}

// openCalls lists the calls not ended nor in wrap-up, by id.
func (e *Engine) openCalls() []*Call {
	out := slices.Clone(e.active)
	slices.SortFunc(out, func(a, b *Call) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// dial places one call; s is the agent who owns it (preview/manual) or nil.
func (e *Engine) dial(ctx context.Context, lead Lead, s *agentSlot) *Call {
	if _, busy := e.inFlight[lead.ID]; busy {
		// The hopper handed out a lead we are already calling. Dialling it
		// twice at once would ring one person on two lines; give it back.
		e.counters.DuplicateLeads++
		if err := e.deps.Leads.Release(ctx, lead.ID); err != nil {
			e.log.Error("release duplicate lead", "lead", int64(lead.ID), "err", err)
		}
		return nil
	}
	if e.outOfIDs() {
		// Out of call ids for this run: never reuse one. The campaign's
		// loop must be restarted (a new lease epoch) to dial again.
		e.log.Error("this run of the campaign has used all its call ids; restart the campaign to dial again",
			"calls", uint64(e.nextID-e.idBase))
		if err := e.deps.Leads.Release(ctx, lead.ID); err != nil {
			e.log.Error("release lead", "lead", int64(lead.ID), "err", err)
		}
		return nil
	}
	c := e.newCall()
	now := e.now()
	*c = Call{ID: e.nextID, Campaign: e.cfg.Campaign, Lead: lead, Settings: e.cfg.callSettings(), leg: e.nextID,
		idx: len(e.active)}
	c.Stamps[CallQueued] = now
	if s != nil {
		c.Agent, c.HasAgent = s.a.ID(), true
		s.call = c
	}
	e.calls[c.leg] = c
	e.active = append(e.active, c)
	e.inFlight[lead.ID] = c.ID
	e.step(c, ceDial)
	e.counters.Dials++
	err := e.deps.Trunk.Dial(ctx, DialRequest{Call: c.ID, Lead: lead.ID, Number: lead.Number, CallerID: c.Settings.CallerID,
		RingTimeout: c.Settings.RingTimeout})
	if err != nil {
		e.log.Error("dial", "call", uint64(c.ID), "lead", int64(lead.ID), "err", err)
		e.end(ctx, c, ceFailed, CauseDialNotSent)
		return nil
	}
	e.deps.Scheduler.Schedule(now.Add(c.Settings.RingTimeout), Timer{Kind: TimerRingTimeout, Call: c.ID})
	return c
}

// pace runs the campaign's dialing decision.
func (e *Engine) pace(ctx context.Context) {
	if !e.started || e.stopped {
		return
	}
	switch e.cfg.Mode {
	case ModeManual:
		return
	case ModePreview:
		e.offerPreviews(ctx)
		return
	}
	s := e.snapshot()
	if e.deps.Inbound != nil {
		load := e.deps.Inbound.Load(e.cfg.Campaign, s.Now)
		if load.Stop {
			return
		}
		s.Reserve, s.InboundWaiting, s.InboundPerSec = load.Reserve, load.Waiting, load.ArrivalsPerSec
	}
	n := e.deps.Policy.Decide(s)
	limit := int(math.Ceil(e.cfg.MaxLinesPerAgent*float64(s.LoggedIn))) + 1 - s.Dialing - s.Waiting
	n = min(n, limit)
	if n <= 0 {
		return
	}
	var err error
	e.claimBuf, err = e.deps.Leads.Claim(ctx, e.claimBuf[:0], n)
	if err != nil {
		e.log.Error("claim leads", "n", n, "err", err)
	}
	for _, l := range e.claimBuf {
		e.dial(ctx, l, nil)
	}
}

// offerPreviews reserves a lead for each READY agent, but leaves as many of
// the longest-waiting ones free as there are calls placed without an agent
// still to be answered (dialled before the campaign switched to preview):
// those answers need an agent or are abandoned.
func (e *Engine) offerPreviews(ctx context.Context) {
	now := e.now()
	for i := e.unownedCalls(); i < len(e.ready); {
		s := e.ready[i]
		if now.Before(s.offerAfter) {
			i++
			continue
		}
		var err error
		e.claimBuf, err = e.deps.Leads.Claim(ctx, e.claimBuf[:0], 1)
		if err != nil {
			e.log.Error("claim preview lead", "err", err)
			return
		}
		if len(e.claimBuf) == 0 {
			return
		}
		if s.heldBack(e.claimBuf[0].ID, now) {
			// The agent skipped this lead a moment ago and nothing else is
			// due: it waits for another agent, or for the hold to pass.
			if err := e.deps.Leads.Release(ctx, e.claimBuf[0].ID); err != nil {
				e.log.Error("release lead the agent skipped", "lead", int64(e.claimBuf[0].ID), "err", err)
			}
			s.offerAfter = now.Add(skippedRecheck)
			i++
			continue
		}
		s.offer, s.offered = e.claimBuf[0], true
		if err := e.applyAgent(ctx, s, agents.Event{Kind: agents.EvOffer}); err != nil {
			s.offered = false
			_ = e.deps.Leads.Release(ctx, s.offer.ID)
			i++
		}
	}
}

// unownedCalls counts calls dialling, ringing or answered that no agent
// asked for: each will want a READY agent if a person answers.
func (e *Engine) unownedCalls() int {
	n := 0
	for _, c := range e.active {
		if !c.HasAgent && c.State <= CallAnsweredHuman && c.State != CallQueued {
			n++
		}
	}
	return n
}

// snapshot fills the reused Snapshot for the policy.
func (e *Engine) snapshot() *Snapshot {
	now := e.now()
	s := &e.snap
	*s = Snapshot{Now: now, Busy: s.Busy[:0], InFlight: s.InFlight[:0], RingTimeout: e.cfg.RingTimeout}
	for _, a := range e.agentList {
		if a.dedicated {
			continue // not outbound's
		}
		switch a.a.State() {
		case agents.LoggedOut:
			continue
		case agents.Ready:
			s.Ready++
		case agents.InCall, agents.Dialing:
			s.InCall++
			if a.call != nil && a.call.State >= CallConnected {
				s.Busy = append(s.Busy, BusyAgent{Talking: true, Inbound: a.call.Inbound, Age: now.Sub(a.call.Stamps[CallConnected])})
			}
		case agents.Dispo:
			s.Dispo++
		case agents.Paused:
			s.Paused++
		case agents.Ringing:
			s.Ringing++
		}
		s.LoggedIn++
		if a.wrapping {
			s.Busy = append(s.Busy, BusyAgent{Inbound: a.inboundCall, Age: now.Sub(a.callEnd)})
		}
	}
	for _, c := range e.active {
		switch c.State {
		case CallDialing, CallRinging:
			if !c.HasAgent {
				s.Dialing++
				s.InFlight = append(s.InFlight, now.Sub(c.Stamps[CallDialing]))
			}
		case CallAnsweredHuman:
			s.Waiting++
		}
	}
	s.Budget = e.budget.State(now)
	return s
}
