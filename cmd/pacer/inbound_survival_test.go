package main

import (
	"context"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/inbound"
	"github.com/pacer-dialer/pacer/internal/testwait"
)

// Callers waiting in a queue live on the node that holds their legs. Killed
// with SIGKILL, that node leaves them waiting in the event log: another
// node closes each with one exit ("node lost") once the dead node's
// heartbeat has expired, so the wallboard never counts them as waiting for
// ever. A node stopped with SIGTERM sends its waiting callers away itself.
func TestWaitingCallersOfADeadOrStoppedNodeAreClosed(t *testing.T) {
	t.Parallel()
	c := newCluster(t, 10)
	c.agents = -1 // nobody takes the callers: they wait
	ctx := context.Background()
	store := inbound.NewQueueStore(c.db)
	q, err := store.CreateQueue(ctx, inbound.Queue{Name: "Waiting",
		NoAgents: inbound.Fallback{Action: inbound.ActionWait}}.WithDefaults())
	require.NoError(t, err)
	_, err = store.SetDID(ctx, DemoDID, q.ID)
	require.NoError(t, err)
	_, err = store.SetMember(ctx, inbound.Member{Queue: q.ID, Agent: agents.ID(99), Level: 1})
	require.NoError(t, err)

	open := func() int {
		return c.count(`SELECT count(*) FROM (SELECT DISTINCT ON (call_key) kind FROM queue_events
			ORDER BY call_key, seq DESC) l WHERE kind IN ('enter', 'offer', 'reject', 'timeout')`)
	}
	enters := func() int { return c.count(`SELECT count(*) FROM queue_events WHERE kind = 'enter'`) }

	a := c.start("--sim-inbound-per-hour", "36000")
	testwait.Until(t, func() bool { return open() >= 3 }, "callers waiting on the first node")
	a.kill(t)
	left := enters()
	require.Equal(t, left, open(), "the dead node's callers are still open in the log")

	b := c.start()
	testwait.Until(t, func() bool { return open() == 0 }, "the dead node's callers closed")
	require.Equal(t, left, c.count(`SELECT count(*) FROM queue_events WHERE kind = 'exit' AND detail = $1`,
		inbound.ExitNodeLost), "one exit per caller the dead node left waiting")
	require.NoError(t, b.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, <-b.done)

	d := c.start("--sim-inbound-per-hour", "36000")
	testwait.Until(t, func() bool { return enters() >= left+3 }, "callers waiting on the third node")
	require.NoError(t, d.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, <-d.done, "exit 0 after SIGTERM; logs:\n%s", d.logs)
	require.Zero(t, open(), "a stopped node leaves no caller waiting in the log")
	require.Equal(t, enters()-left, c.count(`SELECT count(*) FROM queue_events WHERE kind = 'exit' AND detail = 'shutdown'`))
}
