package dialer

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pacer-dialer/pacer/agents"
)

// ErrTrunkRefused is wrapped by a trunk that cannot carry out a control on
// the call as it is (what a SIP peer would answer 4xx to): the call is
// unchanged.
var ErrTrunkRefused = errors.New("refused by the trunk")

// ErrTransferPending is wrapped by a Transfer the trunk has started but
// can only finish later: a new leg to a number, which must answer before
// the customer is handed over. The call stays the agent's until the trunk
// reports TrunkTransferAnswered or TrunkTransferFailed.
var ErrTransferPending = errors.New("transfer under way")

// ErrBadControl is wrapped when a control's argument is malformed (digits
// outside RFC 4733's keypad, an empty or impossible target).
var ErrBadControl = errors.New("bad call control")

// Digits are DTMF keys to send as RFC 4733 telephone-events: 1 to
// MaxDigits of 0-9, *, # and A-D.
type Digits string

// MaxDigits bounds one SendDTMF.
const MaxDigits = 32

// ParseDigits checks s is a keypad sequence.
func ParseDigits(s string) (Digits, error) {
	if s == "" || len(s) > MaxDigits || strings.Trim(s, "0123456789*#ABCD") != "" {
		return "", fmt.Errorf("%w: digits %q must be 1-%d of 0-9 * # A-D", ErrBadControl, s, MaxDigits)
	}
	return Digits(s), nil
}

// TargetKind is what a transfer or a conference reaches.
type TargetKind uint8

const (
	TargetAgent  TargetKind = iota + 1 // another agent's nailed-up leg
	TargetQueue                        // an inbound queue, by name
	TargetNumber                       // an outside number, E.164
	numTargetKinds
)

var targetKindNames = [numTargetKinds]string{"", "agent", "queue", "number"}

func (k TargetKind) String() string {
	if k < numTargetKinds {
		return targetKindNames[k]
	}
	return fmt.Sprintf("TargetKind(%d)", uint8(k))
}

// Target is where a blind transfer sends the customer, or who AddParty
// brings into the call. Exactly the field of its Kind is set.
type Target struct {
	Kind   TargetKind
	Agent  agents.ID
	Queue  string
	Number string
}

// AgentTarget, QueueTarget and NumberTarget build targets; Validate checks
// them.
func AgentTarget(id agents.ID) Target { return Target{Kind: TargetAgent, Agent: id} }
func QueueTarget(name string) Target  { return Target{Kind: TargetQueue, Queue: name} }
func NumberTarget(e164 string) Target { return Target{Kind: TargetNumber, Number: e164} }
func (t Target) IsZero() bool         { return t == Target{} }

// String is "agent:<id>", "queue:<name>" or the number.
func (t Target) String() string {
	switch t.Kind {
	case TargetAgent:
		return "agent:" + strconv.FormatInt(int64(t.Agent), 10)
	case TargetQueue:
		return "queue:" + t.Queue
	case TargetNumber:
		return t.Number
	}
	return ""
}

// Validate refuses an empty target, and anything that could not go into a
// SIP URI or header as it is (a trunk builds a Refer-To from it).
func (t Target) Validate() error {
	switch t.Kind {
	case TargetAgent:
		if t.Agent <= 0 || t.Queue != "" || t.Number != "" {
			return fmt.Errorf("%w: an agent target needs an agent id and nothing else", ErrBadControl)
		}
	case TargetQueue:
		if t.Agent != 0 || t.Number != "" || !queueName(t.Queue) {
			return fmt.Errorf("%w: queue %q must be 1-32 of a-z, 0-9, - and _", ErrBadControl, t.Queue)
		}
	case TargetNumber:
		if t.Agent != 0 || t.Queue != "" || !e164(t.Number) {
			return fmt.Errorf("%w: number %q is not E.164 (+ and 8-15 digits)", ErrBadControl, t.Number)
		}
	default:
		return fmt.Errorf("%w: no target", ErrBadControl)
	}
	return nil
}

func queueName(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func e164(s string) bool {
	if len(s) < 9 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	return strings.Trim(s[1:], "0123456789") == ""
}
