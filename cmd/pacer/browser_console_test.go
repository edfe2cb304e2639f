package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/campaigns"
)

// The manager console in headless Chromium (web/e2e/console.mjs), on the
// real binary: the campaign list, an unlawful abandon target refused beside
// its field and then fixed, a new campaign from the editor, a list's counts,
// recycling its no-answers after a count, its download and deletion, and a
// password reset the agent then logs in with, and an agent's campaigns ticked
// on the users page. Screenshots: manage.png,
// manage-campaign.png, manage-lists.png, manage-users.png.
func TestBrowserConsole(t *testing.T) {
	b := newBrowserRun(t)
	defer b.serve()()

	// A draft campaign (the engine dials none of it) with one list: three
	// leads after a no answer, one finished, the rest never tried.
	ctx := context.Background()
	db := b.db()
	camp, err := campaigns.Create(ctx, db, "Console lists", nil)
	require.NoError(t, err)
	var file strings.Builder
	file.WriteString("phone,first_name\n")
	for i := range 12 {
		fmt.Fprintf(&file, "(212) 436-%04d,Person %d\n", 7000+i, i)
	}
	res, err := campaigns.Import(ctx, db, strings.NewReader(file.String()), campaigns.ImportOptions{Campaign: camp.ID, Name: "console.csv"})
	require.NoError(t, err)
	_, err = db.Exec(ctx, `UPDATE leads SET status = 'retry', attempts = 1, last_outcome = 'no_answer', last_disposition = 'NA',
		last_attempt_at = now(), next_attempt_at = now() + interval '1 hour'
		WHERE list_id = $1 AND line IN (2, 3, 4)`, res.List)
	require.NoError(t, err)
	_, err = db.Exec(ctx, `UPDATE leads SET status = 'done', attempts = 1, last_outcome = 'completed', last_disposition = 'NI',
		last_attempt_at = now() WHERE list_id = $1 AND line = 5`, res.List)
	require.NoError(t, err)

	var out struct {
		FieldError    string `json:"field_error"`
		DownloadRows  int    `json:"download_rows"`
		PasswordReset bool   `json:"password_reset"`
	}
	b.script("console.mjs", &out, "LIST_CAMPAIGN="+camp.Name)
	require.Equal(t, "5% refused: US rules (TCPA) allow at most 3%", out.FieldError, "the refusal beside the field in the field's own terms: percent, no setting key")
	require.Equal(t, 12, out.DownloadRows)
	require.True(t, out.PasswordReset)
	b.requireShots("manage", "manage-campaign", "manage-lists", "manage-users")

	var deleted bool
	require.NoError(t, db.QueryRow(ctx, `SELECT deleted_at IS NOT NULL FROM lead_lists WHERE id = $1`, res.List).Scan(&deleted))
	require.True(t, deleted, "the list was deleted from the console")
	var resets int
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM user_events e JOIN users u ON u.id = e.user_id
		WHERE u.username = 'agent1' AND e.action = 'password_reset' AND e.by_name = 'manager'`).Scan(&resets))
	require.Equal(t, 1, resets, "the reset is recorded with who made it")
	var assigned []string
	rows, err := db.Query(ctx, `SELECT u.username || '@' || c.name FROM campaign_agents a JOIN users u ON u.id = a.agent_id
		JOIN campaigns c ON c.id = a.campaign_id WHERE u.username IN ('agent2', 'agent3') ORDER BY 1`)
	require.NoError(t, err)
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		assigned = append(assigned, s)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{"agent2@Console lists", "agent2@Demo"}, assigned, "ticked on the users page")
}
