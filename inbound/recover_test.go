package inbound

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/internal/testdb"
)

// TestCloseOrphansClosesOnlyCallersOfLostNodes: callers left waiting by a
// node that expired, stopped or started a new life since get one exit each
// ("node lost"), whoever runs the sweep and however many run it at once;
// callers of a live node, and callers already answered, abandoned or gone,
// are left alone.
func TestCloseOrphansClosesOnlyCallersOfLostNodes(t *testing.T) {
	ctx := context.Background()
	db := testdb.NewPool(t)
	store := NewEventStore(db)
	now := time.Now().UTC().Truncate(time.Microsecond)
	past := now.Add(-time.Minute)
	for _, n := range []struct {
		id               string
		started, expires time.Time
		stopped          bool
	}{
		{"alive", now.Add(-time.Hour), now.Add(time.Hour), false},
		{"dead", now.Add(-time.Hour), now.Add(-time.Second), false},
		{"stopped", now.Add(-time.Hour), now.Add(time.Hour), true},
		{"reborn", now.Add(-time.Second), now.Add(time.Hour), false}, // started after its events
	} {
		_, err := db.Exec(ctx, `INSERT INTO nodes (id, incarnation, started_at, heartbeat_at, expires_at, stopped_at)
			VALUES ($1, gen_random_uuid(), $2, $2, $3, CASE WHEN $4 THEN now() END)`, n.id, n.started, n.expires, n.stopped)
		require.NoError(t, err)
	}
	ev := func(call CallKey, kind EventKind, node string) Event {
		e := Event{Queue: 1, Call: call, Kind: kind, At: past, Entered: past.Add(-time.Minute), From: "+12025550123",
			DID: "+12025550100", Node: node}
		if kind == EvOffer || kind == EvConnect || kind == EvReject {
			e.Agent = 7
		}
		return e
	}
	require.NoError(t, store.Append(ctx, []Event{
		ev(1, EvEnter, "alive"),                        // waiting on a live node
		ev(2, EvEnter, "dead"),                         // waiting on a dead node
		ev(3, EvEnter, "dead"), ev(3, EvOffer, "dead"), // ringing an agent on a dead node
		ev(4, EvEnter, "dead"), ev(4, EvConnect, "dead"), // answered: not waiting
		ev(5, EvEnter, "stopped"),
		ev(6, EvEnter, "reborn"),
		ev(7, EvEnter, "dead"), ev(7, EvAbandon, "dead"),
		ev(8, EvEnter, "nobody"), // a node with no row at all
	}))

	var wg sync.WaitGroup
	counts := make([]int, 3)
	for i := range counts {
		wg.Go(func() {
			n, err := store.CloseOrphans(ctx, db, now)
			require.NoError(t, err)
			counts[i] = n
		})
	}
	wg.Wait()
	require.Equal(t, 5, counts[0]+counts[1]+counts[2], "each orphan closed once: calls 2, 3, 5, 6 and 8")

	evs, err := store.Between(ctx, past.Add(-time.Hour), now.Add(time.Second))
	require.NoError(t, err)
	exits := map[CallKey]Event{}
	for _, e := range evs {
		if e.Kind == EvExit {
			require.NotContains(t, exits, e.Call, "a second exit for call %d", e.Call)
			exits[e.Call] = e
		}
	}
	require.Len(t, exits, 5)
	for _, call := range []CallKey{2, 3, 5, 6, 8} {
		e := exits[call]
		require.Equal(t, ExitNodeLost, e.Detail)
		require.Equal(t, past.Add(-time.Minute), e.Entered, "the exit keeps the caller's place for the figures")
	}
	f := Compute(evs, nil, past.Add(-time.Hour), now, now)[1]
	require.Equal(t, 1, f.Waiting, "only the live node's caller still waits")
	require.Equal(t, 5, f.Exited)
}
