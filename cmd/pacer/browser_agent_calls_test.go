package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/web"
)

// A human agent works a preview campaign of 20 leads end to end in headless
// Chromium (web/e2e/agent_calls.mjs) on the real binary and the simulated
// carrier, where half the dials are answered and the others are busy or
// reach a machine: answered dials show as connected with the call controls
// on, unanswered ones show their outcome and the agent moves to the next
// preview without a disposition form, skips move to other leads until the
// hourly skip limit, a manual dial of a DNC number is refused with the
// reason and a new number is dialled. Then the database holds an outcome or
// a skip for every lead, no agent or lead is left stuck, and no dispo time
// was counted for the dials nobody answered.
func TestBrowserAgentCalls(t *testing.T) {
	b := newBrowserRun(t)
	const leads, skipLimit = 20, 4
	const dncNumber, newNumber = "+12025550999", "+12025559876"
	sim := simConfig(t, `{
		"seed": 11,
		"outcomes": [
			{"kind": "human", "p": 0.5, "after_s": {"dist": "uniform", "min": 0.3, "max": 0.8}},
			{"kind": "busy", "p": 0.3, "after_s": {"dist": "uniform", "min": 0.3, "max": 0.6}},
			{"kind": "machine", "p": 0.2, "after_s": {"dist": "uniform", "min": 0.4, "max": 0.9}}
		],
		"ring_after_s": {"dist": "uniform", "min": 0.05, "max": 0.1},
		"customer_talk_s": {"dist": "uniform", "min": 300, "max": 400}
	}`)

	db := b.db()
	ctx := context.Background()
	addWebUser(t, b.dbURL, "ann", web.RoleAgent, "password-ann")
	var csv strings.Builder
	csv.WriteString("phone,first_name,last_name\n")
	for i := range leads {
		fmt.Fprintf(&csv, "+1202555%04d,First%d,Last%d\n", 6000+i, i, i)
	}
	// Nothing comes back during the run: an unanswered lead waits an hour,
	// a skipped one is kept from its skipper for ten minutes.
	c := activeCampaignWith(t, db, "Preview", "preview", csv.String(), map[string]string{"retry_no_answer_s": "3600",
		"retry_busy_s": "3600", "retry_machine_s": "3600", "retry_failed_s": "3600",
		"preview_skip_limit_per_hour": fmt.Sprint(skipLimit), "preview_skip_hold_s": "600"})
	_, err := campaigns.AddDNC(ctx, db, campaigns.Global, []string{dncNumber}, campaigns.DNCChange{How: campaigns.DNCViaAPI, By: "test"})
	require.NoError(t, err)

	stop := b.serve("--no-demo", "--sim-config", sim)
	defer stop()

	var out struct {
		Previewed, Skipped, Connected, Unanswered int
		SkipRefused                               bool   `json:"skip_refused"`
		DNCRefusal                                string `json:"dnc_refusal"`
		Manual                                    string
	}
	b.script("agent_calls.mjs", &out, "AGENT=ann", "PASSWORD=password-ann", fmt.Sprintf("LEADS=%d", leads),
		fmt.Sprintf("SKIP_LIMIT=%d", skipLimit), "DNC_NUMBER="+dncNumber, "NEW_NUMBER="+newNumber)
	require.Equal(t, leads, out.Previewed)
	require.Equal(t, skipLimit, out.Skipped, "skips up to the limit")
	require.True(t, out.SkipRefused, "a skip past the limit is refused on the button")
	require.Positive(t, out.Connected)
	require.Positive(t, out.Unanswered, "the carrier's mix gave unanswered dials")
	require.Contains(t, out.DNCRefusal, dncNumber)
	stop() // drains: every write is in before the checks

	count := func(sql string, args ...any) int {
		t.Helper()
		var n int
		require.NoError(t, db.QueryRow(ctx, sql, args...).Scan(&n))
		return n
	}
	var ann int64
	require.NoError(t, db.QueryRow(ctx, `SELECT id FROM users WHERE username = 'ann'`).Scan(&ann))
	list := `SELECT id FROM lead_lists WHERE campaign_id = $1 AND format <> 'manual'`
	require.Equal(t, leads, count(`SELECT count(*) FROM leads WHERE list_id IN (`+list+`)
		AND ((attempts = 1 AND last_disposition <> '') OR (skips = 1 AND attempts = 0))`, c.ID),
		"every lead has its outcome, or was skipped")
	require.Equal(t, out.Skipped, count(`SELECT count(*) FROM preview_skips WHERE agent_id = $1`, ann))
	require.Zero(t, count(`SELECT count(*) FROM leads WHERE status = 'dialing'`), "no lead left claimed")
	require.Equal(t, 1, count(`SELECT count(*) FROM leads l JOIN lead_lists ll ON ll.id = l.list_id
		WHERE l.phone = $1 AND ll.name = 'Manual dials' AND l.attempts = 1`, newNumber), "the new number is a lead, dialled")
	require.Zero(t, count(`SELECT count(*) FROM leads WHERE phone = $1`, dncNumber), "the DNC number became no lead")
	require.Zero(t, count(`SELECT count(*) FROM agent_sessions WHERE agent_id = $1 AND logout_at IS NULL`, ann),
		"no session left open")
	unanswered := out.Unanswered
	if out.Manual != "completed" {
		unanswered++
	}
	require.Equal(t, unanswered, count(`SELECT count(*) FROM agent_events WHERE agent_id = $1 AND event = 'unanswered'`, ann))
	require.Equal(t, unanswered, count(`SELECT count(*) FROM calls WHERE agent_id = $1 AND outcome <> 'completed'
		AND disposition IN ('B', 'AA') AND dispo_s IS NULL`, ann), "unanswered dials got B or AA by themselves, with no dispo time")
	require.Equal(t, count(`SELECT count(*) FROM calls WHERE agent_id = $1 AND outcome = 'completed'`, ann),
		count(`SELECT count(*) FROM agent_events WHERE agent_id = $1 AND to_state = 'DISPO'`, ann),
		"only answered calls went to DISPO")
	require.Zero(t, count(`SELECT count(*) FROM agent_events WHERE agent_id = $1 AND event = 'wrapup_timeout'`, ann))
}
