package dialer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
)

// ManagerConfig configures the campaign manager.
type ManagerConfig struct {
	// Node names this node on lead claims and call records.
	Node string
	// Poll is how often the campaigns table is read for campaigns to start
	// and stop (default 3 s). LISTEN/NOTIFY on status changes will make
	// this prompt; the poll stays as the safety net.
	Poll time.Duration
	// Summary is each loop's summary-line interval (default 10 s).
	Summary time.Duration
	// CallbackPoll is how often each loop looks for its agents' due
	// callbacks (default 2 s).
	CallbackPoll time.Duration
	Logger       *slog.Logger
}

// ManagerDeps are what the manager builds loops from.
type ManagerDeps struct {
	DB    campaigns.TxDB
	Clock Clock
	// Trunk builds a campaign's trunk (the simulated carrier in `pacer
	// serve`, later SIP); del delivers its events to the campaign's loop.
	Trunk func(c *campaigns.Campaign, del TrunkDeliverer) (Trunk, error)
	// Calls journals calls and restores abandon budgets (optional).
	Calls *CallStore
	// Agents records sessions and the agent state log (optional).
	Agents *agents.EventStore
	// Callbacks queues the jobs of callbacks that dispositions schedule
	// (package jobs' Runner). Required: dispositions are saved in one
	// transaction with their callback's job.
	Callbacks campaigns.CallbackJobs
}

// Manager runs a Loop for every active campaign: one goroutine polls the
// campaigns table, starts a loop (with its HopperLeads) when a campaign turns
// active, stops it when the campaign is paused, archived or deleted, and
// restarts it when a setting the engine was built from changes (mode, ratio,
// abandon target, rules, ring timeout, connect deadline, caller ID, message);
// other settings (window, retries, attempt limits) reach the running hopper.
// Other goroutines find a campaign's loop with Loop, a message to the manager
// goroutine. Start does the first poll and launches the goroutine; Stop stops
// every loop and returns when all goroutines have exited.
type Manager struct {
	cfg  ManagerConfig
	deps ManagerDeps
	log  *slog.Logger

	reqs     chan loopReq
	mu       sync.Mutex
	started  bool
	stopOnce sync.Once
	stopCh   chan struct{}
	exited   chan struct{}

	// Owned by the manager goroutine (and Start before it runs).
	running map[CampaignID]*managed
	// loops mirrors running for lock-free lookups from other goroutines
	// (CallbackDue).
	loops sync.Map // CampaignID → *Loop
}

type managed struct {
	loop   *Loop
	leads  *HopperLeads
	engine string // the settings the engine was built from
}

type loopReq struct {
	id    CampaignID
	reply chan *Loop
}

// NewManager returns a stopped manager.
func NewManager(cfg ManagerConfig, deps ManagerDeps) (*Manager, error) {
	if cfg.Node == "" {
		return nil, errors.New("campaign manager needs a node name")
	}
	if deps.DB == nil || deps.Clock == nil || deps.Trunk == nil {
		return nil, errors.New("campaign manager needs a database, a clock and a trunk")
	}
	if cfg.Poll == 0 {
		cfg.Poll = 3 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Manager{cfg: cfg, deps: deps, log: log, reqs: make(chan loopReq),
		stopCh: make(chan struct{}), exited: make(chan struct{}), running: map[CampaignID]*managed{}}, nil
}

// Start starts a loop for each active campaign and launches the polling
// goroutine, which runs until Stop or until ctx ends.
func (m *Manager) Start(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.started {
		return errors.New("campaign manager already started")
	}
	if err := m.sync(ctx); err != nil {
		m.stopAll()
		return err
	}
	m.started = true
	go m.run(ctx)
	return nil
}

// Stop stops every campaign loop and the manager. Idempotent.
func (m *Manager) Stop() {
	m.mu.Lock()
	started := m.started
	m.mu.Unlock()
	m.stopOnce.Do(func() { close(m.stopCh) })
	if started {
		<-m.exited
	}
}

// Loop returns the running loop of a campaign, or ErrLoopStopped when the
// campaign is not running on this node.
func (m *Manager) Loop(ctx context.Context, id CampaignID) (*Loop, error) {
	reply := make(chan *Loop, 1)
	select {
	case m.reqs <- loopReq{id: id, reply: reply}:
	case <-m.exited:
		return nil, ErrLoopStopped
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case l := <-reply:
		if l == nil {
			return nil, fmt.Errorf("campaign %d: %w", id, ErrLoopStopped)
		}
		return l, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (m *Manager) run(startCtx context.Context) {
	defer close(m.exited)
	ctx, cancel := context.WithCancel(context.WithoutCancel(startCtx))
	defer cancel()
	t := time.NewTicker(m.cfg.Poll)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if err := m.sync(ctx); err != nil {
				m.log.Error("read campaigns", "err", err)
			}
		case r := <-m.reqs:
			var l *Loop
			if mc := m.running[r.id]; mc != nil {
				l = mc.loop
			}
			r.reply <- l
		case <-m.stopCh:
			m.stopAll()
			return
		case <-startCtx.Done():
			m.stopAll()
			return
		}
	}
}

// sync makes the running loops match the active campaigns.
func (m *Manager) sync(ctx context.Context) error {
	list, err := campaigns.List(ctx, m.deps.DB)
	if err != nil {
		return err
	}
	active := map[CampaignID]bool{}
	for i := range list {
		c := &list[i]
		if c.Status != campaigns.StatusActive {
			continue
		}
		id := CampaignID(c.ID)
		active[id] = true
		mc := m.running[id]
		if mc != nil && mc.engine != engineSettings(c) {
			m.log.Info("campaign settings changed; restarting its loop", "campaign", int64(id))
			m.stop(id)
			mc = nil
		}
		if mc == nil {
			if err := m.start(ctx, c); err != nil {
				m.log.Error("start campaign", "campaign", int64(id), "name", c.Name, "err", err)
			}
			continue
		}
		mc.leads.SetCampaign(*c)
		mc.loop.SetCampaign(*c)
	}
	for id := range m.running {
		if !active[id] {
			m.log.Info("campaign no longer active; stopping its loop", "campaign", int64(id))
			m.stop(id)
		}
	}
	return nil
}

func (m *Manager) start(ctx context.Context, c *campaigns.Campaign) error {
	cfg, pol, err := EngineConfig(c)
	if err != nil {
		return err
	}
	dispos, err := campaigns.Dispositions(ctx, m.deps.DB, c.ID)
	if err != nil {
		return err
	}
	var codes []string
	for _, d := range dispos {
		if !d.System {
			codes = append(codes, d.Code)
		}
	}
	log := m.log.With("campaign_name", c.Name)
	leads := NewHopperLeads(m.deps.DB, *c, m.deps.Clock, HopperLeadsConfig{Node: m.cfg.Node, Logger: log})
	deps := LoopDeps{
		Clock:     m.deps.Clock,
		Trunk:     func(del TrunkDeliverer) (Trunk, error) { return m.deps.Trunk(c, del) },
		Leads:     leads,
		Policy:    pol,
		DB:        m.deps.DB,
		Campaign:  c,
		Callbacks: m.deps.Callbacks,
		Writers:   []WriteHealth{leads},
	}
	if m.deps.Calls != nil {
		deps.History = m.deps.Calls
		deps.Learning = m.deps.Calls
		deps.Journal = m.deps.Calls.Journal(cfg.Campaign)
		deps.Writers = append(deps.Writers, m.deps.Calls)
	}
	if m.deps.Agents != nil {
		deps.Agents = m.deps.Agents.Sink(int64(c.ID))
		deps.Writers = append(deps.Writers, m.deps.Agents)
	}
	loop, err := NewLoop(LoopConfig{Engine: cfg, Summary: m.cfg.Summary, Dispositions: codes, Node: m.cfg.Node,
		CallbackPoll: m.cfg.CallbackPoll, Logger: log}, deps)
	if err != nil {
		return err
	}
	if err := leads.Start(ctx); err != nil {
		return err
	}
	if err := loop.Start(ctx); err != nil {
		leads.Stop()
		return err
	}
	m.running[cfg.Campaign] = &managed{loop: loop, leads: leads, engine: engineSettings(c)}
	m.loops.Store(cfg.Campaign, loop)
	return nil
}

func (m *Manager) stop(id CampaignID) {
	mc := m.running[id]
	if mc == nil {
		return
	}
	delete(m.running, id)
	m.loops.Delete(id)
	mc.loop.Stop()
	mc.leads.Stop()
}

func (m *Manager) stopAll() {
	var wg sync.WaitGroup
	for id := range m.running {
		mc := m.running[id]
		delete(m.running, id)
		m.loops.Delete(id)
		wg.Add(1)
		go func() {
			defer wg.Done()
			mc.loop.Stop()
			mc.leads.Stop()
		}()
	}
	wg.Wait()
}

// engineSettings is the part of a campaign an engine is built from.
func engineSettings(c *campaigns.Campaign) string {
	return fmt.Sprintf("%s|%g|%g|%s|%g|%d|%d|%s|%s", c.Mode, c.PowerRatio, c.AbandonTarget, c.Rules, c.AMDFalsePositive,
		c.RingTimeoutS, c.ConnectDeadlineMS, c.CallerID, c.InfoMessage)
}

// ukAMDFalsePositive is the share of machine detections counted as
// abandoned people: Ofcom's rule, so only under UK rules.
func ukAMDFalsePositive(c *campaigns.Campaign) float64 {
	if c.Rules != campaigns.RulesUK {
		return 0
	}
	return c.AMDFalsePositive
}

// CallbackDue tells the campaign's loop on this node, if it runs here, that
// a callback of one of its agents fell due, so it is offered at once. It
// never blocks (jobs calls it from a worker).
func (m *Manager) CallbackDue(campaign campaigns.ID, _ int64) {
	if l, ok := m.loops.Load(CampaignID(campaign)); ok {
		l.(*Loop).KickCallbacks()
	}
}

// CampaignAgents reports the agents of a campaign running on this node:
// available are READY, longest waiting first; loggedIn are all logged in.
// ok is false when the campaign does not run here.
func (m *Manager) CampaignAgents(ctx context.Context, campaign campaigns.ID) (available, loggedIn []int64, ok bool) {
	v, found := m.loops.Load(CampaignID(campaign))
	if !found {
		return nil, nil, false
	}
	st, err := v.(*Loop).Status(ctx)
	if err != nil {
		return nil, nil, false
	}
	ready := make([]AgentStatus, 0, len(st.Agents))
	for _, a := range st.Agents {
		if a.State == agents.LoggedOut {
			continue
		}
		loggedIn = append(loggedIn, int64(a.ID))
		if a.State == agents.Ready {
			ready = append(ready, a)
		}
	}
	slices.SortStableFunc(ready, func(a, b AgentStatus) int { return a.Since.Compare(b.Since) })
	for _, a := range ready {
		available = append(available, int64(a.ID))
	}
	return available, loggedIn, true
}

// EngineConfig turns a campaign's settings into an engine configuration and
// pacing policy (nil for preview and manual).
func EngineConfig(c *campaigns.Campaign) (Config, Policy, error) {
	cfg := Config{
		Campaign:         CampaignID(c.ID),
		RingTimeout:      c.RingTimeout(),
		ConnectDeadline:  c.ConnectDeadline(),
		AbandonTarget:    c.AbandonTarget,
		AbandonWindow:    c.AbandonWindow(),
		AMDFalsePositive: ukAMDFalsePositive(c),
		InfoPrompt:       c.InfoMessage,
		CallerID:         c.CallerID,
	}
	var pol Policy
	switch c.Mode {
	case campaigns.ModePredictive:
		p, err := NewPredictive(PredictiveConfig{Target: c.AbandonTarget, RingTimeout: c.RingTimeout()})
		if err != nil {
			return cfg, nil, err
		}
		pol = p
	case campaigns.ModePower:
		pol = Power{Ratio: c.PowerRatio}
	case campaigns.ModePreview:
		cfg.Mode = ModePreview
	case campaigns.ModeManual:
		cfg.Mode = ModeManual
	default:
		return cfg, nil, fmt.Errorf("campaign %d: unknown mode %q", c.ID, c.Mode)
	}
	return cfg, pol, nil
}
