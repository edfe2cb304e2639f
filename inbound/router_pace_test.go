package inbound

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
)

// The reserve aims at what the rest of the current 30-minute interval
// needs for the interval to meet the target: at its start, the target plus
// the one-sided 95% margin on its expected calls; after callers answered in
// time, less; after late ones, more; and afresh in the next interval.
func TestReserveAimsAtTheRestOfTheInterval(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return start.Add(time.Duration(s) * time.Second) }
	rate := 100.0 / 1800 // 100 callers an interval
	fresh := func() *queueState {
		return &queueState{cfg: Queue{SLThreshold: 20 * time.Second, SLTarget: 0.8}}
	}

	q := fresh()
	require.InDelta(t, 0.8+1.645*math.Sqrt(0.8*0.2/100), q.aimedSL(at(0), 0, rate), 1e-9)

	mid := at(900) // 50 callers to come
	good, bad := fresh(), fresh()
	for i := range 50 {
		entered := at(i * 18)
		good.tally.see(EvConnect, entered, entered.Add(5*time.Second), 20*time.Second)
		wait := 5 * time.Second
		if i%4 == 0 {
			wait = 30 * time.Second // answered late
		}
		bad.tally.see(EvConnect, entered, entered.Add(wait), 20*time.Second)
		bad.tally.see(EvAbandon, entered, entered.Add(time.Second), 20*time.Second) // hung up in time: not counted
	}
	require.Equal(t, 50, good.tally.within)
	require.Equal(t, [2]int{37, 13}, [2]int{bad.tally.within, bad.tally.late})
	ahead, behind := good.aimedSL(mid, 0, rate), bad.aimedSL(mid, 0, rate)
	require.Less(t, ahead, 0.8, "an interval gone well lets the rest run leaner")
	require.Greater(t, behind, q.aimedSL(at(0), 0, rate), "one gone badly asks for more")
	require.Greater(t, good.aimedSL(mid, 10, rate), ahead, "callers waiting past the threshold are late already")

	worse := fresh()
	worse.tally = bad.tally
	for range 30 {
		worse.tally.see(EvAbandon, at(900), at(960), 20*time.Second)
	}
	require.Equal(t, maxAimedSL, worse.aimedSL(at(960), 0, rate), "never aims beyond the cap")

	next := at(1800)
	bad.tally.see(EvConnect, at(1790), next.Add(time.Minute), 20*time.Second) // judged with the interval before
	require.Equal(t, [2]int{0, 0}, [2]int{bad.tally.within, bad.tally.late})
	bad.tally.extra = 0
	require.InDelta(t, q.aimedSL(at(0), 0, rate), bad.aimedSL(next, 0, rate), 1e-9, "a new interval starts afresh")
}

// When the reserve the model asks for still leaves callers late, the
// reserve grows by what the outcomes say: each late caller adds (1 − miss)
// of an agent and each caller in time takes miss back, miss being the share
// late the interval's aim allows, so it settles where the share in time is
// the aim. It is kept across intervals and never goes below the model's c.
func TestReserveLearnsWhatTheModelMisses(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	rate := 100.0 / 1800
	q := &queueState{cfg: Queue{SLThreshold: 20 * time.Second, SLTarget: 0.8}}
	q.aimedSL(start, 0, rate)
	miss := 1 - (0.8 + 1.645*math.Sqrt(0.8*0.2/100))
	require.InDelta(t, miss, q.tally.miss, 1e-9)

	late := func(at time.Time) { q.tally.see(EvConnect, at, at.Add(30*time.Second), 20*time.Second) }
	inTime := func(at time.Time) { q.tally.see(EvConnect, at, at.Add(5*time.Second), 20*time.Second) }
	for i := range 3 {
		late(start.Add(time.Duration(i) * time.Second))
	}
	require.InDelta(t, 3*(1-miss), q.tally.extra, 1e-9)
	inTime(start.Add(time.Minute))
	require.InDelta(t, 3*(1-miss)-miss, q.tally.extra, 1e-9)

	// Kept into the next interval; callers in time bring it down to zero
	// and no further.
	next := start.Add(slInterval)
	q.aimedSL(next, 0, rate)
	require.InDelta(t, 3*(1-miss)-miss, q.tally.extra, 1e-9)
	for i := range 100 {
		inTime(next.Add(time.Duration(i) * time.Second))
	}
	require.Zero(t, q.tally.extra)
}

// Load adds the learned agents to the model's reserve, up to every agent.
func TestLoadAddsTheLearnedReserve(t *testing.T) {
	r, _ := newTestRouter(t, Config{Mode: Blended})
	var ids []agents.ID
	for i := 1; i <= 10; i++ {
		ids = append(ids, agents.ID(i))
	}
	rSetQueue(t, r, rQueue(1), rMembers(1, ids...))
	for _, id := range ids {
		r.AgentChanged(id, 1, agents.InCall, rAt(-100))
	}
	for i := range 30 {
		now := rAt(i * 30)
		k := CallKey(1000 + i)
		require.NoError(t, r.Arrive(Arrival{Call: k, DID: "q1"}, now))
		r.HungUp(k, now)
	}
	at := rAt(900)
	before := r.Load(1, at).Reserve
	q := r.queues[1]
	q.tally.extra = 2.4
	require.Equal(t, before+2, r.Load(1, at).Reserve)
	q.tally.extra = 50
	require.Equal(t, 10, r.Load(1, at).Reserve, "never more than the agents")
}
