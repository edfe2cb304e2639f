package inbound

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/pacer-dialer/pacer/agents"
)

// Notifier carries the router's requests to the engines that own the agents
// (DESIGN.md §3: inbound reaches an agent through their engine, never by
// changing their state from outside). Both must return at once and must not
// call back into the router before returning.
type Notifier interface {
	// Poke asks the agent's engine to claim a call for them (Router.Claim)
	// if the agent is still READY, or to report their state if not.
	Poke(agent agents.ID)
	// Withdraw takes back an offer still ringing the agent: the caller hung
	// up, or another agent of a ring-all queue took the call.
	Withdraw(agent agents.ID, call CallKey)
}

// CallerLine is the router's view of the callers' legs while they wait.
type CallerLine interface {
	// Dismiss plays the queue's message to a caller the queue cannot keep
	// (closed, full, no agents, waited too long) and hangs up.
	Dismiss(call CallKey, why string)
}

// EventLog receives every queue event, in order. It must not block (a
// database log batches from its own goroutine).
type EventLog interface {
	Append(ev Event)
}

// Mode is how the router's queues share agents with outbound pacing.
type Mode uint8

const (
	// Blended: pacing keeps a reserve of free agents for inbound, computed
	// from the live load (Reserve), plus one per caller waiting.
	Blended Mode = iota
	// NoDialWhileWaiting: pacing keeps no reserve but places no call while
	// any caller waits (VICIdial's rule).
	NoDialWhileWaiting
	// Dedicated: the queues' members take only inbound calls; pacing counts
	// no reserve.
	Dedicated
)

// Config tunes the router.
type Config struct {
	// AgingStep is what one point of queue priority is worth in wait: a
	// caller's sort key is their entry time minus priority × AgingStep
	// (default 60 s).
	AgingStep time.Duration
	// PendingFor is how long the router waits for an engine to claim a
	// call it was poked for before offering it elsewhere (default 2 s).
	PendingFor time.Duration
	// RateWindow is the time constant of the live arrival-rate and
	// handle-time estimates (default 15 min).
	RateWindow time.Duration
	// FreeAfterPrior is the handle time (talk and wrap-up) assumed until
	// the first call is measured (default 3 min).
	FreeAfterPrior time.Duration
	Mode           Mode
}

func (c Config) withDefaults() Config {
	if c.AgingStep == 0 {
		c.AgingStep = time.Minute
	}
	if c.PendingFor == 0 {
		c.PendingFor = 2 * time.Second
	}
	if c.RateWindow == 0 {
		c.RateWindow = 15 * time.Minute
	}
	if c.FreeAfterPrior == 0 {
		c.FreeAfterPrior = 3 * time.Minute
	}
	return c
}

// Deps are the router's collaborators; Notify and Line are required.
type Deps struct {
	Notify Notifier
	Line   CallerLine
	Log    EventLog // optional
	// CanTake, when set, says whether the agent's side can carry the
	// call's audio at all (a SIP caller needs an agent on a SIP campaign,
	// a simulated caller one on the simulated carrier): an agent who
	// cannot is never offered the call. Called under the router's lock: it
	// must return at once and not call the router.
	CanTake func(agent agents.ID, call CallKey) bool
	// Requests receives the callers who leave a queue for a callback
	// request (LeaveForCallback, or a queue's callback action); without
	// it the router refuses both.
	Requests RequestSink
}

// RequestSink records the callback requests callers leave. Left must
// return at once (the store writes from its own goroutine); once the
// request is stored it calls stored (which tells the caller they will be
// called back and hangs up) and hands the request back to the router
// (Router.HoldRequest).
type RequestSink interface {
	Left(c LeftCaller, stored func())
}

// LeftCaller is a caller who left a queue for a callback request, keeping
// their place (Entered).
type LeftCaller struct {
	Call    CallKey
	Queue   QueueID
	From    string
	DID     string
	Name    string // the matched lead's, when exactly one matched
	Entered time.Time
	At      time.Time
	Why     string
}

// Arrival is a caller reaching a DID.
type Arrival struct {
	Call CallKey
	DID  string
	From string
	// Leads are the leads whose number is the caller's (matched by the
	// caller of Arrive); LastAgent is the agent who last spoke with them
	// (the sticky agent), 0 if none.
	Leads     []LeadMatch
	LastAgent agents.ID
	// Entered, when set, is an earlier entry time the caller keeps (a
	// callback request whose place comes up); otherwise now.
	Entered time.Time
}

// LeadMatch is a lead whose number matched the caller's.
type LeadMatch struct {
	Lead     int64
	Campaign int64
	Name     string
}

// Offer is a call offered to an agent, as their screen shows it.
type Offer struct {
	Call        CallKey
	Queue       QueueID
	QueueName   string
	DID         string
	From        string
	Entered     time.Time
	RingTime    time.Duration
	RejectToDND bool
	Leads       []LeadMatch
	// Request is set when the offer is a callback request to dial (From
	// is its number), not a caller on the line.
	Request RequestID
	Name    string // the request's caller name
}

// Errors Arrive returns for callers it does not queue.
var (
	ErrUnknownDID = errors.New("no queue answers this number")
	ErrDuplicate  = errors.New("this call is already queued")
)

type callState uint8

const (
	csWaiting   callState = iota // waiting, maybe pending for an agent or ringing them
	csConnected                  // an agent took it; the router is done with it
)

type icall struct {
	Arrival
	queue     *queueState
	entered   time.Time // first entry anywhere: the caller's place
	here      time.Time // entry into the current queue (its maximum wait)
	key       time.Time // sort key: entered − priority × aging, never later than before
	pending   agents.ID // poked, not yet claimed (0: none)
	pendingAt time.Time
	offeredAt time.Time // the last offer
	ringing   map[agents.ID]bool
	passed    map[agents.ID]time.Time // agent → until when they are not offered this call again
	state     callState
	// entering holds the queues the call is being entered in by one chain
	// of fallbacks (a full queue overflowing to a full queue…), so that a
	// cycle of them ends instead of recursing forever.
	entering map[*queueState]bool
	// A callback request (request ≠ 0) has no caller on the line: it is
	// offered from notBefore on, while its queue is open, until expires.
	request   RequestID
	name      string
	notBefore time.Time
	expires   time.Time
}

type queueState struct {
	cfg     Queue
	members map[agents.ID]Member
	waiting []*icall // in key order
	lastRR  agents.ID
	rate    ewma // arrivals per second
	tally   slTally
}

type agentView struct {
	id        agents.ID
	campaign  int64
	state     agents.State
	since     time.Time // in the current state since
	dedicated bool      // takes only inbound (Dedicated mode member)
	queues    []QueueID
	callsDay  time.Time
	calls     int
	busyFrom  time.Time // when the agent last took a call (zero: not busy)
	pending   CallKey
}

// Router holds the waiting callers of every queue and offers them to agents
// one at a time (ring-all queues: to all free members at once). It is safe
// for concurrent use; it never calls its Notifier, CallerLine or EventLog
// while holding its lock.
type Router struct {
	cfg  Config
	deps Deps

	mu      sync.Mutex
	queues  map[QueueID]*queueState
	dids    map[string]QueueID
	calls   map[CallKey]*icall
	waiting []*icall // every waiting call, key order
	agents  map[agents.ID]*agentView
	// byCampaign indexes agents by the campaign they were last reported in,
	// so Load (on every pacing decision) looks at one campaign's agents.
	byCampaign map[int64]map[agents.ID]*agentView
	handle     ewma // seconds from taking a call to free again, all agents
	answer     ewma // seconds from an offer to its accept
	out        []func()
}

// NewRouter makes an empty router.
func NewRouter(cfg Config, deps Deps) (*Router, error) {
	if deps.Notify == nil || deps.Line == nil {
		return nil, errors.New("router needs a notifier and a caller line")
	}
	return &Router{
		cfg:        cfg.withDefaults(),
		deps:       deps,
		queues:     map[QueueID]*queueState{},
		dids:       map[string]QueueID{},
		calls:      map[CallKey]*icall{},
		agents:     map[agents.ID]*agentView{},
		byCampaign: map[int64]map[agents.ID]*agentView{},
	}, nil
}

// SetQueue adds or changes a queue with its members. Callers waiting keep
// their places.
func (r *Router) SetQueue(q Queue, members []Member) error {
	if r.deps.Requests == nil && (q.Overflow.Action == ActionCallback || q.AfterHours.Action == ActionCallback ||
		q.AtClose.Action == ActionCallback || q.NoAgents.Action == ActionCallback) {
		return fmt.Errorf("queue %q: a callback action needs a request store, and this router has none", q.Name)
	}
	if q.Method == RingAll && len(members) > MaxRingAll {
		return fmt.Errorf("queue %q: ring-all is for queues of at most %d members, it has %d", q.Name, MaxRingAll, len(members))
	}
	defer r.flush()
	r.mu.Lock()
	defer r.mu.Unlock()
	qs, ok := r.queues[q.ID]
	if !ok {
		qs = &queueState{}
		r.queues[q.ID] = qs
	}
	qs.cfg = q
	qs.members = make(map[agents.ID]Member, len(members))
	for _, m := range members {
		if m.Level <= 0 {
			m.Level = 1
		}
		qs.members[m.Agent] = m
	}
	for _, a := range r.agents {
		a.queues = r.queuesOf(a.id)
	}
	return nil
}

// SetDID routes a number to a queue.
func (r *Router) SetDID(number string, q QueueID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dids[number] = q
}

// SetDedicated marks an agent as taking only inbound calls.
func (r *Router) SetDedicated(agent agents.ID, on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.agent(agent).dedicated = on
}

// Dedicated reports whether the agent takes only inbound calls.
func (r *Router) Dedicated(agent agents.ID) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	a, ok := r.agents[agent]
	return ok && a.dedicated
}

func (r *Router) queuesOf(id agents.ID) []QueueID {
	var out []QueueID
	for qid, q := range r.queues {
		if _, ok := q.members[id]; ok {
			out = append(out, qid)
		}
	}
	slices.Sort(out)
	return out
}

func (r *Router) agent(id agents.ID) *agentView {
	a, ok := r.agents[id]
	if !ok {
		a = &agentView{id: id, queues: r.queuesOf(id)}
		r.agents[id] = a
	}
	return a
}

// later queues a call-out to run after the lock is released.
func (r *Router) later(f func()) { r.out = append(r.out, f) }

// flush runs the queued call-outs; deferred before the lock is taken.
func (r *Router) flush() {
	r.mu.Lock()
	out := r.out
	r.out = nil
	r.mu.Unlock()
	for _, f := range out {
		f()
	}
}

func (r *Router) log(c *icall, kind EventKind, at time.Time, agent agents.ID, detail string) {
	if c.request == 0 {
		c.queue.tally.see(kind, c.entered, at, c.queue.cfg.SLThreshold)
	}
	if r.deps.Log == nil {
		return
	}
	ev := Event{Queue: c.queue.cfg.ID, Call: c.Call, Kind: kind, At: at, Entered: c.entered, Agent: agent,
		From: c.From, DID: c.DID, Detail: detail}
	r.later(func() { r.deps.Log.Append(ev) })
}

// Arrive queues a caller by the number they dialled, or applies the queue's
// after-hours, depth or no-agents action. It returns ErrUnknownDID when no
// queue answers the number (the caller of Arrive refuses the call).
func (r *Router) Arrive(a Arrival, now time.Time) error {
	defer r.flush()
	r.mu.Lock()
	defer r.mu.Unlock()
	qid, ok := r.dids[a.DID]
	if !ok {
		return fmt.Errorf("%w: %s", ErrUnknownDID, a.DID)
	}
	q, ok := r.queues[qid]
	if !ok {
		return fmt.Errorf("%w: %s (queue %d is gone)", ErrUnknownDID, a.DID, qid)
	}
	if _, dup := r.calls[a.Call]; dup {
		return fmt.Errorf("%w: %d", ErrDuplicate, a.Call)
	}
	c := &icall{Arrival: a, entered: now}
	if !a.Entered.IsZero() && a.Entered.Before(now) {
		c.entered = a.Entered
	}
	c.key = c.entered
	r.calls[a.Call] = c
	q.rate.add(now, 1, r.cfg.RateWindow)
	r.enter(c, q, now)
	return nil
}

// enter puts c in q (first arrival or overflow) and applies q's gates.
func (r *Router) enter(c *icall, q *queueState, now time.Time) {
	if c.entering == nil {
		c.entering = map[*queueState]bool{}
	}
	c.entering[q] = true
	defer delete(c.entering, q)
	c.queue, c.here = q, now
	if k := c.entered.Add(-time.Duration(q.cfg.Priority) * r.cfg.AgingStep); k.Before(c.key) {
		c.key = k
	}
	c.passed, c.ringing, c.pending = nil, nil, 0
	r.log(c, EvEnter, now, 0, "")
	switch {
	case !q.cfg.Hours.Open(now):
		r.fallback(c, q.cfg.AfterHours, "closed", now)
		return
	case q.cfg.MaxDepth > 0 && q.callers() >= q.cfg.MaxDepth:
		r.fallback(c, q.cfg.Overflow, "queue full", now)
		return
	case !r.anyMemberIn(q):
		if q.cfg.NoAgents.Action != ActionWait {
			r.fallback(c, q.cfg.NoAgents, "no agents", now)
			return
		}
	}
	q.waiting = insertByKey(q.waiting, c)
	r.waiting = insertByKey(r.waiting, c)
	r.dispatch(now)
}

func insertByKey(s []*icall, c *icall) []*icall {
	i, _ := slices.BinarySearchFunc(s, c, func(a, b *icall) int {
		if a.key.Equal(b.key) {
			return compareKeys(a.Call, b.Call)
		}
		return a.key.Compare(b.key)
	})
	return slices.Insert(s, i, c)
}

func compareKeys(a, b CallKey) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func remove(s []*icall, c *icall) []*icall {
	if i := slices.Index(s, c); i >= 0 {
		return slices.Delete(s, i, i+1)
	}
	return s
}

// leave takes c out of its queue's waiting list (not out of r.calls).
func (r *Router) leave(c *icall) {
	c.queue.waiting = remove(c.queue.waiting, c)
	r.waiting = remove(r.waiting, c)
	if c.pending != 0 {
		if a := r.agents[c.pending]; a != nil && a.pending == c.Call {
			a.pending = 0
		}
		c.pending = 0
	}
	for id := range c.ringing {
		r.later(func() { r.deps.Notify.Withdraw(id, c.Call) })
	}
	c.ringing = nil
}

// fallback applies a queue action to a caller it cannot keep.
func (r *Router) fallback(c *icall, f Fallback, why string, now time.Time) {
	if c.request != 0 {
		r.dropRequest(c) // stored: it waits for the store to hand it back
		return
	}
	switch f.Action {
	case ActionWait:
		if !slices.Contains(c.queue.waiting, c) {
			c.queue.waiting = insertByKey(c.queue.waiting, c)
			r.waiting = insertByKey(r.waiting, c)
		}
		return
	case ActionQueue:
		if t, ok := r.queues[f.Target]; ok && t != c.queue && !c.entering[t] {
			r.log(c, EvOverflow, now, 0, fmt.Sprintf("queue %d: %s", f.Target, why))
			r.leave(c)
			r.enter(c, t, now)
			return
		}
	case ActionCallback:
		// A caller whose number cannot be called back gets the message
		// and the hang-up instead.
		if r.deps.Requests != nil && callable(c.From) {
			r.toCallback(c, why, now)
			return
		}
	}
	r.log(c, EvExit, now, 0, why)
	r.leave(c)
	delete(r.calls, c.Call)
	key := c.Call
	r.later(func() { r.deps.Line.Dismiss(key, why) })
}

func (r *Router) anyMemberIn(q *queueState) bool {
	for id := range q.members {
		if a, ok := r.agents[id]; ok && a.state != agents.LoggedOut {
			return true
		}
	}
	return false
}

// HungUp: the caller hung up before any agent took the call.
func (r *Router) HungUp(call CallKey, now time.Time) {
	defer r.flush()
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.calls[call]
	if !ok || c.state != csWaiting {
		return
	}
	r.log(c, EvAbandon, now, 0, "")
	r.leave(c)
	delete(r.calls, call)
	r.dispatch(now)
}

// AgentChanged tells the router an agent's state in their engine. Every
// transition of a member should be reported; a READY agent may be offered a
// call (through Notifier.Poke).
func (r *Router) AgentChanged(id agents.ID, campaign int64, s agents.State, now time.Time) {
	defer r.flush()
	r.mu.Lock()
	defer r.mu.Unlock()
	a := r.agent(id)
	if a.campaign != campaign || r.byCampaign[campaign][id] == nil {
		delete(r.byCampaign[a.campaign], id)
		if r.byCampaign[campaign] == nil {
			r.byCampaign[campaign] = map[agents.ID]*agentView{}
		}
		r.byCampaign[campaign][id] = a
		a.campaign = campaign
	}
	if a.state == s {
		return
	}
	prev := a.state
	a.state, a.since = s, now
	switch {
	case s == agents.InCall && !a.busyFrom.IsZero():
	case s == agents.InCall:
		a.busyFrom = now
	case (s == agents.Ready || s == agents.Paused || s == agents.LoggedOut || s == agents.DND) && !a.busyFrom.IsZero() &&
		prev == agents.Dispo:
		r.handle.addSample(now, now.Sub(a.busyFrom).Seconds(), r.cfg.RateWindow)
		a.busyFrom = time.Time{}
	case s != agents.Dispo && s != agents.InCall:
		a.busyFrom = time.Time{}
	}
	if s != agents.Ready && a.pending != 0 {
		if c := r.calls[a.pending]; c != nil && c.pending == id {
			c.pending = 0
		}
		a.pending = 0
	}
	if s == agents.LoggedOut {
		r.lastMemberLeft(a, now)
	}
	r.dispatch(now)
}

// lastMemberLeft applies the no-agents action of a's queues that have no
// member logged in any more.
func (r *Router) lastMemberLeft(a *agentView, now time.Time) {
	for _, qid := range a.queues {
		q := r.queues[qid]
		if q == nil || r.anyMemberIn(q) || q.cfg.NoAgents.Action == ActionWait {
			continue
		}
		for _, c := range slices.Clone(q.waiting) {
			if c.request == 0 {
				r.fallback(c, q.cfg.NoAgents, "no agents", now)
			}
		}
	}
}

// dispatch offers waiting calls to free agents, best key first.
func (r *Router) dispatch(now time.Time) {
	for _, c := range r.waiting {
		if c.pending != 0 || len(c.ringing) > 0 && !c.ringAll() {
			continue
		}
		for _, id := range r.pick(c, now) {
			a := r.agents[id]
			a.pending = c.Call
			if !c.ringAll() {
				c.pending, c.pendingAt = id, now
			}
			r.later(func() { r.deps.Notify.Poke(id) })
		}
	}
}

// eligible reports whether agent a may be offered c now, and at which
// level.
func (r *Router) eligible(c *icall, a *agentView, now time.Time) bool {
	m, ok := c.queue.members[a.id]
	if !ok || a.state != agents.Ready || a.pending != 0 || c.ringing[a.id] || c.request != 0 && !c.due(now) {
		return false
	}
	if until, passed := c.passed[a.id]; passed && now.Before(until) {
		return false
	}
	// A callback request is dialled through the agent's own campaign,
	// whatever its line: only a caller's leg needs carrying.
	if c.request == 0 && r.deps.CanTake != nil && !r.deps.CanTake(a.id, c.Call) {
		return false
	}
	if m.Level > 1 && c.queue.cfg.WidenAfter > 0 && now.Sub(c.entered) < c.queue.cfg.WidenAfter {
		return false
	}
	if last := c.LastAgent; last != 0 && last != a.id && c.queue.cfg.StickyFor > 0 &&
		now.Sub(c.here) < c.queue.cfg.StickyFor {
		// The caller is kept for the agent who last spoke with them, if
		// that agent is at work and serves this queue.
		_, member := c.queue.members[last]
		if la, ok := r.agents[last]; ok && member && la.state != agents.LoggedOut && la.state != agents.Paused &&
			la.state != agents.DND {
			return false
		}
	}
	return true
}

// pick chooses the agents to offer c to now (one, or every free member for
// ring-all), by the queue's method.
func (r *Router) pick(c *icall, now time.Time) []agents.ID {
	q := c.queue
	var best *agentView
	var all []agents.ID
	for id := range q.members {
		a, ok := r.agents[id]
		if !ok || !r.eligible(c, a, now) {
			continue
		}
		if c.ringAll() {
			all = append(all, id)
			continue
		}
		if best == nil || r.better(q, a, best, now) {
			best = a
		}
	}
	if c.ringAll() {
		slices.Sort(all)
		return all
	}
	if best == nil {
		return nil
	}
	if q.cfg.Method == RoundRobin {
		q.lastRR = best.id
	}
	return []agents.ID{best.id}
}

// better reports whether a should be offered before b under q's method;
// ties go to the longest idle, then the lower id (deterministic).
func (r *Router) better(q *queueState, a, b *agentView, now time.Time) bool {
	switch q.cfg.Method {
	case FewestCalls:
		ac, bc := a.callsToday(now), b.callsToday(now)
		if ac != bc {
			return ac < bc
		}
	case Rank:
		ar, br := q.members[a.id].Rank, q.members[b.id].Rank
		if ar != br {
			return ar < br
		}
	case RoundRobin:
		// The next id after the last offered, cyclically.
		ad, bd := a.id-q.lastRR, b.id-q.lastRR
		if ad <= 0 {
			ad += math.MaxInt32
		}
		if bd <= 0 {
			bd += math.MaxInt32
		}
		return ad < bd
	}
	if !a.since.Equal(b.since) {
		return a.since.Before(b.since)
	}
	return a.id < b.id
}

func (a *agentView) callsToday(now time.Time) int {
	if day := agents.DayStart(now); !day.Equal(a.callsDay) {
		return 0
	}
	return a.calls
}

// Claim is called by an agent's engine when the agent is READY and no
// outbound answer waits for them: it returns the call to offer them (the one
// they were poked for, or else the best waiting call of their queues) and
// logs the offer. The engine must then ring the agent, and report Accept or
// Pass.
func (r *Router) Claim(id agents.ID, now time.Time) (Offer, bool) {
	defer r.flush()
	r.mu.Lock()
	defer r.mu.Unlock()
	a := r.agent(id)
	a.state = agents.Ready
	var c *icall
	if p := r.calls[a.pending]; p != nil && p.state == csWaiting && (p.pending == id || p.ringAll()) {
		c = p
	} else {
		a.pending = 0
		for _, w := range r.waiting {
			if (w.pending == 0 || w.pending == id) && len(w.ringing) == 0 && r.eligible(w, a, now) {
				c = w
				break
			}
		}
	}
	a.pending = 0
	if c == nil {
		return Offer{}, false
	}
	if c.pending != 0 && c.pending != id {
		if o := r.agents[c.pending]; o != nil && o.pending == c.Call {
			o.pending = 0
		}
	}
	c.pending = 0
	if c.ringing == nil {
		c.ringing = map[agents.ID]bool{}
	}
	c.ringing[id] = true
	a.state = agents.Ringing
	c.offeredAt = now
	r.log(c, EvOffer, now, id, "")
	q := c.queue.cfg
	return Offer{Call: c.Call, Queue: q.ID, QueueName: q.Name, DID: c.DID, From: c.From, Entered: c.entered,
		RingTime: q.RingTime, RejectToDND: q.RejectToDND, Leads: c.Leads, Request: c.request, Name: c.name}, true
}

// Accept: the agent took the offer. It reports false when the call is gone
// (the caller hung up, or another ring-all member took it first): the
// engine then returns the agent to READY.
func (r *Router) Accept(call CallKey, id agents.ID, now time.Time) bool {
	defer r.flush()
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.calls[call]
	if !ok || c.state != csWaiting || !c.ringing[id] {
		return false
	}
	delete(c.ringing, id)
	if !c.offeredAt.IsZero() {
		r.answer.addSample(now, now.Sub(c.offeredAt).Seconds(), r.cfg.RateWindow)
	}
	r.log(c, EvConnect, now, id, "")
	r.leave(c) // withdraws the other ring-all offers
	c.state = csConnected
	delete(r.calls, call)
	a := r.agent(id)
	if day := agents.DayStart(now); !day.Equal(a.callsDay) {
		a.callsDay, a.calls = day, 0
	}
	a.calls++
	a.state, a.busyFrom = agents.InCall, now
	return true
}

// Pass: the agent rejected the offer or let it ring out; the call goes to
// the next agent at once. When every member at work has passed, the queue's
// no-agents action runs (with "wait", the call waits and those agents may
// be offered it again after one ring time).
func (r *Router) Pass(call CallKey, id agents.ID, timeout bool, now time.Time) {
	defer r.flush()
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.calls[call]
	if !ok || c.state != csWaiting || !c.ringing[id] {
		return
	}
	delete(c.ringing, id)
	kind := EvReject
	if timeout {
		kind = EvTimeout
	}
	r.log(c, kind, now, id, "")
	if c.passed == nil {
		c.passed = map[agents.ID]time.Time{}
	}
	c.passed[id] = now.Add(c.queue.cfg.RingTime)
	if len(c.ringing) == 0 && c.request == 0 && r.everyonePassed(c, now) && c.queue.cfg.NoAgents.Action != ActionWait {
		r.fallback(c, c.queue.cfg.NoAgents, "every agent passed", now)
	}
	r.dispatch(now)
}

func (r *Router) everyonePassed(c *icall, now time.Time) bool {
	for id := range c.queue.members {
		a, ok := r.agents[id]
		if !ok || a.state == agents.LoggedOut {
			continue
		}
		// A pass counts however long ago it was: a member whose pass has
		// expired (one ring time, the next agent's ring-out) has still
		// passed on this call.
		if _, passed := c.passed[id]; !passed {
			return false
		}
	}
	return true
}

// Advance runs the router's timed rules up to now: maximum wait, closing
// time, widening to lower levels, the end of a sticky hold, passes that
// expired, and pokes no engine answered. Call it about every second.
func (r *Router) Advance(now time.Time) {
	defer r.flush()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range slices.Clone(r.waiting) {
		if c.pending != 0 && now.Sub(c.pendingAt) >= r.cfg.PendingFor {
			if a := r.agents[c.pending]; a != nil && a.pending == c.Call {
				a.pending = 0
			}
			c.pending = 0
		}
		q := c.queue.cfg
		switch {
		case c.request != 0:
			if !now.Before(c.expires) && len(c.ringing) == 0 && c.pending == 0 {
				r.dropRequest(c) // the request store expires it
			}
		case !q.Hours.Open(now) && q.AtClose.Action != ActionWait:
			r.fallback(c, q.AtClose, "closing time", now)
		case q.MaxWait > 0 && now.Sub(c.here) >= q.MaxWait && len(c.ringing) == 0:
			r.fallback(c, q.Overflow, "waited too long", now)
		}
	}
	r.dispatch(now)
}

// Load is what pacing must leave free for inbound among one campaign's
// agents.
type Load struct {
	// Reserve is how many READY agents outbound pacing must not count on:
	// the live reserve plus one per caller waiting for these agents.
	Reserve int
	// Stop: place no outbound call now (NoDialWhileWaiting with a caller
	// waiting).
	Stop bool
	// Waiting is how many callers wait for these agents.
	Waiting int
	// ArrivalsPerSec is the live rate of callers these agents take: each
	// takes a free agent that outbound answers could otherwise have.
	ArrivalsPerSec float64
}

// Load computes the reserve for a campaign's agents now: from the live
// arrival rate of the queues they serve, the measured handle time and the
// service level those queues need for the rest of the current interval,
// calibrated on their outcomes (blendReserveLocked in router_pace.go).
func (r *Router) Load(campaign int64, now time.Time) Load {
	r.mu.Lock()
	defer r.mu.Unlock()
	var l Load
	var n int
	var served map[QueueID]bool
	for _, a := range r.byCampaign[campaign] {
		if a.dedicated || len(a.queues) == 0 {
			continue
		}
		switch a.state {
		case agents.LoggedOut, agents.Paused, agents.DND:
			continue
		}
		n++
		if served == nil {
			served = map[QueueID]bool{}
		}
		for _, q := range a.queues {
			served[q] = true
		}
	}
	if n == 0 {
		return l // no agent of this campaign serves a queue now
	}
	late := map[QueueID]int{}
	for _, c := range r.waiting {
		if !served[c.queue.cfg.ID] || c.request != 0 && !c.due(now) {
			continue
		}
		if len(c.ringing) == 0 {
			l.Waiting++ // a callback request due keeps an agent too
		}
		if c.request == 0 && now.Sub(c.entered) > c.queue.cfg.SLThreshold && !c.entered.Before(now.Truncate(slInterval)) {
			late[c.queue.cfg.ID]++
		}
	}
	switch r.cfg.Mode {
	case NoDialWhileWaiting:
		l.Stop = l.Waiting > 0
		return l
	case Dedicated:
		return l
	}
	reserve, rate := r.blendReserveLocked(campaign, n, served, late, now)
	l.Reserve = reserve + l.Waiting
	l.ArrivalsPerSec = rate
	return l
}

// slInterval is the interval over which the service level is judged;
// maxAimedSL and minAimedThreshold bound what the reserve aims at.
const (
	slInterval        = 30 * time.Minute
	maxAimedSL        = 0.995
	minAimedThreshold = time.Second
)

// campaignShare is the part of q's callers the campaign's agents take: its
// share of q's members at work.
func (r *Router) campaignShare(q *queueState, campaign int64) float64 {
	var mine, all int
	for id := range q.members {
		a, ok := r.agents[id]
		if !ok || a.dedicated {
			continue
		}
		switch a.state {
		case agents.LoggedOut, agents.Paused, agents.DND:
			continue
		}
		all++
		if a.campaign == campaign {
			mine++
		}
	}
	if all == 0 {
		return 0
	}
	return float64(mine) / float64(all)
}

// Waiting is one caller waiting, as the queue panel shows them.
type Waiting struct {
	Call      CallKey
	Queue     QueueID
	QueueName string
	// AllowTake: the queue lets its members take the caller from the queue
	// panel (Take).
	AllowTake bool
	From      string
	DID       string
	Entered   time.Time
	Ringing   []agents.ID
	// Leads are the leads whose number is the caller's.
	Leads []LeadMatch
	// Request is set for a callback request (no caller on the line); it
	// is dialled from NotBefore on (zero: now).
	Request   RequestID
	Name      string
	NotBefore time.Time
}

// Waiting lists the callers waiting in the given queues (all when none),
// best place first.
func (r *Router) Waiting(queues ...QueueID) []Waiting {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Waiting
	for _, c := range r.waiting {
		if len(queues) > 0 && !slices.Contains(queues, c.queue.cfg.ID) {
			continue
		}
		w := Waiting{Call: c.Call, Queue: c.queue.cfg.ID, QueueName: c.queue.cfg.Name,
			AllowTake: c.queue.cfg.AllowTake && c.request == 0, From: c.From, DID: c.DID, Entered: c.entered,
			Leads: slices.Clone(c.Leads), Request: c.request, Name: c.name, NotBefore: c.notBefore}
		for id := range c.ringing {
			w.Ringing = append(w.Ringing, id)
		}
		slices.Sort(w.Ringing)
		out = append(out, w)
	}
	return out
}

// QueuesOf lists the queues the agent serves.
func (r *Router) QueuesOf(id agents.ID) []QueueID {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.queuesOf(id))
}

// ewma is an exponentially weighted rate or mean with time constant τ.
type ewma struct {
	at          time.Time
	sum, weight float64
}

func (e *ewma) decay(now time.Time, tau time.Duration) {
	if !e.at.IsZero() {
		if d := now.Sub(e.at); d > 0 {
			f := math.Exp(-d.Seconds() / tau.Seconds())
			e.sum *= f
			e.weight *= f
		}
	}
	if now.After(e.at) {
		e.at = now
	}
}

// add counts n events at now (for a rate).
func (e *ewma) add(now time.Time, n float64, tau time.Duration) {
	e.decay(now, tau)
	e.sum += n
}

// rate is events per second: the decayed count over τ.
func (e *ewma) rate(now time.Time, tau time.Duration) float64 {
	c := *e
	c.decay(now, tau)
	return c.sum / tau.Seconds()
}

// addSample adds one observation of a quantity (for a mean).
func (e *ewma) addSample(now time.Time, v float64, tau time.Duration) {
	e.decay(now, tau)
	e.sum += v
	e.weight++
}

// mean is the weighted mean of the samples, or prior when there are none.
func (e *ewma) mean(prior float64) float64 {
	if e.weight < 1e-9 {
		return prior
	}
	return e.sum / e.weight
}
