package inbound

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/pacer-dialer/pacer/campaigns"
)

// Callback requests in the router: a caller who leaves for a callback
// (LeaveForCallback, or a queue's callback action) leaves the queue's log as
// an overflow to "callback" and is handed to Deps.Requests, which stores
// the request and hands it back (HoldRequest). The router then keeps the
// request among the callers, by the caller's place, with no one on the line:
// it is offered like a call when it comes first for a free member, from its
// NotBefore on, while its queue is open. An offer of a request is logged
// under RequestKey(id) (a negative key: the queue figures, built from the
// callers' visits, do not count it) and accepting it means dialling it; the
// request store, not the router, decides when a request is done
// (SyncRequests drops the ones it no longer holds open).

// Why LeaveForCallback refuses: the caller's queue does not take callback
// requests, or the caller's number (withheld, or not a phone number)
// cannot be called back.
var (
	ErrNoCallback       = errors.New("this queue does not take callback requests")
	ErrNoCallbackNumber = errors.New("the caller's number cannot be called back")
)

// callable reports whether a caller's number can be called back.
func callable(from string) bool {
	_, err := campaigns.NormalizePhone(from, "US")
	return err == nil
}

// RequestKey is the router's key for a callback request: negative, so it
// never meets a call's key.
func RequestKey(id RequestID) CallKey { return CallKey(-id) }

// HeldRequest is a callback request for the router to hold.
type HeldRequest struct {
	ID    RequestID
	Queue QueueID
	Phone string
	Name  string
	// Entered is the caller's place; NotBefore the earliest next offer
	// (zero: now); Expires when the router stops offering it.
	Entered, NotBefore, Expires time.Time
}

// LeaveForCallback turns a waiting caller into a callback request that
// keeps their place, when their queue allows callers to ask for one: the
// caller is taken out of the queue (an offer ringing an agent is
// withdrawn) and Deps.Requests is told; once it has stored the request,
// the caller's leg is dismissed with the "callback" message.
func (r *Router) LeaveForCallback(call CallKey, now time.Time) error {
	defer r.flush()
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.calls[call]
	if !ok || c.state != csWaiting || c.request != 0 {
		return ErrNotWaiting
	}
	if r.deps.Requests == nil || !c.queue.cfg.Callbacks.Allow {
		return fmt.Errorf("%w (%s)", ErrNoCallback, c.queue.cfg.Name)
	}
	if !callable(c.From) {
		return fmt.Errorf("%w (%q)", ErrNoCallbackNumber, c.From)
	}
	r.toCallback(c, "asked for a callback", now)
	r.dispatch(now)
	return nil
}

// toCallback hands c to the request store and dismisses its leg.
func (r *Router) toCallback(c *icall, why string, now time.Time) {
	r.log(c, EvOverflow, now, 0, "callback: "+why)
	r.leave(c)
	delete(r.calls, c.Call)
	left := LeftCaller{Call: c.Call, Queue: c.queue.cfg.ID, From: c.From, DID: c.DID, Entered: c.entered, At: now,
		Why: why}
	if len(c.Leads) == 1 {
		left.Name = c.Leads[0].Name
	}
	key := c.Call
	r.later(func() { r.deps.Requests.Left(left, func() { r.deps.Line.Dismiss(key, DismissCallback) }) })
}

// DismissCallback is the reason CallerLine.Dismiss gets for a caller who
// left a callback request: the line tells them they will be called back.
const DismissCallback = "callback"

// HoldRequest puts a stored request in its queue at its place (or updates
// the one held). A request whose queue the router does not know is not
// held; it reports whether it is.
func (r *Router) HoldRequest(h HeldRequest, now time.Time) bool {
	defer r.flush()
	r.mu.Lock()
	defer r.mu.Unlock()
	ok := r.hold(h)
	r.dispatch(now)
	return ok
}

func (r *Router) hold(h HeldRequest) bool {
	q, ok := r.queues[h.Queue]
	if !ok {
		return false
	}
	key := RequestKey(h.ID)
	if c, held := r.calls[key]; held {
		c.notBefore, c.expires, c.name = h.NotBefore, h.Expires, h.Name
		return true
	}
	c := &icall{Arrival: Arrival{Call: key, From: h.Phone}, entered: h.Entered, here: h.Entered,
		queue: q, request: h.ID, name: h.Name, notBefore: h.NotBefore, expires: h.Expires}
	c.key = c.entered.Add(-time.Duration(q.cfg.Priority) * r.cfg.AgingStep)
	r.calls[key] = c
	q.waiting = insertByKey(q.waiting, c)
	r.waiting = insertByKey(r.waiting, c)
	return true
}

// SyncRequests makes the router hold exactly the given pending requests
// (this node's, as stored): new ones are put at their places, held ones are
// updated, and the others are dropped, withdrawing an offer that rings an
// agent, except a dialling one whose offer still rings: the agent who
// accepted it is dialling it now, and their engine takes it out.
func (r *Router) SyncRequests(list []HeldRequest, dialling []RequestID, now time.Time) {
	defer r.flush()
	r.mu.Lock()
	defer r.mu.Unlock()
	keep := make(map[CallKey]bool, len(list))
	for _, h := range list {
		if r.hold(h) {
			keep[RequestKey(h.ID)] = true
		}
	}
	for _, c := range slices.Clone(r.waiting) {
		if c.request == 0 || keep[c.Call] || len(c.ringing) > 0 && slices.Contains(dialling, c.request) {
			continue
		}
		r.dropRequest(c)
	}
	r.dispatch(now)
}

// DropRequest stops holding a request (it was dialled, settled or closed).
func (r *Router) DropRequest(id RequestID, now time.Time) {
	defer r.flush()
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.calls[RequestKey(id)]; ok && c.request != 0 {
		r.dropRequest(c)
		r.dispatch(now)
	}
}

func (r *Router) dropRequest(c *icall) {
	r.leave(c)
	delete(r.calls, c.Call)
}

// due reports whether a callback request may be offered at now.
func (c *icall) due(now time.Time) bool {
	return !now.Before(c.notBefore) && now.Before(c.expires) && c.queue.cfg.Hours.Open(now)
}

// callers counts the callers on the line in q (callback requests hold no
// line and do not count toward its depth).
func (q *queueState) callers() int {
	n := 0
	for _, c := range q.waiting {
		if c.request == 0 {
			n++
		}
	}
	return n
}

// ringAll reports whether c rings every free member at once: a caller of a
// ring-all queue. A callback request rings one agent at a time whatever its
// queue's method: whoever accepts dials it, and one is enough.
func (c *icall) ringAll() bool { return c.queue.cfg.Method == RingAll && c.request == 0 }
