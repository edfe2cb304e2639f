package dialer

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestCallTableExhaustive checks every call state × event against the
// lifecycle in DESIGN.md §3, written out independently here.
func TestCallTableExhaustive(t *testing.T) {
	t.Parallel()
	type key struct {
		s  CallState
		ev callEvent
	}
	type want struct {
		to CallState
		o  Outcome
	}
	legal := map[key]want{
		{CallQueued, ceDial}:                 {CallDialing, OutcomeNone},
		{CallQueued, ceFailed}:               {CallEnded, OutcomeFailed},
		{CallDialing, ceRinging}:             {CallRinging, OutcomeNone},
		{CallAnsweredHuman, ceConnect}:       {CallConnected, OutcomeNone},
		{CallAnsweredHuman, ceDeadline}:      {CallEnded, OutcomeAbandoned},
		{CallAnsweredHuman, ceHangup}:        {CallEnded, OutcomeAbandoned},
		{CallAnsweredMachine, ceDropMachine}: {CallEnded, OutcomeMachine},
		{CallAnsweredMachine, ceHangup}:      {CallEnded, OutcomeMachine},
		{CallConnected, ceHold}:              {CallHeld, OutcomeNone},
		{CallHeld, ceResume}:                 {CallConnected, OutcomeNone},
		{CallConnected, ceHangup}:            {CallEnded, OutcomeCompleted},
		{CallHeld, ceHangup}:                 {CallEnded, OutcomeCompleted},
	}
	for _, s := range []CallState{CallDialing, CallRinging} {
		legal[key{s, ceAnswerHuman}] = want{CallAnsweredHuman, OutcomeNone}
		legal[key{s, ceAnswerMachine}] = want{CallAnsweredMachine, OutcomeNone}
		legal[key{s, ceBusy}] = want{CallEnded, OutcomeBusy}
		legal[key{s, ceFailed}] = want{CallEnded, OutcomeFailed}
		legal[key{s, ceNoAnswer}] = want{CallEnded, OutcomeNoAnswer}
		legal[key{s, ceHangup}] = want{CallEnded, OutcomeFailed}
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for s := CallState(0); s < numCallStates; s++ {
		for ev := callEvent(0); ev < numCallEvents; ev++ {
			c := &Call{ID: 1, State: s}
			err := c.apply(ev, now)
			w, ok := legal[key{s, ev}]
			if !ok {
				require.Error(t, err, "%s/%s", s, ev)
				require.ErrorContains(t, err, s.String())
				require.ErrorContains(t, err, ev.String())
				require.Equal(t, s, c.State)
				continue
			}
			require.NoError(t, err, "%s/%s", s, ev)
			require.Equal(t, w.to, c.State, "%s/%s", s, ev)
			require.Equal(t, w.o, c.Outcome, "%s/%s", s, ev)
			require.Equal(t, now, c.Stamps[w.to], "every transition is timestamped")
		}
	}
}
