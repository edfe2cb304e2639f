package main

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/inbound"
	"github.com/pacer-dialer/pacer/web"
)

// Inbound calls go through the workspace's lead panel, script and
// Disposition form as outbound ones do (web/e2e/inbound_dispo.mjs, headless
// Chromium on the real binary): after an outbound customer, an injected
// caller's call shows the caller's lead in the panel and the script, with
// nothing left of the customer before; a callback set in the form is
// scheduled (in the agent's Callbacks list, with its River job) and a "Do
// not call" puts the number on the campaign's list; a caller no lead has
// gets no callback code until the agent makes them a lead in the wrap-up,
// and then their callback. The list's export then
// shows both leads settled with no attempt counted, and the outbound lead
// with its one attempt.
func TestBrowserInboundDisposition(t *testing.T) {
	b := newBrowserRun(t)
	// Every dial is answered; callers stay on the line until the agent
	// hangs up.
	sim := simConfig(t, `{
		"outcomes": [{"kind": "human", "p": 1, "after_s": {"dist": "uniform", "min": 0.05, "max": 0.1}}],
		"ring_after_s": {"dist": "uniform", "min": 0.01, "max": 0.02},
		"customer_talk_s": {"dist": "uniform", "min": 3000, "max": 3600},
		"caller_talk_s": {"dist": "uniform", "min": 3000, "max": 3600},
		"caller_patience_s": {"dist": "uniform", "min": 3000, "max": 3600}
	}`)
	db := b.db()
	ctx := context.Background()
	addWebUser(t, b.dbURL, "agent1", web.RoleAgent, "password-agent1")
	addWebUser(t, b.dbURL, "root", web.RoleAdmin, "password-root")
	const outbound, caller, dncCaller, newCaller = "+12025550131", "+12025550132", "+12025550133", "+12025550134"
	c := activeCampaignWith(t, db, "Inbound desk", "manual", "phone,first_name,last_name\n"+
		outbound+",Alan,Turing\n"+caller+",Grace,Hopper\n"+dncCaller+",Edsger,Dijkstra\n",
		map[string]string{"script": "Hello {first_name}, this is {agent}."})
	user, err := web.GetUserByName(ctx, db, "agent1")
	require.NoError(t, err)
	_, err = ensureDemoQueue(ctx, inbound.NewQueueStore(db), []int64{user.ID})
	require.NoError(t, err)

	stop := b.serve("--no-demo", "--sim-config", sim)
	defer stop()
	type exported struct {
		Status          string
		Attempts        int
		LastDisposition string `json:"last_disposition"`
	}
	var out struct {
		OutboundScript string `json:"outbound_script"`
		InboundScript  string `json:"inbound_script"`
		CallbackListed bool   `json:"callback_listed"`
		DNC            bool
		LateLead       bool `json:"late_lead"`
		Export         map[string]exported
	}
	b.script("inbound_dispo.mjs", &out, "OUTBOUND="+outbound, "OUTBOUND_NAME=Alan", "CALLER="+caller,
		"CALLER_NAME=Grace", "DNC_CALLER="+dncCaller, "DNC_NAME=Edsger", "NEW_CALLER="+newCaller, "DID="+DemoDID, fmt.Sprintf("CAMPAIGN=%d", c.ID))
	require.Equal(t, "Hello Alan, this is agent1.", out.OutboundScript)
	require.Equal(t, "Hello Grace, this is agent1.", out.InboundScript)
	require.True(t, out.CallbackListed && out.DNC && out.LateLead)
	require.Equal(t, exported{Status: "callback", LastDisposition: "CALLBK"}, out.Export[caller])
	require.Equal(t, exported{Status: "dnc", LastDisposition: "DNC"}, out.Export[dncCaller])
	require.Equal(t, exported{Status: "finished", Attempts: 1, LastDisposition: "NI"}, out.Export[outbound])
	require.Equal(t, exported{Status: "callback", LastDisposition: "CALLBK"}, out.Export[newCaller])
	stop()

	var job int64
	var scope string
	require.NoError(t, db.QueryRow(ctx, `SELECT cb.job_id, cb.scope FROM callbacks cb JOIN leads l ON l.id = cb.lead_id
		JOIN river_job j ON j.id = cb.job_id WHERE l.phone = $1 AND cb.status = 'scheduled'`, caller).Scan(&job, &scope))
	require.Equal(t, "me", scope)
	require.NoError(t, db.QueryRow(ctx, `SELECT cb.scope FROM callbacks cb JOIN leads l ON l.id = cb.lead_id
		WHERE l.phone = $1 AND l.first_name = 'Barbara' AND l.attempts = 0 AND l.status = 'callback' AND cb.status = 'scheduled'`,
		newCaller).Scan(&scope), "the lead made in the wrap-up has its callback")
	var listed int
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM dnc WHERE campaign_id = $1 AND phone = $2`, c.ID, dncCaller).Scan(&listed))
	require.Equal(t, 1, listed)
	var inbound int
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM calls WHERE campaign_id = $1 AND direction = 'inbound'
		AND lead_id IS NOT NULL AND disposition IS NOT NULL`, c.ID).Scan(&inbound))
	require.Equal(t, 3, inbound, "each inbound call names its lead")
	b.requireShots("inbound-dispo-call", "inbound-dispo-callback", "inbound-dispo-late-lead")
}
