package sim

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/dialer"
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
)

var outcomeKindByName = map[string]outcomeKind{"human": okHuman, "machine": okMachine, "busy": okBusy, "failed": okFailed, "no_answer": okNoAnswer}

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
// a connected customer hangs up after a drawn talk time. Deterministic for a
// given seed and sequence of requests.
type Carrier struct {
	del      Deliverer
	outcomes []compiledOutcome
	talk     sampler
	dialRNG  *rand.Rand
	talkRNG  *rand.Rand

	// Prompts counts information messages played (abandons).
	Prompts int64
	Hangups int64
}

// NewCarrier returns a carrier drawing outcomes from os and talk times from talk.
func NewCarrier(del Deliverer, seed uint64, os []Outcome, talk Dist) *Carrier {
	return &Carrier{
		del:      del,
		outcomes: compileOutcomes(os),
		talk:     talk.sampler(),
		dialRNG:  rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)),
		talkRNG:  rand.New(rand.NewPCG(seed, 0xbf58476d1ce4e5b9)),
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
	var kind dialer.TrunkEventKind
	switch o.kind {
	case okHuman:
		kind = dialer.TrunkAnsweredHuman
	case okMachine:
		kind = dialer.TrunkAnsweredMachine
	case okBusy:
		kind = dialer.TrunkBusy
	case okFailed:
		kind = dialer.TrunkFailed
	case okNoAnswer:
		return nil // rings until the engine's ring timeout cancels it
	}
	if after >= req.RingTimeout {
		return nil // would answer after the engine gave up: a no-answer
	}
	c.del.DeliverTrunk(c.del.Now().Add(after), dialer.TrunkEvent{Call: req.Call, Kind: kind})
	return nil
}

func (c *Carrier) Bridge(_ context.Context, call dialer.CallID, _ agents.ID) error {
	c.del.DeliverTrunk(c.del.Now().Add(c.talk.draw(c.talkRNG)), dialer.TrunkEvent{Call: call, Kind: dialer.TrunkHungUp})
	return nil
}

func (c *Carrier) Play(context.Context, dialer.CallID, string) error {
	c.Prompts++
	return nil
}

func (c *Carrier) Hangup(context.Context, dialer.CallID) error {
	c.Hangups++
	return nil
}
