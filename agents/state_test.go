package agents

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// An agent's state reads, in JSON and everywhere it is text, as the name
// the workspace and the wallboard show ("READY"), and reads back the same.
func TestStateTextIsItsName(t *testing.T) {
	t.Parallel()
	for _, s := range States() {
		b, err := s.MarshalText()
		require.NoError(t, err)
		require.Equal(t, s.String(), string(b))
		var back State
		require.NoError(t, back.UnmarshalText(b))
		require.Equal(t, s, back)
	}
	require.Error(t, new(State).UnmarshalText([]byte("ready")), "names are upper case")
	_, err := numStates.MarshalText()
	require.Error(t, err)
}
