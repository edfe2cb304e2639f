package inbound

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
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
	require.Equal(t, slTally{start: start, within: 37, late: 13}, bad.tally)
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
	require.Equal(t, slTally{start: next}, bad.tally)
	require.InDelta(t, q.aimedSL(at(0), 0, rate), bad.aimedSL(next, 0, rate), 1e-9, "a new interval starts afresh")
}
