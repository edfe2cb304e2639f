package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
)

// Clock tells the time; the runner never calls time.Now itself.
type Clock interface{ Now() time.Time }

// Config configures the job runner.
type Config struct {
	// MaxWorkers is how many jobs run at once on this node. Default 10.
	MaxWorkers int
	// StuckLeadAfter is how long a lead may stay claimed (`dialing`) before the
	// recovery sweep presumes its dialer died and returns it. It must exceed the
	// longest call, so the default is generous: 4 h.
	StuckLeadAfter time.Duration
	// RecoveryEvery is the interval of the stuck-lead sweep. Default 5 min.
	RecoveryEvery time.Duration
	// StopTimeout bounds a graceful stop before running jobs are cancelled.
	// Default 5 s.
	StopTimeout time.Duration
	// FetchPoll is how often a node looks for jobs that became available
	// without a notification, which is how a callback's job arrives at its
	// exact time (see callbacks.go). Default 250 ms.
	FetchPoll time.Duration
	// CallbackSweepEvery is the interval of the sweep that runs callback
	// steps whose jobs are gone. Default 1 min.
	CallbackSweepEvery time.Duration
	// RecycleEvery is the interval of the sweep that releases leads held
	// for callbacks that are gone. Default 10 min.
	RecycleEvery time.Duration
	// RollupAt is the UTC time of day of the nightly roll-up of yesterday
	// (and today so far). Default 00:15.
	RollupAt time.Duration
	// Retention is how long import reports (rejected rows) and closed
	// callback requests are kept. Default 30 days.
	Retention time.Duration
	// PurgeEvery is the interval of the purge of scratch data. Default 6 h.
	PurgeEvery time.Duration
	// AssignEvery is the interval of the automatic assignment of callback
	// requests to available agents. Default 15 s.
	AssignEvery time.Duration
}

// WithDefaults returns the config with empty fields filled in.
func (c Config) WithDefaults() Config {
	if c.MaxWorkers == 0 {
		c.MaxWorkers = 10
	}
	if c.StuckLeadAfter == 0 {
		c.StuckLeadAfter = 4 * time.Hour
	}
	if c.RecoveryEvery == 0 {
		c.RecoveryEvery = 5 * time.Minute
	}
	if c.StopTimeout == 0 {
		c.StopTimeout = 5 * time.Second
	}
	if c.FetchPoll == 0 {
		c.FetchPoll = 250 * time.Millisecond
	}
	if c.CallbackSweepEvery == 0 {
		c.CallbackSweepEvery = time.Minute
	}
	if c.RecycleEvery == 0 {
		c.RecycleEvery = 10 * time.Minute
	}
	if c.RollupAt == 0 {
		c.RollupAt = 15 * time.Minute
	}
	if c.Retention == 0 {
		c.Retention = 30 * 24 * time.Hour
	}
	if c.PurgeEvery == 0 {
		c.PurgeEvery = 6 * time.Hour
	}
	if c.AssignEvery == 0 {
		c.AssignEvery = 15 * time.Second
	}
	return c
}

// Validate reports a config that cannot work.
func (c Config) Validate() error {
	if c.MaxWorkers < 1 || c.MaxWorkers > 1000 {
		return fmt.Errorf("max workers %d out of range 1..1000", c.MaxWorkers)
	}
	if c.StuckLeadAfter < time.Minute {
		return fmt.Errorf("stuck-lead threshold %s is shorter than a call can last", c.StuckLeadAfter)
	}
	if c.RollupAt < 0 || c.RollupAt >= 24*time.Hour {
		return fmt.Errorf("roll-up time of day %s is not within a day", c.RollupAt)
	}
	if c.Retention < 24*time.Hour {
		return fmt.Errorf("retention %s is shorter than a day", c.Retention)
	}
	if c.RecoveryEvery <= 0 || c.StopTimeout <= 0 || c.FetchPoll <= 0 || c.CallbackSweepEvery <= 0 ||
		c.RecycleEvery <= 0 || c.PurgeEvery <= 0 || c.AssignEvery <= 0 {
		return errors.New("intervals must be positive")
	}
	return nil
}

// Runner owns the River client.
type Runner struct {
	cfg      Config
	client   *river.Client[pgx.Tx]
	pool     *pgxpool.Pool
	clock    Clock
	log      *slog.Logger
	notifier atomic.Pointer[CallbackNotifier]
	finder   atomic.Pointer[AgentFinder]

	mu       sync.Mutex
	started  bool
	stopOnce sync.Once
}

// New builds the River client with every worker and periodic job registered.
func New(pool *pgxpool.Pool, cfg Config, clock Clock, logger *slog.Logger) (*Runner, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Runner{cfg: cfg, pool: pool, clock: clock, log: logger}
	workers := river.NewWorkers()
	cw := callbackWorkers{r: r}
	for _, add := range []func() error{
		func() error {
			return river.AddWorkerSafely(workers, &recoverLeadsWorker{db: pool, clock: clock, after: cfg.StuckLeadAfter, log: logger})
		},
		func() error { return river.AddWorkerSafely(workers, &callbackDueWorker{callbackWorkers: cw}) },
		func() error { return river.AddWorkerSafely(workers, &callbackGraceWorker{callbackWorkers: cw}) },
		func() error { return river.AddWorkerSafely(workers, &callbackSweepWorker{callbackWorkers: cw}) },
		func() error { return river.AddWorkerSafely(workers, &recycleSweepWorker{r: r}) },
		func() error { return river.AddWorkerSafely(workers, &recycleLeadsWorker{r: r}) },
		func() error { return river.AddWorkerSafely(workers, &rollupWorker{r: r}) },
		func() error { return river.AddWorkerSafely(workers, &purgeWorker{r: r}) },
		func() error { return river.AddWorkerSafely(workers, &requestAssignWorker{r: r}) },
	} {
		if err := add(); err != nil {
			return nil, err
		}
	}
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Logger:            logger.With("component", "river"),
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.MaxWorkers}},
		Workers:           workers,
		FetchPollInterval: cfg.FetchPoll,
		FetchCooldown:     min(river.FetchCooldownDefault, cfg.FetchPoll),
		PeriodicJobs:      periodicJobs(cfg),
	})
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	r.client = client
	return r, nil
}

// periodicJobs is the whole maintenance schedule, in one place.
func periodicJobs(cfg Config) []*river.PeriodicJob {
	every := func(d time.Duration, args river.JobArgs) *river.PeriodicJob {
		return river.NewPeriodicJob(river.PeriodicInterval(d),
			func() (river.JobArgs, *river.InsertOpts) { return args, nil },
			&river.PeriodicJobOpts{RunOnStart: true})
	}
	return []*river.PeriodicJob{
		every(cfg.RecoveryEvery, RecoverLeadsArgs{}),
		every(cfg.CallbackSweepEvery, CallbackSweepArgs{}),
		every(cfg.RecycleEvery, RecycleSweepArgs{}),
		every(cfg.PurgeEvery, PurgeArgs{}),
		every(cfg.AssignEvery, RequestAssignArgs{}),
		river.NewPeriodicJob(dailyAt(cfg.RollupAt),
			func() (river.JobArgs, *river.InsertOpts) { return RollupArgs{}, nil }, nil),
	}
}

// Start launches River's producers and maintenance services.
func (r *Runner) Start(ctx context.Context) error {
	// The recovery job runs on one node at a time; every node clears its
	// own temporary directory once as it starts.
	sweepImportSpools(r.log)
	if err := r.client.Start(ctx); err != nil {
		return fmt.Errorf("start river: %w", err)
	}
	r.mu.Lock()
	r.started = true
	r.mu.Unlock()
	return nil
}

// Stop waits up to StopTimeout for running jobs, then cancels them, and
// returns when River's goroutines have exited. Idempotent.
func (r *Runner) Stop() {
	r.stopOnce.Do(func() {
		r.mu.Lock()
		started := r.started
		r.mu.Unlock()
		if !started {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), r.cfg.StopTimeout)
		defer cancel()
		if err := r.client.Stop(ctx); err != nil {
			r.log.Warn("river did not stop in time; cancelling running jobs", "err", err)
			hard, cancelHard := context.WithTimeout(context.Background(), r.cfg.StopTimeout)
			defer cancelHard()
			if err := r.client.StopAndCancel(hard); err != nil {
				r.log.Error("river stop", "err", err)
			}
		}
	})
}

// Running returns nil while River is started and has not stopped.
func (r *Runner) Running(context.Context) error {
	r.mu.Lock()
	started := r.started
	r.mu.Unlock()
	if !started {
		return errors.New("river is not started")
	}
	select {
	case <-r.client.Stopped():
		return errors.New("river has stopped")
	default:
		return nil
	}
}

// Client exposes the River client for inserting jobs (InsertTx) from callers
// that compose their own transactions.
func (r *Runner) Client() *river.Client[pgx.Tx] { return r.client }
