package inbound

import (
	"slices"
	"time"

	"github.com/pacer-dialer/pacer/agents"
)

// QueueNow is one queue as the router holds it at a moment: the wallboard's
// live part (its figures over the day come from the event log).
type QueueNow struct {
	Queue QueueID
	// Waiting counts the callers in the queue, Ringing those among them
	// being offered to an agent right now.
	Waiting int
	Ringing int
	// Callbacks counts the callback requests holding a place in the queue
	// (not in Waiting: nobody is on the line); CallbacksDue those that may
	// be offered now.
	Callbacks    int
	CallbacksDue int
	// Oldest is the first entry (in any queue: their place) of the caller
	// who has waited longest; zero when nobody waits. LongestWait is now
	// minus Oldest.
	Oldest      time.Time
	LongestWait time.Duration
	// Members serve the queue; Available are READY now (and so may be
	// offered a call), LoggedIn are working in any state.
	Members   int
	Available int
	LoggedIn  int
}

// Now returns every queue the router holds, by id, as of now.
func (r *Router) Now(now time.Time) []QueueNow {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]QueueNow, 0, len(r.queues))
	for id, q := range r.queues {
		qn := QueueNow{Queue: id, Members: len(q.members)}
		for _, c := range q.waiting {
			if c.request != 0 {
				qn.Callbacks++
				if c.due(now) {
					qn.CallbacksDue++
				}
				continue
			}
			qn.Waiting++
			if len(c.ringing) > 0 {
				qn.Ringing++
			}
			if qn.Oldest.IsZero() || c.entered.Before(qn.Oldest) {
				qn.Oldest = c.entered
			}
		}
		if !qn.Oldest.IsZero() {
			qn.LongestWait = max(now.Sub(qn.Oldest), 0)
		}
		for id := range q.members {
			a, ok := r.agents[id]
			if !ok || a.state == agents.LoggedOut {
				continue
			}
			qn.LoggedIn++
			if a.state == agents.Ready {
				qn.Available++
			}
		}
		out = append(out, qn)
	}
	slices.SortFunc(out, func(a, b QueueNow) int { return int(a.Queue - b.Queue) })
	return out
}
