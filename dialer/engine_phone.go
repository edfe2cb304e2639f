package dialer

import (
	"context"
	"errors"

	"github.com/pacer-dialer/pacer/agents"
)

// ErrPhoneDown refuses READY and dials to an agent whose own phone leg is
// not up (Deps.Phones): a customer bridged to them would hear silence.
var ErrPhoneDown = errors.New("your phone is not connected: Pacer is calling it, and you are READY as soon as it answers")

// ErrNoPhone is wrapped by AgentPhones.JoinAgent for an agent who has no
// phone to call: they cannot log in to a campaign on a real trunk.
var ErrNoPhone = errors.New("no SIP phone to call: register your phone (or have a manager set its address) before joining a campaign on a real trunk")

func (e *Engine) phoneDown(s *agentSlot) bool { return e.deps.Phones != nil && !s.phoneUp }

// phoneChanged follows an agent's phone leg. Down: an offered preview goes
// back to the hopper, a call the agent is on ends (the customer would talk
// to no one) and goes to wrap-up as usual, and the agent is paused with
// PauseCodePhone (at once, or after the call). Up: an agent the engine
// paused for their phone is READY again; a pause it asked for during a
// call is taken back.
func (e *Engine) phoneChanged(ctx context.Context, ev TrunkEvent) {
	s, ok := e.agents[ev.Agent]
	if !ok || e.deps.Phones == nil {
		return
	}
	up := ev.Kind == TrunkPhoneUp
	if s.phoneUp == up {
		return
	}
	s.phoneUp = up
	log := e.log.With("agent", int64(s.a.ID()))
	if up {
		log.Info("agent's phone is up")
		ready := s.readyOnPhone
		s.readyOnPhone = false
		switch st := s.a.State(); {
		case st == agents.Paused && (ready || s.a.PauseCode() == agents.PauseCodePhone),
			st != agents.Paused && s.a.PausePending() == agents.PauseCodePhone:
			if err := e.applyAgent(ctx, s, agents.Event{Kind: agents.EvReady}); err != nil {
				log.Error("agent ready after their phone came back", "err", err)
			}
		}
		return
	}
	log.Warn("agent's phone is down", "cause", ev.Cause.String())
	if s.offered && s.a.State() == agents.Ringing {
		if err := e.answerOffer(ctx, s, agents.Event{Kind: agents.EvReject}, false); err != nil {
			log.Error("withdraw the preview of an agent whose phone went down", "err", err)
		}
	}
	switch s.a.State() {
	case agents.LoggedOut, agents.Paused:
		return
	}
	if err := e.applyAgent(ctx, s, agents.Event{Kind: agents.EvPause, PauseCode: agents.PauseCodePhone}); err != nil {
		log.Error("pause an agent whose phone went down", "err", err)
	}
	if c := s.call; c != nil && c.State != CallEnded {
		e.hangup(ctx, c)
		e.end(ctx, c, ceHangup, CausePhoneDown)
	}
}
