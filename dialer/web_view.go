package dialer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pacer-dialer/pacer/agents"
)

// ErrAgentNotInCampaign is returned for an agent this loop has never seen.
var ErrAgentNotInCampaign = errors.New("agent not in campaign")

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
				Muted: c.Muted, Party: c.Party}
			switch c.State {
			case CallDialing, CallQueued:
				cv.State = "dialing"
			case CallRinging:
				cv.State = "ringing"
			case CallHeld:
				cv.State = "held"
			case CallEnded:
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
		case s.offered && a.State() == agents.Ringing:
			v.Call = &AgentCallView{Lead: s.offer.ID, Number: s.offer.Number, State: "preview", Start: a.StateSince()}
		case a.State() == agents.Dispo:
			if c := l.eng.dispositionCall(id); c != nil {
				v.Call = &AgentCallView{ID: c.ID, Lead: c.Lead.ID, State: "ended", Start: a.CallStart()}
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

// DialForAgent dials a lead the caller has claimed for a READY agent (a
// manual dial from the workspace): the agent is put in the call at once and
// hears it ring. On error the lead is still the caller's to release.
func (l *Loop) DialForAgent(ctx context.Context, id agents.ID, lead Lead) (CallID, error) {
	var call CallID
	err := l.do(ctx, func(ctx context.Context) error {
		if _, ok := l.eng.agents[id]; !ok {
			return fmt.Errorf("agent %d: %w", id, ErrAgentNotInCampaign)
		}
		var err error
		call, err = l.eng.ManualDial(ctx, id, lead)
		return err
	})
	return call, err
}
