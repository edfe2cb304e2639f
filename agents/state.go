package agents

import (
	"fmt"
	"time"
)

// ID identifies an agent (a user who can log in to take calls).
type ID int64

// State is where an agent is in the session lifecycle.
type State uint8

const (
	LoggedOut State = iota
	Paused
	Ready
	Ringing
	InCall
	Dispo
	// Dialing: the agent's own call (a preview, manual or callback dial)
	// rings out and nobody has answered yet. Its time is the agent's wait
	// (Session.Wait), not talk: talk starts when the customer answers, and
	// an unanswered dial returns the agent to READY with no wrap-up.
	Dialing
	// DND: do not disturb. The agent is at their desk but takes no offers
	// and no outbound calls; DND off returns them to the state they were in
	// (READY, or PAUSED with its code). Its time is accounted as pause with
	// code DND.
	DND
	numStates
)

var stateNames = [numStates]string{"LOGGED_OUT", "PAUSED", "READY", "RINGING", "INCALL", "DISPO", "DIALING", "DND"}

func (s State) String() string {
	if s < numStates {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// MarshalText writes the state's name ("READY"), as the API and the live
// events show it.
func (s State) MarshalText() ([]byte, error) {
	if s >= numStates {
		return nil, fmt.Errorf("agent state %d is not a state", uint8(s))
	}
	return []byte(stateNames[s]), nil
}

// UnmarshalText reads a state's name.
func (s *State) UnmarshalText(b []byte) error {
	for i, n := range stateNames {
		if n == string(b) {
			*s = State(i)
			return nil
		}
	}
	return fmt.Errorf("unknown agent state %q", b)
}

// States lists every state, in table order.
func States() []State {
	out := make([]State, numStates)
	for i := range out {
		out[i] = State(i)
	}
	return out
}

// EventKind is something that happens to an agent.
type EventKind uint8

const (
	EvLogin EventKind = iota
	EvReady
	EvPause // carries a pause code; while INCALL or DISPO it is a request that takes effect after DISPO
	EvOffer // an inbound or preview call is offered and rings the agent
	EvAccept
	EvReject
	EvRingTimeout
	EvConnect // a predictive, power or manual call is bridged to a READY agent
	EvHold
	EvResume
	EvCallEnd
	EvDispoSaved
	EvWrapupTimeout
	EvLogout
	EvSessionLost
	// EvDial: the agent dials their own call (a manual or callback dial
	// from READY, or the preview on their screen): DIALING until it is
	// answered or not.
	EvDial
	// EvAnswer: the customer answered the agent's own call; talk starts.
	EvAnswer
	// EvUnanswered: the agent's own call ended before anyone answered
	// (busy, no answer, machine, failed); its outcome is the engine's, and
	// the agent goes back to READY (PAUSED if they asked for a pause).
	EvUnanswered
	// EvDND and EvDNDOff switch do-not-disturb on (from READY or PAUSED)
	// and off (back to where the agent was).
	EvDND
	EvDNDOff
	numEvents
)

var eventNames = [numEvents]string{
	"login", "ready", "pause", "offer", "accept", "reject", "ring_timeout", "connect",
	"hold", "resume", "call_end", "dispo_saved", "wrapup_timeout", "logout", "session_lost",
	"dial", "answer", "unanswered", "dnd", "dnd_off",
}

func (e EventKind) String() string {
	if e < numEvents {
		return eventNames[e]
	}
	return fmt.Sprintf("EventKind(%d)", uint8(e))
}

// EventKinds lists every event kind, in table order.
func EventKinds() []EventKind {
	out := make([]EventKind, numEvents)
	for i := range out {
		out[i] = EventKind(i)
	}
	return out
}

// Event is one input to the state machine.
type Event struct {
	Kind EventKind
	// PauseCode names the pause for EvPause; empty means PauseCodeDefault.
	// On EvWrapupTimeout it sends the agent to PAUSED with that code instead
	// of READY (the campaign's wrapup_then); a pause the agent asked for
	// during the call still wins.
	PauseCode string
	// At, when set, is when the event happened, if that is before the
	// clock's now (never before the agent's last event): a disposition is
	// saved at the instant recorded on the call, and the few milliseconds
	// its transaction took are accounted to the state that follows.
	At time.Time
	// DND, on EvReject and EvRingTimeout, sends the agent to DND instead
	// of back to READY (the queue's setting for agents who pass on a call).
	DND bool
}

// PauseCodeWrapup is the pause an agent goes to when the wrap-up limit
// passes and the campaign says paused.
const PauseCodeWrapup = "WRAPUP"

// Pause codes the machine itself assigns.
const (
	PauseCodeLogin   = "LOGIN"
	PauseCodeDefault = "BREAK"
	PauseCodeDND     = "DND"
	// PauseCodePhone: the agent's phone leg is down; the engine pauses them
	// and makes them READY again when it is back.
	PauseCodePhone = "PHONE"
)

// Clock is the only source of time for the domain code.
type Clock interface {
	Now() time.Time
}

// Transition records one accepted event, as appended to the agent state log.
type Transition struct {
	Agent     ID
	At        time.Time
	Event     EventKind
	From, To  State
	PauseCode string // the pause code in force after the transition (To == Paused)
	// Call is set when the transition closes a call's accounting (dispo saved,
	// wrap-up timeout, or logout with a call open).
	Call *CallTimes
}

// Sink receives every accepted transition, in order, on the owning goroutine.
// Implementations must not block: a database-backed sink queues and flushes
// in batches from its own goroutine.
type Sink interface {
	AppendTransition(t Transition)
}
