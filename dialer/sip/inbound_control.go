package sip

import (
	"fmt"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/media"
)

// The engines' controls on a SIP caller's leg (IsCaller), from any
// campaign's Trunk of the node: the caller is bridged to the agent's phone
// leg with the same media.Bridge as a customer, and from then on the leg's
// events go to the loop of the campaign whose trunk bridged it. Hold is
// music to the caller with the caller's voice held back from the agent (no
// re-INVITE: the caller's side keeps sending, so no media timeout to
// suspend). A third party (AddParty, Leave) and transfers to a number are
// refused on callers for now.

// callerLeg returns the caller's leg for a control, its controls locked,
// else an error wrapping dialer.ErrTrunkRefused. up requires the call
// answered.
func (t *Trunk) callerLeg(call dialer.CallID, what string, up bool) (*inLeg, error) {
	c := t.ua.callers.Load()
	if c == nil {
		return nil, refused(call, what+": this node takes no SIP callers")
	}
	l, ok := c.leg(call)
	if !ok {
		return nil, refused(call, what+": no such caller")
	}
	l.ctl.mu.Lock()
	if l.ctl.over || l.ctx.Err() != nil {
		l.ctl.mu.Unlock()
		return nil, refused(call, what+": the caller's call is ending")
	}
	if up && !l.ctl.up {
		l.ctl.mu.Unlock()
		return nil, refused(call, what+": the caller's call is not answered yet")
	}
	return l, nil
}

// bridgeCaller takes a waiting caller to the agent: hold music stops and
// the caller and the agent's phone leg are relayed (at once, or when the
// caller's answer completes if the agent took them during the ringback).
func (t *Trunk) bridgeCaller(call dialer.CallID, agent agents.ID) error {
	agentLeg, err := t.phoneLeg(call, "bridge", agent)
	if err != nil {
		return err
	}
	l, err := t.callerLeg(call, "bridge", false)
	if err != nil {
		return err
	}
	defer l.ctl.mu.Unlock()
	l.ctl.trunk = t
	if f := t.opts.OnDTMF; f != nil {
		l.ctl.media.OnDTMF(func(d rune) { f(call, d) })
	} else {
		l.ctl.media.OnDTMF(nil) // the waiting caller's callback key is done
	}
	l.rebridgeLocked(agent, agentLeg)
	l.log.Info("bridged", "agent", int64(agent), "campaign", t.campaign)
	return nil
}

func (l *inLeg) rebridgeLocked(agent agents.ID, agentLeg *media.Leg) {
	if l.ctl.bridge != nil {
		l.ctl.bridge.Close()
		l.ctl.bridge = nil
	}
	l.ctl.agent, l.ctl.agentLeg = agent, agentLeg
	l.ctl.muted, l.ctl.held = false, false
	if l.ctl.up {
		l.ctl.media.StopPlay()
		l.ctl.bridge = media.NewBridge(l.ctl.media, agentLeg)
	}
}

// pairCaller is callerLeg for a control that needs the agent bridged to
// the answered caller (not on hold).
func (t *Trunk) pairCaller(call dialer.CallID, what string) (*inLeg, error) {
	l, err := t.callerLeg(call, what, true)
	if err != nil {
		return nil, err
	}
	if l.ctl.bridge == nil {
		l.ctl.mu.Unlock()
		return nil, refused(call, what+": no agent is bridged to the caller")
	}
	if l.ctl.held {
		l.ctl.mu.Unlock()
		return nil, refused(call, what+": the caller is on hold")
	}
	return l, nil
}

func (t *Trunk) hangupCaller(call dialer.CallID) error {
	if c := t.ua.callers.Load(); c != nil {
		if l, ok := c.leg(call); ok {
			l.cancel(errHangup)
		}
	}
	return nil
}

func (t *Trunk) muteCaller(call dialer.CallID, on bool) error {
	what := map[bool]string{true: "mute", false: "unmute"}[on]
	l, err := t.pairCaller(call, what)
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

func (t *Trunk) holdCaller(call dialer.CallID, on bool) error {
	what := map[bool]string{true: "hold", false: "resume"}[on]
	l, err := t.callerLeg(call, what, true)
	if err != nil {
		return err
	}
	defer l.ctl.mu.Unlock()
	if l.ctl.bridge == nil {
		return refused(call, what+": no agent is bridged to the caller")
	}
	if l.ctl.held == on {
		return refused(call, what+": the caller is already "+map[bool]string{true: "on hold", false: "off hold"}[on])
	}
	l.ctl.bridge.Mute(l.ctl.media, on)
	if on {
		music := t.music.Load()
		if music == nil {
			music = l.c.cfg.HoldMusic
		}
		l.ctl.media.Play(music, true)
	} else {
		l.ctl.media.StopPlay()
	}
	l.ctl.held = on
	l.log.Info("hold changed", "hold", on)
	return nil
}

func (t *Trunk) playCaller(call dialer.CallID, prompt string) error {
	if t.opts.Prompts == nil {
		return refused(call, "play: this trunk has no prompts")
	}
	p, ok := t.opts.Prompts(prompt)
	if !ok {
		return refused(call, fmt.Sprintf("play: no prompt %q", prompt))
	}
	l, err := t.callerLeg(call, "play", true)
	if err != nil {
		return err
	}
	defer l.ctl.mu.Unlock()
	l.ctl.playing = l.ctl.media.Play(p, false)
	return nil
}

func (t *Trunk) dtmfCaller(call dialer.CallID, digits dialer.Digits) error {
	if _, err := dialer.ParseDigits(string(digits)); err != nil {
		return err
	}
	l, err := t.pairCaller(call, "DTMF")
	if err != nil {
		return err
	}
	defer l.ctl.mu.Unlock()
	if err := l.ctl.media.SendDTMF(string(digits)); err != nil {
		return refused(call, "DTMF: "+err.Error())
	}
	return nil
}

func (t *Trunk) transferCaller(call dialer.CallID, to dialer.Target) error {
	if err := to.Validate(); err != nil {
		return err
	}
	if to.Kind != dialer.TargetAgent {
		return refused(call, "transfer of a caller to "+to.Kind.String()+" (not supported for SIP callers yet)")
	}
	agentLeg, err := t.phoneLeg(call, "transfer", to.Agent)
	if err != nil {
		return err
	}
	l, err := t.pairCaller(call, "transfer")
	if err != nil {
		return err
	}
	defer l.ctl.mu.Unlock()
	if l.ctl.agentLeg == agentLeg {
		return refused(call, "transfer: the agent is already on the call")
	}
	from := l.ctl.agent
	l.rebridgeLocked(to.Agent, agentLeg)
	l.log.Info("transferred", "from_agent", int64(from), "to_agent", int64(to.Agent))
	return nil
}
