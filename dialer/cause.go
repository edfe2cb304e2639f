package dialer

import (
	"fmt"
	"strings"
)

// Cause is why a call ended, as the network (or the engine, for an end it
// chose) says it: the SIP status that ended the INVITE transaction, the
// ITU-T Q.850 cause where the carrier gives one (a Reason header, or the
// ISDN side of a gateway), and a short reason for people. Either number may
// be 0 (none). The SIP trunk maps final responses with DESIGN.md §4's table;
// the simulated carrier reports the same causes for the outcomes it draws.
type Cause struct {
	SIP    uint16 // 100..699, 0 when none
	Q850   uint8  // 1..127, 0 when none
	Reason string // at most MaxCauseReason bytes, no control characters
}

// MaxCauseReason bounds Cause.Reason (calls.cause_text's CHECK).
const MaxCauseReason = 80

// Causes the carriers report, after RFC 3398's SIP ↔ Q.850 mapping and what
// carriers send in practice.
var (
	CauseBusy              = Cause{SIP: 486, Q850: 17, Reason: "busy here"}
	CauseBusyEverywhere    = Cause{SIP: 600, Q850: 17, Reason: "busy everywhere"}
	CauseUnavailable       = Cause{SIP: 480, Q850: 19, Reason: "no answer (temporarily unavailable)"}
	CauseRequestTimeout    = Cause{SIP: 408, Q850: 19, Reason: "no answer (request timeout)"}
	CauseUnallocated       = Cause{SIP: 404, Q850: 1, Reason: "unallocated number"}
	CauseAddressIncomplete = Cause{SIP: 484, Q850: 28, Reason: "address incomplete"}
	CauseDoesNotExist      = Cause{SIP: 604, Q850: 1, Reason: "number does not exist anywhere"}
	CauseCongestion        = Cause{SIP: 503, Q850: 34, Reason: "no circuit available"}
	CauseTemporaryFailure  = Cause{SIP: 500, Q850: 41, Reason: "temporary failure"}
	CauseNormalClearing    = Cause{Q850: 16, Reason: "normal clearing"}
)

// Causes the engine records for ends it chose itself.
var (
	// CauseRingTimeout: our ring timeout passed and we sent CANCEL, which
	// the far end answers 487.
	CauseRingTimeout    = Cause{SIP: 487, Q850: 19, Reason: "ring timeout"}
	CauseAgentHangup    = Cause{Q850: 16, Reason: "agent hung up"}
	CauseAbandoned      = Cause{Q850: 16, Reason: "no agent in time: information message played"}
	CauseMachineDropped = Cause{Q850: 16, Reason: "answering machine dropped"}
	CauseLeftConference = Cause{Q850: 16, Reason: "agent left the conference"}
	CauseAgentLoggedOut = Cause{Q850: 16, Reason: "agent logged out"}
	CauseBridgeFailed   = Cause{Q850: 41, Reason: "could not bridge the agent"}
	CausePhoneDown      = Cause{Q850: 41, Reason: "agent's phone disconnected"}
	CauseDialNotSent    = Cause{Q850: 41, Reason: "dial not sent"}
	// CauseShutdown: the campaign's loop stopped with the call still up
	// (calls.end_cause "shutdown").
	CauseShutdown = Cause{Q850: 16, Reason: "hung up at shutdown"}
)

// IsZero reports whether no cause is known.
func (c Cause) IsZero() bool { return c == Cause{} }

func (c Cause) String() string {
	var b strings.Builder
	if c.SIP != 0 {
		fmt.Fprintf(&b, "%d ", c.SIP)
	}
	b.WriteString(c.Reason)
	if c.Q850 != 0 {
		fmt.Fprintf(&b, " (Q.850 %d)", c.Q850)
	}
	return strings.TrimSpace(b.String())
}

// Validate checks the ranges the calls table holds.
func (c Cause) Validate() error {
	if c.SIP != 0 && (c.SIP < 100 || c.SIP > 699) {
		return fmt.Errorf("SIP status %d is outside 100..699", c.SIP)
	}
	if c.Q850 > 127 {
		return fmt.Errorf("Q.850 cause %d is outside 1..127", c.Q850)
	}
	if len(c.Reason) > MaxCauseReason {
		return fmt.Errorf("cause reason is %d bytes, more than %d", len(c.Reason), MaxCauseReason)
	}
	if strings.ContainsFunc(c.Reason, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fmt.Errorf("cause reason %q has control characters", c.Reason)
	}
	return nil
}

// transferredCause is the record of a blind transfer.
func transferredCause(to Target) Cause {
	r := "transferred to " + to.String()
	if len(r) > MaxCauseReason {
		r = r[:MaxCauseReason]
	}
	return Cause{Q850: 16, Reason: r}
}
