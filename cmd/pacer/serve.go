package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/jobs"
	"github.com/pacer-dialer/pacer/migrations"
	"github.com/pacer-dialer/pacer/web"
)

type serveOptions struct {
	db        dbOptions
	logs      logOptions
	httpAddr  string
	advertise string
	nodeID    string
	leaseTTL  time.Duration
	drain     time.Duration
	engine    engineOptions
	web       webOptions
	sip       sipOptions
}

func serveCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", stdout)
	var o serveOptions
	o.db.register(fs)
	o.logs.register(fs)
	fs.StringVar(&o.httpAddr, "http-addr", ":8080", "HTTP listen address for the web workspace, API, /healthz and /readyz")
	fs.StringVar(&o.advertise, "advertise-addr", "", "host:port other nodes use to reach this node's HTTP API (default: the listen address, with 127.0.0.1 for an unspecified host)")
	fs.StringVar(&o.nodeID, "node-id", "", "this node's name, unique among live nodes (default: host name plus a random suffix); a name held by a live node is refused")
	fs.DurationVar(&o.drain, "drain-timeout", 5*time.Minute, "on SIGTERM, how long calls in progress may run to their end (no new calls are placed) before they are ended; a second signal exits at once")
	fs.DurationVar(&o.leaseTTL, "lease-ttl", 15*time.Second, "how long a silent node keeps its campaigns before another node recovers it and takes them over")
	o.engine.register(fs)
	o.web.register(fs)
	o.sip.register(fs)
	if err := fs.parse(args); err != nil {
		return err
	}
	logger, err := o.logs.logger(stderr)
	if err != nil {
		return err
	}
	if o.nodeID == "" {
		o.nodeID = defaultNodeID()
	}
	return serve(ctx, o, logger, nil)
}

// defaultNodeID is the host name plus a random suffix: unique to this
// process's lifetime.
func defaultNodeID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "pacer"
	}
	var b [3]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%x", host, b)
}

// drain is a graceful shutdown's first half (DESIGN.md §7): /readyz turns
// 503, other nodes stop counting this one, every campaign stops placing
// calls and is handed over, and calls in progress run to their end and are
// dispositioned, for at most timeout.
func drain(timeout time.Duration, node *dialer.Node, mgr *dialer.Manager, draining *atomic.Bool, logger *slog.Logger) {
	start := time.Now()
	draining.Store(true)
	logger.Info("draining: no new calls; calls in progress run to their end (a second signal exits at once)",
		"drain_timeout", timeout)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := node.MarkDraining(ctx); err != nil {
		logger.Warn("could not tell other nodes this one drains", "err", err)
	}
	if err := mgr.Drain(ctx); err != nil {
		logger.Warn("drain timeout: ending the calls still in progress", "err", err)
		return
	}
	logger.Info("drained: every call ended and dispositioned", "took", time.Since(start).Round(time.Millisecond))
}

// advertised is the address other nodes reach this one at.
func advertised(flag string, ln net.Addr) string {
	if flag != "" {
		return flag
	}
	host, port, err := net.SplitHostPort(ln.String())
	if err != nil {
		return ln.String()
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// serve runs until ctx is done, then stops every component in reverse order.
// onReady, when set, is told the bound HTTP address once everything runs.
func serve(ctx context.Context, o serveOptions, logger *slog.Logger, onReady func(addr string)) error {
	if o.nodeID == "" {
		return usageError{"--node-id must not be empty"}
	}
	logger = logger.With("node", o.nodeID)
	// Bind the ports first, and claim the node name before any work: a
	// second process fails on either before it has changed anything (no
	// migration applied, no lead moved).
	ln, err := web.Listen(ctx, o.httpAddr)
	if err != nil {
		return err
	}
	var metricsLn net.Listener
	if o.web.metricsAddr != "" {
		if metricsLn, err = web.Listen(ctx, o.web.metricsAddr); err != nil {
			ln.Close()
			return err
		}
	}
	listening := true
	defer func() {
		if listening {
			ln.Close()
			if metricsLn != nil {
				metricsLn.Close()
			}
		}
	}()
	// SIP outlives the signal like the engine: calls in progress drain on it.
	sipNode, err := startSIPUA(context.WithoutCancel(ctx), o.sip, logger)
	if err != nil {
		return err
	}
	defer sipNode.stop()
	db, err := openDatabase(ctx, o.db, logger)
	if err != nil {
		return err
	}
	defer func() {
		if err := db.Close(); err != nil {
			logger.Error("database shutdown", "err", err)
		}
	}()
	if _, err := migrations.Migrate(ctx, db.pool, logger); err != nil {
		return err
	}
	if n, err := campaigns.CompleteLeadGroups(ctx, db.pool); err != nil {
		return err
	} else if n > 0 {
		logger.Info("leads placed by their number as well as their address", "leads", n)
	}
	clock := wallClock{}
	nodeCfg := dialer.NodeConfig{ID: o.nodeID, HTTPAddr: advertised(o.advertise, ln.Addr()), TTL: o.leaseTTL, Logger: logger}
	if sipNode != nil {
		nodeCfg.SIPAddr = sipNode.ua.PublicAddr()
	}
	node, err := dialer.RegisterNode(ctx, db.pool, clock, nodeCfg)
	if err != nil {
		return err
	}
	if err := node.Start(ctx); err != nil {
		return err
	}
	defer node.Stop()
	nodeCtx, cancelNode := context.WithCancelCause(ctx)
	defer cancelNode(nil)
	go func() {
		select {
		case <-node.Lost():
			cancelNode(dialer.ErrNodeLost)
		case <-nodeCtx.Done():
		}
	}()
	ctx = nodeCtx
	clean := false
	defer func() {
		if !clean {
			return
		}
		// Everything is stopped and written: nobody needs to recover us.
		mctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := node.MarkStopped(mctx); err != nil {
			logger.Warn("could not mark the node stopped; another node will recover it", "err", err)
		}
	}()

	runner, err := jobs.New(db.pool, jobs.Config{StopTimeout: 3 * time.Second}, clock, logger)
	if err != nil {
		return err
	}
	// River stops itself when its start context ends; it must keep working
	// while the web server drains, so it gets a context only Stop ends.
	if err := runner.Start(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	defer runner.Stop()

	if err := ensureDemoUsers(ctx, o, db.pool, logger); err != nil {
		return err
	}
	var mgr *dialer.Manager
	var draining atomic.Bool
	var server atomic.Pointer[web.Server]
	onManager := o.engine.onManager // a test's, if any
	o.engine.onManager = func(m *dialer.Manager) {
		mgr = m
		if onManager != nil {
			onManager(m)
		}
	}
	var in *inboundSide
	onInbound := o.engine.onInbound // a test's, if any
	o.engine.onInbound = func(s *inboundSide) {
		in = s
		if onInbound != nil {
			onInbound(s)
		}
	}
	o.engine.jobs = runner
	o.engine.simElsewhere = func(ctx context.Context, did, from string) bool {
		s := server.Load() // nil until the web server runs: callers wait here
		return s != nil && s.SendSimCaller(ctx, did, from)
	}
	if o.db.dataDir != "" {
		// One spool per data directory: a restart replays what the last
		// life on this machine could not write, whatever its node name.
		o.engine.spoolDir = filepath.Join(o.db.dataDir, "spool")
	}
	o.engine.leaseTTL = o.leaseTTL
	if sipNode != nil {
		if err := sipNode.startPhones(context.WithoutCancel(ctx), db.pool, o.nodeID); err != nil {
			return err
		}
		defer sipNode.stopPhones()
		o.engine.sip = sipNode
	}
	// The engine outlives the signal: it drains first, then its Stop ends it.
	stopEngine, err := startEngine(context.WithoutCancel(ctx), o.engine, o.nodeID, db.pool, clock, logger)
	if err != nil {
		return err
	}
	defer stopEngine()

	deps := web.Deps{DB: db.pool, Callbacks: runner, Jobs: webJobs{runner}}
	if in != nil {
		deps.Inbound = webInbound{in}
	}
	if mgr != nil {
		deps.Engine = &webEngine{mgr: mgr, db: db.pool, in: in}
		deps.Router = webRouter{db: db.pool, node: o.nodeID}
		// The workspace's presence is this node's; the agent's campaign may
		// run on another, so the server (which routes) logs them out.
		deps.Presence = o.web.presence(context.WithoutCancel(ctx), func(ctx context.Context, id agents.ID) (bool, error) {
			if s := server.Load(); s != nil {
				return s.AgentGone(ctx, id)
			}
			return false, nil
		}, logger)
	}
	if in != nil && mgr != nil {
		deps.SimInbound = simInbound{side: in, callers: in.Callers, pool: db.pool, mgr: mgr, log: logger}
	}
	deps.Checks = []web.Check{
		{Name: "database", Func: func(ctx context.Context) error { return db.pool.Ping(ctx) }},
		{Name: "migrations", Func: func(ctx context.Context) error { return migrations.Check(ctx, db.pool) }},
		{Name: "draining", Func: func(context.Context) error {
			if draining.Load() {
				return errors.New("this node is shutting down and takes no new work")
			}
			return nil
		}},
		{Name: "jobs", Func: runner.Running},
	}
	cfg := o.web.config(o.httpAddr, o.nodeID)
	cfg.Listener, cfg.MetricsListener = ln, metricsLn
	srv, err := web.New(cfg, deps, logger)
	if err != nil {
		return err
	}
	server.Store(srv)
	if err := srv.Start(ctx); err != nil {
		return err
	}
	listening = false
	defer srv.Stop()

	logger.Info("pacer is ready", "http", srv.Addr(), "private_database", db.cluster.Private())
	if onReady != nil {
		onReady(srv.Addr())
	}
	<-ctx.Done()
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		logger.Info("shutting down")
		return fmt.Errorf("stopped: %w", cause)
	}
	if mgr != nil && o.drain > 0 {
		drain(o.drain, node, mgr, &draining, logger)
	}
	logger.Info("shutting down")
	clean = true
	return nil
}
