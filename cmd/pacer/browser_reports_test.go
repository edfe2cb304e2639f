package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/internal/testwait"
)

// The real binary on the simulated carrier with five simulated agents:
// once they have talked to and dispositioned some calls, a manager opens
// Reports from the navigation and is shown every report for the demo
// campaign, sees a backwards range refused with its reason, and downloads
// the call detail records as CSV (web/e2e/reports.mjs; its screenshot is
// reports.png). The demo setup's admin (admin / admin) logs in too.
func TestBrowserReports(t *testing.T) {
	b := newBrowserRun(t)
	defer b.serve("--sim-agents", "5")()

	db := b.db()
	const talked = 5
	testwait.Until(t, func() bool {
		var n int
		err := db.QueryRow(context.Background(),
			`SELECT count(*) FROM calls WHERE agent_id IS NOT NULL AND disposition IS NOT NULL`).Scan(&n)
		return err == nil && n >= talked
	}, "the simulated agents disposition %d calls", talked)

	body, _ := json.Marshal(map[string]string{"username": "admin", "password": "admin"})
	resp, err := http.Post(b.base+"/api/v1/login", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "the demo admin logs in with admin / admin")

	var out struct {
		Shown   map[string]int `json:"shown"`
		Refused string         `json:"refused"`
		Name    string         `json:"csv_name"`
		Header  string         `json:"csv_header"`
		Rows    int            `json:"csv_rows"`
	}
	b.script("reports.mjs", &out)
	for _, r := range []string{"calls", "agent-time", "dispositions", "abandon", "penetration"} {
		require.Positive(t, out.Shown[r], "%s shows rows", r)
	}
	require.Contains(t, out.Refused, "is before from")
	require.Regexp(t, `^pacer-calls-\d{4}-\d\d-\d\d-\d{4}-\d\d-\d\d\.csv$`, out.Name)
	require.True(t, strings.HasPrefix(out.Header, "call_id,time,campaign_id,campaign,list_id,list,lead_id,"), out.Header)
	require.GreaterOrEqual(t, out.Rows, talked, "the CSV has every call so far")
	b.requireShots("reports")
}
