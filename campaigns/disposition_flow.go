package campaigns

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Errors of an agent's disposition that are the input's fault: the web layer
// maps each to a 4xx (IsDispositionInputError). They are wrapped with detail.
var (
	// ErrUnknownDisposition: the code is not one of the campaign's.
	ErrUnknownDisposition = errors.New("unknown disposition code")
	// ErrSystemDisposition: the code is set by the engine (NA, B, AA, DROP,
	// FAIL, AUTO), never by an agent.
	ErrSystemDisposition = errors.New("disposition code is reserved for the system")
	// ErrNotAgentsCall: the call named is not the agent's call awaiting a
	// disposition.
	ErrNotAgentsCall = errors.New("call is not the agent's")
	// ErrAlreadyDispositioned: the call already has its disposition.
	ErrAlreadyDispositioned = errors.New("call already has a disposition")
	// ErrNoCallToDisposition: the agent has no call awaiting a disposition.
	ErrNoCallToDisposition = errors.New("agent has no call awaiting a disposition")
	// ErrCallbackRequired: a callback disposition without a callback time.
	ErrCallbackRequired = errors.New("a callback disposition needs a callback time and scope")
	// ErrCallbackNotAllowed: a callback time given with a disposition that
	// does not schedule one.
	ErrCallbackNotAllowed = errors.New("this disposition does not schedule a callback")
	// ErrCallbackInPast: the callback time has already passed.
	ErrCallbackInPast = errors.New("callback time is in the past")
	// ErrCallbackTooFar: the callback time is more than MaxCallbackAhead
	// (a year) away.
	ErrCallbackTooFar = errors.New("callback time is more than a year ahead")
	// ErrCallbackOutsideWindow: no instant within a year after the
	// requested time is inside the lead's calling window. (A time merely
	// outside the window is moved to the next allowed instant, not refused.)
	ErrCallbackOutsideWindow = errors.New("callback time can never be inside the lead's calling window")
	// ErrCallbackScope: the scope is not me or anyone.
	ErrCallbackScope = errors.New(`callback scope must be "me" or "anyone"`)
	// ErrNotesTooLong: notes over MaxNotes characters.
	ErrNotesTooLong = errors.New("notes are too long")
)

// MaxNotes bounds disposition and callback notes (characters).
const MaxNotes = 4000

// IsDispositionInputError reports whether err is the caller's mistake (4xx)
// rather than the server's.
func IsDispositionInputError(err error) bool {
	for _, e := range []error{ErrUnknownDisposition, ErrSystemDisposition, ErrNotAgentsCall,
		ErrAlreadyDispositioned, ErrNoCallToDisposition, ErrCallbackRequired, ErrCallbackNotAllowed,
		ErrCallbackInPast, ErrCallbackTooFar, ErrCallbackOutsideWindow, ErrCallbackScope, ErrNotesTooLong, ErrCallbackTransition,
		ErrLeadClaimed, ErrCallbackNeedsLead} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// DispositionInput is what an agent saves for a call.
type DispositionInput struct {
	Code  string `json:"code"`
	Notes string `json:"notes"`
	// Callback is required by a disposition that schedules a callback and
	// refused by one that does not.
	Callback *CallbackInput `json:"callback,omitempty"`
	// NoCallback records a callback code without scheduling a callback
	// (the simulated agents, who have no one to call back). Never read
	// from a request.
	NoCallback bool `json:"-"`
}

// CallbackInput is the callback part of a disposition.
type CallbackInput struct {
	// At is when to call back; any zone (the agent's), stored in UTC.
	At    time.Time     `json:"at"`
	Scope CallbackScope `json:"scope"`
}

// CheckDisposition validates an agent's input against the campaign's
// dispositions without changing anything, so a caller can refuse bad input
// before touching a call. auto allows the system code of the wrap-up limit.
// With in.NoCallback a callback code needs no callback (any given is
// ignored).
func CheckDisposition(ctx context.Context, db DB, campaign ID, in DispositionInput, now time.Time, auto bool) (Disposition, error) {
	if in.NoCallback {
		in.Callback = nil
	}
	code := strings.TrimSpace(in.Code)
	d, err := GetDisposition(ctx, db, campaign, code)
	if errors.Is(err, ErrNotFound) {
		return d, fmt.Errorf("%w: %q", ErrUnknownDisposition, code)
	}
	if err != nil {
		return d, err
	}
	if (d.System || IsEngineCode(d.Code)) && !(auto && d.Code == DispoAuto) {
		return d, fmt.Errorf("%w: %s", ErrSystemDisposition, d.Code)
	}
	if len(in.Notes) > MaxNotes {
		return d, fmt.Errorf("%w: %d characters, at most %d", ErrNotesTooLong, len(in.Notes), MaxNotes)
	}
	switch {
	case d.SchedulesCallback && in.Callback == nil && !in.NoCallback:
		return d, fmt.Errorf("%w: %s", ErrCallbackRequired, d.Code)
	case !d.SchedulesCallback && in.Callback != nil:
		return d, fmt.Errorf("%w: %s", ErrCallbackNotAllowed, d.Code)
	case in.Callback != nil:
		if !in.Callback.Scope.Valid() {
			return d, fmt.Errorf("%w: %q", ErrCallbackScope, in.Callback.Scope)
		}
		if err := checkCallbackAt(in.Callback.At, now); err != nil {
			return d, err
		}
	}
	return d, nil
}

// LeadDisposition is the lead's side of a saved disposition.
type LeadDisposition struct {
	Campaign *Campaign
	Lead     LeadID
	// Agent saved it (0 for none); with a callback of scope me, the agent
	// who gets it.
	Agent int64
	// Call is the calls row (calls.id) the disposition closes; 0 unknown.
	Call  int64
	Input DispositionInput
	At    time.Time
	// Auto marks the wrap-up limit's automatic disposition.
	Auto bool
	// Node, when set, must be the node holding the lead's claim (Attempt).
	Node string
}

// DispositionResult is what saving a disposition did to the lead.
type DispositionResult struct {
	Disposition Disposition
	// Callback is the callback scheduled, if any; Callback.Moved says the
	// lead's calling window moved it from the requested time.
	Callback *Callback
}

// DisposeLead applies a saved disposition to its lead inside the caller's
// transaction: the attempt is counted and the disposition's rules applied
// (final, recycle after N seconds, DNC onto the campaign's list at once,
// recorded as the agent's with the call; see Complete), any callback the lead had is settled, and a callback the
// disposition asks for is scheduled with its job (jobs.InsertCallbackDue in
// the same transaction). The lead must be claimed (status dialing), as it is
// while its connected call awaits the agent's disposition.
func DisposeLead(ctx context.Context, tx pgx.Tx, jobs CallbackJobs, p LeadDisposition) (DispositionResult, error) {
	var res DispositionResult
	in, d, err := checkInput(ctx, tx, p.Campaign.ID, p.Input, p.At, p.Auto)
	if err != nil {
		return res, err
	}
	res.Disposition = d
	if d.Category == CategoryDNC {
		// complete puts the number on the campaign's list; the list's record
		// names the agent and the call.
		by := DNCChange{How: DNCViaDisposition, ByUser: p.Agent, By: "engine", Call: p.Call, At: p.At,
			Reason: "disposition " + d.Code}
		if p.Agent != 0 {
			by.By = fmt.Sprintf("agent %d", p.Agent)
		}
		if err := by.record(ctx, tx); err != nil {
			return res, err
		}
	}
	if err := complete(ctx, tx, p.Campaign, Attempt{Lead: p.Lead, Outcome: OutcomeCompleted, Disposition: d.Code, At: p.At,
		Node: p.Node}); err != nil {
		return res, err
	}
	if in.Callback == nil {
		return res, nil
	}
	cb, err := scheduleCallback(ctx, tx, jobs, NewCallback{
		Campaign: p.Campaign, Lead: p.Lead, Agent: p.Agent, Call: p.Call, Scope: in.Callback.Scope,
		At: in.Callback.At, Notes: in.Notes, Now: p.At,
	})
	if err != nil {
		return res, err
	}
	res.Callback = &cb
	return res, nil
}

// checkInput is a disposition's input as saved (a callback dropped when the
// agent said none) and the disposition it names, checked for the campaign.
func checkInput(ctx context.Context, tx pgx.Tx, campaign ID, in DispositionInput, at time.Time, auto bool) (DispositionInput, Disposition, error) {
	if in.NoCallback {
		in.Callback = nil
	}
	d, err := CheckDisposition(ctx, tx, campaign, in, at, auto)
	return in, d, err
}
