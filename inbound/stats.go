package inbound

import (
	"encoding/json"
	"sort"
	"time"
)

// The wallboard's and the simulator's queue figures, computed from the queue
// event log alone. These functions are the only definition of the figures:
// the web, the simulator and the store's StoredFigures all call them.
//
// A visit is one stay of a call in one queue: from its enter event to the
// first connect, abandon, overflow or exit of the same call in the same
// queue after it (the terminal event). A call that overflows from queue A to
// queue B makes two visits, one in each; a call that later comes back to A
// makes a second visit there. A visit counts in the interval its enter falls
// in, whenever its outcome came. Its wait runs from the Entered of its enter
// event (the call's first entry in any queue: an overflowed caller keeps
// their place), or from the enter itself when Entered is not known. Offers,
// rejects and timeouts do not change the figures.
//
// Rules for an imperfect log, so that every log gives one answer:
//   - events after now are ignored (the figures are as of now);
//   - an enter for a call already waiting in that queue is ignored;
//   - a terminal event with no open visit (its enter lies before the events
//     given, or was never written) is ignored;
//   - a wait is never negative: a call whose first entry is after the event
//     (another node's clock) has waited zero.
//
// Events are taken in the order of At; at one instant by kind, in the order
// of the EventKind constants (an enter first, so a call answered the instant
// it arrives is an answer whatever order its events come in; a connect
// before an abandon), then by Seq, then in the order given. The figures
// therefore do not depend on the order of the slice; and since the store
// keeps every field as given but rounds times down to the microsecond
// (EventStore.Append does the same in the caller's slice), the log read back
// gives exactly the figures of the events appended.

// DefaultSLThreshold is the service-level threshold of a queue that does not
// say (and of a queue missing from a thresholds map).
const DefaultSLThreshold = 20 * time.Second

// DefaultSLTarget is the share of callers a queue aims to answer within its
// threshold when it does not say.
const DefaultSLTarget = 0.8

// Figures are one queue's figures over the calls that entered it in an
// interval (the offered calls), as of a moment now.
type Figures struct {
	// Threshold is the service-level threshold T the figures use.
	Threshold time.Duration
	// Waiting is the number of offered calls still in the queue at now: they
	// entered and have had no connect, abandon, overflow or exit yet. Like
	// every figure it counts only calls that entered in the span asked for:
	// "waiting now" on the wallboard is Compute from the start of the day
	// (or earlier) to now.
	Waiting int
	// LongestWait is the longest wait among them at now, measured from
	// their first entry in any queue (an overflowed caller keeps their
	// place); 0 when none waits.
	LongestWait time.Duration
	// Offered counts the visits that entered the queue in the interval;
	// every one of them is exactly one of Answered, Abandoned, Overflowed,
	// Exited or Waiting.
	Offered int
	// Answered: an agent accepted the call (connect) in this queue.
	Answered int
	// Abandoned: the caller hung up while waiting or while an offer rang.
	Abandoned int
	// Overflowed: the call left for another queue or the queue's fallback
	// (a callback, a message and hang up) past the maximum wait or depth.
	Overflowed int
	// Exited: the call left for another reason (closing time, no agents).
	Exited int
	// AnsweredWithin counts answered calls whose wait was at most
	// Threshold; AbandonedWithin and AbandonedAfter split the abandoned
	// ones at the same point (at most Threshold, more than Threshold).
	AnsweredWithin  int
	AbandonedWithin int
	AbandonedAfter  int
	// SLAnswered is AnsweredWithin ÷ Answered. With nothing answered there
	// is no data: it is 0 and HasSLAnswered is false (JSON: null). Not NaN,
	// so that figures compare equal with reflect.DeepEqual and encode.
	SLAnswered float64
	// SLOffered is AnsweredWithin ÷ (Answered + AbandonedAfter): callers
	// who hung up quickly do not count against the queue, those who gave up
	// after the threshold do. With that sum zero there is no data: it is 0
	// and HasSLOffered is false (JSON: null).
	SLOffered float64
	// ASA (average speed of answer) is the mean wait of the answered calls,
	// from first entry to connect; 0 when none was answered.
	ASA time.Duration
	// Abandons lists the abandoned calls in the order they hung up.
	Abandons []Abandoned
}

// Abandoned is one caller who hung up before an agent took the call.
type Abandoned struct {
	Call CallKey
	From string // the caller's number
	DID  string // the number they dialled
	At   time.Time
	Wait time.Duration // from their first entry in any queue
}

// HasSLAnswered says whether SLAnswered has data (something was answered).
func (f Figures) HasSLAnswered() bool { return f.Answered > 0 }

// HasSLOffered says whether SLOffered has data.
func (f Figures) HasSLOffered() bool { return f.Answered+f.AbandonedAfter > 0 }

// SL returns the service level by one of the two formulas (offered: the
// one counting late abandons) and whether it has data; callers must not
// read a level without data as 0%.
func (f Figures) SL(offered bool) (float64, bool) {
	if offered {
		return f.SLOffered, f.HasSLOffered()
	}
	return f.SLAnswered, f.HasSLAnswered()
}

// MarshalJSON writes the figures with durations in seconds and a service
// level without data as null (JSON has no NaN), as the web serves them:
//
//	{"threshold_s", "waiting", "longest_wait_s", "offered", "answered",
//	 "abandoned", "overflowed", "exited", "answered_within",
//	 "abandoned_within", "abandoned_after", "sl_answered" (null: no data),
//	 "sl_offered" (null: no data), "asa_s" (null: none answered),
//	 "abandons": [{"call", "from", "did", "at", "wait_s"}]}
func (f Figures) MarshalJSON() ([]byte, error) {
	type abandonJSON struct {
		Call  CallKey   `json:"call"`
		From  string    `json:"from"`
		DID   string    `json:"did"`
		At    time.Time `json:"at"`
		WaitS float64   `json:"wait_s"`
	}
	out := struct {
		ThresholdS      float64       `json:"threshold_s"`
		Waiting         int           `json:"waiting"`
		LongestWaitS    float64       `json:"longest_wait_s"`
		Offered         int           `json:"offered"`
		Answered        int           `json:"answered"`
		Abandoned       int           `json:"abandoned"`
		Overflowed      int           `json:"overflowed"`
		Exited          int           `json:"exited"`
		AnsweredWithin  int           `json:"answered_within"`
		AbandonedWithin int           `json:"abandoned_within"`
		AbandonedAfter  int           `json:"abandoned_after"`
		SLAnswered      *float64      `json:"sl_answered"`
		SLOffered       *float64      `json:"sl_offered"`
		ASAS            *float64      `json:"asa_s"`
		Abandons        []abandonJSON `json:"abandons"`
	}{
		ThresholdS: f.Threshold.Seconds(), Waiting: f.Waiting, LongestWaitS: f.LongestWait.Seconds(),
		Offered: f.Offered, Answered: f.Answered, Abandoned: f.Abandoned, Overflowed: f.Overflowed, Exited: f.Exited,
		AnsweredWithin: f.AnsweredWithin, AbandonedWithin: f.AbandonedWithin, AbandonedAfter: f.AbandonedAfter,
		Abandons: make([]abandonJSON, 0, len(f.Abandons)),
	}
	if v, ok := f.SL(false); ok {
		out.SLAnswered = &v
	}
	if v, ok := f.SL(true); ok {
		out.SLOffered = &v
	}
	if f.Answered > 0 {
		asa := f.ASA.Seconds()
		out.ASAS = &asa
	}
	for _, a := range f.Abandons {
		out.Abandons = append(out.Abandons, abandonJSON{Call: a.Call, From: a.From, DID: a.DID, At: a.At,
			WaitS: a.Wait.Seconds()})
	}
	return json.Marshal(out)
}

// IntervalFigures are the figures of the calls that entered a queue in
// [Start, End).
type IntervalFigures struct {
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Figures Figures   `json:"figures"`
}

// visit is one stay of a call in one queue.
type visit struct {
	queue   QueueID
	call    CallKey
	enterAt time.Time // when it entered this queue: the interval it counts in
	entered time.Time // its first entry in any queue: where waits start
	from    string
	did     string
	end     EventKind // 0 while it waits
	endAt   time.Time
}

func (v visit) wait(now time.Time) time.Duration {
	at := now
	if v.end != 0 {
		at = v.endAt
	}
	if w := at.Sub(v.entered); w > 0 {
		return w
	}
	return 0
}

// visits reads the log into visits, ordered by entry into their queue, and
// returns every queue the log names.
func visits(events []Event, now time.Time) ([]visit, map[QueueID]bool) {
	order := make([]int, 0, len(events))
	for i := range events {
		if !events[i].At.After(now) {
			order = append(order, i)
		}
	}
	sort.SliceStable(order, func(a, b int) bool {
		ea, eb := &events[order[a]], &events[order[b]]
		if !ea.At.Equal(eb.At) {
			return ea.At.Before(eb.At)
		}
		if ea.Kind != eb.Kind {
			return ea.Kind < eb.Kind
		}
		return ea.Seq < eb.Seq
	})
	type key struct {
		q QueueID
		c CallKey
	}
	open := map[key]int{} // index into out of the visit still waiting
	var out []visit
	queues := map[QueueID]bool{}
	for _, i := range order {
		e := &events[i]
		queues[e.Queue] = true
		k := key{e.Queue, e.Call}
		switch e.Kind {
		case EvEnter:
			if _, waiting := open[k]; waiting {
				continue
			}
			entered := e.Entered
			if entered.IsZero() {
				entered = e.At
			}
			open[k] = len(out)
			out = append(out, visit{queue: e.Queue, call: e.Call, enterAt: e.At, entered: entered, from: e.From,
				did: e.DID})
		case EvConnect, EvAbandon, EvOverflow, EvExit:
			v, ok := open[k]
			if !ok {
				continue
			}
			delete(open, k)
			out[v].end, out[v].endAt = e.Kind, e.At
		}
	}
	return out, queues
}

// Thresholds maps each queue to its service-level threshold, the map
// Compute and Intervals take; every queue given is reported even with no
// calls.
func Thresholds(queues ...Queue) map[QueueID]time.Duration {
	out := make(map[QueueID]time.Duration, len(queues))
	for _, q := range queues {
		out[q.ID] = q.SLThreshold
	}
	return out
}

func threshold(thresholds map[QueueID]time.Duration, q QueueID) time.Duration {
	if t, ok := thresholds[q]; ok && t > 0 {
		return t
	}
	return DefaultSLThreshold
}

// tally accumulates one queue's figures visit by visit.
type tally struct {
	f         Figures
	answerSum time.Duration
}

func (t *tally) add(v visit, now time.Time) {
	f := &t.f
	f.Offered++
	w := v.wait(now)
	switch v.end {
	case 0:
		f.Waiting++
		f.LongestWait = max(f.LongestWait, w)
	case EvConnect:
		f.Answered++
		t.answerSum += w
		if w <= f.Threshold {
			f.AnsweredWithin++
		}
	case EvAbandon:
		f.Abandoned++
		if w <= f.Threshold {
			f.AbandonedWithin++
		} else {
			f.AbandonedAfter++
		}
		f.Abandons = append(f.Abandons, Abandoned{Call: v.call, From: v.from, DID: v.did, At: v.endAt, Wait: w})
	case EvOverflow:
		f.Overflowed++
	case EvExit:
		f.Exited++
	}
}

func (t *tally) figures() Figures {
	f := t.f
	if f.Answered > 0 {
		f.SLAnswered = float64(f.AnsweredWithin) / float64(f.Answered)
		f.ASA = t.answerSum / time.Duration(f.Answered)
	}
	if d := f.Answered + f.AbandonedAfter; d > 0 {
		f.SLOffered = float64(f.AnsweredWithin) / float64(d)
	}
	// Visits are in entry order; the list reads in the order callers hung up.
	sort.SliceStable(f.Abandons, func(i, j int) bool { return f.Abandons[i].At.Before(f.Abandons[j].At) })
	return f
}

// Compute returns, for every queue the log or thresholds name, the figures
// of the calls that entered it in [from, to), as of now. thresholds gives
// each queue's service-level threshold (DefaultSLThreshold when missing).
// The log must hold every event from from to now; earlier events may be
// included and change nothing.
func Compute(events []Event, thresholds map[QueueID]time.Duration, from, to, now time.Time) map[QueueID]Figures {
	vs, queues := visits(events, now)
	tallies := map[QueueID]*tally{}
	get := func(q QueueID) *tally {
		t, ok := tallies[q]
		if !ok {
			t = &tally{f: Figures{Threshold: threshold(thresholds, q)}}
			tallies[q] = t
		}
		return t
	}
	for q := range thresholds {
		get(q)
	}
	for q := range queues {
		get(q)
	}
	for _, v := range vs {
		if !v.enterAt.Before(from) && v.enterAt.Before(to) {
			get(v.queue).add(v, now)
		}
	}
	out := make(map[QueueID]Figures, len(tallies))
	for q, t := range tallies {
		out[q] = t.figures()
	}
	return out
}

// MaxIntervals bounds the intervals Intervals returns per queue (a step
// read from a request cannot make it allocate without limit); a day of
// 1-minute intervals is 1440.
const MaxIntervals = 4096

// Intervals splits [dayStart, now] into intervals of step (30 minutes on
// the wallboard and in the simulator) and returns, for every queue the log
// or thresholds name, the figures of each interval as Compute gives them for
// [Start, End) as of now. The last interval is the one now falls in; it ends
// a whole step after its start. A step of zero or less gives no intervals;
// past MaxIntervals, only the first MaxIntervals are returned.
func Intervals(events []Event, thresholds map[QueueID]time.Duration, dayStart, now time.Time,
	step time.Duration) map[QueueID][]IntervalFigures {
	n := 0
	if step > 0 && !now.Before(dayStart) {
		n = int(min(now.Sub(dayStart)/step, MaxIntervals-1)) + 1
	}
	vs, queues := visits(events, now)
	tallies := map[QueueID][]tally{}
	get := func(q QueueID) []tally {
		ts, ok := tallies[q]
		if !ok {
			ts = make([]tally, n)
			for i := range ts {
				ts[i].f.Threshold = threshold(thresholds, q)
			}
			tallies[q] = ts
		}
		return ts
	}
	for q := range thresholds {
		get(q)
	}
	for q := range queues {
		get(q)
	}
	for _, v := range vs {
		if n == 0 || v.enterAt.Before(dayStart) {
			continue
		}
		if i := int(v.enterAt.Sub(dayStart) / step); i < n {
			get(v.queue)[i].add(v, now)
		}
	}
	out := make(map[QueueID][]IntervalFigures, len(tallies))
	for q, ts := range tallies {
		ifs := make([]IntervalFigures, n)
		for i := range ts {
			start := dayStart.Add(time.Duration(i) * step)
			ifs[i] = IntervalFigures{Start: start, End: start.Add(step), Figures: ts[i].figures()}
		}
		out[q] = ifs
	}
	return out
}

// MetShare counts the intervals whose service level (by the offered formula
// when useOffered, else by the answered one) has data (withData) and, among
// them, those at or above target (met). Intervals without data neither meet
// nor miss the target.
func MetShare(intervals []IntervalFigures, target float64, useOffered bool) (met, withData int) {
	for _, iv := range intervals {
		sl, ok := iv.Figures.SL(useOffered)
		if !ok {
			continue
		}
		withData++
		if sl >= target {
			met++
		}
	}
	return met, withData
}
