package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

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
	// conf is the three-way call of AddParty; party is the third person
	// when an agent (0 for a number), partyLeg their leg once up, partyOut
	// the leg we dialled when a number.
	conf     *media.Conference
	party    agents.ID
	partyLeg *media.Leg
	partyOut *outLeg
	// dialing is a third party being dialled by number for dialMode.
	dialing  *outLeg
	dialMode partyMode
	// playing is closed when the prompt of Play has finished: a Hangup
	// after Play waits for it.
	playing <-chan struct{}
	// referring is the number of a transfer by REFER under way; noRefer
	// is set once the carrier refused a REFER on this call (later
	// transfers are bridged at once).
	referring string
	noRefer   bool
}

// controlled returns the leg of call if it is up, else an error wrapping
// dialer.ErrTrunkRefused. The caller holds l.ctl.mu on success.
func (t *Trunk) controlled(call dialer.CallID, what string) (*outLeg, error) {
	l, ok := t.leg(call)
	if !ok {
		return nil, refused(call, what+": no such call on this trunk")
	}
	if l.ctx.Err() != nil {
		// Hung up (or ending): the leg is on its way out.
		return nil, refused(call, what+": the call is ending")
	}
	l.ctl.mu.Lock()
	if !l.ctl.up {
		l.ctl.mu.Unlock()
		return nil, refused(call, what+": the call is not answered")
	}
	return l, nil
}

// pairControlled is controlled followed by pairLocked: the leg of call if
// it is up with the agent alone with the customer, else an error wrapping
// dialer.ErrTrunkRefused. The caller holds l.ctl.mu on success.
func (t *Trunk) pairControlled(call dialer.CallID, what string) (*outLeg, error) {
	l, err := t.controlled(call, what)
	if err != nil {
		return nil, err
	}
	if err := l.pairLocked(what); err != nil {
		l.ctl.mu.Unlock()
		return nil, err
	}
	return l, nil
}

// phoneLeg is agent's nailed-up phone leg for the control what, else an
// error wrapping dialer.ErrTrunkRefused.
func (t *Trunk) phoneLeg(call dialer.CallID, what string, agent agents.ID) (*media.Leg, error) {
	if t.opts.AgentLegs == nil {
		return nil, refused(call, what+": this node has no agent phone legs")
	}
	leg, ok := t.opts.AgentLegs.AgentLeg(agent)
	if !ok {
		return nil, refused(call, fmt.Sprintf("%s: agent %d has no phone leg up", what, agent))
	}
	return leg, nil
}

// bridgedLocked refuses a control that needs the agent on the call.
func (l *outLeg) bridgedLocked(what string) error {
	if l.ctl.bridge == nil && l.ctl.conf == nil {
		return refused(l.req.Call, what+": no agent is bridged")
	}
	return nil
}

// pairLocked refuses a control that needs the agent alone with the customer
// (not on hold, not in a conference).
func (l *outLeg) pairLocked(what string) error {
	if err := l.bridgedLocked(what); err != nil {
		return err
	}
	if l.ctl.conf != nil {
		return refused(l.req.Call, what+": the call is a conference")
	}
	if l.ctl.held {
		return refused(l.req.Call, what+": the call is on hold")
	}
	if l.ctl.dialing != nil {
		return refused(l.req.Call, what+": a "+l.ctl.dialMode.String()+" to a number is ringing")
	}
	if l.ctl.referring != "" {
		return refused(l.req.Call, what+": a transfer to "+l.ctl.referring+" is under way")
	}
	if l.ctl.agentLeg == nil {
		return refused(l.req.Call, what+": the agent has left the call")
	}
	return nil
}

// Bridge relays the customer leg to and from the agent's phone leg, with no
// ringing: the agent's leg keeps its own stream (one SSRC, continuous
// sequence numbers) across customers.
func (t *Trunk) Bridge(_ context.Context, call dialer.CallID, agent agents.ID) error {
	if IsCaller(call) {
		return t.bridgeCaller(call, agent)
	}
	agentLeg, err := t.phoneLeg(call, "bridge", agent)
	if err != nil {
		return err
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
	if l.ctl.conf != nil {
		l.ctl.conf.Close()
		l.ctl.conf, l.ctl.party, l.ctl.partyLeg = nil, 0, nil
	}
	if l.ctl.partyOut != nil {
		l.ctl.partyOut.cancel(errHangup)
		l.ctl.partyOut = nil
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
	if IsCaller(call) {
		return t.muteCaller(call, on)
	}
	what := map[bool]string{true: "mute", false: "unmute"}[on]
	l, err := t.pairControlled(call, what)
	if err != nil {
		return err
	}
	defer l.ctl.mu.Unlock()
	if l.ctl.muted == on {
		return refused(call, what+": already "+what+"d")
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
	if IsCaller(call) {
		return t.holdCaller(call, on)
	}
	what := map[bool]string{true: "hold", false: "resume"}[on]
	l, err := t.controlled(call, what)
	if err != nil {
		return err
	}
	defer l.ctl.mu.Unlock()
	if err := l.bridgedLocked(what); err != nil {
		return err
	}
	if l.ctl.conf != nil {
		return refused(call, what+": the call is a conference")
	}
	if l.ctl.referring != "" {
		return refused(call, what+": a transfer to "+l.ctl.referring+" is under way")
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

// Transfer hands the customer to another agent's phone leg (re-bridged at
// once), or to a number: a new leg through the trunk, bridged to the
// customer when it answers (the agent's leg is released then), or, on a
// trunk whose TransferMethod is TransferRefer, a REFER to the carrier
// (refer.go); until then, and if it is not answered, the agent keeps the
// customer. Transfers to a queue are refused (no inbound queues on this
// trunk yet).
func (t *Trunk) Transfer(_ context.Context, call dialer.CallID, to dialer.Target) error {
	if IsCaller(call) {
		return t.transferCaller(call, to)
	}
	if err := to.Validate(); err != nil {
		return err
	}
	if to.Kind == dialer.TargetNumber {
		if err := userPartSafe("transfer number", to.Number); err != nil {
			return err
		}
		l, err := t.pairControlled(call, "transfer")
		if err != nil {
			return err
		}
		defer l.ctl.mu.Unlock()
		if l.trunk.config().TransferMethod == TransferRefer && !l.ctl.noRefer {
			number := to.Number
			select {
			case l.cmds <- func(log *slog.Logger) { l.startRefer(log, number) }:
			default:
				return refused(call, "transfer: the call is busy with earlier controls")
			}
			l.ctl.referring = number
		} else if err := l.startPartyLocked(to.Number, partyTransfer); err != nil {
			return err
		}
		// The engine keeps the call the agent's until the number answers
		// (TrunkTransferAnswered) or does not (TrunkTransferFailed).
		return fmt.Errorf("transfer of call %d to %s: %w", call, to.Number, dialer.ErrTransferPending)
	}
	if to.Kind != dialer.TargetAgent {
		return refused(call, "transfer to "+to.Kind.String()+" (not supported by the SIP trunk yet)")
	}
	agentLeg, err := t.phoneLeg(call, "transfer", to.Agent)
	if err != nil {
		return err
	}
	l, err := t.pairControlled(call, "transfer")
	if err != nil {
		return err
	}
	defer l.ctl.mu.Unlock()
	if l.ctl.agentLeg == agentLeg {
		return refused(call, "transfer: the agent is already on the call")
	}
	from := l.ctl.agent
	l.bridgeLocked(to.Agent, agentLeg)
	l.log.Info("transferred", "from_agent", int64(from), "to_agent", int64(to.Agent))
	return nil
}

// setHold runs on the leg's goroutine: re-INVITE with the new direction,
// and music to the customer while held (the bridge's relay into the
// customer leg is held back while it plays; the agent hears nothing).
func (l *outLeg) setHold(log *slog.Logger, on bool) {
	l.media.SetHold(on)
	if !on {
		l.media.StopPlay()
	}
	res, err := l.reinviteOut(l.media.Offer())
	for try := 1; errors.Is(err, errRequestPending) && try <= 2; try++ {
		// Glare on the far end's side: try again after 2.1 to 4 s (RFC 3261
		// §14.1, we own the Call-ID).
		wait := 2100*time.Millisecond + time.Duration(rand.Int64N(int64(1900*time.Millisecond)))
		log.Info("hold re-INVITE met 491: retrying", "after", wait)
		select {
		case <-time.After(wait):
		case <-l.ctx.Done():
			return
		}
		res, err = l.reinviteOut(l.media.Offer())
	}
	if err != nil {
		log.Warn("hold re-INVITE failed", "hold", on, "err", err)
	} else if err := l.media.ApplyAnswer(res.Body()); err != nil {
		log.Warn("hold re-INVITE: unusable SDP answer", "hold", on, "err", err)
	}
	if on {
		music := l.t.music.Load()
		if music == nil {
			music = media.HoldMusic()
		}
		l.media.Play(music, true)
	}
	log.Info("hold changed", "hold", on)
}

// Play plays the named prompt (the campaign's information message) to the
// customer; a Hangup that follows sends its BYE only when the prompt has
// finished.
func (t *Trunk) Play(_ context.Context, call dialer.CallID, prompt string) error {
	if IsCaller(call) {
		return t.playCaller(call, prompt)
	}
	if t.opts.Prompts == nil {
		return refused(call, "play: this trunk has no prompts")
	}
	p, ok := t.opts.Prompts(prompt)
	if !ok {
		return refused(call, fmt.Sprintf("play: no prompt %q", prompt))
	}
	l, err := t.controlled(call, "play")
	if err != nil {
		return err
	}
	defer l.ctl.mu.Unlock()
	l.ctl.playing = l.media.Play(p, false)
	l.log.Info("playing prompt", "prompt", prompt, "length", p.Duration())
	return nil
}

// SendDTMF plays RFC 4733 events to the customer with the payload type the
// call negotiated; refused when none was, or while the call is held.
func (t *Trunk) SendDTMF(_ context.Context, call dialer.CallID, digits dialer.Digits) error {
	if IsCaller(call) {
		return t.dtmfCaller(call, digits)
	}
	if _, err := dialer.ParseDigits(string(digits)); err != nil {
		return err
	}
	l, err := t.controlled(call, "DTMF")
	if err != nil {
		return err
	}
	defer l.ctl.mu.Unlock()
	if err := l.bridgedLocked("DTMF"); err != nil {
		return err
	}
	if l.ctl.held {
		return refused(call, "DTMF: the call is on hold")
	}
	if err := l.media.SendDTMF(string(digits)); err != nil {
		return refused(call, "DTMF: "+err.Error())
	}
	return nil
}

// AddParty brings another agent, or a number (a new leg through the trunk,
// joining when it answers), into the call: customer, agent and party hear
// each other (mixed, each without their own voice).
func (t *Trunk) AddParty(_ context.Context, call dialer.CallID, party dialer.Target) error {
	if IsCaller(call) {
		return refused(call, "conference on a SIP caller's call (not supported yet)")
	}
	if err := party.Validate(); err != nil {
		return err
	}
	if party.Kind == dialer.TargetNumber {
		if err := userPartSafe("party number", party.Number); err != nil {
			return err
		}
		l, err := t.pairControlled(call, "conference")
		if err != nil {
			return err
		}
		defer l.ctl.mu.Unlock()
		return l.startPartyLocked(party.Number, partyConference)
	}
	if party.Kind != dialer.TargetAgent {
		return refused(call, "conference with a "+party.Kind.String()+" (not supported by the SIP trunk yet)")
	}
	partyLeg, err := t.phoneLeg(call, "conference", party.Agent)
	if err != nil {
		return err
	}
	l, err := t.pairControlled(call, "conference")
	if err != nil {
		return err
	}
	defer l.ctl.mu.Unlock()
	if partyLeg == l.ctl.agentLeg {
		return refused(call, "conference: the agent is already on the call")
	}
	l.ctl.bridge.Close()
	l.ctl.bridge = nil
	l.ctl.conf = media.NewConference(l.media, l.ctl.agentLeg, partyLeg)
	l.ctl.party, l.ctl.partyLeg = party.Agent, partyLeg
	l.ctl.muted = false
	l.log.Info("conference", "agent", int64(l.ctl.agent), "party", int64(party.Agent))
	return nil
}

// Leave takes the agent out of the conference: the customer and the party
// are bridged directly (a plain relay, no mixing).
func (t *Trunk) Leave(_ context.Context, call dialer.CallID) error {
	if IsCaller(call) {
		return refused(call, "leave: a SIP caller's call is never a conference")
	}
	l, err := t.controlled(call, "leave")
	if err != nil {
		return err
	}
	defer l.ctl.mu.Unlock()
	if l.ctl.conf == nil {
		return refused(call, "leave: the call is not a conference")
	}
	left := l.ctl.agent
	l.ctl.conf.Close()
	l.ctl.conf = nil
	if l.ctl.partyOut != nil {
		// The customer stays with the number; the agent is released.
		l.ctl.agent, l.ctl.agentLeg = 0, nil
		l.ctl.bridge = media.NewBridge(l.media, l.ctl.partyLeg)
		l.log.Info("agent left the conference", "agent", int64(left), "now_with", l.ctl.partyOut.req.Number)
		return nil
	}
	l.ctl.agent, l.ctl.agentLeg = l.ctl.party, l.ctl.partyLeg
	l.ctl.party, l.ctl.partyLeg = 0, nil
	l.ctl.bridge = media.NewBridge(l.media, l.ctl.agentLeg)
	l.log.Info("agent left the conference", "agent", int64(left), "now_with", int64(l.ctl.agent))
	return nil
}

// promptPlaying is the done channel of the prompt Play started, if any.
func (l *outLeg) promptPlaying() <-chan struct{} {
	l.ctl.mu.Lock()
	defer l.ctl.mu.Unlock()
	return l.ctl.playing
}

// errRequestPending: the far end answered our re-INVITE 491 (glare).
var errRequestPending = errors.New("re-INVITE answered 491 Request Pending")

// reinviteOut sends a re-INVITE with offer inside the dialog, waits for
// its final response and ACKs a 2xx.
func (l *outLeg) reinviteOut(offer []byte) (*sip.Response, error) {
	l.reinviting.Store(true)
	defer l.reinviting.Store(false)
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
	if res.StatusCode == sip.StatusRequestPending {
		return nil, errRequestPending
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
	if l.ctl.conf != nil {
		l.ctl.conf.Close()
		l.ctl.conf = nil
	}
	for _, p := range []*outLeg{l.ctl.dialing, l.ctl.partyOut} {
		if p != nil {
			p.cancel(errHangup)
		}
	}
	l.ctl.dialing, l.ctl.partyOut = nil, nil
}

// controlsUp marks the call answered: controls apply from now.
func (l *outLeg) controlsUp() {
	l.ctl.mu.Lock()
	l.ctl.up = true
	l.ctl.mu.Unlock()
}
