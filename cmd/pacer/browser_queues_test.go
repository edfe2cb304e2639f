package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/inbound"
)

// Inbound queues in the browser on `pacer serve --sim-agents 5
// --sim-inbound-per-hour 1800` (web/e2e/queues_wallboard.mjs): a manager
// opens Queues from the console, is refused a ring time of 5 s beside the
// field, adds the queue Billing with 45 s, a number and two members; the
// supervisor's wallboard then shows the demo queue Support's offered and
// answered figures moving as simulated callers ring and simulated agents
// answer, with a service level and ASA, "—" for Billing's (no calls), and
// the demo campaign's blending reserve. Screenshots: queues-ring-time-error,
// queues-manager, wallboard-queues-tv (1920×1080) and wallboard-queues-laptop
// (1366×768).
func TestBrowserQueuesWallboard(t *testing.T) {
	b := newBrowserRun(t)
	defer b.serve("--sim-agents", "5", "--sim-inbound-per-hour", "1800")()

	var out struct {
		RingTimeError string `json:"ring_time_error"`
		OfferedFirst  int    `json:"offered_first"`
		OfferedLater  int    `json:"offered_later"`
		SLAnswered    string `json:"sl_answered"`
	}
	b.script("queues_wallboard.mjs", &out, "QUEUE=Billing", "NUMBER=+12025550177")
	require.Contains(t, out.RingTimeError, "15 to 180 seconds")
	require.Greater(t, out.OfferedLater, out.OfferedFirst)
	require.Regexp(t, `^\d+%$`, out.SLAnswered)

	// What the manager made in the page is stored as they said.
	q, err := inbound.NewQueueStore(b.db()).QueueByDID(context.Background(), "+12025550177")
	require.NoError(t, err)
	require.Equal(t, "Billing", q.Name)
	require.Equal(t, int64(45), int64(q.RingTime.Seconds()))
	members, err := inbound.NewQueueStore(b.db()).Members(context.Background(), q.ID)
	require.NoError(t, err)
	require.Len(t, members, 2)
	require.Equal(t, []int{1, 2}, []int{members[0].Level, members[1].Level})
	b.requireShots("queues-ring-time-error", "queues-manager", "wallboard-queues-tv", "wallboard-queues-laptop")
}
