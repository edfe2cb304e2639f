package sim

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/dialer"
)

// LoopFinder finds the running loop of a campaign (the campaign manager).
type LoopFinder interface {
	Loop(ctx context.Context, id dialer.CampaignID) (*dialer.Loop, error)
}

// AgentsConfig configures simulated agents in real time.
type AgentsConfig struct {
	Campaign dialer.CampaignID
	// N agents with IDs FirstID, FirstID+1, … (FirstID default 1).
	N       int
	FirstID agents.ID
	// Sim gives talk, dispo and pause times and disposition codes.
	Sim Realtime
	// Resync is how often the agents look for their campaign's loop and
	// repair anything a missed update left undone (default 1 s).
	Resync time.Duration
	Logger *slog.Logger
	// DialRequest, when set, is how an agent accepts a queue's callback
	// request offered to them: by dialling it (blend.Requests.Dial, as
	// the workspace's "Call back now" does). Without it they reject one.
	DialRequest func(ctx context.Context, l *dialer.Loop, agent agents.ID, off dialer.InboundOffer) error
}

// Agents are simulated agents working a campaign in real time through the
// loop's command API, the same calls a browser workspace makes: they log in,
// go READY, talk for a drawn time and hang up, save a drawn disposition after
// a drawn wrap-up, now and then take a break, and go READY again.
//
// One goroutine plays all of them: it follows the loop's agent updates,
// keeps one pending action per agent and fires it when due. Every Resync it
// finds the campaign's loop (following a restart or a pause) and compares
// the loop's view of each agent with its plan. Start launches it; Stop logs
// the agents out and returns when it has exited.
type Agents struct {
	cfg    AgentsConfig
	finder LoopFinder
	clock  dialer.Clock
	log    *slog.Logger

	mu       sync.Mutex
	started  bool
	stopOnce sync.Once
	stopCh   chan struct{}
	exited   chan struct{}
}

// NewAgents returns stopped simulated agents.
func NewAgents(cfg AgentsConfig, finder LoopFinder, clock dialer.Clock) (*Agents, error) {
	if cfg.N < 1 {
		return nil, errors.New("simulated agents: N must be at least 1")
	}
	if cfg.FirstID == 0 {
		cfg.FirstID = 1
	}
	if cfg.Resync == 0 {
		cfg.Resync = time.Second
	}
	if err := cfg.Sim.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Agents{cfg: cfg, finder: finder, clock: clock, log: log.With("campaign", int64(cfg.Campaign), "sim_agents", cfg.N),
		stopCh: make(chan struct{}), exited: make(chan struct{})}, nil
}

// Start launches the agents' goroutine; it runs until Stop or ctx ends.
func (a *Agents) Start(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.started {
		return errors.New("simulated agents already started")
	}
	a.started = true
	go a.run(ctx)
	return nil
}

// Stop logs the agents out and returns when the goroutine has exited.
// Idempotent.
func (a *Agents) Stop() {
	a.mu.Lock()
	started := a.started
	a.mu.Unlock()
	a.stopOnce.Do(func() { close(a.stopCh) })
	if started {
		<-a.exited
	}
}

type actionKind uint8

const (
	actNone actionKind = iota
	actReady
	actHangup
	actDispose
	actAccept
)

type plan struct {
	kind actionKind
	at   time.Time
}

// simWorker is the state of the agents' goroutine.
type simWorker struct {
	a      *Agents
	rng    *rand.Rand
	talk   sampler
	dispo  sampler
	login  sampler
	pause  sampler
	loop   *dialer.Loop
	sub    <-chan agents.Transition
	unsub  func()
	plans  map[agents.ID]plan
	states map[agents.ID]agents.State
}

func (a *Agents) run(startCtx context.Context) {
	defer close(a.exited)
	ctx, cancel := context.WithCancel(context.WithoutCancel(startCtx))
	defer cancel()
	w := &simWorker{a: a, rng: rand.New(rand.NewPCG(a.cfg.Sim.seed(), uint64(a.cfg.Campaign)^0x94d049bb133111eb)),
		talk: a.cfg.Sim.AgentTalk.sampler(), dispo: a.cfg.Sim.Dispo.sampler(),
		login: a.cfg.Sim.LoginReady.sampler(),
		plans: map[agents.ID]plan{}, states: map[agents.ID]agents.State{}}
	if p := a.cfg.Sim.Pause; p != nil {
		w.pause = p.Pause.sampler()
	}
	defer w.leave()
	resync := time.NewTicker(a.cfg.Resync)
	defer resync.Stop()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	w.resync(ctx)
	for {
		if at, ok := w.next(); ok {
			timer.Reset(max(at.Sub(a.clock.Now()), 0))
		} else {
			timer.Stop()
		}
		select {
		case <-a.stopCh:
			return
		case <-startCtx.Done():
			return
		case <-resync.C:
			w.resync(ctx)
		case t, ok := <-w.sub:
			if !ok {
				w.detach()
				continue
			}
			w.react(t)
		case <-timer.C:
			w.fire(ctx)
		}
	}
}

func (w *simWorker) ours(id agents.ID) bool {
	return id >= w.a.cfg.FirstID && id < w.a.cfg.FirstID+agents.ID(w.a.cfg.N)
}

func (w *simWorker) detach() {
	if w.unsub != nil {
		w.unsub()
	}
	w.loop, w.sub, w.unsub = nil, nil, nil
	clear(w.plans)
	clear(w.states)
}

// resync follows the campaign's loop and repairs plans from its status.
func (w *simWorker) resync(ctx context.Context) {
	loop, err := w.a.finder.Loop(ctx, w.a.cfg.Campaign)
	if err != nil {
		if w.loop != nil {
			w.detach()
		}
		return
	}
	if loop != w.loop {
		w.detach()
		sub, unsub, err := loop.Subscribe(ctx, 1024)
		if err != nil {
			return
		}
		w.loop, w.sub, w.unsub = loop, sub, unsub
		w.a.log.Info("simulated agents joining the campaign")
	}
	st, err := w.loop.Status(ctx)
	if err != nil {
		return
	}
	seen := map[agents.ID]bool{}
	for _, s := range st.Agents {
		if !w.ours(s.ID) {
			continue
		}
		seen[s.ID] = true
		w.states[s.ID] = s.State
		if _, planned := w.plans[s.ID]; !planned {
			w.planFor(s.ID, s.State, s.PauseCode, s.Since)
		}
	}
	for i := range w.a.cfg.N {
		id := w.a.cfg.FirstID + agents.ID(i)
		if seen[id] && w.states[id] != agents.LoggedOut {
			continue
		}
		if err := w.loop.Login(ctx, id, agents.Config{}); err != nil {
			w.a.log.Debug("simulated agent login", "agent", int64(id), "err", err)
		}
	}
}

func (w *simWorker) react(t agents.Transition) {
	if !w.ours(t.Agent) {
		return
	}
	w.states[t.Agent] = t.To
	delete(w.plans, t.Agent)
	w.planFor(t.Agent, t.To, t.PauseCode, t.At)
}

// planFor decides an agent's next action from the state it entered at since.
func (w *simWorker) planFor(id agents.ID, s agents.State, pauseCode string, since time.Time) {
	var p plan
	switch s {
	case agents.Paused:
		d := w.login.draw(w.rng)
		if pauseCode != agents.PauseCodeLogin {
			d = w.pause.draw(w.rng)
		}
		p = plan{actReady, since.Add(d)}
	case agents.Ringing: // a preview lead or an inbound call is offered
		p = plan{actAccept, since.Add(w.login.draw(w.rng))}
	case agents.InCall:
		p = plan{actHangup, since.Add(w.talk.draw(w.rng))}
	case agents.Dispo:
		p = plan{actDispose, since.Add(w.dispo.draw(w.rng))}
	default:
		return
	}
	w.plans[id] = p
}

func (w *simWorker) next() (time.Time, bool) {
	var at time.Time
	for _, p := range w.plans {
		if at.IsZero() || p.at.Before(at) {
			at = p.at
		}
	}
	return at, !at.IsZero()
}

func (w *simWorker) fire(ctx context.Context) {
	if w.loop == nil {
		return
	}
	now := w.a.clock.Now()
	for id, p := range w.plans {
		if p.at.After(now) {
			continue
		}
		delete(w.plans, id)
		var err error
		switch p.kind {
		case actReady:
			err = w.loop.AgentEvent(ctx, id, agents.Event{Kind: agents.EvReady})
		case actAccept:
			err = w.accept(ctx, id)
		case actHangup:
			err = w.loop.Hangup(ctx, id)
		case actDispose:
			if pz := w.a.cfg.Sim.Pause; pz != nil && w.rng.Float64() < pz.P {
				// A break asked for during wrap-up starts when the
				// disposition is saved.
				err = w.loop.AgentEvent(ctx, id, agents.Event{Kind: agents.EvPause, PauseCode: "BREAK"})
			}
			if err == nil {
				// A callback code is recorded without scheduling a
				// callback nobody will make.
				_, err = w.loop.Disposition(ctx, id, 0, campaigns.DispositionInput{
					Code: w.a.cfg.Sim.pickCode(w.rng), NoCallback: true})
			}
		}
		if err != nil {
			// The world moved on (the customer hung up first, the loop
			// stopped); the next update or resync replans.
			w.a.log.Debug("simulated agent action", "agent", int64(id), "err", err)
		}
	}
}

// leave logs the agents out so their sessions close with their totals.
func (w *simWorker) leave() {
	if w.loop == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for i := range w.a.cfg.N {
		id := w.a.cfg.FirstID + agents.ID(i)
		if s, ok := w.states[id]; ok && s != agents.LoggedOut {
			_ = w.loop.AgentEvent(ctx, id, agents.Event{Kind: agents.EvLogout})
		}
	}
	w.detach()
}

// accept answers what rings the agent: a preview or an inbound caller is
// accepted; a callback request is dialled (AgentsConfig.DialRequest), or
// rejected when the agents cannot dial one.
func (w *simWorker) accept(ctx context.Context, id agents.ID) error {
	off, ok, err := w.loop.InboundOffer(ctx, id)
	if err != nil || !ok || off.Request == 0 {
		return w.loop.AgentEvent(ctx, id, agents.Event{Kind: agents.EvAccept})
	}
	if w.a.cfg.DialRequest == nil {
		return w.loop.AgentEvent(ctx, id, agents.Event{Kind: agents.EvReject})
	}
	return w.a.cfg.DialRequest(ctx, w.loop, id, off)
}
