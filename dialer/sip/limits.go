package sip

import (
	"sync"
	"time"
)

// trunkState is one trunk's live limits, shared by the legs that use it:
// the channels in use (dialogs, counted from our INVITE until the dialog is
// over, including a cancelled call still waiting for its 487), the
// calls-per-second bucket, and the back-off after a 503.
type trunkState struct {
	name string // fixed; the rest of cfg may change (config), under mu

	cfg TrunkConfig

	mu       sync.Mutex
	inUse    int
	tokens   float64 // CPS bucket; may go negative by reservations
	refilled time.Time
	// backoffUntil: after a 503 the trunk is skipped until then; each 503 in
	// a row doubles the interval (MinBackoff .. MaxBackoff), an answer of
	// any other kind resets it.
	backoffUntil time.Time
	backoff      time.Duration
}

// Back-off interval after a 503: doubled per 503 in a row.
const (
	minBackoff = 1 * time.Second
	maxBackoff = 60 * time.Second
)

func newTrunkState(cfg TrunkConfig, now time.Time) *trunkState {
	s := &trunkState{name: cfg.Name, cfg: cfg, refilled: now}
	if cfg.CPS > 0 {
		s.tokens = burst(cfg.CPS)
	}
	return s
}

// trunkState returns the node's state of the trunk named cfg.Name, made on
// first use, with cfg's limits.
func (u *UA) trunkState(cfg TrunkConfig, now time.Time) *trunkState {
	u.mu.Lock()
	defer u.mu.Unlock()
	if s, ok := u.trunkStates[cfg.Name]; ok {
		s.mu.Lock()
		s.cfg = cfg
		s.mu.Unlock()
		return s
	}
	s := newTrunkState(cfg, now)
	u.trunkStates[cfg.Name] = s
	return s
}

// burst is the bucket's depth: one second's worth, at least one call.
func burst(cps float64) float64 { return max(1, cps) }

// reserve takes a channel and a CPS slot: ok false when the trunk is backing
// off, every channel is in use, or the next CPS slot is more than maxWait
// away. wait is how long the caller must wait before sending its INVITE.
// A successful reserve must be paired with release.
func (s *trunkState) reserve(now time.Time, maxWait time.Duration) (wait time.Duration, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Before(s.backoffUntil) {
		return 0, false
	}
	if s.cfg.MaxChannels > 0 && s.inUse >= s.cfg.MaxChannels {
		return 0, false
	}
	if s.cfg.CPS > 0 {
		s.tokens = min(burst(s.cfg.CPS), s.tokens+now.Sub(s.refilled).Seconds()*s.cfg.CPS)
		s.refilled = now
		if s.tokens < 1 {
			wait = time.Duration((1 - s.tokens) / s.cfg.CPS * float64(time.Second))
			if wait > maxWait {
				return 0, false
			}
		}
		s.tokens--
	}
	s.inUse++
	return wait, true
}

// config is the trunk's current configuration.
func (s *trunkState) config() TrunkConfig {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

// release gives the channel back.
func (s *trunkState) release() {
	s.mu.Lock()
	s.inUse--
	s.mu.Unlock()
}

// congested records a 503 (or a trunk that did not answer at all).
func (s *trunkState) congested(now time.Time) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.backoff = min(maxBackoff, max(minBackoff, 2*s.backoff))
	s.backoffUntil = now.Add(s.backoff)
	return s.backoff
}

// responded records an answer other than 503: the back-off starts over.
func (s *trunkState) responded() {
	s.mu.Lock()
	s.backoff = 0
	s.mu.Unlock()
}

// channels is the number of dialogs in use.
func (s *trunkState) channels() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inUse
}
