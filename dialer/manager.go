package dialer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
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
	// LeaseTTL is how long a campaign lease lasts without renewal
	// (default 15 s); leases are renewed every third of it, and one whose
	// renewal failed again at every poll.
	LeaseTTL time.Duration
	Logger   *slog.Logger
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
	// Inbound offers the campaigns' agents inbound callers (optional).
	Inbound Inbound
}

// Manager runs a Loop for every active campaign this node owns: one goroutine
// polls the campaigns table; for an active campaign it does not run, it takes
// the campaign's lease (lease.go) while it holds fewer than its fair share
// (active campaigns over live nodes, rounded up) and starts a loop (with its
// HopperLeads) fenced by the lease's epoch; it renews the leases of its loops
// every third of the lease TTL, stops a loop whose lease was lost, and stops a
// loop and releases its lease when the campaign is paused, archived or
// deleted. Changed settings never restart a loop: those the engine was built
// from (mode, ratio, abandon target, rules, AMD false positive, ring timeout,
// connect deadline, caller ID, message) reach it through Loop.Reconfigure,
// the rest (window, retries, attempt limits, wrap-up) through the hopper's
// and the loop's SetCampaign. Calls in flight and agents are untouched.
// Other goroutines find a campaign's loop with Loop, a message to the manager
// goroutine. Start does the first poll and launches the goroutine; Stop stops
// every loop and returns when all goroutines have exited.
type Manager struct {
	cfg  ManagerConfig
	deps ManagerDeps
	log  *slog.Logger

	reqs     chan loopReq
	drains   chan chan []*Loop
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
	drain atomic.Bool
}

type managed struct {
	loop     *Loop
	leads    *HopperLeads
	lease    Lease
	draining bool   // the loop drains; its lease was handed over
	lapsed   bool   // the last renewal did not reach the database
	engine   string // the settings the engine was built from
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
	if cfg.LeaseTTL == 0 {
		cfg.LeaseTTL = 15 * time.Second
	}

	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Manager{cfg: cfg, deps: deps, log: log, reqs: make(chan loopReq), drains: make(chan chan []*Loop),
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
	renew := time.NewTicker(m.cfg.LeaseTTL / 3)
	defer renew.Stop()
	for {
		select {
		case <-t.C:
			if err := m.sync(ctx); err != nil {
				m.log.Error("read campaigns", "err", err)
			}
		case <-renew.C:
			m.renew(ctx, false)
		case reply := <-m.drains:
			reply <- m.drainAll(ctx)
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

// sync renews this node's leases, then makes the running loops match the
// active campaigns this node may own.
func (m *Manager) sync(ctx context.Context) error {
	m.renew(ctx, true)
	list, err := campaigns.List(ctx, m.deps.DB)
	if err != nil {
		return err
	}
	active := map[CampaignID]*campaigns.Campaign{}
	var ids []CampaignID
	for i := range list {
		c := &list[i]
		if c.Status != campaigns.StatusActive {
			continue
		}
		id := CampaignID(c.ID)
		active[id] = c
		ids = append(ids, id)
	}
	for id := range m.running {
		if active[id] == nil {
			m.log.Info("campaign no longer active; stopping its loop", "campaign", int64(id))
			m.stop(ctx, id, true)
		}
	}
	for _, id := range ids {
		c, mc := active[id], m.running[id]
		if mc == nil {
			continue
		}
		if mc.engine != engineSettings(c) {
			// Applied live: a restart would hang up every call and log
			// every agent out (DESIGN.md §7).
			if err := mc.loop.Reconfigure(ctx, *c); err != nil {
				m.log.Error("apply campaign settings; the next poll tries again", "campaign", int64(id), "err", err)
			} else {
				m.log.Info("campaign settings applied to its running loop", "campaign", int64(id), "mode", c.Mode)
				mc.engine = engineSettings(c)
			}
		}
		mc.leads.SetCampaign(*c)
		mc.loop.SetCampaign(*c)
	}
	if m.draining() {
		return nil
	}
	share, err := m.fairShare(ctx, len(ids))
	if err != nil {
		return err
	}
	for _, id := range ids {
		if len(m.running) >= share {
			break
		}
		if m.running[id] != nil {
			continue
		}
		c := active[id]
		lease, err := AcquireLease(ctx, m.deps.DB, id, m.cfg.Node, m.cfg.LeaseTTL)
		if errors.Is(err, ErrLeaseHeld) {
			continue
		}
		if err != nil {
			return err
		}
		if err := m.start(ctx, c, lease); err != nil {
			m.log.Error("start campaign", "campaign", int64(id), "name", c.Name, "err", err)
			if rerr := ReleaseLease(ctx, m.deps.DB, lease); rerr != nil {
				m.log.Error("release lease of a campaign that did not start", "campaign", int64(id), "err", rerr)
			}
		}
	}
	return nil
}

// fairShare is how many campaigns this node may own: the active campaigns
// over the live nodes, rounded up (at least one node: this one).
func (m *Manager) fairShare(ctx context.Context, active int) (int, error) {
	nodes, err := LiveNodes(ctx, m.deps.DB)
	if err != nil {
		return 0, err
	}
	nodes = max(nodes, 1)
	return (active + nodes - 1) / nodes, nil
}

// renew extends the lease of every running loop (only those whose last
// renewal failed when lapsed is set: every poll retries them, so dialling
// resumes within a poll of a database outage); a loop whose lease was lost
// stops at once (another node owns the campaign now). A renewal that fails
// for another reason (the database is unreachable) is tried again: the
// lease's epoch stays ours until someone takes it, and the fenced claims
// place no call meanwhile.
func (m *Manager) renew(ctx context.Context, lapsed bool) {
	for id, mc := range m.running {
		if mc.draining || (lapsed && !mc.lapsed) {
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, m.cfg.LeaseTTL/3)
		l, err := RenewLease(rctx, m.deps.DB, mc.lease, m.cfg.LeaseTTL)
		cancel()
		switch {
		case err == nil:
			mc.lease, mc.lapsed = l, false
		case errors.Is(err, ErrLeaseLost):
			m.log.Error("campaign lease lost to another node; stopping its loop here", "campaign", int64(id),
				"epoch", mc.lease.Epoch)
			m.stop(ctx, id, false)
		default:
			mc.lapsed = true
			m.log.Warn("renew campaign lease", "campaign", int64(id), "err", err)
		}
	}
}

// Drain is a graceful shutdown's first half: the manager takes no more
// campaigns, every loop stops placing calls (Loop.Drain) and its lease is
// released so another node takes the campaign's new dialling at once, while
// the calls in progress here run to their end. It returns when every loop is
// idle (no call open, every agent logged out) or ctx ends; Stop then stops
// what is left (ending the calls still up).
func (m *Manager) Drain(ctx context.Context) error {
	reply := make(chan []*Loop, 1)
	select {
	case m.drains <- reply:
	case <-m.exited:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	var loops []*Loop
	select {
	case loops = <-reply:
	case <-ctx.Done():
		return ctx.Err()
	}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for len(loops) > 0 {
		idle, err := loops[0].Idle(ctx)
		switch {
		case errors.Is(err, ErrLoopStopped) || idle:
			loops = loops[1:]
			continue
		case err != nil:
			return err
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (m *Manager) drainAll(ctx context.Context) []*Loop {
	m.drain.Store(true)
	var loops []*Loop
	for id, mc := range m.running {
		if mc.draining {
			loops = append(loops, mc.loop)
			continue
		}
		if err := mc.loop.Drain(ctx); err != nil {
			m.log.Error("drain campaign loop", "campaign", int64(id), "err", err)
			continue
		}
		mc.draining = true
		rctx, cancel := context.WithTimeout(ctx, m.cfg.LeaseTTL/3)
		if err := ReleaseLease(rctx, m.deps.DB, mc.lease); err != nil {
			m.log.Warn("hand over campaign lease; it expires by itself", "campaign", int64(id), "err", err)
		}
		cancel()
		loops = append(loops, mc.loop)
	}
	return loops
}

func (m *Manager) draining() bool { return m.drain.Load() }

func (m *Manager) start(ctx context.Context, c *campaigns.Campaign, lease Lease) error {
	cfg, pol, err := EngineConfig(c)
	if err != nil {
		return err
	}
	cfg.CallIDBase = CallIDBase(lease.Epoch)
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
	leads := NewHopperLeads(m.deps.DB, *c, m.deps.Clock, HopperLeadsConfig{Node: m.cfg.Node, Epoch: lease.Epoch,
		Logger: log, Callbacks: m.deps.Callbacks})
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
		j := m.deps.Calls.Journal(cfg.Campaign)
		j.SetEpoch(lease.Epoch)
		deps.Journal, deps.TxJournal = j, j
		deps.Writers = append(deps.Writers, m.deps.Calls)
	}
	if m.deps.Agents != nil {
		sink := m.deps.Agents.Sink(int64(c.ID))
		deps.Agents, deps.Sessions, deps.TxAgents = sink, sink, sink
		deps.Writers = append(deps.Writers, m.deps.Agents)
	}
	deps.Inbound = m.deps.Inbound
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
	m.running[cfg.Campaign] = &managed{loop: loop, leads: leads, lease: lease, engine: engineSettings(c)}
	log.Info("campaign owned by this node", "campaign", int64(c.ID), "epoch", lease.Epoch)
	m.loops.Store(cfg.Campaign, loop)
	return nil
}

// stop stops a campaign's loop and, when release is set, frees its lease
// for any node once the loop's records are written.
func (m *Manager) stop(ctx context.Context, id CampaignID, release bool) {
	mc := m.running[id]
	if mc == nil {
		return
	}
	delete(m.running, id)
	m.loops.Delete(id)
	mc.loop.Stop()
	mc.leads.Stop()
	if release {
		if err := ReleaseLease(ctx, m.deps.DB, mc.lease); err != nil {
			m.log.Warn("release campaign lease; it expires by itself", "campaign", int64(id), "err", err)
		}
	}
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
			ctx, cancel := context.WithTimeout(context.Background(), m.cfg.Poll)
			defer cancel()
			if err := ReleaseLease(ctx, m.deps.DB, mc.lease); err != nil {
				m.log.Warn("release campaign lease; it expires by itself", "campaign", int64(id), "err", err)
			}
		}()
	}
	wg.Wait()
}

// engineSettings is the part of a campaign an engine is built from: its
// change is what sends the loop a Reconfigure.
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
// Running returns the loop of a campaign this node runs, without waiting
// for the manager's goroutine: safe from any goroutine, a loop's own
// included (the inbound router's requests).
func (m *Manager) Running(id CampaignID) (*Loop, bool) {
	l, ok := m.loops.Load(id)
	if !ok {
		return nil, false
	}
	return l.(*Loop), true
}

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
		PreviewSkipHold:  c.PreviewSkipHold(),
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
