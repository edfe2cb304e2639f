package inbound

import (
	"errors"
	"fmt"
	"time"

	"github.com/pacer-dialer/pacer/agents"
)

// Why Take refuses.
var (
	ErrNotWaiting = errors.New("the caller is no longer waiting")
	ErrNoTake     = errors.New("this queue does not let agents take calls from the panel")
	ErrNotMember  = errors.New("you do not serve this caller's queue")
	ErrRinging    = errors.New("the caller is being offered to another agent")
	// ErrCannotCarry: Deps.CanTake says the agent's side cannot carry the
	// caller's audio (a SIP caller and an agent on the simulated carrier).
	ErrCannotCarry = errors.New("your campaign's line cannot carry this caller")
	// ErrRequestNoTake: a callback request is offered when its place comes
	// up, not taken from the panel.
	ErrRequestNoTake = errors.New("a callback request is offered to an agent when its turn comes")
)

// Take gives a READY member the waiting caller they picked from the queue
// panel (queues that allow it), ahead of the order: the offer is logged as
// any other, and the engine accepts it at once for the agent.
func (r *Router) Take(id agents.ID, call CallKey, now time.Time) (Offer, error) {
	defer r.flush()
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.calls[call]
	if !ok || c.state != csWaiting {
		return Offer{}, ErrNotWaiting
	}
	q := c.queue
	if c.request != 0 {
		return Offer{}, ErrRequestNoTake
	}
	if !q.cfg.AllowTake {
		return Offer{}, fmt.Errorf("%w (%s)", ErrNoTake, q.cfg.Name)
	}
	if _, member := q.members[id]; !member {
		return Offer{}, fmt.Errorf("%w (%s)", ErrNotMember, q.cfg.Name)
	}
	if r.deps.CanTake != nil && !r.deps.CanTake(id, call) {
		return Offer{}, ErrCannotCarry
	}
	if len(c.ringing) > 0 {
		return Offer{}, ErrRinging
	}
	a := r.agent(id)
	if c.pending != 0 {
		if o := r.agents[c.pending]; o != nil && o.pending == c.Call {
			o.pending = 0
		}
		c.pending = 0
	}
	if a.pending != 0 && a.pending != call {
		if o := r.calls[a.pending]; o != nil && o.pending == id {
			o.pending = 0
		}
	}
	a.pending = 0
	c.ringing = map[agents.ID]bool{id: true}
	a.state = agents.Ringing
	r.log(c, EvOffer, now, id, "taken from the queue panel")
	return Offer{Call: c.Call, Queue: q.cfg.ID, QueueName: q.cfg.Name, DID: c.DID, From: c.From, Entered: c.entered,
		RingTime: q.cfg.RingTime, RejectToDND: q.cfg.RejectToDND, Leads: c.Leads}, nil
}
