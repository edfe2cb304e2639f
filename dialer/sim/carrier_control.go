package sim

import (
	"context"
	"fmt"
	"time"

	"github.com/pacer-dialer/pacer/dialer"
)

// Op is a call control the simulated carrier carried out.
type Op uint8

const (
	OpHold Op = iota + 1
	OpResume
	OpMute
	OpUnmute
	OpDTMF
	OpTransfer
	OpAddParty
	OpLeave
	numOps
)

var opNames = [numOps]string{"", "hold", "resume", "mute", "unmute", "dtmf", "transfer", "add_party", "leave"}

func (o Op) String() string {
	if o < numOps {
		return opNames[o]
	}
	return fmt.Sprintf("Op(%d)", uint8(o))
}

// Action is one control as the carrier saw it: what a SIP trunk would have
// sent (a re-INVITE, RFC 4733 events, a REFER, a new leg into a mixer).
type Action struct {
	At     time.Time
	Call   dialer.CallID
	Op     Op
	Digits dialer.Digits // OpDTMF
	Target dialer.Target // OpTransfer, OpAddParty; OpLeave: who the customer stays with
}

// maxActions bounds the record kept for Actions; older ones are dropped.
const maxActions = 1024

// Actions returns the controls carried out, oldest first (at most the
// last 1024). Safe from any goroutine.
func (c *Carrier) Actions() []Action {
	c.actMu.Lock()
	defer c.actMu.Unlock()
	return append([]Action(nil), c.actions...)
}

func (c *Carrier) record(a Action) {
	a.At = c.del.Now()
	c.actMu.Lock()
	if len(c.actions) == maxActions {
		c.actions = append(c.actions[:0], c.actions[1:]...)
	}
	c.actions = append(c.actions, a)
	c.actMu.Unlock()
	if c.OnAction != nil {
		c.OnAction(a)
	}
}

// bridged is the call's leg while its customer is still on it.
func (c *Carrier) bridged(call dialer.CallID, op Op) (*leg, error) {
	l := c.legs[call]
	if l == nil || !c.del.Now().Before(l.until) {
		return nil, fmt.Errorf("%s on call %d: %w: the call is not connected", op, call, dialer.ErrTrunkRefused)
	}
	return l, nil
}

func refuse(op Op, call dialer.CallID, why string) error {
	return fmt.Errorf("%s on call %d: %w: %s", op, call, dialer.ErrTrunkRefused, why)
}

// Hold re-INVITEs the customer a=sendonly (hold music plays to them).
func (c *Carrier) Hold(_ context.Context, call dialer.CallID) error {
	l, err := c.bridged(call, OpHold)
	switch {
	case err != nil:
		return err
	case l.held:
		return refuse(OpHold, call, "already on hold")
	case !l.party.IsZero():
		return refuse(OpHold, call, "the call is a conference")
	}
	l.held = true
	c.record(Action{Call: call, Op: OpHold})
	return nil
}

// Resume re-INVITEs the customer a=sendrecv.
func (c *Carrier) Resume(_ context.Context, call dialer.CallID) error {
	l, err := c.bridged(call, OpResume)
	switch {
	case err != nil:
		return err
	case !l.held:
		return refuse(OpResume, call, "not on hold")
	}
	l.held = false
	c.record(Action{Call: call, Op: OpResume})
	return nil
}

// Mute stops relaying the agent's audio to the customer (no signalling).
func (c *Carrier) Mute(_ context.Context, call dialer.CallID) error {
	l, err := c.bridged(call, OpMute)
	switch {
	case err != nil:
		return err
	case l.muted:
		return refuse(OpMute, call, "already muted")
	}
	l.muted = true
	c.record(Action{Call: call, Op: OpMute})
	return nil
}

// Unmute relays the agent's audio again.
func (c *Carrier) Unmute(_ context.Context, call dialer.CallID) error {
	l, err := c.bridged(call, OpUnmute)
	switch {
	case err != nil:
		return err
	case !l.muted:
		return refuse(OpUnmute, call, "not muted")
	}
	l.muted = false
	c.record(Action{Call: call, Op: OpUnmute})
	return nil
}

// SendDTMF plays the digits as RFC 4733 events on the customer leg.
func (c *Carrier) SendDTMF(_ context.Context, call dialer.CallID, digits dialer.Digits) error {
	l, err := c.bridged(call, OpDTMF)
	if err != nil {
		return err
	}
	if _, err := dialer.ParseDigits(string(digits)); err != nil {
		return fmt.Errorf("%s on call %d: %w: %w", OpDTMF, call, dialer.ErrTrunkRefused, err)
	}
	if l.held {
		return refuse(OpDTMF, call, "the customer is on hold")
	}
	c.record(Action{Call: call, Op: OpDTMF, Digits: digits})
	return nil
}

// Transfer REFERs the customer to a number or a queue: the agent's leg is
// released and the customer's dialog is no longer ours. To another agent,
// the customer is re-bridged into their leg and talks on to their hangup.
func (c *Carrier) Transfer(_ context.Context, call dialer.CallID, to dialer.Target) error {
	l, err := c.bridged(call, OpTransfer)
	if err != nil {
		return err
	}
	if err := to.Validate(); err != nil {
		return fmt.Errorf("%s on call %d: %w: %w", OpTransfer, call, dialer.ErrTrunkRefused, err)
	}
	if !l.party.IsZero() {
		return refuse(OpTransfer, call, "the call is a conference")
	}
	if to.Kind != dialer.TargetAgent {
		delete(c.legs, call)
	}
	c.record(Action{Call: call, Op: OpTransfer, Target: to})
	return nil
}

// AddParty dials the third party and mixes the three legs.
func (c *Carrier) AddParty(_ context.Context, call dialer.CallID, party dialer.Target) error {
	l, err := c.bridged(call, OpAddParty)
	if err != nil {
		return err
	}
	if err := party.Validate(); err != nil {
		return fmt.Errorf("%s on call %d: %w: %w", OpAddParty, call, dialer.ErrTrunkRefused, err)
	}
	switch {
	case !l.party.IsZero():
		return refuse(OpAddParty, call, "already a conference")
	case l.held:
		return refuse(OpAddParty, call, "the customer is on hold")
	}
	l.party = party
	c.record(Action{Call: call, Op: OpAddParty, Target: party})
	return nil
}

// Leave takes the agent's leg out of the mixer; customer and third party
// stay bridged until the customer hangs up.
func (c *Carrier) Leave(_ context.Context, call dialer.CallID) error {
	l, err := c.bridged(call, OpLeave)
	if err != nil {
		return err
	}
	if l.party.IsZero() {
		return refuse(OpLeave, call, "the call is not a conference")
	}
	c.record(Action{Call: call, Op: OpLeave, Target: l.party})
	return nil
}

var _ dialer.Trunk = (*Carrier)(nil)
