package web

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Jobs is the durable job queue as the admins' jobs page sees it (River UI
// is not available here). cmd/pacer implements it over package jobs; web
// never imports it.
type Jobs interface {
	ListJobs(ctx context.Context, f JobFilter) (JobPage, error)
	CountJobs(ctx context.Context) ([]JobCount, error)
	RetryJob(ctx context.Context, id int64) (JobInfo, error)
	CancelJob(ctx context.Context, id int64) (JobInfo, error)
}

// ErrJobNotFound is wrapped by Jobs for a job id the queue does not have;
// ErrInvalid for a bad filter.
var ErrJobNotFound = errors.New("job not found")

// JobFilter selects jobs; zero fields do not filter.
type JobFilter struct {
	Kinds  []string
	States []string
	Limit  int
	Cursor string
}

// JobPage is one page of jobs, newest first; Next continues it.
type JobPage struct {
	Jobs []JobInfo `json:"jobs"`
	Next string    `json:"next,omitempty"`
}

// JobInfo is one job.
type JobInfo struct {
	ID          int64           `json:"id"`
	Kind        string          `json:"kind"`
	State       string          `json:"state"`
	Queue       string          `json:"queue"`
	Attempt     int             `json:"attempt"`
	MaxAttempts int             `json:"max_attempts"`
	Args        json.RawMessage `json:"args"`
	Errors      []string        `json:"errors,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
	ScheduledAt time.Time       `json:"scheduled_at"`
	AttemptedAt *time.Time      `json:"attempted_at,omitempty"`
	FinalizedAt *time.Time      `json:"finalized_at,omitempty"`
}

// JobCount is how many jobs of a kind are in a state.
type JobCount struct {
	Kind  string `json:"kind"`
	State string `json:"state"`
	Count int64  `json:"count"`
}

func (s *Server) needJobs() error {
	if s.jobs == nil {
		return apiError(fiber.StatusServiceUnavailable, "the job queue is not running on this node")
	}
	return nil
}

func jobsError(err error) error {
	switch {
	case errors.Is(err, ErrJobNotFound):
		return apiError(fiber.StatusNotFound, "%v", err)
	case errors.Is(err, ErrInvalid):
		return apiError(fiber.StatusBadRequest, "%v", err)
	}
	return err
}

func splitList(q string) []string {
	var out []string
	for _, p := range strings.Split(q, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// apiJobs lists jobs by kind and state (?kind=a,b&state=x,y&limit&cursor)
// with the counts of every kind and state.
func (s *Server) apiJobs(c *fiber.Ctx) error {
	if err := s.needJobs(); err != nil {
		return err
	}
	ctx := c.UserContext()
	page, err := s.jobs.ListJobs(ctx, JobFilter{Kinds: splitList(c.Query("kind")), States: splitList(c.Query("state")),
		Limit: c.QueryInt("limit"), Cursor: c.Query("cursor")})
	if err != nil {
		return jobsError(err)
	}
	counts, err := s.jobs.CountJobs(ctx)
	if err != nil {
		return err
	}
	if page.Jobs == nil {
		page.Jobs = []JobInfo{}
	}
	if counts == nil {
		counts = []JobCount{}
	}
	return c.JSON(fiber.Map{"jobs": page.Jobs, "next": page.Next, "counts": counts})
}

// apiJobAction retries or cancels one job.
func (s *Server) apiJobAction(retry bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := s.needJobs(); err != nil {
			return err
		}
		id, err := c.ParamsInt("id")
		if err != nil || id <= 0 {
			return apiError(fiber.StatusBadRequest, "bad job id")
		}
		var j JobInfo
		if retry {
			j, err = s.jobs.RetryJob(c.UserContext(), int64(id))
		} else {
			j, err = s.jobs.CancelJob(c.UserContext(), int64(id))
		}
		if err != nil {
			return jobsError(err)
		}
		return c.JSON(j)
	}
}
