package dialer

import (
	"math"
	"time"
)

// cdf is a distribution function on a 1-second grid: c[k] = P(X ≤ k), with
// each histogram bin's mass spread evenly over its second so that linear
// interpolation between grid points is exact for the histogram.
type cdf []float64

func (c cdf) at(x float64) float64 {
	if x <= 0 {
		return 0
	}
	last := len(c) - 1
	if x >= float64(last) {
		return c[last]
	}
	k := int(x)
	f := x - float64(k)
	return c[k] + f*(c[k+1]-c[k])
}

// fill turns histogram h (bin k holds mass for [k, k+1)) into a normalised cdf.
func (c *cdf) fill(h []float64) {
	if cap(*c) < len(h)+1 {
		*c = make(cdf, len(h)+1)
	}
	*c = (*c)[:len(h)+1]
	var total float64
	for _, v := range h {
		total += v
	}
	(*c)[0] = 0
	var acc float64
	for k, v := range h {
		acc += v
		(*c)[k+1] = acc / total
	}
}

// quantile inverts the cdf.
func (c cdf) quantile(u float64) float64 {
	for k := 1; k < len(c); k++ {
		if c[k] >= u {
			d := c[k] - c[k-1]
			if d <= 0 {
				return float64(k)
			}
			return float64(k-1) + (u-c[k-1])/d
		}
	}
	return float64(len(c) - 1)
}

// ageTable holds, per age in whole seconds, the probability of being free
// by each quadrature time τ_j. Ages beyond the table use the last row.
type ageTable struct {
	m    int
	data []float64
}

func (t *ageTable) row(age time.Duration) []float64 {
	n := len(t.data) / t.m
	k := int(age / time.Second)
	if k >= n {
		k = n - 1
	}
	return t.data[k*t.m : (k+1)*t.m]
}

// window is a fixed-size ring of recent observations mirrored in a
// histogram, so adding one and forgetting the oldest is O(1).
type window struct {
	obs   []int32 // histogram bin, or -1 for the dial window's "other" marker
	live  []bool
	pos   int
	full  bool
	hist  []float64 // live (or only) histogram
	other []float64 // dial window: non-live resolutions
}

func newWindow(size, bins int, dial bool) window {
	w := window{obs: make([]int32, size), hist: make([]float64, bins)}
	if dial {
		w.live = make([]bool, size)
		w.other = make([]float64, bins)
	}
	return w
}

func (w *window) count() int {
	if w.full {
		return len(w.obs)
	}
	return w.pos
}

func (w *window) add(bin int, live bool) {
	bin = min(max(bin, 0), len(w.hist)-1)
	if w.full {
		old := w.obs[w.pos]
		if w.live == nil || w.live[w.pos] {
			w.hist[old]--
		} else {
			w.other[old]--
		}
	}
	w.obs[w.pos] = int32(bin)
	if w.live != nil {
		w.live[w.pos] = live
	}
	if w.live == nil || live {
		w.hist[bin]++
	} else {
		w.other[bin]++
	}
	w.pos++
	if w.pos == len(w.obs) {
		w.pos, w.full = 0, true
	}
}

// model holds the predictive policy's estimates. Priors are kept as small
// pseudo-count histograms added at rebuild so a cold start has sane (wide)
// beliefs that real observations quickly outweigh.
type model struct {
	cfg PredictiveConfig

	dial                             window
	priorLive, priorOther            []float64
	priorTalk, priorWrap             []float64
	scratch1, scratch2, scratchOther []float64
	// warm* are the warm-up priors (see warmDialWeight), added at rebuild
	// with a weight that fades to nothing as the campaign's own
	// observations reach minDials and minTalks.
	warmLive, warmOther []float64
	warmTalk, warmWrap  []float64

	// fresh counts observations since the last rebuild; the tables are
	// rebuilt once enough arrived and RebuildEvery passed, because a
	// rebuild costs far more than a decision.
	fresh       int
	nextRebuild time.Time

	p                 float64
	dialAgeCap        float64 // seconds
	liveCDF, otherCDF cdf
	tau, pNew         []float64
	// tauFree is τ plus the connect deadline: an agent freed that much
	// after an answer still takes the call in time.
	tauFree []float64
	// out is learned from outbound calls and their wrap-ups; in from
	// inbound ones, which a blended team takes too: callers' talk and
	// wrap-up times are their own, and an agent on an inbound call frees
	// for outbound work as surely as one on an outbound call.
	out, in busyModel
}

// busyModel is how long agents stay busy with one kind of call: recent
// talk and wrap-up (call end → READY) times, and from them, per age, the
// probability of being free by each τ_j.
type busyModel struct {
	talk, wrap       window
	talkCDF, wrapCDF cdf
	qTalk, qWrap     ageTable
}

const (
	maxTalkSeconds = 4 * 3600
	maxWrapSeconds = 3600
	// tailSamples is how many observations must lie beyond an age for the
	// conditional estimate at that age to be trusted; older ages reuse the
	// last trusted one (a constant-hazard tail). Without it the few longest
	// calls of the window decide how agents deep into a long call are
	// treated, which measured as a point of occupancy lost on Markov-n50.
	tailSamples = 30
)

func (m *model) init(cfg PredictiveConfig) {
	m.cfg = cfg
	m.sizeDial()
	for _, b := range []*busyModel{&m.out, &m.in} {
		b.talk = newWindow(cfg.TalkWindow, maxTalkSeconds, false)
		b.wrap = newWindow(cfg.WrapWindow, maxWrapSeconds, false)
		b.qTalk.m, b.qWrap.m = cfg.Points, cfg.Points
	}

	// Priors: talk ~2 min and wrap ~15 s, exponential (the dial priors are
	// sizeDial's). Weights are a few observations only.
	m.priorTalk = expPrior(maxTalkSeconds, 120, 2)
	m.priorWrap = expPrior(maxWrapSeconds, 15, 2)
	m.warmTalk = expPrior(maxTalkSeconds, warmTalkMean, warmTalkWeight)
	m.warmWrap = expPrior(maxWrapSeconds, warmWrapMean, warmTalkWeight)
	m.scratch1 = make([]float64, maxTalkSeconds)
	m.scratch2 = make([]float64, maxWrapSeconds)
	m.tau = make([]float64, cfg.Points)
	m.tauFree = make([]float64, cfg.Points)
	m.pNew = make([]float64, cfg.Points)
	m.rebuild()
}

// sizeDial fits the dial window and its priors to the ring timeout in
// m.cfg: one bin per second a call can ring. The observations already held
// are carried over oldest first, so a ring timeout changed on a running
// campaign keeps what was learned (answers later than a shorter timeout
// fall in its last bin). Priors: a quarter of dials answered live after
// ~10 s (exponential), the rest resolving uniformly within the ring timeout.
func (m *model) sizeDial() {
	rt := int(math.Ceil(m.cfg.RingTimeout.Seconds())) + 1
	old := m.dial
	m.dial = newWindow(m.cfg.DialWindow, rt, true)
	if n := old.count(); n > 0 {
		start := 0
		if old.full {
			start = old.pos
		}
		for i := range n {
			j := (start + i) % len(old.obs)
			m.dial.add(int(old.obs[j]), old.live[j])
		}
	}
	m.priorLive = expPrior(rt, 10, 5*0.25)
	m.priorOther = make([]float64, rt)
	for k := range m.priorOther {
		m.priorOther[k] = 5 * 0.75 / float64(rt)
	}
	m.warmLive = expPrior(rt, warmAnswerMean, warmDialWeight*warmLiveShare)
	m.warmOther = make([]float64, rt)
	for k := range m.warmOther {
		m.warmOther[k] = warmDialWeight * (1 - warmLiveShare) / float64(rt)
	}
	m.scratchOther = make([]float64, rt)
}

// The warm-up priors: conservative defaults for a campaign with little or
// no history of its own, so predictive pacing can start at once without
// betting on optimistic guesses. Conservative means more dials answered
// by people, sooner, and agents busy for longer than campaigns usually
// see: each errs towards fewer lines. They weigh as much as warmDialWeight
// dials and warmTalkWeight talks and wrap-ups, fading linearly to nothing
// as the campaign's own observations reach minDials and minTalks, so a
// trained model rests on the campaign's calls alone (plus the weak priors
// above).
const (
	warmDialWeight = 60
	warmLiveShare  = 0.5 // answered by a person
	warmAnswerMean = 6   // seconds from dial to a person's answer
	warmTalkWeight = 20
	warmTalkMean   = 300 // seconds
	warmWrapMean   = 45  // seconds
)

// warmShare is how much of the warm-up priors still counts: 1 with no
// observations, 0 from need on.
func warmShare(have, need int) float64 {
	return max(0, 1-float64(have)/float64(need))
}

// addWarm adds f × warm into dst (which holds the observations and the
// weak prior already).
func addWarm(dst, warm []float64, f float64) []float64 {
	if f > 0 {
		for i := range dst {
			dst[i] += f * warm[i]
		}
	}
	return dst
}

func expPrior(bins int, mean, weight float64) []float64 {
	h := make([]float64, bins)
	for k := range h {
		h[k] = weight * (math.Exp(-float64(k)/mean) - math.Exp(-float64(k+1)/mean))
	}
	return h
}

func (m *model) observeDial(rec *CallRecord) {
	dialed := rec.DialedAt()
	if dialed.IsZero() {
		return
	}
	var at time.Time
	switch rec.Outcome {
	case OutcomeCompleted, OutcomeAbandoned:
		at = rec.Stamps[CallAnsweredHuman]
	case OutcomeMachine:
		at = rec.Stamps[CallAnsweredMachine]
	default:
		at = rec.EndedAt()
	}
	if at.IsZero() {
		return
	}
	m.dial.add(int(at.Sub(dialed)/time.Second), rec.Outcome.Live())
	m.fresh++
}

func (m *model) observeTalk(b *busyModel, d time.Duration) {
	b.talk.add(int(d/time.Second), true)
	m.fresh++
}

func (m *model) observeWrap(b *busyModel, d time.Duration) {
	b.wrap.add(int(d/time.Second), true)
	m.fresh++
}

func addInto(dst, a, b []float64) []float64 {
	for i := range dst {
		dst[i] = a[i] + b[i]
	}
	return dst
}

// rebuild refreshes p, the answer-delay quadrature and the per-age tables.
func (m *model) rebuild() {
	m.fresh = 0
	fd := warmShare(m.dial.count(), minDials)
	live := addWarm(addInto(m.scratchOther, m.dial.hist, m.priorLive), m.warmLive, fd)
	var nLive float64
	for _, v := range live {
		nLive += v
	}
	m.liveCDF.fill(live)
	other := addWarm(addInto(m.scratchOther, m.dial.other, m.priorOther), m.warmOther, fd)
	var nOther float64
	for _, v := range other {
		nOther += v
	}
	m.otherCDF.fill(other)
	m.p = nLive / (nLive + nOther)

	M := m.cfg.Points
	for j := range M {
		u := (float64(j) + 0.5) / float64(M)
		m.tau[j] = m.liveCDF.quantile(u)
		m.pNew[j] = m.p * u
		m.tauFree[j] = m.tau[j] + m.cfg.ConnectDeadline.Seconds()
	}

	// Calls older than this have too few comparable calls behind them to
	// estimate from; they are treated as if this old.
	m.dialAgeCap = 0
	tail := tailSamples / float64(m.dial.count()+2)
	for k := range m.liveCDF {
		if 1-m.p*m.liveCDF[k]-(1-m.p)*m.otherCDF[k] < tail {
			break
		}
		m.dialAgeCap = float64(k)
	}

	m.out.build(m)
	m.in.build(m)
}

// build refreshes b's distributions and per-age tables from its
// observations, m's priors and m's quadrature times.
func (b *busyModel) build(m *model) {
	M := m.cfg.Points
	maxTau := m.tauFree[M-1]
	ft := warmShare(b.talk.count(), minTalks)
	b.talkCDF.fill(addWarm(addInto(m.scratch1, b.talk.hist, m.priorTalk), m.warmTalk, ft))
	wrap := addWarm(addInto(m.scratch2, b.wrap.hist, m.priorWrap), m.warmWrap, ft)
	b.wrapCDF.fill(wrap)
	var wsum float64
	for _, v := range wrap {
		wsum += v
	}

	// Wrap bins that can finish within the horizon, as (midpoint, mass).
	type wb struct{ mid, mass float64 }
	var wbins [128]wb
	short := wbins[:0]
	for k := 0; float64(k)+0.5 < maxTau && k < len(wrap); k++ {
		if mass := wrap[k] / wsum; mass > 1e-4 {
			short = append(short, wb{float64(k) + 0.5, mass})
		}
	}

	// Talking agents: P(remaining talk + wrap ≤ τ | talked a so far).
	n := supportEnd(b.talkCDF, tailSamples/float64(b.talk.count()+2))
	b.qTalk.data = resize(b.qTalk.data, (n+1)*M)
	for a := 0; a <= n; a++ {
		row := b.qTalk.data[a*M : (a+1)*M]
		ca := b.talkCDF[a]
		surv := 1 - ca
		for j := range M {
			var q float64
			for _, w := range short {
				if x := m.tauFree[j] - w.mid; x > 0 {
					q += w.mass * (b.talkCDF.at(float64(a)+x) - ca)
				}
			}
			row[j] = min(q/surv, 1)
		}
	}

	// Wrapping agents: P(wrap ≤ d + τ | wrapped d so far).
	n = supportEnd(b.wrapCDF, tailSamples/float64(b.wrap.count()+2))
	b.qWrap.data = resize(b.qWrap.data, (n+1)*M)
	for d := 0; d <= n; d++ {
		row := b.qWrap.data[d*M : (d+1)*M]
		cd := b.wrapCDF[d]
		for j := range M {
			row[j] = min((b.wrapCDF.at(float64(d)+m.tauFree[j])-cd)/(1-cd), 1)
		}
	}
}

// supportEnd is the last whole second at which enough mass remains beyond
// to condition on; older ages reuse that row.
func supportEnd(c cdf, minSurvival float64) int {
	n := 0
	for k := range c {
		if 1-c[k] < minSurvival {
			break
		}
		n = k
	}
	return n
}

func resize(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}
