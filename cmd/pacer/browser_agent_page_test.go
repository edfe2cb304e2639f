package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/web"
)

// The agent workspace in headless Chromium against the real binary, every
// dial answered by a person (web/e2e/agent_page.mjs): a manager adds a pause
// code on /manage/pause-codes and the agent pauses with it (the Pause
// counter ticks, its limit shows); READY's Wait counter ticks; a predictive
// call shows the lead's id, attempts and local time; the agent edits the
// lead (logged in lead_edits with who and when, checked here), asks for a
// pause after the call and takes it back, finds agent2 and the saved number
// in the transfer directory, sees keypad digits echoed, hangs up, sees the
// wrap-up countdown, picks a disposition with a number key and saves it
// with Enter, and is told it was saved; agent3, on a preview campaign, sees
// the lead offered as PREVIEW with a timer counting from the offer.
func TestBrowserAgentPage(t *testing.T) {
	b := newBrowserRun(t)
	// Answered by a person a few seconds after the dial (the agent waits
	// READY long enough for the Wait counter to move) and on the line for
	// minutes, so the agent decides when the call ends.
	sim := simConfig(t, `{
		"outcomes": [{"kind": "human", "p": 1, "after_s": {"dist": "uniform", "min": 2.5, "max": 3.5}}],
		"ring_after_s": {"dist": "uniform", "min": 0.05, "max": 0.1},
		"customer_talk_s": {"dist": "uniform", "min": 600, "max": 700}
	}`)
	defer b.serve("--sim-config", sim)()
	db := b.db()
	ctx := context.Background()
	activeCampaign(t, db, "Preview", "preview", "phone,first_name\n+12025550301,Pria\n+12025550302,Pete\n")

	var out struct {
		Lead       int64  `json:"lead_id"`
		DispoCode  string `json:"dispo_code"`
		AfterDispo string `json:"after_dispo"`
		Preview    bool   `json:"preview"`
	}
	b.script("agent_page.mjs", &out)
	require.NotEqual(t, "PAUSED", out.AfterDispo, "the pause after the call was taken back")

	require.True(t, out.Preview, "the preview part ran")
	agent1, err := web.GetUserByName(ctx, db, "agent1")
	require.NoError(t, err)
	edits, err := campaigns.LeadEdits(ctx, db, campaigns.LeadID(out.Lead))
	require.NoError(t, err)
	got := map[string]string{}
	for _, e := range edits {
		require.Equal(t, agent1.ID, e.User, "the edit is logged as agent1's")
		got[e.Field] = e.After
	}
	require.Equal(t, map[string]string{"first_name": "Edited", "email": "edited@example.com", "custom.plan": "gold"}, got)
	lead, err := campaigns.GetLead(ctx, db, campaigns.LeadID(out.Lead))
	require.NoError(t, err)
	require.Equal(t, "Edited", lead.FirstName)
	var dispo string
	require.NoError(t, db.QueryRow(ctx, `SELECT coalesce(disposition, '') FROM calls WHERE lead_id = $1 AND agent_id = $2
		ORDER BY dialed_at DESC LIMIT 1`, out.Lead, agent1.ID).Scan(&dispo))
	require.Equal(t, out.DispoCode, dispo, "the disposition chosen with a key and saved with Enter")
	b.requireShots("agent-ready", "agent-incall", "agent-dispo", "manage-pause-codes")
}
