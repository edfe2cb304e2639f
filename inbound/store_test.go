package inbound

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// dayLog is a morning of a three-queue center: Poisson-ish arrivals, offers
// that are rejected or ring out, answers, abandons, overflow chains, exits,
// callers still waiting at the end; times to the nanosecond.
func dayLog(seed uint64, calls int) []Event {
	r := rand.New(rand.NewPCG(seed, 7))
	var log []Event
	at := t0
	for i := range calls {
		at = at.Add(time.Duration(r.ExpFloat64() * float64(40*time.Second)))
		key := CallKey(1_000_000 + i)
		c := &call{log: &log, key: key, from: fmt.Sprintf("+1202555%04d", r.IntN(10000)), did: "+18005550100",
			entered: at}
		q := QueueID(1 + r.IntN(3))
		t := at.Sub(t0)
		c.enter(q, t)
		for hop := 0; ; hop++ {
			t += time.Duration(r.ExpFloat64() * float64(15*time.Second))
			agent := agents.ID(1 + r.IntN(20))
			switch x := r.IntN(10); {
			case x < 2:
				c.offer(q, t, agent)
				t += time.Duration(r.IntN(30)) * time.Second
				c.ev(q, []EventKind{EvReject, EvTimeout}[r.IntN(2)], t, agent)
				continue
			case x < 6:
				c.offer(q, t, agent)
				t += time.Duration(r.IntN(5000)) * time.Millisecond
				c.connect(q, t, agent)
			case x < 8:
				c.abandon(q, t)
			case x < 9 && hop < 3:
				next := q%3 + 1
				c.overflow(q, t, next).enter(next, t)
				q = next
				continue
			case x < 9:
				c.exit(q, t)
			}
			break
		}
	}
	return log
}

func TestTheLogReproducesTheWallboardFiguresExactly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := NewEventStore(testdb.NewPool(t))
	appended := dayLog(1, 400)
	// Written in batches of varied size, in the order the router wrote them.
	r := rand.New(rand.NewPCG(3, 4))
	for rest := appended; len(rest) > 0; {
		n := min(len(rest), 1+r.IntN(40))
		require.NoError(t, store.Append(ctx, rest[:n]))
		rest = rest[n:]
	}
	last := appended[len(appended)-1].At
	now := last.Add(-10 * time.Minute) // some callers still waiting, some events still to come
	thresholds := map[QueueID]time.Duration{1: sec(20), 2: sec(30), 3: sec(10)}

	for _, span := range []struct{ from, to time.Time }{
		{t0, now},
		{t0.Add(time.Hour), t0.Add(90 * time.Minute)},
		{t0.Add(17 * time.Minute), now.Add(time.Hour)},
	} {
		want := Compute(appended, thresholds, span.from, span.to, now)
		got, err := store.StoredFigures(ctx, thresholds, span.from, span.to, now)
		require.NoError(t, err)
		require.Equal(t, want, got, "figures from %v to %v", span.from, span.to)
	}
	want := Intervals(appended, thresholds, t0, now, 30*time.Minute)
	got, err := store.StoredIntervals(ctx, thresholds, t0, now, 30*time.Minute)
	require.NoError(t, err)
	require.Equal(t, want, got)

	day := want[1]
	total := 0
	for _, iv := range day {
		total += iv.Figures.Offered
		require.Equal(t, iv.Figures.Offered, iv.Figures.Answered+iv.Figures.Abandoned+iv.Figures.Overflowed+
			iv.Figures.Exited+iv.Figures.Waiting)
	}
	require.Greater(t, total, 50, "the log is busy enough to mean something")
	var waiting, abandons, overflows int
	for _, f := range Compute(appended, thresholds, t0, now, now) {
		waiting += f.Waiting
		abandons += f.Abandoned
		overflows += f.Overflowed
	}
	require.Positive(t, waiting)
	require.Positive(t, abandons)
	require.Positive(t, overflows)
}

func TestAppendedEventsReadBackAsTheyWereWritten(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := NewEventStore(testdb.NewPool(t))
	at := time.Date(2026, 3, 2, 9, 0, 0, 123456789, time.FixedZone("EST", -5*3600))
	evs := []Event{
		{Queue: 4, Call: 77, Kind: EvEnter, At: at, Entered: at.Add(-sec(12)), From: "+12025550143", DID: "+18005550100"},
		{Queue: 4, Call: 77, Kind: EvOffer, At: at.Add(sec(1)), Entered: at.Add(-sec(12)), Agent: 1000042,
			From: "+12025550143", DID: "+18005550100"},
		{Queue: 4, Call: 77, Kind: EvOverflow, At: at.Add(sec(30)), Entered: at.Add(-sec(12)), Detail: "queue 5"},
		{Queue: 5, Call: 78, Kind: EvEnter, At: at.Add(sec(31))}, // entry time not known
	}
	require.NoError(t, store.Append(ctx, evs))
	for i := 1; i < len(evs); i++ {
		require.Greater(t, evs[i].Seq, evs[i-1].Seq, "seq follows the order given")
	}
	require.Equal(t, time.Date(2026, 3, 2, 14, 0, 0, 123456000, time.UTC), evs[0].At, "rounded down to the microsecond, in UTC")
	require.True(t, evs[3].Entered.IsZero())

	got, err := store.Since(ctx, 0)
	require.NoError(t, err)
	require.Equal(t, evs, got)
}

func TestAppendIsAllOrNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := NewEventStore(testdb.NewPool(t))
	good := Event{Queue: 1, Call: 1, Kind: EvEnter, At: t0, Entered: t0}

	err := store.Append(ctx, []Event{good, {Queue: 1, Call: 1, Kind: EvConnect, At: t0}})
	require.ErrorContains(t, err, "event 2 of 2: connect of call 1 names no agent")
	err = store.Append(ctx, []Event{good, {Queue: 1, Call: 1, Kind: EvAbandon, At: t0, From: "+1202\x00"}})
	var pe *pgconn.PgError
	require.ErrorAs(t, err, &pe, "PostgreSQL itself refuses a NUL in text, after the first insert ran")
	require.Equal(t, "22021", pe.Code)
	got, err := store.Since(ctx, 0)
	require.NoError(t, err)
	require.Empty(t, got, "the good event of a refused batch is not written either")

	require.NoError(t, store.Append(ctx, nil))
	require.NoError(t, store.Append(ctx, []Event{good}))
	got, err = store.Since(ctx, 0)
	require.NoError(t, err)
	require.Len(t, got, 1)
}

func TestEventsThatCannotBeLoggedAreRefusedWithTheReason(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		e    Event
		want string
	}{
		{Event{Queue: 1, Kind: 0, At: t0}, "unknown kind 0"},
		{Event{Queue: 1, Kind: numEventKinds, At: t0}, "unknown kind 9"},
		{Event{Queue: 0, Call: 3, Kind: EvEnter, At: t0}, "enter of call 3 names no queue"},
		{Event{Queue: 1, Call: 3, Kind: EvAbandon}, "abandon of call 3 has no time"},
		{Event{Queue: 1, Call: 3, Kind: EvTimeout, At: t0}, "timeout of call 3 names no agent"},
		{Event{Queue: 1, Call: 3, Kind: EvReject, At: t0, Agent: -2}, "reject of call 3 names agent -2"},
		{Event{Queue: 1, Call: 3, Kind: EvEnter, At: t0, From: string(make([]byte, 129))}, "longer than 128 bytes"},
		{Event{Queue: 1, Call: 3, Kind: EvExit, At: t0, Detail: string(make([]byte, 501))}, "detail longer than 500 bytes"},
	} {
		require.ErrorContains(t, tc.e.check(), tc.want)
	}
	require.NoError(t, Event{Queue: 1, Call: 3, Kind: EvExit, At: t0, Detail: "closed"}.check())
}

func TestBetweenIsHalfOpenAndSinceGivesEachEventOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := NewEventStore(testdb.NewPool(t))
	var log []Event
	for i := range 6 {
		at := t0.Add(time.Duration(i) * time.Minute)
		log = append(log, Event{Queue: 1, Call: CallKey(i), Kind: EvEnter, At: at, Entered: at})
	}
	// Written out of time order: Between still orders by seq.
	require.NoError(t, store.Append(ctx, []Event{log[3], log[1], log[5]}))
	require.NoError(t, store.Append(ctx, []Event{log[0], log[4], log[2]}))

	got, err := store.Between(ctx, t0.Add(time.Minute), t0.Add(4*time.Minute))
	require.NoError(t, err)
	require.Equal(t, []CallKey{3, 1, 2}, callsOf(got), "minutes 1, 2, 3 but not 4, in log order")

	first, err := store.Since(ctx, 0)
	require.NoError(t, err)
	require.Equal(t, []CallKey{3, 1, 5, 0, 4, 2}, callsOf(first))
	cursor := first[len(first)-1].Seq
	rest, err := store.Since(ctx, cursor)
	require.NoError(t, err)
	require.Empty(t, rest)
	more := []Event{{Queue: 2, Call: 9, Kind: EvExit, At: t0, Detail: "closed"}}
	require.NoError(t, store.Append(ctx, more))
	rest, err = store.Since(ctx, cursor)
	require.NoError(t, err)
	require.Equal(t, more, rest)
}

func callsOf(evs []Event) []CallKey {
	out := make([]CallKey, len(evs))
	for i, e := range evs {
		out[i] = e.Call
	}
	return out
}

// Appenders on several connections at once: a reader following seq with
// Since, while they write, ends up with every event exactly once.
func TestAReaderFollowingTheLogMissesNothingWrittenConcurrently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := NewEventStore(testdb.NewPool(t))
	const writers, batches, size = 4, 25, 3
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				evs := make([]Event, size)
				for i := range evs {
					evs[i] = Event{Queue: QueueID(w + 1), Call: CallKey(b*size + i), Kind: EvEnter, At: t0}
				}
				if err := store.Append(ctx, evs); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(errs); close(done) }()

	seen := map[[2]int64]int{}
	var cursor int64
	read := func() {
		evs, err := store.Since(ctx, cursor)
		require.NoError(t, err)
		for _, e := range evs {
			require.Greater(t, e.Seq, cursor)
			cursor = e.Seq
			seen[[2]int64{int64(e.Queue), int64(e.Call)}]++
		}
	}
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true
		default:
		}
		read()
	}
	read()
	for err := range errs {
		require.NoError(t, err)
	}
	require.Len(t, seen, writers*batches*size)
	for k, n := range seen {
		require.Equal(t, 1, n, "event %v read %d times", k, n)
	}
}
