package web

import (
	"context"
	"sync"
	"time"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
)

// publisher follows the campaign loops running on this node: it forwards
// each agent transition as "agent" (and, when a call reaches or leaves the
// agent, "call") events the moment it happens, and every StatsEvery pushes
// each campaign's figures as a "stats" event and keeps an hour of chart
// samples. One goroutine (run) plus one per followed campaign; all exit
// when run's context ends.
type publisher struct {
	s *Server

	mu      sync.Mutex
	subs    map[int64]func()
	latest  map[int64]CampaignStats
	lastPt  map[int64]time.Time
	names   map[int64]string // agent id → username, for agent events
	workers sync.WaitGroup
}

// historyEvery is how often a running campaign's chart sample is stored.
const historyEvery = 10 * time.Second

func newPublisher(s *Server) *publisher {
	return &publisher{s: s, subs: map[int64]func(){}, latest: map[int64]CampaignStats{}, lastPt: map[int64]time.Time{}, names: map[int64]string{}}
}

func (p *publisher) run(ctx context.Context) {
	defer p.workers.Wait()
	t := time.NewTicker(p.s.cfg.StatsEvery)
	defer t.Stop()
	defer p.unsubscribeAll()
	for {
		p.tick(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (p *publisher) tick(ctx context.Context) {
	ids, err := p.s.local.Running(ctx)
	if err != nil {
		return
	}
	running := map[int64]bool{}
	for _, cid := range ids {
		id := int64(cid)
		running[id] = true
		p.follow(ctx, id)
		st, err := p.s.buildStats(ctx, id)
		if err != nil {
			continue
		}
		if at, ok := p.record(id, st); ok && p.s.db != nil {
			if err := saveSample(ctx, p.s.db, id, at, st); err != nil {
				p.s.log.Warn("stats sample", "campaign", id, "err", err)
			}
		}
		p.s.publish(Event{Type: "stats", Campaign: id, Data: st})
	}
	p.mu.Lock()
	for id := range p.latest {
		if !running[id] {
			delete(p.latest, id)
		}
	}
	p.mu.Unlock()
}

// record keeps the campaign's latest figures and reports when, every
// historyEvery, a chart sample is due (saved in stats_samples).
func (p *publisher) record(id int64, st CampaignStats) (time.Time, bool) {
	now := p.s.clock.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.latest[id] = st
	if now.Sub(p.lastPt[id]) < historyEvery {
		return now, false
	}
	p.lastPt[id] = now
	return now, true
}

func (p *publisher) snapshot() map[int64]CampaignStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[int64]CampaignStats, len(p.latest))
	for k, v := range p.latest {
		out[k] = v
	}
	return out
}

// follow subscribes to a campaign's transitions unless already following.
func (p *publisher) follow(ctx context.Context, id int64) {
	p.mu.Lock()
	_, ok := p.subs[id]
	p.mu.Unlock()
	if ok {
		return
	}
	ch, cancel, err := p.s.local.Subscribe(ctx, campaigns.ID(id))
	if err != nil {
		return
	}
	p.mu.Lock()
	p.subs[id] = cancel
	p.mu.Unlock()
	p.workers.Add(1)
	go func() {
		defer p.workers.Done()
		defer func() {
			p.mu.Lock()
			delete(p.subs, id)
			p.mu.Unlock()
			cancel()
		}()
		for {
			select {
			case <-ctx.Done():
				return
			case t, ok := <-ch:
				if !ok {
					return
				}
				p.transition(ctx, t)
			}
		}
	}()
}

func (p *publisher) transition(ctx context.Context, t Transition) {
	if t.Call != nil {
		// The agent's call changed while the agent did not (their own dial
		// rang or was answered, a hold, a mute, an outcome): the workspace
		// follows the call by these.
		p.s.publish(Event{Type: "call", Campaign: int64(t.Campaign), Agent: int64(t.Agent), At: t.At,
			Data: map[string]any{"change": t.Call.State, "call_id": t.Call.Call,
				"lead_id": t.Call.Lead, "number": t.Call.Number, "outcome": t.Call.Outcome,
				"disposition": t.Call.Disposition, "muted": t.Call.Muted, "digit": t.Call.Digit,
				"notice": t.Call.Notice}})
		return
	}
	p.s.metrics.transitions.WithLabelValues(t.To.String()).Inc()
	agent, campaign := int64(t.Agent), int64(t.Campaign)
	p.mu.Lock()
	name, ok := p.names[agent]
	p.mu.Unlock()
	if !ok {
		if names, err := p.s.userNames(ctx, []int64{agent}); err == nil {
			name = names[agent]
			p.mu.Lock()
			p.names[agent] = name
			p.mu.Unlock()
		}
	}
	t.Name = name
	p.s.publish(Event{Type: "agent", Campaign: campaign, Agent: agent, At: t.At, Data: t})
	var call string
	switch {
	case t.To == agents.InCall && t.From != agents.InCall:
		call = "connected"
	case t.To == agents.Ringing:
		call = "offered"
	case t.From == agents.InCall && t.To != agents.InCall:
		call = "ended"
	case t.From == agents.Dispo && t.To != agents.Dispo:
		call = "closed"
	}
	if call != "" {
		p.s.publish(Event{Type: "call", Campaign: campaign, Agent: agent, At: t.At,
			Data: map[string]string{"change": call, "agent_state": t.To.String()}})
	}
}

func (p *publisher) unsubscribeAll() {
	p.mu.Lock()
	cs := make([]func(), 0, len(p.subs))
	for _, c := range p.subs {
		cs = append(cs, c)
	}
	p.mu.Unlock()
	for _, c := range cs {
		c()
	}
}
