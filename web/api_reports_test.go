package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/internal/testwait"
)

// Over HTTP, every report answers the same cells as JSON and as CSV (the
// call detail records streamed past the pipe's buffer), and bad parameters
// are refused with the reason.
func TestReportsAPIServesCSVAndJSONAlikeAndRefusesBadRanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	s := startServer(t, db, "reports")
	sup := loginAPI(t, s, db, "sue", RoleSupervisor)
	agent := loginAPI(t, s, db, "al", RoleAgent)
	camp, err := campaigns.Create(ctx, db, "Reported", nil)
	require.NoError(t, err)
	var list int64
	require.NoError(t, db.QueryRow(ctx, `INSERT INTO lead_lists (campaign_id, name, format, status, finished_at)
		VALUES ($1, '@list', 'csv', 'ready', now()) RETURNING id`, camp.ID).Scan(&list))
	_, err = db.Exec(ctx, `INSERT INTO tz_groups (zones) VALUES ('{UTC}') ON CONFLICT DO NOTHING`)
	require.NoError(t, err)
	_, err = db.Exec(ctx, `INSERT INTO leads (campaign_id, list_id, phone, first_name, tz_group)
		SELECT $1, $2, '+1212555' || lpad(i::text, 4, '0'), CASE WHEN i = 1 THEN '=cmd()' ELSE 'L' || i END,
			(SELECT min(id) FROM tz_groups)
		FROM generate_series(1, 3000) i`, camp.ID, list)
	require.NoError(t, err)
	// Two calls per lead on 2 June 2026 UTC: 6,000 rows, more than a pipe
	// buffer and the 1,000-row flush.
	_, err = db.Exec(ctx, `INSERT INTO calls (run_id, seq, campaign_id, lead_id, phone, node, state, outcome, answered_by,
		abandoned, disposition, queued_at, dialed_at, answered_at, ended_at, dispositioned_at)
		SELECT gen_random_uuid(), 1, campaign_id, id, phone, 'n', 'ended',
			CASE WHEN k = 1 THEN 'no_answer' ELSE 'abandoned' END, CASE WHEN k = 2 THEN 'human' END, k = 2,
			CASE WHEN k = 1 THEN 'NA' ELSE 'DROP' END, t, t, CASE WHEN k = 2 THEN t + interval '2 s' END,
			t + interval '5 s', t + interval '5 s'
		FROM leads, generate_series(1, 2) k,
			LATERAL (SELECT '2026-06-02 08:00:00+00'::timestamptz + (id % 3000) * interval '1 s' + k * interval '1 h') x(t)
		WHERE campaign_id = $1`, camp.ID)
	require.NoError(t, err)

	get := func(c *apiClient, path string) (int, string) { return c.do("GET", path, nil) }
	q := fmt.Sprintf("from=2026-06-01&to=2026-06-03&tz=UTC&campaign=%d", camp.ID)
	for _, r := range []string{"calls", "agent-time", "dispositions", "abandon", "penetration"} {
		status, jbody := get(sup, "/api/v1/reports/"+r+"?"+q)
		require.Equal(t, http.StatusOK, status, jbody)
		status, cbody := get(sup, "/api/v1/reports/"+r+"?format=csv&"+q)
		require.Equal(t, http.StatusOK, status, cbody)
		var doc struct {
			Columns []struct{ Key string } `json:"columns"`
			Rows    []map[string]any       `json:"rows"`
		}
		dec := json.NewDecoder(strings.NewReader(jbody))
		dec.UseNumber()
		require.NoError(t, dec.Decode(&doc), r)
		records, err := csv.NewReader(strings.NewReader(cbody)).ReadAll()
		require.NoError(t, err, r)
		require.Len(t, records, len(doc.Rows)+1, r)
		for n, obj := range doc.Rows {
			for i, col := range doc.Columns {
				var want string
				switch v := obj[col.Key].(type) {
				case string:
					want = campaigns.CSVSafe(v)
				case json.Number:
					want = v.String()
				}
				require.Equal(t, want, records[n+1][i], "%s row %d %s", r, n, col.Key)
			}
		}
		switch r {
		case "calls":
			require.Len(t, doc.Rows, 6000)
			require.True(t, strings.Contains(cbody, ",'=cmd(),"), "a formula in a lead's name is text in the CSV")
			require.True(t, strings.Contains(cbody, ",'@list,"), "and in a list's name")
		case "dispositions":
			require.Len(t, doc.Rows, 2)
		case "penetration":
			require.Len(t, doc.Rows, 1)
			require.Equal(t, json.Number("3000"), doc.Rows[0]["contacted"])
			require.Equal(t, json.Number("2"), doc.Rows[0]["attempts_per_lead"])
		}
	}

	// The download names itself; the page's table asks for a screenful.
	req, err := http.NewRequest("GET", sup.base+"/api/v1/reports/calls?format=csv&"+q, nil)
	require.NoError(t, err)
	req.Header.Set("Cookie", sup.cookie)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, "text/csv; charset=utf-8", resp.Header.Get("Content-Type"))
	require.Equal(t, `attachment; filename="pacer-calls-2026-06-01-2026-06-03.csv"`, resp.Header.Get("Content-Disposition"))
	status, body := get(sup, "/api/v1/reports/calls?limit=10&"+q)
	require.Equal(t, http.StatusOK, status, body)
	require.Equal(t, 10, strings.Count(body, `"call_id":`))

	status, body = get(sup, "/api/v1/reports")
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `"name":"abandon"`)

	for _, c := range []struct {
		path   string
		status int
		says   string
	}{
		{"/api/v1/reports/calls?from=2026-06-03&to=2026-06-01", 400, "to (2026-06-01) is before from (2026-06-03)"},
		{"/api/v1/reports/calls?from=2026-01-01&to=2026-06-01", 400, "longer than 93 days"},
		{"/api/v1/reports/calls?from=2026-06-01", 400, "from and to are required"},
		{"/api/v1/reports/calls?from=June&to=2026-06-01", 400, `from \"June\" is not a date as YYYY-MM-DD`},
		{"/api/v1/reports/calls?from=2026-06-01&to=2026-06-01&tz=Nowhere/Land", 400, "is not a time zone name"},
		{"/api/v1/reports/calls?from=2026-06-01&to=2026-06-01&campaign=abc", 400, `campaign \"abc\" is not a campaign id`},
		{"/api/v1/reports/calls?from=2026-06-01&to=2026-06-01&format=xlsx", 400, `format \"xlsx\": use csv or json`},
		{"/api/v1/reports/calls?from=2026-06-01&to=2026-06-01&limit=0", 400, "limit \\\"0\\\": a number of rows"},
		{"/api/v1/reports/calls?from=2026-06-01&to=2026-06-01&campaign=999999", 404, "not found"},
		{"/api/v1/reports/sales?from=2026-06-01&to=2026-06-01", 404, `no report called \"sales\"`},
	} {
		status, body := get(sup, c.path)
		require.Equal(t, c.status, status, "%s: %s", c.path, body)
		require.Contains(t, body, c.says, c.path)
	}
	status, body = get(agent, "/api/v1/reports/calls?"+q)
	require.Equal(t, http.StatusForbidden, status, body)
}

// A client that stops reading a long report (100,000 calls, more than every
// buffer between the database and the client) frees its database
// connection, and the server still stops.
func TestReportDownloadLeftHalfWayFreesTheDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	s := startServer(t, db, "reports-cut")
	sup := loginAPI(t, s, db, "sue", RoleSupervisor)
	camp, err := campaigns.Create(ctx, db, "Long day", nil)
	require.NoError(t, err)
	_, err = db.Exec(ctx, `INSERT INTO calls (run_id, seq, campaign_id, phone, node, state, outcome, queued_at, dialed_at,
		ended_at, notes)
		SELECT '00000000-0000-0000-0000-000000000002', i, $1, '+12125550000', 'n', 'ended', 'no_answer', t, t,
			t + interval '20 s', repeat('x', 200)
		FROM generate_series(1, 100000) i,
			LATERAL (SELECT '2026-06-02 00:00:00+00'::timestamptz + i * interval '800 ms') x(t)`, camp.ID)
	require.NoError(t, err)

	// The live-event bridge holds a connection of its own all along.
	idle := db.Stat().AcquiredConns()
	req, err := http.NewRequest("GET", sup.base+"/api/v1/reports/calls?format=csv&tz=UTC&from=2026-06-02&to=2026-06-02", nil)
	require.NoError(t, err)
	req.Header.Set("Cookie", sup.cookie)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	head := make([]byte, 4096)
	_, err = io.ReadFull(resp.Body, head)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(head), "call_id,time,"))
	resp.Body.Close()
	http.DefaultClient.CloseIdleConnections()

	testwait.Until(t, func() bool { return db.Stat().AcquiredConns() <= idle },
		"the report's connection goes back to the pool when its client has gone")
}
