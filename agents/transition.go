package agents

import "fmt"

// action is what a transition does besides changing state. Some actions pick
// the destination themselves (READY or PAUSED) from settings or a pending
// pause; the table's To is then the default destination.
type action uint8

const (
	actIllegal action = iota
	actNone           // the state changes, nothing else
	actLogin
	actReady
	actPause
	actRequestPause
	actCancelPause
	actOffer
	actStartCall
	actRingEnded
	actOfferWithdrawn
	actHold
	actResume
	actCallEnd
	actDispoDone
	actLogout
	actDialEnded
	actDND
	actDNDOff
)

type rule struct {
	to  State
	act action
}

// table is the agent state machine, DESIGN.md §3. A zero entry is illegal.
var table = func() (t [numStates][numEvents]rule) {
	set := func(from State, ev EventKind, to State, act action) { t[from][ev] = rule{to, act} }

	set(LoggedOut, EvLogin, Paused, actLogin)

	set(Paused, EvReady, Ready, actReady)
	set(Paused, EvPause, Paused, actPause) // change of pause code

	set(Ready, EvPause, Paused, actPause)
	set(Ready, EvOffer, Ringing, actOffer)
	set(Ready, EvConnect, InCall, actStartCall)

	set(Ringing, EvAccept, InCall, actStartCall)
	set(Ringing, EvReject, Ready, actRingEnded)
	set(Ringing, EvRingTimeout, Ready, actRingEnded)
	// The caller hung up (or the preview lead was withdrawn) before the agent
	// answered: the agent goes back to waiting.
	set(Ringing, EvCallEnd, Ready, actOfferWithdrawn)

	set(InCall, EvPause, InCall, actRequestPause)
	// Ready during a call takes back a pause asked for after it.
	set(InCall, EvReady, InCall, actCancelPause)
	set(InCall, EvHold, InCall, actHold)
	set(InCall, EvResume, InCall, actResume)
	set(InCall, EvCallEnd, Dispo, actCallEnd)

	// The agent's own dial: talk starts at the answer; an unanswered dial
	// has no disposition to give (the engine's outcome is the lead's).
	set(Ready, EvDial, Dialing, actNone)
	set(Ringing, EvDial, Dialing, actNone)
	set(Dialing, EvPause, Dialing, actRequestPause)
	set(Dialing, EvAnswer, InCall, actStartCall)
	set(Dialing, EvUnanswered, Ready, actDialEnded)

	set(Dispo, EvPause, Dispo, actRequestPause)
	set(Dispo, EvReady, Dispo, actCancelPause)
	set(Dispo, EvDispoSaved, Ready, actDispoDone)
	set(Dispo, EvWrapupTimeout, Ready, actDispoDone)

	set(Ready, EvDND, DND, actDND)
	set(Paused, EvDND, DND, actDND)
	set(DND, EvDNDOff, Ready, actDNDOff)
	// Choosing READY or a pause also ends DND.
	set(DND, EvReady, Ready, actReady)
	set(DND, EvPause, Paused, actPause)

	for s := Paused; s < numStates; s++ {
		set(s, EvLogout, LoggedOut, actLogout)
		set(s, EvSessionLost, LoggedOut, actLogout)
	}
	return t
}()

// Legal reports whether ev is accepted in state s by the table. Actions can
// still refuse an accepted event (hold while already on hold).
func Legal(s State, ev EventKind) bool {
	return s < numStates && ev < numEvents && table[s][ev].act != actIllegal
}

// Target is the table's default destination for (s, ev).
func Target(s State, ev EventKind) (State, bool) {
	if !Legal(s, ev) {
		return s, false
	}
	return table[s][ev].to, true
}

// IllegalTransitionError names the state and event that the table refused.
type IllegalTransitionError struct {
	Agent  ID
	State  State
	Event  EventKind
	Reason string
}

func (e *IllegalTransitionError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("agent %d: event %s not allowed in state %s: %s", e.Agent, e.Event, e.State, e.Reason)
	}
	return fmt.Sprintf("agent %d: event %s not allowed in state %s", e.Agent, e.Event, e.State)
}
