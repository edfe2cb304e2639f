package inbound

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
)

// t0 is 09:00 on a day; the tests' intervals are half hours from there.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func sec(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// call writes one call's life in the log.
type call struct {
	log     *[]Event
	key     CallKey
	from    string
	did     string
	entered time.Time
}

func newCall(log *[]Event, key CallKey, from, did string, enteredAt time.Duration) *call {
	return &call{log: log, key: key, from: from, did: did, entered: t0.Add(enteredAt)}
}

func (c *call) ev(q QueueID, kind EventKind, at time.Duration, agent agents.ID) *call {
	*c.log = append(*c.log, Event{Queue: q, Call: c.key, Kind: kind, At: t0.Add(at), Entered: c.entered,
		Agent: agent, From: c.from, DID: c.did})
	return c
}

func (c *call) enter(q QueueID, at time.Duration) *call { return c.ev(q, EvEnter, at, 0) }

func (c *call) offer(q QueueID, at time.Duration, a agents.ID) *call { return c.ev(q, EvOffer, at, a) }

func (c *call) connect(q QueueID, at time.Duration, a agents.ID) *call {
	return c.ev(q, EvConnect, at, a)
}

func (c *call) abandon(q QueueID, at time.Duration) *call { return c.ev(q, EvAbandon, at, 0) }

func (c *call) overflow(q QueueID, at time.Duration, to QueueID) *call {
	*c.log = append(*c.log, Event{Queue: q, Call: c.key, Kind: EvOverflow, At: t0.Add(at), Entered: c.entered,
		From: c.from, DID: c.did, Detail: fmt.Sprintf("queue %d", to)})
	return c
}

func (c *call) exit(q QueueID, at time.Duration) *call { return c.ev(q, EvExit, at, 0) }

const (
	qSales   QueueID = 1
	qSupport QueueID = 2
	qBackup  QueueID = 3
)

var thresholds20 = map[QueueID]time.Duration{qSales: sec(20), qSupport: sec(20), qBackup: sec(20)}

func TestAnsweredWithinThresholdCountsForServiceLevelAndLateOnesDoNot(t *testing.T) {
	t.Parallel()
	var log []Event
	newCall(&log, 1, "+12025550101", "+18005550100", 0).enter(qSales, 0).offer(qSales, 0, 7).connect(qSales, sec(5), 7)
	newCall(&log, 2, "+12025550102", "+18005550100", sec(1)).enter(qSales, sec(1)).connect(qSales, sec(21), 8) // exactly 20 s: within
	newCall(&log, 3, "+12025550103", "+18005550100", sec(2)).enter(qSales, sec(2)).
		offer(qSales, sec(3), 7).ev(qSales, EvReject, sec(4), 7).
		offer(qSales, sec(4), 8).ev(qSales, EvTimeout, sec(34), 8).connect(qSales, sec(47), 9) // 45 s: late
	newCall(&log, 4, "+12025550104", "+18005550100", sec(3)).enter(qSales, sec(3)).connect(qSales, sec(23.001), 7)

	f := Compute(log, thresholds20, t0, t0.Add(30*time.Minute), t0.Add(time.Hour))[qSales]
	require.Equal(t, 4, f.Offered)
	require.Equal(t, 4, f.Answered)
	require.Equal(t, 2, f.AnsweredWithin, "5 s and exactly 20 s are within; 45 s and 20.001 s are not")
	require.Equal(t, 0.5, f.SLAnswered)
	require.Equal(t, 0.5, f.SLOffered, "no abandons: both formulas agree")
	require.Equal(t, (sec(5)+sec(20)+sec(45)+sec(20.001))/4, f.ASA)
	require.Zero(t, f.Waiting)
	require.Zero(t, f.LongestWait)
	require.Equal(t, sec(20), f.Threshold)
}

func TestAbandonsBeforeTheThresholdDoNotCountAgainstTheOfferedServiceLevel(t *testing.T) {
	t.Parallel()
	var log []Event
	newCall(&log, 1, "+12025550101", "+18005550100", 0).enter(qSupport, 0).connect(qSupport, sec(10), 7)
	newCall(&log, 2, "+12025550102", "+18005550100", 0).enter(qSupport, 0).connect(qSupport, sec(30), 8)
	// Hung up after 8 s, while an offer rang: a short abandon.
	newCall(&log, 3, "+12025550103", "+18005550199", sec(60)).enter(qSupport, sec(60)).
		offer(qSupport, sec(61), 7).abandon(qSupport, sec(68))
	// Hung up after 50 s: a late abandon.
	newCall(&log, 4, "+12025550104", "+18005550100", sec(40)).enter(qSupport, sec(40)).abandon(qSupport, sec(90))

	f := Compute(log, thresholds20, t0, t0.Add(30*time.Minute), t0.Add(time.Hour))[qSupport]
	require.Equal(t, 4, f.Offered)
	require.Equal(t, 2, f.Answered)
	require.Equal(t, 2, f.Abandoned)
	require.Equal(t, 1, f.AbandonedWithin)
	require.Equal(t, 1, f.AbandonedAfter)
	require.Equal(t, 0.5, f.SLAnswered, "1 of 2 answered within 20 s")
	require.InDelta(t, 1.0/3, f.SLOffered, 1e-15, "1 within ÷ (2 answered + 1 late abandon)")
	require.Equal(t, []Abandoned{
		{Call: 3, From: "+12025550103", DID: "+18005550199", At: t0.Add(sec(68)), Wait: sec(8)},
		{Call: 4, From: "+12025550104", DID: "+18005550100", At: t0.Add(sec(90)), Wait: sec(50)},
	}, f.Abandons, "the abandoned callers in the order they hung up, with their numbers and waits")
}

func TestAnOverflowedCallerKeepsTheirFirstEntryThroughAChainOfQueues(t *testing.T) {
	t.Parallel()
	var log []Event
	// Sales → Support at 15 s → Backup at 40 s, answered there at 50 s:
	// only 10 s in Backup, but the caller waited 50 s.
	newCall(&log, 1, "+12025550101", "+18005550100", 0).
		enter(qSales, 0).overflow(qSales, sec(15), qSupport).
		enter(qSupport, sec(15)).overflow(qSupport, sec(40), qBackup).
		enter(qBackup, sec(40)).connect(qBackup, sec(50), 7)
	// Sales → Support at 12 s, abandoned there at 18 s: within the
	// threshold counted from the first entry.
	newCall(&log, 2, "+12025550102", "+18005550100", sec(100)).
		enter(qSales, sec(100)).overflow(qSales, sec(112), qSupport).
		enter(qSupport, sec(112)).abandon(qSupport, sec(118))

	all := Compute(log, thresholds20, t0, t0.Add(30*time.Minute), t0.Add(time.Hour))
	sales, support, backup := all[qSales], all[qSupport], all[qBackup]
	require.Equal(t, 2, sales.Offered)
	require.Equal(t, 2, sales.Overflowed)
	require.Zero(t, sales.Answered+sales.Abandoned+sales.Waiting)
	require.False(t, sales.HasSLAnswered())
	require.False(t, sales.HasSLOffered(), "overflows are neither answers nor abandons")

	require.Equal(t, 2, support.Offered)
	require.Equal(t, 1, support.Overflowed)
	require.Equal(t, 1, support.Abandoned)
	require.Equal(t, 1, support.AbandonedWithin)
	require.Equal(t, sec(18), support.Abandons[0].Wait, "wait from the first entry in Sales")

	require.Equal(t, 1, backup.Offered)
	require.Equal(t, 1, backup.Answered)
	require.Zero(t, backup.AnsweredWithin, "50 s from the first entry: late, though only 10 s in Backup")
	require.Equal(t, sec(50), backup.ASA)
	require.Equal(t, 0.0, backup.SLAnswered)
}

func TestWaitingAndLongestWaitAreAsOfNow(t *testing.T) {
	t.Parallel()
	var log []Event
	newCall(&log, 1, "", "", 0).enter(qSales, 0).offer(qSales, sec(1), 7).ev(qSales, EvTimeout, sec(31), 7)
	// Overflowed in from Support: waiting in Sales since 10 s, first
	// entered at 2 s.
	newCall(&log, 2, "", "", sec(2)).enter(qSupport, sec(2)).overflow(qSupport, sec(10), qSales).enter(qSales, sec(10))
	newCall(&log, 3, "", "", sec(5)).enter(qSales, sec(5)).connect(qSales, sec(6), 8)
	// Answered after now: still waiting as of now.
	newCall(&log, 4, "", "", sec(20)).enter(qSales, sec(20)).connect(qSales, sec(90), 9)

	now := t0.Add(sec(60))
	f := Compute(log, thresholds20, t0, t0.Add(30*time.Minute), now)[qSales]
	require.Equal(t, 4, f.Offered)
	require.Equal(t, 3, f.Waiting, "calls 1, 2 and 4 wait at 60 s; the connect at 90 s has not happened yet")
	require.Equal(t, sec(60), f.LongestWait)
	require.Equal(t, 1, f.Answered)

	later := Compute(log, thresholds20, t0, t0.Add(30*time.Minute), t0.Add(sec(100)))[qSales]
	require.Equal(t, 2, later.Waiting)
	require.Equal(t, sec(100), later.LongestWait)
	require.Equal(t, 2, later.Answered)
	require.Equal(t, 1, Compute(log, thresholds20, t0, t0.Add(30*time.Minute), now)[qSupport].Overflowed)
}

func TestACallCountsInTheIntervalItEntered(t *testing.T) {
	t.Parallel()
	var log []Event
	half := 30 * time.Minute
	// Entered 1 ms before 09:30, answered at 09:31: the 09:00 interval.
	newCall(&log, 1, "", "", half-time.Millisecond).enter(qSales, half-time.Millisecond).connect(qSales, half+time.Minute, 7)
	// Entered at 09:30 exactly: the 09:30 interval.
	newCall(&log, 2, "", "", half).enter(qSales, half).connect(qSales, half+sec(3), 7)
	// Entered at 09:59:50, abandoned at 10:00:30: counted at 09:30.
	newCall(&log, 3, "", "", 2*half-sec(10)).enter(qSales, 2*half-sec(10)).abandon(qSales, 2*half+sec(30))
	// Entered at 10:05, waiting at now.
	newCall(&log, 4, "", "", 2*half+5*time.Minute).enter(qSales, 2*half+5*time.Minute)
	// Entered the day before: not in any interval of today.
	newCall(&log, 5, "", "", -time.Hour).enter(qSales, -time.Hour).connect(qSales, -time.Hour+sec(2), 7)

	now := t0.Add(2*half + 10*time.Minute)
	ivs := Intervals(log, thresholds20, t0, now, half)[qSales]
	require.Len(t, ivs, 3, "09:00, 09:30 and 10:00 (the one now falls in)")
	for i, iv := range ivs {
		require.Equal(t, t0.Add(time.Duration(i)*half), iv.Start)
		require.Equal(t, iv.Start.Add(half), iv.End)
		require.Equal(t, Compute(log, thresholds20, iv.Start, iv.End, now)[qSales], iv.Figures,
			"interval %d is Compute over its own span", i)
	}
	require.Equal(t, 1, ivs[0].Figures.Offered)
	require.Equal(t, 1, ivs[0].Figures.Answered)
	require.Zero(t, ivs[0].Figures.AnsweredWithin, "answered after 60.001 s")
	require.Equal(t, 2, ivs[1].Figures.Offered)
	require.Equal(t, 1, ivs[1].Figures.Answered)
	require.Equal(t, 1, ivs[1].Figures.AbandonedAfter, "the 40 s abandon counts where the call entered")
	require.Equal(t, 1, ivs[2].Figures.Offered)
	require.Equal(t, 1, ivs[2].Figures.Waiting)
	require.Equal(t, 5*time.Minute, ivs[2].Figures.LongestWait)

	day := Compute(log, thresholds20, t0, now, now)[qSales]
	require.Equal(t, 4, day.Offered, "the day's figures leave out yesterday's call")

	require.Len(t, Intervals(log, thresholds20, t0, t0, half)[qSales], 1, "at the day's first instant: one interval")
	require.Empty(t, Intervals(log, thresholds20, t0, t0.Add(-time.Second), half)[qSales], "now before the day")
	require.Empty(t, Intervals(log, thresholds20, t0, now, 0)[qSales], "no step, no intervals")
	tiny := Intervals(log, thresholds20, t0, now, time.Nanosecond)[qSales]
	require.Len(t, tiny, MaxIntervals, "a silly step does not allocate without bound")
	require.Equal(t, t0.Add(MaxIntervals*time.Nanosecond), tiny[MaxIntervals-1].End)
}

func TestAQueueWithNoCallsHasNoServiceLevelAndEncodesAsNull(t *testing.T) {
	t.Parallel()
	all := Compute(nil, Thresholds(Queue{ID: qBackup, SLThreshold: sec(30)}), t0, t0.Add(time.Hour), t0.Add(time.Hour))
	f, ok := all[qBackup]
	require.True(t, ok, "a queue in thresholds is reported though it had no calls")
	require.Equal(t, sec(30), f.Threshold)
	require.Zero(t, f.Offered)
	require.Zero(t, f.SLAnswered)
	require.Zero(t, f.SLOffered)
	require.False(t, f.HasSLAnswered())
	require.False(t, f.HasSLOffered())
	require.Zero(t, f.ASA)

	b, err := json.Marshal(f)
	require.NoError(t, err)
	require.JSONEq(t, `{"threshold_s": 30, "waiting": 0, "longest_wait_s": 0, "offered": 0, "answered": 0,
		"abandoned": 0, "overflowed": 0, "exited": 0, "answered_within": 0, "abandoned_within": 0,
		"abandoned_after": 0, "sl_answered": null, "sl_offered": null, "asa_s": null, "abandons": []}`, string(b))

	ivs := Intervals(nil, map[QueueID]time.Duration{qBackup: sec(30)}, t0, t0.Add(time.Hour), 30*time.Minute)
	b, err = json.Marshal(ivs)
	require.NoError(t, err)
	require.Contains(t, string(b), `"start":"2026-03-02T09:00:00Z"`)
	require.Contains(t, string(b), `"sl_offered":null`)
}

func TestFiguresEncodeInSecondsWithTheirAbandons(t *testing.T) {
	t.Parallel()
	var log []Event
	newCall(&log, 1, "+12025550101", "+18005550100", 0).enter(qSales, 0).connect(qSales, sec(4), 7)
	newCall(&log, 2, "+12025550102", "+18005550100", 0).enter(qSales, 0).abandon(qSales, sec(25.5))
	newCall(&log, 3, "+12025550103", "+18005550100", 0).enter(qSales, 0)
	f := Compute(log, nil, t0, t0.Add(time.Hour), t0.Add(sec(30)))[qSales]
	b, err := json.Marshal(f)
	require.NoError(t, err)
	require.JSONEq(t, `{"threshold_s": 20, "waiting": 1, "longest_wait_s": 30, "offered": 3, "answered": 1,
		"abandoned": 1, "overflowed": 0, "exited": 0, "answered_within": 1, "abandoned_within": 0,
		"abandoned_after": 1, "sl_answered": 1, "sl_offered": 0.5, "asa_s": 4,
		"abandons": [{"call": 2, "from": "+12025550102", "did": "+18005550100", "at": "2026-03-02T09:00:25.5Z",
		"wait_s": 25.5}]}`, string(b))
}

func TestExitsCountOnceAndFutureEventsAreIgnored(t *testing.T) {
	t.Parallel()
	var log []Event
	newCall(&log, 1, "", "", 0).enter(qSales, 0).exit(qSales, sec(30))
	now := t0.Add(sec(60))
	newCall(&log, 2, "", "", sec(61)).enter(qSales, sec(61)) // after now
	f := Compute(log, thresholds20, t0, t0.Add(time.Hour), now)[qSales]
	require.Equal(t, 1, f.Offered)
	require.Equal(t, 1, f.Exited)
	require.False(t, f.HasSLOffered())
}

func TestAnImperfectLogStillGivesOneAnswer(t *testing.T) {
	t.Parallel()
	var log []Event
	// Entered before the events given: its connect has no open visit.
	log = append(log, Event{Queue: qSales, Call: 1, Kind: EvConnect, At: t0.Add(sec(5)), Entered: t0.Add(-sec(5)), Agent: 7})
	// Entered twice without leaving: one visit, whose wait starts at the first.
	newCall(&log, 2, "", "", 0).enter(qSales, 0).enter(qSales, sec(3)).connect(qSales, sec(25), 7)
	// Terminal events after the first close nothing more.
	newCall(&log, 3, "", "", 0).enter(qSales, 0).abandon(qSales, sec(4)).abandon(qSales, sec(9)).connect(qSales, sec(10), 7)
	// Entered is missing: the wait counts from the enter event.
	log = append(log, Event{Queue: qSales, Call: 4, Kind: EvEnter, At: t0.Add(sec(40))},
		Event{Queue: qSales, Call: 4, Kind: EvConnect, At: t0.Add(sec(45)), Agent: 8})
	// Entered after the connect (clock skew): a wait of zero.
	log = append(log, Event{Queue: qSales, Call: 5, Kind: EvEnter, At: t0.Add(sec(50)), Entered: t0.Add(sec(52))},
		Event{Queue: qSales, Call: 5, Kind: EvConnect, At: t0.Add(sec(51)), Entered: t0.Add(sec(52)), Agent: 8})

	f := Compute(log, thresholds20, t0, t0.Add(time.Hour), t0.Add(time.Hour))[qSales]
	require.Equal(t, 4, f.Offered)
	require.Equal(t, 3, f.Answered)
	require.Equal(t, 1, f.Abandoned)
	require.Equal(t, 2, f.AnsweredWithin, "25 s is late, 5 s and 0 s are within")
	require.Equal(t, (sec(25)+sec(5)+0)/3, f.ASA)
}

func TestEventsOutOfOrderGiveTheSameFigures(t *testing.T) {
	t.Parallel()
	var log []Event
	for i := range 40 {
		at := time.Duration(i) * sec(37)
		c := newCall(&log, CallKey(i+1), fmt.Sprintf("+120255501%02d", i), "+18005550100", at)
		c.enter(qSales, at).offer(qSales, at+sec(1), 7)
		switch i % 4 {
		case 0:
			c.connect(qSales, at+sec(float64(i)), 7)
		case 1:
			c.abandon(qSales, at+sec(float64(2*i)))
		case 2:
			c.overflow(qSales, at+sec(9), qSupport).enter(qSupport, at+sec(9)).connect(qSupport, at+sec(31), 8)
		}
	}
	now := t0.Add(20 * time.Minute)
	want := Compute(log, thresholds20, t0, now, now)
	wantIv := Intervals(log, thresholds20, t0, now, 5*time.Minute)

	r := rand.New(rand.NewPCG(1, 2))
	for range 5 {
		shuffled := append([]Event(nil), log...)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		require.Equal(t, want, Compute(shuffled, thresholds20, t0, now, now))
		require.Equal(t, wantIv, Intervals(shuffled, thresholds20, t0, now, 5*time.Minute))
	}
	require.Equal(t, 33, want[qSales].Offered, "calls 0..32 entered by 20 min")
	require.Equal(t, 8, want[qSales].Overflowed)
	require.Equal(t, 8, want[qSupport].Answered)
}

// An enter and a connect at one instant are an answer, not an orphan
// connect followed by a waiting caller, whatever order they come in.
func TestACallAnsweredTheInstantItArrivesIsAnAnswer(t *testing.T) {
	t.Parallel()
	at := t0.Add(sec(10))
	log := []Event{
		{Seq: 12, Queue: qSales, Call: 1, Kind: EvConnect, At: at, Entered: at, Agent: 7},
		{Seq: 11, Queue: qSales, Call: 1, Kind: EvEnter, At: at, Entered: at},
	}
	f := Compute(log, thresholds20, t0, t0.Add(time.Hour), t0.Add(time.Hour))[qSales]
	require.Equal(t, 1, f.Answered)
	require.Zero(t, f.Waiting)
	require.Equal(t, 1.0, f.SLAnswered)
}

func TestMetShareCountsIntervalsWithDataOnly(t *testing.T) {
	t.Parallel()
	var log []Event
	half := 30 * time.Minute
	// 09:00: 4 of 5 within (0.8 answered), plus a late abandon (4/6 offered).
	for i := range 5 {
		w := sec(5)
		if i == 4 {
			w = sec(40)
		}
		newCall(&log, CallKey(i+1), "", "", 0).enter(qSales, 0).connect(qSales, w, 7)
	}
	newCall(&log, 6, "", "", 0).enter(qSales, 0).abandon(qSales, sec(30))
	// 09:30: nothing. 10:00: one call, answered late.
	newCall(&log, 7, "", "", 2*half).enter(qSales, 2*half).connect(qSales, 2*half+sec(21), 7)
	// 10:30: one short abandon only: no data for either formula.
	newCall(&log, 8, "", "", 3*half).enter(qSales, 3*half).abandon(qSales, 3*half+sec(2))

	ivs := Intervals(log, thresholds20, t0, t0.Add(4*half-time.Second), half)[qSales]
	require.Len(t, ivs, 4)
	met, with := MetShare(ivs, 0.8, false)
	require.Equal(t, 1, met, "0.8 meets a target of 0.8")
	require.Equal(t, 2, with)
	met, with = MetShare(ivs, 0.8, true)
	require.Equal(t, 0, met, "4 ÷ 6 with the late abandon")
	require.Equal(t, 2, with)
	met, with = MetShare(nil, 0.8, true)
	require.Zero(t, met+with)
}

// Whatever the log, every visit counted as offered ends exactly one way or
// is still waiting, in every interval and over the day, and the intervals
// add up to the day.
func TestEveryOfferedCallIsAnsweredAbandonedOverflowedExitedOrWaiting(t *testing.T) {
	t.Parallel()
	kinds := []EventKind{EvEnter, EvOffer, EvConnect, EvReject, EvTimeout, EvAbandon, EvOverflow, EvExit}
	for seed := range uint64(200) {
		r := rand.New(rand.NewPCG(seed, 99))
		n := r.IntN(300)
		log := make([]Event, n)
		for i := range log {
			at := t0.Add(time.Duration(r.Int64N(int64(3 * time.Hour))))
			entered := at.Add(-time.Duration(r.Int64N(int64(2 * time.Minute))))
			if r.IntN(10) == 0 {
				entered = time.Time{}
			}
			log[i] = Event{Seq: int64(r.IntN(3) * (i + 1)), Queue: QueueID(1 + r.IntN(3)), Call: CallKey(1 + r.IntN(20)),
				Kind: kinds[r.IntN(len(kinds))], At: at, Entered: entered}
		}
		now := t0.Add(time.Duration(r.Int64N(int64(4 * time.Hour))))
		day := Compute(log, nil, t0, now.Add(time.Nanosecond), now)
		ivs := Intervals(log, nil, t0, now, 30*time.Minute)
		for q, f := range day {
			require.Equal(t, f.Offered, f.Answered+f.Abandoned+f.Overflowed+f.Exited+f.Waiting, "seed %d queue %d", seed, q)
			require.GreaterOrEqual(t, f.Answered, f.AnsweredWithin)
			require.Equal(t, f.Abandoned, f.AbandonedWithin+f.AbandonedAfter)
			require.Len(t, f.Abandons, f.Abandoned)
			var sum Figures
			for _, iv := range ivs[q] {
				g := iv.Figures
				require.Equal(t, g.Offered, g.Answered+g.Abandoned+g.Overflowed+g.Exited+g.Waiting, "seed %d queue %d", seed, q)
				sum.Offered += g.Offered
				sum.Answered += g.Answered
				sum.AnsweredWithin += g.AnsweredWithin
				sum.Abandoned += g.Abandoned
				sum.Waiting += g.Waiting
				sum.LongestWait = max(sum.LongestWait, g.LongestWait)
			}
			require.Equal(t, f.Offered, sum.Offered, "seed %d: intervals add up to the day", seed)
			require.Equal(t, f.Answered, sum.Answered)
			require.Equal(t, f.AnsweredWithin, sum.AnsweredWithin)
			require.Equal(t, f.Abandoned, sum.Abandoned)
			require.Equal(t, f.Waiting, sum.Waiting)
			require.Equal(t, f.LongestWait, sum.LongestWait)
		}
	}
}
