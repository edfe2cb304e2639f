package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"time"
)

// Scenario is a calling population and a team of agents.
type Scenario struct {
	Name          string    `json:"name"`
	Agents        int       `json:"agents"`
	Hours         float64   `json:"hours"`
	WarmupMinutes *float64  `json:"warmup_minutes,omitempty"`
	Seed          uint64    `json:"seed"`
	Campaign      Campaign  `json:"campaign"`
	Outcomes      []Outcome `json:"outcomes"`
	Talk          Dist      `json:"talk_s"`
	Dispo         Dist      `json:"dispo_s"`
	AgentPause    *Pause    `json:"agent_pause,omitempty"`
	Phases        []Phase   `json:"phases,omitempty"`
	// Inbound, when set, adds callers to queues every agent serves; the
	// scenario then runs the inbound policies (InboundPolicies).
	Inbound *Inbound `json:"inbound,omitempty"`
}

// Campaign holds the campaign settings a scenario fixes.
type Campaign struct {
	AbandonTarget    float64 `json:"abandon_target"`
	RingTimeoutS     float64 `json:"ring_timeout_s"`
	ConnectDeadlineS float64 `json:"connect_deadline_s,omitempty"`
}

// Outcome is one way a dial can end, with its probability and delay.
type Outcome struct {
	Kind  string  `json:"kind"`
	P     float64 `json:"p"`
	After Dist    `json:"after_s"`
}

// Pause is the chance of an agent pausing after a call, and for how long.
type Pause struct {
	P     float64 `json:"p"`
	Pause Dist    `json:"pause_s"`
}

// Phase replaces the outcomes from StartH hours into the measured run.
type Phase struct {
	StartH   float64   `json:"start_h"`
	Outcomes []Outcome `json:"outcomes"`
}

// Dist is a distribution of seconds.
type Dist struct {
	Dist  string  `json:"dist"`
	Value float64 `json:"value,omitempty"`
	Mean  float64 `json:"mean,omitempty"`
	SD    float64 `json:"sd,omitempty"`
	Min   float64 `json:"min,omitempty"`
	Max   float64 `json:"max,omitempty"`
}

// LoadScenario reads and validates a scenario file.
func LoadScenario(path string) (*Scenario, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read scenario: %w", err)
	}
	return ParseScenario(b)
}

// ParseScenario decodes and validates a scenario; unknown fields are ignored
// so files can carry more than this version reads.
func ParseScenario(b []byte) (*Scenario, error) {
	var s Scenario
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("decode scenario: %w", err)
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("scenario %q: %w", s.Name, err)
	}
	return &s, nil
}

// DefaultPolicies are the policies `pacer sim` runs on the scenario: the
// inbound ones when it has inbound callers.
func (s *Scenario) DefaultPolicies() []string {
	if s.Inbound != nil {
		return InboundPolicies
	}
	return Policies
}

// Warmup is the simulated time before measuring starts.
func (s *Scenario) Warmup() time.Duration {
	m := 30.0
	if s.WarmupMinutes != nil {
		m = *s.WarmupMinutes
	}
	return time.Duration(m * float64(time.Minute))
}

// Validate checks the scenario is runnable.
func (s *Scenario) Validate() error {
	var errs []error
	if s.Name == "" {
		errs = append(errs, errors.New("name is required"))
	}
	if s.Agents < 1 {
		errs = append(errs, fmt.Errorf("agents %d must be at least 1", s.Agents))
	}
	if s.Hours <= 0 {
		errs = append(errs, fmt.Errorf("hours %g must be positive", s.Hours))
	}
	if s.WarmupMinutes != nil && *s.WarmupMinutes < 0 {
		errs = append(errs, fmt.Errorf("warmup_minutes %g must not be negative", *s.WarmupMinutes))
	}
	if t := s.Campaign.AbandonTarget; t <= 0 || t >= 1 {
		errs = append(errs, fmt.Errorf("campaign.abandon_target %g must be in (0, 1)", t))
	}
	if s.Campaign.RingTimeoutS < 15 {
		errs = append(errs, fmt.Errorf("campaign.ring_timeout_s %g is below the legal minimum 15", s.Campaign.RingTimeoutS))
	}
	if s.Campaign.ConnectDeadlineS < 0 {
		errs = append(errs, fmt.Errorf("campaign.connect_deadline_s %g must not be negative", s.Campaign.ConnectDeadlineS))
	}
	errs = append(errs, validateOutcomes("outcomes", s.Outcomes))
	for i, ph := range s.Phases {
		if ph.StartH < 0 {
			errs = append(errs, fmt.Errorf("phases[%d].start_h %g must not be negative", i, ph.StartH))
		}
		errs = append(errs, validateOutcomes(fmt.Sprintf("phases[%d].outcomes", i), ph.Outcomes))
	}
	errs = append(errs, s.Talk.validate("talk_s"), s.Dispo.validate("dispo_s"))
	if s.AgentPause != nil {
		if p := s.AgentPause.P; p < 0 || p > 1 {
			errs = append(errs, fmt.Errorf("agent_pause.p %g must be in [0, 1]", p))
		}
		errs = append(errs, s.AgentPause.Pause.validate("agent_pause.pause_s"))
	}
	if s.Inbound != nil {
		errs = append(errs, s.Inbound.validate())
	}
	return errors.Join(errs...)
}

var outcomeKinds = map[string]bool{"human": true, "machine": true, "busy": true, "failed": true, "no_answer": true,
	"invalid": true}

func validateOutcomes(where string, os []Outcome) error {
	if len(os) == 0 {
		return fmt.Errorf("%s: at least one outcome is required", where)
	}
	var errs []error
	var sum float64
	for i, o := range os {
		if !outcomeKinds[o.Kind] {
			errs = append(errs, fmt.Errorf("%s[%d]: unknown kind %q", where, i, o.Kind))
		}
		if o.P < 0 {
			errs = append(errs, fmt.Errorf("%s[%d]: p %g must not be negative", where, i, o.P))
		}
		sum += o.P
		if o.Kind != "no_answer" || o.After.Dist != "" {
			errs = append(errs, o.After.validate(fmt.Sprintf("%s[%d].after_s", where, i)))
		}
	}
	if math.Abs(sum-1) > 1e-6 {
		errs = append(errs, fmt.Errorf("%s: probabilities sum to %g, not 1", where, sum))
	}
	return errors.Join(errs...)
}

func (d Dist) validate(where string) error {
	switch d.Dist {
	case "const":
		if d.Value < 0 {
			return fmt.Errorf("%s: const value %g must not be negative", where, d.Value)
		}
	case "exp":
		if d.Mean <= 0 {
			return fmt.Errorf("%s: exp mean %g must be positive", where, d.Mean)
		}
	case "uniform":
		if d.Min < 0 || d.Max < d.Min {
			return fmt.Errorf("%s: uniform needs 0 ≤ min ≤ max, got [%g, %g]", where, d.Min, d.Max)
		}
	case "lognormal":
		if d.Mean <= 0 || d.SD < 0 {
			return fmt.Errorf("%s: lognormal needs mean > 0 and sd ≥ 0, got %g, %g", where, d.Mean, d.SD)
		}
	default:
		return fmt.Errorf("%s: unknown dist %q", where, d.Dist)
	}
	return nil
}

// sampler draws seconds from a Dist.
type sampler struct {
	kind      uint8
	a, b      float64
	mu, sigma float64
}

const (
	distConst uint8 = iota
	distExp
	distUniform
	distLognormal
)

func (d Dist) sampler() sampler {
	switch d.Dist {
	case "exp":
		return sampler{kind: distExp, a: d.Mean}
	case "uniform":
		return sampler{kind: distUniform, a: d.Min, b: d.Max}
	case "lognormal":
		s2 := math.Log(1 + (d.SD*d.SD)/(d.Mean*d.Mean))
		return sampler{kind: distLognormal, mu: math.Log(d.Mean) - s2/2, sigma: math.Sqrt(s2)}
	}
	return sampler{kind: distConst, a: d.Value}
}

func (s sampler) draw(r *rand.Rand) time.Duration {
	var x float64
	switch s.kind {
	case distConst:
		x = s.a
	case distExp:
		x = r.ExpFloat64() * s.a
	case distUniform:
		x = s.a + r.Float64()*(s.b-s.a)
	case distLognormal:
		x = math.Exp(s.mu + s.sigma*r.NormFloat64())
	}
	return time.Duration(x * float64(time.Second))
}
