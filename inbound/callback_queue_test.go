package inbound

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/internal/testdb"
)

type requestWorld struct {
	db       *pgxpool.Pool
	ctx      context.Context
	queue    Queue
	campaign campaigns.ID
	now      time.Time
}

func newRequestWorld(t *testing.T) *requestWorld {
	t.Helper()
	db := testdb.NewPool(t)
	ctx := context.Background()
	q, err := NewQueueStore(db).CreateQueue(ctx, Queue{Name: "Support", Callbacks: Callbacks{Allow: true, Attempts: 2,
		RetryAfter: 10 * time.Minute, ExpireAfter: time.Hour}})
	require.NoError(t, err)
	c, err := campaigns.Create(ctx, db, "Blend", nil)
	require.NoError(t, err)
	now := time.Now().Truncate(time.Second)
	for _, n := range []struct {
		id    string
		alive bool
	}{{"n1", true}, {"n2", true}, {"dead", false}} {
		expires := now.Add(time.Hour)
		if !n.alive {
			expires = now.Add(-time.Minute)
		}
		_, err := db.Exec(ctx, `INSERT INTO nodes (id, incarnation, started_at, heartbeat_at, expires_at)
			VALUES ($1, gen_random_uuid(), $2, $2, $3)`, n.id, now.Add(-time.Hour), expires)
		require.NoError(t, err)
	}
	return &requestWorld{db: db, ctx: ctx, queue: q, campaign: c.ID, now: now}
}

func (w *requestWorld) leave(t *testing.T, phone, node string, entered time.Time) CallbackRequest {
	t.Helper()
	r, err := CreateQueueRequest(w.ctx, w.db, LeftRequest{Queue: w.queue, Phone: phone, Name: "Caller", Entered: entered,
		Node: node, Now: w.now})
	require.NoError(t, err)
	return r
}

// call records call id of the campaign as ended with outcome (connected:
// a person was bridged to agent 5).
func (w *requestWorld) call(t *testing.T, id int64, outcome string, connected bool) {
	t.Helper()
	_, err := w.db.Exec(w.ctx, `INSERT INTO calls (id, run_id, seq, campaign_id, phone, node, agent_id, state, outcome,
	answered_by, queued_at, dialed_at, answered_at, connected_at, ended_at)
VALUES ($1, gen_random_uuid(), 1, $2, '+12025550111', 'n1', 5, 'ended', $3,
	CASE WHEN $4 THEN 'human' END, $5, $5, CASE WHEN $4 THEN $5::timestamptz END, CASE WHEN $4 THEN $5::timestamptz END, $5)`,
		id, w.campaign, outcome, connected, w.now)
	require.NoError(t, err)
}

func (w *requestWorld) events(t *testing.T, id RequestID) []RequestEvent {
	t.Helper()
	log, err := RequestLog(w.ctx, w.db, id)
	require.NoError(t, err)
	var out []RequestEvent
	for _, e := range log {
		out = append(out, e.Event)
	}
	return out
}

// A queue request keeps the caller's place and its queue's rules, and is
// held by the node that made it.
func TestQueueRequestIsStoredWithItsPlace(t *testing.T) {
	t.Parallel()
	w := newRequestWorld(t)
	entered := w.now.Add(-3 * time.Minute)
	r := w.leave(t, "(202) 555-0111", "n1", entered)
	require.Equal(t, KindQueue, r.Kind)
	require.Equal(t, "+12025550111", r.Phone)
	require.Equal(t, RequestPending, r.Status)
	require.True(t, r.Entered.Equal(entered), "the caller's place")
	require.True(t, r.Expires.Equal(w.now.Add(time.Hour)))
	require.Equal(t, 2, r.MaxAttempts)
	require.Equal(t, w.queue.ID, r.QueueID)

	held, err := HeldRequests(w.ctx, w.db, "n1")
	require.NoError(t, err)
	require.Len(t, held, 1)
	held, err = HeldRequests(w.ctx, w.db, "n2")
	require.NoError(t, err)
	require.Empty(t, held)

	_, err = CreateQueueRequest(w.ctx, w.db, LeftRequest{Queue: w.queue, Phone: "12", Node: "n1", Now: w.now})
	require.Error(t, err, "not a number")
}

// However many agents on however many nodes try at once, a request is
// dialled by one: the others are told it is taken.
func TestQueueRequestIsNeverDialledTwiceAtOnce(t *testing.T) {
	t.Parallel()
	w := newRequestWorld(t)
	r := w.leave(t, "+12025550111", "n1", w.now)
	const tries = 8
	var wg sync.WaitGroup
	errs := make([]error, tries)
	start := make(chan struct{})
	for i := range tries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			node := "n1"
			if i%2 == 1 {
				node = "n2"
			}
			_, errs[i] = ClaimRequest(w.ctx, w.db, Dial{Request: r.ID, Agent: int64(10 + i), Campaign: int64(w.campaign),
				Node: node, Now: w.now})
		}()
	}
	close(start)
	wg.Wait()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
			continue
		}
		require.ErrorIs(t, err, ErrRequestTaken)
	}
	require.Equal(t, 1, won, "exactly one dial")
	got, err := GetRequest(w.ctx, w.db, r.ID)
	require.NoError(t, err)
	require.Equal(t, RequestDialling, got.Status)
	require.Equal(t, []RequestEvent{ReqCreate, ReqDial}, w.events(t, r.ID))

	// Settled, it cannot be claimed again either.
	require.NoError(t, RequestPlaced(w.ctx, w.db, r.ID, 0, 9001))
	w.call(t, 9001, "completed", true)
	n, err := SettleRequests(w.ctx, w.db, got.Node, w.now.Add(time.Minute))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	_, err = ClaimRequest(w.ctx, w.db, Dial{Request: r.ID, Agent: 1, Campaign: int64(w.campaign), Node: "n1",
		Now: w.now.Add(2 * time.Minute)})
	require.ErrorIs(t, err, ErrRequestTaken)
	got, err = GetRequest(w.ctx, w.db, r.ID)
	require.NoError(t, err)
	require.Equal(t, RequestAnswered, got.Status)
	require.Equal(t, 1, got.Attempts)
}

// A try that does not reach the caller puts the request back at its place
// after the queue's retry time, until its attempts are used up.
func TestQueueRequestRetriesABoundedNumberOfTimes(t *testing.T) {
	t.Parallel()
	w := newRequestWorld(t)
	r := w.leave(t, "+12025550111", "n1", w.now.Add(-time.Minute))
	at := w.now
	dial := func(call int64) {
		_, err := ClaimRequest(w.ctx, w.db, Dial{Request: r.ID, Agent: 5, Campaign: int64(w.campaign), Node: "n1", Now: at})
		require.NoError(t, err)
		require.NoError(t, RequestPlaced(w.ctx, w.db, r.ID, 0, call))
	}
	dial(101)
	n, err := SettleRequests(w.ctx, w.db, "n1", at)
	require.NoError(t, err)
	require.Zero(t, n, "the call is not over")
	w.call(t, 101, "no_answer", false)
	_, err = SettleRequests(w.ctx, w.db, "n1", at)
	require.NoError(t, err)
	got, err := GetRequest(w.ctx, w.db, r.ID)
	require.NoError(t, err)
	require.Equal(t, RequestPending, got.Status)
	require.True(t, got.NotBefore.Equal(at.Add(10*time.Minute)), "tried again after the queue's retry time")
	require.True(t, got.Entered.Equal(r.Entered.UTC()), "at the same place")
	_, err = ClaimRequest(w.ctx, w.db, Dial{Request: r.ID, Agent: 5, Campaign: int64(w.campaign), Node: "n1",
		Now: at.Add(time.Minute)})
	require.ErrorIs(t, err, ErrRequestTaken, "not before its retry time")

	at = at.Add(10 * time.Minute)
	dial(102)
	w.call(t, 102, "busy", false)
	_, err = SettleRequests(w.ctx, w.db, "n1", at)
	require.NoError(t, err)
	got, err = GetRequest(w.ctx, w.db, r.ID)
	require.NoError(t, err)
	require.Equal(t, RequestUnanswered, got.Status, "two attempts, both used")
	require.Equal(t, 2, got.Attempts)
	require.Equal(t, []RequestEvent{ReqCreate, ReqDial, ReqRetry, ReqDial, ReqGiveUp}, w.events(t, r.ID))
}

// What a node's death leaves: its pending requests go to a live node at the
// same place; a dial it had claimed but not placed is taken back; one
// whose call was never recorded counts as a try.
func TestQueueRequestsOfADeadNode(t *testing.T) {
	t.Parallel()
	w := newRequestWorld(t)
	pending := w.leave(t, "+12025550111", "dead", w.now.Add(-time.Minute))
	claimed := w.leave(t, "+12025550112", "dead", w.now)
	placed := w.leave(t, "+12025550113", "dead", w.now)
	for _, r := range []CallbackRequest{claimed, placed} {
		_, err := ClaimRequest(w.ctx, w.db, Dial{Request: r.ID, Agent: 5, Campaign: int64(w.campaign), Node: "dead", Now: w.now})
		require.NoError(t, err)
	}
	require.NoError(t, RequestPlaced(w.ctx, w.db, placed.ID, 0, 555))
	mine := w.leave(t, "+12025550114", "n1", w.now)
	_, err := ClaimRequest(w.ctx, w.db, Dial{Request: mine.ID, Agent: 6, Campaign: int64(w.campaign), Node: "n1", Now: w.now})
	require.NoError(t, err)

	n, err := AdoptRequests(w.ctx, w.db, "n2", w.now)
	require.NoError(t, err)
	require.Equal(t, 1, n, "only the pending one; n1's are n1's")
	n, err = SettleRequests(w.ctx, w.db, "n2", w.now)
	require.NoError(t, err)
	require.Equal(t, 2, n, "the dead node's two dials; n1's live dial is left alone")
	n, err = AdoptRequests(w.ctx, w.db, "n2", w.now)
	require.NoError(t, err)
	require.Equal(t, 2, n, "both back to pending, adopted")

	held, err := HeldRequests(w.ctx, w.db, "n2")
	require.NoError(t, err)
	require.Len(t, held, 3)
	require.Equal(t, pending.ID, held[0].ID, "by place")
	byID := map[RequestID]CallbackRequest{}
	for _, r := range held {
		byID[r.ID] = r
	}
	require.Zero(t, byID[claimed.ID].Attempts, "never placed: no try counted")
	require.Equal(t, 1, byID[placed.ID].Attempts, "placed with its node: counted")
	require.Equal(t, []RequestEvent{ReqCreate, ReqDial, ReqRecover, ReqAdopt}, w.events(t, claimed.ID))

	// n1 is alive: its unplaced dial is taken back only after placeGrace.
	n, err = SettleRequests(w.ctx, w.db, "n1", w.now.Add(time.Minute))
	require.NoError(t, err)
	require.Zero(t, n)
	n, err = SettleRequests(w.ctx, w.db, "n1", w.now.Add(placeGrace+time.Second))
	require.NoError(t, err)
	require.Equal(t, 1, n)
}

// A request expires when its time runs out; a person can close a pending
// one but not one being dialled.
func TestQueueRequestExpiresAndClosing(t *testing.T) {
	t.Parallel()
	w := newRequestWorld(t)
	r := w.leave(t, "+12025550111", "n1", w.now)
	live := w.leave(t, "+12025550112", "n1", w.now)
	_, err := ClaimRequest(w.ctx, w.db, Dial{Request: live.ID, Agent: 5, Campaign: int64(w.campaign), Node: "n1", Now: w.now})
	require.NoError(t, err)
	_, err = SetRequestStatus(w.ctx, w.db, live.ID, RequestClosed, 1, w.now)
	require.ErrorIs(t, err, ErrRequestTransition, "its call decides")

	n, err := ExpireRequests(w.ctx, w.db, "n1", w.now.Add(59*time.Minute))
	require.NoError(t, err)
	require.Zero(t, n)
	n, err = ExpireRequests(w.ctx, w.db, "n1", w.now.Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, 1, n, "the dialling one is not expired under its call")
	got, err := GetRequest(w.ctx, w.db, r.ID)
	require.NoError(t, err)
	require.Equal(t, RequestClosed, got.Status)
	require.NotNil(t, got.ClosedAt)
	_, err = ClaimRequest(w.ctx, w.db, Dial{Request: r.ID, Agent: 5, Campaign: int64(w.campaign), Node: "n1",
		Now: w.now.Add(time.Hour)})
	require.True(t, errors.Is(err, ErrRequestTaken))

	// Not placed because of the calling window: back, due at the window's
	// opening; on a do-not-call list: closed.
	opens := w.now.Add(30 * time.Minute)
	got, err = RequestNotPlaced(w.ctx, w.db, live.ID, ReqNotPlaced, "outside the calling window", opens, "n1", w.now)
	require.NoError(t, err)
	require.Equal(t, RequestPending, got.Status)
	require.True(t, got.NotBefore.Equal(opens))
	_, err = ClaimRequest(w.ctx, w.db, Dial{Request: live.ID, Agent: 5, Campaign: int64(w.campaign), Node: "n1", Now: w.now})
	require.ErrorIs(t, err, ErrRequestTaken, "not before the window opens")
	_, err = ClaimRequest(w.ctx, w.db, Dial{Request: live.ID, Agent: 5, Campaign: int64(w.campaign), Node: "n1", Now: opens})
	require.NoError(t, err)
	got, err = RequestNotPlaced(w.ctx, w.db, live.ID, ReqDNC, "on a do-not-call list", time.Time{}, "n1", opens)
	require.NoError(t, err)
	require.Equal(t, RequestClosed, got.Status)
	require.Equal(t, []RequestEvent{ReqCreate, ReqDial, ReqNotPlaced, ReqDial, ReqDNC}, w.events(t, live.ID))
}

// A call placed but never recorded on its request (the database was out
// just then) is found by its campaign, agent and number: the request is
// settled by it, not dialled again.
func TestQueueRequestFindsACallItDidNotRecord(t *testing.T) {
	t.Parallel()
	w := newRequestWorld(t)
	r := w.leave(t, "+12025550111", "n1", w.now)
	_, err := ClaimRequest(w.ctx, w.db, Dial{Request: r.ID, Agent: 5, Campaign: int64(w.campaign), Node: "n1", Now: w.now})
	require.NoError(t, err)
	w.call(t, 77, "completed", true)
	n, err := SettleRequests(w.ctx, w.db, "n1", w.now.Add(placeGrace+time.Minute))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	got, err := GetRequest(w.ctx, w.db, r.ID)
	require.NoError(t, err)
	require.Equal(t, RequestAnswered, got.Status, "settled by the call found, not recovered")
	require.Equal(t, int64(77), got.DialCall)
}

// seat logs agent in to the campaign run by node (agent_seats).
func (w *requestWorld) seat(t *testing.T, agent int64, node string) {
	t.Helper()
	_, err := w.db.Exec(w.ctx, `INSERT INTO agent_seats (agent_id, campaign_id, node_id, taken_at) VALUES ($1, $2, $3, now())
		ON CONFLICT (agent_id) DO UPDATE SET node_id = EXCLUDED.node_id`, agent, int64(w.campaign), node)
	require.NoError(t, err)
}

// A pending request held by a node where none of its queue's members is
// logged in moves, keeping its place, to a node where one is; never from a
// node with a member, never a dialling one, and never back and forth.
func TestQueueRequestsMoveToTheNodeOfTheQueuesAgents(t *testing.T) {
	t.Parallel()
	w := newRequestWorld(t)
	for _, a := range []agents.ID{7, 8} {
		_, err := NewQueueStore(w.db).SetMember(w.ctx, Member{Queue: w.queue.ID, Agent: a, Level: 1})
		require.NoError(t, err)
	}
	waiting := w.leave(t, "+12025550111", "n1", w.now.Add(-time.Minute))
	dialling := w.leave(t, "+12025550112", "n1", w.now)
	_, err := ClaimRequest(w.ctx, w.db, Dial{Request: dialling.ID, Agent: 5, Campaign: int64(w.campaign), Node: "n1", Now: w.now})
	require.NoError(t, err)

	n, err := MoveRequests(w.ctx, w.db, "n2", w.now)
	require.NoError(t, err)
	require.Zero(t, n, "no member is logged in on n2")

	w.seat(t, 7, "n2")
	w.seat(t, 9, "n1") // not a member: n1 still serves nobody of the queue
	n, err = MoveRequests(w.ctx, w.db, "n1", w.now)
	require.NoError(t, err)
	require.Zero(t, n, "n1 has no member: it takes nothing")
	n, err = MoveRequests(w.ctx, w.db, "n2", w.now)
	require.NoError(t, err)
	require.Equal(t, 1, n, "the pending one; the dialling one stays with its dial")
	held, err := HeldRequests(w.ctx, w.db, "n2")
	require.NoError(t, err)
	require.Len(t, held, 1)
	require.Equal(t, waiting.ID, held[0].ID)
	require.True(t, held[0].Entered.Equal(*waiting.Entered), "its place is kept")
	require.Equal(t, []RequestEvent{ReqCreate, ReqMove}, w.events(t, waiting.ID))

	// A member on each node: nothing moves either way.
	w.seat(t, 8, "n1")
	back := w.leave(t, "+12025550113", "n1", w.now)
	for _, node := range []string{"n1", "n2"} {
		n, err = MoveRequests(w.ctx, w.db, node, w.now)
		require.NoError(t, err)
		require.Zero(t, n, node)
	}
	require.Equal(t, []RequestEvent{ReqCreate}, w.events(t, back.ID))
}
