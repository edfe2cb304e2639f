package jobs

import (
	"context"

	"github.com/riverqueue/river"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/inbound"
)

// AgentFinder says which agents of a campaign may take a callback request
// now (READY, longest waiting first) and which are logged in at all. The
// dialer's manager implements it for the campaigns running on this node.
type AgentFinder interface {
	CampaignAgents(ctx context.Context, campaign campaigns.ID) (available, loggedIn []int64, ok bool)
}

// RequestAssignArgs is the periodic sweep assigning pending callback
// requests to available agents during their automatic period.
type RequestAssignArgs struct{}

// Kind is River's name for the job.
func (RequestAssignArgs) Kind() string { return "callback_request_assign" }

// InsertOpts keeps at most one sweep pending.
func (RequestAssignArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByState: unfinished}}
}

type requestAssignWorker struct {
	river.WorkerDefaults[RequestAssignArgs]
	r *Runner
}

func (w *requestAssignWorker) Work(ctx context.Context, _ *river.Job[RequestAssignArgs]) error {
	_, err := w.r.AssignRequests(ctx)
	return err
}

// AssignRequests runs one pass of automatic assignment over the campaigns
// whose agents this node knows; it returns how many requests it assigned.
func (r *Runner) AssignRequests(ctx context.Context) (int, error) {
	f := r.finder.Load()
	if f == nil {
		return 0, nil
	}
	now := r.clock.Now()
	ids, err := inbound.AutoAssignCampaigns(ctx, r.pool, now)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, id := range ids {
		available, loggedIn, ok := (*f).CampaignAgents(ctx, id)
		if !ok {
			continue // another node runs it
		}
		n, err := inbound.AutoAssign(ctx, r.pool, id, available, loggedIn, now)
		if err != nil {
			return total, err
		}
		if n > 0 {
			r.log.Info("assigned callback requests", "campaign", int64(id), "requests", n)
		}
		total += n
	}
	return total, nil
}

// SetAgentFinder sets where automatic assignment learns of available agents.
func (r *Runner) SetAgentFinder(f AgentFinder) {
	if f == nil {
		r.finder.Store(nil)
		return
	}
	r.finder.Store(&f)
}
