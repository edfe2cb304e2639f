package dialer

import (
	"context"
	"time"

	"github.com/pacer-dialer/pacer/agents"
)

// Trunk places and controls customer legs. It is shaped after a SIP B2BUA:
// Dial sends an INVITE for the customer leg, Bridge joins the customer leg to
// the agent's nailed-up leg, Play streams a prompt on the customer leg and
// Hangup sends CANCEL or BYE. The call controls an agent uses are the ones a
// B2BUA offers (trunk_control.go): Hold and Resume re-INVITE the customer leg
// (a=sendonly, then sendrecv), Mute and Unmute stop and restart relaying the
// agent's audio towards the customer, SendDTMF plays RFC 4733 events on the
// customer leg, Transfer hands the customer leg to a target (REFER, or a new
// leg bridged to it) and releases the agent's, AddParty dials a third party
// into a conference with both, and Leave takes the agent's leg out of it.
//
// Methods return quickly; progress comes back as TrunkEvents delivered to
// Engine.HandleTrunk on the engine's goroutine. A control the trunk cannot
// carry out on the call as it is (DTMF on a leg not connected, Leave without
// a conference) returns an error wrapping ErrTrunkRefused and changes
// nothing. Implementations: the simulated carrier (dialer/sim) and, later,
// SIP.
type Trunk interface {
	Dial(ctx context.Context, req DialRequest) error
	Bridge(ctx context.Context, call CallID, agent agents.ID) error
	Play(ctx context.Context, call CallID, prompt string) error
	Hangup(ctx context.Context, call CallID) error

	Hold(ctx context.Context, call CallID) error
	Resume(ctx context.Context, call CallID) error
	Mute(ctx context.Context, call CallID) error
	Unmute(ctx context.Context, call CallID) error
	SendDTMF(ctx context.Context, call CallID, digits Digits) error
	Transfer(ctx context.Context, call CallID, to Target) error
	AddParty(ctx context.Context, call CallID, party Target) error
	Leave(ctx context.Context, call CallID) error
}

// DialRequest asks the trunk for a new customer leg.
type DialRequest struct {
	Call        CallID
	Lead        LeadID
	Number      string
	CallerID    string
	RingTimeout time.Duration
}

// TrunkEventKind is call progress reported by the trunk.
type TrunkEventKind uint8

const (
	TrunkRinging TrunkEventKind = iota + 1
	TrunkAnsweredHuman
	TrunkAnsweredMachine
	TrunkBusy
	TrunkFailed
	TrunkNoAnswer
	TrunkHungUp // the far end hung up (BYE)
	// TrunkInvalidNumber: the network says the number does not exist or is
	// incomplete (404, 484, 604); the lead is not dialled again.
	TrunkInvalidNumber
	// TrunkPhoneUp and TrunkPhoneDown report an agent's own audio leg (their
	// SIP phone, called when they log in): Agent is set, Call is not. A
	// trunk sends them only if it implements AgentPhones.
	TrunkPhoneUp
	TrunkPhoneDown
	// TrunkDTMF: the customer pressed a key (RFC 4733) on a connected call;
	// Digit is the key. It changes nothing: the agent's screen shows it.
	TrunkDTMF
	// TrunkTransferAnswered and TrunkTransferFailed end a transfer whose
	// Transfer returned ErrTransferPending: the target answered (the
	// customer is with them; the agent's part ends), or did not (Cause
	// says why; the agent keeps the customer).
	TrunkTransferAnswered
	TrunkTransferFailed
	numTrunkEvents
)

var trunkEventNames = [numTrunkEvents]string{"", "ringing", "answered_human", "answered_machine", "busy", "failed",
	"no_answer", "hung_up", "invalid_number", "phone_up", "phone_down", "dtmf",
	"transfer_answered", "transfer_failed"}

func (k TrunkEventKind) String() string {
	if k < numTrunkEvents {
		return trunkEventNames[k]
	}
	return "unknown"
}

// TrunkEvent is one piece of call progress.
type TrunkEvent struct {
	Call CallID
	Kind TrunkEventKind
	// Cause is why, as the network said it: set on the events that end a
	// call (busy, failed, no answer, invalid number, hung up), and on
	// TrunkPhoneDown.
	Cause Cause
	// Agent is whose phone a TrunkPhoneUp or TrunkPhoneDown is about.
	Agent agents.ID
	// Digit is the key of a TrunkDTMF: 0-9, *, # or A-D.
	Digit rune
}

// AgentPhones is implemented by a trunk on which agents talk through audio
// legs of their own (a SIP phone Pacer calls and keeps up for the whole
// session), so that customers are bridged in with no ringing. The engine
// calls JoinAgent when an agent logs in and LeaveAgent when they log out;
// both return at once (the leg is set up and torn down in the background).
// The trunk reports the leg with TrunkPhoneUp and TrunkPhoneDown: an agent
// whose phone is down is not offered calls, is paused with
// agents.PauseCodePhone until it is back, and a call they were on ends.
// JoinAgent fails, and the login with it, when the agent has no phone.
type AgentPhones interface {
	JoinAgent(ctx context.Context, agent agents.ID) error
	LeaveAgent(ctx context.Context, agent agents.ID)
}
