package agents_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/internal/testwait"
)

func TestMain(m *testing.M) { testdb.Main(m) }

type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

// An agent's day lands in the state log event by event, with the clock's
// timestamps and pause codes, and the session closes with the same totals
// the agent's own accounting shows.
func TestEventStoreWritesTheStateLogAndSessionTotals(t *testing.T) {
	ctx := context.Background()
	db := testdb.NewPool(t)
	c, err := campaigns.Create(ctx, db, "Agents", nil)
	require.NoError(t, err)
	defer testwait.NoLeaks(t, goleak.IgnoreCurrent())

	store := agents.NewEventStore(db, agents.EventStoreConfig{Node: "n1"})
	require.NoError(t, store.Start(ctx))
	defer store.Stop()
	sink := store.Sink(int64(c.ID))
	clk := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	a := agents.New(42, agents.Config{}, clk, sink)
	step := func(d time.Duration, ev agents.Event) {
		clk.t = clk.t.Add(d)
		_, err := a.Apply(ev)
		require.NoError(t, err)
	}
	step(0, agents.Event{Kind: agents.EvLogin})
	step(5*time.Second, agents.Event{Kind: agents.EvReady})
	step(20*time.Second, agents.Event{Kind: agents.EvConnect})
	step(30*time.Second, agents.Event{Kind: agents.EvHold})
	step(10*time.Second, agents.Event{Kind: agents.EvResume})
	step(15*time.Second, agents.Event{Kind: agents.EvPause, PauseCode: "LUNCH"})
	step(5*time.Second, agents.Event{Kind: agents.EvCallEnd})
	step(8*time.Second, agents.Event{Kind: agents.EvDispoSaved})
	step(60*time.Second, agents.Event{Kind: agents.EvReady})
	step(10*time.Second, agents.Event{Kind: agents.EvLogout})
	sink.EndSession(42, clk.t, agents.EvLogout, a.Session())
	require.NoError(t, store.Flush(ctx))

	rows, err := db.Query(ctx, `SELECT event, from_state, to_state, coalesce(pause_code, ''), extract(epoch FROM at - $1)::int,
		call_talk_s IS NOT NULL FROM agent_events ORDER BY id`, time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	var got []string
	for rows.Next() {
		var ev, from, to, code string
		var at int
		var closes bool
		require.NoError(t, rows.Scan(&ev, &from, &to, &code, &at, &closes))
		s := ev + " " + from + "→" + to + " " + code + " @" + time.Duration(at*int(time.Second)).String()
		if closes {
			s += " closes call"
		}
		got = append(got, s)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{
		"login LOGGED_OUT→PAUSED LOGIN @0s",
		"ready PAUSED→READY  @5s",
		"connect READY→INCALL  @25s",
		"hold INCALL→INCALL  @55s",
		"resume INCALL→INCALL  @1m5s",
		"pause INCALL→INCALL  @1m20s",
		"call_end INCALL→DISPO  @1m25s",
		"dispo_saved DISPO→PAUSED LUNCH @1m33s closes call",
		"ready PAUSED→READY  @2m33s",
		"logout READY→LOGGED_OUT  @2m43s",
	}, got)

	var talk, hold, dispo, wait, pause float64
	var calls int
	var byCode []byte
	var cause string
	require.NoError(t, db.QueryRow(ctx, `SELECT talk_s, hold_s, dispo_s, wait_s, pause_s, calls, pause_by_code, end_cause
		FROM agent_sessions WHERE agent_id = 42 AND logout_at IS NOT NULL`).Scan(&talk, &hold, &dispo, &wait, &pause, &calls, &byCode, &cause))
	require.Equal(t, []float64{50, 10, 8, 30, 65}, []float64{talk, hold, dispo, wait, pause})
	require.Equal(t, 1, calls)
	require.Equal(t, "logout", cause)
	var codes map[string]float64
	require.NoError(t, json.Unmarshal(byCode, &codes))
	require.Equal(t, map[string]float64{"LOGIN": 5, "LUNCH": 60}, codes)
}

// The agent logs in to a campaign on another node before the first node's
// logout is written (the campaign was handed over): the new session is
// written, the old one is closed as seat_moved, and the old node's logout,
// when it lands, still records its totals.
func TestALoginOnAnotherNodeMovesTheOpenSession(t *testing.T) {
	ctx := context.Background()
	db := testdb.NewPool(t)
	c, err := campaigns.Create(ctx, db, "Moved", nil)
	require.NoError(t, err)
	a := agents.NewEventStore(db, agents.EventStoreConfig{Node: "a"})
	b := agents.NewEventStore(db, agents.EventStoreConfig{Node: "b"})
	require.NoError(t, a.Start(ctx))
	require.NoError(t, b.Start(ctx))
	t0 := time.Now().Truncate(time.Microsecond)
	sa, sb := a.Sink(int64(c.ID)), b.Sink(int64(c.ID))
	login := agents.Transition{Agent: 7, At: t0, Event: agents.EvLogin, From: agents.LoggedOut, To: agents.Paused, PauseCode: "LOGIN"}
	sa.AppendTransition(login)
	require.NoError(t, a.Flush(ctx))
	login.At = t0.Add(time.Second)
	sb.AppendTransition(login)
	require.NoError(t, b.Flush(ctx))
	count := func(sql string) int {
		var n int
		require.NoError(t, db.QueryRow(ctx, sql).Scan(&n))
		return n
	}
	require.Equal(t, 1, count(`SELECT count(*) FROM agent_sessions WHERE node = 'b' AND logout_at IS NULL`), "the new node's session is written")
	require.Equal(t, 1, count(`SELECT count(*) FROM agent_sessions WHERE node = 'a' AND end_cause = 'seat_moved'`))
	sa.EndSession(7, t0.Add(2*time.Second), agents.EvLogout, agents.Session{Calls: 1})
	a.Stop()
	b.Stop()
	require.Equal(t, 1, count(`SELECT count(*) FROM agent_sessions WHERE node = 'a' AND end_cause = 'logout' AND calls = 1`),
		"the old node's logout, when it lands, records its totals")
	require.Equal(t, 2, count(`SELECT count(*) FROM agent_events WHERE event = 'login'`))
}
