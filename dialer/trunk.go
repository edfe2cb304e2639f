package dialer

import (
	"context"
	"time"

	"github.com/pacer-dialer/pacer/agents"
)

// Trunk places and controls customer legs. It is shaped after a SIP B2BUA:
// Dial sends an INVITE for the customer leg, Bridge joins the customer leg to
// the agent's nailed-up leg, Play streams a prompt on the customer leg and
// Hangup sends CANCEL or BYE. Methods return quickly; progress comes back as
// TrunkEvents delivered to Engine.HandleTrunk on the engine's goroutine.
// Implementations: the simulated carrier (dialer/sim) and, later, SIP.
type Trunk interface {
	Dial(ctx context.Context, req DialRequest) error
	Bridge(ctx context.Context, call CallID, agent agents.ID) error
	Play(ctx context.Context, call CallID, prompt string) error
	Hangup(ctx context.Context, call CallID) error
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
)

var trunkEventNames = [...]string{"", "ringing", "answered_human", "answered_machine", "busy", "failed", "no_answer", "hung_up"}

func (k TrunkEventKind) String() string {
	if int(k) < len(trunkEventNames) {
		return trunkEventNames[k]
	}
	return "unknown"
}

// TrunkEvent is one piece of call progress.
type TrunkEvent struct {
	Call CallID
	Kind TrunkEventKind
}
