package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The supervisor's wallboard with real clicks on `pacer serve
// --sim-agents 3` (web/e2e/wallboard.mjs): the overview lists the running
// campaigns with their alerts (a five-lead campaign's hopper is low), a
// click opens one campaign, agent1 (logged in from a second browser) is
// force-paused through the confirm dialog and shows PAUSED on the board and
// in the audit, the sim agents' rows show calls, talk and state, and the
// chart's range switch changes its time axis. Screenshots:
// supervise-overview.png and supervise.png.
func TestBrowserWallboard(t *testing.T) {
	b := newBrowserRun(t)
	defer b.serve("--sim-agents", "3")()

	db := b.db()
	var csv strings.Builder
	csv.WriteString("phone,first_name\n")
	for _, n := range []string{"3001", "3002", "3003", "3004", "3005"} {
		csv.WriteString("+1202555" + n + ",Lead" + n + "\n")
	}
	activeCampaign(t, db, "Floor", "manual", csv.String())

	stdout := b.script("wallboard.mjs", nil)
	require.Contains(t, stdout, `"floor_url":"?campaign=`)
	b.requireShots("supervise-overview", "supervise")
}
