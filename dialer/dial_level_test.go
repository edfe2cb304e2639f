package dialer_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/dialer"
)

// The dial level the wallboard, the metrics and the summary line show is
// VICIdial's: calls dialling or ringing per READY agent. Agents on a call,
// in wrap-up or paused do not count; with nobody READY it is 0, not
// infinity.
func TestDialLevelIsLinesPerReadyAgent(t *testing.T) {
	t.Parallel()
	st := dialer.LoopStatus{Lines: 5, Agents: []dialer.AgentStatus{
		{ID: 1, State: agents.Ready}, {ID: 2, State: agents.Ready}, {ID: 3, State: agents.InCall},
		{ID: 4, State: agents.Dispo}, {ID: 5, State: agents.Paused}, {ID: 6, State: agents.LoggedOut},
	}}
	require.Equal(t, 2.5, st.DialLevel())
	st.Agents = st.Agents[2:]
	require.Equal(t, 0.0, st.DialLevel())
}
