package agents

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestDNDReturnsToWhereTheAgentWas: DND off takes a paused agent back to
// their pause with its code, and a ready one back to READY; DND time is
// accounted as pause with code DND.
func TestDNDReturnsToWhereTheAgentWas(t *testing.T) {
	t.Parallel()
	a, clk := agentIn(t, Paused, Config{})
	_, err := a.Apply(Event{Kind: EvPause, PauseCode: "LUNCH"})
	require.NoError(t, err)
	_, err = a.Apply(Event{Kind: EvDND})
	require.NoError(t, err)
	require.Equal(t, DND, a.State())
	clk.Advance(40 * time.Second)
	tr, err := a.Apply(Event{Kind: EvDNDOff})
	require.NoError(t, err)
	require.Equal(t, Paused, tr.To)
	require.Equal(t, "LUNCH", tr.PauseCode)
	require.Equal(t, 40*time.Second, a.Session().Pause[PauseCodeDND])

	_, err = a.Apply(Event{Kind: EvReady})
	require.NoError(t, err)
	_, err = a.Apply(Event{Kind: EvDND})
	require.NoError(t, err)
	tr, err = a.Apply(Event{Kind: EvDNDOff})
	require.NoError(t, err)
	require.Equal(t, Ready, tr.To)
}

// TestPassingOnAnOfferCanSendTheAgentToDND: a reject or ring timeout that
// carries DND (the queue's setting) leaves the agent in DND, and DND off
// makes them READY.
func TestPassingOnAnOfferCanSendTheAgentToDND(t *testing.T) {
	t.Parallel()
	for _, ev := range []EventKind{EvReject, EvRingTimeout} {
		a, _ := agentIn(t, Ringing, Config{})
		tr, err := a.Apply(Event{Kind: ev, DND: true})
		require.NoError(t, err)
		require.Equal(t, DND, tr.To, ev.String())
		_, err = a.Apply(Event{Kind: EvOffer})
		require.Error(t, err, "no offer reaches an agent in DND")
		tr, err = a.Apply(Event{Kind: EvDNDOff})
		require.NoError(t, err)
		require.Equal(t, Ready, tr.To)
	}
}
