package campaigns

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCallbackTableExhaustive checks every status × every event against the
// callback life written out independently here.
func TestCallbackTableExhaustive(t *testing.T) {
	t.Parallel()
	type key struct {
		s CallbackStatus
		e CallbackEvent
	}
	legal := map[key]CallbackStatus{
		{noStatus, CbSchedule}: CallbackScheduled,

		{CallbackScheduled, CbReschedule}: CallbackScheduled,
		{CallbackScheduled, CbFallDue}:    CallbackDue,
		{CallbackScheduled, CbCancel}:     CallbackCancelled,
		{CallbackScheduled, CbComplete}:   CallbackCompleted,
		{CallbackScheduled, CbOffer}:      CallbackOffered,

		{CallbackDue, CbReschedule}: CallbackScheduled,
		{CallbackDue, CbOffer}:      CallbackOffered,
		{CallbackDue, CbDial}:       CallbackDialled,
		{CallbackDue, CbComplete}:   CallbackCompleted,
		{CallbackDue, CbExpire}:     CallbackMissed,
		{CallbackDue, CbWiden}:      CallbackDue,
		{CallbackDue, CbCancel}:     CallbackCancelled,
		{CallbackDue, CbRetry}:      CallbackScheduled,
		{CallbackDue, CbGiveUp}:     CallbackMissed,

		{CallbackOffered, CbDecline}:  CallbackDue,
		{CallbackOffered, CbDial}:     CallbackDialled,
		{CallbackOffered, CbComplete}: CallbackCompleted,
		{CallbackOffered, CbRecover}:  CallbackDue,
		{CallbackOffered, CbRetry}:    CallbackScheduled,
		{CallbackOffered, CbGiveUp}:   CallbackMissed,

		{CallbackDialled, CbComplete}: CallbackCompleted,
		{CallbackDialled, CbRecover}:  CallbackDue,
		{CallbackDialled, CbRetry}:    CallbackScheduled,
		{CallbackDialled, CbGiveUp}:   CallbackMissed,

		{CallbackMissed, CbReschedule}: CallbackScheduled,
		{CallbackMissed, CbCancel}:     CallbackCancelled,
		{CallbackMissed, CbComplete}:   CallbackCompleted,
		{CallbackMissed, CbOffer}:      CallbackOffered,
	}
	for _, s := range append([]CallbackStatus{noStatus}, CallbackStatuses()...) {
		for _, e := range CallbackEvents() {
			to, err := callbackTransition(9, s, e)
			want, ok := legal[key{s, e}]
			if ok {
				require.NoError(t, err, "%s × %s", s, e)
				require.Equal(t, want, to, "%s × %s", s, e)
				continue
			}
			require.Error(t, err, "%s × %s must be illegal", s, e)
			require.True(t, errors.Is(err, ErrCallbackTransition))
			require.Equal(t, s, to)
			require.Contains(t, err.Error(), string(e))
			if s != noStatus {
				require.Contains(t, err.Error(), string(s))
			}
		}
	}
	for _, s := range CallbackStatuses() {
		require.Equal(t, s == CallbackScheduled || s == CallbackDue || s == CallbackOffered || s == CallbackDialled, s.Open())
	}
}
