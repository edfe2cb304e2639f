package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/dialer"
)

// The maintenance jobs (their schedule is periodicJobs in runner.go):
// recycling sweeps, the nightly roll-up and the purge of scratch data. Each
// is idempotent, so the periodic enqueuer of every node may insert them and
// a job that runs twice does no harm; their uniqueness keeps one pending.

// RecycleSweepArgs releases leads held for callbacks that are gone.
type RecycleSweepArgs struct{}

// Kind is River's name for the job.
func (RecycleSweepArgs) Kind() string { return "recycle_sweep" }

// InsertOpts keeps at most one sweep pending.
func (RecycleSweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByState: unfinished}}
}

type recycleSweepWorker struct {
	river.WorkerDefaults[RecycleSweepArgs]
	r *Runner
}

func (w *recycleSweepWorker) Work(ctx context.Context, _ *river.Job[RecycleSweepArgs]) error {
	n, err := campaigns.ReleaseOrphanedLeads(ctx, w.r.pool, w.r.clock.Now())
	if err != nil {
		return err
	}
	if n > 0 {
		w.r.log.Warn("released leads held for callbacks that are gone", "leads", n)
	}
	return nil
}

// RecycleLeadsArgs is a manager's "recycle leads by disposition", run in
// the background (a campaign can have millions of leads).
type RecycleLeadsArgs struct {
	Campaign int64     `json:"campaign"`
	Codes    []string  `json:"codes"`
	Before   time.Time `json:"before"`
}

// Kind is River's name for the job.
func (RecycleLeadsArgs) Kind() string { return "recycle_leads" }

type recycleLeadsWorker struct {
	river.WorkerDefaults[RecycleLeadsArgs]
	r *Runner
}

func (w *recycleLeadsWorker) Work(ctx context.Context, job *river.Job[RecycleLeadsArgs]) error {
	n, err := campaigns.Recycle(ctx, w.r.pool, campaigns.RecycleLeads{Campaign: campaigns.ID(job.Args.Campaign),
		Codes: job.Args.Codes, Before: job.Args.Before, Now: w.r.clock.Now()})
	if err != nil {
		return err
	}
	w.r.log.Info("recycled leads", "campaign", job.Args.Campaign, "codes", job.Args.Codes, "leads", n)
	return nil
}

// RecycleLeads queues a recycle of a campaign's leads by disposition; the
// web layer's "recycle" button calls it.
func (r *Runner) RecycleLeads(ctx context.Context, campaign campaigns.ID, codes []string, before time.Time) (int64, error) {
	res, err := r.client.Insert(ctx, RecycleLeadsArgs{Campaign: int64(campaign), Codes: codes, Before: before}, nil)
	if err != nil {
		return 0, fmt.Errorf("queue recycle of campaign %d: %w", campaign, err)
	}
	return res.Job.ID, nil
}

// RollupArgs rolls up one UTC day (Day, "2006-01-02"; empty: yesterday and
// today so far, which is what the nightly run does).
type RollupArgs struct {
	Day string `json:"day,omitempty"`
}

// Kind is River's name for the job.
func (RollupArgs) Kind() string { return "daily_rollup" }

// InsertOpts keeps one pending roll-up per day.
func (RollupArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: unfinished}}
}

type rollupWorker struct {
	river.WorkerDefaults[RollupArgs]
	r *Runner
}

func (w *rollupWorker) Work(ctx context.Context, job *river.Job[RollupArgs]) error {
	now := w.r.clock.Now()
	days := []time.Time{agents.DayStart(now).Add(-24 * time.Hour), agents.DayStart(now)}
	if job.Args.Day != "" {
		d, err := time.Parse(time.DateOnly, job.Args.Day)
		if err != nil {
			return river.JobCancel(fmt.Errorf("roll-up day %q: %w", job.Args.Day, err))
		}
		days = []time.Time{d}
	}
	for _, d := range days {
		if err := RollupDay(ctx, w.r.pool, d, now, w.r.log); err != nil {
			return err
		}
	}
	return nil
}

// RollupDay rebuilds the agent and campaign roll-ups of one UTC day in one
// transaction.
func RollupDay(ctx context.Context, pool *pgxpool.Pool, day, now time.Time, log *slog.Logger) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		a, err := agents.RollupDay(ctx, tx, day, now)
		if err != nil {
			return err
		}
		c, err := dialer.RollupDay(ctx, tx, day, now)
		if err != nil {
			return err
		}
		log.Info("rolled up a day", "day", agents.DayStart(day).Format(time.DateOnly), "agent_rows", a, "campaign_rows", c)
		return nil
	})
}

// PurgeArgs deletes scratch data past the retention period.
type PurgeArgs struct{}

// Kind is River's name for the job.
func (PurgeArgs) Kind() string { return "purge_scratch" }

// InsertOpts keeps at most one purge pending.
func (PurgeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByState: unfinished}}
}

type purgeWorker struct {
	river.WorkerDefaults[PurgeArgs]
	r *Runner
}

func (w *purgeWorker) Work(ctx context.Context, _ *river.Job[PurgeArgs]) error {
	res, err := campaigns.PurgeScratch(ctx, w.r.pool, w.r.clock.Now().Add(-w.r.cfg.Retention))
	if err != nil {
		return err
	}
	if res != (campaigns.PurgeResult{}) {
		w.r.log.Info("purged scratch data", "import_rejects", res.Rejects,
			"callback_requests", res.Requests, "older_than", w.r.cfg.Retention)
	}
	return nil
}

// dailyAt is a PeriodicSchedule firing once a day at a UTC time of day.
type dailyAt time.Duration

func (d dailyAt) Next(now time.Time) time.Time {
	next := agents.DayStart(now).Add(time.Duration(d))
	if !next.After(now) {
		next = next.Add(24 * time.Hour)
	}
	return next
}
