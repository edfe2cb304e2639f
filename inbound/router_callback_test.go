package inbound

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
)

// requestFakes records the callers who leave for a callback.
type requestFakes struct {
	mu   sync.Mutex
	left []LeftCaller
}

func (f *requestFakes) Left(c LeftCaller, stored func()) {
	f.mu.Lock()
	f.left = append(f.left, c)
	f.mu.Unlock()
	stored()
}

func newCallbackRouter(t *testing.T) (*Router, *routerFakes, *requestFakes) {
	t.Helper()
	f, rf := &routerFakes{}, &requestFakes{}
	r, err := NewRouter(Config{}, Deps{Notify: f, Line: f, Log: f, Requests: rf})
	require.NoError(t, err)
	return r, f, rf
}

func allowCallbacks(q *Queue) { q.Callbacks = Callbacks{Allow: true}.withDefaults() }

// A caller who leaves for a callback keeps their place: the request they
// leave sorts between the callers who came before and after them, and is
// offered (as a request to dial) when that place comes up.
func TestRouterCallbackRequestKeepsTheCallersPlace(t *testing.T) {
	r, f, rf := newCallbackRouter(t)
	rSetQueue(t, r, rQueue(1, allowCallbacks), rMembers(1, 1, 2))
	rArriveCallable(t, r, 10, "q1", rAt(0))
	rArriveCallable(t, r, 11, "q1", rAt(5))
	rArriveCallable(t, r, 12, "q1", rAt(9))

	require.NoError(t, r.LeaveForCallback(11, rAt(30)))
	require.Equal(t, []LeftCaller{{Call: 11, Queue: 1, From: "+12025550011", DID: "q1", Entered: rAt(5), At: rAt(30),
		Why: "asked for a callback"}}, rf.left)
	require.Equal(t, DismissCallback, f.dismissed[11], "the caller is told they will be called back")
	require.Equal(t, []EventKind{EvEnter, EvOverflow}, f.kinds(11), "the caller's visit ends as an overflow")
	require.ErrorIs(t, r.LeaveForCallback(11, rAt(31)), ErrNotWaiting, "once only")

	// The store hands the request back with the caller's place.
	require.True(t, r.HoldRequest(HeldRequest{ID: 7, Queue: 1, Phone: "+12025550011", Name: "Ann",
		Entered: rAt(5), Expires: rAt(8 * 3600)}, rAt(31)))
	w := r.Waiting(1)
	require.Len(t, w, 3)
	require.Equal(t, []CallKey{10, RequestKey(7), 12}, []CallKey{w[0].Call, w[1].Call, w[2].Call})
	require.Equal(t, RequestID(7), w[1].Request)
	require.False(t, w[1].AllowTake)

	rReady(r, rAt(40), 1)
	rClaim(t, r, f, 1, 10, rAt(40))
	rReady(r, rAt(41), 2)
	off := rClaim(t, r, f, 2, RequestKey(7), rAt(41))
	require.Equal(t, RequestID(7), off.Request)
	require.Equal(t, "+12025550011", off.From)
	require.Equal(t, "Ann", off.Name)
	require.Equal(t, rAt(5), off.Entered, "the offer shows the caller's first entry")
	require.True(t, r.Accept(RequestKey(7), 2, rAt(42)))
	require.Equal(t, []CallKey{10, 12}, keysOf(r.Waiting(1)), "the request is gone; caller 10 still rings agent 1")
}

func keysOf(ws []Waiting) []CallKey {
	var out []CallKey
	for _, w := range ws {
		out = append(out, w.Call)
	}
	return out
}

// A request is never offered to two agents at once, even in a ring-all
// queue, and not again while its offer rings.
func TestRouterCallbackRequestIsOfferedToOneAgentAtATime(t *testing.T) {
	for _, m := range []Method{LongestIdle, RingAll} {
		t.Run(m.String(), func(t *testing.T) {
			r, f, _ := newCallbackRouter(t)
			rSetQueue(t, r, rQueue(1, allowCallbacks, func(q *Queue) { q.Method = m }), rMembers(1, 1, 2, 3))
			rReady(r, rAt(0), 1, 2, 3)
			r.HoldRequest(HeldRequest{ID: 3, Queue: 1, Phone: "+15550001234", Entered: rAt(1), Expires: rAt(3600)}, rAt(5))
			require.Equal(t, []agents.ID{1}, f.takePokes(), "one agent, the longest idle")
			_, ok := r.Claim(2, rAt(5))
			require.False(t, ok, "another agent cannot claim it while it is pending for the first")
			rClaim := func(id agents.ID) {
				off, ok := r.Claim(id, rAt(6))
				require.True(t, ok)
				require.Equal(t, RequestID(3), off.Request)
			}
			rClaim(1)
			r.Advance(rAt(10))
			_, ok = r.Claim(2, rAt(10))
			require.False(t, ok, "not while it rings agent 1")
			require.Empty(t, f.takePokes())

			r.Pass(RequestKey(3), 1, true, rAt(36))
			require.Equal(t, []agents.ID{2}, f.takePokes(), "a ring-out passes it to the next agent")
			require.False(t, r.Accept(RequestKey(3), 2, rAt(40)),
				"agent 2 has not claimed it: no accept")
		})
	}
}

// A request is offered only from its NotBefore on, while its queue is
// open and before it expires; it does not count toward the queue's depth
// and is not subject to the maximum wait or the closing action; pacing
// keeps an agent for it only while it is due.
func TestRouterCallbackRequestWaitsForItsTime(t *testing.T) {
	r, f, rf := newCallbackRouter(t)
	rSetQueue(t, r, rQueue(1, allowCallbacks, func(q *Queue) {
		q.MaxDepth = 1
		q.MaxWait = time.Minute
		q.Overflow = Fallback{Action: ActionCallback}
		q.AtClose = Fallback{Action: ActionHangup}
		q.Hours.Zone = time.UTC
		q.Hours.Days[time.Monday].Open, q.Hours.Days[time.Monday].Close = 9*time.Hour, 17*time.Hour
	}), rMembers(1, 1))
	r.AgentChanged(1, 1, agents.Paused, rAt(0))
	r.HoldRequest(HeldRequest{ID: 4, Queue: 1, Phone: "+15550004444", Entered: rAt(0), NotBefore: rAt(600),
		Expires: rAt(20 * 3600)}, rAt(0))
	rArriveCallable(t, r, 20, "q1", rAt(1))
	require.Len(t, r.Waiting(1), 2, "the request does not fill the queue's depth of 1")
	require.Zero(t, r.Load(1, rAt(2)).Waiting, "nobody serves the queue yet")

	r.AgentChanged(1, 1, agents.Ready, rAt(2))
	rClaim(t, r, f, 1, 20, rAt(2))
	require.True(t, r.Accept(20, 1, rAt(3)))
	rSettle(r, 1, rAt(3), rAt(100))
	require.Empty(t, f.takePokes(), "the request is not due before its time")
	r.AgentChanged(1, 1, agents.InCall, rAt(200))
	require.Zero(t, r.Load(1, rAt(300)).Waiting, "not due: pacing keeps no agent for it")
	require.Equal(t, 1, r.Load(1, rAt(600)).Waiting, "due: pacing keeps an agent for it")
	r.Advance(rAt(4000))
	require.Len(t, r.Waiting(1), 1, "no maximum wait for a request")

	// A caller past the maximum wait overflows into a callback (the queue's
	// action), keeping their place.
	rArriveCallable(t, r, 21, "q1", rAt(4001))
	r.Advance(rAt(4062))
	require.Len(t, rf.left, 1)
	require.Equal(t, CallKey(21), rf.left[0].Call)
	require.Equal(t, "waited too long", rf.left[0].Why)
	require.Equal(t, rAt(4001), rf.left[0].Entered)

	// Closed at 17:00 (rt0 is 10:00): the closing action does not touch the
	// request, and it is not offered while closed.
	r.AgentChanged(1, 1, agents.Ready, rAt(7*3600+1))
	r.Advance(rAt(7*3600 + 2))
	require.Empty(t, f.takePokes())
	require.Len(t, r.Waiting(1), 1)

	// Expired: the router lets go of it.
	r.Advance(rAt(24 * 3600))
	require.Empty(t, r.Waiting(1))
}

// SyncRequests holds exactly the requests the store lists: new ones at
// their places, and one settled elsewhere is dropped, its ringing offer
// withdrawn.
func TestRouterSyncRequests(t *testing.T) {
	r, f, _ := newCallbackRouter(t)
	rSetQueue(t, r, rQueue(1, allowCallbacks), rMembers(1, 1))
	a := HeldRequest{ID: 1, Queue: 1, Phone: "+15550000001", Entered: rAt(0), Expires: rAt(3600)}
	b := HeldRequest{ID: 2, Queue: 1, Phone: "+15550000002", Entered: rAt(-60), Expires: rAt(3600)}
	gone := HeldRequest{ID: 3, Queue: 99, Phone: "+15550000003", Entered: rAt(0), Expires: rAt(3600)}
	r.SyncRequests([]HeldRequest{a, b, gone}, nil, rAt(1))
	require.Equal(t, []CallKey{RequestKey(2), RequestKey(1)}, keysOf(r.Waiting()), "by place; unknown queue not held")
	r.AgentChanged(1, 1, agents.Ready, rAt(2))
	rClaim(t, r, f, 1, RequestKey(2), rAt(2))
	r.SyncRequests([]HeldRequest{a}, []RequestID{2}, rAt(3))
	require.Empty(t, f.withdraws, "dialling by the agent it rings: kept until their engine takes it")
	r.SyncRequests([]HeldRequest{a}, nil, rAt(3))
	require.Equal(t, []rWithdrawal{{1, RequestKey(2)}}, f.withdraws)
	require.Equal(t, []CallKey{RequestKey(1)}, keysOf(r.Waiting()))
}

// A queue that does not take callback requests refuses them, and a router
// without a request store refuses a callback action.
func TestRouterCallbackRefusals(t *testing.T) {
	r, _, _ := newCallbackRouter(t)
	rSetQueue(t, r, rQueue(1), rMembers(1, 1))
	rArriveCallable(t, r, 10, "q1", rAt(0))
	require.ErrorIs(t, r.LeaveForCallback(10, rAt(1)), ErrNoCallback)
	require.ErrorIs(t, r.LeaveForCallback(99, rAt(1)), ErrNotWaiting)

	// A withheld number cannot be called back: refused when the caller
	// asks (they wait on), and the queue's callback action gives them the
	// message and the hang-up instead.
	r2, f2, rf2 := newCallbackRouter(t)
	rSetQueue(t, r2, rQueue(1, allowCallbacks), rMembers(1, 1))
	require.NoError(t, r2.Arrive(Arrival{Call: 40, DID: "q1", From: "anonymous"}, rAt(0)))
	require.ErrorIs(t, r2.LeaveForCallback(40, rAt(1)), ErrNoCallbackNumber)
	require.Len(t, r2.Waiting(1), 1, "the caller waits on")
	rSetQueue(t, r2, rQueue(3, allowCallbacks, func(q *Queue) { q.NoAgents = Fallback{Action: ActionCallback} }), nil)
	require.NoError(t, r2.Arrive(Arrival{Call: 41, DID: "q3", From: "anonymous"}, rAt(2)))
	require.NoError(t, r2.Arrive(Arrival{Call: 42, DID: "q3", From: "+12025550042"}, rAt(2)))
	require.Equal(t, "no agents", f2.dismissed[41], "no number: the message and the hang-up")
	require.Equal(t, DismissCallback, f2.dismissed[42])
	require.Len(t, rf2.left, 1)
	require.Equal(t, CallKey(42), rf2.left[0].Call)

	plain, _ := newTestRouter(t, Config{})
	require.Error(t, plain.SetQueue(rQueue(2, func(q *Queue) { q.Overflow = Fallback{Action: ActionCallback} }), nil))
}

// An agent whose line cannot carry a caller's leg (Deps.CanTake) is still
// offered a callback request: it is dialled through their own campaign.
func TestRouterCallbackRequestNeedsNoCallerLine(t *testing.T) {
	f, rf := &routerFakes{}, &requestFakes{}
	r, err := NewRouter(Config{}, Deps{Notify: f, Line: f, Log: f, Requests: rf,
		CanTake: func(agents.ID, CallKey) bool { return false }})
	require.NoError(t, err)
	rSetQueue(t, r, rQueue(1, allowCallbacks), rMembers(1, 1))
	rArriveCallable(t, r, 10, "q1", rAt(0))
	r.HoldRequest(HeldRequest{ID: 5, Queue: 1, Phone: "+15550000005", Entered: rAt(1), Expires: rAt(3600)}, rAt(1))
	r.AgentChanged(1, 1, agents.Ready, rAt(2))
	off := rClaim(t, r, f, 1, RequestKey(5), rAt(2))
	require.Equal(t, RequestID(5), off.Request, "the caller ahead cannot be carried; the request can")
}

// rArriveCallable is rArrive with a number that can be called back
// (+1 202 555 0000 + call).
func rArriveCallable(t *testing.T, r *Router, call CallKey, did string, now time.Time) {
	t.Helper()
	require.NoError(t, r.Arrive(Arrival{Call: call, DID: did, From: fmt.Sprintf("+1202555%04d", call)}, now))
}
