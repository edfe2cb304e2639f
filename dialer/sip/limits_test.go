package sip

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/dialer"
)

// The CPS bucket lets one second's worth through at once, then spaces calls
// 1/CPS apart, and a caller that would wait longer than maxWait is refused.
func TestTrunkStateCPSBucket(t *testing.T) {
	t0 := time.Unix(1000, 0)
	s := newTrunkState(TrunkConfig{Name: "t", CPS: 2}, t0)
	for range 2 {
		wait, ok := s.reserve(t0, 0)
		require.True(t, ok)
		require.Zero(t, wait)
	}
	_, ok := s.reserve(t0, 100*time.Millisecond)
	require.False(t, ok, "bucket empty, next slot 500 ms away")
	wait, ok := s.reserve(t0, time.Second)
	require.True(t, ok)
	require.Equal(t, 500*time.Millisecond, wait)
	wait, ok = s.reserve(t0, time.Second)
	require.True(t, ok)
	require.Equal(t, time.Second, wait, "reservations queue behind each other")
	_, ok = s.reserve(t0.Add(2*time.Second), 0)
	require.True(t, ok, "refilled after two seconds")
}

// Channels count reservations until release; a 503 backs the trunk off for
// a doubling interval, and any other answer resets it.
func TestTrunkStateChannelsAndBackoff(t *testing.T) {
	t0 := time.Unix(1000, 0)
	s := newTrunkState(TrunkConfig{Name: "t", MaxChannels: 1}, t0)
	_, ok := s.reserve(t0, 0)
	require.True(t, ok)
	_, ok = s.reserve(t0, 0)
	require.False(t, ok, "one channel, in use")
	s.release()
	require.Equal(t, minBackoff, s.congested(t0))
	_, ok = s.reserve(t0.Add(minBackoff/2), 0)
	require.False(t, ok, "backing off")
	require.Equal(t, 2*minBackoff, s.congested(t0))
	_, ok = s.reserve(t0.Add(2*minBackoff), 0)
	require.True(t, ok, "back-off over")
	s.release()
	s.responded()
	require.Equal(t, minBackoff, s.congested(t0), "an answer resets the back-off")
	for range 20 {
		s.congested(t0)
	}
	require.Equal(t, maxBackoff, s.congested(t0))
}

// We CANCEL half a second before the engine's ring timer, so a 200 crossing
// our CANCEL reaches the engine as an answer, but never ring less than the
// legal minimum.
func TestRingTimeoutLead(t *testing.T) {
	require.Equal(t, 24500*time.Millisecond, ringTimeout(25*time.Second))
	require.Equal(t, dialer.MinRingTimeout, ringTimeout(dialer.MinRingTimeout), "no lead below the legal floor")
	require.Equal(t, dialer.MinRingTimeout, ringTimeout(dialer.MinRingTimeout+ringLead))
	require.Equal(t, dialer.MinRingTimeout, ringTimeout(dialer.MinRingTimeout+ringLead/2))
	require.Equal(t, 300*time.Millisecond, ringTimeout(300*time.Millisecond), "tests' short rings are kept")
	require.Equal(t, 25*time.Second, ringTimeout(0))
}
