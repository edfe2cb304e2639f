package blend_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/dialer/blend"
	"github.com/pacer-dialer/pacer/dialer/sim"
	"github.com/pacer-dialer/pacer/inbound"
	"github.com/pacer-dialer/pacer/internal/benchout"
)

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

// noLeads is the lead source of campaigns that never dial (manual mode).
type noLeads struct{ dialer.SyntheticLeads }

func (*noLeads) CompleteDisposed(context.Context, dialer.LeadID, dialer.Outcome, string) error {
	return nil
}

// line is the callers' side: the benchmark hangs its callers up itself.
type line struct{}

func (line) Dismiss(inbound.CallKey, string) {}

// center is one node's inbound side at the size: 500 agents in 10
// campaigns (real loops, real time), 50 queues, each agent serving 5.
type center struct {
	router *inbound.Router
	loops  []*dialer.Loop
	rings  chan agents.Transition // every agent's transitions to RINGING and back to READY
}

const (
	benchCampaigns = 10
	perCampaign    = 50
	benchQueues    = 50
	queuesPerAgent = 5
)

func did(q int) string { return fmt.Sprintf("+1202555%04d", q) }

func newCenter(b *testing.B) *center {
	ctx := context.Background()
	notify := &blend.Loops{}
	r, err := inbound.NewRouter(inbound.Config{}, inbound.Deps{Notify: notify, Line: line{}})
	if err != nil {
		b.Fatal(err)
	}
	members := map[inbound.QueueID][]inbound.Member{}
	for a := 1; a <= benchCampaigns*perCampaign; a++ {
		for k := range queuesPerAgent {
			q := inbound.QueueID((a*7+k*11)%benchQueues + 1)
			members[q] = append(members[q], inbound.Member{Queue: q, Agent: agents.ID(a), Level: 1})
		}
	}
	var qs []inbound.QueueDetail
	for q := 1; q <= benchQueues; q++ {
		qs = append(qs, inbound.QueueDetail{Queue: inbound.Queue{ID: inbound.QueueID(q), Name: fmt.Sprintf("q%d", q),
			RingTime: 30 * time.Second, NoAgents: inbound.Fallback{Action: inbound.ActionWait}}.WithDefaults(),
			Members: members[inbound.QueueID(q)], DIDs: []string{did(q)}})
	}
	if err := r.Replace(qs, time.Now()); err != nil {
		b.Fatal(err)
	}
	c := &center{router: r, rings: make(chan agents.Transition, 4096)}
	rt := sim.DemoRealtime()
	byID := map[dialer.CampaignID]*dialer.Loop{}
	notify.Find = func(id dialer.CampaignID) (*dialer.Loop, bool) { l, ok := byID[id]; return l, ok }
	for k := 1; k <= benchCampaigns; k++ {
		id := dialer.CampaignID(k)
		loop, err := dialer.NewLoop(dialer.LoopConfig{Engine: dialer.Config{Campaign: id, Mode: dialer.ModeManual,
			RingTimeout: 20 * time.Second}, Summary: -1, Commands: 1024},
			dialer.LoopDeps{Clock: wallClock{}, Leads: &noLeads{},
				Inbound: blend.Engines{R: r, Where: notify},
				Trunk:   func(del dialer.TrunkDeliverer) (dialer.Trunk, error) { return rt.Trunk(id, del), nil }})
		if err != nil {
			b.Fatal(err)
		}
		byID[id] = loop
		c.loops = append(c.loops, loop)
	}
	for _, loop := range c.loops {
		if err := loop.Start(ctx); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(loop.Stop)
		sub, cancel, err := loop.Subscribe(ctx, 4096)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(cancel)
		go func() {
			for t := range sub {
				if t.To == agents.Ringing || t.From == agents.Ringing {
					c.rings <- t
				}
			}
		}()
	}
	for i, loop := range c.loops {
		for a := range perCampaign {
			id := agents.ID(i*perCampaign + a + 1)
			if err := loop.Login(ctx, id, agents.Config{}); err != nil {
				b.Fatal(err)
			}
		}
	}
	return c
}

func (c *center) loopOf(id agents.ID) *dialer.Loop { return c.loops[(int(id)-1)/perCampaign] }

// ring waits for the next offer and returns when it rang and whom.
func (c *center) ring(b *testing.B) (agents.Transition, time.Time) {
	for {
		select {
		case t := <-c.rings:
			if t.To == agents.Ringing {
				return t, time.Now()
			}
		case <-time.After(time.Minute):
			b.Fatal("no offer within a minute")
		}
	}
}

// backFromRinging waits for agent id to leave RINGING.
func (c *center) backFromRinging(b *testing.B, id agents.ID) {
	for {
		select {
		case t := <-c.rings:
			if t.Agent == id && t.From == agents.Ringing {
				return
			}
		case <-time.After(time.Minute):
			b.Fatal("offer not withdrawn within a minute")
		}
	}
}

func quantile(d []time.Duration, q float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// BenchmarkInboundOffer measures the two offer latencies on one
// node with 500 agents in 10 campaigns and 50 queues, in real time through
// the campaigns' loops: a caller arriving while agents are free until the
// agent's transition to RINGING is published (what the workspace's
// WebSocket forwards), and an agent becoming READY while a caller waits
// until that agent is RINGING.
func BenchmarkInboundOffer(b *testing.B) {
	const n = 2000
	ctx := context.Background()
	c := newCenter(b)
	var key inbound.CallKey = inbound.CallKey(blend.LegBase)

	// Every agent READY: arrivals find agents free.
	for a := 1; a <= benchCampaigns*perCampaign; a++ {
		id := agents.ID(a)
		if err := c.loopOf(id).AgentEvent(ctx, id, agents.Event{Kind: agents.EvReady}); err != nil {
			b.Fatal(err)
		}
	}
	var arrival []time.Duration
	for i := range n {
		key++
		t0 := time.Now()
		if err := c.router.Arrive(inbound.Arrival{Call: key, DID: did(i%benchQueues + 1), From: "+12025550199"}, t0); err != nil {
			b.Fatal(err)
		}
		t, at := c.ring(b)
		arrival = append(arrival, at.Sub(t0))
		c.router.HungUp(key, time.Now())
		c.backFromRinging(b, t.Agent)
	}

	// Every agent PAUSED; one caller waits; one member becomes READY.
	for a := 1; a <= benchCampaigns*perCampaign; a++ {
		id := agents.ID(a)
		if err := c.loopOf(id).AgentEvent(ctx, id, agents.Event{Kind: agents.EvPause}); err != nil {
			b.Fatal(err)
		}
	}
	var freed []time.Duration
	for i := range n {
		key++
		q := i%benchQueues + 1
		if err := c.router.Arrive(inbound.Arrival{Call: key, DID: did(q), From: "+12025550199"}, time.Now()); err != nil {
			b.Fatal(err)
		}
		var agent agents.ID
		for _, m := range c.router.Members(inbound.QueueID(q)) {
			agent = m
			break
		}
		t0 := time.Now()
		if err := c.loopOf(agent).AgentEvent(ctx, agent, agents.Event{Kind: agents.EvReady}); err != nil {
			b.Fatal(err)
		}
		t, at := c.ring(b)
		if t.Agent != agent {
			b.Fatalf("caller offered to agent %d, not to %d who became READY", t.Agent, agent)
		}
		freed = append(freed, at.Sub(t0))
		c.router.HungUp(key, time.Now())
		c.backFromRinging(b, agent)
		if err := c.loopOf(agent).AgentEvent(ctx, agent, agents.Event{Kind: agents.EvPause}); err != nil {
			b.Fatal(err)
		}
	}

	a50, a99 := quantile(arrival, 0.5), quantile(arrival, 0.99)
	f50, f99 := quantile(freed, 0.5), quantile(freed, 0.99)
	b.ReportMetric(float64(a99.Microseconds())/1000, "arrival_p99_ms")
	b.ReportMetric(float64(f99.Microseconds())/1000, "freed_p99_ms")
	met := a99 < 50*time.Millisecond && f99 < 50*time.Millisecond
	if err := benchout.Write(benchout.Result{
		Name: "inbound_offer",
		Summary: fmt.Sprintf("500 agents in 10 campaigns, 50 queues (5 per agent), one node, real loops: caller arrives with agents free → agent RINGING p50 %.2f ms, p99 %.2f ms; agent READY with a caller waiting → RINGING p50 %.2f ms, p99 %.2f ms (%d offers each)",
			ms(a50), ms(a99), ms(f50), ms(f99), n),
		Figures: map[string]float64{"arrival_p50_ms": ms(a50), "arrival_p99_ms": ms(a99), "freed_p50_ms": ms(f50),
			"freed_p99_ms": ms(f99), "offers": n},
		Goal: "agent freed → offer and arrival with an agent free → offer: p99 < 50 ms with 500 agents and 50 queues",
		Met:  &met,
	}); err != nil {
		b.Fatal(err)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
