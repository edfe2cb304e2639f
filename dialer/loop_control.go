package dialer

import (
	"context"

	"github.com/pacer-dialer/pacer/agents"
)

// The agent's call controls as loop commands (engine_control.go): each runs
// on the loop's goroutine, names the call it means (0: whichever call the
// agent is on) and returns the engine's refusal, if any: ErrNoCall, a
// *CallTransitionError or *agents.IllegalTransitionError (wrong state),
// ErrBadControl (bad digits or target), ErrTrunkRefused.

// Hold puts the agent's customer on hold.
func (l *Loop) Hold(ctx context.Context, id agents.ID, call CallID) error {
	return l.do(ctx, func(ctx context.Context) error { return l.eng.Hold(ctx, id, call) })
}

// Resume takes the agent's customer off hold.
func (l *Loop) Resume(ctx context.Context, id agents.ID, call CallID) error {
	return l.do(ctx, func(ctx context.Context) error { return l.eng.Resume(ctx, id, call) })
}

// Mute stops relaying the agent's audio to the customer.
func (l *Loop) Mute(ctx context.Context, id agents.ID, call CallID) error {
	return l.do(ctx, func(ctx context.Context) error { return l.eng.Mute(ctx, id, call) })
}

// Unmute relays the agent's audio to the customer again.
func (l *Loop) Unmute(ctx context.Context, id agents.ID, call CallID) error {
	return l.do(ctx, func(ctx context.Context) error { return l.eng.Unmute(ctx, id, call) })
}

// SendDTMF sends keypad digits to the agent's customer.
func (l *Loop) SendDTMF(ctx context.Context, id agents.ID, call CallID, digits Digits) error {
	return l.do(ctx, func(ctx context.Context) error { return l.eng.SendDTMF(ctx, id, call, digits) })
}

// Transfer hands the agent's customer to a target and ends the agent's part.
func (l *Loop) Transfer(ctx context.Context, id agents.ID, call CallID, to Target) error {
	return l.do(ctx, func(ctx context.Context) error { return l.eng.Transfer(ctx, id, call, to) })
}

// AddParty brings a third party into the agent's call (conference).
func (l *Loop) AddParty(ctx context.Context, id agents.ID, call CallID, party Target) error {
	return l.do(ctx, func(ctx context.Context) error { return l.eng.AddParty(ctx, id, call, party) })
}

// Leave takes the agent out of their conference; the customer stays with
// the third party.
func (l *Loop) Leave(ctx context.Context, id agents.ID, call CallID) error {
	return l.do(ctx, func(ctx context.Context) error { return l.eng.Leave(ctx, id, call) })
}

// The controls pass straight to the campaign's trunk: the engine has
// already checked them and the loop journals none of them (the web records
// the agent's actions in call_actions).

func (t loopTrunk) Hold(ctx context.Context, call CallID) error   { return t.l.trunk.Hold(ctx, call) }
func (t loopTrunk) Resume(ctx context.Context, call CallID) error { return t.l.trunk.Resume(ctx, call) }
func (t loopTrunk) Mute(ctx context.Context, call CallID) error   { return t.l.trunk.Mute(ctx, call) }
func (t loopTrunk) Unmute(ctx context.Context, call CallID) error { return t.l.trunk.Unmute(ctx, call) }
func (t loopTrunk) SendDTMF(ctx context.Context, call CallID, d Digits) error {
	return t.l.trunk.SendDTMF(ctx, call, d)
}
func (t loopTrunk) Transfer(ctx context.Context, call CallID, to Target) error {
	return t.l.trunk.Transfer(ctx, call, to)
}
func (t loopTrunk) AddParty(ctx context.Context, call CallID, party Target) error {
	return t.l.trunk.AddParty(ctx, call, party)
}
func (t loopTrunk) Leave(ctx context.Context, call CallID) error { return t.l.trunk.Leave(ctx, call) }

// TakeInbound gives a READY agent the waiting caller they picked from the
// queue panel (Engine.TakeInbound).
func (l *Loop) TakeInbound(ctx context.Context, id agents.ID, leg CallID) error {
	return l.do(ctx, func(ctx context.Context) error { return l.eng.TakeInbound(ctx, id, leg) })
}

// AttachLead attaches one of the campaign's leads (or another campaign's:
// the caller's) to the agent's inbound call (Engine.AttachLead) and records
// it on the call.
func (l *Loop) AttachLead(ctx context.Context, id agents.ID, call CallID, lead LeadID) (CallID, error) {
	var got CallID
	err := l.do(ctx, func(context.Context) error {
		c, err := l.eng.AttachLead(id, call, lead)
		if err != nil {
			return err
		}
		got = c.ID
		if l.deps.Journal != nil {
			l.deps.Journal.CallLeadAttached(c.ID, lead)
		}
		l.log.Info("lead attached to inbound call", "agent", int64(id), "call", uint64(c.ID), "lead", int64(lead))
		return nil
	})
	return got, err
}
