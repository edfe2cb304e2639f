package blend_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/dialer/blend"
	"github.com/pacer-dialer/pacer/dialer/sim"
	"github.com/pacer-dialer/pacer/inbound"
	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/internal/testwait"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// TestAnInboundCallIsRecordedFromItsConnect: a caller an agent takes has a
// call row as soon as they are connected (so a node dying mid-call leaves
// it for recovery), with direction inbound, the queue, the caller's number,
// no lead and the time they entered the queue; its end completes the same
// row, which no outbound figure counts.
func TestAnInboundCallIsRecordedFromItsConnect(t *testing.T) {
	ctx := context.Background()
	db := testdb.NewPool(t)
	c, err := campaigns.Create(ctx, db, "inbound", map[string]string{"mode": "manual", "simulated": "true"})
	require.NoError(t, err)
	calls := dialer.NewCallStore(db, dialer.CallStoreConfig{Node: "n"})
	require.NoError(t, calls.Start(ctx))
	defer calls.Stop()

	notify := &blend.Loops{}
	var callers *sim.Callers
	r, err := inbound.NewRouter(inbound.Config{}, inbound.Deps{Notify: notify,
		Line: lineFunc(func(k inbound.CallKey, why string) { callers.Dismiss(k, why) })})
	require.NoError(t, err)
	callers, err = sim.NewCallers(r, wallClock{}, sim.CallersConfig{Talk: sim.Dist{Dist: "const", Value: 3600},
		Patience: sim.Dist{Dist: "const", Value: 3600}})
	require.NoError(t, err)
	require.NoError(t, r.Replace([]inbound.QueueDetail{{Queue: inbound.Queue{ID: 4, Name: "support"}.WithDefaults(),
		Members: []inbound.Member{{Queue: 4, Agent: 1}}, DIDs: []string{"+12025550100"}}}, time.Now()))

	cfg, pol, err := dialer.EngineConfig(&c)
	require.NoError(t, err)
	rt := sim.DemoRealtime()
	loop, err := dialer.NewLoop(dialer.LoopConfig{Engine: cfg, Summary: -1},
		dialer.LoopDeps{Clock: wallClock{}, Leads: &noLeads{}, Policy: pol, Journal: calls.Journal(cfg.Campaign),
			Inbound: blend.Engines{R: r, Where: notify},
			Trunk: func(del dialer.TrunkDeliverer) (dialer.Trunk, error) {
				return rt.TrunkFor(cfg.Campaign, del, callers), nil
			}})
	require.NoError(t, err)
	notify.Find = func(dialer.CampaignID) (*dialer.Loop, bool) { return loop, true }
	require.NoError(t, loop.Start(ctx))
	defer loop.Stop()
	require.NoError(t, loop.Login(ctx, 1, agents.Config{}))
	require.NoError(t, loop.AgentEvent(ctx, 1, agents.Event{Kind: agents.EvReady}))

	before := time.Now()
	_, err = callers.Inject(ctx, "+12025550100", "+12025550177")
	require.NoError(t, err)
	testwait.Until(t, func() bool {
		v, err := loop.AgentView(ctx, 1)
		require.NoError(t, err)
		return v.State == agents.Ringing
	})
	require.NoError(t, loop.AgentEvent(ctx, 1, agents.Event{Kind: agents.EvAccept}))
	require.NoError(t, calls.Flush(ctx))

	var (
		state, direction, phone string
		queue                   int64
		lead                    *int64
		withoutLead             bool
		queued, connected       time.Time
	)
	row := func() {
		require.NoError(t, db.QueryRow(ctx, `SELECT state, direction, queue_id, phone, lead_id, without_lead, queued_at,
			connected_at FROM calls WHERE campaign_id = $1`, c.ID).Scan(&state, &direction, &queue, &phone, &lead,
			&withoutLead, &queued, &connected))
	}
	row()
	require.Equal(t, "connected", state, "recorded while the call is up")
	require.Equal(t, "inbound", direction)
	require.EqualValues(t, 4, queue)
	require.Equal(t, "+12025550177", phone)
	require.Nil(t, lead)
	require.True(t, withoutLead)
	require.False(t, queued.Before(before.Add(-time.Second)))
	require.False(t, connected.Before(queued))

	require.NoError(t, loop.Hangup(ctx, 1))
	require.NoError(t, calls.Flush(ctx))
	row()
	require.Equal(t, "ended", state)
	require.Equal(t, "inbound", direction)
	hist, err := calls.BudgetHistory(ctx, cfg.Campaign, before.Add(-time.Hour))
	require.NoError(t, err)
	require.Empty(t, hist, "an inbound call is no live answer of the campaign's abandon budget")
}
