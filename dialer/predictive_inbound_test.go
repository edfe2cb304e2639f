package dialer_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/dialer"
)

// blendSnap is a trained campaign's floor with ready agents free and the
// busy ones given.
func blendSnap(ready int, busy []dialer.BusyAgent) *dialer.Snapshot {
	return &dialer.Snapshot{Now: t0.Add(10 * time.Hour), LoggedIn: ready + len(busy), Ready: ready, InCall: len(busy), Busy: busy,
		Budget: dialer.BudgetState{Target: 0.03, Live: 1000, Remaining: 12}, RingTimeout: 25 * time.Second}
}

// Agents on inbound calls free on the inbound callers' clock, not the
// campaign's: with inbound calls of 30 s learned, agents 28 s into one are
// about to free and the policy dials ahead of them; the same agents 28 s
// into the campaign's 2.5-minute calls are not, and it does not.
func TestPredictiveDialsAheadOfAgentsFinishingInboundCalls(t *testing.T) {
	t.Parallel()
	p := trainedPredictive(t)
	for range 100 {
		p.ObserveInboundTalk(30 * time.Second)
		p.ObserveInboundWrap(2 * time.Second)
	}
	busy := func(inbound bool) []dialer.BusyAgent {
		b := make([]dialer.BusyAgent, 8)
		for i := range b {
			b[i] = dialer.BusyAgent{Talking: true, Inbound: inbound, Age: 28 * time.Second}
		}
		return b
	}
	in := p.Decide(blendSnap(0, busy(true)))
	out := p.Decide(blendSnap(0, busy(false)))
	require.Zero(t, out, "nobody frees within an answer delay")
	require.Greater(t, in, 2, "eight agents end their inbound calls within seconds")
}

// What inbound needs comes off what outbound may count on: callers
// waiting take agents one for one, callers arriving before an answer take
// agents too, and the reserve c holds agents back from new dials.
func TestPredictiveLeavesInboundItsAgents(t *testing.T) {
	t.Parallel()
	p := trainedPredictive(t)
	plain := p.Decide(blendSnap(8, nil))

	waiting := blendSnap(8, nil)
	waiting.Reserve, waiting.InboundWaiting = 2, 2
	require.Equal(t, p.Decide(blendSnap(6, nil)), p.Decide(waiting), "two callers waiting are two agents fewer")

	arriving := blendSnap(8, nil)
	arriving.InboundPerSec = 0.2 // one caller every 5 s
	require.Less(t, p.Decide(arriving), plain)

	reserved := blendSnap(8, nil)
	reserved.Reserve = 6
	n := p.Decide(reserved)
	require.Less(t, n, plain)
	require.GreaterOrEqual(t, n, 8-6, "never below power 1.0 on the agents outside the reserve")
}

// While a caller waits and inbound needs agents kept free (c > 0), no new
// outbound call is placed, however many agents are about to free: an
// answered outbound call would take a freed agent before the caller. With
// no reserve needed (c = 0) the caller only counts as taking one of the
// freeing agents, and the policy dials ahead of the rest.
func TestPredictivePlacesNoCallWhileACallerWaitsForAReservedTeam(t *testing.T) {
	t.Parallel()
	p := trainedPredictive(t)
	for range 100 {
		p.ObserveInboundTalk(30 * time.Second)
		p.ObserveInboundWrap(2 * time.Second)
	}
	freeing := func(reserve, waiting int) *dialer.Snapshot {
		b := make([]dialer.BusyAgent, 8)
		for i := range b {
			b[i] = dialer.BusyAgent{Talking: true, Inbound: true, Age: 28 * time.Second}
		}
		s := blendSnap(0, b)
		s.Reserve, s.InboundWaiting = reserve+waiting, waiting
		return s
	}
	require.Greater(t, p.Decide(freeing(1, 0)), 0, "c = 1 and nobody waiting: dials ahead of the agents freeing")
	require.Greater(t, p.Decide(freeing(0, 1)), 0, "one waiting, no reserve needed: dials ahead of the other agents")
	require.LessOrEqual(t, p.Decide(freeing(1, 1)), 0, "one waiting with c = 1: no new call")
}

// Power 1.0, the policy's floor and its fallback when the abandon budget
// is spent, must not abandon: callers arriving while its calls ring take
// the READY agents they were placed for, so it leaves them the callers
// expected before an answer even when inbound needs no reserve (c = 0).
func TestPredictiveFloorLeavesArrivingCallersTheirAgents(t *testing.T) {
	t.Parallel()
	p := trainedPredictive(t)
	spent := func(perSec float64) *dialer.Snapshot {
		s := blendSnap(8, nil)
		s.Budget.Remaining = 0 // fallback: power 1.0
		s.InboundPerSec = perSec
		return s
	}
	require.Equal(t, 8, p.Decide(spent(0)), "no callers: one line per READY agent")
	n := p.Decide(spent(0.2)) // one caller every 5 s
	require.Less(t, n, 8)
	require.Positive(t, n)
	reserved := spent(0.2)
	reserved.Reserve = 7
	require.Equal(t, 1, p.Decide(reserved), "a reserve larger than the callers expected holds on its own")
}
