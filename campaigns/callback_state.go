package campaigns

import (
	"errors"
	"fmt"
)

// CallbackID identifies a scheduled callback.
type CallbackID int64

// CallbackScope says who may make a callback: the agent who set it, or
// anyone working the campaign.
type CallbackScope string

// Callback scopes.
const (
	ScopeMe     CallbackScope = "me"
	ScopeAnyone CallbackScope = "anyone"
)

func (s CallbackScope) String() string { return string(s) }

// Valid reports whether s is a known scope.
func (s CallbackScope) Valid() bool { return s == ScopeMe || s == ScopeAnyone }

// CallbackStatus is where a callback is in its life.
type CallbackStatus string

// Callback statuses. scheduled: waiting for its time. due: its time has come
// (scope anyone: the lead is at the top of the hopper; scope me: waiting for
// its agent to be READY). offered: shown to its agent as a preview.
// dialled: the agent dialled it. completed, missed, cancelled: closed.
const (
	CallbackScheduled CallbackStatus = "scheduled"
	CallbackDue       CallbackStatus = "due"
	CallbackOffered   CallbackStatus = "offered"
	CallbackDialled   CallbackStatus = "dialled"
	CallbackCompleted CallbackStatus = "completed"
	CallbackMissed    CallbackStatus = "missed"
	CallbackCancelled CallbackStatus = "cancelled"
)

func (s CallbackStatus) String() string { return string(s) }

// Open reports whether the callback still holds its lead.
func (s CallbackStatus) Open() bool {
	switch s {
	case CallbackScheduled, CallbackDue, CallbackOffered, CallbackDialled:
		return true
	}
	return false
}

// CallbackStatuses lists every status, in life order.
func CallbackStatuses() []CallbackStatus {
	return []CallbackStatus{CallbackScheduled, CallbackDue, CallbackOffered, CallbackDialled,
		CallbackCompleted, CallbackMissed, CallbackCancelled}
}

// CallbackEvent is something that happens to a callback; each is a row of
// callback_events.
type CallbackEvent string

// Callback events.
const (
	CbSchedule   CallbackEvent = "schedule"   // a disposition set it
	CbReschedule CallbackEvent = "reschedule" // new time, scope or notes
	CbFallDue    CallbackEvent = "fall_due"   // its job ran at its time
	CbOffer      CallbackEvent = "offer"      // shown to its agent as a preview
	CbDecline    CallbackEvent = "decline"    // the agent skipped the preview or left
	CbDial       CallbackEvent = "dial"       // the agent dialled it
	CbComplete   CallbackEvent = "complete"   // an attempt was made, or closed by hand
	CbExpire     CallbackEvent = "expire"     // grace period over, campaign says missed
	CbWiden      CallbackEvent = "widen"      // grace period over, campaign says anyone
	CbCancel     CallbackEvent = "cancel"
	CbRecover    CallbackEvent = "recover" // the node offering or dialling it died; due again
	CbRetry      CallbackEvent = "retry"   // dialled, not reached (busy, no answer…): scheduled for the next try
	CbGiveUp     CallbackEvent = "give_up" // dialled, not reached, and the lead may not be tried again
)

func (e CallbackEvent) String() string { return string(e) }

// CallbackEvents lists every event.
func CallbackEvents() []CallbackEvent {
	return []CallbackEvent{CbSchedule, CbReschedule, CbFallDue, CbOffer, CbDecline, CbDial, CbComplete,
		CbExpire, CbWiden, CbCancel, CbRecover, CbRetry, CbGiveUp}
}

// noStatus is the "from" of a callback that does not exist yet.
const noStatus CallbackStatus = ""

// callbackTable is the callback state machine: (status, event) → status.
// Anything not listed is illegal. It is the documentation: a missed
// callback can still be rescheduled or cancelled by a supervisor; a
// callback being offered or dialled cannot be moved under the agent's feet;
// a dial that does not reach the person keeps the promise (retry) unless the
// lead may not be tried again (give_up: missed, for a supervisor to see).
var callbackTable = map[CallbackStatus]map[CallbackEvent]CallbackStatus{
	noStatus: {CbSchedule: CallbackScheduled},
	CallbackScheduled: {
		CbReschedule: CallbackScheduled, CbFallDue: CallbackDue, CbCancel: CallbackCancelled,
		CbComplete: CallbackCompleted, CbOffer: CallbackOffered, // offer: the agent takes it early
	},
	CallbackDue: {
		CbReschedule: CallbackScheduled, CbOffer: CallbackOffered, CbDial: CallbackDialled,
		CbComplete: CallbackCompleted, CbExpire: CallbackMissed, CbWiden: CallbackDue, CbCancel: CallbackCancelled,
		CbRetry: CallbackScheduled, CbGiveUp: CallbackMissed, // an anyone's, dialled from the hopper
	},
	CallbackOffered: {
		CbDecline: CallbackDue, CbDial: CallbackDialled, CbComplete: CallbackCompleted, CbRecover: CallbackDue,
		CbRetry: CallbackScheduled, CbGiveUp: CallbackMissed,
	},
	CallbackDialled: {
		CbComplete: CallbackCompleted, CbRecover: CallbackDue, CbRetry: CallbackScheduled, CbGiveUp: CallbackMissed,
	},
	CallbackMissed: {
		CbReschedule: CallbackScheduled, CbCancel: CallbackCancelled, CbComplete: CallbackCompleted,
		CbOffer: CallbackOffered, // a supervisor or agent takes a missed one by hand
	},
	CallbackCompleted: {},
	CallbackCancelled: {},
}

// ErrCallbackTransition is wrapped by every refused callback transition.
var ErrCallbackTransition = errors.New("callback transition not allowed")

// CallbackTransitionError names the status and event the table refused.
type CallbackTransitionError struct {
	Callback CallbackID
	Status   CallbackStatus
	Event    CallbackEvent
}

func (e *CallbackTransitionError) Error() string {
	from := string(e.Status)
	if from == "" {
		from = "(new)"
	}
	return fmt.Sprintf("callback %d: event %s not allowed in status %s", e.Callback, e.Event, from)
}

func (e *CallbackTransitionError) Unwrap() error { return ErrCallbackTransition }

// callbackTransition is the one place a callback's next status is decided.
func callbackTransition(id CallbackID, from CallbackStatus, ev CallbackEvent) (CallbackStatus, error) {
	if to, ok := callbackTable[from][ev]; ok {
		return to, nil
	}
	return from, &CallbackTransitionError{Callback: id, Status: from, Event: ev}
}
