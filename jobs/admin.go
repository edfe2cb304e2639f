package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// The jobs page's data (River UI is not available here): jobs by kind and
// state, counts, retry and cancel, all through River's client.

// ErrJobNotFound is returned for a job id River does not have.
var ErrJobNotFound = errors.New("job not found")

// JobStates lists River's job states, in the order a page shows them.
func JobStates() []string {
	return []string{string(rivertype.JobStateRunning), string(rivertype.JobStateAvailable),
		string(rivertype.JobStateScheduled), string(rivertype.JobStateRetryable), string(rivertype.JobStatePending),
		string(rivertype.JobStateCompleted), string(rivertype.JobStateCancelled), string(rivertype.JobStateDiscarded)}
}

// JobInfo is one job as the jobs page shows it.
type JobInfo struct {
	ID          int64           `json:"id"`
	Kind        string          `json:"kind"`
	State       string          `json:"state"`
	Queue       string          `json:"queue"`
	Attempt     int             `json:"attempt"`
	MaxAttempts int             `json:"max_attempts"`
	Args        json.RawMessage `json:"args"`
	// Errors are the attempts' error messages, oldest first.
	Errors      []string   `json:"errors,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	ScheduledAt time.Time  `json:"scheduled_at"`
	AttemptedAt *time.Time `json:"attempted_at,omitempty"`
	FinalizedAt *time.Time `json:"finalized_at,omitempty"`
}

func jobInfo(j *rivertype.JobRow) JobInfo {
	info := JobInfo{ID: j.ID, Kind: j.Kind, State: string(j.State), Queue: j.Queue, Attempt: j.Attempt,
		MaxAttempts: j.MaxAttempts, Args: json.RawMessage(j.EncodedArgs), CreatedAt: j.CreatedAt,
		ScheduledAt: j.ScheduledAt, AttemptedAt: j.AttemptedAt, FinalizedAt: j.FinalizedAt}
	for _, e := range j.Errors {
		info.Errors = append(info.Errors, e.Error)
	}
	return info
}

// JobFilter selects jobs for the list; zero fields do not filter.
type JobFilter struct {
	Kinds  []string
	States []string
	// Limit bounds the page (default 100, at most 1000).
	Limit int
	// Cursor continues a previous page (JobPage.Next).
	Cursor string
}

// JobPage is one page of jobs, newest first.
type JobPage struct {
	Jobs []JobInfo `json:"jobs"`
	// Next is the cursor of the following page; empty at the end.
	Next string `json:"next,omitempty"`
}

// ListJobs lists jobs by kind and state, newest first.
func (r *Runner) ListJobs(ctx context.Context, f JobFilter) (JobPage, error) {
	var page JobPage
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	params := river.NewJobListParams().First(limit).OrderBy(river.JobListOrderByID, river.SortOrderDesc)
	if len(f.Kinds) > 0 {
		params = params.Kinds(f.Kinds...)
	}
	if len(f.States) > 0 {
		states := make([]rivertype.JobState, 0, len(f.States))
		valid := map[string]bool{}
		for _, s := range JobStates() {
			valid[s] = true
		}
		for _, s := range f.States {
			if !valid[s] {
				return page, fmt.Errorf("unknown job state %q", s)
			}
			states = append(states, rivertype.JobState(s))
		}
		params = params.States(states...)
	}
	if f.Cursor != "" {
		var cur river.JobListCursor
		if err := cur.UnmarshalText([]byte(f.Cursor)); err != nil {
			return page, fmt.Errorf("bad cursor: %w", err)
		}
		params = params.After(&cur)
	}
	res, err := r.client.JobList(ctx, params)
	if err != nil {
		return page, fmt.Errorf("list jobs: %w", err)
	}
	for _, j := range res.Jobs {
		page.Jobs = append(page.Jobs, jobInfo(j))
	}
	if len(res.Jobs) == limit && res.LastCursor != nil {
		b, err := res.LastCursor.MarshalText()
		if err != nil {
			return page, err
		}
		page.Next = string(b)
	}
	return page, nil
}

// JobCount is how many jobs of a kind are in a state.
type JobCount struct {
	Kind  string `json:"kind"`
	State string `json:"state"`
	Count int64  `json:"count"`
}

// CountJobs counts jobs by kind and state (the page's summary table).
func (r *Runner) CountJobs(ctx context.Context) ([]JobCount, error) {
	rows, err := r.pool.Query(ctx, `SELECT kind, state::text, count(*) FROM river_job GROUP BY 1, 2 ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("count jobs: %w", err)
	}
	defer rows.Close()
	var out []JobCount
	for rows.Next() {
		var c JobCount
		if err := rows.Scan(&c.Kind, &c.State, &c.Count); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// GetJob returns one job.
func (r *Runner) GetJob(ctx context.Context, id int64) (JobInfo, error) {
	j, err := r.client.JobGet(ctx, id)
	return r.jobResult(id, j, err)
}

// RetryJob makes a job run again as soon as possible (a discarded or
// cancelled one too). A callback job that runs again does nothing unless its
// callback still waits for it.
func (r *Runner) RetryJob(ctx context.Context, id int64) (JobInfo, error) {
	j, err := r.client.JobRetry(ctx, id)
	return r.jobResult(id, j, err)
}

// CancelJob cancels a job that has not finished; a running job's context is
// cancelled. Cancelling a callback's job does not cancel the callback (use
// campaigns.CancelCallback); the callback sweep delivers it if it falls due.
func (r *Runner) CancelJob(ctx context.Context, id int64) (JobInfo, error) {
	j, err := r.client.JobCancel(ctx, id)
	return r.jobResult(id, j, err)
}

func (r *Runner) jobResult(id int64, j *rivertype.JobRow, err error) (JobInfo, error) {
	if errors.Is(err, rivertype.ErrNotFound) {
		return JobInfo{}, fmt.Errorf("job %d: %w", id, ErrJobNotFound)
	}
	if err != nil {
		return JobInfo{}, fmt.Errorf("job %d: %w", id, err)
	}
	return jobInfo(j), nil
}
