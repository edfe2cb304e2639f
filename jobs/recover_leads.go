package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/pacer-dialer/pacer/campaigns"
)

// RecoverLeadsArgs is the periodic sweep that returns leads stranded in
// `dialing` by a dialer that died mid-call, fails lead imports whose
// process died (campaigns.FailAbandonedImports) and removes their files
// from the temporary directory of the node it runs on
// (campaigns.SweepImportSpools; each node also does at start).
type RecoverLeadsArgs struct{}

// Kind is River's name for the job.
func (RecoverLeadsArgs) Kind() string { return "recover_stuck_leads" }

// InsertOpts keeps at most one sweep pending: a burst of periodic inserts (a
// cluster of nodes each running the schedule) collapses into one.
func (RecoverLeadsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
		rivertype.JobStateRunning, rivertype.JobStateScheduled,
	}}}
}

type recoverLeadsWorker struct {
	river.WorkerDefaults[RecoverLeadsArgs]
	db    campaigns.TxDB
	clock Clock
	after time.Duration
	log   *slog.Logger
}

func (w *recoverLeadsWorker) Work(ctx context.Context, _ *river.Job[RecoverLeadsArgs]) error {
	n, err := campaigns.RecoverStuck(ctx, w.db, w.clock.Now().Add(-w.after), "")
	if err != nil {
		return err
	}
	if n > 0 {
		w.log.Warn("returned stuck leads to the pool", "leads", n, "claimed_longer_than", w.after)
	}
	lists, err := campaigns.FailAbandonedImports(ctx, w.db)
	if err != nil {
		return err
	}
	if lists > 0 {
		w.log.Warn("failed lead imports whose process stopped", "lists", lists)
	}
	sweepImportSpools(w.log)
	return nil
}

// sweepImportSpools removes the files of imports whose process died; a
// failure is logged, not retried: the next sweep tries again.
func sweepImportSpools(log *slog.Logger) {
	n, err := campaigns.SweepImportSpools("")
	if err != nil {
		log.Warn("could not remove the files of stopped imports", "err", err)
	}
	if n > 0 {
		log.Warn("removed the files of lead imports whose process stopped", "spools", n)
	}
}
