package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
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
	if c.RecoveryEvery <= 0 || c.StopTimeout <= 0 {
		return errors.New("intervals must be positive")
	}
	return nil
}

// Runner owns the River client.
type Runner struct {
	cfg    Config
	client *river.Client[pgx.Tx]
	log    *slog.Logger

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
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &recoverLeadsWorker{db: pool, clock: clock, after: cfg.StuckLeadAfter, log: logger}); err != nil {
		return nil, err
	}
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Logger:  logger.With("component", "river"),
		Queues:  map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.MaxWorkers}},
		Workers: workers,
		PeriodicJobs: []*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(cfg.RecoveryEvery),
				func() (river.JobArgs, *river.InsertOpts) { return RecoverLeadsArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true}),
		},
	})
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	return &Runner{cfg: cfg, client: client, log: logger}, nil
}

// Start launches River's producers and maintenance services.
func (r *Runner) Start(ctx context.Context) error {
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
