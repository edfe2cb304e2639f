package dialer

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/pacer-dialer/pacer/agents"
)

// MemoryHopper is a finite in-memory lead queue for tests and demos. It is
// safe for concurrent use so a test can inspect it while an engine runs.
type MemoryHopper struct {
	mu       sync.Mutex
	queue    []Lead
	claimed  map[LeadID]int // claims outstanding per lead
	outcomes map[LeadID][]Outcome
	known    map[LeadID]Lead
	skips    map[LeadID]int
}

// NewMemoryHopper queues leads in order. The same lead may appear more than
// once (as a buggy or racing hopper query might produce).
func NewMemoryHopper(leads ...Lead) *MemoryHopper {
	return &MemoryHopper{queue: append([]Lead(nil), leads...), claimed: map[LeadID]int{}, outcomes: map[LeadID][]Outcome{}, known: map[LeadID]Lead{}}
}

func (h *MemoryHopper) Claim(_ context.Context, dst []Lead, n int) ([]Lead, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ; n > 0 && len(h.queue) > 0; n-- {
		l := h.queue[0]
		h.queue = h.queue[1:]
		h.claimed[l.ID]++
		h.known[l.ID] = l
		dst = append(dst, l)
	}
	return dst, nil
}

func (h *MemoryHopper) Complete(_ context.Context, id LeadID, o Outcome) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.claimed[id] == 0 {
		return fmt.Errorf("complete lead %d: not claimed", id)
	}
	h.claimed[id]--
	h.outcomes[id] = append(h.outcomes[id], o)
	return nil
}

func (h *MemoryHopper) Release(_ context.Context, id LeadID) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.claimed[id] == 0 {
		return fmt.Errorf("release lead %d: not claimed", id)
	}
	h.claimed[id]--
	h.queue = append(h.queue, h.known[id])
	return nil
}

// Skip puts a skipped lead at the back of the queue, its skip counted.
func (h *MemoryHopper) Skip(ctx context.Context, id LeadID, _ agents.ID) error {
	if err := h.Release(ctx, id); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.skips == nil {
		h.skips = map[LeadID]int{}
	}
	h.skips[id]++
	return nil
}

// Skips is how many times a lead was skipped.
func (h *MemoryHopper) Skips(id LeadID) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.skips[id]
}

// Outcomes returns the outcomes recorded for a lead, oldest first.
func (h *MemoryHopper) Outcomes(id LeadID) []Outcome {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Outcome(nil), h.outcomes[id]...)
}

// Remaining is the number of leads waiting to be claimed.
func (h *MemoryHopper) Remaining() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.queue)
}

// SyntheticLeads is an endless hopper of generated leads for the simulator:
// each claim mints fresh IDs, so the simulated population never runs dry.
type SyntheticLeads struct {
	next      LeadID
	Completed [numOutcomes]int64
}

func (s *SyntheticLeads) Claim(_ context.Context, dst []Lead, n int) ([]Lead, error) {
	for ; n > 0; n-- {
		s.next++
		dst = append(dst, Lead{ID: s.next})
	}
	return dst, nil
}

func (s *SyntheticLeads) Complete(_ context.Context, _ LeadID, o Outcome) error {
	s.Completed[o]++
	return nil
}

func (s *SyntheticLeads) Release(context.Context, LeadID) error { return nil }

func (s *SyntheticLeads) Skip(context.Context, LeadID, agents.ID) error { return nil }

// MemoryCallLog keeps every call record in memory and answers budget history
// from them, the way the PostgreSQL calls table will.
type MemoryCallLog struct {
	mu      sync.Mutex
	records []CallRecord
}

func (m *MemoryCallLog) RecordCall(_ context.Context, rec *CallRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.records = append(m.records, *rec)
	return nil
}

// Records returns a copy of all records.
func (m *MemoryCallLog) Records() []CallRecord {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]CallRecord(nil), m.records...)
}

func (m *MemoryCallLog) BudgetHistory(_ context.Context, campaign CampaignID, since time.Time) ([]BudgetBucket, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []BudgetBucket
	for i := range m.records {
		r := &m.records[i]
		if r.Campaign != campaign || !r.Outcome.Live() || r.EndedAt().Before(since) || r.TransferredFrom != 0 {
			continue
		}
		start := r.EndedAt().Truncate(budgetBucket)
		if len(out) == 0 || !out[len(out)-1].Start.Equal(start) {
			out = append(out, BudgetBucket{Start: start})
		}
		b := &out[len(out)-1]
		b.Live++
		if r.Outcome == OutcomeAbandoned {
			b.Abandons++
		}
	}
	return out, nil
}
