package dialer

import (
	"fmt"
	"time"

	"github.com/pacer-dialer/pacer/agents"
)

// CallID identifies a call leg placed by the engine. IDs are never reused
// within an engine, so late events and timers for an ended call are simply
// not found.
type CallID uint64

// LeadID identifies a lead (a person to call) in a campaign's lists.
type LeadID int64

// CampaignID identifies the campaign an engine paces.
type CampaignID int64

// CallState is a call's position in its lifecycle, DESIGN.md §3.
type CallState uint8

const (
	CallQueued CallState = iota
	CallDialing
	CallRinging
	CallAnsweredHuman
	CallAnsweredMachine
	CallConnected
	CallHeld
	// CallConference: a third party joined the customer and the agent
	// (AddParty); the agent's Leave hands the customer over to them.
	CallConference
	// CallWrapUp: the customer's leg of a call the agent talked on has
	// ended (outcome completed) and the call awaits the agent's disposition.
	// The call still holds its lead: the disposition (the agent's code, the
	// wrap-up limit's AUTO, or AUTO when the agent leaves without one)
	// settles both, and only then does the call end.
	CallWrapUp
	CallEnded
	numCallStates
)

var callStateNames = [numCallStates]string{"queued", "dialing", "ringing", "answered_human", "answered_machine",
	"connected", "held", "conference", "wrap_up", "ended"}

func (s CallState) String() string {
	if s < numCallStates {
		return callStateNames[s]
	}
	return fmt.Sprintf("CallState(%d)", uint8(s))
}

// Outcome is how a call ended.
type Outcome uint8

const (
	OutcomeNone Outcome = iota
	OutcomeNoAnswer
	OutcomeBusy
	OutcomeFailed
	OutcomeMachine
	OutcomeAbandoned
	OutcomeCompleted
	// OutcomeInvalid: the network says the number does not exist; the lead
	// is done (campaigns.OutcomeInvalid).
	OutcomeInvalid
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"", "no_answer", "busy", "failed", "machine", "abandoned", "completed", "invalid"}

func (o Outcome) String() string {
	if o < numOutcomes {
		return outcomeNames[o]
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// Live reports whether the outcome counts as a live (person) answer for the
// abandon rate.
func (o Outcome) Live() bool { return o == OutcomeAbandoned || o == OutcomeCompleted }

// callEvent drives the call state machine.
type callEvent uint8

const (
	ceDial callEvent = iota
	ceRinging
	ceAnswerHuman
	ceAnswerMachine
	ceConnect
	ceHold
	ceResume
	ceBusy
	ceFailed
	ceNoAnswer // carrier gave up or our ring timeout fired
	ceDeadline // connect deadline passed with no agent
	ceDropMachine
	ceHangup  // remote or local hangup
	ceInvalid // the number does not exist
	// The agent's controls of a bridged call (Engine.Control).
	ceMute
	ceUnmute
	ceDTMF
	ceTransfer // blind: the customer goes to the target, the agent's part ends
	ceAddParty // a third party joins: conference
	ceLeave    // the agent leaves the conference; the customer stays with the third party
	ceSettle   // the agent's disposition (or AUTO) settles a call in wrap-up
	// ceTakeOver: the host of a conference left it; its guest agent now
	// has the customer to themself.
	ceTakeOver
	// ceInbound: an agent took an inbound caller; the call starts connected.
	ceInbound
	numCallEvents
)

var callEventNames = [numCallEvents]string{"dial", "ringing", "answer_human", "answer_machine", "connect", "hold",
	"resume", "busy", "failed", "no_answer", "deadline", "drop_machine", "hangup", "invalid_number", "mute", "unmute",
	"dtmf", "transfer", "add_party", "leave", "settle", "take_over", "inbound"}

func (e callEvent) String() string {
	if e < numCallEvents {
		return callEventNames[e]
	}
	return fmt.Sprintf("callEvent(%d)", uint8(e))
}

type callRule struct {
	to      CallState
	outcome Outcome
	ok      bool
}

// callTable is the call state machine. Terminal outcomes are decided here,
// in one place, so a hangup means "abandoned" before a connect and
// "completed" after it no matter who observed it. A call an agent talked on
// goes through wrap-up (its disposition) to its end; every other call ends
// at once.
var callTable = func() (t [numCallStates][numCallEvents]callRule) {
	set := func(from CallState, ev callEvent, to CallState, o Outcome) { t[from][ev] = callRule{to, o, true} }
	set(CallQueued, ceDial, CallDialing, OutcomeNone)
	set(CallQueued, ceFailed, CallEnded, OutcomeFailed)
	for _, s := range []CallState{CallDialing, CallRinging} {
		set(s, ceAnswerHuman, CallAnsweredHuman, OutcomeNone)
		set(s, ceAnswerMachine, CallAnsweredMachine, OutcomeNone)
		set(s, ceBusy, CallEnded, OutcomeBusy)
		set(s, ceFailed, CallEnded, OutcomeFailed)
		set(s, ceNoAnswer, CallEnded, OutcomeNoAnswer)
		set(s, ceHangup, CallEnded, OutcomeFailed)
		set(s, ceInvalid, CallEnded, OutcomeInvalid)
	}
	set(CallDialing, ceRinging, CallRinging, OutcomeNone)
	set(CallAnsweredHuman, ceConnect, CallConnected, OutcomeNone)
	set(CallAnsweredHuman, ceDeadline, CallEnded, OutcomeAbandoned)
	set(CallAnsweredHuman, ceHangup, CallEnded, OutcomeAbandoned)
	set(CallAnsweredMachine, ceDropMachine, CallEnded, OutcomeMachine)
	set(CallAnsweredMachine, ceHangup, CallEnded, OutcomeMachine)
	set(CallConnected, ceHold, CallHeld, OutcomeNone)
	set(CallHeld, ceResume, CallConnected, OutcomeNone)
	set(CallConnected, ceHangup, CallWrapUp, OutcomeCompleted)
	set(CallHeld, ceHangup, CallWrapUp, OutcomeCompleted)
	// The agent's leg towards the customer can be muted whenever it is
	// bridged; keys are sent only to a customer who can hear them.
	for _, s := range []CallState{CallConnected, CallHeld, CallConference} {
		set(s, ceMute, s, OutcomeNone)
		set(s, ceUnmute, s, OutcomeNone)
	}
	set(CallConnected, ceDTMF, CallConnected, OutcomeNone)
	set(CallConference, ceDTMF, CallConference, OutcomeNone)
	// A blind transfer hands the customer on (often from hold); the agent
	// spoke to them, so the call is completed and theirs to disposition.
	set(CallConnected, ceTransfer, CallWrapUp, OutcomeCompleted)
	set(CallHeld, ceTransfer, CallWrapUp, OutcomeCompleted)
	set(CallConnected, ceAddParty, CallConference, OutcomeNone)
	set(CallConference, ceLeave, CallWrapUp, OutcomeCompleted)
	set(CallConference, ceHangup, CallWrapUp, OutcomeCompleted)
	set(CallWrapUp, ceSettle, CallEnded, OutcomeCompleted)
	set(CallConference, ceTakeOver, CallConnected, OutcomeNone)
	set(CallQueued, ceInbound, CallConnected, OutcomeNone)
	return t
}()

// Call is one outbound call owned by an Engine.
type Call struct {
	ID       CallID
	Campaign CampaignID
	Lead     Lead
	State    CallState
	Outcome  Outcome
	// Agent is the agent the call is bridged to, or, for preview and manual
	// calls, the agent who asked for it (set from the dial on).
	Agent    agents.ID
	HasAgent bool
	// Stamps holds when the call entered each state; zero if it never did.
	Stamps [numCallStates]time.Time
	// Settings are the campaign's settings when the call was dialled; the
	// call keeps them to its end, whatever the campaign changes meanwhile.
	Settings CallSettings
	// Muted: the agent's audio is not relayed to the customer.
	Muted bool
	// transferTo is a blind transfer the trunk is still placing (the
	// target has not answered yet); zero when none.
	transferTo Target
	// Party is the third party while the call is a conference.
	Party Target
	// Cause is why the call ended (zero until it has).
	Cause Cause
	// TransferredFrom is the call another agent of the campaign handed this
	// customer on from (a blind transfer, or a conference its host left);
	// 0 for a call the engine dialled. A transferred call is the target
	// agent's part of one customer's call: it is not a dial, an answer or a
	// live answer of its own, and it shares the customer's trunk leg.
	TransferredFrom CallID
	// Inbound: a caller from an inbound queue (Queue), not a dial: it is
	// in none of the outbound figures (dials, answers, the abandon budget,
	// what pacing learns). Stamps[CallQueued] is when they entered the
	// queue.
	Inbound bool
	Queue   int64

	// leg is the trunk's name for the customer's leg: the ID of the call
	// that dialled it.
	leg CallID
	// noLead: the call does not hold its lead (it handed the customer on,
	// or it is a guest's part of a conference): settling it does not
	// complete the lead; the call that has the customer does.
	noLead bool
	// attached: the call's customer rang in (an inbound caller, or one
	// handed on from an inbound caller's call): its lead, if any (Lead.ID
	// not 0), was attached to it by the agent, never claimed for a dial, so
	// settling the call applies the disposition to it without counting an
	// attempt (campaigns.DisposeInboundLead).
	attached bool
	// partner links a conference host's call and its guest agent's call.
	partner *Call

	idx int // position in Engine.active
}

// CallSettings are what a call takes from its campaign at dial time: the
// caller ID and ring timeout sent with the dial, and how a live answer is
// treated if no agent takes it (the connect deadline and the information
// message). Dial time is the one instant a call "starts with" its settings,
// so a change of the campaign during the call never changes the call's
// treatment, even one already answered and waiting for an agent.
type CallSettings struct {
	CallerID        string
	RingTimeout     time.Duration
	ConnectDeadline time.Duration
	InfoPrompt      string
}

// CallTransitionError is a call event the call table (or the call's mute
// flag) refuses in the call's state; it names both.
type CallTransitionError struct {
	Call   CallID
	State  CallState
	Event  string
	Reason string // set when the table allows the event but the call's flags do not
}

func (e *CallTransitionError) Error() string {
	msg := fmt.Sprintf("call %d: event %s not allowed in state %s", e.Call, e.Event, e.State)
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

// can reports whether ev is legal now, without changing the call.
func (c *Call) can(ev callEvent) error {
	if ev >= numCallEvents || c.State >= numCallStates || !callTable[c.State][ev].ok {
		return &CallTransitionError{Call: c.ID, State: c.State, Event: ev.String()}
	}
	switch {
	case ev == ceMute && c.Muted:
		return &CallTransitionError{Call: c.ID, State: c.State, Event: ev.String(), Reason: "already muted"}
	case ev == ceUnmute && !c.Muted:
		return &CallTransitionError{Call: c.ID, State: c.State, Event: ev.String(), Reason: "not muted"}
	}
	return nil
}

func (c *Call) apply(ev callEvent, now time.Time) error {
	if err := c.can(ev); err != nil {
		return err
	}
	r := callTable[c.State][ev]
	switch ev {
	case ceMute:
		c.Muted = true
	case ceUnmute:
		c.Muted = false
	}
	c.State = r.to
	if r.outcome != OutcomeNone {
		c.Outcome = r.outcome
	}
	// A state entered again (connected after a hold) keeps its first stamp:
	// the record says when the call was first connected, not last resumed.
	if c.Stamps[r.to].IsZero() {
		c.Stamps[r.to] = now
	}
	return nil
}

// CallRecord is the call detail record written when a call ends.
type CallRecord struct {
	ID        CallID
	Campaign  CampaignID
	Lead      LeadID
	Number    string
	Agent     agents.ID
	HasAgent  bool
	Outcome   Outcome
	Abandoned bool
	// Stamps: when the call entered each state. The record is written when
	// the customer's leg ends; Stamps[CallEnded] is that instant, also for a
	// call still in wrap-up (its Stamps[CallWrapUp]).
	Stamps [numCallStates]time.Time
	// Cause is why the call ended (zero: not known).
	Cause Cause
	// TransferredFrom: the call was this customer handed on from another
	// agent's call (Call.TransferredFrom); 0 for a dialled call.
	TransferredFrom CallID
	// WithoutLead: the call ended without holding its lead (it handed the
	// customer on, or was a guest's part of a conference).
	WithoutLead bool
	// Inbound: a caller from queue Queue (Call.Inbound).
	Inbound bool
	Queue   int64
}

// DialedAt is when the dial was sent to the trunk.
// An inbound call was never dialled: its DialedAt is when the caller
// entered the queue.
func (r *CallRecord) DialedAt() time.Time {
	if r.Inbound {
		return r.Stamps[CallQueued]
	}
	return r.Stamps[CallDialing]
}

// AnsweredAt is when a person or machine answered (zero if never).
func (r *CallRecord) AnsweredAt() time.Time {
	if !r.Stamps[CallAnsweredHuman].IsZero() {
		return r.Stamps[CallAnsweredHuman]
	}
	return r.Stamps[CallAnsweredMachine]
}

// EndedAt is when the call ended.
func (r *CallRecord) EndedAt() time.Time { return r.Stamps[CallEnded] }

// guest reports whether the call is an agent's part of another agent's
// conference (AddParty to an agent).
func (c *Call) guest() bool { return c.partner != nil && c.noLead }

// holdsLead reports whether the call holds its lead's claim: settling it
// completes the attempt.
func (c *Call) holdsLead() bool { return !c.noLead && !c.attached }

// attachedLead is the lead attached to an inbound caller's call that
// settling it disposes of (0: none, or the call handed its customer on).
func (c *Call) attachedLead() LeadID {
	if !c.attached || c.noLead {
		return 0
	}
	return c.Lead.ID
}

// guestRefusal refuses a guest's controls of the call: the conference is
// its host's, who can leave it to them (Leave) or end it.
func (c *Call) guestRefusal() error {
	if !c.guest() {
		return nil
	}
	return fmt.Errorf("%w: call %d is agent %d's conference: they can leave it to you, or end it",
		ErrTrunkRefused, c.ID, c.partner.Agent)
}
