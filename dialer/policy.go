package dialer

import (
	"math"
	"time"
)

// Policy decides how many new calls to place. It runs on the engine's
// goroutine on every tick and relevant event, so it must be cheap and must
// not block.
type Policy interface {
	Name() string
	// Decide returns how many calls to place now; the engine clamps it.
	Decide(s *Snapshot) int
}

// Observer is implemented by policies that learn from what happened.
type Observer interface {
	// ObserveCall sees every ended call; rec is only valid during the call.
	ObserveCall(rec *CallRecord)
	// ObserveWrap sees each agent's time from call end back to READY
	// (disposition plus any pause taken straight after the call).
	ObserveWrap(d time.Duration)
}

// Learner is an Observer that can also learn from history without acting on
// it: calls replayed at start teach its estimates but not its feedback on
// the abandon rate, which belongs to calls it paced itself.
type Learner interface {
	Observer
	LearnCall(rec *CallRecord)
}

// InboundObserver is implemented by policies that learn how long agents
// stay busy with inbound callers, whose talk and wrap-up times differ from
// the campaign's own calls'.
type InboundObserver interface {
	// ObserveInboundTalk sees each inbound call's time from connect to end.
	ObserveInboundTalk(d time.Duration)
	// ObserveInboundWrap sees each agent's time from an inbound call's end
	// back to READY.
	ObserveInboundWrap(d time.Duration)
}

// BusyAgent is an agent who will become free without anyone's action: in a
// call (Talking, Age since connect) or wrapping up after one (Age since the
// call ended, through DISPO and any pause taken after it). Inbound: the
// call is an inbound caller's.
type BusyAgent struct {
	Talking bool
	Inbound bool
	Age     time.Duration
}

// Snapshot is what a policy sees of the engine. Slices are reused between
// calls to Decide and must not be retained.
type Snapshot struct {
	Now      time.Time
	LoggedIn int
	Ready    int // READY and not offered anything
	InCall   int
	Dispo    int
	Paused   int
	Ringing  int // agents being offered a preview or inbound call
	// Dialing counts calls placed by the policy not yet resolved.
	Dialing int
	// Waiting counts live answers not yet connected to an agent.
	Waiting int
	// Busy lists agents who will free up by themselves.
	Busy []BusyAgent
	// InFlight holds the age of every call in Dialing.
	InFlight    []time.Duration
	Budget      BudgetState
	RingTimeout time.Duration
	// Reserve is how many READY agents the policy must leave free for
	// inbound callers (the blending reserve, plus callers waiting).
	Reserve int
	// InboundWaiting is how many of Reserve are inbound callers waiting;
	// InboundPerSec is the rate of inbound callers arriving for these
	// agents: each one that arrives while an agent is free takes them.
	InboundWaiting int
	InboundPerSec  float64
}

// Power keeps Ratio × READY agents lines up: ratio × ready − calls in flight.
// Ratio 1.0 ("progressive") abandons only when an agent leaves READY while
// their call rings.
type Power struct{ Ratio float64 }

func (p Power) Name() string {
	if p.Ratio == 1 {
		return "progressive"
	}
	return "power"
}

func (p Power) Decide(s *Snapshot) int { return powerLines(p.Ratio, s) }

func powerLines(ratio float64, s *Snapshot) int {
	return int(math.Floor(ratio*float64(s.Ready-s.Reserve)+1e-9)) - s.Dialing - s.Waiting
}
