package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"

	"github.com/pacer-dialer/pacer/dialer"
)

// Realtime configures the simulated carrier and simulated agents that
// `pacer serve` runs in real time, so calls flow without a SIP carrier. The
// distributions are the scenario file's (seconds).
type Realtime struct {
	// Seed makes runs repeatable; 0 draws a new seed for every campaign
	// loop and every set of agents.
	Seed     uint64    `json:"seed"`
	Outcomes []Outcome `json:"outcomes"`
	// RingAfter is when the far end starts ringing; an answer, busy or
	// failure drawn earlier simply comes first.
	RingAfter Dist `json:"ring_after_s"`
	// CustomerTalk is how long a connected customer stays before hanging up.
	CustomerTalk Dist `json:"customer_talk_s"`
	// AgentTalk is how long a simulated agent talks before hanging up
	// (whoever hangs up first ends the call).
	AgentTalk Dist `json:"agent_talk_s"`
	// Dispo is the time from call end to the saved disposition.
	Dispo Dist `json:"dispo_s"`
	// LoginReady is the time from login to the first READY.
	LoginReady Dist `json:"login_ready_s"`
	// Codes are the dispositions simulated agents pick, with weights.
	Codes []Code `json:"codes"`
	// Pause is the chance of a break after a call, and its length.
	Pause *Pause `json:"agent_pause,omitempty"`
	// CallerTalk and CallerPatience are the simulated inbound callers'
	// (Callers): how long one talks once an agent takes them, and how long
	// one waits before hanging up; unset keeps CallersConfig's defaults.
	CallerTalk     Dist `json:"caller_talk_s,omitzero"`
	CallerPatience Dist `json:"caller_patience_s,omitzero"`
	// OnDial, if set, sees every dial the carrier is sent, with the caller
	// ID and ring timeout the engine sent it with, as a real carrier would.
	// It runs on the campaign loop's goroutine and must not block. Not read
	// from the settings file: it is for tests and tools built on serve.
	OnDial func(campaign dialer.CampaignID, req dialer.DialRequest) `json:"-"`
	// OnAction, if set, sees every call control the carrier carries out
	// (hold, mute, DTMF, transfer...), on the loop's goroutine; it must not
	// block. For tests, like OnDial.
	OnAction func(campaign dialer.CampaignID, a Action) `json:"-"`
}

// Code is a disposition and how often simulated agents choose it.
type Code struct {
	Code string  `json:"code"`
	P    float64 `json:"p"`
}

// DemoRealtime is the default of `pacer serve`: four dials in ten reach a
// person within seconds (a friendlier list than most, so the demo is
// lively), agents talk 20–60 s and take a few seconds to disposition, so a
// handful of agents keeps calls visibly flowing.
func DemoRealtime() Realtime {
	u := func(lo, hi float64) Dist { return Dist{Dist: "uniform", Min: lo, Max: hi} }
	return Realtime{
		Outcomes: []Outcome{
			{Kind: "human", P: 0.40, After: u(3, 10)},
			{Kind: "machine", P: 0.22, After: u(4, 10)},
			{Kind: "busy", P: 0.12, After: u(2, 5)},
			{Kind: "failed", P: 0.04, After: u(1, 3)},
			{Kind: "invalid", P: 0.02, After: u(1, 2)},
			{Kind: "no_answer", P: 0.20},
		},
		RingAfter:    u(1, 3),
		CustomerTalk: Dist{Dist: "lognormal", Mean: 80, SD: 40},
		AgentTalk:    u(20, 60),
		Dispo:        u(3, 10),
		LoginReady:   u(1, 3),
		Codes: []Code{
			{Code: "NI", P: 0.45}, {Code: "CALLBK", P: 0.20}, {Code: "SALE", P: 0.10},
			{Code: "AM", P: 0.10}, {Code: "WN", P: 0.08}, {Code: "DNC", P: 0.07},
		},
		Pause: &Pause{P: 0.05, Pause: u(20, 60)},
	}
}

// LoadRealtime reads a JSON file over the demo defaults: fields the file
// leaves out keep their default.
func LoadRealtime(path string) (Realtime, error) {
	r := DemoRealtime()
	b, err := os.ReadFile(path)
	if err != nil {
		return r, fmt.Errorf("read simulation settings: %w", err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("decode simulation settings %s: %w", path, err)
	}
	if err := r.Validate(); err != nil {
		return r, fmt.Errorf("simulation settings %s: %w", path, err)
	}
	return r, nil
}

// WithAnswerRate sets the share of dials answered by a person, scaling the
// other outcomes to fill the rest.
func (r Realtime) WithAnswerRate(p float64) (Realtime, error) {
	if p < 0 || p > 1 {
		return r, fmt.Errorf("answer rate %g must be in [0, 1]", p)
	}
	var human, rest float64
	for _, o := range r.Outcomes {
		if o.Kind == "human" {
			human += o.P
		} else {
			rest += o.P
		}
	}
	if human == 0 {
		return r, errors.New("the outcomes have no human answers to scale")
	}
	out := make([]Outcome, len(r.Outcomes))
	for i, o := range r.Outcomes {
		switch {
		case o.Kind == "human":
			o.P = p * o.P / human
		case rest > 0:
			o.P = (1 - p) * o.P / rest
		}
		out[i] = o
	}
	r.Outcomes = out
	return r, r.Validate()
}

// Validate checks the settings are usable.
func (r Realtime) Validate() error {
	errs := []error{validateOutcomes("outcomes", r.Outcomes), r.RingAfter.validate("ring_after_s"),
		r.CustomerTalk.validate("customer_talk_s"), r.AgentTalk.validate("agent_talk_s"), r.Dispo.validate("dispo_s"),
		r.LoginReady.validate("login_ready_s")}
	var sum float64
	for i, c := range r.Codes {
		if c.Code == "" || c.P < 0 {
			errs = append(errs, fmt.Errorf("codes[%d]: needs a code and a non-negative p", i))
		}
		sum += c.P
	}
	if len(r.Codes) == 0 || math.Abs(sum-1) > 1e-6 {
		errs = append(errs, fmt.Errorf("codes: probabilities sum to %g, not 1", sum))
	}
	if r.CallerTalk.Dist != "" {
		errs = append(errs, r.CallerTalk.validate("caller_talk_s"))
	}
	if r.CallerPatience.Dist != "" {
		errs = append(errs, r.CallerPatience.validate("caller_patience_s"))
	}
	if r.Pause != nil {
		if r.Pause.P < 0 || r.Pause.P > 1 {
			errs = append(errs, fmt.Errorf("agent_pause.p %g must be in [0, 1]", r.Pause.P))
		}
		errs = append(errs, r.Pause.Pause.validate("agent_pause.pause_s"))
	}
	return errors.Join(errs...)
}

// Trunk returns a simulated carrier for one campaign, delivering its events
// through del (the campaign's loop). Each campaign gets its own seeded
// streams. Like any trunk it is used from the loop's goroutine only.
func (r Realtime) Trunk(campaign dialer.CampaignID, del dialer.TrunkDeliverer) dialer.Trunk {
	seed := r.seed() ^ uint64(campaign)*0x9e3779b97f4a7c15
	carrier := NewCarrier(del, seed, r.Outcomes, r.CustomerTalk)
	if r.OnAction != nil {
		carrier.OnAction = func(a Action) { r.OnAction(campaign, a) }
	}
	return &ringingCarrier{
		Carrier:  carrier,
		del:      del,
		ring:     r.RingAfter.sampler(),
		rng:      rand.New(rand.NewPCG(seed, 0x2545f4914f6cdd1d)),
		campaign: campaign,
		onDial:   r.OnDial,
	}
}

func (r Realtime) seed() uint64 {
	if r.Seed == 0 {
		return rand.Uint64()
	}
	return r.Seed
}

// ringingCarrier adds the far end's ringing, which the virtual-time
// simulator does not need but a call record does.
type ringingCarrier struct {
	*Carrier
	del  dialer.TrunkDeliverer
	ring sampler
	rng  *rand.Rand

	campaign dialer.CampaignID
	onDial   func(dialer.CampaignID, dialer.DialRequest)
}

func (c *ringingCarrier) Dial(ctx context.Context, req dialer.DialRequest) error {
	if c.onDial != nil {
		c.onDial(c.campaign, req)
	}
	c.del.DeliverTrunk(c.del.Now().Add(c.ring.draw(c.rng)), dialer.TrunkEvent{Call: req.Call, Kind: dialer.TrunkRinging})
	return c.Carrier.Dial(ctx, req)
}

var _ dialer.Trunk = (*ringingCarrier)(nil)

// pickCode draws a disposition code.
func (r *Realtime) pickCode(rng *rand.Rand) string {
	u := rng.Float64()
	for _, c := range r.Codes {
		if u < c.P {
			return c.Code
		}
		u -= c.P
	}
	return r.Codes[len(r.Codes)-1].Code
}
