package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
)

// Agents' SIP phones on the console's users page in headless Chromium
// (web/e2e/phones.mjs), on the real binary: a URI that would break a header
// refused in the dialog, a fixed URI saved and shown in the agent's row, a
// SIP password generated (only its HA1 stored) and one typed then removed.
// Screenshots: manage-users-phone.png, manage-users-phones.png.
func TestBrowserAgentPhones(t *testing.T) {
	b := newBrowserRun(t)
	defer b.serve()()

	var out struct {
		URIError    string `json:"uri_error"`
		SIPPassword string `json:"sip_password"`
		Done        bool   `json:"done"`
	}
	b.script("phones.mjs", &out)
	require.True(t, out.Done)
	require.Contains(t, out.URIError, "angle brackets")
	b.requireShots("manage-users-phone", "manage-users-phones")

	ctx := context.Background()
	db := b.db()
	var fixed, ha1 string
	require.NoError(t, db.QueryRow(ctx, `SELECT p.fixed_uri, p.sip_ha1 FROM agent_phones p JOIN users u ON u.id = p.agent_id
		WHERE u.username = 'agent1'`).Scan(&fixed, &ha1))
	require.Equal(t, "sip:agent1@10.0.0.5:5060", fixed)
	require.Equal(t, agents.HA1("agent1", "pacer", out.SIPPassword), ha1, "the generated password, shown once, is the one stored as HA1")
	var agent2 int
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM agent_phones p JOIN users u ON u.id = p.agent_id
		WHERE u.username = 'agent2'`).Scan(&agent2))
	require.Zero(t, agent2, "agent2's SIP password was set, then removed")
}
