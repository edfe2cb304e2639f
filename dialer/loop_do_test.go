package dialer

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type doClock struct{}

func (doClock) Now() time.Time { return time.Now() }

type doLeads struct{ SyntheticLeads }

func (*doLeads) CompleteDisposed(context.Context, LeadID, Outcome, string) error { return nil }

type doTrunk struct{ Trunk }

// TestAGiveUpOnACommandNeverRacesItsResult: a sender whose context ends
// while its command waits behind a busy loop gets its context's error and
// the command never runs; once a command has started, the sender waits for
// it, so what it writes is never read while being written (the race
// detector caught Status's reply being read as the loop wrote it).
func TestAGiveUpOnACommandNeverRacesItsResult(t *testing.T) {
	l, err := NewLoop(LoopConfig{Engine: Config{Campaign: 1, Mode: ModeManual, RingTimeout: 20 * time.Second},
		Summary: -1}, LoopDeps{Clock: doClock{}, Leads: &doLeads{},
		Trunk: func(TrunkDeliverer) (Trunk, error) { return doTrunk{}, nil }})
	require.NoError(t, err)
	require.NoError(t, l.Start(context.Background()))
	defer l.Stop()

	// The loop is busy until release is closed.
	release, busy := make(chan struct{}), make(chan struct{})
	go func() {
		_ = l.do(context.Background(), func(context.Context) error { close(busy); <-release; return nil })
	}()
	<-busy

	// Queued behind it, given up: never runs.
	ran := false
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, l.do(ctx, func(context.Context) error { ran = true; return nil }), context.Canceled)

	// Started, then its sender's context ends: the sender still gets its result.
	started := make(chan struct{})
	var v int
	ctx2, cancel2 := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- l.do(ctx2, func(context.Context) error { close(started); time.Sleep(time.Millisecond); v = 42; return nil })
	}()
	close(release)
	<-started
	cancel2()
	require.NoError(t, <-done)
	require.Equal(t, 42, v)
	require.NoError(t, l.do(context.Background(), func(context.Context) error { return nil }))
	require.False(t, ran, "a command given up before it ran is skipped")
}
