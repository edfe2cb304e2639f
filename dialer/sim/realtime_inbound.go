package sim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/dialer/blend"
	"github.com/pacer-dialer/pacer/inbound"
)

// Callers is the simulated carrier's inbound side in `pacer serve`: callers
// ring a number (Inject, or Poisson arrivals with Arrivals), wait in the
// router's queue until an agent takes them or their patience runs out, then
// talk for a drawn time. It is the router's CallerLine, and every
// campaign's simulated trunk bridges its callers (TrunkFor). Safe for
// concurrent use.
type Callers struct {
	router *inbound.Router
	clock  dialer.Clock
	// Match, when set, finds the leads whose number is the caller's and the
	// agent who last spoke with them (the sticky agent), before the caller
	// reaches the router; an error is logged by nobody and the caller
	// simply goes unmatched. Set it before the first caller.
	Match func(ctx context.Context, from string) ([]inbound.LeadMatch, agents.ID, error)
	// Elsewhere, when set, is asked before each caller Arrivals makes is
	// queued whether they are to wait on another node; it sends them there
	// itself and reports true (in a cluster, the node where their queue's
	// agents work). Set it before Arrivals starts.
	Elsewhere func(ctx context.Context, did, from string) bool

	mu       sync.Mutex
	rng      *rand.Rand
	talk     sampler
	patience sampler
	callback float64
	next     dialer.CallID
	waiting  map[dialer.CallID]*time.Timer
}

// CallersConfig are the simulated callers' habits.
type CallersConfig struct {
	// Talk is how long a caller talks once an agent takes them (default
	// exp, mean 90 s); Patience how long they wait before hanging up
	// (default exp, mean 180 s).
	Talk, Patience Dist
	// CallbackShare is the share of callers who, when their patience runs
	// out, ask for a callback instead of hanging up (where their queue
	// takes callback requests; elsewhere they hang up).
	CallbackShare float64
	Seed          uint64
}

// NewCallers makes the callers of a router. Their legs are numbered from a
// point that grows with the wall clock, so a restarted process never reuses
// one (the queue event log keys calls by them).
func NewCallers(r *inbound.Router, clock dialer.Clock, cfg CallersConfig) (*Callers, error) {
	if cfg.Talk.Dist == "" {
		cfg.Talk = Dist{Dist: "exp", Mean: 90}
	}
	if cfg.Patience.Dist == "" {
		cfg.Patience = Dist{Dist: "exp", Mean: 180}
	}
	if err := errors.Join(cfg.Talk.validate("talk"), cfg.Patience.validate("patience")); err != nil {
		return nil, err
	}
	if !(cfg.CallbackShare >= 0 && cfg.CallbackShare <= 1) {
		return nil, fmt.Errorf("callback share %v: a share from 0 to 1", cfg.CallbackShare)
	}
	seed := cfg.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	return &Callers{
		router: r, clock: clock,
		rng:      rand.New(rand.NewPCG(seed, 0x5851f42d4c957f2d)),
		talk:     cfg.Talk.sampler(),
		patience: cfg.Patience.sampler(),
		callback: cfg.CallbackShare,
		next:     blend.LegBase + dialer.CallID(time.Now().UnixMicro())<<4,
		waiting:  map[dialer.CallID]*time.Timer{},
	}, nil
}

// Inject makes one caller dial did from the number from, matched to leads
// (Match) first. It returns the router's refusal (no queue answers the
// number) or the matching's error (the caller is still queued, unmatched).
func (c *Callers) Inject(ctx context.Context, did, from string) (inbound.CallKey, error) {
	var matchErr error
	arr := inbound.Arrival{DID: did, From: from}
	if c.Match != nil {
		arr.Leads, arr.LastAgent, matchErr = c.Match(ctx, from)
	}
	key, err := c.arrive(arr, 0)
	if err != nil {
		return key, err
	}
	if matchErr != nil {
		return key, fmt.Errorf("%w: %w", ErrUnmatched, matchErr)
	}
	return key, nil
}

// ErrUnmatched: the caller is queued, but their number could not be matched
// to leads.
var ErrUnmatched = errors.New("caller queued without matching their number to leads")

// InjectCallback makes one caller dial did from the number from and ask
// for a callback after waiting after (if no agent took them by then).
func (c *Callers) InjectCallback(ctx context.Context, did, from string, after time.Duration) (inbound.CallKey, error) {
	arr := inbound.Arrival{DID: did, From: from}
	var matchErr error
	if c.Match != nil {
		arr.Leads, arr.LastAgent, matchErr = c.Match(ctx, from)
	}
	key, err := c.arrive(arr, max(after, time.Nanosecond))
	if err == nil && matchErr != nil {
		err = fmt.Errorf("%w: %w", ErrUnmatched, matchErr)
	}
	return key, err
}

// arrive queues a caller who waits their drawn patience, or asks for a
// callback after callbackAfter when it is set.
func (c *Callers) arrive(arr inbound.Arrival, callbackAfter time.Duration) (inbound.CallKey, error) {
	c.mu.Lock()
	c.next++
	leg := c.next
	patience := c.patience.draw(c.rng)
	callback := c.rng.Float64() < c.callback
	if callbackAfter > 0 {
		patience, callback = callbackAfter, true
	}
	c.mu.Unlock()
	key := blend.Key(leg)
	// The caller is waiting before the router may offer them.
	c.mu.Lock()
	c.waiting[leg] = nil
	c.mu.Unlock()
	arr.Call = key
	if err := c.router.Arrive(arr, c.clock.Now()); err != nil {
		c.mu.Lock()
		delete(c.waiting, leg)
		c.mu.Unlock()
		return 0, err
	}
	c.mu.Lock()
	if _, still := c.waiting[leg]; still {
		c.waiting[leg] = time.AfterFunc(patience, func() { c.giveUp(leg, callback) })
	}
	c.mu.Unlock()
	return key, nil
}

// giveUp ends a caller's wait: they ask for a callback (callback, where
// their queue takes them) or hang up.
func (c *Callers) giveUp(leg dialer.CallID, callback bool) {
	c.mu.Lock()
	_, still := c.waiting[leg]
	c.mu.Unlock()
	if !still {
		return
	}
	if callback && c.router.LeaveForCallback(blend.Key(leg), c.clock.Now()) == nil {
		return // the router dismisses the leg once the request is stored
	}
	c.mu.Lock()
	_, still = c.waiting[leg]
	delete(c.waiting, leg)
	c.mu.Unlock()
	if still {
		c.router.HungUp(blend.Key(leg), c.clock.Now())
	}
}

// Dismiss is the router sending a caller away (its CallerLine).
func (c *Callers) Dismiss(call inbound.CallKey, _ string) {
	leg := blend.Leg(call)
	c.mu.Lock()
	defer c.mu.Unlock()
	if t := c.waiting[leg]; t != nil {
		t.Stop()
	}
	delete(c.waiting, leg)
}

// bridge takes a waiting caller to an agent: they talk for a drawn time,
// then hang up through del (the loop of the agent's campaign).
func (c *Callers) bridge(leg dialer.CallID, del Deliverer) (time.Time, bool) {
	c.mu.Lock()
	t, ok := c.waiting[leg]
	if ok {
		if t != nil {
			t.Stop()
		}
		delete(c.waiting, leg)
	}
	talk := c.talk.draw(c.rng)
	c.mu.Unlock()
	if !ok {
		return time.Time{}, false
	}
	until := del.Now().Add(talk)
	del.DeliverTrunk(until, dialer.TrunkEvent{Call: leg, Kind: dialer.TrunkHungUp, Cause: dialer.CauseNormalClearing})
	return until, true
}

// Waiting counts the callers still waiting.
func (c *Callers) Waiting() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiting)
}

// Arrivals makes callers dial did at perHour on average (Poisson) until ctx
// ends; callers' numbers are drawn.
func (c *Callers) Arrivals(ctx context.Context, did string, perHour float64) {
	if perHour <= 0 {
		return
	}
	for {
		c.mu.Lock()
		gap := time.Duration(c.rng.ExpFloat64() / perHour * float64(time.Hour))
		from := fmt.Sprintf("+1202555%04d", c.rng.IntN(10000))
		c.mu.Unlock()
		t := time.NewTimer(gap)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if c.Elsewhere != nil && c.Elsewhere(ctx, did, from) {
			continue
		}
		_, _ = c.Inject(ctx, did, from) // a number no queue answers is refused, as a carrier would be
	}
}

// TrunkFor is the realtime simulated trunk of a campaign that also takes
// these callers to its agents.
func (r Realtime) TrunkFor(campaign dialer.CampaignID, del dialer.TrunkDeliverer, callers *Callers) dialer.Trunk {
	t := r.Trunk(campaign, del).(*ringingCarrier)
	if callers != nil {
		t.Carrier.in = callers
	}
	return t
}
