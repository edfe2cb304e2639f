package inbound

import (
	"errors"
	"fmt"
	"math"
)

// The idealised bound for the README: how many more outbound calls an hour
// the reserve rule makes than a dedicated inbound team, on paper, before dial
// delays and every other friction of the real engine. The simulator reports
// how much of this gain the engine reaches.
//
// The model (Bhulai & Koole 2003):
//
//   - N agents serve both inbound and outbound.
//   - Inbound callers arrive at random (Poisson) at a steady rate; each takes
//     a random time (exponential) with mean InboundHandleSec, talk plus wrap.
//   - Outbound work never runs out and connects the moment it is started; each
//     outbound call takes a random time (exponential) with mean
//     OutboundHandleSec, talk plus wrap.
//   - Under a reserve c, an agent who frees takes the longest-waiting caller
//     if any, else stays free if c or fewer agents would be free, else starts
//     an outbound call. So at most c agents are ever free and nobody waits
//     while an agent is free.
//   - Nobody hangs up while waiting; callers are answered first come first
//     served.
//
// The split policy is the same team cut in two: the smallest inbound team
// that meets the target by Erlang C, the rest on outbound all the time.
//
// The blended chain's state is (i inbound calls in service, o outbound in
// service, q callers waiting). Its long-run distribution is solved exactly
// (up to rounding) by the matrix-geometric method for the waiting callers
// and linear level reduction for the free agents; see solveIdeal. A caller
// who arrives (Poisson arrivals see the long-run mix) to find all agents
// busy with q waiting ahead is answered at the (q+1)th free. Which agent
// frees next matters, because inbound and outbound calls end at different
// rates and every outbound agent who frees turns inbound while callers wait;
// the wait is therefore computed over the phase i of the agents (o = N − i)
// by uniformisation, not assumed to be Erlang.

// IdealInput describes the team and its inbound load for the idealised
// comparison of blending with a split team.
type IdealInput struct {
	// Agents is the size of the whole team.
	Agents int
	// ArrivalsPerHour is the inbound arrival rate.
	ArrivalsPerHour float64
	// InboundHandleSec and OutboundHandleSec are the mean seconds of talk
	// plus wrap up of one call of each kind.
	InboundHandleSec, OutboundHandleSec float64
	// ThresholdSec and Target are the inbound service level: Target share of
	// callers answered within ThresholdSec.
	ThresholdSec, Target float64
}

// IdealResult compares, in the idealised model, a split team with the
// blended team under the reserve rule.
type IdealResult struct {
	// SplitTeam is the smallest dedicated inbound team meeting the target by
	// Erlang C; the other agents make outbound calls without pause. It can
	// exceed Agents (with ErrTargetUnreachable); the split figures are then
	// those of the whole team on inbound.
	SplitTeam            int
	SplitOutboundPerHour float64
	// SplitSL and SplitASASec are that team's service level and average
	// seconds to answer.
	SplitSL, SplitASASec float64
	// BlendReserve is the smallest reserve c meeting the target with the
	// whole team blended; BlendOutboundPerHour, BlendSL and BlendASASec are
	// its outbound calls completed per hour, service level and average
	// seconds to answer.
	BlendReserve         int
	BlendOutboundPerHour float64
	BlendSL, BlendASASec float64
	// Gain is BlendOutboundPerHour − SplitOutboundPerHour.
	Gain float64
}

// ErrTargetUnreachable means that even the whole team answering only inbound
// misses the service level target.
var ErrTargetUnreachable = errors.New("service level target unreachable with every agent on inbound")

// Ideal computes the split team and the blended reserve for in, and the
// outbound calls per hour each leaves. With no inbound calls both policies
// give the whole team to outbound. When even the whole team on inbound misses
// the target, the result describes that all-inbound team and the error is
// ErrTargetUnreachable; other errors mean the input is not usable or the
// solver failed.
func Ideal(in IdealInput) (IdealResult, error) {
	if err := in.validate(); err != nil {
		return IdealResult{}, err
	}
	outboundPerAgentHour := 3600 / in.OutboundHandleSec
	if in.ArrivalsPerHour == 0 {
		all := float64(in.Agents) * outboundPerAgentHour
		return IdealResult{SplitOutboundPerHour: all, SplitSL: 1, BlendOutboundPerHour: all, BlendSL: 1}, nil
	}
	arrivals := in.ArrivalsPerHour / 3600
	var res IdealResult
	res.SplitTeam = SmallestTeam(arrivals, in.InboundHandleSec, in.ThresholdSec, in.Target)
	split := min(res.SplitTeam, in.Agents)
	res.SplitOutboundPerHour = float64(in.Agents-split) * outboundPerAgentHour
	res.SplitSL = ErlangSL(split, arrivals, in.InboundHandleSec, in.ThresholdSec)
	res.SplitASASec = ErlangASA(split, arrivals, in.InboundHandleSec)
	if arrivals*in.InboundHandleSec >= float64(in.Agents) {
		// Inbound alone needs more than the whole team: no queue is finite.
		res.BlendReserve = in.Agents
		res.BlendASASec = math.Inf(1)
		return res, ErrTargetUnreachable
	}
	if ErlangSL(in.Agents, arrivals, in.InboundHandleSec, in.ThresholdSec) < in.Target {
		// Reserving everyone is Erlang C with the whole team, and the
		// service level only grows with the reserve (ideal_test.go checks
		// this over a grid), so no reserve meets the target.
		res.BlendReserve = in.Agents
		res.BlendSL = ErlangSL(in.Agents, arrivals, in.InboundHandleSec, in.ThresholdSec)
		res.BlendASASec = ErlangASA(in.Agents, arrivals, in.InboundHandleSec)
		return res, ErrTargetUnreachable
	}
	rt := in.rates()
	qr := newQueueRate(rt)
	inTime := frees(rt.agents, math.MaxInt32, rt.muIn, rt.muOut, in.ThresholdSec)
	for c := 0; c <= in.Agents; c++ {
		fig, err := solveIdealWith(rt, qr, inTime, c)
		if err != nil {
			return IdealResult{}, fmt.Errorf("reserve %d: %w", c, err)
		}
		res.BlendReserve, res.BlendOutboundPerHour, res.BlendSL, res.BlendASASec = c, fig.outboundPerHour, fig.sl, fig.asaSec
		if fig.sl >= in.Target {
			res.Gain = res.BlendOutboundPerHour - res.SplitOutboundPerHour
			return res, nil
		}
	}
	return res, ErrTargetUnreachable
}

func (in IdealInput) validate() error {
	switch {
	case in.Agents <= 0:
		return fmt.Errorf("ideal model: %d agents, need at least 1", in.Agents)
	case !(in.ArrivalsPerHour >= 0) || math.IsInf(in.ArrivalsPerHour, 1):
		return fmt.Errorf("ideal model: arrivals per hour %g, need a number ≥ 0", in.ArrivalsPerHour)
	case !(in.InboundHandleSec > 0) || math.IsInf(in.InboundHandleSec, 1):
		return fmt.Errorf("ideal model: inbound handle %g s, need a number > 0", in.InboundHandleSec)
	case !(in.OutboundHandleSec > 0) || math.IsInf(in.OutboundHandleSec, 1):
		return fmt.Errorf("ideal model: outbound handle %g s, need a number > 0", in.OutboundHandleSec)
	case !(in.ThresholdSec >= 0) || math.IsInf(in.ThresholdSec, 1):
		return fmt.Errorf("ideal model: threshold %g s, need a number ≥ 0", in.ThresholdSec)
	case !(in.Target >= 0 && in.Target <= 1):
		return fmt.Errorf("ideal model: target %g, need a share from 0 to 1", in.Target)
	}
	return nil
}

// idealFigures are the blended chain's long-run figures under one reserve.
type idealFigures struct {
	outboundPerHour, sl, asaSec float64
}

// idealRates are the chain's rates per second.
type idealRates struct {
	agents              int
	lambda, muIn, muOut float64
}

func (in IdealInput) rates() idealRates {
	return idealRates{agents: in.Agents, lambda: in.ArrivalsPerHour / 3600,
		muIn: 1 / in.InboundHandleSec, muOut: 1 / in.OutboundHandleSec}
}

// queueRate is the matrix-geometric R of the part of the chain where callers
// wait: phases i = 0..N (i agents on inbound calls, N − i on outbound, all
// busy), π_{q+1} = π_q·R for q ≥ 0 waiting callers. It is the minimal
// solution of λI + R·A1 + R²·A2 = 0, where A1 = −diag(λ + i·μi + (N−i)·μo)
// and A2 (one free, taking the first caller) moves phase i to i at i·μi and to
// i+1 at (N−i)·μo. Phases only move up, so R is upper triangular and each
// entry follows from those nearer the diagonal: R_ii is the smaller root of
// i·μi·r² − (λ + i·μi + (N−i)·μo)·r + λ = 0, and for j > i, collecting the
// terms of entry (i, j) that hold R_ij,
//
//	R_ij = (a_j Σ_{i<k<j} R_ik R_kj + e_{j−1} (R²)_{i,j−1}) / (b_j − a_j (R_ii + R_jj))
//
// with a_j = j·μi, e_j = (N−j)·μo, b_j = λ + a_j + e_j. The divisor equals
// a_j times (the larger root of phase j − R_ii), which is positive because
// the larger root is at least 1 and R_ii is below 1 when the queue is stable.
type queueRate struct {
	n int
	r []float64 // row-major (N+1)×(N+1), zero below the diagonal
}

func newQueueRate(rt idealRates) queueRate {
	n := rt.agents
	w := n + 1
	a := func(j int) float64 { return float64(j) * rt.muIn }
	e := func(j int) float64 { return float64(n-j) * rt.muOut }
	b := func(j int) float64 { return rt.lambda + a(j) + e(j) }
	r := make([]float64, w*w)
	sq := make([]float64, w*w) // R², filled along with R
	for i := 0; i < w; i++ {
		bi := b(i)
		r[i*w+i] = 2 * rt.lambda / (bi + math.Sqrt(max(bi*bi-4*a(i)*rt.lambda, 0)))
		sq[i*w+i] = r[i*w+i] * r[i*w+i]
	}
	for off := 1; off < w; off++ {
		for i := 0; i+off < w; i++ {
			j := i + off
			inner := 0.0
			for k := i + 1; k < j; k++ {
				inner += r[i*w+k] * r[k*w+j]
			}
			v := (a(j)*inner + e(j-1)*sq[i*w+j-1]) / (b(j) - a(j)*(r[i*w+i]+r[j*w+j]))
			r[i*w+j] = v
			sq[i*w+j] = inner + r[i*w+i]*v + v*r[j*w+j]
		}
	}
	return queueRate{n: n, r: r}
}

// times returns x·R for a row vector x over the phases.
func (qr queueRate) times(x []float64) []float64 {
	w := qr.n + 1
	y := make([]float64, w)
	for i, xi := range x {
		if xi == 0 {
			continue
		}
		row := qr.r[i*w:]
		for j := i; j < w; j++ {
			y[j] += xi * row[j]
		}
	}
	return y
}

// largestDiagonal is R's spectral radius: how fast the weight of longer
// queues falls.
func (qr queueRate) largestDiagonal() float64 {
	w := qr.n + 1
	worst := 0.0
	for i := 0; i < w; i++ {
		worst = max(worst, qr.r[i*w+i])
	}
	return worst
}

// solveIdeal gives the blended chain's figures under reserve c.
//
// States with nobody waiting are grouped by d = free agents (0..c), each
// with phases i = 0..N−d (o = N − d − i). Arrivals move d down, frees move
// it up (or, at d = c, turn an inbound agent outbound), and from d = 0 an
// arrival starts a queue, which returns to d = 0 in phase j at the rates of
// R·A2 (the queue's excursions folded into level 0). The resulting
// block-tridiagonal chain is solved exactly by linear level reduction
// (Gaver, Jacobs & Latouche 1984): S_c = L_c, S_d = L_d + U_d(−S_{d+1})⁻¹D_{d+1},
// π_0·S_0 = 0, π_{d+1} = π_d·U_d(−S_{d+1})⁻¹; then π of q waiting is
// π_{d=0}·R^{q}.
func solveIdeal(in IdealInput, c int) (idealFigures, error) {
	rt := in.rates()
	return solveIdealWith(rt, newQueueRate(rt), frees(rt.agents, math.MaxInt32, rt.muIn, rt.muOut, in.ThresholdSec), c)
}

// solveIdealWith is solveIdeal with the parts that do not depend on c
// computed once: the queue's R and the chances of enough frees in time.
func solveIdealWith(rt idealRates, qr queueRate, inTime freesTable, c int) (idealFigures, error) {
	n := rt.agents
	size := func(d int) int { return n - d + 1 }
	// Local block of level d, with its diagonal.
	local := func(d int) *dense {
		m := newDense(size(d), size(d))
		for i := 0; i < size(d); i++ {
			o := n - d - i
			out := rt.lambda + float64(i)*rt.muIn
			if d < c {
				out += float64(o) * rt.muOut
			} else if i > 0 {
				m.add(i, i-1, float64(i)*rt.muIn) // freed inbound agent goes outbound
			}
			m.add(i, i, -out)
		}
		if d == 0 {
			// Queue excursions: R·A2.
			w := n + 1
			for i := 0; i < w; i++ {
				for k := i; k < w; k++ {
					rik := qr.r[i*w+k]
					m.add(i, k, rik*float64(k)*rt.muIn)
					if k < n {
						m.add(i, k+1, rik*float64(n-k)*rt.muOut)
					}
				}
			}
		}
		return m
	}
	up := func(d int) *dense { // level d → d+1
		m := newDense(size(d), size(d+1))
		for i := 0; i < size(d); i++ {
			if i > 0 {
				m.add(i, i-1, float64(i)*rt.muIn)
			}
			if o := n - d - i; o > 0 {
				m.add(i, i, float64(o)*rt.muOut)
			}
		}
		return m
	}
	down := func(d int) *dense { // level d → d−1
		m := newDense(size(d), size(d-1))
		for i := 0; i < size(d); i++ {
			m.add(i, i+1, rt.lambda)
		}
		return m
	}

	// Reduce from the top level down.
	toNext := make([]*dense, c+1) // toNext[d] = U_{d−1}(−S_d)⁻¹
	s := local(c)
	for d := c; d > 0; d-- {
		inv, err := s.negInverse()
		if err != nil {
			return idealFigures{}, fmt.Errorf("level %d: %w", d, err)
		}
		toNext[d] = up(d - 1).mul(inv)
		s = local(d - 1).plus(toNext[d].mul(down(d)))
	}
	levels := make([][]float64, c+1)
	var err error
	if levels[0], err = s.nullVector(); err != nil {
		return idealFigures{}, fmt.Errorf("level 0: %w", err)
	}
	for d := 1; d <= c; d++ {
		levels[d] = toNext[d].leftTimes(levels[d-1])
	}

	// Walk the queue levels q = 0, 1, … (q = 0 is d = 0: all busy, nobody
	// waiting) until their weight is gone, collecting the figures.
	meanWait := make([]float64, n+1) // mean time to q+1 frees from phase i
	total, outbound, onTime, waited := 0.0, 0.0, 0.0, 0.0
	for d := 1; d <= c; d++ {
		for i, p := range levels[d] {
			total += p
			onTime += p
			outbound += p * float64(n-d-i)
		}
	}
	sp := qr.largestDiagonal()
	minLevels := 50
	if sp > 0 {
		minLevels += int(math.Ceil(math.Log(1e-18) / math.Log(sp)))
	}
	const maxLevels = 5_000_000
	q := levels[0]
	for m := 1; ; m++ { // m = q+1 frees needed
		// E(i, m) = (1 + i·μi·E(i, m−1) + (N−i)·μo·E(i+1, m−1)) / (i·μi + (N−i)·μo),
		// in place: ascending i reads E(i+1, ·) before it is overwritten.
		for i := 0; i <= n; i++ {
			inb, outb := float64(i)*rt.muIn, float64(n-i)*rt.muOut
			e := (1 + inb*meanWait[i]) / (inb + outb)
			if i < n {
				e += outb / (inb + outb) * meanWait[i+1]
			}
			meanWait[i] = e
		}
		mass := 0.0
		for i, p := range q {
			mass += p
			outbound += p * float64(n-i)
			onTime += p * inTime.at(m, i)
			waited += p * meanWait[i]
		}
		total += mass
		if m >= minLevels && mass < 1e-18*total {
			break
		}
		if m == maxLevels {
			return idealFigures{}, fmt.Errorf("ideal model: queue weight still %g after %d waiting", mass/total, maxLevels)
		}
		q = qr.times(q)
	}
	return idealFigures{
		outboundPerHour: outbound / total * rt.muOut * 3600,
		sl:              min(onTime/total, 1),
		asaSec:          waited / total,
	}, nil
}

// freesTable holds a figure for m = 1..M frees from phase i = 0..N.
type freesTable struct {
	agents int
	v      []float64
}

func (t freesTable) at(m, i int) float64 {
	if (m-1)*(t.agents+1) >= len(t.v) {
		return 0
	}
	return t.v[(m-1)*(t.agents+1)+i]
}

// frees is, for m = 1..maxFrees and each phase i (i agents on inbound calls,
// N − i on outbound, all busy, callers waiting so nobody starts outbound),
// the chance of at least m frees within t seconds. A free in phase i comes
// at rate i·μi + (N−i)·μo and moves to phase i+1 when it was an outbound
// call. By uniformisation at Λ = N·max(μi, μo): the number of steps in t is
// Poisson(Λt), and each step frees an inbound agent with chance i·μi/Λ, an
// outbound one with (N−i)·μo/Λ, or nothing.
//
// Entries for m beyond the steps that carry weight are 0 (less than 1e-15
// off); the table holds m up to that many.
func frees(n, maxFrees int, muIn, muOut, t float64) freesTable {
	rate := float64(n) * max(muIn, muOut)
	mean := rate * t
	steps := int(math.Ceil(mean+12*math.Sqrt(mean))) + 40 // Poisson tail < 1e-15
	keep := min(maxFrees, steps)
	width := n + 1
	// h[m][i]: chance of at least m frees within the steps taken so far.
	h := make([]float64, (keep+1)*width)
	next := make([]float64, len(h))
	for i := 0; i < width; i++ {
		h[i] = 1 // zero frees: certain
		next[i] = 1
	}
	result := make([]float64, keep*width)
	logMean := math.Log(mean)
	for s := 0; s <= steps; s++ {
		// Poisson(mean) chance of exactly s steps.
		lg, _ := math.Lgamma(float64(s) + 1)
		weight := math.Exp(-mean + float64(s)*logMean - lg)
		if mean == 0 {
			weight = 0
			if s == 0 {
				weight = 1
			}
		}
		for m := 1; m <= keep; m++ {
			for i := 0; i < width; i++ {
				result[(m-1)*width+i] += weight * h[m*width+i]
			}
		}
		// One more step.
		for m := 1; m <= keep; m++ {
			for i := 0; i < width; i++ {
				inb := float64(i) * muIn / rate
				outb := float64(n-i) * muOut / rate
				v := (1-inb-outb)*h[m*width+i] + inb*h[(m-1)*width+i]
				if i < n {
					v += outb * h[(m-1)*width+i+1]
				}
				next[m*width+i] = v
			}
		}
		h, next = next, h
	}
	for j := range result {
		result[j] = min(result[j], 1)
	}
	return freesTable{agents: n, v: result}
}

// dense is a small row-major matrix for the level reduction.
type dense struct {
	rows, cols int
	v          []float64
}

func newDense(rows, cols int) *dense {
	return &dense{rows: rows, cols: cols, v: make([]float64, rows*cols)}
}

func (m *dense) add(i, j int, x float64) { m.v[i*m.cols+j] += x }

func (m *dense) mul(o *dense) *dense {
	out := newDense(m.rows, o.cols)
	for i := 0; i < m.rows; i++ {
		for k := 0; k < m.cols; k++ {
			x := m.v[i*m.cols+k]
			if x == 0 {
				continue
			}
			row := o.v[k*o.cols : (k+1)*o.cols]
			dst := out.v[i*out.cols : (i+1)*out.cols]
			for j, y := range row {
				dst[j] += x * y
			}
		}
	}
	return out
}

func (m *dense) plus(o *dense) *dense {
	out := newDense(m.rows, m.cols)
	for i := range m.v {
		out.v[i] = m.v[i] + o.v[i]
	}
	return out
}

// leftTimes returns x·m.
func (m *dense) leftTimes(x []float64) []float64 {
	y := make([]float64, m.cols)
	for i, xi := range x {
		for j := 0; j < m.cols; j++ {
			y[j] += xi * m.v[i*m.cols+j]
		}
	}
	return y
}

// negInverse returns (−m)⁻¹ by Gauss–Jordan elimination with partial
// pivoting. Here −m is a level's generator block without its exits, an
// M-matrix, so it is invertible whenever the level can be left.
func (m *dense) negInverse() (*dense, error) {
	n := m.rows
	a := make([]float64, n*n)
	for i := range a {
		a[i] = -m.v[i]
	}
	inv := newDense(n, n)
	for i := 0; i < n; i++ {
		inv.v[i*n+i] = 1
	}
	for col := 0; col < n; col++ {
		pivot := col
		for r := col + 1; r < n; r++ {
			if math.Abs(a[r*n+col]) > math.Abs(a[pivot*n+col]) {
				pivot = r
			}
		}
		if a[pivot*n+col] == 0 {
			return nil, errors.New("singular level block")
		}
		if pivot != col {
			for j := 0; j < n; j++ {
				a[col*n+j], a[pivot*n+j] = a[pivot*n+j], a[col*n+j]
				inv.v[col*n+j], inv.v[pivot*n+j] = inv.v[pivot*n+j], inv.v[col*n+j]
			}
		}
		p := a[col*n+col]
		for j := 0; j < n; j++ {
			a[col*n+j] /= p
			inv.v[col*n+j] /= p
		}
		for r := 0; r < n; r++ {
			f := a[r*n+col]
			if r == col || f == 0 {
				continue
			}
			for j := 0; j < n; j++ {
				a[r*n+j] -= f * a[col*n+j]
				inv.v[r*n+j] -= f * inv.v[col*n+j]
			}
		}
	}
	return inv, nil
}

// nullVector solves x·m = 0 with Σx = 1 for a generator m (rows summing to
// 0): the transposed system with its last equation replaced by the sum.
func (m *dense) nullVector() ([]float64, error) {
	n := m.rows
	// a·x = rhs with a = mᵀ, last row all ones.
	a := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			a[j*n+i] = m.v[i*n+j]
		}
	}
	rhs := make([]float64, n)
	for j := 0; j < n; j++ {
		a[(n-1)*n+j] = 1
	}
	rhs[n-1] = 1
	for col := 0; col < n; col++ {
		pivot := col
		for r := col + 1; r < n; r++ {
			if math.Abs(a[r*n+col]) > math.Abs(a[pivot*n+col]) {
				pivot = r
			}
		}
		if a[pivot*n+col] == 0 {
			return nil, errors.New("no unique long-run distribution")
		}
		if pivot != col {
			for j := 0; j < n; j++ {
				a[col*n+j], a[pivot*n+j] = a[pivot*n+j], a[col*n+j]
			}
			rhs[col], rhs[pivot] = rhs[pivot], rhs[col]
		}
		for r := col + 1; r < n; r++ {
			f := a[r*n+col] / a[col*n+col]
			if f == 0 {
				continue
			}
			for j := col; j < n; j++ {
				a[r*n+j] -= f * a[col*n+j]
			}
			rhs[r] -= f * rhs[col]
		}
	}
	x := make([]float64, n)
	for i := n - 1; i >= 0; i-- {
		v := rhs[i]
		for j := i + 1; j < n; j++ {
			v -= a[i*n+j] * x[j]
		}
		x[i] = v / a[i*n+i]
	}
	for i := range x {
		x[i] = max(x[i], 0) // rounding can leave −1e-17 where the weight is 0
	}
	return x, nil
}
