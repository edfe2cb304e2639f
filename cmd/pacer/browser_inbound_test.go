package main

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/inbound"
	"github.com/pacer-dialer/pacer/web"
)

// An inbound caller injected by an admin (POST /api/v1/sim/inbound) is
// offered in headless Chromium (web/e2e/inbound_offer.mjs) to the agent who
// has waited longest, with the number dialled, the queue and the caller's
// name from their lead; the agent rejects it, it rings the second agent at
// once, who accepts, hangs up and dispositions it, while the first is in
// Do not disturb. The database then has the inbound call with its queue,
// agent and disposition, the caller's lead attached to it, and the queue's
// event log enter, offer, reject, offer, connect.
func TestBrowserInboundOffer(t *testing.T) {
	b := newBrowserRun(t)
	// The callers stay on the line and wait as long as the test needs: the
	// agent hangs up.
	sim := simConfig(t, `{
		"caller_talk_s": {"dist": "uniform", "min": 3000, "max": 3600},
		"caller_patience_s": {"dist": "uniform", "min": 3000, "max": 3600}
	}`)
	db := b.db()
	ctx := context.Background()
	for _, u := range []string{"agent1", "agent2"} {
		addWebUser(t, b.dbURL, u, web.RoleAgent, "password-"+u)
	}
	addWebUser(t, b.dbURL, "root", web.RoleAdmin, "password-root")
	const caller, name = "+12025550123", "Grace Hopper"
	// A manual campaign never dials by itself: the agents' only call is
	// the inbound one.
	c := activeCampaignWith(t, db, "Inbound desk", "manual", "phone,first_name,last_name\n"+caller+",Grace,Hopper\n", nil)
	var members []int64
	for _, u := range []string{"agent1", "agent2"} {
		user, err := web.GetUserByName(ctx, db, u)
		require.NoError(t, err)
		members = append(members, user.ID)
	}
	created, err := ensureDemoQueue(ctx, inbound.NewQueueStore(db), members)
	require.NoError(t, err)
	require.True(t, created)

	stop := b.serve("--no-demo", "--sim-config", sim)
	defer stop()
	var out struct {
		OfferedFirst  string `json:"offered_first"`
		TabAlert      bool   `json:"tab_alert"`
		Rejected      bool
		Accepted      bool
		DND           bool
		Dispositioned bool
		DNDOff        bool `json:"dnd_off"`
	}
	b.script("inbound_offer.mjs", &out, "CALLER="+caller, "DID="+DemoDID, "CALLER_NAME="+name)
	require.Equal(t, "agent1", out.OfferedFirst)
	require.True(t, out.TabAlert && out.Rejected && out.Accepted && out.DND && out.Dispositioned && out.DNDOff)
	stop() // the queue events are written behind: stopping writes the rest

	var direction, agent, disposition, notes, phone string
	var callID int64
	var queue *int64
	require.NoError(t, db.QueryRow(ctx, `SELECT c.id, c.direction, c.queue_id, u.username, c.disposition, c.notes, c.phone
		FROM calls c JOIN users u ON u.id = c.agent_id WHERE c.campaign_id = $1`, c.ID).
		Scan(&callID, &direction, &queue, &agent, &disposition, &notes, &phone))
	require.Equal(t, "inbound", direction)
	require.NotNil(t, queue)
	require.Equal(t, "agent2", agent)
	require.Equal(t, "NI", disposition)
	require.Equal(t, "called in about the invoice", notes)
	require.Equal(t, caller, phone)

	var attached string
	require.NoError(t, db.QueryRow(ctx, `SELECT l.first_name || ' ' || l.last_name FROM call_actions a
		JOIN leads l ON l.id = a.lead_id WHERE a.call_seq = $1 AND a.action = 'attach_lead'`, callID).Scan(&attached))
	require.Equal(t, name, attached, "the caller's one lead is attached to the call")

	// The queue's event log, which the wallboard's figures come from.
	rows, err := db.Query(ctx, `SELECT e.kind || coalesce(' ' || u.username, '') FROM queue_events e
		LEFT JOIN users u ON u.id = e.agent_id WHERE e.queue_id = $1 ORDER BY e.seq`, *queue)
	require.NoError(t, err)
	var events []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		events = append(events, s)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, "enter,offer agent1,reject agent1,offer agent2,connect agent2", strings.Join(events, ","))
	b.requireShots("inbound-offer", "inbound-offer-narrow", "inbound-agent1-dnd", "inbound-call", "inbound-history")
}
