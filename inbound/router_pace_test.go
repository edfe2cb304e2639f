package inbound

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/internal/testdb"
)

// The reserve aims at what the rest of the current 30-minute interval
// needs for the interval to meet the target: at its start, the target plus
// the one-sided 95% margin on its expected calls (with no interval missed
// in the last day); after late callers, more; after callers answered in
// time, no less than at the start (a reserve lowered now could not be
// raised in time to stop the misses it lets through); and afresh in the
// next interval.
func TestReserveAimsAtTheRestOfTheInterval(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return start.Add(time.Duration(s) * time.Second) }
	rate := 100.0 / 1800 // 100 callers an interval
	fresh := func() *queueState {
		return &queueState{cfg: Queue{SLThreshold: 20 * time.Second, SLTarget: 0.8}}
	}

	q := fresh()
	opening := q.aimedSL(at(0), 0, rate).sl
	z95 := math.Sqrt2 * math.Erfinv(0.9) // 1.645
	require.InDelta(t, 0.8+z95*math.Sqrt(0.8*0.2/100), opening, 1e-9)

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
	ahead, behind := good.aimedSL(mid, 0, rate).sl, bad.aimedSL(mid, 0, rate).sl
	require.InDelta(t, opening, ahead, 1e-9, "an interval gone well keeps the opening aim")
	require.True(t, good.aimedSL(mid, 0, rate).ahead(), "and is ahead")
	require.False(t, bad.aimedSL(mid, 0, rate).ahead())
	require.Greater(t, behind, opening, "one gone badly asks for more")
	require.InDelta(t, (0.8*100-37+z95*math.Sqrt(50*0.8*0.2))/50, behind, 1e-9)
	require.Greater(t, good.aimedSL(mid, 30, rate).sl, ahead, "callers waiting past the threshold are late already")

	worse := fresh()
	worse.tally = bad.tally
	for range 30 {
		worse.tally.see(EvAbandon, at(900), at(960), 20*time.Second)
	}
	require.Equal(t, maxAimedSL, worse.aimedSL(at(960), 0, rate).sl, "never aims beyond the cap")

	next := at(1800)
	bad.tally.see(EvConnect, at(1790), next.Add(time.Minute), 20*time.Second) // judged with the interval before
	require.Equal(t, [2]int{0, 0}, [2]int{bad.tally.within, bad.tally.late})
	require.InDelta(t, opening, good.aimedSL(next, 0, rate).sl, 1e-9, "a new interval starts afresh")
	afresh := bad.aimedSL(next, 0, rate)
	require.InDelta(t, afresh.opening, afresh.catchUp, 1e-9, "its late callers are not carried over")
	require.Greater(t, afresh.opening, opening, "but the interval missed is spent from the day's budget (aimZ)")
}

// The day's missed intervals are a budget (queueState.aimZ): with none in
// the last day an interval aims at 95% confidence as before; one missed
// tightens the aim, two more, more than two no further; intervals met never
// loosen it below 95%, nor do intervals without callers count; a miss is
// spent for a day after its interval, across midnight.
func TestAimSpendsTheDaysMissedIntervals(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 5, 21, 0, 0, 0, time.UTC)
	iv := func(i int) time.Time { return start.Add(time.Duration(i) * slInterval) }
	const threshold = 20 * time.Second
	rate := 100.0 / 1800 // 100 callers an interval
	q := &queueState{cfg: Queue{SLThreshold: threshold, SLTarget: 0.8}}
	met := func(i int) {
		for k := range 5 {
			e := iv(i).Add(time.Duration(k) * time.Minute)
			q.tally.see(EvConnect, e, e.Add(5*time.Second), threshold)
		}
	}
	miss := func(i int) {
		met(i)
		for k := range 2 { // 5 of 7 in time: 71%
			e := iv(i).Add(time.Duration(10+k) * time.Minute)
			q.tally.see(EvConnect, e, e.Add(time.Minute), threshold)
		}
	}
	opening := func(i int) float64 { return q.aimedSL(iv(i), 0, rate).opening }
	withMiss := func(p float64) float64 {
		return 0.8 + math.Sqrt2*math.Erfinv(1-2*p)*math.Sqrt(0.8*0.2/100)
	}
	clean, one, two := withMiss(0.05), withMiss((2.4-1)/48), withMiss((2.4-2)/48)
	require.InDelta(t, 0.8+1.645*0.04, clean, 1e-4)
	require.Greater(t, one, clean+0.005)
	require.Greater(t, two, one+0.015)

	for i := range 4 {
		met(i)
	}
	require.InDelta(t, clean, opening(4), 1e-9, "a clean day: 95%")
	miss(4) // 23:00
	for i := 5; i < 30; i++ {
		require.InDelta(t, one, opening(i), 1e-9, "interval %d: one miss, across midnight too", i)
		met(i)
	}
	miss(30) // 12:00 the next day
	require.InDelta(t, two, opening(31), 1e-9, "two misses")
	miss(31)
	require.InDelta(t, two, opening(32), 1e-9, "a third tightens no further")
	// From 32 on, no callers: intervals not judged.
	require.InDelta(t, two, opening(77), 1e-9, "the second counts until a day after it")
	require.InDelta(t, one, opening(78), 1e-9, "then one")
	require.InDelta(t, clean, opening(79), 1e-9, "then none; intervals without callers are no miss")
	require.Len(t, q.tally.past, 0)
}

// A caller of an interval that settles after it ended (a caller waiting
// across the turn is mostly late) is judged with that interval's record;
// an interval with no settled caller at its end takes them too.
func TestLateSettlersCountInTheirIntervalsRecord(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	const threshold = 20 * time.Second
	var tally slTally
	for k := range 4 {
		e := start.Add(time.Duration(k) * time.Minute)
		tally.see(EvConnect, e, e.Add(5*time.Second), threshold)
	}
	turn := start.Add(slInterval)
	tally.see(EvConnect, turn.Add(-10*time.Second), turn.Add(30*time.Second), threshold) // late, after the turn
	tally.see(EvAbandon, turn.Add(-5*time.Second), turn.Add(time.Second), threshold)     // hung up in time: neither
	require.Equal(t, []intervalCount{{start: start, within: 4, late: 1}}, tally.past)
	require.False(t, tally.past[0].missed(0.8))
	tally.see(EvAbandon, turn.Add(-2*time.Second), turn.Add(time.Minute), threshold) // hung up late
	require.True(t, tally.past[0].missed(0.8), "4 of 6 in time")

	quiet := turn.Add(slInterval) // no caller settled in it before its end
	tally.see(EvConnect, quiet.Add(slInterval-time.Second), quiet.Add(slInterval+time.Minute), threshold)
	require.Equal(t, []intervalCount{{start: start, within: 4, late: 2}, {start: quiet, late: 1}}, tally.past)
	require.Equal(t, [2]int{0, 0}, [2]int{tally.within, tally.late}, "nor in the interval under way")
}

// The calibration is observed over expected late callers for each reserve
// apart: misses with one reserve say nothing of another's (a strict
// reserve's stubborn misses do not make a small reserve look worse than it
// is), a reserve never seen takes the pooled ratio, and a ratio follows a
// change within its window.
func TestCalibrationIsObservedOverExpectedPerReserve(t *testing.T) {
	t.Parallel()
	var c calibration
	require.Equal(t, 1.0, c.ratio(0), "the model, before any outcome")
	feed := func(reserve int, modelLate float64, n, lateEvery int) {
		for i := range n {
			c.see(reserveMark{reserve: reserve, late: modelLate}, i%lateEvery == 0)
		}
	}
	feed(0, 0.4, 1000, 10) // the model says 40% late, 10% are: a dialer's slack
	require.InDelta(t, 0.25, c.ratio(0), 0.03)
	feed(3, 0.02, 1000, 10) // the model says 2%, 10% are
	require.Greater(t, c.ratio(3), 3.5)
	pooled := c.ratio(5)
	require.True(t, pooled > c.ratio(0) && pooled < c.ratio(3), "a reserve never seen takes the pooled ratio: %g", pooled)
	require.Less(t, c.ratio(0), 0.4, "misses with another reserve reach this one only through the prior's weight")

	feed(0, 0.4, 1000, 2) // now half are late
	require.InDelta(t, 1.25, c.ratio(0), 0.1, "follows the change")
}

// Each caller is judged with the reserve in force when they entered, even
// when they settle after it changed; callers of the interval before are
// not judged again.
func TestTallyJudgesCallersByTheReserveTheyEnteredUnder(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return start.Add(time.Duration(s) * time.Second) }
	var tally slTally
	tally.mark(reserveMark{at: at(0), reserve: 2, late: 0.05})
	tally.mark(reserveMark{at: at(1), reserve: 2, late: 0.0501}) // same reserve, no new mark
	tally.mark(reserveMark{at: at(600), reserve: 0, late: 0.4})
	require.Len(t, tally.marks, 2)

	tally.see(EvConnect, at(100), at(700), 20*time.Second) // entered under reserve 2, late
	tally.see(EvConnect, at(650), at(655), 20*time.Second) // under reserve 0, in time
	require.Equal(t, [2]int{1, 1}, [2]int{tally.within, tally.late})
	require.Equal(t, []float64{0, 0, 1}, tally.cal.observed)
	require.InDeltaSlice(t, []float64{0.4, 0, 0.05}, tally.cal.expected, 1e-9)

	tally.see(EvConnect, at(1790), at(1800+60), 20*time.Second) // judged with the interval before
	require.Equal(t, []float64{0, 0, 1}, tally.cal.observed)
	require.Len(t, tally.marks, 1, "the mark in force carries into the new interval")
	tally.see(EvConnect, at(1800+5), at(1800+10), 20*time.Second)
	require.InDeltaSlice(t, []float64{0.8, 0, 0.05}, tally.cal.expected, 1e-9, "judged with the mark carried over")
}

// Load keeps the reserve the calibrated model asks for: fewer agents than
// the bare model's c when outcomes show the team misses far less than the
// model says (a dialer's own slack serves callers), more when it misses
// more; never more than the agents.
func TestLoadFollowsTheCalibratedReserve(t *testing.T) {
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
	q := r.queues[1]
	model := r.Load(1, at).Reserve
	require.GreaterOrEqual(t, model, 1, "the bare model keeps agents back")
	q.tally.cal = calibration{allObs: 1, allExp: calibrationWindow}
	require.Less(t, r.Load(1, at).Reserve, model, "misses far fewer than the model: fewer kept")
	q.tally.cal = calibration{allObs: 3 * calibrationWindow, allExp: calibrationWindow}
	require.Greater(t, r.Load(1, at).Reserve, model, "misses more: more kept")
	q.tally.cal = calibration{allObs: 1e9, allExp: 1}
	require.Equal(t, 10, r.Load(1, at).Reserve, "never more than the agents")
}

// However often pacing asks and however many campaigns' engines (clocks a
// little apart) share the queue, an interval keeps at most one mark a
// second, in time order.
func TestTallyMarksAreBounded(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	var tally slTally
	for i := range 10_000 { // ten seconds of a reserve flapping every millisecond
		at := start.Add(time.Duration(i) * time.Millisecond)
		if i%3 == 0 {
			at = at.Add(-50 * time.Millisecond) // another engine's clock, a little behind
		}
		tally.mark(reserveMark{at: at, reserve: i % 2, late: 0.1})
	}
	require.LessOrEqual(t, len(tally.marks), 11)
	for i := 1; i < len(tally.marks); i++ {
		require.False(t, tally.marks[i].at.Before(tally.marks[i-1].at), "in time order")
	}
}

// A time a little behind, from another campaign's engine, at an interval's
// turn does not take the tally back to the interval before.
func TestTallyNeverRollsBack(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	var tally slTally
	tally.see(EvConnect, start.Add(time.Second), start.Add(2*time.Second), 20*time.Second)
	tally.mark(reserveMark{at: start.Add(-time.Millisecond), reserve: 1, late: 0.1})
	require.Equal(t, start, tally.start)
	require.Equal(t, 1, tally.within)
}

// The lower bound of a reserve's ratio is below its estimate, the more so
// the fewer outcomes it rests on, and closes on it as they come.
func TestCalibrationLowBoundTightensWithOutcomes(t *testing.T) {
	t.Parallel()
	var c calibration
	require.Less(t, c.low(1), 0.6*c.ratio(1), "no outcome: the prior alone, loosely")
	for i := range 70 { // 7 late of 7 expected
		c.see(reserveMark{reserve: 1, late: 0.1}, i%10 == 0)
	}
	few := c.ratio(1) - c.low(1)
	require.InDelta(t, 1.0, c.ratio(1), 0.05)
	require.Greater(t, few, 0.25)
	for i := range 400 {
		c.see(reserveMark{reserve: 1, late: 0.1}, i%10 == 0)
	}
	require.InDelta(t, 1.0, c.ratio(1), 0.05)
	require.Less(t, c.ratio(1)-c.low(1), few/2, "more outcomes, a tighter bound")
	require.Greater(t, c.low(1), 0.75)
}

// One below the calibrated reserve is tried only while every goal's
// interval is ahead, could meet its aim by the bound and affords it by
// the estimate.
func TestExploreBelowOnlyWhenAheadAndAffordable(t *testing.T) {
	t.Parallel()
	var unsure, settled calibration
	for i := range 70 { // reserve 1: 7 late of 7 expected, its ratio 1
		unsure.see(reserveMark{reserve: 1, late: 0.1}, i%10 == 0)
	}
	for i := range 2000 {
		settled.see(reserveMark{reserve: 1, late: 0.1}, i%10 == 0)
	}
	const modelLate = 0.11 // late with reserve 1: 11%, the aim allows 8%
	ahead := reserveGoal{cal: &unsure, allowed: 0.08, affords: 0.2, ahead: true}
	require.True(t, exploreBelow(1, modelLate, []reserveGoal{ahead}), "an unsure reserve is tried while ahead")

	behind := ahead
	behind.ahead = false
	require.False(t, exploreBelow(1, modelLate, []reserveGoal{behind}), "never while behind")
	tight := ahead
	tight.affords = 0.1
	require.False(t, exploreBelow(1, modelLate, []reserveGoal{tight}), "nor where the interval cannot afford its estimate")
	sure := ahead
	sure.cal = &settled
	require.False(t, exploreBelow(1, modelLate, []reserveGoal{sure}), "nor once its outcomes show it too small")
	require.False(t, exploreBelow(1, modelLate, []reserveGoal{ahead, behind}), "every goal must agree")
}

// The record the aim spends comes from the event log too (every node's
// callers, kept across a restart): a miss logged 3 hours ago counts, one
// 25 hours ago does not, nor the interval under way, nor an interval
// whose callers all hung up in time.
func TestRecordsFromTheLogSetTheAim(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := NewEventStore(testdb.NewPool(t))
	now := time.Now().Truncate(slInterval).Add(10 * time.Minute)
	const threshold = 20 * time.Second
	var evs []Event
	call := CallKey(0)
	visit := func(start time.Time, wait time.Duration, kind EventKind) {
		call++
		end := Event{Queue: 1, Call: call, Kind: kind, At: start.Add(wait), Entered: start}
		if kind == EvConnect {
			end.Agent = 1
		}
		evs = append(evs, Event{Queue: 1, Call: call, Kind: EvEnter, At: start, Entered: start}, end)
	}
	interval := func(start time.Time, late int) { // 5 in time, late after
		for k := range 5 {
			visit(start.Add(time.Duration(k)*time.Second), 5*time.Second, EvConnect)
		}
		for k := range late {
			visit(start.Add(time.Duration(10+k)*time.Second), time.Minute, EvConnect)
		}
	}
	cur := now.Truncate(slInterval)
	interval(cur.Add(-25*time.Hour), 3)                  // a miss, too old
	interval(cur.Add(-3*time.Hour), 2)                   // a miss: 5 of 7
	interval(cur.Add(-2*time.Hour), 1)                   // met: 5 of 6
	visit(cur.Add(-time.Hour), 5*time.Second, EvAbandon) // hung up in time: not judged
	interval(cur, 3)                                     // under way: the router's own
	require.NoError(t, store.Append(ctx, evs))

	r, _ := newTestRouter(t, Config{Mode: Blended})
	rSetQueue(t, r, rQueue(1), rMembers(1, 1))
	records, err := store.Records(ctx, map[QueueID]time.Duration{1: threshold}, now)
	require.NoError(t, err)
	r.SetRecords(records, now)
	q := r.queues[1]
	require.Len(t, q.tally.past, 2, "the two judged intervals of the last day")
	require.Equal(t, intervalCount{start: cur.Add(-3 * time.Hour), within: 5, late: 2}, q.tally.past[0])
	require.InDelta(t, math.Sqrt2*math.Erfinv(1-2*(2.4-1)/48), q.aimZ(), 1e-9, "one miss spent")

	// The last interval's callers the router saw itself and the log has
	// not got yet (it is written behind): a miss the log cannot erase.
	last := cur.Add(-slInterval)
	for k := range 7 {
		e := last.Add(time.Duration(k) * time.Minute)
		wait := 5 * time.Second
		if k >= 5 {
			wait = time.Minute
		}
		q.tally.see(EvConnect, e, e.Add(wait), threshold)
	}
	r.SetRecords(records, now)
	require.Len(t, q.tally.past, 3)
	require.Equal(t, intervalCount{start: last, within: 5, late: 2}, q.tally.past[2])
	require.InDelta(t, math.Sqrt2*math.Erfinv(1-2*(2.4-2)/48), q.aimZ(), 1e-9, "two misses: the log's and the router's own")

	r.SetRecords(map[QueueID][]IntervalFigures{1: nil}, now)
	require.Len(t, q.tally.past, 3, "a log that says less erases nothing: its counts only grow")

	fresh, _ := newTestRouter(t, Config{Mode: Blended})
	rSetQueue(t, fresh, rQueue(1), rMembers(1, 1))
	fresh.SetRecords(map[QueueID][]IntervalFigures{1: nil}, now)
	require.InDelta(t, 1.645, fresh.queues[1].aimZ(), 1e-3, "a clean log: 95%")
}
