package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/inbound"
	"github.com/pacer-dialer/pacer/web"
)

// The Queue tab in headless Chromium (web/e2e/queue_panel.mjs): agent1, a
// second-line member of a queue that allows taking calls and widens to
// their level only after 10 minutes, sees two injected callers longest
// waiting first, takes the second with a click and is INCALL with that
// caller's number on screen; the first caller stays listed. The queue
// event log has the taken caller's offer and connect, by agent1, and no
// offer of the first caller; the call is an inbound call of agent1's.
func TestBrowserQueuePanel(t *testing.T) {
	b := newBrowserRun(t)
	sim := simConfig(t, `{
		"caller_talk_s": {"dist": "uniform", "min": 3000, "max": 3600},
		"caller_patience_s": {"dist": "uniform", "min": 3000, "max": 3600}
	}`)
	db := b.db()
	ctx := context.Background()
	addWebUser(t, b.dbURL, "agent1", web.RoleAgent, "password-agent1")
	addWebUser(t, b.dbURL, "root", web.RoleAdmin, "password-root")
	const first, firstName, second, did = "+12025550123", "Grace Hopper", "+12025550145", "+12025550110"
	c := activeCampaignWith(t, db, "Queue desk", "manual", "phone,first_name,last_name\n"+first+",Grace,Hopper\n", nil)
	agent1, err := web.GetUserByName(ctx, db, "agent1")
	require.NoError(t, err)
	q := makeQueue(t, db, inbound.Queue{Name: "Escalations", AllowTake: true, WidenAfter: 10 * time.Minute}, did,
		map[int64]int{agent1.ID: 2})

	stop := b.serve("--no-demo", "--sim-config", sim)
	defer stop()
	var out struct {
		Order         []string
		Ticks         bool
		Took          string
		State         string
		Remaining     []string
		DisabledTitle string `json:"disabled_title"`
	}
	b.script("queue_panel.mjs", &out, "FIRST="+first, "FIRST_NAME="+firstName, "SECOND="+second, "DID="+did, "QUEUE="+q.Name)
	require.Equal(t, []string{first, second}, out.Order, "longest waiting first")
	require.True(t, out.Ticks)
	require.Equal(t, second, out.Took)
	require.Equal(t, "INCALL", out.State)
	require.Equal(t, []string{first}, out.Remaining)
	require.Equal(t, "You are INCALL: go READY to take a call", out.DisabledTitle)
	stop() // the queue events are written behind: stopping writes the rest

	events := func(from string) string {
		t.Helper()
		rows, err := db.Query(ctx, `SELECT e.kind || coalesce(' ' || u.username, '') FROM queue_events e
			LEFT JOIN users u ON u.id = e.agent_id WHERE e.queue_id = $1 AND e.from_number = $2 ORDER BY e.seq`, q.ID, from)
		require.NoError(t, err)
		var out []string
		for rows.Next() {
			var s string
			require.NoError(t, rows.Scan(&s))
			out = append(out, s)
		}
		require.NoError(t, rows.Err())
		return strings.Join(out, ",")
	}
	require.Equal(t, "enter,offer agent1,connect agent1", events(second))
	require.NotContains(t, events(first), "offer", "the first caller was never offered")

	var direction, phone string
	require.NoError(t, db.QueryRow(ctx, `SELECT direction, phone FROM calls WHERE campaign_id = $1 AND agent_id = $2`,
		c.ID, agent1.ID).Scan(&direction, &phone))
	require.Equal(t, "inbound", direction)
	require.Equal(t, second, phone)
	b.requireShots("queue-empty", "queue-panel", "queue-panel-narrow", "queue-taken", "queue-incall", "queue-incall-narrow")
}
