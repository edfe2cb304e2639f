package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
)

// A waiting caller crosses the cluster's wire whole: its call id (an
// inbound leg, above 2^62, more than a JSON number in a browser holds) as
// a string, and a take refused on the campaign's node keeps its reason
// (not READY, no longer waiting) on the node the agent asked.
func TestWaitingCallersCrossTheWire(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	w := []WaitingCaller{{Call: 1<<62 + 5, Queue: 3, QueueName: "Support", AllowTake: true, From: "+12025550177",
		DID: "+12025550100", Entered: at, Ringing: []agents.ID{42}, Leads: []CallerLead{{Lead: 9, Campaign: 7, Name: "Ada Lovelace"}}}}
	b, err := json.Marshal(w)
	require.NoError(t, err)
	require.Contains(t, string(b), `"call_id":"4611686018427387909"`)
	var back []WaitingCaller
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, w, back)

	for _, sentinel := range []error{ErrNotReady, ErrNotWaiting} {
		remote := encodeError(fmt.Errorf("%w: agent 42", sentinel))
		require.ErrorIs(t, remote.decode("10.0.0.2:8080"), sentinel)
		require.False(t, errors.Is(remote.decode("10.0.0.2:8080"), ErrConflict))
	}
}
