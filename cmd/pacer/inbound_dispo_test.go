package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/inbound"
	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/internal/testwait"
	"github.com/pacer-dialer/pacer/web"
)

// leadRow is what an inbound disposition may change on a lead.
type leadRow struct {
	Status, LastDisposition string
	Attempts, AttemptsToday int
	DNC                     bool
	Next                    time.Time
}

func readLead(t *testing.T, db *pgxpool.Pool, id campaigns.LeadID) leadRow {
	t.Helper()
	var l leadRow
	require.NoError(t, db.QueryRow(context.Background(), `SELECT status, last_disposition, attempts, attempts_today, dnc,
		next_attempt_at FROM leads WHERE id = $1`, id).Scan(&l.Status, &l.LastDisposition, &l.Attempts, &l.AttemptsToday,
		&l.DNC, &l.Next))
	return l
}

// An inbound call's disposition settles the caller's lead as an outbound
// one would, on the real server, router, simulated callers and database,
// and never counts as a dial: a final code finishes the lead, DNC puts the
// number on the campaign's list, a callback is scheduled with its River job
// and holds the lead for it, a lead made during the wrap-up is settled too,
// a call with no lead touches no lead (and a callback is refused: there is
// no one to call back), and the agent who took the call is the lead's last
// agent for the next call. No attempt is counted and the campaign's outbound
// figures stay at zero. A lead claimed for an outbound attempt at that moment
// keeps its claim (a callback is refused); a DNC code applies at once, and
// the caller's code finishes the lead when the attempt ends. A caller handed
// on to another agent takes the lead along, and that agent's disposition
// settles it.
func TestInboundDispositionSettlesTheCallersLead(t *testing.T) {
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
	const (
		sale, dnc, later, claimed = "+12025550161", "+12025550162", "+12025550163", "+12025550164"
		stranger, walkIn, handed  = "+12025550171", "+12025550172", "+12025550165"
		taken, left               = "+12025550166", "+12025550167"
	)
	camp := activeCampaign(t, db, "Front desk", "manual", "phone,first_name,last_name\n"+
		sale+",Ada,Lovelace\n"+dnc+",Alan,Turing\n"+later+",Grace,Hopper\n"+claimed+",Edsger,Dijkstra\n"+handed+",Ken,Thompson\n"+taken+",Linus,Torvalds\n"+left+",Frances,Allen\n")
	_, err = ensureDemoQueue(ctx, inbound.NewQueueStore(db), []int64{ids["alice"]})
	require.NoError(t, err)
	// carol is second line of a desk of her own (never offered a caller by
	// herself within ten minutes): she takes them from the queue panel.
	const takeDID = "+12025550109"
	makeQueue(t, db, inbound.Queue{Name: "Take desk", AllowTake: true, WidenAfter: 10 * time.Minute}, takeDID,
		map[int64]int{ids["carol"]: 2})
	leadOf := func(phone string) campaigns.LeadID {
		t.Helper()
		id, err := campaigns.LeadByPhone(ctx, db, camp.ID, phone)
		require.NoError(t, err)
		return id
	}

	rt := webSim()
	rt.CallerTalk = webSim().CustomerTalk
	rt.CallerPatience = rt.CustomerTalk
	base, _ := serveWeb(t, serveOptions{db: dbOptions{url: dbURL}, httpAddr: "127.0.0.1:0", nodeID: "inbound-dispo",
		engine: engineOptions{noDemo: true, sim: rt, poll: 100 * time.Millisecond, summary: -1},
		web:    webOptions{bcryptCost: bcrypt.MinCost, sessionTTL: time.Hour, agentGone: time.Minute}})
	alice, bob, carol, root := newClient(t, base), newClient(t, base), newClient(t, base), newClient(t, base)
	require.Equal(t, http.StatusOK, alice.login("alice", "password-alice"))
	require.Equal(t, http.StatusOK, carol.login("carol", "password-carol"))
	require.Equal(t, http.StatusOK, bob.login("bob", "password-bob"))
	require.Equal(t, http.StatusOK, root.login("root", "password-root"))
	code, body := alice.do("POST", "/api/v1/agent/state", map[string]any{"state": "READY", "campaign_id": camp.ID}, true)
	require.Equal(t, http.StatusOK, code, body)

	// take rings alice with a caller from number, accepts (the one lead
	// with the number is attached by itself) and hangs up: she is in DISPO.
	take := func(t *testing.T, from string) inboundCallJSON {
		t.Helper()
		var code int
		var body string
		for code != http.StatusAccepted { // the campaign's loop may still be starting
			code, body = root.do("POST", "/api/v1/sim/inbound", map[string]string{"did": DemoDID, "from": from}, true)
			require.Contains(t, []int{http.StatusAccepted, http.StatusConflict}, code, body)
		}
		alice.waitState("RINGING")
		code, body = alice.do("POST", "/api/v1/agent/call/accept", nil, true)
		require.Equal(t, http.StatusNoContent, code, body)
		call := alice.inboundCall()
		code, body = alice.do("POST", "/api/v1/agent/call/hangup", map[string]any{"call_id": call.ID}, true)
		require.Equal(t, http.StatusNoContent, code, body)
		alice.waitState("DISPO")
		return call
	}
	dispose := func(t *testing.T, body map[string]any) (int, string) {
		t.Helper()
		return alice.do("POST", "/api/v1/agent/disposition", body, true)
	}
	callLead := func(t *testing.T, call int64) *int64 {
		t.Helper()
		var lead *int64
		var direction string
		require.NoError(t, db.QueryRow(ctx, `SELECT lead_id, direction FROM calls WHERE id = $1`, call).Scan(&lead, &direction))
		require.Equal(t, "inbound", direction)
		return lead
	}

	t.Run("a final code finishes the lead, counts no attempt and makes alice its last agent", func(t *testing.T) {
		lead := leadOf(sale)
		call := take(t, sale)
		require.Equal(t, int64(lead), call.Lead.ID, "the caller's one lead is on screen")
		code, body := alice.do("PATCH", "/api/v1/agent/lead", map[string]any{"lead_id": lead,
			"fields": map[string]string{"email": "ada@example.com"}}, true)
		require.Equal(t, http.StatusOK, code, "the agent edits the caller's lead: %s", body)
		code, body = dispose(t, map[string]any{"code": "SALE", "notes": "bought the annual plan"})
		require.Equal(t, http.StatusOK, code, body)
		got := readLead(t, db, lead)
		require.Equal(t, "done", got.Status)
		require.Equal(t, "SALE", got.LastDisposition)
		require.Zero(t, got.Attempts, "an inbound call is no dial attempt")
		require.Zero(t, got.AttemptsToday)
		require.Equal(t, int64(lead), *callLead(t, call.ID))
		matched, err := campaigns.CallerLeads(ctx, db, sale)
		require.NoError(t, err)
		require.Equal(t, ids["alice"], campaigns.LastAgent(matched), "the sticky agent is the one who took the call")

		// The caller rings again: the lead panel has the edit, the call
		// before and its notes.
		take(t, sale)
		code, body = alice.do("GET", "/api/v1/agent/call", nil, false)
		require.Equal(t, http.StatusOK, code, body)
		var again struct {
			Lead struct {
				Email string `json:"email"`
			} `json:"lead"`
			Previous []struct {
				ID        int64  `json:"id"`
				Direction string `json:"direction"`
			} `json:"previous_calls"`
			Notes []struct {
				Text string `json:"text"`
			} `json:"notes"`
		}
		mustJSON(t, body, &again)
		require.Equal(t, "ada@example.com", again.Lead.Email)
		require.NotEmpty(t, again.Previous)
		require.Equal(t, call.ID, again.Previous[len(again.Previous)-1].ID)
		require.Equal(t, "inbound", again.Previous[len(again.Previous)-1].Direction)
		require.Len(t, again.Notes, 1)
		require.Equal(t, "bought the annual plan", again.Notes[0].Text)
		code, body = dispose(t, map[string]any{"code": "AM"})
		require.Equal(t, http.StatusOK, code, body)
		require.Equal(t, "done", readLead(t, db, lead).Status, "a finished lead stays finished")
	})

	t.Run("DNC puts the number on the campaign's list at once", func(t *testing.T) {
		lead := leadOf(dnc)
		take(t, dnc)
		code, body := dispose(t, map[string]any{"code": "DNC"})
		require.Equal(t, http.StatusOK, code, body)
		got := readLead(t, db, lead)
		require.Equal(t, "done", got.Status)
		require.True(t, got.DNC)
		require.Zero(t, got.Attempts)
		var listed int
		require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM dnc WHERE campaign_id = $1 AND phone = $2`, camp.ID, dnc).Scan(&listed))
		require.Equal(t, 1, listed)
		_, err := campaigns.ClaimLead(ctx, db, &camp, lead, time.Now(), "inbound-dispo")
		require.Error(t, err, "a DNC number is never dialled")
	})

	t.Run("a callback is scheduled with its job and holds the lead", func(t *testing.T) {
		lead := leadOf(later)
		call := take(t, later)
		at := time.Now().Add(3 * time.Hour).UTC().Truncate(time.Second)
		code, body := dispose(t, map[string]any{"code": "CALLBK", "callback_at": at.Format(time.RFC3339), "callback_scope": "me",
			"notes": "call back after the meeting"})
		require.Equal(t, http.StatusOK, code, body)
		require.Contains(t, body, `"callback"`)
		var status, scope string
		var agent, job, callID int64
		require.NoError(t, db.QueryRow(ctx, `SELECT cb.status, cb.scope, cb.agent_id, cb.job_id, cb.call_id FROM callbacks cb
			JOIN river_job j ON j.id = cb.job_id WHERE cb.lead_id = $1 AND j.kind = 'callback_due'`, lead).
			Scan(&status, &scope, &agent, &job, &callID))
		require.Equal(t, "scheduled", status)
		require.Equal(t, "me", scope)
		require.Equal(t, ids["alice"], agent)
		require.Equal(t, call.ID, callID)
		got := readLead(t, db, lead)
		require.Equal(t, "callback", got.Status, "the lead waits for its callback")
		require.Equal(t, "CALLBK", got.LastDisposition)
		require.Zero(t, got.Attempts)
	})

	t.Run("no lead: the call keeps the disposition, no lead is touched", func(t *testing.T) {
		call := take(t, stranger)
		require.Zero(t, call.Lead.ID)
		code, body := dispose(t, map[string]any{"code": "CALLBK", "callback_at": time.Now().Add(time.Hour).Format(time.RFC3339)})
		require.Equal(t, http.StatusConflict, code, "nobody to call back: %s", body)
		require.Contains(t, body, "attach or create")
		require.Equal(t, "DISPO", alice.inboundState().State, "still to disposition")
		code, body = dispose(t, map[string]any{"code": "NI"})
		require.Equal(t, http.StatusOK, code, body)
		require.Nil(t, callLead(t, call.ID))
		var disposition string
		require.NoError(t, db.QueryRow(ctx, `SELECT disposition FROM calls WHERE id = $1`, call.ID).Scan(&disposition))
		require.Equal(t, "NI", disposition)
		var leads int
		require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM leads WHERE phone = $1`, stranger).Scan(&leads))
		require.Zero(t, leads)
	})

	t.Run("a lead made during the wrap-up is settled", func(t *testing.T) {
		call := take(t, walkIn)
		code, body := alice.do("POST", "/api/v1/agent/inbound/lead", map[string]any{"first_name": "Barbara", "last_name": "Liskov"}, true)
		require.Equal(t, http.StatusOK, code, body)
		lead := leadOf(walkIn)
		require.Equal(t, int64(lead), alice.inboundCall().Lead.ID, "the panel shows the new lead")
		code, body = dispose(t, map[string]any{"code": "NI"})
		require.Equal(t, http.StatusOK, code, body)
		got := readLead(t, db, lead)
		require.Equal(t, "done", got.Status)
		require.Equal(t, "NI", got.LastDisposition)
		require.Zero(t, got.Attempts)
		require.Equal(t, int64(lead), *callLead(t, call.ID))
	})

	t.Run("a lead claimed for an outbound attempt is left to that attempt", func(t *testing.T) {
		lead := leadOf(claimed)
		// Another node's hopper has it, dialling it right now.
		_, err := campaigns.ClaimLead(ctx, db, &camp, lead, time.Now(), "other-node")
		require.NoError(t, err)
		take(t, claimed)
		code, body := dispose(t, map[string]any{"code": "CALLBK", "callback_at": time.Now().Add(time.Hour).Format(time.RFC3339)})
		require.Equal(t, http.StatusConflict, code, body)
		require.Contains(t, body, "being dialled or offered")
		code, body = dispose(t, map[string]any{"code": "DNC"})
		require.Equal(t, http.StatusOK, code, body)
		got := readLead(t, db, lead)
		require.Equal(t, "dialing", got.Status, "the claim is the attempt's")
		require.True(t, got.DNC, "DNC applies at once")
		// The attempt ends: it settles the lead, once, and the DNC stays.
		require.NoError(t, campaigns.Complete(ctx, db, &camp, campaigns.Attempt{Lead: lead, Outcome: campaigns.OutcomeNoAnswer,
			At: time.Now(), Node: "other-node"}))
		got = readLead(t, db, lead)
		require.Equal(t, 1, got.Attempts, "the outbound attempt counts; the inbound call does not")
		require.True(t, got.DNC)
		require.Equal(t, "done", got.Status, "the caller's DNC finishes the lead as the claim ends")
		require.Equal(t, "DNC", got.LastDisposition, "the attempt reached no one: the caller's word stands")
		_, err = campaigns.ClaimLead(ctx, db, &camp, lead, time.Now(), "inbound-dispo")
		require.Error(t, err, "never dialled again")
	})

	t.Run("a caller handed on to another agent: that agent's disposition settles the lead", func(t *testing.T) {
		lead := leadOf(handed)
		// bob works the campaign but not the queue: he is offered no caller.
		code, body := bob.do("POST", "/api/v1/agent/state", map[string]any{"state": "READY", "campaign_id": camp.ID}, true)
		require.Equal(t, http.StatusOK, code, body)
		for code != http.StatusAccepted {
			code, body = root.do("POST", "/api/v1/sim/inbound", map[string]string{"did": DemoDID, "from": handed}, true)
			require.Contains(t, []int{http.StatusAccepted, http.StatusConflict}, code, body)
		}
		alice.waitState("RINGING")
		code, body = alice.do("POST", "/api/v1/agent/call/accept", nil, true)
		require.Equal(t, http.StatusNoContent, code, body)
		call := alice.inboundCall()
		require.Equal(t, int64(lead), call.Lead.ID)
		code, body = alice.do("POST", "/api/v1/agent/call/transfer", map[string]any{"call_id": call.ID, "target": "agent:bob"}, true)
		require.Equal(t, http.StatusNoContent, code, body)
		bob.waitState("INCALL")
		code, body = bob.do("GET", "/api/v1/agent/call", nil, false)
		require.Equal(t, http.StatusOK, code, body)
		var theirs inboundCallJSON
		mustJSON(t, body, &theirs)
		require.Equal(t, int64(lead), theirs.Lead.ID, "the lead goes with the caller")

		alice.waitState("DISPO")
		code, body = dispose(t, map[string]any{"code": "NI"})
		require.Equal(t, http.StatusOK, code, body)
		require.Equal(t, "new", readLead(t, db, lead).Status, "alice handed the caller on: her disposition is the call's only")
		code, body = bob.do("POST", "/api/v1/agent/call/hangup", map[string]any{"call_id": theirs.ID}, true)
		require.Equal(t, http.StatusNoContent, code, body)
		bob.waitState("DISPO")
		code, body = bob.do("POST", "/api/v1/agent/disposition", map[string]any{"code": "SALE"}, true)
		require.Equal(t, http.StatusOK, code, body)
		got := readLead(t, db, lead)
		require.Equal(t, "done", got.Status)
		require.Equal(t, "SALE", got.LastDisposition)
		require.Zero(t, got.Attempts)
		// bob's part is an inbound call of its own, handed on from alice's.
		var from int64
		require.NoError(t, db.QueryRow(ctx, `SELECT transferred_from_seq FROM calls WHERE id = $1 AND lead_id = $2
			AND direction = 'inbound' AND queue_id IS NOT NULL AND disposition = 'SALE'`, theirs.ID, lead).Scan(&from))
		require.Equal(t, call.ID, from)
	})

	t.Run("a caller taken from the queue panel has their one lead attached", func(t *testing.T) {
		lead := leadOf(taken)
		code, body := carol.do("POST", "/api/v1/agent/state", map[string]any{"state": "READY", "campaign_id": camp.ID}, true)
		require.Equal(t, http.StatusOK, code, body)
		code, body = root.do("POST", "/api/v1/sim/inbound", map[string]string{"did": takeDID, "from": taken}, true)
		require.Equal(t, http.StatusAccepted, code, body)
		var p queuePanelJSON
		testwait.Until(t, func() bool { p = carol.queuePanel(); return len(p.Callers) == 1 }, "carol never saw the caller")
		code, body = carol.do("POST", "/api/v1/agent/queue/take", map[string]string{"call": p.Callers[0].Call}, true)
		require.Equal(t, http.StatusOK, code, body)
		call := carol.inboundCall()
		require.Equal(t, int64(lead), call.Lead.ID)
		code, body = carol.do("POST", "/api/v1/agent/call/hangup", map[string]any{"call_id": call.ID}, true)
		require.Equal(t, http.StatusNoContent, code, body)
		carol.waitState("DISPO")
		code, body = carol.do("POST", "/api/v1/agent/disposition", map[string]any{"code": "WN"}, true)
		require.Equal(t, http.StatusOK, code, body)
		got := readLead(t, db, lead)
		require.Equal(t, "done", got.Status)
		require.Equal(t, "WN", got.LastDisposition)
		require.Zero(t, got.Attempts)
	})

	t.Run("an agent who leaves without a disposition settles the lead with AUTO", func(t *testing.T) {
		lead := leadOf(left)
		call := take(t, left)
		require.Equal(t, int64(lead), call.Lead.ID)
		code, body := alice.do("POST", "/api/v1/agent/state", map[string]any{"state": "LOGGED_OUT"}, true)
		require.Equal(t, http.StatusNoContent, code, body)
		var auto string
		testwait.Until(t, func() bool {
			return db.QueryRow(ctx, `SELECT disposition FROM calls WHERE id = $1 AND disposition IS NOT NULL`, call.ID).Scan(&auto) == nil
		}, "the call never got its automatic disposition")
		require.Equal(t, campaigns.DispoAuto, auto)
		got := readLead(t, db, lead)
		require.Equal(t, "retry", got.Status)
		require.Equal(t, campaigns.DispoAuto, got.LastDisposition)
		require.Zero(t, got.Attempts)
	})

	// None of it was a dial: the campaign's outbound figures are untouched.
	var outbound int
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM calls WHERE campaign_id = $1 AND direction = 'outbound'`,
		camp.ID).Scan(&outbound))
	require.Zero(t, outbound)
	code, body = alice.do("GET", "/api/v1/agent/history", nil, false)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, 9, strings.Count(body, `"direction":"inbound"`), body)
}
