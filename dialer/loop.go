package dialer

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
)

// ErrLoopStopped is returned by commands sent to a loop that has stopped.
var ErrLoopStopped = errors.New("campaign loop stopped")

// TrunkDeliverer hands trunk events to a loop at a given time; a loop is
// one. Safe for use from any goroutine.
type TrunkDeliverer interface {
	Now() time.Time
	DeliverTrunk(at time.Time, ev TrunkEvent)
}

// LoopConfig configures a campaign's real-time loop.
type LoopConfig struct {
	Engine Config
	// Summary is the interval of the info-level summary line (default
	// 10 s; negative turns it off).
	Summary time.Duration
	// Commands bounds the queue of commands from other goroutines
	// (default 64); senders wait while it is full.
	Commands int
	// Dispositions lists the codes agents may save; empty accepts any.
	Dispositions []string
	// Node names this node on the leads it claims for callbacks.
	Node string
	// CallbackPoll is how often the loop looks for due callbacks of its
	// agents (default 2 s; a job falling due also nudges it at once).
	CallbackPoll time.Duration
	Logger       *slog.Logger
}

// LoopDeps are a loop's collaborators.
type LoopDeps struct {
	Clock Clock
	// Trunk builds the campaign's trunk; it delivers its events through del.
	Trunk   func(del TrunkDeliverer) (Trunk, error)
	Leads   LoopLeads
	Policy  Policy // required in ModeAuto
	History BudgetHistory
	// Learning replays recent calls into a learning policy (optional).
	Learning LearningHistory
	// Journal is written through as calls move (optional).
	Journal CallJournal
	// Agents receives every agent transition (optional).
	Agents agents.Sink
	// Sessions gets each agent session's totals at logout (optional).
	Sessions SessionTotals
	// DB, Campaign and Callbacks make dispositions transactional
	// (loop_dispo.go): with DB set, a disposition's call record, lead rules,
	// DNC and callback (with its job, through Callbacks) commit together
	// before the agent moves on, and due callbacks are offered to their
	// agents. The call record joins the transaction through TxJournal, the
	// agent's event through TxAgents (optional each). Without DB,
	// dispositions are written behind (tests, the simulator).
	DB        campaigns.TxDB
	Campaign  *campaigns.Campaign
	Callbacks campaigns.CallbackJobs
	TxJournal TxCallJournal
	TxAgents  TxAgentLog
	// Writers are the campaign's write-behind paths (outage.go): while any
	// is unhealthy the loop claims no new leads.
	Writers []WriteHealth
	// Inbound offers the campaign's agents inbound callers (optional).
	Inbound Inbound
}

// LoopLeads is a loop's lead source (HopperLeads): the engine's, and the
// attempt of a call an agent talked on, recorded with the agent's
// disposition code when the disposition is written behind (no database).
type LoopLeads interface {
	LeadSource
	CompleteDisposed(ctx context.Context, id LeadID, o Outcome, code string) error
}

// SessionTotals keeps per-session totals (agents.EventSink): the loop calls
// EndSession right after an agent's transition to LOGGED_OUT.
type SessionTotals interface {
	EndSession(agent agents.ID, at time.Time, cause agents.EventKind, s agents.Session)
}

// Loop runs one campaign's Engine in real time. One goroutine owns the
// engine and everything below; it selects over due timers and trunk events
// (one time-ordered queue, fed by the engine's Schedule and the trunk's
// DeliverTrunk), commands from other goroutines (agents, later the web
// workspace), a summary ticker, Stop and the start context. Other goroutines
// never touch the engine: they send commands and wait for the reply.
//
// Start launches the goroutine; it exits when Stop is called or the start
// context ends. On the way out it stops pacing, logs every agent out
// (finishing their calls: a connected call left without a disposition gets
// AUTO), hangs up the calls still up (an unanswered one ends failed with
// cause "shutdown"; it rang, so its attempt counts and its lead waits the
// failed retry delay) and closes subscriptions. Stop returns when it has
// exited. A graceful shutdown drains first (Drain), so at Stop nothing is
// normally left.
type Loop struct {
	cfg     LoopConfig
	deps    LoopDeps
	log     *slog.Logger
	eng     *Engine
	trunk   Trunk
	allowed map[string]bool

	nowMu sync.Mutex
	last  time.Time

	qMu  sync.Mutex
	q    dueQueue
	seq  uint64
	wake chan struct{}

	cmds     chan command
	mu       sync.Mutex
	started  bool
	stopOnce sync.Once
	stopCh   chan struct{}
	exited   chan struct{}

	// Owned by the loop goroutine. The calls themselves, their agents and
	// their leads' holds are the engine's (Call, CallWrapUp).
	agentIDs   []agents.ID
	subs       subscribers[agents.Transition]
	callSubs   subscribers[CallChange]
	nextSub    int
	prev       Counters
	dropped    int64
	claimErrAt time.Time
	cb         callbackState // loop_dispo.go
	draining   bool
	writesDown bool // outage.go

	campaign atomic.Pointer[campaigns.Campaign]
}

type command struct {
	fn    func(ctx context.Context) error
	reply chan error
	// state is cmdQueued until the loop takes the command (cmdTaken) or the
	// sender gives up on it first (cmdAbandoned: the loop skips it).
	state *atomic.Int32
}

const (
	cmdQueued int32 = iota
	cmdTaken
	cmdAbandoned
)

// NewLoop builds a stopped loop and its engine.
func NewLoop(cfg LoopConfig, deps LoopDeps) (*Loop, error) {
	if cfg.Summary == 0 {
		cfg.Summary = 10 * time.Second
	}
	if cfg.Commands == 0 {
		cfg.Commands = 64
	}
	if cfg.CallbackPoll == 0 {
		cfg.CallbackPoll = 2 * time.Second
	}
	if deps.DB != nil && deps.Campaign == nil {
		return nil, errors.New("a campaign loop with a database needs its campaign")
	}
	if deps.Clock == nil || deps.Trunk == nil || deps.Leads == nil {
		return nil, errors.New("campaign loop needs a clock, a trunk and a lead source")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	l := &Loop{
		cfg: cfg, deps: deps, log: log.With("campaign", int64(cfg.Engine.Campaign)),
		wake: make(chan struct{}, 1), cmds: make(chan command, cfg.Commands),
		stopCh: make(chan struct{}), exited: make(chan struct{}),
		subs: subscribers[agents.Transition]{}, callSubs: subscribers[CallChange]{}, cb: newCallbackState(),
	}
	if deps.Campaign != nil {
		l.campaign.Store(deps.Campaign)
	}
	if len(cfg.Dispositions) > 0 {
		l.allowed = make(map[string]bool, len(cfg.Dispositions))
		for _, c := range cfg.Dispositions {
			l.allowed[c] = true
		}
	}
	trunk, err := deps.Trunk(l)
	if err != nil {
		return nil, fmt.Errorf("campaign %d trunk: %w", cfg.Engine.Campaign, err)
	}
	l.trunk = trunk
	phones, _ := trunk.(AgentPhones)
	eng, err := NewEngine(cfg.Engine, Deps{
		Phones:    phones,
		Scheduler: l,
		Trunk:     loopTrunk{l},
		Leads:     loopLeads{l},
		Calls:     loopCalls{l},
		History:   deps.History,
		Learning:  deps.Learning,
		Policy:    deps.Policy,
		AgentSink: loopAgents{l},
		Offers:    l.offers(),
		Watcher:   loopCalls{l},
		Changes:   loopCalls{l},
		Inbound:   deps.Inbound,
		Logger:    log,
	})
	if err != nil {
		return nil, err
	}
	l.eng = eng
	return l, nil
}

// Campaign is the campaign this loop paces.
func (l *Loop) Campaign() CampaignID { return l.cfg.Engine.Campaign }

// Start restores the abandon budget and launches the loop goroutine, which
// runs until Stop or until ctx ends.
func (l *Loop) Start(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.started {
		return errors.New("campaign loop already started")
	}
	if err := l.eng.Start(ctx); err != nil {
		return err
	}
	l.started = true
	if l.deps.DB != nil {
		l.Schedule(l.Now().Add(l.cfg.CallbackPoll), Timer{Kind: timerCallbackPoll})
	}
	b := l.eng.Budget()
	l.log.Info("campaign loop started", "mode", l.eng.Config().Mode.String(), "policy", l.policyName(),
		"window_live_answers", b.Live, "window_abandons", b.Abandons)
	go l.run(ctx)
	return nil
}

// Stop ends the loop (see Loop) and returns when its goroutine has exited.
// Idempotent; safe to call before Start.
func (l *Loop) Stop() {
	l.mu.Lock()
	started := l.started
	l.mu.Unlock()
	l.stopOnce.Do(func() { close(l.stopCh) })
	if started {
		<-l.exited
	}
}

// Done is closed when the loop goroutine has exited.
func (l *Loop) Done() <-chan struct{} { return l.exited }

// Now implements Scheduler: the clock, never running backwards within a
// loop so a call's timestamps stay ordered if the wall clock is stepped.
func (l *Loop) Now() time.Time {
	t := l.deps.Clock.Now().Round(0)
	l.nowMu.Lock()
	defer l.nowMu.Unlock()
	if t.Before(l.last) {
		return l.last
	}
	l.last = t
	return t
}

// Schedule implements Scheduler.
func (l *Loop) Schedule(at time.Time, t Timer) { l.push(due{at: at, timer: t}) }

// DeliverTrunk implements TrunkDeliverer: ev reaches the engine at at.
func (l *Loop) DeliverTrunk(at time.Time, ev TrunkEvent) {
	l.push(due{at: at, trunk: ev, isTrunk: true})
}

// post runs fn on the loop goroutine as soon as it can, without waiting
// for it: safe from any goroutine, the loop's own included.
func (l *Loop) post(fn func(ctx context.Context)) { l.push(due{at: l.Now(), fn: fn}) }

// PokeInbound asks the engine to claim an inbound caller for the agent if
// they are READY (the router's Notifier.Poke); it does not wait.
func (l *Loop) PokeInbound(id agents.ID) {
	l.post(func(ctx context.Context) { l.eng.PokeInbound(ctx, id) })
}

// WithdrawInbound takes back the agent's offer of the caller on leg, if it
// still rings them; it does not wait.
func (l *Loop) WithdrawInbound(id agents.ID, leg CallID) {
	l.post(func(ctx context.Context) { l.eng.WithdrawInbound(ctx, id, leg) })
}

func (l *Loop) push(d due) {
	l.qMu.Lock()
	l.seq++
	d.seq = l.seq
	heap.Push(&l.q, d)
	l.qMu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *Loop) popDue(now time.Time) (due, bool) {
	l.qMu.Lock()
	defer l.qMu.Unlock()
	if len(l.q) == 0 || l.q[0].at.After(now) {
		return due{}, false
	}
	return heap.Pop(&l.q).(due), true
}

func (l *Loop) nextDue() (time.Time, bool) {
	l.qMu.Lock()
	defer l.qMu.Unlock()
	if len(l.q) == 0 {
		return time.Time{}, false
	}
	return l.q[0].at, true
}

func (l *Loop) run(startCtx context.Context) {
	defer close(l.exited)
	// The loop's own context: it outlives Start's caller and ends only
	// after the shutdown work (logouts, hangups, records) is done.
	ctx, cancel := context.WithCancel(context.WithoutCancel(startCtx))
	defer cancel()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var summary <-chan time.Time
	if l.cfg.Summary > 0 {
		t := time.NewTicker(l.cfg.Summary)
		defer t.Stop()
		summary = t.C
	}
	for {
		now := l.Now()
		for {
			d, ok := l.popDue(now)
			if !ok {
				break
			}
			switch {
			case d.fn != nil:
				d.fn(ctx)
			case d.isTrunk:
				l.trunkEvent(ctx, d.trunk)
			case d.timer.Kind >= timerLoopFirst:
				l.loopTimer(ctx, d)
			default:
				l.eng.HandleTimer(ctx, d.timer)
			}
		}
		if l.draining {
			l.drainStep(ctx)
		}
		if at, ok := l.nextDue(); ok {
			timer.Reset(max(at.Sub(l.Now()), 0))
		} else {
			timer.Stop()
		}
		select {
		case <-timer.C:
		case <-l.wake:
		case c := <-l.cmds:
			if !c.state.CompareAndSwap(cmdQueued, cmdTaken) {
				continue // its sender gave up before it ran
			}
			err := c.fn(ctx)
			if l.draining {
				l.drainStep(ctx)
			}
			c.reply <- err
		case <-summary:
			l.logSummary()
		case <-l.stopCh:
			l.shutdown(ctx)
			return
		case <-startCtx.Done():
			l.shutdown(ctx)
			return
		}
	}
}

// do runs fn on the loop goroutine and returns its error.
//
// A sender whose ctx ends gets ctx.Err() only if the loop had not started
// fn yet (the loop then skips it); once fn runs, do waits for it, so fn's
// writes to the sender's variables never race with the sender reading them.
func (l *Loop) do(ctx context.Context, fn func(ctx context.Context) error) error {
	reply := make(chan error, 1)
	state := new(atomic.Int32)
	select {
	case l.cmds <- command{fn: fn, reply: reply, state: state}:
	case <-l.exited:
		return ErrLoopStopped
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-l.exited:
		select {
		case err := <-reply:
			return err
		default:
			return ErrLoopStopped
		}
	case <-ctx.Done():
		if state.CompareAndSwap(cmdQueued, cmdAbandoned) {
			return ctx.Err()
		}
		select { // fn has started: its result is on the way
		case err := <-reply:
			return err
		case <-l.exited:
			select {
			case err := <-reply:
				return err
			default:
				return ErrLoopStopped
			}
		}
	}
}

// trunkCloser is a trunk with something to let go of when its campaign's
// loop stops (the SIP trunk's subscription to agents' phones).
type trunkCloser interface{ Close() }

func (l *Loop) shutdown(ctx context.Context) {
	l.eng.Stop()
	for _, id := range l.agentIDs {
		if a := l.eng.Agent(id); a != nil && a.State() != agents.LoggedOut {
			if err := l.eng.HandleAgent(ctx, id, agents.Event{Kind: agents.EvLogout}); err != nil {
				l.log.Error("log agent out at stop", "agent", int64(id), "err", err)
			}
		}
	}
	calls := l.eng.openCalls()
	for _, c := range calls {
		id := c.leg
		if err := l.trunk.Hangup(ctx, id); err != nil {
			l.log.Error("hang up call at stop", "call", uint64(id), "err", err)
		}
		l.eng.HandleTrunk(ctx, TrunkEvent{Call: id, Kind: TrunkHungUp, Cause: CauseShutdown})
	}
	if c, ok := l.trunk.(trunkCloser); ok {
		c.Close()
	}
	l.logSummary()
	l.subs.closeAll()
	l.callSubs.closeAll()
	l.log.Info("campaign loop stopped", "calls_hung_up", len(calls))
}

// trunkEvent lets the engine act on call progress; the engine's watcher
// (loopCalls) writes it through.
func (l *Loop) trunkEvent(ctx context.Context, ev TrunkEvent) { l.eng.HandleTrunk(ctx, ev) }

// Login logs an agent in to this campaign (PAUSED, code LOGIN), adding the
// agent first if this loop has not seen them.
func (l *Loop) Login(ctx context.Context, id agents.ID, cfg agents.Config) error {
	return l.do(ctx, func(ctx context.Context) error {
		if l.draining {
			return fmt.Errorf("log agent %d in: %w", id, ErrStopped)
		}
		if l.eng.Agent(id) == nil {
			if err := l.eng.AddAgent(id, cfg); err != nil {
				return err
			}
			l.agentIDs = append(l.agentIDs, id)
		}
		return l.eng.HandleAgent(ctx, id, agents.Event{Kind: agents.EvLogin})
	})
}

// AgentEvent feeds an agent's own action: ready, pause (with a code),
// hold, resume, accept or reject a preview, logout, session lost. Login,
// connect, call end and dispositions are not the agent's to send: they come
// through Login, the engine, Hangup and Dispose.
func (l *Loop) AgentEvent(ctx context.Context, id agents.ID, ev agents.Event) error {
	switch ev.Kind {
	case agents.EvReady, agents.EvPause, agents.EvHold, agents.EvResume, agents.EvAccept, agents.EvReject,
		agents.EvLogout, agents.EvSessionLost:
	default:
		return fmt.Errorf("agent %d: %s is not an agent action", id, ev.Kind)
	}
	return l.do(ctx, func(ctx context.Context) error { return l.eng.HandleAgent(ctx, id, ev) })
}

// LogoutIdle logs the agent out if READY or PAUSED, else returns
// ErrAgentBusy: a supervisor's force logout, which must neither strand a
// caller nor lose a disposition. The check and the logout happen in one
// turn of the loop, so no call can be delivered in between.
func (l *Loop) LogoutIdle(ctx context.Context, id agents.ID) error {
	return l.do(ctx, func(ctx context.Context) error {
		a := l.eng.Agent(id)
		if a == nil {
			return fmt.Errorf("agent %d: %w", id, ErrAgentNotInCampaign)
		}
		if s := a.State(); s != agents.Ready && s != agents.Paused && s != agents.DND {
			return fmt.Errorf("agent %d is %s: %w", id, s, ErrAgentBusy)
		}
		return l.eng.HandleAgent(ctx, id, agents.Event{Kind: agents.EvLogout})
	})
}

// Hangup ends the agent's current call from the agent's side.
func (l *Loop) Hangup(ctx context.Context, id agents.ID) error {
	return l.do(ctx, func(ctx context.Context) error { return l.eng.HangupCall(ctx, id) })
}

// AgentStatus is one agent as the loop sees it.
type AgentStatus struct {
	ID        agents.ID
	State     agents.State
	Since     time.Time
	PauseCode string
	// PausePending is the pause code asked for during a call, taken when
	// the disposition is saved.
	PausePending string
	// Call is the agent's connected call, or the one awaiting their
	// disposition (0: none); Lead is that call's lead.
	Call CallID
	Lead Lead
}

// LoopStatus is a campaign loop's state at one instant.
type LoopStatus struct {
	Campaign CampaignID
	Counters Counters
	Budget   BudgetState
	// Lines counts calls dialling or ringing; Waiting live answers not yet
	// connected; Connected calls bridged to agents.
	Lines, Waiting, Connected int
	Agents                    []AgentStatus
	// Warmup is how far a learning policy (predictive) is in learning the
	// campaign; nil for the others.
	Warmup *Warmup
	// Dropped counts agent updates not delivered to slow subscribers.
	Dropped int64
}

// DialLevel is the dial level as VICIdial users read it: calls dialling or
// ringing per READY agent (0 when no agent is READY). The wallboard, the
// metrics and the summary line all show this one.
func (s LoopStatus) DialLevel() float64 {
	ready := 0
	for _, a := range s.Agents {
		if a.State == agents.Ready {
			ready++
		}
	}
	if ready == 0 {
		return 0
	}
	return float64(s.Lines) / float64(ready)
}

// Status reports counters, budget, lines and agents.
func (l *Loop) Status(ctx context.Context) (LoopStatus, error) {
	var s LoopStatus
	err := l.do(ctx, func(context.Context) error {
		s = l.status()
		return nil
	})
	return s, err
}

func (l *Loop) status() LoopStatus {
	s := LoopStatus{Campaign: l.cfg.Engine.Campaign, Counters: l.eng.Counters(), Budget: l.eng.Budget(), Dropped: l.dropped}
	if w, ok := l.eng.Policy().(interface{ Warmup() Warmup }); ok {
		ws := w.Warmup()
		s.Warmup = &ws
	}
	for _, c := range l.eng.active {
		switch {
		case c.State <= CallRinging:
			s.Lines++
		case c.State == CallAnsweredHuman:
			s.Waiting++
		case c.State == CallConnected:
			s.Connected++
		}
	}
	for _, id := range l.agentIDs {
		a := l.eng.Agent(id)
		st := AgentStatus{ID: id, State: a.State(), Since: a.StateSince(), PauseCode: a.PauseCode(),
			PausePending: a.PausePending()}
		if c := l.eng.dispositionCall(id); c != nil {
			st.Call, st.Lead = c.ID, c.Lead
		}
		s.Agents = append(s.Agents, st)
	}
	return s
}

// Subscribe returns a channel of every agent transition of this campaign,
// buffered to buf. A subscriber that falls behind misses updates (counted in
// LoopStatus.Dropped) rather than stalling the campaign; it can resync from
// Status. The channel is closed by cancel or when the loop stops.
func (l *Loop) Subscribe(ctx context.Context, buf int) (<-chan agents.Transition, func(), error) {
	return subscribe(ctx, l, l.subs, buf)
}

// SubscribeCalls returns a channel of every change of a call that has an
// agent (CallChange), buffered to buf; like Subscribe, a subscriber that
// falls behind misses changes rather than stalling the campaign. The
// channel is closed by cancel or when the loop stops.
func (l *Loop) SubscribeCalls(ctx context.Context, buf int) (<-chan CallChange, func(), error) {
	return subscribe(ctx, l, l.callSubs, buf)
}

// subscribers are the channels the loop fans one kind of update out to, by
// subscription id; only the loop's goroutine touches them.
type subscribers[T any] map[int]chan T

// subscribe adds a channel buffered to buf to subs on the loop's goroutine
// and returns it with the cancel that removes and closes it.
func subscribe[T any](ctx context.Context, l *Loop, subs subscribers[T], buf int) (<-chan T, func(), error) {
	ch := make(chan T, buf)
	var id int
	err := l.do(ctx, func(context.Context) error {
		l.nextSub++
		id = l.nextSub
		subs[id] = ch
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	var once sync.Once
	cancel := func() {
		once.Do(func() {
			_ = l.do(context.Background(), func(context.Context) error {
				if c, ok := subs[id]; ok {
					close(c)
					delete(subs, id)
				}
				return nil
			})
		})
	}
	return ch, cancel, nil
}

// send gives v to every subscriber without waiting and returns how many
// were full and missed it.
func (s subscribers[T]) send(v T) (dropped int64) {
	for _, ch := range s {
		select {
		case ch <- v:
		default:
			dropped++
		}
	}
	return dropped
}

// closeAll closes and removes every subscription (the loop stops).
func (s subscribers[T]) closeAll() {
	for id, ch := range s {
		close(ch)
		delete(s, id)
	}
}

// CallChanged fans a change of an agent's call out to the call subscribers.
func (s loopCalls) CallChanged(ch CallChange) {
	s.l.dropped += s.l.callSubs.send(ch)
}

func (l *Loop) policyName() string { return l.eng.policyName() }

// fallbackPolicy is a policy that can fall back to a safer one (Predictive,
// when the abandon budget is spent); the summary line says when it has.
type fallbackPolicy interface {
	Policy
	InFallback() bool
}

// logSummary is the periodic info line: what happened since the last one,
// the abandon rate over the legal window, agents by state and the dial level
// (LoopStatus.DialLevel).
func (l *Loop) logSummary() {
	s := l.status()
	c, p := s.Counters, l.prev
	l.prev = c
	var byState [6]int
	for _, a := range s.Agents {
		if int(a.State) < len(byState) {
			byState[a.State]++
		}
	}
	attrs := []any{
		"dials", c.Dials - p.Dials, "live_answers", c.LiveAnswers - p.LiveAnswers, "connected", c.Connected - p.Connected,
		"abandons", c.Abandons - p.Abandons, "machines", c.Machines - p.Machines,
		"no_answer", c.NoAnswer - p.NoAnswer, "busy", c.Busy - p.Busy, "failed", c.Failed - p.Failed,
		"abandon_rate", fmt.Sprintf("%.2f%%", 100*s.Budget.Rate()), "window_live_answers", s.Budget.Live,
		"window_abandons", s.Budget.Abandons,
		"ready", byState[agents.Ready], "incall", byState[agents.InCall], "dispo", byState[agents.Dispo],
		"paused", byState[agents.Paused], "lines", s.Lines, "waiting", s.Waiting,
		"dial_level", fmt.Sprintf("%.2f", s.DialLevel()), "policy", l.policyName(),
	}
	if pr, ok := l.eng.Policy().(fallbackPolicy); ok {
		attrs = append(attrs, "predictive_fallback", pr.InFallback())
	}
	if s.Warmup != nil {
		attrs = append(attrs, "predictive_learning", s.Warmup.Learning)
	}
	l.log.Info("campaign summary", attrs...)
}

// loopTrunk journals the dial and the bridge, then asks the real trunk.
type loopTrunk struct{ l *Loop }

func (t loopTrunk) Dial(ctx context.Context, req DialRequest) error {
	l := t.l
	l.log.Debug("dialing", "call", uint64(req.Call), "lead", int64(req.Lead), "number", req.Number)
	l.callbackDialled(ctx, req.Lead)
	return l.trunk.Dial(ctx, req)
}

func (t loopTrunk) Bridge(ctx context.Context, call CallID, agent agents.ID) error {
	l := t.l
	l.log.Debug("call connected to agent", "call", uint64(call), "agent", int64(agent))
	return l.trunk.Bridge(ctx, call, agent)
}

func (t loopTrunk) Play(ctx context.Context, call CallID, prompt string) error {
	return t.l.trunk.Play(ctx, call, prompt)
}

func (t loopTrunk) Hangup(ctx context.Context, call CallID) error { return t.l.trunk.Hangup(ctx, call) }

// loopLeads guards claims against a failing database and takes back
// callback offers.
type loopLeads struct{ l *Loop }

// claimTimeout bounds how long a claim may hold up the loop when the
// database is slow or gone; the next tick tries again.
const claimTimeout = 2 * time.Second

// Claim reports a failing hopper once per claimErrEvery instead of on every
// tick, and never holds the loop longer than claimTimeout.
func (s loopLeads) Claim(ctx context.Context, dst []Lead, n int) ([]Lead, error) {
	l := s.l
	if !l.writesHealthy() {
		return dst, nil
	}
	ctx, cancel := context.WithTimeout(ctx, claimTimeout)
	defer cancel()
	out, err := l.deps.Leads.Claim(ctx, dst, n)
	if err != nil {
		now := l.Now()
		if now.Sub(l.claimErrAt) >= claimErrEvery {
			l.claimErrAt = now
			l.log.Error("claim leads (repeats of this error are quiet for a while)", "n", n, "err", err)
		}
		return out, nil
	}
	return out, nil
}

const claimErrEvery = 10 * time.Second

// Complete is the engine's for calls no agent talked on (a call hung up at
// stop after ringing counts as an attempt: the phone rang); the watcher
// completes the others when their disposition settles them.
func (s loopLeads) Complete(ctx context.Context, id LeadID, o Outcome) error {
	return s.l.deps.Leads.Complete(ctx, id, o)
}

func (s loopLeads) Skip(ctx context.Context, id LeadID, agent agents.ID) error {
	if s.l.declineOffer(ctx, id) {
		return nil
	}
	return s.l.deps.Leads.Skip(ctx, id, agent)
}

func (s loopLeads) Release(ctx context.Context, id LeadID) error {
	if s.l.declineOffer(ctx, id) {
		return nil
	}
	return s.l.deps.Leads.Release(ctx, id)
}

// loopCalls writes each call's progress, final record and disposition
// through as the engine moves it (the engine's CallSink and CallWatcher).
type loopCalls struct{ l *Loop }

func (s loopCalls) CallProgressed(c *Call) {
	l := s.l
	switch c.State {
	case CallDialing:
		// Logged by loopTrunk.Dial.
	case CallAnsweredHuman, CallAnsweredMachine:
		l.log.Debug("call answered", "call", uint64(c.ID), "lead", int64(c.Lead.ID), "state", c.State.String())
	case CallConnected:
		l.log.Debug("call connected", "call", uint64(c.ID), "lead", int64(c.Lead.ID), "agent", int64(c.Agent))
	}
	if l.deps.Journal == nil {
		return
	}
	p := &CallProgress{Call: c.ID, Lead: c.Lead.ID, Number: c.Lead.Number, State: c.State, At: c.Stamps[c.State]}
	if c.State == CallConnected || c.TransferredFrom != 0 {
		p.Agent = c.Agent
	}
	if c.TransferredFrom != 0 {
		p.TransferredFrom, p.Stamps = c.TransferredFrom, c.Stamps
	}
	if c.Inbound {
		p.Inbound, p.Queue, p.Stamps = true, c.Queue, c.Stamps
	}
	l.deps.Journal.CallProgress(p)
}

func (s loopCalls) RecordCall(_ context.Context, rec *CallRecord) error {
	l := s.l
	delete(l.cb.offers, rec.Lead) // a callback's attempt completes it (campaigns.Complete)
	var cause string
	if rec.Cause == CauseShutdown {
		cause = EndCauseShutdown
	}
	// A call hung up at stop still rang: it is an attempt like any other.
	dispo := SystemDisposition(rec.Outcome)
	l.log.Debug("call ended", "call", uint64(rec.ID), "lead", int64(rec.Lead), "outcome", rec.Outcome.String(),
		"agent", int64(rec.Agent), "cause", rec.Cause.String())
	if l.deps.Journal != nil {
		l.deps.Journal.CallEnded(&CallEnd{Record: rec, Cause: cause, Disposition: dispo})
	}
	return nil
}

// CallSettled records the agent's side of a call and completes its lead
// with the disposition, unless the disposition's transaction already did
// (loop_dispo.go). An agent who left a connected call without a
// disposition (logout, session lost, shutdown) gets the automatic one: the
// customer was talking to an agent, so the attempt counts and the lead waits
// AUTO's delay like any other.
func (s loopCalls) CallSettled(ctx context.Context, st *Settlement) {
	l := s.l
	if st.Saved {
		return
	}
	t := st.Transition
	if st.Left {
		l.log.Warn("agent left a connected call without a disposition; it gets the automatic one", "agent",
			int64(st.Agent), "call", uint64(st.Call), "lead", int64(st.Lead), "event", t.Event.String(), "code", st.Code)
	}
	var times agents.CallTimes
	if t.Call != nil {
		times = *t.Call
	}
	if l.deps.Journal != nil {
		l.deps.Journal.CallDisposed(&CallDisposition{Call: st.Call, Code: st.Code, At: t.At,
			Talk: times.Talk, Hold: times.Hold, Dispo: times.Dispo})
	}
	l.log.Debug("call dispositioned", "agent", int64(st.Agent), "call", uint64(st.Call), "lead", int64(st.Lead),
		"disposition", st.Code, "talk_s", times.Talk.Seconds(), "dispo_s", times.Dispo.Seconds())
	if st.Attached != 0 {
		l.settleAttached(ctx, st)
		return
	}
	if st.NoLead {
		return // handed on: the call that has the customer completes the lead
	}
	if err := l.deps.Leads.CompleteDisposed(ctx, st.Lead, OutcomeCompleted, st.Code); err != nil {
		l.log.Error("record attempt", "lead", int64(st.Lead), "err", err)
	}
}

// loopAgents keeps session totals, watches for wrap-up and logins, and fans
// agent transitions out to subscribers.
type loopAgents struct{ l *Loop }

func (s loopAgents) AppendTransition(t agents.Transition) {
	l := s.l
	if l.deps.Agents != nil {
		l.deps.Agents.AppendTransition(t)
	}
	l.watchAgent(t)
	if t.To == agents.LoggedOut && l.deps.Sessions != nil {
		if a := l.eng.Agent(t.Agent); a != nil {
			l.deps.Sessions.EndSession(t.Agent, t.At, t.Event, a.Session())
		}
	}
	l.dropped += l.subs.send(t)
}

// Drain stops the campaign placing calls on this node (it is shutting
// down): no new dial, preview or callback offer; offers still ringing are
// withdrawn. Calls in flight run to their natural end, live answers are
// still connected to READY agents, and agents disposition their calls as
// usual. Once no unanswered call is in flight, agents who are not on a call
// or in wrap-up are logged out, and the others as soon as they leave
// wrap-up; Idle then reports true.
func (l *Loop) Drain(ctx context.Context) error {
	return l.do(ctx, func(ctx context.Context) error {
		if l.draining {
			return nil
		}
		l.draining = true
		l.eng.Stop()
		l.eng.WithdrawOffers(ctx)
		l.log.Info("campaign draining: no new calls; calls in progress run to their end",
			"dials", l.eng.Counters().Dials)
		return nil
	})
}

// drainStep logs out the agents a draining loop no longer needs.
func (l *Loop) drainStep(ctx context.Context) {
	for _, c := range l.eng.active {
		if c.State < CallConnected {
			return // an answer may still need an agent
		}
	}
	for _, id := range l.agentIDs {
		a := l.eng.Agent(id)
		switch a.State() {
		case agents.Ready, agents.Paused:
			if err := l.eng.HandleAgent(ctx, id, agents.Event{Kind: agents.EvLogout}); err != nil {
				l.log.Error("log agent out while draining", "agent", int64(id), "err", err)
			}
		}
	}
}

// Idle reports whether a draining loop has nothing left: no call open and
// every agent logged out.
func (l *Loop) Idle(ctx context.Context) (bool, error) {
	var idle bool
	err := l.do(ctx, func(context.Context) error {
		idle = len(l.eng.active) == 0
		for _, id := range l.agentIDs {
			if l.eng.Agent(id).State() != agents.LoggedOut {
				idle = false
			}
		}
		return nil
	})
	return idle, err
}

// due is one entry of the loop's time-ordered queue.
type due struct {
	at      time.Time
	seq     uint64
	isTrunk bool
	timer   Timer
	trunk   TrunkEvent
	// the loop's own wrap-up timer: whose, and the DISPO it was started for
	agent agents.ID
	since time.Time
	// fn is work another goroutine posted without waiting (post).
	fn func(ctx context.Context)
}

type dueQueue []due

func (q dueQueue) Len() int { return len(q) }
func (q dueQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q dueQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *dueQueue) Push(x any)   { *q = append(*q, x.(due)) }
func (q *dueQueue) Pop() any {
	old := *q
	d := old[len(old)-1]
	*q = old[:len(old)-1]
	return d
}
