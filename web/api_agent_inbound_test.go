package web

import (
	"errors"
	"fmt"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/stretchr/testify/require"
)

// An accept that races the caller's hang-up is a 409 that says so, also
// when the campaign runs on another node (the error crosses the wire as
// its kind); the new agent actions cross it by name.
func TestCallerGoneIsAConflictThatSaysTheCallerHungUp(t *testing.T) {
	t.Parallel()
	gone := fmt.Errorf("%w: agent 3 accepted leg 9", ErrCallerGone)
	for _, err := range []error{gone, encodeError(gone).decode("10.0.0.2:8080")} {
		var fe *fiber.Error
		require.True(t, errors.As(engineError(err), &fe))
		require.Equal(t, fiber.StatusConflict, fe.Code)
		require.Contains(t, fe.Message, "The caller hung up")
	}
	for _, a := range []AgentAction{ActAccept, ActReject, ActDND, ActDNDOff} {
		b, err := a.MarshalText()
		require.NoError(t, err)
		var back AgentAction
		require.NoError(t, back.UnmarshalText(b))
		require.Equal(t, a, back)
	}
}
