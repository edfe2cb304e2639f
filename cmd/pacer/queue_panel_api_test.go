package main

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/dialer/sim"
	"github.com/pacer-dialer/pacer/inbound"
	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/internal/testwait"
	"github.com/pacer-dialer/pacer/web"
)

// queuePanelJSON is GET /agent/queue.
type queuePanelJSON struct {
	Order   string `json:"order"`
	Callers []struct {
		Call     string    `json:"call_id"`
		Queue    string    `json:"queue"`
		From     string    `json:"from"`
		DID      string    `json:"did"`
		LeadName string    `json:"lead_name"`
		Entered  time.Time `json:"entered"`
		WaitS    float64   `json:"wait_s"`
		Ringing  []string  `json:"ringing"`
		CanTake  bool      `json:"can_take"`
		WhyNot   string    `json:"why_not"`
	} `json:"callers"`
}

func (c *client) queuePanel() queuePanelJSON {
	c.t.Helper()
	code, body := c.do("GET", "/api/v1/agent/queue", nil, false)
	require.Equal(c.t, http.StatusOK, code, body)
	var p queuePanelJSON
	mustJSON(c.t, body, &p)
	return p
}

// makeQueue stores a queue that always opens and lets callers wait with
// nobody logged in, routes did to it and adds its members (agent → level).
func makeQueue(t *testing.T, db *pgxpool.Pool, q inbound.Queue, did string, members map[int64]int) inbound.Queue {
	t.Helper()
	ctx := context.Background()
	store := inbound.NewQueueStore(db)
	q.NoAgents = inbound.Fallback{Action: inbound.ActionWait}
	q.AtClose = inbound.Fallback{Action: inbound.ActionWait}
	q, err := store.CreateQueue(ctx, q.WithDefaults())
	require.NoError(t, err)
	_, err = store.SetDID(ctx, did, q.ID)
	require.NoError(t, err)
	for id, level := range members {
		_, err := store.SetMember(ctx, inbound.Member{Queue: q.ID, Agent: agents.ID(id), Level: level})
		require.NoError(t, err)
	}
	return q
}

// The queue panel on the real server, router and simulated callers: an
// agent sees the callers waiting in their queues only, longest waiting
// first, with the matched lead's name and why they may not take one; they
// take a caller they may and are on the call with them (logged as an offer
// and a connect); every refusal is a 409 that says which, a caller that
// never waited a 404, bad input a 400.
func TestAgentQueuePanelAPI(t *testing.T) {
	dbURL := testdb.New(t)
	db, err := pgxpool.New(context.Background(), dbURL)
	require.NoError(t, err)
	t.Cleanup(db.Close)
	ctx := context.Background()
	ids := map[string]int64{}
	for _, u := range []struct{ name, role string }{{"alice", "agent"}, {"bob", "agent"}, {"carol", "agent"}, {"root", "admin"}} {
		created, err := web.CreateUser(ctx, db, web.NewUser{Username: u.name, Role: web.Role(u.role), Password: "password-" + u.name,
			Cost: bcrypt.MinCost})
		require.NoError(t, err)
		ids[u.name] = created.ID
	}
	const ada, stranger, third, fourth = "+12025550177", "+12025550188", "+12025550199", "+12025550166"
	const takeDID, noTakeDID, bobDID = "+12025550101", "+12025550102", "+12025550103"
	camp := activeCampaign(t, db, "Front desk", "manual", "phone,first_name,last_name\n"+ada+",Ada,Lovelace\n")
	// Alice and carol are second-line members: with WidenAfter 10 min no
	// caller is offered to them by itself, so they take them from the
	// panel. Bob is first line, and rings for the longest time allowed.
	desk := makeQueue(t, db, inbound.Queue{Name: "Take desk", AllowTake: true, WidenAfter: 10 * time.Minute, RingTime: 180 * time.Second},
		takeDID, map[int64]int{ids["alice"]: 2, ids["carol"]: 2, ids["bob"]: 1})
	makeQueue(t, db, inbound.Queue{Name: "Billing", WidenAfter: 10 * time.Minute}, noTakeDID, map[int64]int{ids["alice"]: 2})
	makeQueue(t, db, inbound.Queue{Name: "Bob only", AllowTake: true, WidenAfter: 10 * time.Minute}, bobDID, map[int64]int{ids["bob"]: 2})

	rt := webSim()
	rt.CallerTalk = webSim().CustomerTalk
	rt.CallerPatience = sim.Dist{Dist: "uniform", Min: 3000, Max: 3600} // nobody hangs up during the test
	base, _ := serveWeb(t, serveOptions{db: dbOptions{url: dbURL}, httpAddr: "127.0.0.1:0", nodeID: "queue-panel-test",
		engine: engineOptions{noDemo: true, sim: rt, poll: 100 * time.Millisecond, summary: -1},
		web:    webOptions{bcryptCost: bcrypt.MinCost, sessionTTL: time.Hour, agentGone: time.Minute}})
	alice, bob, carol, root := newClient(t, base), newClient(t, base), newClient(t, base), newClient(t, base)
	for name, c := range map[string]*client{"alice": alice, "bob": bob, "carol": carol, "root": root} {
		require.Equal(t, http.StatusOK, c.login(name, "password-"+name))
	}
	take := func(c *client, body any) (int, string) {
		t.Helper()
		return c.do("POST", "/api/v1/agent/queue/take", body, true)
	}
	setState := func(c *client, state string) {
		t.Helper()
		req := map[string]any{"state": state, "campaign_id": camp.ID}
		if state == "PAUSED" {
			req["pause_code"] = "BREAK"
		}
		code, body := c.do("POST", "/api/v1/agent/state", req, true)
		require.Equal(t, http.StatusOK, code, body)
	}

	code, body := alice.do("GET", "/api/v1/agent/queue", nil, false)
	require.Equal(t, http.StatusConflict, code, "not in a campaign yet: %s", body)
	require.Contains(t, body, "not logged in to a campaign")
	code, body = take(alice, map[string]string{"call": "1"})
	require.Equal(t, http.StatusConflict, code, body)

	setState(alice, "READY")
	setState(carol, "READY")
	require.Empty(t, alice.queuePanel().Callers, "nobody waits")
	inject := func(did, from string) {
		t.Helper()
		code, body := root.do("POST", "/api/v1/sim/inbound", map[string]string{"did": did, "from": from}, true)
		require.Equal(t, http.StatusAccepted, code, body)
	}
	inject(takeDID, ada)
	inject(takeDID, stranger)
	inject(noTakeDID, third)
	inject(bobDID, fourth)

	var p queuePanelJSON
	testwait.Until(t, func() bool { p = alice.queuePanel(); return len(p.Callers) == 3 }, "alice never saw her three callers")
	require.Equal(t, "longest_wait", p.Order)
	require.Equal(t, []string{ada, stranger, third}, []string{p.Callers[0].From, p.Callers[1].From, p.Callers[2].From},
		"longest waiting first; bob's queue is not hers")
	first, second, billing := p.Callers[0], p.Callers[1], p.Callers[2]
	require.Equal(t, "Take desk", first.Queue)
	require.Equal(t, takeDID, first.DID)
	require.Equal(t, "Ada Lovelace", first.LeadName, "the matched lead")
	require.Empty(t, second.LeadName)
	require.True(t, first.CanTake)
	require.True(t, second.CanTake)
	require.False(t, first.Entered.After(second.Entered))
	require.Equal(t, "Billing", billing.Queue)
	require.False(t, billing.CanTake)
	require.Equal(t, "this queue does not allow taking", billing.WhyNot)
	require.Equal(t, "READY", alice.inboundState().State, "a second-line member is not offered callers by itself")

	t.Run("bad input", func(t *testing.T) {
		for _, bad := range []any{map[string]any{}, map[string]any{"call": 5}, map[string]any{"call": "abc"},
			map[string]any{"call": "0"}, map[string]any{"call": second.Call, "x": 1}} {
			code, body := take(alice, bad)
			require.Equal(t, http.StatusBadRequest, code, "%v: %s", bad, body)
		}
		code, body := take(alice, map[string]string{"call": "4611686018427387000"})
		require.Equal(t, http.StatusNotFound, code, "no such caller ever waited: %s", body)
	})

	t.Run("refusals", func(t *testing.T) {
		code, body := take(alice, map[string]string{"call": billing.Call})
		require.Equal(t, http.StatusConflict, code, body)
		require.Contains(t, body, "does not let agents take calls")
		setState(bob, "PAUSED")
		bp := bob.queuePanel()
		require.Len(t, bp.Callers, 3, "bob serves the take desk and his own queue")
		require.Equal(t, fourth, bp.Callers[2].From)
		bobs := bp.Callers[2].Call
		code, body = take(alice, map[string]string{"call": bobs})
		require.Equal(t, http.StatusConflict, code, body)
		require.Contains(t, body, "do not serve")

		setState(alice, "PAUSED")
		code, body = take(alice, map[string]string{"call": second.Call})
		require.Equal(t, http.StatusConflict, code, body)
		require.Contains(t, body, "you are PAUSED: only a READY agent can take a call")
		setState(alice, "READY")

		// Bob, first line, is offered the longest-waiting caller.
		setState(bob, "READY")
		bob.waitState("RINGING")
		p := alice.queuePanel()
		require.Len(t, p.Callers, 3)
		require.Equal(t, []string{"bob"}, p.Callers[0].Ringing)
		require.False(t, p.Callers[0].CanTake)
		require.Equal(t, "ringing bob", p.Callers[0].WhyNot)
		code, body = take(alice, map[string]string{"call": first.Call})
		require.Equal(t, http.StatusConflict, code, body)
		require.Contains(t, body, "being offered to another agent")
	})

	t.Run("take", func(t *testing.T) {
		code, body := take(alice, map[string]string{"call": second.Call})
		require.Equal(t, http.StatusOK, code, body)
		require.Contains(t, body, `"state":"INCALL"`)
		call := alice.inboundCall()
		require.NotNil(t, call.Inbound)
		require.Equal(t, stranger, call.Inbound.From, "on the call with the caller she took")
		code, body = take(carol, map[string]string{"call": second.Call})
		require.Equal(t, http.StatusConflict, code, body)
		require.Contains(t, body, "no longer waiting")
		p := carol.queuePanel()
		require.Len(t, p.Callers, 1, "the first caller still waits (ringing bob); billing is not carol's")
		require.Equal(t, ada, p.Callers[0].From)

		key, err := strconv.ParseInt(second.Call, 10, 64)
		require.NoError(t, err)
		var kinds []string
		testwait.Until(t, func() bool {
			evs, err := inbound.NewEventStore(db).OfCall(ctx, inbound.CallKey(key))
			require.NoError(t, err)
			kinds = kinds[:0]
			for _, e := range evs {
				kinds = append(kinds, e.Kind.String())
				if e.Kind == inbound.EvOffer || e.Kind == inbound.EvConnect {
					require.Equal(t, agents.ID(ids["alice"]), e.Agent)
					require.Equal(t, desk.ID, e.Queue)
				}
			}
			return len(kinds) == 3
		}, "the taken caller's events never reached the log")
		require.Equal(t, []string{"enter", "offer", "connect"}, kinds)
	})
}
