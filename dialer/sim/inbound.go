package sim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/dialer/blend"
	"github.com/pacer-dialer/pacer/inbound"
)

// Inbound is a scenario's inbound traffic. Every agent serves every queue
// and the outbound campaign (the split policy makes a dedicated team of
// some of them).
type Inbound struct {
	Queues []InboundQueue `json:"queues"`
}

// InboundQueue is one queue's callers: Poisson arrivals, talk and wrap-up
// times, how long callers wait before hanging up, and the service-level
// goal.
type InboundQueue struct {
	Name            string  `json:"name"`
	Priority        int     `json:"priority"`
	ArrivalsPerHour float64 `json:"arrivals_per_hour"`
	Talk            Dist    `json:"talk_s"`
	Dispo           Dist    `json:"dispo_s"`
	Patience        Dist    `json:"patience_s"`
	SLThresholdS    float64 `json:"sl_threshold_s"`
	SLTarget        float64 `json:"sl_target"`
}

// InboundPolicies are the policies an inbound scenario runs, in report
// order: predictive outbound with the adaptive reserve; a dedicated inbound
// team sized by Erlang C with the rest predictive; predictive that stops
// dialling while any caller waits.
var InboundPolicies = []string{"blended", "split", "vicidial_no_dial"}

// acceptAfter is how long a simulated agent takes to accept an offer.
const acceptAfter = time.Second

func (in *Inbound) validate() error {
	if len(in.Queues) == 0 {
		return errors.New("inbound.queues: at least one queue is required")
	}
	var errs []error
	names := map[string]bool{}
	for i, q := range in.Queues {
		where := fmt.Sprintf("inbound.queues[%d]", i)
		if q.Name == "" || names[q.Name] {
			errs = append(errs, fmt.Errorf("%s.name %q must be set and unique", where, q.Name))
		}
		names[q.Name] = true
		if q.ArrivalsPerHour < 0 {
			errs = append(errs, fmt.Errorf("%s.arrivals_per_hour %g must not be negative", where, q.ArrivalsPerHour))
		}
		if q.SLThresholdS <= 0 {
			errs = append(errs, fmt.Errorf("%s.sl_threshold_s %g must be positive", where, q.SLThresholdS))
		}
		if q.SLTarget <= 0 || q.SLTarget > 1 {
			errs = append(errs, fmt.Errorf("%s.sl_target %g must be in (0, 1]", where, q.SLTarget))
		}
		errs = append(errs, q.Talk.validate(where+".talk_s"), q.Dispo.validate(where+".dispo_s"),
			q.Patience.validate(where+".patience_s"))
	}
	return errors.Join(errs...)
}

// load is the scenario's inbound traffic as one stream: arrivals per
// second, mean handle time (talk and wrap-up, weighted by arrivals) and the
// strictest service-level goal.
func (in *Inbound) load() (perSec, handleS, thresholdS, target float64) {
	var weighted float64
	for _, q := range in.Queues {
		perSec += q.ArrivalsPerHour / 3600
		weighted += q.ArrivalsPerHour * (q.Talk.mean() + q.Dispo.mean())
		if thresholdS == 0 || q.SLThresholdS < thresholdS {
			thresholdS = q.SLThresholdS
		}
		target = max(target, q.SLTarget)
	}
	if perSec > 0 {
		handleS = weighted / (perSec * 3600)
	}
	return
}

// SplitTeam is the dedicated inbound team of the split policy: the smallest
// that meets the service level by Erlang C, at most every agent.
func (s *Scenario) SplitTeam() int {
	perSec, handle, t, target := s.Inbound.load()
	return min(inbound.SmallestTeam(perSec, handle, t, target), s.Agents)
}

// inboundPolicy is the predictive policy run with the inbound router in one
// of its modes.
type inboundPolicy struct {
	*dialer.Predictive
	name string
	mode inbound.Mode
}

func (p *inboundPolicy) Name() string { return p.name }

func newInboundPolicy(name string, sc *Scenario, opt Options) (dialer.Policy, error) {
	mode := map[string]inbound.Mode{"blended": inbound.Blended, "split": inbound.Dedicated,
		"vicidial_no_dial": inbound.NoDialWhileWaiting}[name]
	cfg := opt.Predictive
	cfg.Target = sc.Campaign.AbandonTarget
	cfg.RingTimeout = seconds(sc.Campaign.RingTimeoutS)
	p, err := dialer.NewPredictive(cfg)
	if err != nil {
		return nil, err
	}
	return &inboundPolicy{Predictive: p, name: name, mode: mode}, nil
}

// caller is one simulated inbound caller: their queue, and the talk and
// wrap-up they will take, drawn when they arrive.
type caller struct {
	queue       int
	talk, dispo time.Duration
	waiting     bool // not yet with an agent, not gone
}

// inboundSim generates the callers and plays their side: arrivals,
// patience, talk; and runs the router on the virtual clock.
//
// Each queue draws its callers from streams of its own, one for the gaps
// between arrivals and one for each caller's patience, talk and wrap-up,
// all drawn at arrival: whatever the policy does, the same callers arrive
// at the same moments and would take as long (common random numbers), so
// the policies' figures differ by the policies, not by the draw.
type inboundSim struct {
	sc     *Inbound
	drv    *Driver
	eng    *dialer.Engine
	router *inbound.Router
	// gaps and draws are each queue's streams.
	gaps, draws []*rand.Rand
	talk        []sampler
	dispo       []sampler
	patient     []sampler
	callers     map[dialer.CallID]*caller
	next        inbound.CallKey
	events      []inbound.Event
	// agentDispo is the wrap-up of each agent's inbound call, until it
	// starts.
	agentDispo map[agents.ID]time.Duration
}

func newInboundSim(sc *Scenario, drv *Driver, mode inbound.Mode, seed uint64) (*inboundSim, error) {
	s := &inboundSim{
		sc:         sc.Inbound,
		drv:        drv,
		callers:    map[dialer.CallID]*caller{},
		next:       blend.Key(blend.LegBase),
		agentDispo: map[agents.ID]time.Duration{},
	}
	r, err := inbound.NewRouter(inbound.Config{Mode: mode}, inbound.Deps{Notify: s, Line: s, Log: s})
	if err != nil {
		return nil, err
	}
	s.router = r
	team := sc.Agents
	if mode == inbound.Dedicated {
		team = sc.SplitTeam()
	}
	for i, q := range sc.Inbound.Queues {
		id := inbound.QueueID(i + 1)
		var members []inbound.Member
		for a := 1; a <= team; a++ {
			members = append(members, inbound.Member{Queue: id, Agent: agents.ID(a), Level: 1})
		}
		if err := r.SetQueue(inbound.Queue{ID: id, Name: q.Name, Priority: q.Priority,
			SLThreshold: seconds(q.SLThresholdS), SLTarget: q.SLTarget, RingTime: 30 * time.Second,
			NoAgents: inbound.Fallback{Action: inbound.ActionWait}}, members); err != nil {
			return nil, err
		}
		r.SetDID(q.Name, id)
		s.talk = append(s.talk, q.Talk.sampler())
		s.dispo = append(s.dispo, q.Dispo.sampler())
		s.patient = append(s.patient, q.Patience.sampler())
		s.gaps = append(s.gaps, rand.New(rand.NewPCG(seed, 0x2545f4914f6cdd1d+uint64(2*i))))
		s.draws = append(s.draws, rand.New(rand.NewPCG(seed, 0x2545f4914f6cdd1d+uint64(2*i+1))))
	}
	if mode == inbound.Dedicated {
		for a := 1; a <= team; a++ {
			r.SetDedicated(agents.ID(a), true)
		}
	}
	return s, nil
}

// start schedules each queue's first arrival and the router's clock.
func (s *inboundSim) start(ctx context.Context, eng *dialer.Engine) {
	s.eng = eng
	for i := range s.sc.Queues {
		s.scheduleArrival(ctx, i)
	}
	var tick func()
	tick = func() {
		s.router.Advance(s.drv.Now())
		s.drv.DeliverFunc(s.drv.Now().Add(time.Second), tick)
	}
	s.drv.DeliverFunc(s.drv.Now().Add(time.Second), tick)
}

func (s *inboundSim) scheduleArrival(ctx context.Context, q int) {
	rate := s.sc.Queues[q].ArrivalsPerHour / 3600
	if rate <= 0 {
		return
	}
	gap := time.Duration(s.gaps[q].ExpFloat64() / rate * float64(time.Second))
	s.drv.DeliverFunc(s.drv.Now().Add(gap), func() {
		s.arrive(q)
		s.scheduleArrival(ctx, q)
	})
}

func (s *inboundSim) arrive(q int) {
	s.next++
	key := s.next
	leg := blend.Leg(key)
	c, patience := s.newCaller(q)
	s.callers[leg] = c
	now := s.drv.Now()
	if err := s.router.Arrive(inbound.Arrival{Call: key, DID: s.sc.Queues[q].Name,
		From: fmt.Sprintf("+1555%07d", int64(key)%10_000_000)}, now); err != nil {
		delete(s.callers, leg)
		return
	}
	s.drv.DeliverFunc(now.Add(patience), func() {
		if c.waiting {
			c.waiting = false
			delete(s.callers, leg)
			s.router.HungUp(key, s.drv.Now())
		}
	})
}

// newCaller draws a caller of queue q from the queue's stream: how long
// they will talk and wrap up, and how long they wait before hanging up.
func (s *inboundSim) newCaller(q int) (*caller, time.Duration) {
	rng := s.draws[q]
	patience := s.patient[q].draw(rng)
	return &caller{queue: q, talk: s.talk[q].draw(rng), dispo: s.dispo[q].draw(rng), waiting: true}, patience
}

// Poke is the router asking the engine to claim a call for the agent.
func (s *inboundSim) Poke(agent agents.ID) {
	s.drv.DeliverFunc(s.drv.Now(), func() { s.eng.PokeInbound(context.Background(), agent) })
}

// Withdraw is the router taking an offer back.
func (s *inboundSim) Withdraw(agent agents.ID, call inbound.CallKey) {
	s.drv.DeliverFunc(s.drv.Now(), func() { s.eng.WithdrawInbound(context.Background(), agent, blend.Leg(call)) })
}

// Dismiss is the router sending a caller away (closed, no agents).
func (s *inboundSim) Dismiss(call inbound.CallKey, _ string) {
	if c, ok := s.callers[blend.Leg(call)]; ok {
		c.waiting = false
		delete(s.callers, blend.Leg(call))
	}
}

// Append keeps the queue event log.
func (s *inboundSim) Append(ev inbound.Event) { s.events = append(s.events, ev) }

// ringing is told of an agent rung with an inbound call: the simulated
// agent accepts it after acceptAfter if it still rings them.
func (s *inboundSim) ringing(ctx context.Context, id agents.ID) {
	off, ok := s.eng.InboundOffered(id)
	if !ok {
		return
	}
	s.drv.DeliverFunc(s.drv.Now().Add(acceptAfter), func() {
		cur, ok := s.eng.InboundOffered(id)
		if !ok || cur.Leg != off.Leg {
			return
		}
		err := s.eng.HandleAgent(ctx, id, agents.Event{Kind: agents.EvAccept})
		if err == nil {
			if c, ok := s.callers[off.Leg]; ok {
				s.agentDispo[id] = c.dispo
				delete(s.callers, off.Leg) // with an agent: nothing more to play for them
			}
		}
	})
}

// bridge is the carrier bridging an inbound caller to an agent: they talk
// for a drawn time, then hang up.
func (s *inboundSim) bridge(leg dialer.CallID, del Deliverer) (time.Time, bool) {
	c, ok := s.callers[leg]
	if !ok || !c.waiting {
		return time.Time{}, false
	}
	c.waiting = false
	until := del.Now().Add(c.talk)
	del.DeliverTrunk(until, dialer.TrunkEvent{Call: leg, Kind: dialer.TrunkHungUp, Cause: dialer.CauseNormalClearing})
	return until, true
}

// dispoFor draws the wrap-up of the agent's inbound call, if their call was
// one.
func (s *inboundSim) dispoFor(id agents.ID) (time.Duration, bool) {
	d, ok := s.agentDispo[id]
	if !ok {
		return 0, false
	}
	delete(s.agentDispo, id)
	return d, true
}

func (d Dist) mean() float64 {
	switch d.Dist {
	case "exp", "lognormal":
		return d.Mean
	case "uniform":
		return (d.Min + d.Max) / 2
	}
	return d.Value
}

// InboundResult is the queues' figures over the measured hours, all queues
// together, computed from the queue event log (inbound.Compute). The
// service level is the share answered within the threshold among callers
// answered or abandoned after it (inbound.Figures.SLOffered).
type InboundResult struct {
	Offered        int     `json:"offered"`
	Answered       int     `json:"answered"`
	Abandoned      int     `json:"abandoned"`
	ServiceLevel   float64 `json:"service_level"`
	SLIntervalsMet float64 `json:"sl_intervals_met"`
	ASAS           float64 `json:"asa_s"`
	// Intervals is how many 30-minute intervals had data for
	// SLIntervalsMet.
	Intervals int `json:"intervals"`
}

// slSum adds figures of several queues up for one service level.
type slSum struct{ within, answered, abandonedAfter int }

func (s *slSum) add(f inbound.Figures) {
	s.within += f.AnsweredWithin
	s.answered += f.Answered
	s.abandonedAfter += f.AbandonedAfter
}

func (s slSum) level() (float64, bool) {
	d := s.answered + s.abandonedAfter
	if d == 0 {
		return 0, false
	}
	return float64(s.within) / float64(d), true
}

// result computes the figures of the callers who entered in [from, to).
func (s *inboundSim) result(from, to time.Time) *InboundResult {
	thresholds := map[inbound.QueueID]time.Duration{}
	target := 0.0
	for i, q := range s.sc.Queues {
		thresholds[inbound.QueueID(i+1)] = seconds(q.SLThresholdS)
		target = max(target, q.SLTarget)
	}
	r := &InboundResult{}
	var all slSum
	var waited time.Duration
	for _, f := range inbound.Compute(s.events, thresholds, from, to, to) {
		r.Offered += f.Offered
		r.Answered += f.Answered
		r.Abandoned += f.Abandoned
		waited += f.ASA * time.Duration(f.Answered)
		all.add(f)
	}
	r.ServiceLevel, _ = all.level()
	if r.Answered > 0 {
		r.ASAS = (waited / time.Duration(r.Answered)).Seconds()
	}
	var per []slSum
	for _, ivs := range inbound.Intervals(s.events, thresholds, from, to, 30*time.Minute) {
		for i, iv := range ivs {
			if !iv.Start.Before(to) {
				continue
			}
			for len(per) <= i {
				per = append(per, slSum{})
			}
			per[i].add(iv.Figures)
		}
	}
	met := 0
	for _, p := range per {
		if sl, ok := p.level(); ok {
			r.Intervals++
			if sl >= target {
				met++
			}
		}
	}
	if r.Intervals > 0 {
		r.SLIntervalsMet = float64(met) / float64(r.Intervals)
	}
	return r
}

// IdealBound is the idealised comparison of the reserve rule with a split
// team for a scenario (inbound.Ideal: exponential times, no dial delays, no
// abandonment, outbound work always at hand), and how much of its gain the
// real engine reached.
type IdealBound struct {
	SplitTeam            int     `json:"split_team"`
	SplitOutboundPerHour float64 `json:"split_outbound_per_hour"`
	BlendReserve         int     `json:"blend_reserve"`
	BlendOutboundPerHour float64 `json:"blend_outbound_per_hour"`
	Gain                 float64 `json:"gain"`
	// Reached is (blended − split) outbound talks per hour of the engine's
	// runs ÷ Gain; set when both policies ran.
	Reached float64 `json:"reached,omitempty"`
}

// Ideal computes the scenario's idealised bound: the scenario's team,
// inbound load and service level, and the outbound handle time of a
// connected call (talk and wrap-up).
func (s *Scenario) Ideal() (*IdealBound, error) {
	perSec, handle, t, target := s.Inbound.load()
	res, err := inbound.Ideal(inbound.IdealInput{Agents: s.Agents, ArrivalsPerHour: perSec * 3600,
		InboundHandleSec: handle, OutboundHandleSec: s.Talk.mean() + s.Dispo.mean(), ThresholdSec: t, Target: target})
	if err != nil {
		return nil, fmt.Errorf("idealised bound: %w", err)
	}
	return &IdealBound{SplitTeam: res.SplitTeam, SplitOutboundPerHour: res.SplitOutboundPerHour,
		BlendReserve: res.BlendReserve, BlendOutboundPerHour: res.BlendOutboundPerHour, Gain: res.Gain}, nil
}
