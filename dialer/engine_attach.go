package dialer

import (
	"errors"
	"fmt"

	"github.com/pacer-dialer/pacer/agents"
)

// ErrNotInbound: a lead can be attached only to an inbound caller's call;
// a dialled call has the lead it dialled.
var ErrNotInbound = errors.New("only an inbound caller's call takes a lead attached")

// AttachLead makes lead the lead of the agent's inbound call (call 0:
// whichever the agent has; otherwise it must be that call), during the call
// or its wrap-up, in place of any attached before: the agent's disposition
// settles it (campaigns.DisposeInboundLead). While the customer is on the
// line, this engine does not dial the lead.
func (e *Engine) AttachLead(id agents.ID, call CallID, lead LeadID) (*Call, error) {
	s, ok := e.agents[id]
	if !ok {
		return nil, fmt.Errorf("agent %d, campaign %d: %w", id, e.cfg.Campaign, ErrAgentNotInCampaign)
	}
	c := e.dispositionCall(id)
	if c == nil || (call != 0 && c.ID != call) || s.settled == c.ID {
		return nil, fmt.Errorf("agent %d, call %d: %w", id, call, ErrNoCall)
	}
	if !c.attached || c.noLead {
		return nil, fmt.Errorf("call %d: %w", c.ID, ErrNotInbound)
	}
	if old := c.Lead.ID; old != 0 && e.inFlight[old] == c.ID {
		delete(e.inFlight, old)
	}
	c.Lead.ID = lead
	// Until the call ends (end forgets it): in wrap-up the customer is gone.
	if _, busy := e.inFlight[lead]; !busy && lead != 0 && c.State != CallWrapUp {
		e.inFlight[lead] = c.ID
	}
	return c, nil
}
