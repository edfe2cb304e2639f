package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/dialer/blend"
	"github.com/pacer-dialer/pacer/dialer/sim"
	"github.com/pacer-dialer/pacer/dialer/sip"
	"github.com/pacer-dialer/pacer/inbound"
	"github.com/pacer-dialer/pacer/web"
)

// DemoQueue and DemoDID are the queue and number `pacer serve` creates on a
// database without queues, so simulated callers (--sim-inbound-per-hour,
// POST /api/v1/sim/inbound) reach the demo agents.
const (
	DemoQueue = "Support"
	DemoDID   = "+12025550100"
)

// inboundSide is serve's inbound part: the router over the stored queues,
// its event log, the simulated carrier's callers and, with SIP on, the
// callers from trunks.
type inboundSide struct {
	Router  *inbound.Router
	Callers *sim.Callers
	// SIP is the callers from SIP trunks (nil: SIP off).
	SIP    *sip.Callers
	Queues *inbound.QueueStore
	// Sounds are the queues' recordings as SIP callers hear them, kept in
	// step with the table by Reload.
	Sounds *inbound.Sounds
	Events *inbound.EventStore
	// Requests are the queue callback requests callers leave.
	Requests *blend.Requests
	// Placer sends a caller who reaches this node to a node running
	// their queue's agents, when this one runs none.
	Placer *blend.Placer
	match  func(context.Context, string) ([]inbound.LeadMatch, agents.ID, error)
	loops  *blend.Loops
	writer *inbound.LogWriter
	pool   *pgxpool.Pool
	log    *slog.Logger
	// onSIP is, per campaign running here, whether its trunk is SIP
	// (true) or the simulated carrier (false): a caller is offered only to
	// agents whose campaign's trunk carries their kind of leg.
	onSIP sync.Map // dialer.CampaignID → bool
}

// newInboundSide builds the router (not yet fed: Start does that). Engines
// reach it through Engines(); the manager must be handed to Attach before
// Start.
func newInboundSide(pool *pgxpool.Pool, node string, clock dialer.Clock, callers sim.CallersConfig,
	logger *slog.Logger) (*inboundSide, error) {
	s := &inboundSide{
		Queues: inbound.NewQueueStore(pool),
		Sounds: inbound.NewSounds(),
		Events: inbound.NewEventStore(pool),
		loops:  &blend.Loops{},
		pool:   pool,
		log:    logger,
	}
	s.writer = inbound.NewLogWriter(s.Events, node, logger)
	s.Requests = blend.NewRequests(pool, node, clock, logger)
	var err error
	s.Router, err = inbound.NewRouter(inbound.Config{}, inbound.Deps{Notify: s.loops, Line: lineOf(s), Log: s.writer,
		CanTake: s.canTake, Requests: s.Requests})
	if err != nil {
		return nil, err
	}
	s.Requests.SetRouter(s.Router)
	if s.Callers, err = sim.NewCallers(s.Router, clock, callers); err != nil {
		return nil, err
	}
	s.match = matchCaller(pool)
	s.Callers.Match = s.match
	s.Placer = blend.NewPlacer(pool, node)
	return s, nil
}

// matchCaller finds a caller's leads by their number, for every way a
// caller comes in (the simulated carrier now, a SIP trunk later).
func matchCaller(pool *pgxpool.Pool) func(context.Context, string) ([]inbound.LeadMatch, agents.ID, error) {
	return func(ctx context.Context, from string) ([]inbound.LeadMatch, agents.ID, error) {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		leads, err := campaigns.CallerLeads(ctx, pool, from)
		if err != nil {
			return nil, 0, err
		}
		out := make([]inbound.LeadMatch, len(leads))
		for i, l := range leads {
			out[i] = inbound.LeadMatch{Lead: int64(l.Lead), Campaign: int64(l.Campaign), Name: l.Name}
		}
		return out, agents.ID(campaigns.LastAgent(leads)), nil
	}
}

// place is the node a caller of did from the number from is to wait on,
// when not this one (blend.Placer), their sticky agent's first: sip
// restricts it to nodes taking SIP callers.
func (s *inboundSide) place(ctx context.Context, did, from string, sip bool) (blend.Placement, bool, error) {
	return s.Placer.Place(ctx, did, func(ctx context.Context) agents.ID {
		_, last, err := s.match(ctx, from)
		if err != nil {
			s.log.Warn("caller not matched to leads; placed without their sticky agent", "from", from, "err", err)
		}
		return last
	}, sip)
}

// simInbound is web.SimInbound over the simulated carrier's callers.
type simInbound struct {
	side    *inboundSide
	callers *sim.Callers
	pool    *pgxpool.Pool
	mgr     *dialer.Manager
	log     *slog.Logger
}

// InjectCaller queues a simulated caller, if any campaign running on this
// node dials through the simulated carrier: only those campaigns' agents
// can be bridged to one (a campaign on a SIP trunk takes its callers from
// the trunk).
func (s simInbound) InjectCaller(ctx context.Context, did, from string, callbackAfter time.Duration) error {
	list, err := campaigns.List(ctx, s.pool)
	if err != nil {
		return err
	}
	simulated := false
	for _, c := range list {
		if _, running := s.mgr.Running(dialer.CampaignID(c.ID)); !running {
			continue
		}
		ts, err := campaigns.CampaignTrunks(ctx, s.pool, c.ID)
		if err != nil {
			return err
		}
		simulated = simulated || len(ts) == 0
	}
	if !simulated {
		return fmt.Errorf("%w: no campaign running on this node dials through it (none runs, or each dials through a SIP trunk)",
			web.ErrNoSimCarrier)
	}
	if callbackAfter > 0 {
		_, err = s.callers.InjectCallback(ctx, did, from, callbackAfter)
	} else {
		_, err = s.callers.Inject(ctx, did, from)
	}
	switch {
	case errors.Is(err, inbound.ErrUnknownDID):
		return fmt.Errorf("%w: %v", web.ErrNoQueue, err)
	case errors.Is(err, sim.ErrUnmatched):
		// Queued all the same: the agent sees the number without a name.
		s.log.Warn("simulated caller not matched to leads", "from", from, "err", err)
		return nil
	}
	return err
}

func (s simInbound) Place(ctx context.Context, did, from string) (string, bool, error) {
	p, ok, err := s.side.place(ctx, did, from, false)
	return p.HTTPAddr, ok, err
}

// lineOf defers the router's CallerLine to the callers made after it.
func lineOf(s *inboundSide) inbound.CallerLine { return callerLine{s} }

// callerLine sends a caller away through whoever owns their leg: the SIP
// callers (their legs are numbered from sip.CallerLegBase) or the
// simulated carrier.
type callerLine struct{ s *inboundSide }

func (l callerLine) Dismiss(call inbound.CallKey, why string) {
	if l.s.SIP != nil && l.s.SIP.Owns(call) {
		l.s.SIP.Dismiss(call, why)
		return
	}
	l.s.Callers.Dismiss(call, why)
}

// takeSIP makes the callers from the node's SIP trunks: INVITEs from a
// trunk host are queued by their DID from now on. stop (once the
// campaigns have stopped) refuses new ones and hangs up the callers still
// here, so their abandons reach the event log before it is flushed.
func (s *inboundSide) takeSIP(ua *sip.UA) (stop func(), err error) {
	s.SIP, err = ua.NewCallers(sip.CallersConfig{Router: s.Router, Sounds: s.Sounds.ForDID, Logger: s.log,
		Elsewhere: func(ctx context.Context, did, from string) (string, bool, error) {
			p, ok, err := s.place(ctx, did, from, true)
			return p.SIPAddr, ok, err
		}})
	if err != nil {
		return nil, err
	}
	ua.SetInboundHandler(s.SIP.HandleInvite)
	return func() {
		ua.SetInboundHandler(nil)
		s.SIP.Close()
	}, nil
}

// carries records whether a campaign running here dials through SIP
// trunks (else the simulated carrier).
func (s *inboundSide) carries(c dialer.CampaignID, onSIP bool) { s.onSIP.Store(c, onSIP) }

// canTake is the router's CanTake: a SIP caller can only be bridged into
// an agent's phone leg on a SIP campaign's trunk (an agent on the
// simulated carrier has no audio a caller could hear), and a simulated
// caller only by the simulated carrier. An agent whose campaign is not
// known yet is not refused (the router offers only agents their engines
// have reported, and the engine reports the campaign with the state).
func (s *inboundSide) canTake(agent agents.ID, call inbound.CallKey) bool {
	c, ok := s.loops.Campaign(agent)
	if !ok {
		return true
	}
	onSIP, ok := s.onSIP.Load(c)
	if !ok {
		return true
	}
	return sip.IsCaller(blend.Leg(call)) == onSIP.(bool)
}

// Engines is the dialer.Inbound the campaigns' engines get.
func (s *inboundSide) Engines() dialer.Inbound { return blend.Engines{R: s.Router, Where: s.loops} }

// Attach lets the router reach the loops of the campaigns this node runs.
func (s *inboundSide) Attach(m *dialer.Manager) { s.loops.Find = m.Running }

// Reload reads the stored queues into the router, and their recordings'
// changes into the callers' sounds: the web server calls it after a change
// made on this node, the poll of Start for those made on others.
func (s *inboundSide) Reload(ctx context.Context) error {
	qs, err := s.Queues.Queues(ctx)
	if err != nil {
		return fmt.Errorf("read queues: %w", err)
	}
	return errors.Join(s.Router.Replace(qs, time.Now()), s.Sounds.Refresh(ctx, s.Queues, qs))
}

// Start loads the queues and runs the router's clock and the reload poll
// (every poll) until ctx ends; perHour > 0 also starts simulated callers to
// the demo number.
func (s *inboundSide) Start(ctx context.Context, poll time.Duration, clock dialer.Clock, perHour float64) error {
	if poll <= 0 {
		poll = 3 * time.Second // the campaign poll's default
	}
	if err := s.Reload(ctx); err != nil {
		return err
	}
	s.closeOrphans(ctx)
	s.Requests.Start(ctx)
	s.syncRequests(ctx)
	s.readRecords(ctx, clock.Now())
	go func() {
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		reload := time.NewTicker(poll)
		defer reload.Stop()
		records := time.NewTicker(recordsEvery)
		defer records.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-records.C:
				s.readRecords(ctx, clock.Now())
			case <-tick.C:
				s.Router.Advance(clock.Now())
			case <-reload.C:
				if err := s.Reload(ctx); err != nil && ctx.Err() == nil {
					s.log.Error("reload inbound queues", "err", err)
				}
				s.closeOrphans(ctx)
				s.syncRequests(ctx)
			}
		}
	}()
	if perHour > 0 {
		go s.Callers.Arrivals(ctx, DemoDID, perHour)
		s.log.Info("simulated callers will ring the demo number", "number", DemoDID, "per_hour", perHour)
	}
	return nil
}

// recordsEvery is how often the router's record of the last day's
// intervals is read from the event log: it changes when an interval ends.
const recordsEvery = time.Minute

// readRecords gives the router each queue's record of the last day's
// intervals from the event log (inbound.Router.SetRecords): the cluster's
// callers, kept across restarts. A failed read keeps the router's own.
func (s *inboundSide) readRecords(ctx context.Context, now time.Time) {
	qs, err := s.Queues.Queues(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("read queues for their service-level record", "err", err)
		}
		return
	}
	thresholds := make(map[inbound.QueueID]time.Duration, len(qs))
	for _, q := range qs {
		thresholds[q.ID] = q.SLThreshold
	}
	records, err := s.Events.Records(ctx, thresholds, now)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("read the queues' service-level record from the event log", "err", err)
		}
		return
	}
	s.Router.SetRecords(records, now)
}

// syncRequests brings the router's callback requests in step with the
// database (blend.Requests.Sync).
func (s *inboundSide) syncRequests(ctx context.Context) {
	if err := s.Requests.Sync(ctx); err != nil && ctx.Err() == nil {
		s.log.Error("sync callback requests", "err", err)
	}
}

// closeOrphans closes the visits of callers left waiting by dead nodes.
func (s *inboundSide) closeOrphans(ctx context.Context) {
	n, err := s.Events.CloseOrphans(ctx, s.pool, time.Now())
	switch {
	case err != nil && ctx.Err() == nil:
		s.log.Error("close callers left by lost nodes", "err", err)
	case n > 0:
		s.log.Warn("callers left waiting by a lost node are closed", "callers", n)
	}
}

// Stop sends the callers still waiting away (their legs end with this
// node) and writes the queue events still queued.
func (s *inboundSide) Stop() {
	if n := s.Router.CloseAll("shutdown", time.Now()); n > 0 {
		s.log.Info("callers still waiting at stop were sent away", "callers", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.writer.Stop(ctx)
}

// ensureDemoQueue creates the demo queue and number, served by members, on
// a database without queues.
func ensureDemoQueue(ctx context.Context, store *inbound.QueueStore, members []int64) (bool, error) {
	qs, err := store.Queues(ctx)
	if err != nil || len(qs) > 0 {
		return false, err
	}
	q, err := store.CreateQueue(ctx, inbound.Queue{Name: DemoQueue, RejectToDND: true, AllowTake: true,
		ComfortEvery: inbound.DefaultComfortEvery,
		Callbacks:    inbound.Callbacks{Allow: true},
		NoAgents:     inbound.Fallback{Action: inbound.ActionWait}, AtClose: inbound.Fallback{Action: inbound.ActionWait}}.WithDefaults())
	if err != nil {
		return false, fmt.Errorf("create the demo queue: %w", err)
	}
	if _, err := store.SetDID(ctx, DemoDID, q.ID); err != nil {
		return false, fmt.Errorf("route the demo number: %w", err)
	}
	var errs []error
	for _, id := range members {
		if _, err := store.SetMember(ctx, inbound.Member{Queue: q.ID, Agent: agents.ID(id), Level: 1}); err != nil {
			errs = append(errs, err)
		}
	}
	return true, errors.Join(errs...)
}

// webInbound is web.Inbound over the inbound side.
type webInbound struct{ s *inboundSide }

func (w webInbound) Reload(ctx context.Context) error { return w.s.Reload(ctx) }

func (w webInbound) Now(now time.Time) []inbound.QueueNow { return w.s.Router.Now(now) }

func (w webInbound) LeaveForCallback(call inbound.CallKey, now time.Time) error {
	return w.s.Router.LeaveForCallback(call, now)
}

func (w webInbound) NewRequest(ctx context.Context, p inbound.LeftRequest) (inbound.CallbackRequest, error) {
	return w.s.Requests.Create(ctx, p)
}

func (w webInbound) Load(campaign campaigns.ID, now time.Time) inbound.Load {
	return w.s.Router.Load(int64(campaign), now)
}
