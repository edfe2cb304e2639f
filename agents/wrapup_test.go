package agents

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The wrap-up limit with the campaign saying paused sends the agent to
// PAUSED(WRAPUP); a pause the agent asked for during the call wins; without
// a code the agent goes READY as the table says.
func TestWrapupTimeoutDestination(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		requested string
		code      string
		want      State
		wantCode  string
	}{
		{"ready", "", "", Ready, ""},
		{"paused per campaign", "", PauseCodeWrapup, Paused, PauseCodeWrapup},
		{"agent's own pause wins", "LUNCH", PauseCodeWrapup, Paused, "LUNCH"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, clk := agentIn(t, Dispo, Config{})
			if tc.requested != "" {
				_, err := a.Apply(Event{Kind: EvPause, PauseCode: tc.requested})
				require.NoError(t, err)
			}
			clk.Advance(30 * time.Second)
			tr, err := a.Apply(Event{Kind: EvWrapupTimeout, PauseCode: tc.code})
			require.NoError(t, err)
			require.Equal(t, tc.want, a.State())
			require.Equal(t, tc.wantCode, a.PauseCode())
			require.True(t, tr.Call.AutoDispo)
			require.Equal(t, 30*time.Second, tr.Call.Dispo)
		})
	}
}

// A backdated disposition closes the call's dispo time at the instant given
// (what the call record got), and the time after it counts as the next state.
func TestBackdatedDispositionAccountsEverySecondOnce(t *testing.T) {
	t.Parallel()
	a, clk := agentIn(t, Dispo, Config{})
	clk.Advance(10 * time.Second)
	savedAt := clk.Now()
	open, ok := a.OpenCall(savedAt)
	require.True(t, ok)
	require.Equal(t, 10*time.Second, open.Dispo)
	clk.Advance(40 * time.Millisecond) // the transaction
	tr, err := a.Apply(Event{Kind: EvDispoSaved, At: savedAt})
	require.NoError(t, err)
	require.Equal(t, savedAt, tr.At)
	require.Equal(t, open.Dispo, tr.Call.Dispo, "the agent's record matches the call's")
	require.Equal(t, open.Talk, tr.Call.Talk)
	s := a.Session()
	require.Equal(t, 10*time.Second, s.Dispo)
	require.Equal(t, 40*time.Millisecond, s.Wait-time.Second, "the transaction's time is READY time")

	// At never goes before the last event.
	clk.Advance(time.Second)
	tr, err = a.Apply(Event{Kind: EvPause, At: savedAt.Add(-time.Hour)})
	require.NoError(t, err)
	require.Equal(t, savedAt, tr.At)
	_, ok = a.OpenCall(clk.Now())
	require.False(t, ok)
}

// Peek predicts Apply exactly and changes nothing.
func TestPeekPredictsApply(t *testing.T) {
	t.Parallel()
	sink := &memSink{}
	clk := newClock()
	a := New(7, Config{}, clk, sink)
	for _, ev := range []EventKind{EvLogin, EvReady, EvConnect, EvCallEnd} {
		clk.Advance(time.Second)
		_, err := a.Apply(Event{Kind: ev})
		require.NoError(t, err)
	}
	_, err := a.Apply(Event{Kind: EvPause, PauseCode: "LUNCH"})
	require.NoError(t, err)
	clk.Advance(3 * time.Second)
	n := len(sink.got)
	before := a.Session()
	peek, err := a.Peek(Event{Kind: EvDispoSaved})
	require.NoError(t, err)
	require.Len(t, sink.got, n, "Peek writes nothing")
	require.Equal(t, Dispo, a.State())
	require.Equal(t, before, a.Session())
	got, err := a.Apply(Event{Kind: EvDispoSaved})
	require.NoError(t, err)
	require.Equal(t, peek, got)
	require.Equal(t, Paused, got.To)
	require.Equal(t, "LUNCH", got.PauseCode)
	_, err = a.Peek(Event{Kind: EvCallEnd})
	require.Error(t, err)
}
