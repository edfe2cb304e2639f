package blend_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
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

// callbackCenter is one node: the manager running a manual campaign on the
// simulated carrier (which answers every dial), the router with the
// queue Support (callbacks allowed, agents 1 and 2), the simulated callers
// and the requests' desk.
type callbackCenter struct {
	db       *pgxpool.Pool
	mgr      *dialer.Manager
	loop     *dialer.Loop
	router   *inbound.Router
	callers  *sim.Callers
	requests *blend.Requests
	campaign campaigns.Campaign
	queue    inbound.Queue
	dialled  chan dialer.DialRequest
}

// newCallbackCenter's window is the campaign's calling window, [start,
// end) in the lead's local time.
func newCallbackCenter(t *testing.T, start, end string) *callbackCenter {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	db := testdb.NewPool(t)
	settings := map[string]string{"mode": "manual", "simulated": "true", "window_start": start, "window_end": end}
	c, err := campaigns.Create(ctx, db, "blend", settings)
	require.NoError(t, err)
	_, err = campaigns.SetStatus(ctx, db, c.ID, campaigns.StatusActive)
	require.NoError(t, err)
	_, err = db.Exec(ctx, `INSERT INTO nodes (id, incarnation, started_at, heartbeat_at, expires_at)
		VALUES ('n', gen_random_uuid(), now(), now(), now() + interval '1 hour')`)
	require.NoError(t, err)
	store := inbound.NewQueueStore(db)
	q, err := store.CreateQueue(ctx, inbound.Queue{Name: "Support", Callbacks: inbound.Callbacks{Allow: true, Attempts: 2},
		NoAgents: inbound.Fallback{Action: inbound.ActionWait}}.WithDefaults())
	require.NoError(t, err)
	_, err = store.SetDID(ctx, "+12025550100", q.ID)
	require.NoError(t, err)
	for _, a := range []agents.ID{1, 2} {
		_, err = store.SetMember(ctx, inbound.Member{Queue: q.ID, Agent: a, Level: 1})
		require.NoError(t, err)
	}

	cc := &callbackCenter{db: db, campaign: c, queue: q, dialled: make(chan dialer.DialRequest, 16)}
	notify := &blend.Loops{}
	cc.requests = blend.NewRequests(db, "n", wallClock{}, slog.New(slog.DiscardHandler))
	cc.router, err = inbound.NewRouter(inbound.Config{}, inbound.Deps{Notify: notify, Requests: cc.requests,
		Line: lineFunc(func(k inbound.CallKey, why string) { cc.callers.Dismiss(k, why) })})
	require.NoError(t, err)
	cc.requests.SetRouter(cc.router)
	qs, err := store.Queues(ctx)
	require.NoError(t, err)
	require.NoError(t, cc.router.Replace(qs, time.Now()))
	cc.callers, err = sim.NewCallers(cc.router, wallClock{}, sim.CallersConfig{Talk: sim.Dist{Dist: "const", Value: 3600},
		Patience: sim.Dist{Dist: "const", Value: 3600}})
	require.NoError(t, err)

	rt := sim.DemoRealtime()
	rt.Outcomes = []sim.Outcome{{Kind: "human", P: 1, After: sim.Dist{Dist: "const", Value: 0.05}}}
	rt.CustomerTalk = sim.Dist{Dist: "const", Value: 3600}
	rt.OnDial = func(_ dialer.CampaignID, req dialer.DialRequest) { cc.dialled <- req }
	calls := dialer.NewCallStore(db, dialer.CallStoreConfig{Node: "n"})
	require.NoError(t, calls.Start(ctx))
	t.Cleanup(calls.Stop)
	cc.mgr, err = dialer.NewManager(dialer.ManagerConfig{Node: "n", Poll: time.Hour}, dialer.ManagerDeps{DB: db, Clock: wallClock{},
		Calls:   calls,
		Inbound: blend.Engines{R: cc.router, Where: notify},
		Trunk: func(c *campaigns.Campaign, del dialer.TrunkDeliverer) (dialer.Trunk, error) {
			return rt.TrunkFor(dialer.CampaignID(c.ID), del, cc.callers), nil
		}})
	require.NoError(t, err)
	notify.Find = cc.mgr.Running
	require.NoError(t, cc.mgr.Start(ctx))
	t.Cleanup(cc.mgr.Stop)
	cc.loop, err = cc.mgr.Loop(ctx, dialer.CampaignID(c.ID))
	require.NoError(t, err)
	cc.requests.Start(ctx)
	return cc
}

func (cc *callbackCenter) state(t *testing.T, a agents.ID) agents.State {
	t.Helper()
	v, err := cc.loop.AgentView(context.Background(), a)
	require.NoError(t, err)
	return v.State
}

// A caller who asks for a callback keeps their place; when an agent frees
// they are offered the request, and accepting it dials the caller at once
// with the agent in the call; the request is answered once the call ends.
// A second accept of the same request (another agent, a double click)
// does not dial it again.
func TestAQueueCallbackIsDialledOnceWhenItsTurnComes(t *testing.T) {
	cc := newCallbackCenter(t, "00:00", "24:00")
	ctx := context.Background()
	require.NoError(t, cc.loop.Login(ctx, 1, agents.Config{}))
	require.NoError(t, cc.loop.Login(ctx, 2, agents.Config{}))

	// The caller's number matches one lead, elsewhere: the request takes
	// its name.
	cc.callers.Match = func(context.Context, string) ([]inbound.LeadMatch, agents.ID, error) {
		return []inbound.LeadMatch{{Lead: 99, Campaign: 99, Name: "Grace Hopper"}}, 0, nil
	}
	// Nobody is READY: the first caller waits, then asks for a callback;
	// a second caller comes after them.
	_, err := cc.callers.InjectCallback(ctx, "+12025550100", "+12025550177", time.Millisecond)
	require.NoError(t, err)
	var req inbound.CallbackRequest
	testwait.Until(t, func() bool {
		list, err := inbound.ListRequests(ctx, cc.db, inbound.RequestFilter{Queue: cc.queue.ID})
		require.NoError(t, err)
		if len(list) == 1 {
			req = list[0]
		}
		return len(list) == 1 && len(cc.router.Waiting()) == 1
	})
	require.Equal(t, inbound.KindQueue, req.Kind)
	require.Equal(t, "+12025550177", req.Phone)
	second, err := cc.callers.Inject(ctx, "+12025550100", "+12025550188")
	require.NoError(t, err)
	w := cc.router.Waiting()
	require.Len(t, w, 2)
	require.Equal(t, inbound.RequestKey(req.ID), w[0].Call, "the request keeps the first place")
	require.Equal(t, second, w[1].Call)

	// Agent 1 frees: the request is offered to them, not the caller behind.
	require.NoError(t, cc.loop.AgentEvent(ctx, 1, agents.Event{Kind: agents.EvReady}))
	testwait.Until(t, func() bool { return cc.state(t, 1) == agents.Ringing })
	off, ok, err := cc.loop.InboundOffer(ctx, 1)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, int64(req.ID), off.Request)
	require.Equal(t, "+12025550177", off.From)

	call, err := cc.requests.Dial(ctx, cc.loop, cc.campaign.ID, 1, off)
	require.NoError(t, err)
	d := <-cc.dialled
	require.Equal(t, "+12025550177", d.Number)
	require.GreaterOrEqual(t, d.RingTimeout, 15*time.Second, "ring time at least 15 s")
	testwait.Until(t, func() bool { return cc.state(t, 1) == agents.InCall })
	_, err = cc.requests.Dial(ctx, cc.loop, cc.campaign.ID, 1, off)
	require.Error(t, err, "the same request is not dialled twice")
	select {
	case d := <-cc.dialled:
		t.Fatalf("a second dial: %+v", d)
	default:
	}
	got, err := inbound.GetRequest(ctx, cc.db, req.ID)
	require.NoError(t, err)
	require.Equal(t, inbound.RequestDialling, got.Status)
	require.Equal(t, int64(call), got.DialCall)
	require.NotZero(t, got.DialLead, "the number is a lead of the campaign (its manual list)")
	var first, last string
	require.NoError(t, cc.db.QueryRow(ctx, `SELECT first_name, last_name FROM leads WHERE id = $1`, got.DialLead).
		Scan(&first, &last))
	require.Equal(t, "Grace Hopper", first+" "+last, "with the name the caller left")

	require.NoError(t, cc.loop.Hangup(ctx, 1))
	testwait.Until(t, func() bool {
		require.NoError(t, cc.requests.Sync(ctx))
		got, err = inbound.GetRequest(ctx, cc.db, req.ID)
		require.NoError(t, err)
		return got.Status == inbound.RequestAnswered
	})
	require.Equal(t, 1, got.Attempts)
	require.Len(t, cc.router.Waiting(), 1, "only the caller behind is left")
}

// A request whose number is on a do-not-call list is closed, not dialled;
// one outside the calling window goes back to its place until the window
// opens; either way the agent is READY again and nothing is dialled.
func TestAQueueCallbackObeysDNCAndTheCallingWindow(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	for _, tc := range []struct {
		name   string
		closed bool
		dnc    bool
		status inbound.RequestStatus
		event  inbound.RequestEvent
	}{
		{"dnc", false, true, inbound.RequestClosed, inbound.ReqDNC},
		{"window", true, false, inbound.RequestPending, inbound.ReqNotPlaced},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start, end := "00:00", "24:00"
			if tc.closed {
				// An hour's window three hours from now in the number's
				// zone (+1 202: New York): closed now.
				h := (time.Now().In(ny).Hour() + 3) % 24
				start, end = fmt.Sprintf("%02d:00", h), fmt.Sprintf("%02d:00", h+1)
			}
			cc := newCallbackCenter(t, start, end)
			ctx := context.Background()
			if tc.dnc {
				_, err := cc.db.Exec(ctx, `INSERT INTO dnc (phone, source) VALUES ('+12025550177', 'manual')`)
				require.NoError(t, err)
			}
			require.NoError(t, cc.loop.Login(ctx, 1, agents.Config{}))
			r, err := cc.requests.Create(ctx, inbound.LeftRequest{Queue: cc.queue, Phone: "+12025550177", Name: "Ann",
				Now: time.Now()})
			require.NoError(t, err)
			require.NoError(t, cc.loop.AgentEvent(ctx, 1, agents.Event{Kind: agents.EvReady}))
			testwait.Until(t, func() bool { return cc.state(t, 1) == agents.Ringing })
			off, ok, err := cc.loop.InboundOffer(ctx, 1)
			require.NoError(t, err)
			require.True(t, ok)
			_, err = cc.requests.Dial(ctx, cc.loop, cc.campaign.ID, 1, off)
			require.ErrorIs(t, err, blend.ErrRequestRefused)
			require.ErrorIs(t, err, campaigns.ErrNotDialable)
			testwait.Until(t, func() bool { return cc.state(t, 1) == agents.Ready })
			got, err := inbound.GetRequest(ctx, cc.db, r.ID)
			require.NoError(t, err)
			require.Equal(t, tc.status, got.Status)
			log, err := inbound.RequestLog(ctx, cc.db, r.ID)
			require.NoError(t, err)
			require.Equal(t, tc.event, log[len(log)-1].Event)
			if tc.status == inbound.RequestPending {
				require.NotNil(t, got.NotBefore)
				require.True(t, got.NotBefore.After(time.Now()), "due again when the window opens")
				w := cc.router.Waiting()
				require.Len(t, w, 1, "back at its place")
				require.True(t, w[0].NotBefore.Equal(*got.NotBefore))
			} else {
				require.Empty(t, cc.router.Waiting())
			}
			select {
			case d := <-cc.dialled:
				t.Fatalf("dialled: %+v", d)
			default:
			}
		})
	}
}
