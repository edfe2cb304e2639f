package blend_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/dialer/blend"
	"github.com/pacer-dialer/pacer/inbound"
	"github.com/pacer-dialer/pacer/internal/testdb"
)

// A caller is placed on a node where their queue's members are logged in:
// never one that is dead, stopped or draining; their sticky agent's node
// first; in proportion to the members otherwise; here when no node has one
// or the number is no queue's; for SIP, only on nodes taking SIP callers.
func TestPlacerSendsCallersWhereTheQueuesAgentsWork(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	store := inbound.NewQueueStore(db)
	q, err := store.CreateQueue(ctx, inbound.Queue{Name: "Support"}.WithDefaults())
	require.NoError(t, err)
	const did = "+12025550100"
	_, err = store.SetDID(ctx, did, q.ID)
	require.NoError(t, err)
	for a := agents.ID(1); a <= 6; a++ {
		_, err = store.SetMember(ctx, inbound.Member{Queue: q.ID, Agent: a, Level: 1})
		require.NoError(t, err)
	}
	node := func(id, sipAddr, state string) {
		expires, stopped, draining := "now() + interval '1 hour'", "NULL", "false"
		switch state {
		case "dead":
			expires = "now() - interval '1 minute'"
		case "stopped":
			stopped = "now()"
		case "draining":
			draining = "true"
		}
		_, err := db.Exec(ctx, `INSERT INTO nodes (id, incarnation, http_addr, sip_addr, started_at, heartbeat_at, expires_at, stopped_at, draining)
			VALUES ($1, gen_random_uuid(), $1 || ':8080', $2, now() - interval '1 hour', now() - interval '1 hour', `+expires+`, `+stopped+`, `+draining+`)`,
			id, sipAddr)
		require.NoError(t, err)
	}
	camp, err := campaigns.Create(ctx, db, "Blend", nil)
	require.NoError(t, err)
	seat := func(agent agents.ID, node string) {
		_, err := db.Exec(ctx, `INSERT INTO agent_seats (agent_id, campaign_id, node_id, taken_at) VALUES ($1, $3, $2, now())
			ON CONFLICT (agent_id) DO UPDATE SET node_id = EXCLUDED.node_id`, int64(agent), node, int64(camp.ID))
		require.NoError(t, err)
	}
	// state logs the agent's move to state (in their session of the
	// campaign, one per agent) in agent_events.
	state := func(agent agents.ID, to string) {
		_, err := db.Exec(ctx, `INSERT INTO agent_sessions (id, agent_id, campaign_id, node, login_at)
			VALUES (gen_random_uuid(), $1, $2, 'a', now() - interval '1 hour') ON CONFLICT DO NOTHING`, int64(agent), int64(camp.ID))
		require.NoError(t, err)
		code := map[string]any{"PAUSED": "BREAK"}[to] // NULL for every other state
		_, err = db.Exec(ctx, `INSERT INTO agent_events (session_id, agent_id, campaign_id, at, event, from_state, to_state, pause_code)
			SELECT id, $1, $2, clock_timestamp(), CASE $3 WHEN 'READY' THEN 'ready' WHEN 'DND' THEN 'dnd' ELSE 'pause' END, 'READY', $3, $4
			FROM agent_sessions WHERE agent_id = $1 AND campaign_id = $2 AND logout_at IS NULL`, int64(agent), int64(camp.ID), to, code)
		require.NoError(t, err)
	}
	node("a", "10.0.0.1:5060", "")
	node("b", "10.0.0.2:5060", "")
	node("c", "", "")
	node("gone", "10.0.0.4:5060", "dead")
	node("old", "10.0.0.5:5060", "stopped")
	node("leaving", "10.0.0.6:5060", "draining")
	for _, n := range []string{"gone", "old", "leaving"} {
		seat(agents.ID(len(n)), n) // members 4, 3, 7 (7 is no member)
	}
	a := blend.NewPlacer(db, "a")

	asked := 0 // how often the caller's sticky agent was looked up
	sticky := func(a agents.ID) func(context.Context) agents.ID {
		return func(context.Context) agents.ID { asked++; return a }
	}
	where := func(lastAgent agents.ID, sip bool) string {
		t.Helper()
		p, elsewhere, err := a.Place(ctx, did, sticky(lastAgent), sip)
		require.NoError(t, err)
		if !elsewhere {
			return "here"
		}
		return p.Node
	}
	require.Equal(t, "here", where(0, false), "no live node has a member logged in: the caller stays")
	seat(4, "a")
	require.Equal(t, "here", where(4, false), "members only here: the caller stays")
	require.Zero(t, asked, "nor is the caller's sticky agent looked up while no other node has members")
	_, err = db.Exec(ctx, `DELETE FROM agent_seats WHERE agent_id = 4`)
	require.NoError(t, err)

	seat(1, "b")
	seat(2, "c")
	seat(5, "c")
	for range 20 {
		require.NotEqual(t, "here", where(0, false), "a has no member")
		require.Equal(t, "b", where(0, true), "for SIP only b: c takes no SIP callers")
		require.Equal(t, "c", where(5, false), "the sticky agent's node")
	}
	p, _, err := a.Place(ctx, did, sticky(1), true)
	require.NoError(t, err)
	require.Equal(t, blend.Placement{Node: "b", HTTPAddr: "b:8080", SIPAddr: "10.0.0.2:5060"}, p)

	_, elsewhere, err := a.Place(ctx, "+12025550199", nil, false)
	require.NoError(t, err)
	require.False(t, elsewhere, "a number no queue answers is refused here")

	// a with 1 member, b with 1, c with 2: about a quarter stay, a half go
	// to c. Each count is far from 0 and from 400 unless the draw is wrong.
	seat(3, "a")
	got := map[string]int{}
	for range 400 {
		got[where(0, false)]++
	}
	require.Len(t, got, 3, "%v", got)
	for n, want := range map[string]int{"here": 100, "b": 100, "c": 200} {
		require.InDelta(t, want, got[n], 60, "%v", got) // > 5 standard deviations
	}
	require.Equal(t, "here", where(3, false), "the sticky agent works here")

	// c's members on a break: callers go where members work, the paused
	// sticky agent's node included only as any other.
	state(2, "PAUSED")
	state(5, "READY")
	state(5, "DND")
	state(1, "READY")
	clear(got)
	for range 400 {
		got[where(5, false)]++
	}
	require.Zero(t, got["c"], "%v", got)
	for n, want := range map[string]int{"here": 200, "b": 200} {
		require.InDelta(t, want, got[n], 60, "%v", got)
	}
	// Everyone on a break: by the members logged in again.
	state(1, "PAUSED")
	state(3, "PAUSED")
	clear(got)
	for range 400 {
		got[where(0, false)]++
	}
	for n, want := range map[string]int{"here": 100, "b": 100, "c": 200} {
		require.InDelta(t, want, got[n], 60, "%v", got)
	}
}
