package blend

import (
	"sync"
	"time"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/inbound"
)

// LegBase is where inbound callers' legs are numbered from: above every
// call id an engine gives its own dials (dialer.CallIDBase), so a trunk can
// tell a caller's leg from a dialled one by its number.
const LegBase dialer.CallID = 1 << 62

// Leg is the trunk's name for an inbound call.
func Leg(k inbound.CallKey) dialer.CallID { return dialer.CallID(k) }

// Key is the router's name for an inbound leg.
func Key(leg dialer.CallID) inbound.CallKey { return inbound.CallKey(leg) }

// IsInbound reports whether a leg is an inbound caller's.
func IsInbound(leg dialer.CallID) bool { return leg >= LegBase }

// Engines is the dialer.Inbound engines see, over the router. Where, if
// set, learns which campaign each agent works (for Loops).
type Engines struct {
	R     *inbound.Router
	Where *Loops
}

var _ dialer.Inbound = Engines{}

func (e Engines) Claim(agent agents.ID, now time.Time) (dialer.InboundOffer, bool) {
	o, ok := e.R.Claim(agent, now)
	if !ok {
		return dialer.InboundOffer{}, false
	}
	return offerOf(o), true
}

func offerOf(o inbound.Offer) dialer.InboundOffer {
	off := dialer.InboundOffer{Leg: Leg(o.Call), Queue: int64(o.Queue), QueueName: o.QueueName, DID: o.DID,
		From: o.From, Entered: o.Entered, RingTime: o.RingTime, RejectToDND: o.RejectToDND, Request: int64(o.Request),
		Name: o.Name}
	for _, l := range o.Leads {
		off.Leads = append(off.Leads, dialer.InboundLead{Lead: dialer.LeadID(l.Lead),
			Campaign: dialer.CampaignID(l.Campaign), Name: l.Name})
	}
	return off
}

func (e Engines) Accept(leg dialer.CallID, agent agents.ID, now time.Time) bool {
	return e.R.Accept(Key(leg), agent, now)
}

func (e Engines) Pass(leg dialer.CallID, agent agents.ID, timeout bool, now time.Time) {
	e.R.Pass(Key(leg), agent, timeout, now)
}

func (e Engines) AgentChanged(agent agents.ID, campaign dialer.CampaignID, s agents.State, now time.Time) {
	if e.Where != nil {
		e.Where.place(agent, campaign)
	}
	e.R.AgentChanged(agent, int64(campaign), s, now)
}

func (e Engines) Load(campaign dialer.CampaignID, now time.Time) dialer.InboundLoad {
	l := e.R.Load(int64(campaign), now)
	return dialer.InboundLoad{Reserve: l.Reserve, Stop: l.Stop, Waiting: l.Waiting, ArrivalsPerSec: l.ArrivalsPerSec}
}

func (e Engines) Dedicated(agent agents.ID) bool { return e.R.Dedicated(agent) }

// Loops is the router's Notifier in `pacer serve`: it posts each request to
// the loop of the campaign the agent works, found through the campaign they
// were last reported in (Engines.Where records it) and Find (the manager's
// Running). Requests for an agent whose campaign does not run here are
// dropped: the router offers the call elsewhere once its poke goes
// unanswered.
type Loops struct {
	Find  func(dialer.CampaignID) (*dialer.Loop, bool)
	where sync.Map // agents.ID → dialer.CampaignID
}

var _ inbound.Notifier = (*Loops)(nil)

func (n *Loops) place(agent agents.ID, campaign dialer.CampaignID) { n.where.Store(agent, campaign) }

// Campaign is the campaign the agent was last reported in, if any.
func (n *Loops) Campaign(agent agents.ID) (dialer.CampaignID, bool) {
	c, ok := n.where.Load(agent)
	if !ok {
		return 0, false
	}
	return c.(dialer.CampaignID), true
}

func (n *Loops) loop(agent agents.ID) (*dialer.Loop, bool) {
	c, ok := n.where.Load(agent)
	if !ok {
		return nil, false
	}
	return n.Find(c.(dialer.CampaignID))
}

func (n *Loops) Poke(agent agents.ID) {
	if l, ok := n.loop(agent); ok {
		l.PokeInbound(agent)
	}
}

func (n *Loops) Withdraw(agent agents.ID, call inbound.CallKey) {
	if l, ok := n.loop(agent); ok {
		l.WithdrawInbound(agent, Leg(call))
	}
}

var _ dialer.InboundTaker = Engines{}

// Take gives the agent the waiting caller on leg (the queue panel).
func (e Engines) Take(agent agents.ID, leg dialer.CallID, now time.Time) (dialer.InboundOffer, error) {
	o, err := e.R.Take(agent, Key(leg), now)
	if err != nil {
		return dialer.InboundOffer{}, err
	}
	return offerOf(o), nil
}
