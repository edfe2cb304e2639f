package dialer

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// PredictiveConfig tunes the predictive policy. Zero values take defaults.
type PredictiveConfig struct {
	// Target is the campaign's abandon target (default 0.03).
	Target float64
	// Margin is the fraction of the target kept in reserve against noise:
	// the controller aims at Target × (1 − Margin) (default 0.1).
	Margin float64
	// RingTimeout bounds the answer-delay model (default 25 s).
	RingTimeout time.Duration
	// ConnectDeadline credits agents freed this long after an answer as
	// still in time (default 0). The true deadline is 2 s, but crediting it
	// measured about half a point of occupancy worse on the Markov
	// scenarios: the policy then bets on races it often loses, and the
	// feedback must lower θ for every state to pay for them.
	ConnectDeadline time.Duration
	// DialWindow, TalkWindow and WrapWindow are how many recent
	// observations the estimates use (defaults 1000 each). Shorter windows
	// follow drifting answer rates faster but are noisier: on the Markov
	// scenarios 500 cost about 0.4 points of occupancy against 1000, while
	// the drifting scenarios still held the target at 1000.
	DialWindow, TalkWindow, WrapWindow int
	// Points is the number of quadrature points over a new call's
	// answer-delay distribution (default 8).
	Points int
	// Gain is the feedback gain on the log of the risk threshold per live
	// answer (default 0.05).
	Gain float64
	// RebuildEvery is how often (engine time) the distribution tables are
	// refreshed when new observations arrived (default 2 min).
	RebuildEvery time.Duration
}

// WithDefaults fills unset fields.
func (c PredictiveConfig) WithDefaults() PredictiveConfig {
	if c.Target == 0 {
		c.Target = 0.03
	}
	if c.Margin == 0 {
		c.Margin = 0.1
	}
	if c.RingTimeout == 0 {
		c.RingTimeout = 25 * time.Second
	}
	if c.DialWindow == 0 {
		c.DialWindow = 1000
	}
	if c.TalkWindow == 0 {
		c.TalkWindow = 1000
	}
	if c.WrapWindow == 0 {
		c.WrapWindow = 1000
	}
	if c.Points == 0 {
		c.Points = 8
	}
	if c.Gain == 0 {
		c.Gain = 0.05
	}
	if c.RebuildEvery == 0 {
		c.RebuildEvery = 2 * time.Minute
	}
	return c
}

// Predictive is the model-based pacing policy.
//
// From recent dial outcomes it estimates p, the probability that a dial is
// answered by a person, and the distribution of the time to that answer;
// from recent talk and wrap-up (call end → READY) times it estimates, for
// each busy agent given how long they have been talking or wrapping, the
// probability of being free at any time in the next few seconds. For the
// k-th extra call it could place now, it integrates over that call's answer
// time τ the probability that, when it answers, the agents free by τ (those
// READY now plus those freed by τ) are all taken by earlier answers (calls
// in flight, weighted by their conditional answer probability given their
// age, plus the k−1 other new calls). The free-agent and answer counts are
// sums of independent Bernoullis, approximated as normal. It places calls
// while that abandon risk stays below a threshold θ.
//
// θ is tuned by feedback on the realised rate: each live answer moves log θ
// up by Gain × target′ and each abandon moves it down by Gain × (1 −
// target′), so the long-run abandon rate settles at target′ = Target × (1 −
// Margin) whatever the model's bias; the model decides where the risk is
// taken (which states), the feedback decides how much. When the remaining
// budget (target × live answers − abandons over the legal window, restored
// from history by the engine) is below one abandon, it falls back to power
// 1.0.
//
// On a team that also takes inbound callers, agents on inbound calls free
// on a clock of their own, learned apart (InboundObserver); callers waiting
// take the next free agents, and callers arriving before an answer take
// free agents too (Poisson at the live rate). The blending reserve c is
// the reservation rule on the forecast: a call is placed only while the
// free count expected at its answer, less the agent it takes, is at least
// c. Both the abandon risk and c then see the same agents. While a caller
// waits and c > 0, it places no new call beyond power 1.0's.
type Predictive struct {
	cfg PredictiveConfig
	m   model

	logTheta float64
	fallback bool
	learning bool

	// per-decision scratch, reused
	muD, vD, muN, vN []float64
}

// Validate rejects settings the policy cannot work with.
func (c PredictiveConfig) Validate() error {
	var errs []error
	if c.Target <= 0 || c.Target >= 1 {
		errs = append(errs, fmt.Errorf("target %g must be in (0, 1)", c.Target))
	}
	if c.Margin < 0 || c.Margin >= 1 {
		errs = append(errs, fmt.Errorf("margin %g must be in [0, 1)", c.Margin))
	}
	if c.RingTimeout < MinRingTimeout {
		errs = append(errs, fmt.Errorf("ring timeout %s is below the legal minimum %s", c.RingTimeout, MinRingTimeout))
	}
	if c.DialWindow < minDials || c.TalkWindow < minTalks || c.WrapWindow < 1 {
		errs = append(errs, fmt.Errorf("windows (%d, %d, %d) must hold at least %d dials, %d talks and one wrap-up", c.DialWindow, c.TalkWindow, c.WrapWindow, minDials, minTalks))
	}
	if c.Points < 1 || c.Points > 64 {
		errs = append(errs, fmt.Errorf("points %d must be in [1, 64]", c.Points))
	}
	if c.Gain <= 0 {
		errs = append(errs, fmt.Errorf("gain %g must be positive", c.Gain))
	}
	return errors.Join(errs...)
}

// NewPredictive returns a cold-started predictive policy.
func NewPredictive(cfg PredictiveConfig) (*Predictive, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("predictive config: %w", err)
	}
	p := &Predictive{cfg: cfg}
	p.m.init(cfg)
	p.logTheta = math.Log(cfg.Target * (1 - cfg.Margin))
	n := cfg.Points
	p.muD, p.vD, p.muN, p.vN = make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	return p, nil
}

func (p *Predictive) Name() string { return "predictive" }

// Retune takes a running campaign's new abandon target and ring timeout and
// keeps everything learned: the answer, talk and wrap-up estimates, and the
// threshold θ, moved by the ratio of the new target to the old (θ starts at
// the target and its feedback only corrects the model's bias, which a new
// target does not change). It reports false, changing nothing, when cfg is
// invalid or differs in any other setting: those take a new policy.
func (p *Predictive) Retune(cfg PredictiveConfig) bool {
	cfg = cfg.WithDefaults()
	if cfg.Validate() != nil {
		return false
	}
	same := cfg
	same.Target, same.RingTimeout = p.cfg.Target, p.cfg.RingTimeout
	if same != p.cfg {
		return false
	}
	if cfg.Target != p.cfg.Target {
		p.logTheta += math.Log(cfg.Target / p.cfg.Target)
		p.logTheta = min(max(p.logTheta, math.Log(1e-4)), math.Log(0.5))
	}
	ring := cfg.RingTimeout != p.cfg.RingTimeout
	p.cfg = cfg
	p.m.cfg = cfg
	if ring {
		p.m.sizeDial()
		p.m.rebuild()
	}
	return true
}

// Threshold is the current per-call abandon-risk threshold θ.
func (p *Predictive) Threshold() float64 { return math.Exp(p.logTheta) }

// InFallback reports whether the last decision fell back to power 1.0.
func (p *Predictive) InFallback() bool { return p.fallback }

// Warmup is how far the policy is in learning the campaign.
type Warmup struct {
	// Learning: fewer than NeedDials dials or NeedTalks talks observed;
	// the pacing leans on the warm-up priors and a smaller risk threshold.
	Learning             bool
	Dials, Talks         int
	NeedDials, NeedTalks int
}

// Warmup reports how far the policy is in learning the campaign.
func (p *Predictive) Warmup() Warmup {
	d, t := p.m.dial.count(), p.m.out.talk.count()
	return Warmup{Learning: d < minDials || t < minTalks, Dials: d, Talks: t, NeedDials: minDials, NeedTalks: minTalks}
}

// LiveProbability is the current estimate of p.
func (p *Predictive) LiveProbability() float64 { return p.m.p }

func (p *Predictive) Decide(s *Snapshot) int {
	m := &p.m
	base := powerLines(1, s)
	if lam := s.InboundPerSec; lam > 0 {
		// Power 1.0, the floor and the fallback that must not abandon,
		// abandons when a caller takes the READY agent its call was
		// placed for: hold back the callers expected before a live
		// answer (mean delay, rounded up), where the reserve does not
		// already (with c = 0 it holds none).
		mean := 0.0
		for _, t := range m.tau {
			mean += t / float64(len(m.tau))
		}
		if held, c := int(math.Ceil(lam*mean)), s.Reserve-s.InboundWaiting; held > c {
			base -= held - c
		}
	}
	p.fallback = s.Budget.Remaining < 1
	if p.fallback {
		return base
	}
	if s.InboundWaiting > 0 && s.Reserve > s.InboundWaiting {
		// A caller waits and inbound needs agents kept free (c > 0): no
		// new outbound work until they are taken. The optimal blending
		// policy has this shape (Bhulai & Koole 2003: outbound only
		// while no caller waits and more than c agents are free), and
		// here it matters the more as an answered outbound call takes
		// a freed agent before a waiting caller does (the 2-second
		// rule): every call placed while someone waits may push them
		// past the threshold, which the reserve could only buy back
		// with agents kept idle all the time. With c = 0 the queue
		// meets its aim on the dialer's own slack, and waiting callers
		// only count as taking the next free agents.
		return base
	}
	// Until the estimates rest on enough calls of this campaign (its
	// history counts), the conservative warm-up priors do part of the
	// pacing, and the risk threshold is cut by up to warmupTheta: a cold start
	// that over-dials spends the budget in minutes and then depresses θ
	// for hours. The tables are rebuilt sooner meanwhile, as every few
	// calls move the estimates.
	p.learning = m.dial.count() < minDials || m.out.talk.count() < minTalks
	every := p.cfg.RebuildEvery
	if p.learning {
		every = min(every, warmupRebuildEvery)
	}
	if m.fresh >= rebuildAfter && !s.Now.Before(m.nextRebuild) {
		m.rebuild()
		m.nextRebuild = s.Now.Add(every)
	}
	M := len(m.tau)
	clear(p.muD)
	clear(p.vD)
	clear(p.muN)
	clear(p.vN)
	for _, b := range s.Busy {
		bm := &m.out
		if b.Inbound {
			bm = &m.in
		}
		var row []float64
		if b.Talking {
			row = bm.qTalk.row(b.Age)
		} else {
			row = bm.qWrap.row(b.Age)
		}
		for j, q := range row {
			p.muD[j] += q
			p.vD[j] += q * (1 - q)
		}
	}
	for _, age := range s.InFlight {
		a := min(age.Seconds(), m.dialAgeCap)
		gl, gone := m.liveCDF.at(a), m.otherCDF.at(a)
		alive := 1 - m.p*gl - (1-m.p)*gone
		if alive <= 1e-9 {
			continue
		}
		for j := range M {
			l := m.p * (m.liveCDF.at(a+m.tau[j]) - gl) / alive
			p.muN[j] += l
			p.vN[j] += l * (1 - l)
		}
	}
	theta := math.Exp(p.logTheta)
	// The cut fades with the warm-up priors, so the step to a trained
	// model is no jump in lines.
	warm := max(warmShare(m.dial.count(), minDials), warmShare(m.out.talk.count(), minTalks))
	theta *= 1 - (1-warmupTheta)*warm
	// Inbound callers arriving before τ_j take agents an answer would
	// need (Poisson, so their count's variance is its mean).
	if lam := s.InboundPerSec; lam > 0 {
		for j := range M {
			p.muN[j] += lam * m.tau[j]
			p.vN[j] += lam * m.tau[j]
		}
	}
	// Callers waiting take the next free agents. The rest of the reserve,
	// c, is no agent an answer lacks: the engine gives a freed agent an
	// answered outbound call first. It is the reservation rule, applied
	// to the forecast: a call is placed only while, when it is answered,
	// more than c agents are expected free (the median of the free count
	// at its answer time, less the agent it takes, is at least c).
	free := float64(s.Ready - s.Waiting - s.InboundWaiting)
	c := float64(max(s.Reserve-s.InboundWaiting, 0))
	limit := 4*s.LoggedIn + 1
	n := 0
	for k := 0; k < limit; k++ {
		fk := float64(k)
		risk, short := 0.0, 0.0
		for j := range M {
			pg := m.pNew[j]
			mu := free - 1 + p.muD[j] - p.muN[j] - fk*pg
			v := p.vD[j] + p.vN[j] + fk*pg*(1-pg)
			risk += probBelowZero(mu, v)
			if c > 0 {
				short += probBelowZero(mu-c, v)
			}
		}
		if risk/float64(M) > theta || short/float64(M) > 0.5 {
			break
		}
		n++
	}
	return max(n, base)
}

const (
	// rebuildAfter is how many new observations justify rebuilding the tables.
	rebuildAfter = 25
	// minDials and minTalks are the observations after which the model
	// rests on the campaign's calls alone: the warm-up priors have faded
	// and the threshold is θ itself.
	minDials = 200
	minTalks = 50
	// warmupTheta scales θ with no observations; the cut fades as they
	// come.
	warmupTheta = 0.5
	// warmupRebuildEvery bounds the time between table rebuilds while
	// learning.
	warmupRebuildEvery = 20 * time.Second
)

// probBelowZero approximates P(Z ≤ −1) for an integer count Z with mean mu
// and variance v, with a continuity correction.
func probBelowZero(mu, v float64) float64 {
	x := -0.5 - mu
	if v < 1e-12 {
		if x > 0 {
			return 1
		}
		return 0
	}
	return 0.5 * math.Erfc(-x/math.Sqrt(2*v))
}

func (p *Predictive) ObserveCall(rec *CallRecord) {
	p.m.observeDial(rec)
	if rec.Outcome.Live() && !p.fallback {
		target := p.cfg.Target * (1 - p.cfg.Margin)
		// While learning the threshold only comes down: answers that the
		// cut threshold kept from being abandoned say nothing about θ,
		// and raising it on them would leave a trained model bolder than
		// a campaign's first minutes earned.
		if rec.Abandoned {
			p.logTheta -= p.cfg.Gain * (1 - target)
		} else if !p.learning {
			p.logTheta += p.cfg.Gain * target
		}
		p.logTheta = min(max(p.logTheta, math.Log(1e-4)), math.Log(0.5))
	}
	if rec.Outcome == OutcomeCompleted && !rec.Stamps[CallConnected].IsZero() {
		p.m.observeTalk(&p.m.out, rec.EndedAt().Sub(rec.Stamps[CallConnected]))
	}
}

func (p *Predictive) ObserveWrap(d time.Duration) { p.m.observeWrap(&p.m.out, d) }

// ObserveInboundTalk and ObserveInboundWrap teach the estimates of how long
// agents stay busy with inbound callers; they leave the dial estimates and
// the threshold alone (pacing placed no such call).
func (p *Predictive) ObserveInboundTalk(d time.Duration) { p.m.observeTalk(&p.m.in, d) }

func (p *Predictive) ObserveInboundWrap(d time.Duration) { p.m.observeWrap(&p.m.in, d) }

// LearnCall feeds a call from history to the estimates (answer probability
// and delays, talk time) without touching the threshold's feedback.
func (p *Predictive) LearnCall(rec *CallRecord) {
	p.m.observeDial(rec)
	if rec.Outcome == OutcomeCompleted && !rec.Stamps[CallConnected].IsZero() {
		p.m.observeTalk(&p.m.out, rec.EndedAt().Sub(rec.Stamps[CallConnected]))
	}
}
