package inbound

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
)

// rt0 is a Monday 10:00 UTC.
var rt0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

func rAt(s int) time.Time { return rt0.Add(time.Duration(s) * time.Second) }

type rWithdrawal struct {
	Agent agents.ID
	Call  CallKey
}

// routerFakes records what the router asks of the engines, the caller line
// and the event log, in order.
type routerFakes struct {
	mu        sync.Mutex
	pokes     []agents.ID
	withdraws []rWithdrawal
	dismissed map[CallKey]string
	events    []Event
}

func (f *routerFakes) Poke(a agents.ID) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pokes = append(f.pokes, a)
}

func (f *routerFakes) Withdraw(a agents.ID, c CallKey) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.withdraws = append(f.withdraws, rWithdrawal{a, c})
}

func (f *routerFakes) Dismiss(c CallKey, why string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.dismissed == nil {
		f.dismissed = map[CallKey]string{}
	}
	f.dismissed[c] = why
}

func (f *routerFakes) Append(ev Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, ev)
}

// takePokes returns the pokes since the last call and forgets them.
func (f *routerFakes) takePokes() []agents.ID {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.pokes
	f.pokes = nil
	return p
}

// kinds lists the kinds of the events logged for a call.
func (f *routerFakes) kinds(c CallKey) []EventKind {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []EventKind
	for _, ev := range f.events {
		if ev.Call == c {
			out = append(out, ev.Kind)
		}
	}
	return out
}

func newTestRouter(t *testing.T, cfg Config) (*Router, *routerFakes) {
	t.Helper()
	f := &routerFakes{}
	r, err := NewRouter(cfg, Deps{Notify: f, Line: f, Log: f})
	require.NoError(t, err)
	return r, f
}

// queue is a queue with test defaults: 30 s ring time, callers wait when no
// agent is in.
func rQueue(id QueueID, mods ...func(*Queue)) Queue {
	q := Queue{ID: id, Name: fmt.Sprintf("q%d", id), RingTime: 30 * time.Second, SLThreshold: 20 * time.Second,
		SLTarget: 0.8, NoAgents: Fallback{Action: ActionWait}}
	for _, m := range mods {
		m(&q)
	}
	return q
}

func rMembers(q QueueID, ids ...agents.ID) []Member {
	var out []Member
	for _, id := range ids {
		out = append(out, Member{Queue: q, Agent: id, Level: 1})
	}
	return out
}

func rSetQueue(t *testing.T, r *Router, q Queue, ms []Member) {
	t.Helper()
	require.NoError(t, r.SetQueue(q, ms))
	r.SetDID(q.Name, q.ID)
}

func rArrive(t *testing.T, r *Router, call CallKey, did string, now time.Time) {
	t.Helper()
	require.NoError(t, r.Arrive(Arrival{Call: call, DID: did, From: fmt.Sprintf("+1555000%04d", call)}, now))
}

// ready reports the agents READY one second apart, in the order given
// (the first is then the longest idle), from start.
func rReady(r *Router, start time.Time, ids ...agents.ID) {
	for i, id := range ids {
		r.AgentChanged(id, 1, agents.Ready, start.Add(time.Duration(i)*time.Second))
	}
}

// claim plays the engine answering a poke: the agent must have been poked
// last, and the claim must give them call.
func rClaim(t *testing.T, r *Router, f *routerFakes, id agents.ID, call CallKey, now time.Time) Offer {
	t.Helper()
	p := f.takePokes()
	require.NotEmpty(t, p, "agent %d was not poked", id)
	require.Equal(t, id, p[len(p)-1], "the last poke (of %v)", p)
	off, ok := r.Claim(id, now)
	require.True(t, ok, "agent %d claims a call", id)
	require.Equal(t, call, off.Call)
	return off
}

// settle plays an accepted call to its end: talk, wrap-up, READY at end.
func rSettle(r *Router, id agents.ID, from, end time.Time) {
	r.AgentChanged(id, 1, agents.InCall, from)
	r.AgentChanged(id, 1, agents.Dispo, end.Add(-time.Second))
	r.AgentChanged(id, 1, agents.Ready, end)
}

func TestRouterNeverOffersAnAgentWhoIsNotReady(t *testing.T) {
	for _, s := range []agents.State{agents.DND, agents.Paused, agents.Dispo, agents.InCall, agents.Dialing,
		agents.Ringing, agents.LoggedOut} {
		t.Run(s.String(), func(t *testing.T) {
			r, f := newTestRouter(t, Config{})
			rSetQueue(t, r, rQueue(1), rMembers(1, 1, 2))
			r.AgentChanged(1, 1, agents.Ready, rAt(0))
			r.AgentChanged(1, 1, s, rAt(1))
			r.AgentChanged(2, 1, agents.Paused, rAt(1))
			rArrive(t, r, 10, "q1", rAt(2))
			require.Empty(t, f.takePokes(), "nobody READY: nobody poked")
			_, ok := r.Claim(9, rAt(3)) // not a member
			require.False(t, ok)

			// The other member comes READY: the call goes to them, not to
			// the agent in s, whatever the order.
			r.AgentChanged(2, 1, agents.Ready, rAt(4))
			rClaim(t, r, f, 2, 10, rAt(4))
			r.Pass(10, 2, false, rAt(5))
			require.NotContains(t, f.takePokes(), agents.ID(1), "the call passes on, never to agent in %s", s)
			r.Advance(rAt(60))
			require.NotContains(t, f.takePokes(), agents.ID(1))

			// Only READY makes the agent eligible.
			r.AgentChanged(1, 1, agents.Ready, rAt(61))
			rClaim(t, r, f, 1, 10, rAt(61))
		})
	}
}

func TestRouterPassGoesToTheNextAgentAtOnce(t *testing.T) {
	for _, timeout := range []bool{false, true} {
		t.Run(fmt.Sprintf("timeout=%v", timeout), func(t *testing.T) {
			r, f := newTestRouter(t, Config{})
			rSetQueue(t, r, rQueue(1, func(q *Queue) { q.NoAgents = Fallback{Action: ActionHangup} }), rMembers(1, 1, 2, 3))
			rReady(r, rAt(0), 1, 2, 3)
			rArrive(t, r, 10, "q1", rAt(10))
			rClaim(t, r, f, 1, 10, rAt(10))

			r.Pass(10, 1, timeout, rAt(12))
			// The poke for the next agent came from Pass itself.
			require.Equal(t, []agents.ID{2}, f.takePokes())
			r.AgentChanged(1, 1, agents.Ready, rAt(12)) // the engine puts them back
			require.Empty(t, f.takePokes(), "the passer is not offered the call again at once")
			want := EvReject
			if timeout {
				want = EvTimeout
			}
			require.Equal(t, []EventKind{EvEnter, EvOffer, want}, f.kinds(10))
			require.Equal(t, agents.ID(1), f.events[len(f.events)-1].Agent)
		})
	}
}

func TestRouterEveryonePassedRunsTheNoAgentsAction(t *testing.T) {
	passAll := func(t *testing.T, r *Router, f *routerFakes) {
		t.Helper()
		rReady(r, rAt(0), 1, 2)
		rArrive(t, r, 10, "q1", rAt(10))
		rClaim(t, r, f, 1, 10, rAt(10))
		r.Pass(10, 1, false, rAt(11))
		r.AgentChanged(1, 1, agents.DND, rAt(11))
		rClaim(t, r, f, 2, 10, rAt(11))
		r.Pass(10, 2, true, rAt(41))
		r.AgentChanged(2, 1, agents.Ready, rAt(41))
	}
	t.Run("hangup", func(t *testing.T) {
		r, f := newTestRouter(t, Config{})
		rSetQueue(t, r, rQueue(1, func(q *Queue) { q.NoAgents = Fallback{Action: ActionHangup} }), rMembers(1, 1, 2))
		passAll(t, r, f)
		require.Contains(t, f.dismissed, CallKey(10))
		require.Equal(t, []EventKind{EvEnter, EvOffer, EvReject, EvOffer, EvTimeout, EvExit}, f.kinds(10))
		require.Empty(t, r.Waiting())
		r.Advance(rAt(100))
		require.Empty(t, f.takePokes())
	})
	t.Run("queue", func(t *testing.T) {
		r, f := newTestRouter(t, Config{})
		rSetQueue(t, r, rQueue(1, func(q *Queue) { q.NoAgents = Fallback{Action: ActionQueue, Target: 2} }), rMembers(1, 1, 2))
		rSetQueue(t, r, rQueue(2), rMembers(2, 3))
		passAll(t, r, f)
		require.Equal(t, []EventKind{EvEnter, EvOffer, EvReject, EvOffer, EvTimeout, EvOverflow, EvEnter}, f.kinds(10))
		w := r.Waiting()
		require.Len(t, w, 1)
		require.Equal(t, QueueID(2), w[0].Queue)
		require.Equal(t, rAt(10), w[0].Entered, "the caller keeps their first entry time")
		last := f.events[len(f.events)-1]
		require.Equal(t, QueueID(2), last.Queue)
		require.Equal(t, rAt(10), last.Entered)
		r.AgentChanged(3, 1, agents.Ready, rAt(50))
		rClaim(t, r, f, 3, 10, rAt(50))
	})
	t.Run("wait", func(t *testing.T) {
		r, f := newTestRouter(t, Config{})
		rSetQueue(t, r, rQueue(1), rMembers(1, 1, 2))
		rReady(r, rAt(0), 1, 2)
		rArrive(t, r, 10, "q1", rAt(10))
		rClaim(t, r, f, 1, 10, rAt(10))
		r.Pass(10, 1, false, rAt(11))
		r.AgentChanged(1, 1, agents.Ready, rAt(11))
		rClaim(t, r, f, 2, 10, rAt(11))
		r.Pass(10, 2, false, rAt(12))
		r.AgentChanged(2, 1, agents.Ready, rAt(12))
		require.Empty(t, f.dismissed)
		require.Len(t, r.Waiting(), 1)
		require.Empty(t, f.takePokes(), "both passed: nobody is offered the call")
		r.Advance(rAt(40))
		require.Empty(t, f.takePokes(), "not before one ring time")
		_, ok := r.Claim(1, rAt(40))
		require.False(t, ok, "a passer cannot claim it back within one ring time")
		r.Advance(rAt(41))
		rClaim(t, r, f, 1, 10, rAt(41))
	})
}

// TestRouterPlaceNeverGetsWorse drives random arrivals, hang-ups, offers,
// passes and overflows between queues of different priorities, and checks
// after every step that no caller's key grew, that every caller kept their
// first entry time, and that the waiting list is in key order.
func TestRouterPlaceNeverGetsWorse(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			r, f := newTestRouter(t, Config{AgingStep: 30 * time.Second})
			for q := QueueID(1); q <= 3; q++ {
				next := q%3 + 1
				rSetQueue(t, r, rQueue(q, func(c *Queue) {
					c.Priority = int(q) - 1
					c.MaxWait = time.Duration(20+rng.IntN(60)) * time.Second
					c.Overflow = Fallback{Action: ActionQueue, Target: next}
					c.MaxDepth = 8
				}), rMembers(q, agents.ID(q), 4))
			}
			keys := map[CallKey]time.Time{}
			entered := map[CallKey]time.Time{}
			next := CallKey(1)
			now := rt0
			for step := 0; step < 400; step++ {
				now = now.Add(time.Duration(1+rng.IntN(5)) * time.Second)
				switch n := rng.IntN(10); {
				case n < 3:
					did := fmt.Sprintf("q%d", 1+rng.IntN(3))
					require.NoError(t, r.Arrive(Arrival{Call: next, DID: did}, now))
					entered[next] = now
					next++
				case n < 4:
					if w := r.Waiting(); len(w) > 0 {
						r.HungUp(w[rng.IntN(len(w))].Call, now)
					}
				case n < 6:
					id := agents.ID(1 + rng.IntN(4))
					r.AgentChanged(id, 1, agents.Ready, now)
					if off, ok := r.Claim(id, now); ok {
						if rng.IntN(2) == 0 {
							r.Pass(off.Call, id, rng.IntN(2) == 0, now)
							r.AgentChanged(id, 1, agents.Paused, now)
						} else {
							require.True(t, r.Accept(off.Call, id, now))
							r.AgentChanged(id, 1, agents.InCall, now)
						}
					}
				default:
					r.Advance(now)
				}
				r.mu.Lock()
				for k, c := range r.calls {
					if old, ok := keys[k]; ok {
						require.False(t, c.key.After(old), "call %d: key went from %s to %s", k, old, c.key)
					}
					keys[k] = c.key
					require.Equal(t, entered[k], c.entered)
				}
				require.True(t, slices.IsSortedFunc(r.waiting, func(a, b *icall) int { return a.key.Compare(b.key) }))
				r.mu.Unlock()
			}
			var overflows int
			for _, ev := range f.events {
				require.Equal(t, entered[ev.Call], ev.Entered, "event %s of call %d", ev.Kind, ev.Call)
				if ev.Kind == EvOverflow {
					overflows++
				}
			}
			require.Positive(t, overflows, "the run overflowed callers between queues")
		})
	}
}

func TestRouterPriorityAges(t *testing.T) {
	for _, tc := range []struct {
		later int
		first CallKey
	}{{30, 2}, {90, 1}} {
		t.Run(fmt.Sprint(tc.later), func(t *testing.T) {
			r, f := newTestRouter(t, Config{AgingStep: time.Minute})
			rSetQueue(t, r, rQueue(1), rMembers(1, 1))
			rSetQueue(t, r, rQueue(2, func(q *Queue) { q.Priority = 1 }), rMembers(2, 1))
			r.AgentChanged(1, 1, agents.Paused, rAt(0))
			rArrive(t, r, 1, "q1", rAt(0))
			rArrive(t, r, 2, "q2", rAt(tc.later))
			w := r.Waiting()
			require.Len(t, w, 2)
			require.Equal(t, tc.first, w[0].Call)
			r.AgentChanged(1, 1, agents.Ready, rAt(100))
			rClaim(t, r, f, 1, tc.first, rAt(100))
			require.True(t, r.Accept(tc.first, 1, rAt(101)))
			rSettle(r, 1, rAt(101), rAt(200))
			rClaim(t, r, f, 1, 3-tc.first, rAt(200))
		})
	}
}

func TestRouterHours(t *testing.T) {
	weekdays := func(q *Queue) {
		for d := time.Monday; d <= time.Friday; d++ {
			q.Hours.Days[d].Open, q.Hours.Days[d].Close = 9*time.Hour, 17*time.Hour
		}
	}
	t.Run("after hours", func(t *testing.T) {
		r, f := newTestRouter(t, Config{})
		rSetQueue(t, r, rQueue(1, weekdays, func(q *Queue) { q.AfterHours = Fallback{Action: ActionHangup} }), rMembers(1, 1))
		rReady(r, rt0, 1)
		evening := time.Date(2026, 1, 5, 18, 0, 0, 0, time.UTC)
		require.NoError(t, r.Arrive(Arrival{Call: 1, DID: "q1"}, evening))
		require.Equal(t, "closed", f.dismissed[1])
		require.Equal(t, []EventKind{EvEnter, EvExit}, f.kinds(1))
		sunday := time.Date(2026, 1, 4, 11, 0, 0, 0, time.UTC)
		require.NoError(t, r.Arrive(Arrival{Call: 2, DID: "q1"}, sunday))
		require.Equal(t, "closed", f.dismissed[2], "closed all Sunday")
		require.Empty(t, f.takePokes())
		require.NoError(t, r.Arrive(Arrival{Call: 3, DID: "q1"}, rt0.Add(time.Hour)))
		require.NotContains(t, f.dismissed, CallKey(3))
		rClaim(t, r, f, 1, 3, rt0.Add(time.Hour))
	})
	t.Run("after hours to another queue", func(t *testing.T) {
		r, f := newTestRouter(t, Config{})
		rSetQueue(t, r, rQueue(1, weekdays, func(q *Queue) { q.AfterHours = Fallback{Action: ActionQueue, Target: 2} }), rMembers(1, 1))
		rSetQueue(t, r, rQueue(2), rMembers(2, 2))
		evening := time.Date(2026, 1, 5, 18, 0, 0, 0, time.UTC)
		require.NoError(t, r.Arrive(Arrival{Call: 1, DID: "q1"}, evening))
		require.Equal(t, []EventKind{EvEnter, EvOverflow, EvEnter}, f.kinds(1))
		require.Equal(t, QueueID(2), r.Waiting()[0].Queue)
	})
	for _, action := range []Action{ActionHangup, ActionWait} {
		t.Run("closing time "+action.String(), func(t *testing.T) {
			r, f := newTestRouter(t, Config{})
			rSetQueue(t, r, rQueue(1, weekdays, func(q *Queue) { q.AtClose = Fallback{Action: action} }), rMembers(1, 1))
			r.AgentChanged(1, 1, agents.Paused, rt0)
			before := time.Date(2026, 1, 5, 16, 59, 0, 0, time.UTC)
			require.NoError(t, r.Arrive(Arrival{Call: 1, DID: "q1"}, before))
			r.Advance(before.Add(59 * time.Second))
			require.Len(t, r.Waiting(), 1, "still open")
			r.Advance(before.Add(time.Minute))
			if action == ActionHangup {
				require.Equal(t, "closing time", f.dismissed[1])
				require.Equal(t, []EventKind{EvEnter, EvExit}, f.kinds(1))
				require.Empty(t, r.Waiting())
				return
			}
			require.Empty(t, f.dismissed)
			require.Len(t, r.Waiting(), 1, "callers still waiting at closing time stay")
			r.AgentChanged(1, 1, agents.Ready, before.Add(2*time.Minute))
			rClaim(t, r, f, 1, 1, before.Add(2*time.Minute))
		})
	}
}

func TestRouterMaxWaitAndDepth(t *testing.T) {
	t.Run("max wait overflows keeping the entry time", func(t *testing.T) {
		r, f := newTestRouter(t, Config{})
		rSetQueue(t, r, rQueue(1, func(q *Queue) {
			q.MaxWait = time.Minute
			q.Overflow = Fallback{Action: ActionQueue, Target: 2}
		}), rMembers(1, 1))
		rSetQueue(t, r, rQueue(2, func(q *Queue) { q.MaxWait = time.Minute }), rMembers(2, 2))
		r.AgentChanged(1, 1, agents.Paused, rt0)
		rArrive(t, r, 1, "q1", rAt(0))
		r.Advance(rAt(59))
		require.Equal(t, QueueID(1), r.Waiting()[0].Queue)
		r.Advance(rAt(60))
		w := r.Waiting()
		require.Len(t, w, 1)
		require.Equal(t, QueueID(2), w[0].Queue)
		require.Equal(t, rAt(0), w[0].Entered)
		require.Equal(t, []EventKind{EvEnter, EvOverflow, EvEnter}, f.kinds(1))
		// Queue 2's own maximum wait counts from the overflow; its
		// overflow action (hang up) ends the call.
		r.Advance(rAt(119))
		require.Len(t, r.Waiting(), 1)
		r.Advance(rAt(120))
		require.Equal(t, "waited too long", f.dismissed[1])
	})
	t.Run("max wait not while ringing", func(t *testing.T) {
		r, f := newTestRouter(t, Config{})
		rSetQueue(t, r, rQueue(1, func(q *Queue) { q.MaxWait = time.Minute }), rMembers(1, 1))
		r.AgentChanged(1, 1, agents.Paused, rt0)
		rArrive(t, r, 1, "q1", rAt(0))
		r.AgentChanged(1, 1, agents.Ready, rAt(50))
		rClaim(t, r, f, 1, 1, rAt(50))
		r.Advance(rAt(70))
		require.Empty(t, f.dismissed, "an offer ringing is not cut")
		require.True(t, r.Accept(1, 1, rAt(71)))
	})
	t.Run("max depth", func(t *testing.T) {
		r, f := newTestRouter(t, Config{})
		rSetQueue(t, r, rQueue(1, func(q *Queue) { q.MaxDepth = 2 }), rMembers(1, 1))
		r.AgentChanged(1, 1, agents.Paused, rt0)
		rArrive(t, r, 1, "q1", rAt(0))
		rArrive(t, r, 2, "q1", rAt(1))
		rArrive(t, r, 3, "q1", rAt(2))
		require.Equal(t, "queue full", f.dismissed[3])
		require.Equal(t, []EventKind{EvEnter, EvExit}, f.kinds(3))
		require.Len(t, r.Waiting(), 2)
		r.HungUp(1, rAt(3))
		rArrive(t, r, 4, "q1", rAt(4))
		require.NotContains(t, f.dismissed, CallKey(4), "room again once one left")
	})
}

func TestRouterMethods(t *testing.T) {
	// Agents 1, 2, 3 went READY in the order 3, 2, 1: agent 3 is the
	// longest idle.
	t.Run("longest idle", func(t *testing.T) {
		r, f := newTestRouter(t, Config{})
		rSetQueue(t, r, rQueue(1), rMembers(1, 1, 2, 3))
		rReady(r, rAt(0), 3, 2, 1)
		rArrive(t, r, 10, "q1", rAt(10))
		rClaim(t, r, f, 3, 10, rAt(10))
		rArrive(t, r, 11, "q1", rAt(11))
		rClaim(t, r, f, 2, 11, rAt(11))
	})
	t.Run("fewest calls", func(t *testing.T) {
		r, f := newTestRouter(t, Config{})
		rSetQueue(t, r, rQueue(1, func(q *Queue) { q.Method = FewestCalls }), rMembers(1, 1, 2, 3))
		// Agent 1 takes two calls, agent 3 one, agent 2 none.
		call := CallKey(1)
		for _, id := range []agents.ID{1, 1, 3} {
			rReady(r, rAt(int(call)*100), id)
			rArrive(t, r, call, "q1", rAt(int(call)*100))
			rClaim(t, r, f, id, call, rAt(int(call)*100))
			require.True(t, r.Accept(call, id, rAt(int(call)*100+1)))
			r.AgentChanged(id, 1, agents.Paused, rAt(int(call)*100+50))
			call++
		}
		rReady(r, rAt(1000), 2, 1, 3) // agent 2 is also the longest idle: make it not
		r.AgentChanged(2, 1, agents.Paused, rAt(1003))
		r.AgentChanged(2, 1, agents.Ready, rAt(1004))
		rArrive(t, r, 10, "q1", rAt(1010))
		rClaim(t, r, f, 2, 10, rAt(1010))
		rArrive(t, r, 11, "q1", rAt(1011))
		rClaim(t, r, f, 3, 11, rAt(1011))
	})
	t.Run("rank", func(t *testing.T) {
		r, f := newTestRouter(t, Config{})
		rSetQueue(t, r, rQueue(1, func(q *Queue) { q.Method = Rank }), []Member{
			{Queue: 1, Agent: 1, Level: 1, Rank: 3}, {Queue: 1, Agent: 2, Level: 1, Rank: 1},
			{Queue: 1, Agent: 3, Level: 1, Rank: 2}})
		rReady(r, rAt(0), 1, 3, 2)
		rArrive(t, r, 10, "q1", rAt(10))
		rClaim(t, r, f, 2, 10, rAt(10))
		rArrive(t, r, 11, "q1", rAt(11))
		rClaim(t, r, f, 3, 11, rAt(11))
	})
	t.Run("round robin", func(t *testing.T) {
		r, f := newTestRouter(t, Config{})
		rSetQueue(t, r, rQueue(1, func(q *Queue) { q.Method = RoundRobin }), rMembers(1, 1, 2, 3))
		rReady(r, rAt(0), 3, 2, 1)
		for i, id := range []agents.ID{1, 2, 3, 1, 2} {
			call := CallKey(10 + i)
			now := rAt(100 * (i + 1))
			rArrive(t, r, call, "q1", now)
			rClaim(t, r, f, id, call, now)
			require.True(t, r.Accept(call, id, now.Add(time.Second)))
			rSettle(r, id, now.Add(time.Second), now.Add(10*time.Second))
		}
	})
	t.Run("ring all", func(t *testing.T) {
		r, f := newTestRouter(t, Config{})
		rSetQueue(t, r, rQueue(1, func(q *Queue) { q.Method = RingAll }), rMembers(1, 1, 2, 3, 4))
		rReady(r, rAt(0), 1, 2, 3)
		r.AgentChanged(4, 1, agents.Paused, rAt(0))
		rArrive(t, r, 10, "q1", rAt(10))
		p := f.takePokes()
		slices.Sort(p)
		require.Equal(t, []agents.ID{1, 2, 3}, p, "every free member rings")
		for _, id := range []agents.ID{1, 2, 3} {
			off, ok := r.Claim(id, rAt(10))
			require.True(t, ok)
			require.Equal(t, CallKey(10), off.Call)
		}
		require.True(t, r.Accept(10, 2, rAt(12)))
		w := slices.Clone(f.withdraws)
		slices.SortFunc(w, func(a, b rWithdrawal) int { return int(a.Agent - b.Agent) })
		require.Equal(t, []rWithdrawal{{1, 10}, {3, 10}}, w)
		require.False(t, r.Accept(10, 1, rAt(12)), "the first accept took it")
		require.Equal(t, []EventKind{EvEnter, EvOffer, EvOffer, EvOffer, EvConnect}, f.kinds(10))
	})
	t.Run("ring all is for small queues", func(t *testing.T) {
		r, _ := newTestRouter(t, Config{})
		var ids []agents.ID
		for i := 1; i <= MaxRingAll+1; i++ {
			ids = append(ids, agents.ID(i))
		}
		require.Error(t, r.SetQueue(rQueue(1, func(q *Queue) { q.Method = RingAll }), rMembers(1, ids...)))
	})
}

func TestRouterStickyAgent(t *testing.T) {
	sticky := func(q *Queue) { q.StickyFor = 20 * time.Second }
	arriveFor := func(t *testing.T, r *Router, last agents.ID) {
		t.Helper()
		require.NoError(t, r.Arrive(Arrival{Call: 10, DID: "q1", LastAgent: last}, rAt(0)))
	}
	t.Run("held for the last agent, who takes it when free", func(t *testing.T) {
		r, f := newTestRouter(t, Config{})
		rSetQueue(t, r, rQueue(1, sticky), rMembers(1, 1, 2))
		r.AgentChanged(2, 1, agents.InCall, rAt(-10))
		rReady(r, rAt(-5), 1)
		arriveFor(t, r, 2)
		require.Empty(t, f.takePokes(), "held for agent 2")
		_, ok := r.Claim(1, rAt(1))
		require.False(t, ok)
		r.AgentChanged(2, 1, agents.Dispo, rAt(4))
		r.AgentChanged(2, 1, agents.Ready, rAt(5))
		rClaim(t, r, f, 2, 10, rAt(5))
	})
	t.Run("then anyone", func(t *testing.T) {
		r, f := newTestRouter(t, Config{})
		rSetQueue(t, r, rQueue(1, sticky), rMembers(1, 1, 2))
		r.AgentChanged(2, 1, agents.InCall, rAt(-10))
		rReady(r, rAt(-5), 1)
		arriveFor(t, r, 2)
		r.Advance(rAt(19))
		require.Empty(t, f.takePokes())
		r.Advance(rAt(20))
		rClaim(t, r, f, 1, 10, rAt(20))
	})
	t.Run("not held for an agent who is not a member", func(t *testing.T) {
		r, f := newTestRouter(t, Config{})
		rSetQueue(t, r, rQueue(1, sticky), rMembers(1, 1, 2))
		r.AgentChanged(9, 1, agents.InCall, rAt(-10)) // at work, outbound only
		rReady(r, rAt(-5), 1)
		arriveFor(t, r, 9)
		rClaim(t, r, f, 1, 10, rAt(0))
	})
	t.Run("not held for an agent away", func(t *testing.T) {
		for _, s := range []agents.State{agents.LoggedOut, agents.Paused, agents.DND} {
			r, f := newTestRouter(t, Config{})
			rSetQueue(t, r, rQueue(1, sticky), rMembers(1, 1, 2))
			r.AgentChanged(2, 1, agents.Ready, rAt(-10))
			r.AgentChanged(2, 1, s, rAt(-9))
			rReady(r, rAt(-5), 1)
			arriveFor(t, r, 2)
			rClaim(t, r, f, 1, 10, rAt(0))
		}
	})
}

func TestRouterWidening(t *testing.T) {
	r, f := newTestRouter(t, Config{})
	rSetQueue(t, r, rQueue(1, func(q *Queue) { q.WidenAfter = 30 * time.Second }),
		[]Member{{Queue: 1, Agent: 1, Level: 1}, {Queue: 1, Agent: 2, Level: 2}})
	r.AgentChanged(1, 1, agents.InCall, rAt(-10))
	rReady(r, rAt(-5), 2)
	rArrive(t, r, 10, "q1", rAt(0))
	require.Empty(t, f.takePokes())
	r.Advance(rAt(29))
	require.Empty(t, f.takePokes(), "level 2 waits for WidenAfter")
	r.Advance(rAt(30))
	rClaim(t, r, f, 2, 10, rAt(30))
}

func TestRouterCallerHangsUpWhileRinging(t *testing.T) {
	r, f := newTestRouter(t, Config{})
	rSetQueue(t, r, rQueue(1), rMembers(1, 1, 2))
	rReady(r, rAt(0), 1, 2)
	rArrive(t, r, 10, "q1", rAt(10))
	rClaim(t, r, f, 1, 10, rAt(10))
	r.HungUp(10, rAt(15))
	require.Equal(t, []rWithdrawal{{1, 10}}, f.withdraws)
	require.Equal(t, []EventKind{EvEnter, EvOffer, EvAbandon}, f.kinds(10))
	require.False(t, r.Accept(10, 1, rAt(16)))
	require.Empty(t, r.Waiting())
	r.Pass(10, 1, false, rAt(16)) // a late pass of a call gone changes nothing
	require.Empty(t, f.takePokes())
	require.Equal(t, []EventKind{EvEnter, EvOffer, EvAbandon}, f.kinds(10))
}

func TestRouterLoad(t *testing.T) {
	setup := func(t *testing.T, mode Mode) (*Router, *routerFakes) {
		r, f := newTestRouter(t, Config{Mode: mode})
		var ids []agents.ID
		for i := 1; i <= 10; i++ {
			ids = append(ids, agents.ID(i))
		}
		rSetQueue(t, r, rQueue(1), rMembers(1, ids...))
		for _, id := range ids {
			r.AgentChanged(id, 1, agents.InCall, rAt(-100))
		}
		return r, f
	}
	// arrivals brings n callers in over the 15 minutes before end, each
	// hanging up at once.
	arrivals := func(t *testing.T, r *Router, n int, end time.Time) {
		for i := range n {
			now := end.Add(-15 * time.Minute).Add(time.Duration(i) * 15 * time.Minute / time.Duration(n))
			k := CallKey(1000 + i)
			require.NoError(t, r.Arrive(Arrival{Call: k, DID: "q1"}, now))
			r.HungUp(k, now)
		}
	}
	t.Run("blended", func(t *testing.T) {
		r, _ := setup(t, Blended)
		quiet := r.Load(1, rAt(0))
		require.Zero(t, quiet.Reserve, "no callers, no reserve")
		arrivals(t, r, 10, rAt(900))
		low := r.Load(1, rAt(900))
		r2, _ := setup(t, Blended)
		arrivals(t, r2, 60, rAt(900))
		high := r2.Load(1, rAt(900))
		require.Positive(t, low.Reserve)
		require.Greater(t, high.Reserve, low.Reserve, "the reserve grows with the arrival rate")
		require.Zero(t, r.Load(2, rAt(900)).Reserve, "another campaign's agents keep nothing back")

		rArrive(t, r, 1, "q1", rAt(900))
		rArrive(t, r, 2, "q1", rAt(900))
		l := r.Load(1, rAt(900))
		require.Equal(t, 2, l.Waiting)
		require.False(t, l.Stop)
		r.HungUp(1, rAt(900))
		r.HungUp(2, rAt(900))
		gone := r.Load(1, rAt(900))
		require.Zero(t, gone.Waiting)
		require.Equal(t, gone.Reserve+2, l.Reserve, "one more per caller waiting")

		// Paused and DND agents are not counted: with all of them away,
		// nothing is reserved but the callers waiting.
		for i := 1; i <= 10; i++ {
			s := agents.Paused
			if i%2 == 0 {
				s = agents.DND
			}
			r.AgentChanged(agents.ID(i), 1, s, rAt(901))
		}
		l = r.Load(1, rAt(901))
		require.Zero(t, l.Reserve)
		require.Zero(t, l.Waiting)
	})
	t.Run("dedicated", func(t *testing.T) {
		r, _ := setup(t, Dedicated)
		arrivals(t, r, 60, rAt(900))
		rArrive(t, r, 1, "q1", rAt(900))
		l := r.Load(1, rAt(900))
		require.Zero(t, l.Reserve)
		require.False(t, l.Stop)
	})
	t.Run("no dial while waiting", func(t *testing.T) {
		r, _ := setup(t, NoDialWhileWaiting)
		arrivals(t, r, 60, rAt(900))
		l := r.Load(1, rAt(900))
		require.Zero(t, l.Reserve)
		require.False(t, l.Stop, "nobody waits")
		rArrive(t, r, 1, "q1", rAt(900))
		require.True(t, r.Load(1, rAt(900)).Stop)
		r.HungUp(1, rAt(901))
		require.False(t, r.Load(1, rAt(901)).Stop)
	})
}

// TestRouterEventLogGivesTheFigures plays a known day through the router
// and checks that the figures computed from the events it logged are the
// ones the test made happen.
func TestRouterEventLogGivesTheFigures(t *testing.T) {
	r, f := newTestRouter(t, Config{})
	rSetQueue(t, r, rQueue(1, func(q *Queue) {
		q.MaxWait = 5 * time.Minute
		q.Overflow = Fallback{Action: ActionQueue, Target: 2}
	}), rMembers(1, 1, 2))
	rSetQueue(t, r, rQueue(2), rMembers(2, 3))
	for _, id := range []agents.ID{1, 2, 3} {
		r.AgentChanged(id, 1, agents.Paused, rAt(0))
	}
	// Call 1: answered after 10 s (one reject first). Call 2: answered
	// after 40 s. Call 3: hangs up after 5 s. Call 4: hangs up after 30 s
	// while ringing. Call 5: overflows to queue 2 after 5 min and is
	// answered there. Call 6: still waiting.
	rArrive(t, r, 1, "q1", rAt(100))
	r.AgentChanged(1, 1, agents.Ready, rAt(105))
	rClaim(t, r, f, 1, 1, rAt(105))
	r.Pass(1, 1, false, rAt(106))
	r.AgentChanged(1, 1, agents.Paused, rAt(106))
	r.AgentChanged(2, 1, agents.Ready, rAt(108))
	rClaim(t, r, f, 2, 1, rAt(108))
	require.True(t, r.Accept(1, 2, rAt(110)))
	r.AgentChanged(2, 1, agents.InCall, rAt(110))

	rArrive(t, r, 2, "q1", rAt(200))
	r.AgentChanged(1, 1, agents.Ready, rAt(235))
	rClaim(t, r, f, 1, 2, rAt(235))
	require.True(t, r.Accept(2, 1, rAt(240)))
	r.AgentChanged(1, 1, agents.InCall, rAt(240))

	rArrive(t, r, 3, "q1", rAt(300))
	r.HungUp(3, rAt(305))
	rArrive(t, r, 4, "q1", rAt(400))

	r.AgentChanged(1, 1, agents.Ready, rAt(420))
	rClaim(t, r, f, 1, 4, rAt(420))
	r.HungUp(4, rAt(430))
	r.AgentChanged(1, 1, agents.Paused, rAt(431))
	rArrive(t, r, 5, "q1", rAt(500))
	rArrive(t, r, 6, "q1", rAt(600))

	r.Advance(rAt(800))
	require.Equal(t, QueueID(2), r.Waiting(2)[0].Queue)
	r.AgentChanged(3, 1, agents.Ready, rAt(810))
	rClaim(t, r, f, 3, 5, rAt(810))
	require.True(t, r.Accept(5, 3, rAt(812)))

	now := rAt(1000)
	thr := map[QueueID]time.Duration{1: 20 * time.Second, 2: 20 * time.Second}
	fig := Compute(f.events, thr, rt0, now, now)
	q1, q2 := fig[1], fig[2]
	require.Equal(t, 6, q1.Offered)
	require.Equal(t, 2, q1.Answered)
	require.Equal(t, 1, q1.AnsweredWithin)
	require.Equal(t, 2, q1.Abandoned)
	require.Equal(t, 1, q1.AbandonedWithin)
	require.Equal(t, 1, q1.AbandonedAfter)
	require.Equal(t, 1, q1.Overflowed)
	require.Equal(t, 1, q1.Waiting)
	require.Equal(t, 400*time.Second, q1.LongestWait)
	require.Equal(t, 25*time.Second, q1.ASA)
	require.Equal(t, []CallKey{3, 4}, []CallKey{q1.Abandons[0].Call, q1.Abandons[1].Call})
	require.Equal(t, 30*time.Second, q1.Abandons[1].Wait)
	require.InDelta(t, 0.5, q1.SLAnswered, 1e-9)
	require.InDelta(t, 1.0/3, q1.SLOffered, 1e-9)

	require.Equal(t, 1, q2.Offered)
	require.Equal(t, 1, q2.Answered)
	require.Equal(t, 312*time.Second, q2.ASA, "the wait counts from the first entry")
	require.Zero(t, q2.AnsweredWithin)
}

func TestRouterNoAgents(t *testing.T) {
	hangup := func(q *Queue) { q.NoAgents = Fallback{Action: ActionHangup} }
	t.Run("nobody logged in", func(t *testing.T) {
		r, f := newTestRouter(t, Config{})
		rSetQueue(t, r, rQueue(1, hangup), rMembers(1, 1))
		rArrive(t, r, 1, "q1", rAt(0))
		require.Equal(t, "no agents", f.dismissed[1])
		require.Equal(t, []EventKind{EvEnter, EvExit}, f.kinds(1))
	})
	t.Run("the last member logs out", func(t *testing.T) {
		r, f := newTestRouter(t, Config{})
		rSetQueue(t, r, rQueue(1, hangup), rMembers(1, 1, 2))
		r.AgentChanged(1, 1, agents.Paused, rAt(0))
		r.AgentChanged(2, 1, agents.InCall, rAt(0))
		rArrive(t, r, 1, "q1", rAt(1))
		r.AgentChanged(1, 1, agents.LoggedOut, rAt(2))
		require.Len(t, r.Waiting(), 1, "agent 2 is still at work")
		r.AgentChanged(2, 1, agents.LoggedOut, rAt(3))
		require.Equal(t, "no agents", f.dismissed[1])
		require.Empty(t, r.Waiting())
	})
	t.Run("wait", func(t *testing.T) {
		r, f := newTestRouter(t, Config{})
		rSetQueue(t, r, rQueue(1), rMembers(1, 1))
		rArrive(t, r, 1, "q1", rAt(0))
		require.Empty(t, f.dismissed)
		r.AgentChanged(1, 1, agents.Ready, rAt(30))
		rClaim(t, r, f, 1, 1, rAt(30))
	})
	t.Run("unknown number", func(t *testing.T) {
		r, _ := newTestRouter(t, Config{})
		require.ErrorIs(t, r.Arrive(Arrival{Call: 1, DID: "nowhere"}, rAt(0)), ErrUnknownDID)
		rSetQueue(t, r, rQueue(1), rMembers(1, 1))
		rArrive(t, r, 2, "q1", rAt(0))
		require.ErrorIs(t, r.Arrive(Arrival{Call: 2, DID: "q1"}, rAt(1)), ErrDuplicate)
	})
}
