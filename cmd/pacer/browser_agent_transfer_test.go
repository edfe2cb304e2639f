package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/internal/dialcheck"
	"github.com/pacer-dialer/pacer/web"
)

// Two agents hand customers to each other in headless Chromium
// (web/e2e/agent_transfer.mjs) on the real binary and the simulated
// carrier: a blind transfer from ann to bob, then a conference ann leaves
// to bob. The database then has one dialled call and one handed-on call per
// customer, each lead settled once by bob's disposition, and no broken
// promise.
func TestBrowserAgentTransfer(t *testing.T) {
	b := newBrowserRun(t)
	sim := simConfig(t, `{
		"seed": 5,
		"outcomes": [{"kind": "human", "p": 1, "after_s": {"dist": "uniform", "min": 0.2, "max": 0.4}}],
		"ring_after_s": {"dist": "uniform", "min": 0.05, "max": 0.1},
		"customer_talk_s": {"dist": "uniform", "min": 300, "max": 400}
	}`)
	db := b.db()
	ctx := context.Background()
	addWebUser(t, b.dbURL, "ann", web.RoleAgent, "password-ann")
	addWebUser(t, b.dbURL, "bob", web.RoleAgent, "password-bob")
	const first, second = "+12025556100", "+12025556101"
	c := activeCampaignWith(t, db, "Desk", "manual", "phone\n"+first+"\n"+second+"\n", nil)

	stop := b.serve("--no-demo", "--sim-config", sim)
	defer stop()
	var out struct{ Transferred, Conference bool }
	b.script("agent_transfer.mjs", &out, "NUMBERS="+first+","+second)
	require.True(t, out.Transferred)
	require.True(t, out.Conference)
	stop()

	rows, err := db.Query(ctx, `SELECT c.phone || ' ' || u.username || ' ' || c.disposition || ' ' ||
		(c.transferred_from_seq IS NOT NULL)::text || ' ' || c.without_lead::text
		FROM calls c JOIN users u ON u.id = c.agent_id WHERE c.campaign_id = $1 ORDER BY c.seq`, c.ID)
	require.NoError(t, err)
	var got []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		got = append(got, s)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{
		first + " ann NI false true", first + " bob SALE true false",
		second + " ann NI false true", second + " bob NI true false",
	}, got)
	var done int
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM leads l JOIN lead_lists ll ON ll.id = l.list_id
		WHERE ll.campaign_id = $1 AND l.attempts = 1 AND l.status <> 'dialing'`, c.ID).Scan(&done))
	require.Equal(t, 2, done, "each lead: one attempt, settled")
	v, err := dialcheck.Violations(ctx, db, true)
	require.NoError(t, err)
	require.Empty(t, v)
	b.requireShots("transfer-bob-has-the-customer", "conference-bob-guest", "conference-bob-has-the-customer")
}
