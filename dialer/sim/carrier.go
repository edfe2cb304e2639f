package sim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/dialer/blend"
)

// Deliverer hands trunk events to the engine's goroutine at a given time:
// the virtual Driver in the simulator, a real-time driver in `pacer serve`.
type Deliverer interface {
	Now() time.Time
	DeliverTrunk(at time.Time, ev dialer.TrunkEvent)
}

type outcomeKind uint8

const (
	okHuman outcomeKind = iota
	okMachine
	okBusy
	okFailed
	okNoAnswer
	okInvalid
)

var outcomeKindByName = map[string]outcomeKind{"human": okHuman, "machine": okMachine, "busy": okBusy, "failed": okFailed,
	"no_answer": okNoAnswer, "invalid": okInvalid}

type compiledOutcome struct {
	kind  outcomeKind
	cum   float64
	after sampler
}

func compileOutcomes(os []Outcome) []compiledOutcome {
	out := make([]compiledOutcome, len(os))
	var cum float64
	for i, o := range os {
		cum += o.P
		out[i] = compiledOutcome{kind: outcomeKindByName[o.Kind], cum: cum, after: o.After.sampler()}
	}
	out[len(out)-1].cum = 2 // guard against rounding: the last outcome catches everything
	return out
}

// Carrier is the simulated carrier: each dial's outcome and delay are drawn
// from the configured distributions with its own seeded random streams, and
// a connected customer hangs up after a drawn talk time. Each ending comes
// with the cause a real carrier gives for it (busy 486 or 600, no answer 480
// or 408, invalid number 404, 484 or 604, failure 503 or 500, hangup Q.850
// 16). Deterministic for a given seed and sequence of requests.
//
// It carries out the agent's call controls on the legs it has bridged and
// records each one (Actions), refusing what a real trunk would refuse with
// dialer.ErrTrunkRefused: any control on a leg not bridged to an agent (or
// whose customer has hung up), DTMF or a conference while on hold, hold
// twice, Leave without a conference, a transfer or conference to an empty or
// malformed target.
type Carrier struct {
	del      Deliverer
	outcomes []compiledOutcome
	talk     sampler
	dialRNG  *rand.Rand
	talkRNG  *rand.Rand
	causeRNG *rand.Rand

	legs    map[dialer.CallID]*leg
	bridges int
	// in plays the inbound callers' side, when there are any.
	in callerLegs

	actMu   sync.Mutex
	actions []Action
	// OnAction, if set, sees every control the carrier carried out, on the
	// engine's goroutine; it must not block.
	OnAction func(Action)

	// Prompts counts information messages played (abandons).
	Prompts int64
	Hangups int64
}

// leg is a customer leg bridged to an agent.
type leg struct {
	until time.Time // when the customer hangs up
	held  bool
	muted bool
	party dialer.Target // the third party of a conference
}

// callerLegs are inbound callers waiting for an agent: bridge takes one to
// an agent and returns when they will hang up (delivering that through
// del), or false if they are gone.
type callerLegs interface {
	bridge(leg dialer.CallID, del Deliverer) (time.Time, bool)
}

// NewCarrier returns a carrier drawing outcomes from os and talk times from talk.
func NewCarrier(del Deliverer, seed uint64, os []Outcome, talk Dist) *Carrier {
	return &Carrier{
		del:      del,
		outcomes: compileOutcomes(os),
		talk:     talk.sampler(),
		dialRNG:  rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)),
		talkRNG:  rand.New(rand.NewPCG(seed, 0xbf58476d1ce4e5b9)),
		causeRNG: rand.New(rand.NewPCG(seed, 0x94d049bb133111eb)),
		legs:     map[dialer.CallID]*leg{},
	}
}

// SetOutcomes switches the population (a new phase of the day).
func (c *Carrier) SetOutcomes(os []Outcome) { c.outcomes = compileOutcomes(os) }

func (c *Carrier) Dial(_ context.Context, req dialer.DialRequest) error {
	u := c.dialRNG.Float64()
	o := &c.outcomes[len(c.outcomes)-1]
	for i := range c.outcomes {
		if u < c.outcomes[i].cum {
			o = &c.outcomes[i]
			break
		}
	}
	// Draw the delay even when unused so every dial consumes the same
	// number of values and runs stay aligned across policies.
	after := o.after.draw(c.dialRNG)
	var ev dialer.TrunkEvent
	switch o.kind {
	case okHuman:
		ev.Kind = dialer.TrunkAnsweredHuman
	case okMachine:
		ev.Kind = dialer.TrunkAnsweredMachine
	case okBusy:
		ev.Kind, ev.Cause = dialer.TrunkBusy, c.pick(dialer.CauseBusy, 9, dialer.CauseBusyEverywhere)
	case okFailed:
		ev.Kind, ev.Cause = dialer.TrunkFailed, c.pick(dialer.CauseCongestion, 3, dialer.CauseTemporaryFailure)
	case okInvalid:
		ev.Kind, ev.Cause = dialer.TrunkInvalidNumber, c.pick(dialer.CauseUnallocated, 3, dialer.CauseAddressIncomplete)
		if c.causeRNG.IntN(4) == 0 {
			ev.Cause = dialer.CauseDoesNotExist
		}
	case okNoAnswer:
		if after <= 0 {
			return nil // rings until the engine's ring timeout cancels it
		}
		// The carrier's own no-answer timer, when it is shorter than ours.
		ev.Kind, ev.Cause = dialer.TrunkNoAnswer, c.pick(dialer.CauseUnavailable, 1, dialer.CauseRequestTimeout)
	}
	if after >= req.RingTimeout {
		return nil // would answer after the engine gave up: a no-answer
	}
	ev.Call = req.Call
	c.del.DeliverTrunk(c.del.Now().Add(after), ev)
	return nil
}

// pick returns usual n times in n+1, else other, from the cause stream (so
// the dial and talk streams stay aligned across runs).
func (c *Carrier) pick(usual dialer.Cause, n int, other dialer.Cause) dialer.Cause {
	if c.causeRNG.IntN(n+1) < n {
		return usual
	}
	return other
}

func (c *Carrier) Bridge(_ context.Context, call dialer.CallID, _ agents.ID) error {
	now := c.del.Now()
	var until time.Time
	if c.in != nil && blend.IsInbound(call) {
		var ok bool
		if until, ok = c.in.bridge(call, c.del); !ok {
			return fmt.Errorf("bridge caller %d: %w: the caller has hung up", call, dialer.ErrTrunkRefused)
		}
	} else {
		until = now.Add(c.talk.draw(c.talkRNG))
		c.del.DeliverTrunk(until, dialer.TrunkEvent{Call: call, Kind: dialer.TrunkHungUp, Cause: dialer.CauseNormalClearing})
	}
	c.legs[call] = &leg{until: until}
	if c.bridges++; c.bridges%256 == 0 {
		c.sweep(now)
	}
	return nil
}

// sweep forgets legs whose customer has hung up.
func (c *Carrier) sweep(now time.Time) {
	for id, l := range c.legs {
		if !now.Before(l.until) {
			delete(c.legs, id)
		}
	}
}

func (c *Carrier) Play(context.Context, dialer.CallID, string) error {
	c.Prompts++
	return nil
}

func (c *Carrier) Hangup(_ context.Context, call dialer.CallID) error {
	c.Hangups++
	delete(c.legs, call)
	return nil
}
