package sip

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/emiago/sipgo/sip"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/media"
)

// AgentLegs finds an agent's nailed-up phone leg (the phones component
// implements it): the customer leg is bridged into it.
type AgentLegs interface {
	AgentLeg(agent agents.ID) (*media.Leg, bool)
}

// legCtl is the part of a leg the engine's controls change, from the
// engine's goroutine; the leg's goroutine reads it and clears it when the
// call ends.
type legCtl struct {
	mu       sync.Mutex
	up       bool // answered and not over
	agent    agents.ID
	agentLeg *media.Leg
	bridge   *media.Bridge
	muted    bool
	held     bool
}

// controlled returns the leg of call if it is up, else an error wrapping
// dialer.ErrTrunkRefused. The caller holds l.ctl.mu on success.
func (t *Trunk) controlled(call dialer.CallID, what string) (*outLeg, error) {
	l, ok := t.leg(call)
	if !ok {
		return nil, refused(call, what+": no such call on this trunk")
	}
	l.ctl.mu.Lock()
	if !l.ctl.up {
		l.ctl.mu.Unlock()
		return nil, refused(call, what+": the call is not answered")
	}
	return l, nil
}

// bridgedLocked refuses a control that needs the agent on the call.
func (l *outLeg) bridgedLocked(what string) error {
	if l.ctl.bridge == nil {
		return refused(l.req.Call, what+": no agent is bridged")
	}
	return nil
}

// Bridge relays the customer leg to and from the agent's phone leg, with no
// ringing: the agent's leg keeps its own stream (one SSRC, continuous
// sequence numbers) across customers.
func (t *Trunk) Bridge(_ context.Context, call dialer.CallID, agent agents.ID) error {
	if t.opts.AgentLegs == nil {
		return refused(call, "bridge: this node has no agent phone legs")
	}
	agentLeg, ok := t.opts.AgentLegs.AgentLeg(agent)
	if !ok {
		return refused(call, fmt.Sprintf("bridge: agent %d has no phone leg up", agent))
	}
	l, err := t.controlled(call, "bridge")
	if err != nil {
		return err
	}
	defer l.ctl.mu.Unlock()
	l.bridgeLocked(agent, agentLeg)
	l.log.Info("bridged", "agent", int64(agent))
	return nil
}

func (l *outLeg) bridgeLocked(agent agents.ID, agentLeg *media.Leg) {
	if l.ctl.bridge != nil {
		l.ctl.bridge.Close()
	}
	l.ctl.agent, l.ctl.agentLeg = agent, agentLeg
	l.ctl.bridge = media.NewBridge(l.media, agentLeg)
	l.ctl.muted = false
}

// Mute stops relaying the agent's audio to the customer.
func (t *Trunk) Mute(_ context.Context, call dialer.CallID) error { return t.mute(call, true) }

// Unmute starts it again.
func (t *Trunk) Unmute(_ context.Context, call dialer.CallID) error { return t.mute(call, false) }

func (t *Trunk) mute(call dialer.CallID, on bool) error {
	what := map[bool]string{true: "mute", false: "unmute"}[on]
	l, err := t.controlled(call, what)
	if err != nil {
		return err
	}
	defer l.ctl.mu.Unlock()
	if err := l.bridgedLocked(what); err != nil {
		return err
	}
	l.ctl.bridge.Mute(l.ctl.agentLeg, on)
	l.ctl.muted = on
	return nil
}

// Hold re-INVITEs the customer with a=sendonly (sent from the leg's
// goroutine; Hold returns at once).
func (t *Trunk) Hold(_ context.Context, call dialer.CallID) error { return t.hold(call, true) }

// Resume re-INVITEs the customer with a=sendrecv.
func (t *Trunk) Resume(_ context.Context, call dialer.CallID) error { return t.hold(call, false) }

func (t *Trunk) hold(call dialer.CallID, on bool) error {
	what := map[bool]string{true: "hold", false: "resume"}[on]
	l, err := t.controlled(call, what)
	if err != nil {
		return err
	}
	defer l.ctl.mu.Unlock()
	if err := l.bridgedLocked(what); err != nil {
		return err
	}
	if l.ctl.held == on {
		return refused(call, what+": the call is already "+map[bool]string{true: "on hold", false: "off hold"}[on])
	}
	select {
	case l.cmds <- func(log *slog.Logger) { l.setHold(log, on) }:
	default:
		return refused(call, what+": the call is busy with earlier controls")
	}
	l.ctl.held = on
	return nil
}

// Transfer hands the customer to another agent's phone leg (re-bridged
// at once). Transfers to a number or a queue are not carried by this trunk
// yet and are refused.
func (t *Trunk) Transfer(_ context.Context, call dialer.CallID, to dialer.Target) error {
	if err := to.Validate(); err != nil {
		return err
	}
	if to.Kind != dialer.TargetAgent {
		return refused(call, "transfer to "+to.Kind.String()+" (not supported by the SIP trunk yet)")
	}
	if t.opts.AgentLegs == nil {
		return refused(call, "transfer: this node has no agent phone legs")
	}
	agentLeg, ok := t.opts.AgentLegs.AgentLeg(to.Agent)
	if !ok {
		return refused(call, fmt.Sprintf("transfer: agent %d has no phone leg up", to.Agent))
	}
	l, err := t.controlled(call, "transfer")
	if err != nil {
		return err
	}
	defer l.ctl.mu.Unlock()
	if err := l.bridgedLocked("transfer"); err != nil {
		return err
	}
	if l.ctl.held {
		return refused(call, "transfer: the call is on hold")
	}
	if l.ctl.agentLeg == agentLeg {
		return refused(call, "transfer: the agent is already on the call")
	}
	from := l.ctl.agent
	l.bridgeLocked(to.Agent, agentLeg)
	l.log.Info("transferred", "from_agent", int64(from), "to_agent", int64(to.Agent))
	return nil
}

// setHold runs on the leg's goroutine: re-INVITE with the new direction.
func (l *outLeg) setHold(log *slog.Logger, on bool) {
	l.media.SetHold(on)
	res, err := l.reinviteOut(l.media.Offer())
	if err != nil {
		log.Warn("hold re-INVITE failed", "hold", on, "err", err)
		return
	}
	if err := l.media.ApplyAnswer(res.Body()); err != nil {
		log.Warn("hold re-INVITE: unusable SDP answer", "hold", on, "err", err)
		return
	}
	log.Info("hold changed", "hold", on)
}

// reinviteOut sends a re-INVITE with offer inside the dialog, waits for
// its final response and ACKs a 2xx.
func (l *outLeg) reinviteOut(offer []byte) (*sip.Response, error) {
	dlg := l.dlg
	target := dlg.InviteRequest.Recipient
	if c := dlg.InviteResponse.Contact(); c != nil {
		target = c.Address
	}
	req := sip.NewRequest(sip.INVITE, *target.Clone())
	req.AppendHeader(sip.HeaderClone(dlg.InviteRequest.From()))
	req.AppendHeader(sip.HeaderClone(dlg.InviteResponse.To()))
	req.AppendHeader(sip.HeaderClone(dlg.InviteRequest.CallID()))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(offer)
	ctx, cancel := context.WithTimeout(l.ctx, 64*sip.T1)
	defer cancel()
	res, err := dlg.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	if !res.IsSuccess() {
		return nil, fmt.Errorf("re-INVITE answered %d %s", res.StatusCode, res.Reason)
	}
	ack := sip.NewRequest(sip.ACK, *target.Clone())
	ack.AppendHeader(sip.HeaderClone(dlg.InviteRequest.From()))
	ack.AppendHeader(sip.HeaderClone(res.To()))
	ack.AppendHeader(sip.HeaderClone(dlg.InviteRequest.CallID()))
	ack.AppendHeader(&sip.CSeqHeader{SeqNo: res.CSeq().SeqNo, MethodName: sip.ACK})
	if err := dlg.WriteRequest(ack); err != nil {
		return nil, fmt.Errorf("ACK the re-INVITE's 200: %w", err)
	}
	return res, nil
}

// endControls is called by the leg's goroutine when the call is over.
func (l *outLeg) endControls() {
	l.ctl.mu.Lock()
	defer l.ctl.mu.Unlock()
	l.ctl.up = false
	if l.ctl.bridge != nil {
		l.ctl.bridge.Close()
		l.ctl.bridge = nil
	}
}

// controlsUp marks the call answered: controls apply from now.
func (l *outLeg) controlsUp() {
	l.ctl.mu.Lock()
	l.ctl.up = true
	l.ctl.mu.Unlock()
}
