package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/dialer/sim"
	"github.com/pacer-dialer/pacer/jobs"
	"github.com/pacer-dialer/pacer/web"
)

// engineOptions are serve's flags for the dialer engine and its simulated
// carrier and agents.
type engineOptions struct {
	noDemo        bool
	simAgents     int
	simCampaign   string
	simConfig     string
	simAnswerRate float64
	// simInboundPerHour makes simulated callers ring the demo number.
	simInboundPerHour float64
	// simCallbackShare of simulated callers ask for a callback instead of
	// hanging up when their patience runs out.
	simCallbackShare float64
	poll             time.Duration
	summary          time.Duration
	leaseTTL         time.Duration
	// sim, when set, replaces the simulated carrier and agents' settings
	// (tests use short delays).
	sim *sim.Realtime
	// onManager, when set, is handed the campaign manager once it runs
	// (serve wires the web workspace to it).
	onManager func(*dialer.Manager)
	// onInbound, when set, is handed the inbound side once it runs.
	onInbound func(*inboundSide)
	// simElsewhere sends a generated simulated caller to the node serving
	// their queue's agents (sim.Callers.Elsewhere; nil: they wait here).
	simElsewhere func(ctx context.Context, did, from string) bool
	// jobs queues callbacks' jobs and tells the manager when one falls due.
	jobs *jobs.Runner
	// sip is the node's SIP side (nil: SIP off): campaigns with a trunk
	// dial through it.
	sip *sipNode
	// spoolDir keeps the records the stores could not write at stop
	// because the database was down; they are written first at the next
	// start. Set by serve under --data-dir.
	spoolDir string
}

func (o *engineOptions) register(fs *flagSet) {
	fs.BoolVar(&o.noDemo, "no-demo", false, "do not create the demo campaign (5,000 synthetic leads) on a database without campaigns")
	fs.IntVar(&o.simAgents, "sim-agents", 0, "log in this many simulated agents to --sim-campaign")
	fs.StringVar(&o.simCampaign, "sim-campaign", campaigns.DemoName, "campaign the simulated agents work")
	fs.StringVar(&o.simConfig, "sim-config", "", "JSON file with the simulated carrier's and agents' distributions (fields as in sim.Realtime; omitted ones keep the demo defaults)")
	fs.Float64Var(&o.simAnswerRate, "sim-answer-rate", 0, "share of simulated dials a person answers (0 keeps the configured 0.40)")
	fs.Float64Var(&o.simInboundPerHour, "sim-inbound-per-hour", 0, "simulated callers per hour (Poisson) ringing the demo queue's number "+DemoDID)
	fs.Float64Var(&o.simCallbackShare, "sim-callback-share", 0, "share (0-1) of simulated callers who ask for a callback instead of hanging up when tired of waiting (where the queue takes callback requests)")
	fs.DurationVar(&o.poll, "campaign-poll", 3*time.Second, "how often the campaigns table is read to start and stop campaigns")
	fs.DurationVar(&o.summary, "summary-every", 10*time.Second, "interval of each running campaign's summary log line")
}

// realtime is the simulated carrier and agents' settings.
func (o engineOptions) realtime() (sim.Realtime, error) {
	if o.sim != nil {
		return *o.sim, o.sim.Validate()
	}
	rt := sim.DemoRealtime()
	if o.simConfig != "" {
		var err error
		if rt, err = sim.LoadRealtime(o.simConfig); err != nil {
			return rt, err
		}
	}
	if o.simAnswerRate != 0 {
		return rt.WithAnswerRate(o.simAnswerRate)
	}
	return rt, nil
}

// startEngine creates the demo campaign on an empty database (what a dead
// node left open is recovered by node registration and the heartbeat), and starts the call and agent stores, the campaign
// manager (a loop per active campaign, on the simulated carrier) and the
// simulated agents. stop stops them in reverse order.
func startEngine(ctx context.Context, o engineOptions, node string, pool *pgxpool.Pool, clock dialer.Clock, logger *slog.Logger) (stop func(), err error) {
	rt, err := o.realtime()
	if err != nil {
		return nil, usageError{err.Error()}
	}
	var stops []func()
	stop = func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	defer func() {
		if err != nil {
			stop()
		}
	}()
	// The stores start first: they write what an earlier life on this
	// machine spooled when it stopped during a database outage, before any
	// campaign starts.
	calls := dialer.NewCallStore(pool, dialer.CallStoreConfig{Node: node, SpoolDir: o.spoolDir, Logger: logger})
	if err := calls.Start(ctx); err != nil {
		return nil, err
	}
	stops = append(stops, calls.Stop)
	events := agents.NewEventStore(pool, agents.EventStoreConfig{Node: node, SpoolDir: o.spoolDir, Logger: logger})
	if err := events.Start(ctx); err != nil {
		return nil, err
	}
	stops = append(stops, events.Stop)

	if !o.noDemo {
		c, created, err := campaigns.EnsureDemo(ctx, pool)
		if err != nil {
			return nil, err
		}
		if created {
			if err := assignDemoAgents(ctx, pool, c.ID); err != nil {
				return nil, fmt.Errorf("assign the demo agents: %w", err)
			}
			logger.Info("created the demo campaign", "campaign", int64(c.ID), "name", c.Name, "leads", campaigns.DemoLeads,
				"window", c.WindowStart+"-"+c.WindowEnd, "note", c.WindowNote)
		}
	}

	in, err := newInboundSide(pool, node, clock, sim.CallersConfig{Talk: rt.CallerTalk, Patience: rt.CallerPatience,
		CallbackShare: o.simCallbackShare}, logger)
	if err != nil {
		return nil, err
	}
	stops = append(stops, in.Stop)
	in.Callers.Elsewhere = o.simElsewhere
	if o.sip != nil {
		stopSIP, err := in.takeSIP(o.sip.ua)
		if err != nil {
			return nil, err
		}
		stops = append(stops, stopSIP)
	}
	if !o.noDemo {
		members := simAgentIDs(o.simAgents)
		for _, d := range web.DemoUsers() {
			if u, err := web.GetUserByName(ctx, pool, d.Username); err == nil && u.Role == web.RoleAgent {
				members = append(members, u.ID)
			}
		}
		created, err := ensureDemoQueue(ctx, in.Queues, members)
		if err != nil {
			return nil, err
		}
		if created {
			logger.Info("created the demo inbound queue", "queue", DemoQueue, "number", DemoDID, "members", len(members))
		}
	}

	mgr, err := dialer.NewManager(dialer.ManagerConfig{Node: node, Poll: o.poll, Summary: o.summary,
		LeaseTTL: o.leaseTTL, Logger: logger},
		dialer.ManagerDeps{
			DB:    pool,
			Clock: clock,
			Trunk: func(c *campaigns.Campaign, del dialer.TrunkDeliverer) (dialer.Trunk, error) {
				simulated := false
				t, err := o.sip.trunk(ctx, pool, c, del, func() dialer.Trunk {
					simulated = true
					return rt.TrunkFor(dialer.CampaignID(c.ID), del, in.Callers)
				})
				if err == nil {
					in.carries(dialer.CampaignID(c.ID), !simulated)
				}
				return t, err
			},
			Calls:     calls,
			Agents:    events,
			Callbacks: callbackJobs(o.jobs),
			Inbound:   in.Engines(),
		})
	if err != nil {
		return nil, err
	}
	in.Attach(mgr)
	if err := mgr.Start(ctx); err != nil {
		return nil, err
	}
	stops = append(stops, mgr.Stop)
	inCtx, stopIn := context.WithCancel(ctx)
	stops = append(stops, stopIn)
	if err := in.Start(inCtx, o.poll, clock, o.simInboundPerHour); err != nil {
		return nil, err
	}
	if o.onInbound != nil {
		o.onInbound(in)
	}
	if o.jobs != nil {
		o.jobs.SetCallbackNotifier(mgr.CallbackDue)
		o.jobs.SetAgentFinder(mgr)
		stops = append(stops, func() {
			o.jobs.SetCallbackNotifier(nil)
			o.jobs.SetAgentFinder(nil)
		})
	}
	if o.onManager != nil {
		o.onManager(mgr)
	}

	if o.simAgents > 0 {
		c, err := campaigns.GetByName(ctx, pool, o.simCampaign)
		if errors.Is(err, campaigns.ErrNotFound) {
			logger.Warn("no campaign for the simulated agents", "campaign", o.simCampaign)
			return stop, nil
		}
		if err != nil {
			return nil, err
		}
		if _, err := campaigns.AssignAgents(ctx, pool, c.ID, simAgentIDs(o.simAgents)); err != nil {
			return nil, fmt.Errorf("assign the simulated agents: %w", err)
		}
		cid := campaigns.ID(c.ID)
		sa, err := sim.NewAgents(sim.AgentsConfig{Campaign: dialer.CampaignID(c.ID), N: o.simAgents, Sim: rt,
			Logger: logger, DialRequest: func(ctx context.Context, l *dialer.Loop, agent agents.ID, off dialer.InboundOffer) error {
				_, err := in.Requests.Dial(ctx, l, cid, agent, off)
				return err
			}}, mgr, clock)
		if err != nil {
			return nil, usageError{fmt.Sprintf("--sim-agents: %v", err)}
		}
		if err := sa.Start(ctx); err != nil {
			return nil, err
		}
		stops = append(stops, sa.Stop)
		logger.Info("simulated agents will work the campaign", "campaign", c.Name, "agents", o.simAgents)
	}
	return stop, nil
}

// callbackJobs keeps a missing runner a nil interface, not a nil pointer in one.
func callbackJobs(r *jobs.Runner) campaigns.CallbackJobs {
	if r == nil {
		return nil
	}
	return r
}
