package sip

import (
	"log/slog"
	"time"

	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/media"
)

// A third party reached by number (a blind transfer, or the third person of
// a conference) is a new outbound leg through the campaign's trunks, with
// the same limits and failover, owned by its own goroutine like any leg. Its
// progress goes to the customer leg's goroutine (partyEvents), which wires
// the media when it answers. Until it answers nothing changes: the agent
// keeps the customer, also when it is not answered.

type partyMode uint8

const (
	partyTransfer   partyMode = iota + 1 // the customer goes to the party, the agent is released
	partyConference                      // the party joins customer and agent
)

func (m partyMode) String() string {
	if m == partyTransfer {
		return "transfer"
	}
	return "conference"
}

type partyEvent struct {
	leg   *outLeg
	kind  dialer.TrunkEventKind
	cause dialer.Cause
}

// partyRing is how long a third party rings when the customer's call gave
// no ring timeout.
const partyRing = 30 * time.Second

// startPartyLocked dials number for the customer leg l (l.ctl.mu held).
func (l *outLeg) startPartyLocked(number string, mode partyMode) error {
	ring := l.req.RingTimeout
	if ring <= 0 {
		ring = partyRing
	}
	p := newOutLeg(l.t, dialer.DialRequest{Call: l.req.Call, Number: number, CallerID: l.req.CallerID, RingTimeout: ring})
	p.parent = l
	p.log = l.log.With("party", number, "mode", mode.String())
	p.report = func(kind dialer.TrunkEventKind, cause dialer.Cause) {
		select {
		case l.partyEvents <- partyEvent{leg: p, kind: kind, cause: cause}:
		case <-l.ctx.Done():
		}
	}
	if !l.t.ua.goLeg(p.run) {
		return refused(l.req.Call, mode.String()+": the SIP user agent is stopping")
	}
	l.ctl.dialing, l.ctl.dialMode = p, mode
	p.log.Info("dialling a third party")
	return nil
}

// onPartyEvent runs on the customer leg's goroutine; true when the
// customer's call is over (the party it was transferred to hung up).
func (l *outLeg) onPartyEvent(log *slog.Logger, ev partyEvent) bool {
	l.ctl.mu.Lock()
	defer l.ctl.mu.Unlock()
	switch ev.kind {
	case dialer.TrunkRinging:
		return false
	case dialer.TrunkAnsweredHuman:
		if l.ctl.dialing != ev.leg || !l.ctl.up {
			ev.leg.cancel(errHangup)
			return false
		}
		mode := l.ctl.dialMode
		l.ctl.dialing, l.ctl.dialMode = nil, 0
		switch {
		case mode == partyTransfer:
			if l.ctl.bridge != nil {
				l.ctl.bridge.Close()
			}
			log.Info("transfer answered: the customer is with the third party, the agent is released", "agent", int64(l.ctl.agent))
			l.ctl.agent, l.ctl.agentLeg = 0, nil
			l.ctl.partyOut, l.ctl.partyLeg = ev.leg, ev.leg.media
			l.ctl.bridge = media.NewBridge(l.media, ev.leg.media)
			l.ctl.muted = false
			l.report(dialer.TrunkTransferAnswered, dialer.Cause{})
		case l.ctl.bridge != nil && l.ctl.conf == nil && !l.ctl.held:
			l.ctl.bridge.Close()
			l.ctl.bridge = nil
			l.ctl.partyOut, l.ctl.partyLeg = ev.leg, ev.leg.media
			l.ctl.conf = media.NewConference(l.media, l.ctl.agentLeg, ev.leg.media)
			l.ctl.muted = false
			log.Info("conference: the third party answered")
		default:
			log.Info("the third party answered but the call changed meanwhile: hanging it up")
			ev.leg.cancel(errHangup)
		}
		return false
	case dialer.TrunkHungUp:
		if l.ctl.partyOut != ev.leg {
			return false
		}
		l.ctl.partyOut = nil
		l.ctl.partyLeg = nil
		if l.ctl.conf != nil {
			// The agent stays with the customer.
			l.ctl.conf.Close()
			l.ctl.conf = nil
			l.ctl.bridge = media.NewBridge(l.media, l.ctl.agentLeg)
			log.Info("the conference's third party hung up: customer and agent bridged again", "cause", ev.cause.String())
			return false
		}
		if l.ctl.agentLeg != nil {
			return false
		}
		log.Info("the third party the customer was with hung up: ending the call", "cause", ev.cause.String())
		if l.ctl.bridge != nil {
			l.ctl.bridge.Close()
			l.ctl.bridge = nil
		}
		l.ctl.up = false
		l.ctl.mu.Unlock()
		l.bye(log)
		l.report(dialer.TrunkHungUp, ev.cause)
		l.ctl.mu.Lock()
		return true
	default: // busy, no answer, invalid number, failed: never answered
		if l.ctl.dialing == ev.leg {
			log.Info("the third party did not answer: the agent keeps the customer", "mode", l.ctl.dialMode.String(),
				"outcome", ev.kind.String(), "cause", ev.cause.String())
			if l.ctl.dialMode == partyTransfer {
				l.report(dialer.TrunkTransferFailed, ev.cause)
			}
			l.ctl.dialing, l.ctl.dialMode = nil, 0
		}
		return false
	}
}
