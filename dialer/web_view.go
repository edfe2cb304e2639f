package dialer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
)

// ErrAgentNotInCampaign is returned for an agent this loop has never seen.
var ErrAgentNotInCampaign = errors.New("agent not in campaign")

// ErrAgentBusy is returned by LogoutIdle for an agent with a call.
var ErrAgentBusy = errors.New("agent is on a call, ringing or in wrap-up")

// ErrNoCall is returned when the agent has no call the action applies to.
var ErrNoCall = errors.New("no call")

// AgentView is one agent as the workspace shows them: state, accounting and
// the call on their screen.
type AgentView struct {
	Agent        agents.ID
	State        agents.State
	Since        time.Time
	PauseCode    string
	PausePending string
	OnHold       bool
	Session      agents.Session
	// Call is the agent's open call, the preview lead offered to them, or
	// (in DISPO) the call their disposition will close; nil when none.
	Call *AgentCallView
	// Inbound is the inbound caller ringing the agent (state RINGING), nil
	// when none: Call is then nil, the agent answers with accept or reject.
	Inbound *InboundOffer
}

// AgentCallView is the call on an agent's screen.
type AgentCallView struct {
	ID   CallID // 0 for a preview not dialled yet
	Lead LeadID
	// Number is empty in DISPO (the call record has it).
	Number string
	// State is preview, dialing, ringing, connected, held or ended (a
	// conference is connected, with Party set).
	State string
	// Start is when the agent was connected (or the dial placed).
	Start time.Time
	// Muted: the agent's audio does not reach the customer.
	Muted bool
	// Party is the third party while the call is a conference.
	Party Target
	// Guest: the conference is Party's (an agent's), who can leave the
	// customer to this agent or end it; the guest's controls are refused.
	Guest bool
	// Inbound: a caller who dialled in through Queue; Number is then the
	// caller's, and Lead is 0 (the call holds no lead of its own).
	Inbound bool
	Queue   int64
}

// AgentView reports one agent's live state.
func (l *Loop) AgentView(ctx context.Context, id agents.ID) (AgentView, error) {
	var v AgentView
	err := l.do(ctx, func(context.Context) error {
		s, ok := l.eng.agents[id]
		if !ok {
			return fmt.Errorf("agent %d, campaign %d: %w", id, l.cfg.Engine.Campaign, ErrAgentNotInCampaign)
		}
		a := s.a
		v = AgentView{Agent: id, State: a.State(), Since: a.StateSince(), PauseCode: a.PauseCode(),
			PausePending: a.PausePending(), OnHold: a.OnHold(), Session: a.Session()}
		switch {
		case s.call != nil:
			c := s.call
			cv := &AgentCallView{ID: c.ID, Lead: c.Lead.ID, Number: c.Lead.Number, Start: c.Stamps[CallDialing],
				Muted: c.Muted, Party: c.Party, Guest: c.guest(), Inbound: c.Inbound, Queue: c.Queue}
			if c.TransferredFrom != 0 {
				cv.Start = c.Stamps[CallConnected] // theirs since it was handed to them
			}
			switch c.State {
			case CallDialing, CallQueued:
				cv.State = "dialing"
			case CallRinging:
				cv.State = "ringing"
			case CallHeld:
				cv.State = "held"
			case CallWrapUp, CallEnded:
				cv.State = "ended"
			default:
				cv.State = "connected"
			}
			// The agent's call start, not Stamps[CallConnected]: a resume
			// from hold stamps CallConnected again.
			if t := a.CallStart(); !t.IsZero() {
				cv.Start = t
			} else if t := c.Stamps[CallConnected]; !t.IsZero() {
				cv.Start = t
			}
			v.Call = cv
		case s.inOffered && a.State() == agents.Ringing:
			off := s.inOffer
			off.Leads = append([]InboundLead(nil), off.Leads...)
			v.Inbound = &off
		case s.offered && a.State() == agents.Ringing:
			v.Call = &AgentCallView{Lead: s.offer.ID, Number: s.offer.Number, State: "preview", Start: a.StateSince()}
		case a.State() == agents.Dispo:
			if c := l.eng.dispositionCall(id); c != nil {
				v.Call = &AgentCallView{ID: c.ID, Lead: c.Lead.ID, State: "ended", Start: a.CallStart(),
					Inbound: c.Inbound, Queue: c.Queue}
				if c.Inbound {
					v.Call.Number = c.Lead.Number // the caller's: an inbound call has no lead to read it from
				}
			}
		}
		return nil
	})
	return v, err
}

// ConnectedCall returns the call the agent is talking on (connected, held
// or a conference), or ErrNoCall.
func (l *Loop) ConnectedCall(ctx context.Context, id agents.ID) (CallID, LeadID, error) {
	var call CallID
	var lead LeadID
	err := l.do(ctx, func(context.Context) error {
		s, ok := l.eng.agents[id]
		if !ok {
			return fmt.Errorf("agent %d: %w", id, ErrAgentNotInCampaign)
		}
		if s.call == nil || (s.call.State != CallConnected && s.call.State != CallHeld && s.call.State != CallConference) {
			return fmt.Errorf("agent %d: %w", id, ErrNoCall)
		}
		call, lead = s.call.ID, s.call.Lead.ID
		return nil
	})
	return call, lead, err
}

// ErrDialRefused: the engine would not dial (the agent is not READY, the
// campaign is draining, the lead is already in a call).
var ErrDialRefused = errors.New("manual dial refused")

// ManualDial dials one of the campaign's leads for a READY agent (a manual
// dial from the workspace): the lead is claimed as the hopper would (calling
// window, DNC, attempt limits: campaigns.ClaimLead's errors), the agent is
// put in the call at once and hears it ring, and a lead the engine does not
// dial goes back to the pool.
func (l *Loop) ManualDial(ctx context.Context, id agents.ID, lead campaigns.LeadID) (CallID, error) {
	if l.deps.DB == nil {
		return 0, errors.New("campaign loop has no database for manual dials")
	}
	c, err := campaigns.Get(ctx, l.deps.DB, campaigns.ID(l.cfg.Engine.Campaign))
	if err != nil {
		return 0, fmt.Errorf("manual dial of lead %d: %w", lead, err)
	}
	claimed, err := campaigns.ClaimLead(ctx, l.deps.DB, &c, lead, l.Now(), l.cfg.Node)
	if err != nil {
		return 0, fmt.Errorf("manual dial of lead %d: %w", lead, err)
	}
	var call CallID
	err = l.do(ctx, func(ctx context.Context) error {
		if _, ok := l.eng.agents[id]; !ok {
			return fmt.Errorf("agent %d: %w", id, ErrAgentNotInCampaign)
		}
		var err error
		if call, err = l.eng.ManualDial(ctx, id, Lead{ID: LeadID(claimed.ID), Number: claimed.Phone}); err != nil {
			return fmt.Errorf("%w: %w", ErrDialRefused, err)
		}
		return nil
	})
	if err != nil {
		// Not dialled: the lead goes back, even if the caller has gone.
		if rerr := campaigns.Release(context.WithoutCancel(ctx), l.deps.DB, claimed.ID); rerr != nil {
			err = errors.Join(err, fmt.Errorf("release lead %d: %w", claimed.ID, rerr))
		}
		return 0, err
	}
	return call, nil
}

// DND switches the agent's do-not-disturb on (from READY or PAUSED: no
// offers, no outbound calls) or off (back to where they were). Any other
// state is refused with the agents package's IllegalTransitionError.
func (l *Loop) DND(ctx context.Context, id agents.ID, on bool) error {
	ev := agents.Event{Kind: agents.EvDNDOff}
	if on {
		ev.Kind = agents.EvDND
	}
	return l.do(ctx, func(ctx context.Context) error {
		if l.eng.Agent(id) == nil {
			return fmt.Errorf("agent %d, campaign %d: %w", id, l.cfg.Engine.Campaign, ErrAgentNotInCampaign)
		}
		return l.eng.HandleAgent(ctx, id, ev)
	})
}

// InboundOffer is the inbound call or callback request ringing the agent,
// if any.
func (l *Loop) InboundOffer(ctx context.Context, id agents.ID) (InboundOffer, bool, error) {
	var off InboundOffer
	var ok bool
	err := l.do(ctx, func(context.Context) error {
		off, ok = l.eng.InboundOffered(id)
		return nil
	})
	return off, ok, err
}

// DialRequest accepts the callback request ringing the agent on leg by
// dialling lead (Engine.DialRequest). The lead is claimed as for a manual
// dial (calling window, DNC, attempt limits: campaigns.ClaimLead's errors,
// the request not touched) and goes back to the pool if it is not dialled.
func (l *Loop) DialRequest(ctx context.Context, id agents.ID, leg CallID, lead campaigns.LeadID) (CallID, error) {
	if l.deps.DB == nil {
		return 0, errors.New("campaign loop has no database for callback requests")
	}
	c, err := campaigns.Get(ctx, l.deps.DB, campaigns.ID(l.cfg.Engine.Campaign))
	if err != nil {
		return 0, fmt.Errorf("callback request to lead %d: %w", lead, err)
	}
	claimed, err := campaigns.ClaimLead(ctx, l.deps.DB, &c, lead, l.Now(), l.cfg.Node)
	if err != nil {
		return 0, fmt.Errorf("callback request to lead %d: %w", lead, err)
	}
	var call CallID
	err = l.do(ctx, func(ctx context.Context) error {
		var err error
		call, err = l.eng.DialRequest(ctx, id, leg, Lead{ID: LeadID(claimed.ID), Number: claimed.Phone})
		return err
	})
	if err != nil {
		if rerr := campaigns.Release(context.WithoutCancel(ctx), l.deps.DB, claimed.ID); rerr != nil {
			err = errors.Join(err, fmt.Errorf("release lead %d: %w", claimed.ID, rerr))
		}
		return 0, err
	}
	return call, nil
}
