package main

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/inbound"
	"github.com/pacer-dialer/pacer/internal/testwait"
	"github.com/pacer-dialer/pacer/web"
)

// A caller who asks for a callback keeps their place and is called back by
// the agent the request is offered to, in headless Chromium
// (web/e2e/queue_callback.mjs): listed in the agent's Queue tab and counted
// on the wallboard while the agent is paused, offered as a callback request
// when they go READY, dialled with "Call back now", dispositioned. The
// database then has the request answered after one try, its event log, and
// the outbound call to the caller.
func TestBrowserQueueCallback(t *testing.T) {
	b := newBrowserRun(t)
	// Every dial is answered by a person who stays on the line.
	sim := simConfig(t, `{
		"outcomes": [{"kind": "human", "p": 1, "after_s": {"dist": "const", "value": 1}}],
		"customer_talk_s": {"dist": "const", "value": 3600},
		"caller_talk_s": {"dist": "const", "value": 3600},
		"caller_patience_s": {"dist": "const", "value": 3600}
	}`)
	db := b.db()
	ctx := context.Background()
	addWebUser(t, b.dbURL, "agent1", web.RoleAgent, "password-agent1")
	addWebUser(t, b.dbURL, "root", web.RoleAdmin, "password-root")
	addWebUser(t, b.dbURL, "sue", web.RoleSupervisor, "password-sue")
	const caller = "+12025550166"
	c := activeCampaignWith(t, db, "Callback desk", "manual", "phone,first_name\n+12025550101,Other\n", nil)
	agent, err := web.GetUserByName(ctx, db, "agent1")
	require.NoError(t, err)
	store := inbound.NewQueueStore(db)
	created, err := ensureDemoQueue(ctx, store, []int64{agent.ID})
	require.NoError(t, err)
	require.True(t, created)

	stop := b.serve("--no-demo", "--sim-config", sim)
	defer stop()
	var out struct {
		Listed, Wallboard, Offered, Dialled, Dispositioned bool
	}
	b.script("queue_callback.mjs", &out, "CALLER="+caller, "DID="+DemoDID)
	require.True(t, out.Listed && out.Wallboard && out.Offered && out.Dialled && out.Dispositioned, "%+v", out)

	var req inbound.CallbackRequest
	testwait.Until(t, func() bool {
		list, err := inbound.ListRequests(ctx, db, inbound.RequestFilter{})
		require.NoError(t, err)
		require.Len(t, list, 1)
		req = list[0]
		return req.Status == inbound.RequestAnswered
	})
	require.Equal(t, caller, req.Phone)
	require.Equal(t, 1, req.Attempts)
	log, err := inbound.RequestLog(ctx, db, req.ID)
	require.NoError(t, err)
	var steps []string
	for _, e := range log {
		steps = append(steps, string(e.Event))
	}
	require.Equal(t, "request,dial,answer", strings.Join(steps, ","))

	var phone, direction, disposition string
	require.NoError(t, db.QueryRow(ctx, `SELECT phone, direction, coalesce(disposition, '') FROM calls
		WHERE id = $1 AND campaign_id = $2`, req.DialCall, c.ID).Scan(&phone, &direction, &disposition))
	require.Equal(t, caller, phone)
	require.Equal(t, "outbound", direction, "the callback is the campaign's outbound call")
	require.Equal(t, "NI", disposition)
	b.requireShots("callback-queue-tab", "callback-wallboard", "callback-offer", "callback-call")
}
