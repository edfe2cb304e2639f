package inbound

import (
	"time"

	"github.com/pacer-dialer/pacer/agents"
)

// Method is how a queue picks among its free agents.
type Method uint8

const (
	// LongestIdle offers to the agent who has been free the longest.
	LongestIdle Method = iota
	// FewestCalls offers to the agent who took the fewest calls today.
	FewestCalls
	// Rank offers to the member with the best (lowest) rank, then longest
	// idle among equals.
	Rank
	// RoundRobin offers to the member after the one offered last.
	RoundRobin
	// RingAll rings every free member at once; the first to accept takes
	// the call. Only for small queues (MaxRingAll members).
	RingAll
	numMethods
)

// MaxRingAll is the most members a ring-all queue may have.
const MaxRingAll = 10

var methodNames = [numMethods]string{"longest_idle", "fewest_calls", "rank", "round_robin", "ring_all"}

func (m Method) String() string {
	if m < numMethods {
		return methodNames[m]
	}
	return "unknown"
}

// Action is what a queue does with a caller it cannot keep waiting.
type Action uint8

const (
	// ActionHangup plays the queue's message and hangs up.
	ActionHangup Action = iota
	// ActionQueue moves the caller to another queue (Target), keeping
	// their place.
	ActionQueue
	// ActionCallback turns the call into a callback request that keeps the
	// caller's place.
	ActionCallback
	// ActionWait keeps the caller waiting (for the no-agents and closing
	// actions: callers stay until an agent comes or they hang up).
	ActionWait
	numActions
)

var actionNames = [numActions]string{"hangup", "queue", "callback", "wait"}

func (a Action) String() string {
	if a < numActions {
		return actionNames[a]
	}
	return "unknown"
}

// Fallback is an action with its target queue (ActionQueue only).
type Fallback struct {
	Action Action
	Target QueueID
}

// Hours is a queue's weekly opening hours in its time zone: for each
// weekday (time.Sunday = 0), the open interval as offsets from midnight.
// A zero Open and Close is closed all day; Always means open every minute.
type Hours struct {
	Always bool
	Zone   *time.Location
	Days   [7]struct{ Open, Close time.Duration }
}

// Queue is one inbound queue's settings.
type Queue struct {
	ID       QueueID
	Name     string
	Priority int // higher is served first; it ages (see Router's AgingStep)
	// SLThreshold and SLTarget are the service-level goal: SLTarget of
	// callers answered within SLThreshold (defaults 20 s and 0.8).
	SLThreshold time.Duration
	SLTarget    float64
	Method      Method
	// RingTime is how long an offer rings one agent (default 30 s,
	// 15 s to 180 s).
	RingTime time.Duration
	// RejectToDND sends an agent who rejects or lets an offer ring out to
	// DND; otherwise they go back to the state they were in.
	RejectToDND bool
	// MaxWait and MaxDepth (0: none) bound the wait and the number of
	// callers waiting; Overflow is what happens past them.
	MaxWait  time.Duration
	MaxDepth int
	Overflow Fallback
	Hours    Hours
	// AfterHours is what a caller arriving when the queue is closed gets;
	// AtClose is what callers still waiting at closing time get.
	AfterHours Fallback
	AtClose    Fallback
	// NoAgents is what a caller gets when no member is logged in (and,
	// for callers already waiting, when the last member logs out).
	NoAgents Fallback
	// WidenAfter: after a caller has waited this long the queue also
	// offers to members of lower levels (0: all levels at once).
	WidenAfter time.Duration
	// StickyFor is how long a returning caller is kept for the agent who
	// last spoke with them before the whole queue may take them (0: off).
	StickyFor time.Duration
	// AllowTake lets members take a waiting call from the queue panel.
	AllowTake bool
	// Callbacks are the queue's rules for callback requests.
	Callbacks Callbacks
	// ComfortEvery is how much music a waiting caller hears between two
	// plays of the queue's comfort message (0: the message is not played;
	// else MinComfortEvery to MaxComfortEvery). New queues get
	// DefaultComfortEvery from the API; WithDefaults cannot tell unset
	// from off, so it leaves this alone.
	ComfortEvery time.Duration
}

// Member is an agent serving a queue. Level 1 is the first line; higher
// levels are offered calls only after the queue's WidenAfter. Rank orders
// members for the Rank method (lower first).
type Member struct {
	Queue QueueID
	Agent agents.ID
	Level int
	Rank  int
}

// DID maps a dialled number to its queue.
type DID struct {
	Number string
	Queue  QueueID
}

// Open reports whether the queue is open at t. Hours with no day set are
// open all the time, as are Always hours.
func (h Hours) Open(t time.Time) bool {
	if h.Always || h.Days == [7]struct{ Open, Close time.Duration }{} {
		return true
	}
	if h.Zone != nil {
		t = t.In(h.Zone)
	}
	d := h.Days[t.Weekday()]
	y, m, day := t.Date()
	since := t.Sub(time.Date(y, m, day, 0, 0, 0, 0, t.Location()))
	return since >= d.Open && since < d.Close
}
