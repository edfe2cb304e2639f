package jobs

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/inbound"
	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/internal/testwait"
)

// Callback requests are assigned automatically to the campaign's available
// agents, balanced, for two hours; an agent who leaves loses theirs to one
// who is there; after the automatic period they are left for manual action.
// Their states and counts are what a supervisor's list shows.
func TestCallbackRequests(t *testing.T) {
	db := testdb.NewPool(t)
	c := newCampaign(t, db, 1, map[string]string{"mode": "manual"})
	defer testwait.NoLeaks(t, goleak.IgnoreCurrent())
	ctx := context.Background()
	rt := fastSim()
	mgr, err := dialer.NewManager(dialer.ManagerConfig{Node: "n", Poll: time.Hour}, dialer.ManagerDeps{DB: db, Clock: wallClock{},
		Trunk: func(c *campaigns.Campaign, del dialer.TrunkDeliverer) (dialer.Trunk, error) {
			return rt.Trunk(dialer.CampaignID(c.ID), del), nil
		}})
	require.NoError(t, err)
	require.NoError(t, mgr.Start(ctx))
	defer mgr.Stop()
	l, err := mgr.Loop(ctx, dialer.CampaignID(c.ID))
	require.NoError(t, err)
	for _, id := range []agents.ID{1, 2, 3} {
		require.NoError(t, l.Login(ctx, id, agents.Config{}))
	}
	require.NoError(t, l.AgentEvent(ctx, 1, agents.Event{Kind: agents.EvReady}))
	require.NoError(t, l.AgentEvent(ctx, 2, agents.Event{Kind: agents.EvReady}))

	r := newRunner(t, db)
	r.SetAgentFinder(mgr)
	now := time.Now()
	var reqs []inbound.CallbackRequest
	for i, phone := range []string{"(212) 555-0101", "212-555-0102", "+1 212 555 0103"} {
		req, err := inbound.CreateRequest(ctx, db, inbound.NewRequest{Campaign: c.ID, Queue: "support", Phone: phone,
			Name: "Caller", Now: now.Add(time.Duration(i) * time.Second)})
		require.NoError(t, err)
		require.Equal(t, inbound.RequestPending, req.Status)
		require.WithinDuration(t, now.Add(time.Duration(i)*time.Second).Add(2*time.Hour), req.AutoUntil, time.Millisecond)
		reqs = append(reqs, req)
	}
	_, err = inbound.CreateRequest(ctx, db, inbound.NewRequest{Campaign: c.ID, Phone: "12", Now: now})
	require.Error(t, err, "a number that is not one")

	n, err := r.AssignRequests(ctx)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	held := map[int64]int{}
	for _, req := range reqs {
		got, err := inbound.GetRequest(ctx, db, req.ID)
		require.NoError(t, err)
		held[got.Agent]++
	}
	require.Equal(t, map[int64]int{1: 2, 2: 1}, held, "balanced over the READY agents; the paused one gets none")
	n, err = r.AssignRequests(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "held requests stay where they are")

	// Agent 1 leaves: theirs go to agent 2, except one past its automatic period.
	past, err := inbound.ListRequests(ctx, db, inbound.RequestFilter{Agent: 1})
	require.NoError(t, err)
	require.Len(t, past, 2)
	_, err = db.Exec(ctx, `UPDATE callback_requests SET requested_at = requested_at - interval '3 hours', auto_until = auto_until - interval '3 hours' WHERE id = $1`, past[0].ID)
	require.NoError(t, err)
	require.NoError(t, l.AgentEvent(ctx, 1, agents.Event{Kind: agents.EvLogout}))
	n, err = r.AssignRequests(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	got, err := inbound.GetRequest(ctx, db, past[1].ID)
	require.NoError(t, err)
	require.EqualValues(t, 2, got.Agent)
	got, err = inbound.GetRequest(ctx, db, past[0].ID)
	require.NoError(t, err)
	require.EqualValues(t, 1, got.Agent, "after two hours it is left for manual action")
	got, err = inbound.AssignRequest(ctx, db, past[0].ID, 3, time.Now())
	require.NoError(t, err)
	require.EqualValues(t, 3, got.Agent)

	// States and counts.
	_, err = inbound.SetRequestStatus(ctx, db, reqs[0].ID, inbound.RequestUnanswered, 2, time.Now())
	require.NoError(t, err)
	_, err = inbound.SetRequestStatus(ctx, db, reqs[0].ID, inbound.RequestPending, 2, time.Now())
	require.NoError(t, err, "an unanswered request can be tried again")
	done, err := inbound.SetRequestStatus(ctx, db, reqs[0].ID, inbound.RequestAnswered, 2, time.Now())
	require.NoError(t, err)
	require.NotNil(t, done.ClosedAt)
	require.Equal(t, 2, done.Attempts)
	_, err = inbound.SetRequestStatus(ctx, db, reqs[0].ID, inbound.RequestPending, 2, time.Now())
	require.ErrorIs(t, err, inbound.ErrRequestTransition)
	_, err = inbound.SetRequestStatus(ctx, db, reqs[1].ID, inbound.RequestClosed, 9, time.Now())
	require.NoError(t, err)
	counts, err := inbound.CountRequests(ctx, db, c.ID)
	require.NoError(t, err)
	require.Equal(t, map[inbound.RequestStatus]int64{inbound.RequestPending: 1, inbound.RequestAnswered: 1,
		inbound.RequestUnanswered: 0, inbound.RequestClosed: 1, inbound.RequestDialling: 0}, counts)
	log, err := inbound.RequestLog(ctx, db, reqs[0].ID)
	require.NoError(t, err)
	var steps []string
	for _, e := range log {
		steps = append(steps, fmt.Sprintf("%s:%s→%s", e.Event, e.From, e.To))
	}
	require.Equal(t, []string{"request:→pending", "assign:pending→pending", "assign:pending→pending",
		"mark_unanswered:pending→unanswered", "reopen:unanswered→pending", "mark_answered:pending→answered"}, steps,
		"every step of the request is in its log")
	list, err := inbound.ListRequests(ctx, db, inbound.RequestFilter{Campaign: c.ID})
	require.NoError(t, err)
	require.Len(t, list, 3)
	require.Equal(t, inbound.RequestPending, list[0].Status, "pending first")
}
