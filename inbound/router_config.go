package inbound

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/pacer-dialer/pacer/agents"
)

// Replace makes the router's queues, members and numbers exactly these (a
// reload of the stored settings). Changed queues keep their callers and
// their places; callers of a queue that is gone leave with an exit event
// ("queue removed") and are sent away.
func (r *Router) Replace(queues []QueueDetail, now time.Time) error {
	var errs []error
	keep := map[QueueID]bool{}
	for _, q := range queues {
		if err := r.SetQueue(q.Queue, q.Members); err != nil {
			errs = append(errs, err)
			continue
		}
		keep[q.ID] = true
	}
	defer r.flush()
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, q := range r.queues {
		if keep[id] {
			continue
		}
		for _, c := range slices.Clone(q.waiting) {
			r.fallback(c, Fallback{Action: ActionHangup}, "queue removed", now)
		}
		delete(r.queues, id)
	}
	r.dids = map[string]QueueID{}
	for _, q := range queues {
		if !keep[q.ID] {
			continue
		}
		for _, d := range q.DIDs {
			r.dids[d] = q.ID
		}
	}
	for _, a := range r.agents {
		a.queues = r.queuesOf(a.id)
	}
	if len(errs) > 0 {
		return fmt.Errorf("reload queues: %w", errors.Join(errs...))
	}
	return nil
}

// Members lists the agents serving a queue, by id.
func (r *Router) Members(q QueueID) []agents.ID {
	r.mu.Lock()
	defer r.mu.Unlock()
	qs, ok := r.queues[q]
	if !ok {
		return nil
	}
	out := make([]agents.ID, 0, len(qs.members))
	for id := range qs.members {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// CloseAll sends every waiting caller away with an exit event (the node is
// stopping: their legs end with it) and lets go of the callback requests
// (they are stored). It returns how many callers there were.
func (r *Router) CloseAll(why string, now time.Time) int {
	defer r.flush()
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range slices.Clone(r.waiting) {
		if c.request == 0 {
			n++
		}
		r.fallback(c, Fallback{Action: ActionHangup}, why, now)
	}
	return n
}
