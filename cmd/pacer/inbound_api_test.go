package main

import (
	"context"
	"fmt"
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

// inboundStateJSON is what the workspace reads of an offer in GET
// /agent/state.
type inboundStateJSON struct {
	State   string `json:"state"`
	Inbound *struct {
		Queue       string           `json:"queue"`
		DID         string           `json:"did"`
		From        string           `json:"from"`
		RingS       float64          `json:"ring_s"`
		RejectToDND bool             `json:"reject_to_dnd"`
		Leads       []web.CallerLead `json:"leads"`
	} `json:"inbound"`
}

func (c *client) inboundState() inboundStateJSON {
	c.t.Helper()
	code, body := c.do("GET", "/api/v1/agent/state", nil, false)
	require.Equal(c.t, http.StatusOK, code, body)
	var s inboundStateJSON
	mustJSON(c.t, body, &s)
	return s
}

func (c *client) waitState(state string) inboundStateJSON {
	c.t.Helper()
	var s inboundStateJSON
	testwait.Until(c.t, func() bool { s = c.inboundState(); return s.State == state }, "agent never %s", state)
	return s
}

type inboundCallJSON struct {
	ID   int64 `json:"id"`
	Lead struct {
		ID        int64  `json:"id"`
		FirstName string `json:"first_name"`
		Phone     string `json:"phone"`
	} `json:"lead"`
	Inbound *struct {
		From     string                 `json:"from"`
		Attached int64                  `json:"attached_lead_id"`
		Leads    []campaigns.CallerLead `json:"leads"`
	} `json:"inbound"`
}

func (c *client) inboundCall() inboundCallJSON {
	c.t.Helper()
	code, body := c.do("GET", "/api/v1/agent/call", nil, false)
	require.Equal(c.t, http.StatusOK, code, body)
	var v inboundCallJSON
	mustJSON(c.t, body, &v)
	return v
}

// The agent's inbound APIs on the real server, router and simulated
// callers: an admin injects callers (403 for others, 400 for bad input, 404
// for a number no queue answers, 409 while no campaign takes simulated
// callers); the offer reaches the longest-idle agent with the caller's
// leads, a reject puts them in DND (switched off and on with its own route,
// refused where it makes no sense) and rings the next agent, an accept
// attaches the lead the agent named; a caller no lead has becomes a lead of
// the campaign's manual list from the call; an inbound call is
// dispositioned like any other and the history says it came in.
func TestInboundAgentAPIs(t *testing.T) {
	dbURL := testdb.New(t)
	db, err := pgxpool.New(context.Background(), dbURL)
	require.NoError(t, err)
	t.Cleanup(db.Close)
	ctx := context.Background()
	ids := map[string]int64{}
	for _, u := range []struct{ name, role string }{{"alice", "agent"}, {"bob", "agent"}, {"root", "admin"}} {
		created, err := web.CreateUser(ctx, db, web.NewUser{Username: u.name, Role: web.Role(u.role), Password: "password-" + u.name,
			Cost: bcrypt.MinCost})
		require.NoError(t, err)
		ids[u.name] = created.ID
	}
	const twice, unknown = "+12025550177", "+12025550188"
	// The same number is a lead of two campaigns: the agent chooses.
	camp := activeCampaign(t, db, "Front desk", "manual", "phone,first_name,last_name\n"+twice+",Ada,Lovelace\n")
	other, err := campaigns.Create(ctx, db, "Old list", map[string]string{"mode": "manual", "window_start": "00:00",
		"window_end": "24:00", "simulated": "true"})
	require.NoError(t, err)
	_, err = campaigns.Import(ctx, db, strings.NewReader("phone,first_name,last_name\n"+twice+",Augusta,King\n"),
		campaigns.ImportOptions{Campaign: other.ID, Name: "old.csv", Format: campaigns.FormatCSV})
	require.NoError(t, err)
	_, err = ensureDemoQueue(ctx, inbound.NewQueueStore(db), []int64{ids["alice"], ids["bob"]})
	require.NoError(t, err)
	_, err = campaigns.SetStatus(ctx, db, camp.ID, campaigns.StatusPaused)
	require.NoError(t, err)

	rt := webSim()
	rt.CallerTalk = webSim().CustomerTalk
	rt.CallerPatience = rt.CustomerTalk
	base, _ := serveWeb(t, serveOptions{db: dbOptions{url: dbURL}, httpAddr: "127.0.0.1:0", nodeID: "inbound-test",
		engine: engineOptions{noDemo: true, sim: rt, poll: 100 * time.Millisecond, summary: -1},
		web:    webOptions{bcryptCost: bcrypt.MinCost, sessionTTL: time.Hour, agentGone: time.Minute}})
	alice, bob, root := newClient(t, base), newClient(t, base), newClient(t, base)
	for name, c := range map[string]*client{"alice": alice, "bob": bob, "root": root} {
		require.Equal(t, http.StatusOK, c.login(name, "password-"+name))
	}
	inject := func(c *client, body any) (int, string) {
		t.Helper()
		return c.do("POST", "/api/v1/sim/inbound", body, true)
	}

	t.Run("inject refusals", func(t *testing.T) {
		code, body := inject(alice, map[string]string{"did": DemoDID, "from": twice})
		require.Equal(t, http.StatusForbidden, code, body)
		for _, bad := range []any{
			map[string]string{"did": DemoDID}, map[string]string{"did": "not a number", "from": twice},
			map[string]string{"did": DemoDID, "from": "12"}, map[string]any{"did": DemoDID, "from": twice, "x": 1},
			map[string]any{"did": 5, "from": twice},
		} {
			code, body := inject(root, bad)
			require.Equal(t, http.StatusBadRequest, code, "%v: %s", bad, body)
		}
		code, body = inject(root, map[string]string{"did": DemoDID, "from": twice})
		require.Equal(t, http.StatusConflict, code, "no campaign runs, so none takes simulated callers: %s", body)
		require.Contains(t, body, "simulated carrier is not in use")
	})
	_, err = campaigns.SetStatus(ctx, db, camp.ID, campaigns.StatusActive)
	require.NoError(t, err)
	testwait.Until(t, func() bool {
		code, _ := inject(root, map[string]string{"did": "+12025550999", "from": twice})
		return code == http.StatusNotFound // the campaign runs: only the number is wrong now
	})

	goReady := func(c *client) {
		t.Helper()
		code, body := c.do("POST", "/api/v1/agent/state", map[string]any{"state": "READY", "campaign_id": camp.ID}, true)
		require.Equal(t, http.StatusOK, code, body)
	}
	dnd := func(c *client, on any) (int, string) {
		t.Helper()
		return c.do("POST", "/api/v1/agent/dnd", map[string]any{"on": on}, true)
	}

	t.Run("dnd", func(t *testing.T) {
		code, body := dnd(alice, true)
		require.Equal(t, http.StatusConflict, code, "not logged in: %s", body)
		goReady(alice)
		for _, bad := range []any{map[string]any{}, map[string]any{"on": "yes"}, map[string]any{"on": true, "off": true}} {
			code, body := alice.do("POST", "/api/v1/agent/dnd", bad, true)
			require.Equal(t, http.StatusBadRequest, code, "%v: %s", bad, body)
		}
		code, body = dnd(alice, false)
		require.Equal(t, http.StatusConflict, code, body)
		require.Contains(t, body, "not in do not disturb")
		code, body = dnd(alice, true)
		require.Equal(t, http.StatusOK, code, body)
		require.Equal(t, "DND", alice.inboundState().State)
		code, body = dnd(alice, true)
		require.Equal(t, http.StatusOK, code, "already on: %s", body)
		code, body = dnd(alice, false)
		require.Equal(t, http.StatusOK, code, body)
		require.Equal(t, "READY", alice.inboundState().State, "back where she was")
		code, body = bob.do("POST", "/api/v1/agent/state", map[string]any{"state": "PAUSED", "pause_code": "BREAK", "campaign_id": camp.ID}, true)
		require.Equal(t, http.StatusOK, code, body)
		code, body = dnd(bob, true)
		require.Equal(t, http.StatusOK, code, body)
		code, body = dnd(bob, false)
		require.Equal(t, http.StatusOK, code, body)
		require.Equal(t, "PAUSED", bob.inboundState().State, "back to his pause")
	})

	t.Run("offer, reject, accept with a chosen lead", func(t *testing.T) {
		code, body := alice.do("POST", "/api/v1/agent/call/accept", nil, true)
		require.Equal(t, http.StatusNotFound, code, "nothing rings: %s", body)
		goReady(bob) // alice has waited longer
		code, body = inject(root, map[string]string{"did": "(202) 555-0100", "from": "202-555-0177"})
		require.Equal(t, http.StatusAccepted, code, body)
		off := alice.waitState("RINGING").Inbound
		require.NotNil(t, off)
		require.Equal(t, "Support", off.Queue)
		require.Equal(t, DemoDID, off.DID)
		require.Equal(t, twice, off.From)
		require.True(t, off.RejectToDND)
		require.Len(t, off.Leads, 2, "the number is a lead of two campaigns")
		names := []string{off.Leads[0].Name, off.Leads[1].Name}
		require.ElementsMatch(t, []string{"Ada Lovelace", "Augusta King"}, names)
		require.Equal(t, "READY", bob.inboundState().State, "one agent rings at a time")
		code, body = dnd(alice, true)
		require.Equal(t, http.StatusConflict, code, "ringing: %s", body)

		code, body = alice.do("POST", "/api/v1/agent/call/reject", map[string]any{}, true)
		require.Equal(t, http.StatusNoContent, code, body)
		require.Equal(t, "DND", alice.inboundState().State)
		off = bob.waitState("RINGING").Inbound
		require.NotNil(t, off)
		code, body = bob.do("POST", "/api/v1/agent/call/accept", map[string]any{"lead_id": 999999}, true)
		require.Equal(t, http.StatusBadRequest, code, "not one of the caller's: %s", body)
		var ada campaigns.LeadID
		for _, l := range off.Leads {
			if l.Name == "Ada Lovelace" {
				ada = l.Lead
			}
		}
		code, body = bob.do("POST", "/api/v1/agent/call/accept", map[string]any{"lead_id": ada}, true)
		require.Equal(t, http.StatusNoContent, code, body)
		require.Equal(t, "INCALL", bob.inboundState().State)
		call := bob.inboundCall()
		require.NotNil(t, call.Inbound)
		require.Equal(t, twice, call.Inbound.From)
		require.Equal(t, int64(ada), call.Inbound.Attached)
		require.Equal(t, int64(ada), call.Lead.ID)
		require.Equal(t, "Ada", call.Lead.FirstName, "the lead panel shows the lead chosen")
		require.Len(t, call.Inbound.Leads, 2)

		// The agent may change their mind during the call, among the
		// caller's leads only.
		augusta := call.Inbound.Leads[0].Lead
		if augusta == ada {
			augusta = call.Inbound.Leads[1].Lead
		}
		code, body = bob.do("POST", "/api/v1/agent/inbound/lead", map[string]any{"lead_id": 999999}, true)
		require.Equal(t, http.StatusBadRequest, code, body)
		code, body = bob.do("POST", "/api/v1/agent/inbound/lead", map[string]any{"lead_id": augusta, "colour": "red"}, true)
		require.Equal(t, http.StatusBadRequest, code, body)
		code, body = bob.do("POST", "/api/v1/agent/inbound/lead", map[string]any{"lead_id": augusta}, true)
		require.Equal(t, http.StatusOK, code, body)
		require.Equal(t, "Augusta", bob.inboundCall().Lead.FirstName)
		code, body = alice.do("POST", "/api/v1/agent/inbound/lead", map[string]any{"lead_id": augusta}, true)
		require.Equal(t, http.StatusNotFound, code, "alice has no inbound call: %s", body)

		code, body = dnd(bob, true)
		require.Equal(t, http.StatusConflict, code, "on a call: %s", body)
		require.Contains(t, body, "INCALL")
		code, body = bob.do("POST", "/api/v1/agent/call/hangup", map[string]any{"call_id": call.ID}, true)
		require.Equal(t, http.StatusNoContent, code, body)
		code, body = bob.do("POST", "/api/v1/agent/disposition", map[string]any{"code": "NI", "notes": "asked about billing"}, true)
		require.Equal(t, http.StatusOK, code, body)
		require.Equal(t, "READY", bob.inboundState().State)

		var direction, disposition string
		require.NoError(t, db.QueryRow(ctx, `SELECT direction, disposition FROM calls WHERE id = $1`, call.ID).Scan(&direction, &disposition))
		require.Equal(t, "inbound", direction)
		require.Equal(t, "NI", disposition)
		code, body = bob.do("GET", "/api/v1/agent/history", nil, false)
		require.Equal(t, http.StatusOK, code, body)
		require.Contains(t, body, fmt.Sprintf(`"id":%d,`, call.ID))
		require.Contains(t, body, `"direction":"inbound"`)
	})

	t.Run("a caller no lead has becomes one", func(t *testing.T) {
		code, body := dnd(alice, false)
		require.Equal(t, http.StatusOK, code, body)
		// bob is READY again, and has waited longer than alice now.
		code, body = inject(root, map[string]string{"did": DemoDID, "from": unknown})
		require.Equal(t, http.StatusAccepted, code, body)
		off := bob.waitState("RINGING").Inbound
		require.NotNil(t, off)
		require.Empty(t, off.Leads)
		code, body = bob.do("POST", "/api/v1/agent/call/accept", nil, true)
		require.Equal(t, http.StatusNoContent, code, body)
		call := bob.inboundCall()
		require.Equal(t, int64(0), call.Inbound.Attached)
		require.Empty(t, call.Inbound.Leads)
		require.Equal(t, unknown, call.Lead.Phone, "the panel shows the caller's number")
		long := make([]byte, 201)
		for i := range long {
			long[i] = 'x'
		}
		code, body = bob.do("POST", "/api/v1/agent/inbound/lead", map[string]any{"first_name": string(long)}, true)
		require.Equal(t, http.StatusBadRequest, code, body)
		code, body = bob.do("POST", "/api/v1/agent/inbound/lead", map[string]any{"first_name": "Grace", "last_name": "Hopper"}, true)
		require.Equal(t, http.StatusOK, code, body)
		call = bob.inboundCall()
		require.NotZero(t, call.Inbound.Attached)
		require.Equal(t, "Grace", call.Lead.FirstName)
		var list string
		var campaign int64
		require.NoError(t, db.QueryRow(ctx, `SELECT ll.name, l.campaign_id FROM leads l JOIN lead_lists ll ON ll.id = l.list_id
			WHERE l.id = $1`, call.Inbound.Attached).Scan(&list, &campaign))
		require.Equal(t, campaigns.ManualListName, list)
		require.Equal(t, int64(camp.ID), campaign, "a lead of the agent's campaign")
		matched, err := campaigns.CallerLeads(ctx, db, unknown)
		require.NoError(t, err)
		require.Len(t, matched, 1, "the next call from this number is matched")

		code, body = bob.do("POST", "/api/v1/agent/call/hangup", map[string]any{"call_id": call.ID}, true)
		require.Equal(t, http.StatusNoContent, code, body)
		code, body = bob.do("POST", "/api/v1/agent/disposition", map[string]any{"code": "SALE"}, true)
		require.Equal(t, http.StatusOK, code, body)
		require.Equal(t, "READY", bob.inboundState().State)
	})
}
