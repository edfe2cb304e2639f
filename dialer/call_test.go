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
		// A call an agent talked on waits in wrap-up for its disposition.
		{CallConnected, ceHangup}: {CallWrapUp, OutcomeCompleted},
		{CallHeld, ceHangup}:      {CallWrapUp, OutcomeCompleted},
		{CallWrapUp, ceSettle}:    {CallEnded, OutcomeCompleted},
		// The agent's controls: DTMF only where the customer hears it, a
		// blind transfer from talk or hold, a conference only from talk,
		// and Leave only out of a conference.
		{CallConnected, ceDTMF}:      {CallConnected, OutcomeNone},
		{CallConference, ceDTMF}:     {CallConference, OutcomeNone},
		{CallConnected, ceTransfer}:  {CallWrapUp, OutcomeCompleted},
		{CallHeld, ceTransfer}:       {CallWrapUp, OutcomeCompleted},
		{CallConnected, ceAddParty}:  {CallConference, OutcomeNone},
		{CallConference, ceLeave}:    {CallWrapUp, OutcomeCompleted},
		{CallConference, ceHangup}:   {CallWrapUp, OutcomeCompleted},
		{CallConference, ceTakeOver}: {CallConnected, OutcomeNone},
		{CallQueued, ceInbound}:      {CallConnected, OutcomeNone},
	}
	for _, s := range []CallState{CallConnected, CallHeld, CallConference} {
		legal[key{s, ceMute}] = want{s, OutcomeNone}
		legal[key{s, ceUnmute}] = want{s, OutcomeNone}
	}
	for _, s := range []CallState{CallDialing, CallRinging} {
		legal[key{s, ceAnswerHuman}] = want{CallAnsweredHuman, OutcomeNone}
		legal[key{s, ceAnswerMachine}] = want{CallAnsweredMachine, OutcomeNone}
		legal[key{s, ceBusy}] = want{CallEnded, OutcomeBusy}
		legal[key{s, ceFailed}] = want{CallEnded, OutcomeFailed}
		legal[key{s, ceNoAnswer}] = want{CallEnded, OutcomeNoAnswer}
		legal[key{s, ceHangup}] = want{CallEnded, OutcomeFailed}
		legal[key{s, ceInvalid}] = want{CallEnded, OutcomeInvalid}
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for s := CallState(0); s < numCallStates; s++ {
		for ev := callEvent(0); ev < numCallEvents; ev++ {
			c := &Call{ID: 1, State: s, Muted: ev == ceUnmute} // mute's flag allows the event
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

// TestMuteFlagRefusals: mute and unmute are legal in every bridged state,
// but not twice in a row; the refusal names the call's state and the event.
func TestMuteFlagRefusals(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, s := range []CallState{CallConnected, CallHeld, CallConference} {
		c := &Call{ID: 7, State: s}
		err := c.apply(ceUnmute, now)
		require.ErrorContains(t, err, "event unmute not allowed in state "+s.String()+": not muted")
		require.NoError(t, c.apply(ceMute, now))
		require.True(t, c.Muted)
		require.Equal(t, s, c.State)
		err = c.apply(ceMute, now)
		var cte *CallTransitionError
		require.ErrorAs(t, err, &cte)
		require.Equal(t, "already muted", cte.Reason)
		require.NoError(t, c.apply(ceUnmute, now))
		require.False(t, c.Muted)
	}
}
