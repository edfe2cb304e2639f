package inbound

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// reserveGrid is a spread of loads from idle to overloaded, with and without
// hang-ups, for the properties that must hold everywhere.
func reserveGrid() []ReserveInput {
	var grid []ReserveInput
	for _, agents := range []int{1, 3, 20, 100, 500} {
		for _, occupancy := range []float64{0.05, 0.5, 0.9, 1.2} { // inbound load / agents
			for _, free := range []float64{30, 180, 600} {
				for _, patience := range []float64{0, 45, 300} {
					for _, threshold := range []float64{0, 20, 60} {
						grid = append(grid, ReserveInput{
							Agents:         agents,
							ArrivalsPerSec: occupancy * float64(agents) / free,
							FreeAfterSec:   free,
							ThresholdSec:   threshold,
							Target:         0.8,
							PatienceSec:    patience,
						})
					}
				}
			}
		}
	}
	return grid
}

// The reserve can be found by walking c upward only because keeping more
// agents back never lowers the service level.
func TestReserveSLNeverFallsAsTheReserveGrows(t *testing.T) {
	t.Parallel()
	for _, in := range reserveGrid() {
		prev := -1.0
		for c := 0; c <= in.Agents; c++ {
			sl := ReserveSL(in, c)
			require.True(t, sl >= 0 && sl <= 1, "%+v c=%d: SL %g", in, c, sl)
			require.GreaterOrEqual(t, sl, prev, "%+v c=%d", in, c)
			prev = sl
		}
	}
}

func TestReserveIsTheSmallestMeetingTheTarget(t *testing.T) {
	t.Parallel()
	met := 0
	for _, in := range reserveGrid() {
		c := Reserve(in)
		require.True(t, c >= 0 && c <= in.Agents, "%+v: %d", in, c)
		if ReserveSL(in, c) >= in.Target {
			met++
		} else {
			require.Equal(t, in.Agents, c, "%+v: the target is missed only when no reserve meets it", in)
		}
		if c > 0 {
			require.Less(t, ReserveSL(in, c-1), in.Target, "%+v: one fewer misses", in)
		}
	}
	require.Greater(t, met, 300, "most of the grid is feasible, so the check above is not empty")
}

func TestReserveGrowsWithInboundLoad(t *testing.T) {
	t.Parallel()
	for _, patience := range []float64{0, 120} {
		in := ReserveInput{Agents: 50, FreeAfterSec: 180, ThresholdSec: 20, Target: 0.8, PatienceSec: patience}
		prevReserve, grew := 0, false
		for perHour := 0.0; perHour <= 1200; perHour += 25 {
			in.ArrivalsPerSec = perHour / 3600
			c := Reserve(in)
			require.GreaterOrEqual(t, c, prevReserve, "%g calls an hour, patience %g", perHour, patience)
			grew = grew || c > prevReserve
			prevReserve = c
			// For any fixed reserve, more callers never raise the service level.
			for _, fixed := range []int{0, 2, 10} {
				more := in
				more.ArrivalsPerSec += 10.0 / 3600
				require.LessOrEqual(t, ReserveSL(more, fixed), ReserveSL(in, fixed)+1e-12)
			}
		}
		require.True(t, grew, "the reserve rises somewhere between no calls and full load")
		require.Equal(t, 50, prevReserve, "at 1200 calls an hour (60 Erlangs on 50 agents) no reserve is enough")
	}
}

func TestReserveIsZeroWithNothingToReserveFor(t *testing.T) {
	t.Parallel()
	in := ReserveInput{Agents: 20, ArrivalsPerSec: 200.0 / 3600, FreeAfterSec: 180, ThresholdSec: 20, Target: 0.8}
	require.Greater(t, Reserve(in), 0)

	noCalls := in
	noCalls.ArrivalsPerSec = 0
	require.Equal(t, 0, Reserve(noCalls))
	require.Equal(t, 1.0, ReserveSL(noCalls, 0))

	noAgents := in
	noAgents.Agents = 0
	require.Equal(t, 0, Reserve(noAgents))
	require.Equal(t, 0.0, ReserveSL(noAgents, 0), "callers with no agents are never answered")

	noTarget := in
	noTarget.Target = 0
	require.Equal(t, 0, Reserve(noTarget))
	require.Equal(t, ReserveSL(in, 3), ReserveSL(noTarget, 3), "the target does not change the service level")

	// A target above 1 cannot be met: keep everyone.
	tooHigh := in
	tooHigh.Target = 1.5
	require.Equal(t, 20, Reserve(tooHigh))
}

// Callers arriving faster than all agents can serve them and never hanging
// up: the queue grows without end, nobody is answered in time.
func TestReserveKeepsEveryoneWhenInboundAloneOverloadsTheTeam(t *testing.T) {
	t.Parallel()
	in := ReserveInput{Agents: 10, ArrivalsPerSec: 11.0 / 180, FreeAfterSec: 180, ThresholdSec: 20, Target: 0.8}
	require.Equal(t, 10, Reserve(in))
	require.Equal(t, 0.0, ReserveSL(in, 10))
	// With hang-ups the queue stays finite; some callers still get through.
	in.PatienceSec = 60
	sl := ReserveSL(in, 10)
	require.True(t, sl > 0 && sl < 0.8, "SL %g", sl)
}

// Keeping all N agents for inbound means outbound never runs: the team is a
// dedicated one and the model must give Erlang C exactly.
func TestReserveOfTheWholeTeamIsErlangC(t *testing.T) {
	t.Parallel()
	for _, in := range reserveGrid() {
		if in.PatienceSec != 0 {
			continue
		}
		want := ErlangSL(in.Agents, in.ArrivalsPerSec, in.FreeAfterSec, in.ThresholdSec)
		require.InDelta(t, want, ReserveSL(in, in.Agents), 1e-12, "%+v", in)
	}
}

// Hang-ups only ever shorten the queue, so they never call for a larger
// reserve; very patient callers behave like callers who never hang up.
func TestReserveWithHangUpsNeedsNoMoreThanWithout(t *testing.T) {
	t.Parallel()
	for _, in := range reserveGrid() {
		if in.PatienceSec == 0 {
			continue
		}
		never := in
		never.PatienceSec = 0
		for c := 0; c <= in.Agents; c += max(1, in.Agents/10) {
			require.GreaterOrEqual(t, ReserveSL(in, c), ReserveSL(never, c)-1e-12, "%+v c=%d", in, c)
		}
		require.LessOrEqual(t, Reserve(in), Reserve(never), "%+v", in)
		patient := in
		patient.PatienceSec = 1e9
		if in.ArrivalsPerSec*in.FreeAfterSec < 0.95*float64(in.Agents) {
			require.InDelta(t, ReserveSL(never, 1), ReserveSL(patient, 1), 1e-5, "%+v", in)
		}
	}
}

func TestReserveHandlesTheLargestTeams(t *testing.T) {
	t.Parallel()
	// 2000 agents, 1900 Erlangs of inbound, with and without hang-ups, and a
	// threshold far beyond the handle time.
	for _, patience := range []float64{0, 90} {
		for _, threshold := range []float64{20, 1e6, math.Inf(1)} {
			in := ReserveInput{Agents: 2000, ArrivalsPerSec: 1900.0 / 180, FreeAfterSec: 180,
				ThresholdSec: threshold, Target: 0.8, PatienceSec: patience}
			c := Reserve(in)
			sl := ReserveSL(in, c)
			require.GreaterOrEqual(t, sl, 0.8, "%+v: reserve %d", in, c)
			require.Less(t, c, 2000, "%+v", in)
		}
	}
}

// The example, and the birth–death model simulated event by event
// with a real first-come-first-served queue (no formulas shared with
// reserve.go): the computed service level must match the measured one.
func TestReserveMatchesASimulationOfTheSameChain(t *testing.T) {
	t.Parallel()
	in := ReserveInput{Agents: 20, ArrivalsPerSec: 200.0 / 3600, FreeAfterSec: 180, ThresholdSec: 20, Target: 0.8}
	c := Reserve(in)
	t.Logf("20 agents, 200 calls/h, free after 180 s, 80%% in 20 s: reserve %d, SL(c-1)=%.4f SL(c)=%.4f SL(c+1)=%.4f",
		c, ReserveSL(in, c-1), ReserveSL(in, c), ReserveSL(in, c+1))
	require.True(t, c >= 1 && c <= 5, "a handful of agents, not %d", c)

	for _, reserve := range []int{0, c, c + 2} {
		sim := simulateReserveChain(in, reserve, 1000*3600, 7)
		model := ReserveSL(in, reserve)
		t.Logf("reserve %d: model SL %.4f, simulated %.4f over %d calls", reserve, model, sim.sl, sim.arrivals)
		require.InDelta(t, model, sim.sl, 0.012, "reserve %d", reserve)
	}

	// With hang-ups the chain is still exact: compare the long-run share of
	// time with an agent free, which is also the share of callers answered at
	// once (SL with threshold 0). The wait formula ignores hang-ups ahead of a
	// caller; against the wallboard's stricter formula (answered within T ÷
	// answered and abandoned after T) it must err low, never high.
	for _, load := range []struct {
		perHour, patience float64
		reserve           int
	}{{200, 120, c}, {200, 120, c + 2}, {300, 30, 2}, {330, 60, 1}} {
		in.ArrivalsPerSec, in.PatienceSec = load.perHour/3600, load.patience
		sim := simulateReserveChain(in, load.reserve, 1000*3600, 11)
		atOnce := in
		atOnce.ThresholdSec = 0
		model := ReserveSL(atOnce, load.reserve)
		t.Logf("%g calls/h, patience %g s, reserve %d: answered at once model %.4f, simulated %.4f; "+
			"model SL %.4f, simulated answered in time ÷ all %.4f, ÷ answered %.4f, ÷ answered+late hang-ups %.4f",
			load.perHour, load.patience, load.reserve, model, sim.freeShare,
			ReserveSL(in, load.reserve), sim.sl, sim.sl1, sim.sl2)
		require.InDelta(t, model, sim.freeShare, 0.012, "%+v", load)
		require.LessOrEqual(t, ReserveSL(in, load.reserve), sim.sl2+0.005, "%+v", load)
	}
}

type reserveSim struct {
	arrivals  int
	sl        float64 // share of all arrivals answered within the threshold
	sl1, sl2  float64 // the wallboard's two formulas
	freeShare float64 // share of time with at least one agent free
}

// simulateReserveChain runs the reserve model as events: agents, an explicit
// queue of waiting callers with their arrival times, outbound taking any
// agent freed while c are already free.
func simulateReserveChain(in ReserveInput, reserve int, seconds float64, seed uint64) reserveSim {
	rng := rand.New(rand.NewPCG(seed, 1))
	free := reserve // start with the reserve free
	var queue []float64
	var out reserveSim
	inTime, answeredInTime, answered, lateHangUps := 0.0, 0, 0, 0
	mu := 1 / in.FreeAfterSec
	hangUp := 0.0
	if in.PatienceSec > 0 {
		hangUp = 1 / in.PatienceSec
	}
	for now := 0.0; now < seconds; {
		busy := in.Agents - free
		rateArrive := in.ArrivalsPerSec
		rateFree := float64(busy) * mu
		rateHangUp := float64(len(queue)) * hangUp
		total := rateArrive + rateFree + rateHangUp
		dt := rng.ExpFloat64() / total
		if free > 0 {
			inTime += dt
		}
		now += dt
		u := rng.Float64() * total
		switch {
		case u < rateArrive:
			out.arrivals++
			if free > 0 {
				free--
				answeredInTime++
				answered++
			} else {
				queue = append(queue, now)
			}
		case u < rateArrive+rateFree:
			switch {
			case len(queue) > 0:
				if now-queue[0] <= in.ThresholdSec {
					answeredInTime++
				}
				answered++
				queue = queue[1:]
			case free < reserve:
				free++
			default:
				// Above the reserve the agent takes outbound work.
			}
		default:
			i := rng.IntN(len(queue))
			if now-queue[i] > in.ThresholdSec {
				lateHangUps++
			}
			queue = append(queue[:i], queue[i+1:]...)
		}
	}
	out.sl = float64(answeredInTime) / float64(out.arrivals)
	out.sl1 = float64(answeredInTime) / float64(answered)
	out.sl2 = float64(answeredInTime) / float64(answered+lateHangUps)
	out.freeShare = inTime / seconds
	return out
}
