package dialer_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/dialer"
)

func TestPowerLines(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ratio                   float64
		ready, dialing, waiting int
		want                    int
	}{
		{1, 3, 0, 0, 3},
		{1, 3, 2, 0, 1},
		{1, 3, 2, 1, 0},
		{2, 3, 1, 0, 5},
		{1.5, 3, 0, 0, 4},
		{1, 0, 2, 0, -2},
	} {
		got := dialer.Power{Ratio: tc.ratio}.Decide(&dialer.Snapshot{Ready: tc.ready, Dialing: tc.dialing, Waiting: tc.waiting})
		require.Equal(t, tc.want, got, "%+v", tc)
	}
}

func TestVicidialAdaptiveLevel(t *testing.T) {
	t.Parallel()
	v := &dialer.VicidialAdaptive{}
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	// Half the agents idle for a long time: the level climbs to the cap.
	for i := 0; i < 600; i++ {
		v.Decide(&dialer.Snapshot{Now: now, Ready: 5, InCall: 5})
		now = now.Add(time.Second)
	}
	require.InDelta(t, 3.0, v.Level(), 1e-9)
	got := v.Decide(&dialer.Snapshot{Now: now, Ready: 5, InCall: 5, Dialing: 4})
	require.Equal(t, 30-4-5, got, "round(level × agents) − calls in progress")

	// More than half of the last minute's 30 calls dropped: halved.
	for i := 0; i < 30; i++ {
		rec := &dialer.CallRecord{Outcome: dialer.OutcomeCompleted}
		if i < 20 {
			rec.Outcome, rec.Abandoned = dialer.OutcomeAbandoned, true
		}
		rec.Stamps[dialer.CallEnded] = now.Add(-time.Duration(i) * time.Second)
		v.ObserveCall(rec)
	}
	for i := 0; i <= 15; i++ { // one 15-s adaptation period
		v.Decide(&dialer.Snapshot{Now: now, Ready: 0, InCall: 10})
		now = now.Add(time.Second)
	}
	require.InDelta(t, 1.5, v.Level(), 1e-9)
}
