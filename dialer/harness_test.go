package dialer_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/dialer/sim"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// scriptedTrunk records what the engine asks of the trunk; the test decides
// what the far end does by delivering events through the virtual driver.
type scriptedTrunk struct {
	dials   []dialer.DialRequest
	bridged map[dialer.CallID]agents.ID
	played  map[dialer.CallID]string
	hungUp  map[dialer.CallID]bool
	// controls are the call controls asked for, as "op call".
	controls []string
	// transferLater: Transfer answers ErrTransferPending, as a trunk that
	// must first reach a number does.
	transferLater bool
}

func (s *scriptedTrunk) control(op string, c dialer.CallID) error {
	s.controls = append(s.controls, fmt.Sprintf("%s %d", op, c))
	return nil
}

func (s *scriptedTrunk) Hold(_ context.Context, c dialer.CallID) error { return s.control("hold", c) }
func (s *scriptedTrunk) Resume(_ context.Context, c dialer.CallID) error {
	return s.control("resume", c)
}
func (s *scriptedTrunk) Mute(_ context.Context, c dialer.CallID) error { return s.control("mute", c) }
func (s *scriptedTrunk) Unmute(_ context.Context, c dialer.CallID) error {
	return s.control("unmute", c)
}
func (s *scriptedTrunk) SendDTMF(_ context.Context, c dialer.CallID, _ dialer.Digits) error {
	return s.control("dtmf", c)
}
func (s *scriptedTrunk) Transfer(_ context.Context, c dialer.CallID, _ dialer.Target) error {
	if err := s.control("transfer", c); err != nil || !s.transferLater {
		return err
	}
	return dialer.ErrTransferPending
}
func (s *scriptedTrunk) AddParty(_ context.Context, c dialer.CallID, _ dialer.Target) error {
	return s.control("add_party", c)
}
func (s *scriptedTrunk) Leave(_ context.Context, c dialer.CallID) error { return s.control("leave", c) }

func (s *scriptedTrunk) Dial(_ context.Context, r dialer.DialRequest) error {
	s.dials = append(s.dials, r)
	return nil
}

func (s *scriptedTrunk) Bridge(_ context.Context, c dialer.CallID, a agents.ID) error {
	s.bridged[c] = a
	return nil
}

func (s *scriptedTrunk) Play(_ context.Context, c dialer.CallID, p string) error {
	s.played[c] = p
	return nil
}

func (s *scriptedTrunk) Hangup(_ context.Context, c dialer.CallID) error {
	s.hungUp[c] = true
	return nil
}

type harness struct {
	t     *testing.T
	ctx   context.Context
	eng   *dialer.Engine
	drv   *sim.Driver
	trunk *scriptedTrunk
	log   *dialer.MemoryCallLog
}

func newHarness(t *testing.T, cfg dialer.Config, pol dialer.Policy, leads dialer.LeadSource, hist dialer.BudgetHistory) *harness {
	t.Helper()
	return newHarnessWith(t, cfg, dialer.Deps{Leads: leads, History: hist, Policy: pol})
}

// newHarnessWith is newHarness with more of the engine's deps; the
// harness supplies the scheduler, trunk and call log.
func newHarnessWith(t *testing.T, cfg dialer.Config, deps dialer.Deps) *harness {
	t.Helper()
	h := &harness{
		t:     t,
		ctx:   context.Background(),
		drv:   sim.NewDriver(t0),
		trunk: &scriptedTrunk{bridged: map[dialer.CallID]agents.ID{}, played: map[dialer.CallID]string{}, hungUp: map[dialer.CallID]bool{}},
		log:   &dialer.MemoryCallLog{},
	}
	deps.Scheduler, deps.Trunk, deps.Calls = h.drv, h.trunk, h.log
	eng, err := dialer.NewEngine(cfg, deps)
	require.NoError(t, err)
	h.eng = eng
	h.drv.Attach(eng)
	require.NoError(t, eng.Start(h.ctx))
	return h
}

// agentReady logs an agent in and makes them READY now.
func (h *harness) agentReady(id agents.ID) {
	h.t.Helper()
	require.NoError(h.t, h.eng.AddAgent(id, agents.Config{}))
	require.NoError(h.t, h.eng.HandleAgent(h.ctx, id, agents.Event{Kind: agents.EvLogin}))
	require.NoError(h.t, h.eng.HandleAgent(h.ctx, id, agents.Event{Kind: agents.EvReady}))
}

func (h *harness) agent(id agents.ID, ev agents.EventKind) {
	h.t.Helper()
	require.NoError(h.t, h.eng.HandleAgent(h.ctx, id, agents.Event{Kind: ev}))
}

// advance runs virtual time forward by d.
func (h *harness) advance(d time.Duration) {
	h.t.Helper()
	require.NoError(h.t, h.drv.RunUntil(h.ctx, h.drv.Now().Add(d)))
}

// far delivers a trunk event for call c after d.
func (h *harness) far(c dialer.CallID, k dialer.TrunkEventKind, d time.Duration) {
	h.drv.DeliverTrunk(h.drv.Now().Add(d), dialer.TrunkEvent{Call: c, Kind: k})
}

func leads(ids ...int64) []dialer.Lead {
	out := make([]dialer.Lead, len(ids))
	for i, id := range ids {
		out[i] = dialer.Lead{ID: dialer.LeadID(id), Number: "+15550100" + string(rune('0'+id%10))}
	}
	return out
}
