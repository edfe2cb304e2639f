package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/jobs"
	"github.com/pacer-dialer/pacer/migrations"
	"github.com/pacer-dialer/pacer/web"
)

type serveOptions struct {
	db       dbOptions
	logs     logOptions
	httpAddr string
	nodeID   string
	engine   engineOptions
	web      webOptions
}

func serveCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", stdout)
	var o serveOptions
	o.db.register(fs)
	o.logs.register(fs)
	host, _ := os.Hostname()
	fs.StringVar(&o.httpAddr, "http-addr", ":8080", "HTTP listen address for the web workspace, API, /healthz and /readyz")
	fs.StringVar(&o.nodeID, "node-id", host, "this node's name in lead claims and logs; unique per node")
	o.engine.register(fs)
	o.web.register(fs)
	if err := fs.parse(args); err != nil {
		return err
	}
	logger, err := o.logs.logger(stderr)
	if err != nil {
		return err
	}
	return serve(ctx, o, logger, nil)
}

// serve runs until ctx is done, then stops every component in reverse order.
// onReady, when set, is told the bound HTTP address once everything runs.
func serve(ctx context.Context, o serveOptions, logger *slog.Logger, onReady func(addr string)) error {
	if o.nodeID == "" {
		return usageError{"--node-id must not be empty"}
	}
	logger = logger.With("node", o.nodeID)
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
	clock := wallClock{}
	if n, err := campaigns.RecoverStuck(ctx, db.pool, time.Time{}, o.nodeID); err != nil {
		return err
	} else if n > 0 {
		logger.Warn("returned leads this node had claimed before it restarted", "leads", n)
	}

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
	o.engine.onManager = func(m *dialer.Manager) { mgr = m }
	o.engine.jobs = runner
	if o.db.dataDir != "" {
		o.engine.spoolDir = filepath.Join(o.db.dataDir, "spool", o.nodeID)
	}
	stopEngine, err := startEngine(ctx, o.engine, o.nodeID, db.pool, clock, logger)
	if err != nil {
		return err
	}
	defer stopEngine()

	deps := web.Deps{DB: db.pool, Callbacks: runner, Jobs: webJobs{runner}}
	if mgr != nil {
		deps.Engine = &webEngine{mgr: mgr, db: db.pool, node: o.nodeID, clock: clock}
	}
	deps.Checks = []web.Check{
		{Name: "database", Func: func(ctx context.Context) error { return db.pool.Ping(ctx) }},
		{Name: "migrations", Func: func(ctx context.Context) error { return migrations.Check(ctx, db.pool) }},
		{Name: "jobs", Func: runner.Running},
	}
	srv, err := web.New(o.web.config(o.httpAddr, o.nodeID), deps, logger)
	if err != nil {
		return err
	}
	if err := srv.Start(ctx); err != nil {
		return err
	}
	defer srv.Stop()

	logger.Info("pacer is ready", "http", srv.Addr(), "private_database", db.cluster.Private())
	if onReady != nil {
		onReady(srv.Addr())
	}
	<-ctx.Done()
	logger.Info("shutting down")
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return fmt.Errorf("stopped: %w", cause)
	}
	return nil
}
