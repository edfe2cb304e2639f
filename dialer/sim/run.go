package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/dialer/blend"
)

// Policies are the policy names Run accepts, in report order.
var Policies = []string{"predictive", "progressive", "vicidial_adaptive"}

// Result is one policy's measured run.
type Result struct {
	Policy              string  `json:"policy"`
	Occupancy           float64 `json:"occupancy"`
	Utilization         float64 `json:"utilization"`
	AbandonRate         float64 `json:"abandon_rate"`
	Dials               int64   `json:"dials"`
	LiveAnswers         int64   `json:"live_answers"`
	Abandons            int64   `json:"abandons"`
	TalkMinPerAgentHour float64 `json:"talk_min_per_agent_hour"`
	WallMS              float64 `json:"wall_ms"`
	// Beyond the required fields:
	DispoMinPerAgentHour float64 `json:"dispo_min_per_agent_hour"`
	IdleWaitPerCallS     float64 `json:"idle_wait_per_call_s"`
	DialsPerHour         float64 `json:"dials_per_hour"`
	AgentHours           float64 `json:"agent_hours"`
	AgentHoursPerWallSec float64 `json:"agent_hours_per_wall_s"`
	// With inbound callers: outbound calls connected to an agent per hour,
	// and the queues' figures (from the queue event log).
	OutboundTalksPerHour float64        `json:"outbound_talks_per_hour,omitempty"`
	Inbound              *InboundResult `json:"inbound,omitempty"`
}

// Report is the output of `pacer sim`.
type Report struct {
	Scenario string   `json:"scenario"`
	Results  []Result `json:"results"`
	// Ideal is the idealised bound of a scenario with inbound callers.
	Ideal *IdealBound `json:"ideal,omitempty"`
}

// Options adjust a run without editing the scenario.
type Options struct {
	// Hours overrides the measured length (0 keeps the scenario's).
	Hours float64
	// Predictive overrides the predictive policy's settings.
	Predictive dialer.PredictiveConfig
	// Calls, if set, receives every call record (tests use it to check
	// invariants call by call).
	Calls dialer.CallSink
}

// simStart is a Monday 08:00: the time of day matters to the VICIdial
// baseline's tapering towards its latest server time.
var simStart = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)

// RunAll runs each named policy on the scenario, one after the other.
func RunAll(ctx context.Context, sc *Scenario, policies []string, opt Options) (*Report, error) {
	rep := &Report{Scenario: sc.Name}
	for _, p := range policies {
		r, err := Run(ctx, sc, p, opt)
		if err != nil {
			return nil, err
		}
		rep.Results = append(rep.Results, r)
	}
	if sc.Inbound != nil {
		ideal, err := sc.Ideal()
		if err != nil {
			return nil, err
		}
		out := map[string]float64{}
		for _, r := range rep.Results {
			out[r.Policy] = r.OutboundTalksPerHour
		}
		b, okB := out["blended"]
		s, okS := out["split"]
		if okB && okS && ideal.Gain > 0 {
			ideal.Reached = (b - s) / ideal.Gain
		}
		rep.Ideal = ideal
	}
	return rep, nil
}

// NewPolicy builds a named policy for a scenario's campaign.
func NewPolicy(name string, sc *Scenario, opt Options) (dialer.Policy, error) {
	switch name {
	case "blended", "split", "vicidial_no_dial":
		return newInboundPolicy(name, sc, opt)
	case "progressive":
		return dialer.Power{Ratio: 1}, nil
	case "vicidial_adaptive":
		return &dialer.VicidialAdaptive{Target: sc.Campaign.AbandonTarget}, nil
	case "predictive":
		cfg := opt.Predictive
		cfg.Target = sc.Campaign.AbandonTarget
		cfg.RingTimeout = seconds(sc.Campaign.RingTimeoutS)
		return dialer.NewPredictive(cfg)
	}
	return nil, fmt.Errorf("unknown policy %q (want one of %s)", name, strings.Join(Policies, ", "))
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// simAgents plays the agents' side: it watches agent transitions and, after
// each call, saves the disposition after a drawn dispo time and sometimes
// pauses before going READY again.
type simAgents struct {
	ctx   context.Context
	in    *inboundSim // nil without inbound callers
	drv   *Driver
	dispo sampler
	pause *sampler
	pP    float64
	rng   *rand.Rand
}

func (s *simAgents) AppendTransition(t agents.Transition) {
	switch {
	case t.To == agents.Ringing && s.in != nil:
		s.in.ringing(s.ctx, t.Agent)
	case t.To == agents.Dispo && t.From == agents.InCall:
		d, inbound := time.Duration(0), false
		if s.in != nil {
			d, inbound = s.in.dispoFor(t.Agent)
		}
		if !inbound {
			d = s.dispo.draw(s.rng)
		}
		at := t.At.Add(d)
		if s.pause != nil && s.rng.Float64() < s.pP {
			s.drv.DeliverAgent(at, t.Agent, agents.Event{Kind: agents.EvPause, PauseCode: "BREAK"})
		}
		s.drv.DeliverAgent(at, t.Agent, agents.Event{Kind: agents.EvDispoSaved})
	case t.To == agents.Paused && t.From == agents.Dispo:
		s.drv.DeliverAgent(t.At.Add(s.pause.draw(s.rng)), t.Agent, agents.Event{Kind: agents.EvReady})
	}
}

// Run simulates one named policy on the scenario: warm-up, then the
// measured hours.
func Run(ctx context.Context, sc *Scenario, policy string, opt Options) (Result, error) {
	pol, err := NewPolicy(policy, sc, opt)
	if err != nil {
		return Result{}, err
	}
	return RunPolicy(ctx, sc, pol, opt)
}

// RunPolicy is Run with a policy the caller built (and may inspect after).
func RunPolicy(ctx context.Context, sc *Scenario, pol dialer.Policy, opt Options) (Result, error) {
	hours := sc.Hours
	if opt.Hours > 0 {
		hours = opt.Hours
	}
	wall := time.Now()

	drv := NewDriver(simStart)
	carrier := NewCarrier(drv, sc.Seed, sc.Outcomes, sc.Talk)
	sa := &simAgents{ctx: ctx, drv: drv, dispo: sc.Dispo.sampler(), rng: rand.New(rand.NewPCG(sc.Seed, 0x94d049bb133111eb))}
	ip, isInbound := pol.(*inboundPolicy)
	if isInbound != (sc.Inbound != nil) {
		if isInbound {
			return Result{}, fmt.Errorf("policy %s needs a scenario with inbound callers", pol.Name())
		}
		return Result{}, fmt.Errorf("a scenario with inbound callers runs the policies %s, not %s",
			strings.Join(InboundPolicies, ", "), pol.Name())
	}
	var in *inboundSim
	var inDeps dialer.Inbound
	if isInbound {
		var err error
		if in, err = newInboundSim(sc, drv, ip.mode, sc.Seed); err != nil {
			return Result{}, err
		}
		carrier.in, sa.in = in, in
		inDeps = blend.Engines{R: in.router}
	}
	if sc.AgentPause != nil && sc.AgentPause.P > 0 {
		ps := sc.AgentPause.Pause.sampler()
		sa.pause, sa.pP = &ps, sc.AgentPause.P
	}
	eng, err := dialer.NewEngine(dialer.Config{
		Campaign:        1,
		Mode:            dialer.ModeAuto,
		RingTimeout:     seconds(sc.Campaign.RingTimeoutS),
		ConnectDeadline: seconds(sc.Campaign.ConnectDeadlineS),
		AbandonTarget:   sc.Campaign.AbandonTarget,
	}, dialer.Deps{
		Scheduler: drv,
		Trunk:     carrier,
		Leads:     &dialer.SyntheticLeads{},
		Policy:    pol,
		AgentSink: sa,
		Calls:     opt.Calls,
		Inbound:   inDeps,
	})
	if err != nil {
		return Result{}, err
	}
	drv.Attach(eng)
	if err := eng.Start(ctx); err != nil {
		return Result{}, err
	}
	if in != nil {
		in.start(ctx, eng)
	}
	for i := 1; i <= sc.Agents; i++ {
		id := agents.ID(i)
		if err := eng.AddAgent(id, agents.Config{}); err != nil {
			return Result{}, err
		}
		drv.DeliverAgent(simStart, id, agents.Event{Kind: agents.EvLogin})
		drv.DeliverAgent(simStart, id, agents.Event{Kind: agents.EvReady})
	}

	measureStart := simStart.Add(sc.Warmup())
	end := measureStart.Add(time.Duration(hours * float64(time.Hour)))
	drv.onPhase = func(i int) { carrier.SetOutcomes(sc.Phases[i].Outcomes) }
	for i, ph := range sc.Phases {
		drv.schedulePhase(measureStart.Add(time.Duration(ph.StartH*float64(time.Hour))), i)
	}

	if err := drv.RunUntil(ctx, measureStart); err != nil {
		return Result{}, err
	}
	before := measure(eng, sc.Agents)
	if err := drv.RunUntil(ctx, end); err != nil {
		return Result{}, err
	}
	after := measure(eng, sc.Agents)
	elapsed := time.Since(wall)

	talk := (after.talk - before.talk).Hours()
	dispo := (after.dispo - before.dispo).Hours()
	wait := (after.wait - before.wait).Seconds()
	logged := (after.logged - before.logged).Hours()
	calls := after.calls - before.calls
	r := Result{
		Policy:      pol.Name(),
		Dials:       after.c.Dials - before.c.Dials,
		LiveAnswers: after.c.LiveAnswers - before.c.LiveAnswers,
		Abandons:    after.c.Abandons - before.c.Abandons,
		WallMS:      float64(elapsed.Microseconds()) / 1000,
		AgentHours:  logged,
	}
	if logged > 0 {
		r.Occupancy = (talk + dispo) / logged
		r.Utilization = talk / logged
		r.TalkMinPerAgentHour = 60 * talk / logged
		r.DispoMinPerAgentHour = 60 * dispo / logged
		r.DialsPerHour = float64(r.Dials) / hours
	}
	if r.LiveAnswers > 0 {
		r.AbandonRate = float64(r.Abandons) / float64(r.LiveAnswers)
	}
	if calls > 0 {
		r.IdleWaitPerCallS = wait / float64(calls)
	}
	if s := elapsed.Seconds(); s > 0 {
		r.AgentHoursPerWallSec = logged / s
	}
	if in != nil {
		r.OutboundTalksPerHour = float64(after.c.Connected-before.c.Connected) / hours
		r.Inbound = in.result(measureStart, end)
	}
	return r, nil
}

type totals struct {
	c                         dialer.Counters
	talk, dispo, wait, logged time.Duration
	calls                     int
}

func measure(e *dialer.Engine, n int) totals {
	t := totals{c: e.Counters()}
	for i := 1; i <= n; i++ {
		s := e.Agent(agents.ID(i)).Session()
		t.talk += s.Talk + s.Hold
		t.dispo += s.Dispo
		t.wait += s.Wait
		t.logged += s.LoggedIn()
		t.calls += s.Calls
	}
	return t
}

// WriteJSON writes the report as one JSON object.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the report for people.
func (r *Report) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "scenario %s\n", r.Scenario)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "policy\toccupancy\tutilization\tabandon\tdials\tlive\tabandons\ttalk min/agent-h\tidle s/call\twall ms\t")
	for _, x := range r.Results {
		fmt.Fprintf(tw, "%s\t%.1f%%\t%.1f%%\t%.2f%%\t%d\t%d\t%d\t%.1f\t%.1f\t%.0f\t\n",
			x.Policy, 100*x.Occupancy, 100*x.Utilization, 100*x.AbandonRate, x.Dials, x.LiveAnswers, x.Abandons,
			x.TalkMinPerAgentHour, x.IdleWaitPerCallS, x.WallMS)
	}
	return tw.Flush()
}
