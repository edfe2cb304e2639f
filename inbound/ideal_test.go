package inbound

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// The issue's example: 20 agents, 200 calls an hour, 180 s inbound handle,
// 80% within 20 s; outbound calls taken as 180 s too. The issue quotes about
// 190 outbound calls an hour blended against 120 split.
func TestIdealBlendBeatsSplitOnTheIssueExample(t *testing.T) {
	t.Parallel()
	for _, outboundHandle := range []float64{180, 90, 600} {
		in := IdealInput{Agents: 20, ArrivalsPerHour: 200, InboundHandleSec: 180,
			OutboundHandleSec: outboundHandle, ThresholdSec: 20, Target: 0.8}
		res, err := Ideal(in)
		require.NoError(t, err)
		t.Logf("outbound handle %g s: split team %d → %.1f outbound/h (SL %.4f, ASA %.2f s); "+
			"blend reserve %d → %.1f outbound/h (SL %.4f, ASA %.2f s); gain %.1f/h",
			outboundHandle, res.SplitTeam, res.SplitOutboundPerHour, res.SplitSL, res.SplitASASec,
			res.BlendReserve, res.BlendOutboundPerHour, res.BlendSL, res.BlendASASec, res.Gain)
		require.Equal(t, 14, res.SplitTeam)
		require.InDelta(t, 6*3600/outboundHandle, res.SplitOutboundPerHour, 1e-9)
		require.Greater(t, res.BlendOutboundPerHour, res.SplitOutboundPerHour)
		require.InDelta(t, res.BlendOutboundPerHour-res.SplitOutboundPerHour, res.Gain, 1e-9)
		require.GreaterOrEqual(t, res.BlendSL, 0.8)
		if outboundHandle == 180 {
			require.Equal(t, 1, res.BlendReserve)
			require.InDelta(t, 190, res.BlendOutboundPerHour, 1, "the issue's figure")
		}
		if res.BlendReserve > 0 {
			below, err := solveIdeal(in, res.BlendReserve-1)
			require.NoError(t, err)
			require.Less(t, below.sl, 0.8, "one agent less in reserve misses")
		}

		// The same chain, simulated call by call with a real queue.
		reserves := []int{0, res.BlendReserve, res.BlendReserve + 2}
		if res.BlendReserve == 0 {
			reserves = reserves[1:]
		}
		for _, c := range reserves {
			model, err := solveIdeal(in, c)
			require.NoError(t, err)
			sim := simulateIdeal(in, c, 1500, uint64(c)+uint64(outboundHandle))
			t.Logf("  reserve %d: model SL %.4f ASA %.2f s outbound %.1f/h; simulated SL %.4f ASA %.2f s outbound %.1f/h (%d calls)",
				c, model.sl, model.asaSec, model.outboundPerHour, sim.sl, sim.asaSec, sim.outboundPerHour, sim.calls)
			require.InDelta(t, model.sl, sim.sl, 0.015, "reserve %d", c)
			require.InEpsilon(t, model.outboundPerHour, sim.outboundPerHour, 0.03, "reserve %d", c)
			require.InDelta(t, model.asaSec, sim.asaSec, math.Max(1, 0.15*model.asaSec), "reserve %d", c)
		}
	}
}

type idealSim struct {
	calls                       int
	sl, asaSec, outboundPerHour float64
}

// simulateIdeal runs the idealised blended team as events: agents on
// inbound or outbound calls, a first-come-first-served queue of callers with
// their arrival times, and outbound started whenever more than c are free.
func simulateIdeal(in IdealInput, c int, hours float64, seed uint64) idealSim {
	rng := rand.New(rand.NewPCG(seed, 99))
	lambda, muIn, muOut := in.ArrivalsPerHour/3600, 1/in.InboundHandleSec, 1/in.OutboundHandleSec
	inb, outb := 0, in.Agents-c // start with c free
	var queue []float64
	var sim idealSim
	inTime, waited, outboundDone := 0, 0.0, 0
	freed := func() { // an agent just freed with nobody waiting
		if in.Agents-inb-outb > c {
			outb++
		}
	}
	for now := 0.0; now < hours*3600; {
		rIn, rOut := float64(inb)*muIn, float64(outb)*muOut
		total := lambda + rIn + rOut
		now += rng.ExpFloat64() / total
		u := rng.Float64() * total
		switch {
		case u < lambda:
			sim.calls++
			if inb+outb < in.Agents {
				inb++
				inTime++
			} else {
				queue = append(queue, now)
			}
		case u < lambda+rIn:
			if len(queue) > 0 { // the agent takes the first caller
				wait := now - queue[0]
				queue = queue[1:]
				waited += wait
				if wait <= in.ThresholdSec {
					inTime++
				}
			} else {
				inb--
				freed()
			}
		default:
			outboundDone++
			outb--
			if len(queue) > 0 {
				wait := now - queue[0]
				queue = queue[1:]
				waited += wait
				if wait <= in.ThresholdSec {
					inTime++
				}
				inb++
			} else {
				freed()
			}
		}
	}
	sim.sl = float64(inTime) / float64(sim.calls)
	sim.asaSec = waited / float64(sim.calls)
	sim.outboundPerHour = float64(outboundDone) / hours
	return sim
}

// With equal handle times the blended chain is the reserve model without
// hang-ups, solved there in closed form: the two must agree to rounding.
func TestIdealWithEqualHandleTimesIsTheReserveModel(t *testing.T) {
	t.Parallel()
	for _, agents := range []int{1, 4, 20, 30} {
		for _, occupancy := range []float64{0.2, 0.6, 0.9} {
			for _, threshold := range []float64{0, 20, 90} {
				in := IdealInput{Agents: agents, ArrivalsPerHour: occupancy * float64(agents) * 3600 / 200,
					InboundHandleSec: 200, OutboundHandleSec: 200, ThresholdSec: threshold, Target: 0.8}
				rin := ReserveInput{Agents: agents, ArrivalsPerSec: in.ArrivalsPerHour / 3600, FreeAfterSec: 200,
					ThresholdSec: threshold, Target: 0.8}
				for _, c := range []int{0, 1, agents / 2, agents} {
					fig, err := solveIdeal(in, c)
					require.NoError(t, err)
					require.InDelta(t, ReserveSL(rin, c), fig.sl, 1e-9, "%+v c=%d", in, c)
				}
			}
		}
	}
}

// Reserving every agent means outbound never runs: Erlang C with the whole
// team, whatever the outbound handle time.
func TestIdealReservingEveryoneIsErlangC(t *testing.T) {
	t.Parallel()
	for _, agents := range []int{1, 5, 30} {
		for _, outboundHandle := range []float64{30, 600} {
			in := IdealInput{Agents: agents, ArrivalsPerHour: 0.7 * float64(agents) * 3600 / 240,
				InboundHandleSec: 240, OutboundHandleSec: outboundHandle, ThresholdSec: 30, Target: 0.8}
			fig, err := solveIdeal(in, agents)
			require.NoError(t, err)
			lambda := in.ArrivalsPerHour / 3600
			require.InDelta(t, ErlangSL(agents, lambda, 240, 30), fig.sl, 1e-9, "%+v", in)
			require.InDelta(t, ErlangASA(agents, lambda, 240), fig.asaSec, 1e-7, "%+v", in)
			require.Less(t, fig.outboundPerHour, 1e-9, "%+v", in)
		}
	}
}

// More reserve: never a worse service level, never more outbound. Ideal's
// shortcut for an unreachable target rests on the first.
func TestIdealReserveTradesOutboundForServiceLevel(t *testing.T) {
	t.Parallel()
	for _, agents := range []int{1, 2, 6, 15} {
		for _, occupancy := range []float64{0.3, 0.7, 0.95} {
			for _, outboundHandle := range []float64{45, 180, 900} {
				in := IdealInput{Agents: agents, ArrivalsPerHour: occupancy * float64(agents) * 3600 / 180,
					InboundHandleSec: 180, OutboundHandleSec: outboundHandle, ThresholdSec: 20, Target: 0.8}
				prev := idealFigures{sl: -1, outboundPerHour: math.Inf(1)}
				for c := 0; c <= agents; c++ {
					fig, err := solveIdeal(in, c)
					require.NoError(t, err)
					require.GreaterOrEqual(t, fig.sl, prev.sl-1e-12, "%+v c=%d", in, c)
					require.LessOrEqual(t, fig.outboundPerHour, prev.outboundPerHour+1e-9, "%+v c=%d", in, c)
					prev = fig
				}
			}
		}
	}
}

// R must solve λI + R·A1 + R²·A2 = 0, and every queue must end: R·A2 sends
// each phase back at total rate λ.
func TestIdealQueueRateSolvesItsEquation(t *testing.T) {
	t.Parallel()
	for _, rt := range []idealRates{
		{agents: 20, lambda: 200.0 / 3600, muIn: 1.0 / 180, muOut: 1.0 / 180},
		{agents: 20, lambda: 200.0 / 3600, muIn: 1.0 / 180, muOut: 1.0 / 30},
		{agents: 50, lambda: 900.0 / 3600, muIn: 1.0 / 180, muOut: 1.0 / 900},
	} {
		qr := newQueueRate(rt)
		n, w := rt.agents, rt.agents+1
		a2 := newDense(w, w)
		for i := 0; i < w; i++ {
			a2.add(i, i, float64(i)*rt.muIn)
			if i < n {
				a2.add(i, i+1, float64(n-i)*rt.muOut)
			}
		}
		r := &dense{rows: w, cols: w, v: qr.r}
		ra2 := r.mul(a2)
		r2a2 := r.mul(ra2)
		for i := 0; i < w; i++ {
			back := 0.0
			for j := 0; j < w; j++ {
				b := rt.lambda + float64(j)*rt.muIn + float64(n-j)*rt.muOut
				res := -r.v[i*w+j]*b + r2a2.v[i*w+j]
				if i == j {
					res += rt.lambda
				}
				require.InDelta(t, 0, res, 1e-12, "%+v entry %d,%d", rt, i, j)
				back += ra2.v[i*w+j]
			}
			require.InEpsilon(t, rt.lambda, back, 1e-9, "%+v phase %d", rt, i)
		}
	}
}

func TestIdealEdgeCases(t *testing.T) {
	t.Parallel()
	base := IdealInput{Agents: 20, ArrivalsPerHour: 200, InboundHandleSec: 180, OutboundHandleSec: 180, ThresholdSec: 20, Target: 0.8}

	none := base
	none.ArrivalsPerHour = 0
	res, err := Ideal(none)
	require.NoError(t, err)
	require.Equal(t, IdealResult{SplitOutboundPerHour: 400, SplitSL: 1, BlendOutboundPerHour: 400, BlendSL: 1}, res)

	// 12 Erlangs on 10 agents: no queue is finite.
	over := base
	over.Agents = 10
	over.ArrivalsPerHour = 240
	res, err = Ideal(over)
	require.ErrorIs(t, err, ErrTargetUnreachable)
	require.Equal(t, 10, res.BlendReserve)
	require.Greater(t, res.SplitTeam, 10)
	require.Zero(t, res.SplitOutboundPerHour)

	// 9.5 Erlangs on 10 agents: finite, but the target is out of reach.
	tight := over
	tight.ArrivalsPerHour = 190
	res, err = Ideal(tight)
	require.ErrorIs(t, err, ErrTargetUnreachable)
	require.Less(t, res.BlendSL, 0.8)
	require.Greater(t, res.BlendSL, 0.0)

	for _, bad := range []func(*IdealInput){
		func(in *IdealInput) { in.Agents = 0 },
		func(in *IdealInput) { in.ArrivalsPerHour = -1 },
		func(in *IdealInput) { in.ArrivalsPerHour = math.NaN() },
		func(in *IdealInput) { in.InboundHandleSec = 0 },
		func(in *IdealInput) { in.OutboundHandleSec = math.Inf(1) },
		func(in *IdealInput) { in.ThresholdSec = -1 },
		func(in *IdealInput) { in.Target = 1.2 },
	} {
		in := base
		bad(&in)
		_, err := Ideal(in)
		require.Error(t, err, "%+v", in)
		require.False(t, errors.Is(err, ErrTargetUnreachable), "%+v", in)
	}
}

// The README's bound is computed for teams up to 100 agents; the time for 50
// is the brief's figure of merit.
func BenchmarkIdeal(b *testing.B) {
	for _, bc := range []struct {
		name string
		in   IdealInput
	}{
		{"20agents_issue", IdealInput{Agents: 20, ArrivalsPerHour: 200, InboundHandleSec: 180, OutboundHandleSec: 180, ThresholdSec: 20, Target: 0.8}},
		{"50agents_60pct", IdealInput{Agents: 50, ArrivalsPerHour: 600, InboundHandleSec: 180, OutboundHandleSec: 600, ThresholdSec: 20, Target: 0.8}},
		{"100agents_70pct", IdealInput{Agents: 100, ArrivalsPerHour: 1400, InboundHandleSec: 180, OutboundHandleSec: 600, ThresholdSec: 20, Target: 0.8}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var res IdealResult
			for b.Loop() {
				var err error
				if res, err = Ideal(bc.in); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(res.BlendReserve), "reserve")
			b.ReportMetric(res.Gain, "gain/h")
		})
	}
}
