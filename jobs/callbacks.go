package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/pacer-dialer/pacer/campaigns"
)

// Callbacks on River. A callback's row and its job are inserted in one
// transaction (campaigns.CallbackJobs, implemented by Runner), so neither
// exists without the other. The job carries the callback's version; every
// step locks the row and acts only while it is still at that version and in
// the status the step expects. So:
//   - a restart or a kill between insert and delivery loses nothing: the job
//     is in river_job and any node's client runs it when it is due;
//   - a job delivered twice (a rescued job, a retry after a commit whose
//     acknowledgement was lost) acts once: the second run finds the callback
//     already due and does nothing;
//   - rescheduling any number of times, however close together, works: each
//     version is a distinct job, unique only among unfinished jobs, so
//     River's 24 h uniqueness over completed jobs never refuses one;
//   - the sweep (CallbackSweepArgs) runs a step whose job vanished.
//
// River's scheduler promotes scheduled jobs only every 5 s, so a job is
// queued schedulerLead before its time and snoozes the rest of the way; a
// short snooze makes the job available at once with its scheduled_at in the
// future, which the producer's fetch poll (Config.FetchPoll) picks up when it
// arrives. Snoozing does not use up an attempt.

// schedulerLead is River's scheduler interval (maintenance.JobSchedulerIntervalDefault).
const schedulerLead = 5 * time.Second

// unfinished are the job states in which a second insert of the same args
// is a duplicate. Finished jobs are left out on purpose (see above).
var unfinished = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
	rivertype.JobStateRunning, rivertype.JobStateScheduled,
}

// CallbackDueArgs makes one version of a callback due.
type CallbackDueArgs struct {
	Callback int64 `json:"callback"`
	Version  int   `json:"version"`
}

// Kind is River's name for the job.
func (CallbackDueArgs) Kind() string { return "callback_due" }

// InsertOpts: one unfinished job per callback version.
func (CallbackDueArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 25, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: unfinished}}
}

// CallbackGraceArgs ends the grace period of one version of a `me` callback.
type CallbackGraceArgs struct {
	Callback int64 `json:"callback"`
	Version  int   `json:"version"`
}

// Kind is River's name for the job.
func (CallbackGraceArgs) Kind() string { return "callback_grace" }

// InsertOpts: one unfinished job per callback version.
func (CallbackGraceArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 25, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: unfinished}}
}

// CallbackSweepArgs is the periodic safety net: callbacks whose step is
// overdue and whose job is gone or finished get the step run directly.
type CallbackSweepArgs struct{}

// Kind is River's name for the job.
func (CallbackSweepArgs) Kind() string { return "callback_sweep" }

// InsertOpts keeps at most one sweep pending.
func (CallbackSweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByState: unfinished}}
}

// scheduleOpts queues a job schedulerLead before at, or now when at is
// closer than that; the worker snoozes until at.
func scheduleOpts(at, now time.Time) *river.InsertOpts {
	if at.Sub(now) <= schedulerLead {
		return nil
	}
	return &river.InsertOpts{ScheduledAt: at.Add(-schedulerLead)}
}

// InsertCallbackDue implements campaigns.CallbackJobs.
func (r *Runner) InsertCallbackDue(ctx context.Context, tx pgx.Tx, id campaigns.CallbackID, version int, at time.Time) (int64, error) {
	res, err := r.client.InsertTx(ctx, tx, CallbackDueArgs{Callback: int64(id), Version: version}, scheduleOpts(at, r.clock.Now()))
	if err != nil {
		return 0, fmt.Errorf("insert callback %d job: %w", id, err)
	}
	return res.Job.ID, nil
}

// CancelCallbackJob implements campaigns.CallbackJobs: a finished or missing job is
// not an error.
func (r *Runner) CancelCallbackJob(ctx context.Context, tx pgx.Tx, jobID int64) error {
	_, err := r.client.JobCancelTx(ctx, tx, jobID)
	if errors.Is(err, rivertype.ErrNotFound) {
		return nil
	}
	return err
}

var _ campaigns.CallbackJobs = (*Runner)(nil)

// CallbackNotifier is told when a `me` callback falls due, so the agent's
// campaign loop on this node can offer it at once instead of at its next
// poll. It must not block.
type CallbackNotifier func(campaign campaigns.ID, agent int64)

type callbackWorkers struct {
	r *Runner
}

type callbackDueWorker struct {
	river.WorkerDefaults[CallbackDueArgs]
	callbackWorkers
}

func (w *callbackDueWorker) Work(ctx context.Context, job *river.Job[CallbackDueArgs]) error {
	res, err := w.r.fallDue(ctx, campaigns.CallbackID(job.Args.Callback), job.Args.Version)
	if err != nil {
		return err
	}
	if res.Wait > 0 {
		return river.JobSnooze(res.Wait)
	}
	return nil
}

// fallDue runs campaigns.FallDue and queues the grace job in the same
// transaction, then tells the agent's loop.
func (r *Runner) fallDue(ctx context.Context, id campaigns.CallbackID, version int) (campaigns.FallDueResult, error) {
	var res campaigns.FallDueResult
	now := r.clock.Now()
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		var err error
		res, err = campaigns.FallDue(ctx, tx, id, version, now)
		if err != nil || !res.Acted || res.GraceAt.IsZero() {
			return err
		}
		_, err = r.client.InsertTx(ctx, tx, CallbackGraceArgs{Callback: int64(id), Version: version},
			&river.InsertOpts{ScheduledAt: res.GraceAt})
		return err
	})
	if err != nil {
		return res, fmt.Errorf("callback %d version %d due: %w", id, version, err)
	}
	if res.Acted {
		cb := res.Callback
		r.log.Info("callback due", "callback", int64(cb.ID), "campaign", int64(cb.Campaign), "lead", int64(cb.Lead),
			"scope", cb.Scope.String(), "agent", cb.Agent, "due_at", cb.DueAt, "late", now.Sub(cb.DueAt))
		if n := r.notifier.Load(); n != nil && cb.Scope == campaigns.ScopeMe {
			(*n)(cb.Campaign, cb.Agent)
		}
	}
	return res, nil
}

type callbackGraceWorker struct {
	river.WorkerDefaults[CallbackGraceArgs]
	callbackWorkers
}

func (w *callbackGraceWorker) Work(ctx context.Context, job *river.Job[CallbackGraceArgs]) error {
	return w.r.graceExpired(ctx, campaigns.CallbackID(job.Args.Callback), job.Args.Version)
}

func (r *Runner) graceExpired(ctx context.Context, id campaigns.CallbackID, version int) error {
	var cb campaigns.Callback
	var acted bool
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		var err error
		cb, acted, err = campaigns.GraceExpired(ctx, tx, id, version, r.clock.Now())
		return err
	})
	if err != nil {
		return fmt.Errorf("callback %d version %d grace: %w", id, version, err)
	}
	if acted {
		r.log.Info("callback grace period over", "callback", int64(id), "campaign", int64(cb.Campaign),
			"agent", cb.Agent, "status", cb.Status.String(), "scope", cb.Scope.String())
	}
	return nil
}

type callbackSweepWorker struct {
	river.WorkerDefaults[CallbackSweepArgs]
	callbackWorkers
}

// sweepMargin is how late a step must be before the sweep takes it over from
// its job.
const sweepMargin = 30 * time.Second

func (w *callbackSweepWorker) Work(ctx context.Context, _ *river.Job[CallbackSweepArgs]) error {
	_, err := w.r.SweepCallbacks(ctx, sweepMargin)
	return err
}

// SweepCallbacks runs the overdue step of every callback whose job is gone or
// finished (a job deleted by hand, a database restored without river_job).
// It returns how many it moved on.
func (r *Runner) SweepCallbacks(ctx context.Context, margin time.Duration) (int, error) {
	now := r.clock.Now()
	list, err := campaigns.Overdue(ctx, r.pool, now.Add(-margin), now.Add(-margin), 500)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, o := range list {
		if o.JobID != 0 && o.Status == campaigns.CallbackScheduled {
			job, err := r.client.JobGet(ctx, o.JobID)
			if err == nil && job.FinalizedAt == nil {
				continue // River still has it
			}
		}
		switch o.Status {
		case campaigns.CallbackScheduled:
			res, err := r.fallDue(ctx, o.ID, o.Version)
			if err != nil {
				return n, err
			}
			if res.Acted {
				n++
			}
		case campaigns.CallbackDue:
			// The grace job's id is not kept; its step is idempotent, so the
			// sweep simply runs it when it is well overdue.
			if err := r.graceExpired(ctx, o.ID, o.Version); err != nil {
				return n, err
			}
			n++
		}
	}
	if n > 0 {
		r.log.Warn("callback sweep moved on callbacks their jobs had not", "callbacks", n)
	}
	return n, nil
}

// SetCallbackNotifier sets who hears of `me` callbacks falling due (the
// dialer's manager, so the agent's loop offers it at once).
func (r *Runner) SetCallbackNotifier(fn CallbackNotifier) {
	if fn == nil {
		r.notifier.Store(nil)
		return
	}
	r.notifier.Store(&fn)
}
