package reports

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/campaigns"
)

func collect(t *testing.T, s *seeded, name string, p Params) ([]Column, [][]any) {
	t.Helper()
	r, err := Find(name)
	require.NoError(t, err)
	var cols []Column
	var rows [][]any
	require.NoError(t, r.Run(context.Background(), s.pool, p, func(c []Column) error { cols = c; return nil },
		func(row []any) error { rows = append(rows, row); return nil }))
	for _, row := range rows {
		require.Len(t, row, len(cols))
	}
	return cols, rows
}

func TestCallDetailRecordsCoverLocalDaysAcrossDaylightSaving(t *testing.T) {
	t.Parallel()
	s := seed(t)
	cols, rows := collect(t, s, "calls", s.params(t, ""))
	require.Equal(t, "call_id", cols[0].Key)
	// 23:30 Saturday EST (Sunday in UTC) is in; 23:59 Friday EST and 00:10
	// Monday EDT (inside a 24-hour Sunday) are out.
	want := [][]any{
		{s.c1, "2026-03-07T10:00:00.000-05:00", s.alpha, "Alpha", s.spring, "Spring", s.l1, "Ada Lovelace",
			"+12125550101", "outbound", s.ann, "ann", "completed", "human", "no", "SALE", "Sale made", "sale", "no",
			5.0, 59.5, 5.0, 10.0, "2026-03-07T10:01:06.000-05:00", int64(200), nil, nil, nil, "", "none"},
		{s.c2, "2026-03-07T23:30:00.000-05:00", s.alpha, "Alpha", s.spring, "Spring", s.l2, "Alan Turing",
			"+12125550102", "outbound", nil, nil, "no_answer", nil, "no", "NA", "No answer", "no-contact", "no",
			25.0, nil, nil, nil, "2026-03-07T23:30:27.000-05:00", int64(487), nil, nil, nil, "", "none"},
		{s.c6, "2026-03-08T08:00:00.000-04:00", s.bravo, "Bravo", s.cold, "Cold", s.l5, `=HYPERLINK("http://x") Evil`,
			"+442079460001", "outbound", nil, nil, "machine", "machine", "no", "AA", "Answering machine", "machine", "no",
			5.0, nil, nil, nil, "2026-03-08T08:00:10.000-04:00", nil, nil, nil, nil, "", "none"},
		{s.c7, "2026-03-08T09:00:00.000-04:00", s.bravo, "Bravo", s.cold, "Cold", s.l6, "Bea",
			"+442079460002", "outbound", s.bob, "bob", "completed", "human", "no", "NI", "Not interested",
			"not-interested", "no", 7.0, 51.8, 0.0, 10.0, "2026-03-08T09:01:01.000-04:00", nil, nil, nil, nil, "", "none"},
		{s.c3, "2026-03-08T23:30:00.000-04:00", s.alpha, "Alpha", s.spring, "Spring", s.l3, "Grace Hopper",
			"+12125550103", "outbound", nil, nil, "abandoned", "human", "yes", "DROP", "Dropped by dialer", "no-contact",
			"no", 3.0, nil, nil, nil, "2026-03-08T23:30:07.000-04:00", nil, nil, nil, nil, "", "none"},
	}
	require.Equal(t, want, rows)

	_, rows = collect(t, s, "calls", s.params(t, itoa(s.bravo)))
	require.Len(t, rows, 2, "one campaign's calls only")
	require.Equal(t, s.c6, rows[0][0])
	require.Equal(t, s.c7, rows[1][0])
}

func TestAgentTimeSplitsAtLocalMidnightAndAddsUp(t *testing.T) {
	t.Parallel()
	s := seed(t)
	cols, rows := collect(t, s, "agent-time", s.params(t, ""))
	keys := make([]string, len(cols))
	for i, c := range cols {
		keys[i] = c.Key
	}
	require.Equal(t, []string{"day", "agent_id", "agent", "campaign_id", "campaign", "login_s", "wait_s", "ring_s",
		"talk_s", "hold_s", "dispo_s", "pause_s", "pause_break_s", "pause_login_s"}, keys)
	// ann: 23:00-00:40 EST/EDT split at midnight (05:00 UTC); bob's open
	// session counts until now, 13:05 UTC.
	want := [][]any{
		{"2026-03-07", s.ann, "ann", s.alpha, "Alpha", 3600.0, 570.0, 0.0, 540.0, 60.0, 60.0, 2370.0, 2340.0, 30.0},
		{"2026-03-08", s.ann, "ann", s.alpha, "Alpha", 2400.0, 600.0, 0.0, 0.0, 0.0, 0.0, 1800.0, 1800.0, 0.0},
		{"2026-03-08", s.bob, "bob", s.bravo, "Bravo", 300.0, 35.0, 5.0, 250.0, 0.0, 0.0, 10.0, 0.0, 10.0},
	}
	require.Equal(t, want, rows)
	for _, r := range rows {
		sum := 0.0
		for _, v := range r[6:12] {
			sum += v.(float64)
		}
		require.InDelta(t, r[5].(float64), sum, 1e-9, "login = wait + ring + talk + hold + dispo + pause")
		require.InDelta(t, r[11].(float64), r[12].(float64)+r[13].(float64), 1e-9, "pause = sum by code")
	}
}

func TestDispositionsByCampaignAndAgentWithLabels(t *testing.T) {
	t.Parallel()
	s := seed(t)
	_, rows := collect(t, s, "dispositions", s.params(t, ""))
	want := [][]any{
		{s.alpha, "Alpha", nil, nil, "DROP", "Dropped by dialer", "no-contact", "no", int64(1), 0.3333},
		{s.alpha, "Alpha", nil, nil, "NA", "No answer", "no-contact", "no", int64(1), 0.3333},
		{s.alpha, "Alpha", s.ann, "ann", "SALE", "Sale made", "sale", "yes", int64(1), 0.3333},
		{s.bravo, "Bravo", nil, nil, "AA", "Answering machine", "machine", "no", int64(1), 0.5},
		{s.bravo, "Bravo", s.bob, "bob", "NI", "Not interested", "not-interested", "yes", int64(1), 0.5},
	}
	require.Equal(t, want, rows)
}

func TestAbandonRateUsesTheBudgetsDefinitionPerLegalWindow(t *testing.T) {
	t.Parallel()
	s := seed(t)
	_, rows := collect(t, s, "abandon", s.params(t, ""))
	want := [][]any{
		// US: 30 days rolling. Saturday: c1 live; the window adds February's
		// two live calls (one abandoned) and Friday night's abandon, not
		// the one of 5 February.
		{"2026-03-07", s.alpha, "Alpha", "us", 0.03, int64(1), int64(0), int64(0), 0.0, "30 days",
			"2026-02-06T00:00:00.000-05:00", "2026-03-08T00:00:00.000-05:00", int64(4), int64(2), int64(0), 0.5, "no"},
		{"2026-03-08", s.alpha, "Alpha", "us", 0.03, int64(1), int64(1), int64(0), 1.0, "30 days",
			"2026-02-06T23:00:00.000-05:00", "2026-03-09T00:00:00.000-04:00", int64(5), int64(3), int64(0), 0.6, "no"},
		// UK: 24 hours, 10% of machine answers counted as abandoned people:
		// (0 + 0.1) / (1 + 0.1).
		{"2026-03-07", s.bravo, "Bravo", "uk", 0.03, int64(0), int64(0), int64(0), 0.0, "24 hours",
			"2026-03-07T00:00:00.000-05:00", "2026-03-08T00:00:00.000-05:00", int64(0), int64(0), int64(0), 0.0, "yes"},
		{"2026-03-08", s.bravo, "Bravo", "uk", 0.03, int64(1), int64(0), int64(1), 0.0909, "24 hours",
			"2026-03-07T23:00:00.000-05:00", "2026-03-09T00:00:00.000-04:00", int64(1), int64(0), int64(1), 0.0909, "no"},
	}
	require.Equal(t, want, rows)
}

func TestListPenetration(t *testing.T) {
	t.Parallel()
	s := seed(t)
	_, rows := collect(t, s, "penetration", s.params(t, ""))
	want := [][]any{
		{s.alpha, "Alpha", s.spring, "Spring", "ready", int64(4), int64(3), 0.75, int64(2), 0.5, int64(3), 0.75,
			int64(1), 0.25},
		{s.bravo, "Bravo", s.cold, "Cold", "ready", int64(2), int64(2), 1.0, int64(1), 0.5, int64(2), 1.0,
			int64(0), 0.0},
	}
	require.Equal(t, want, rows)
	_, rows = collect(t, s, "penetration", s.params(t, itoa(s.alpha)))
	require.Len(t, rows, 1)
}

// The CSV and the JSON of every report carry the same cells; the CSV's text
// cells are made safe for spreadsheets.
func TestCSVAndJSONAgree(t *testing.T) {
	t.Parallel()
	s := seed(t)
	ctx := context.Background()
	for _, r := range All {
		t.Run(r.Name, func(t *testing.T) {
			p := s.params(t, "")
			var c, j bytes.Buffer
			require.NoError(t, r.WriteCSV(ctx, s.pool, p, &c))
			require.NoError(t, r.WriteJSON(ctx, s.pool, p, &j))
			records, err := csv.NewReader(&c).ReadAll()
			require.NoError(t, err)
			var doc struct {
				Report  string           `json:"report"`
				TZ      string           `json:"tz"`
				Columns []Column         `json:"columns"`
				Rows    []map[string]any `json:"rows"`
			}
			dec := json.NewDecoder(&j)
			dec.UseNumber()
			require.NoError(t, dec.Decode(&doc))
			require.Equal(t, r.Name, doc.Report)
			require.Equal(t, "America/New_York", doc.TZ)
			require.NotEmpty(t, doc.Rows)
			require.Len(t, records, len(doc.Rows)+1)
			for i, col := range doc.Columns {
				require.Equal(t, col.Key, records[0][i])
			}
			for n, obj := range doc.Rows {
				require.Len(t, obj, len(doc.Columns))
				for i, col := range doc.Columns {
					var want string
					switch v := obj[col.Key].(type) {
					case nil:
					case string:
						want = campaigns.CSVSafe(v)
					case json.Number:
						want = v.String()
					default:
						t.Fatalf("row %d %s: %T", n, col.Key, v)
					}
					require.Equal(t, want, records[n+1][i], "row %d column %s", n, col.Key)
				}
			}
		})
	}
	var c bytes.Buffer
	require.NoError(t, cdrReport.WriteCSV(ctx, s.pool, s.params(t, ""), &c))
	require.Contains(t, c.String(), `"'=HYPERLINK(""http://x"") Evil"`, "a formula in a lead's name is text")
}

func TestBadParamsAreRefusedWithAReason(t *testing.T) {
	t.Parallel()
	now := utc("2026-03-08T13:05:00Z")
	for _, c := range []struct{ from, to, tz, campaign, says string }{
		{"", "2026-03-08", "", "", "from and to are required"},
		{"2026-03-07", "", "", "", "from and to are required"},
		{"07/03/2026", "2026-03-08", "", "", `from "07/03/2026" is not a date`},
		{"2026-03-07", "2026-02-30", "", "", `to "2026-02-30" is not a date`},
		{"2026-03-08", "2026-03-07", "", "", "to (2026-03-07) is before from (2026-03-08)"},
		{"2026-01-01", "2026-04-04", "", "", "longer than 93 days"},
		{"2026-03-07", "2026-03-08", "Mars/Olympus", "", `tz "Mars/Olympus" is not a time zone`},
		{"2026-03-07", "2026-03-08", "Local", "", `tz "Local" is not a time zone`},
		{"2026-03-07", "2026-03-08", "", "x", `campaign "x" is not a campaign id`},
		{"2026-03-07", "2026-03-08", "", "-2", `campaign "-2" is not a campaign id`},
	} {
		_, err := ParseParams(c.from, c.to, c.tz, c.campaign, time.UTC, now)
		require.ErrorIs(t, err, ErrInvalid, c)
		require.Contains(t, err.Error(), c.says)
	}
	p, err := ParseParams("2026-01-01", "2026-04-04", "", "", time.UTC, now)
	require.Error(t, err, "94 days")
	p, err = ParseParams("2026-01-01", "2026-04-03", "", "all", time.UTC, now)
	require.NoError(t, err, "93 days")
	require.Equal(t, int64(0), p.Campaign)
	require.Equal(t, utc("2026-04-04T00:00:00Z"), p.End())
	_, err = Find("nope")
	require.ErrorIs(t, err, ErrInvalid)
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

func TestLimitKeepsTheFirstRows(t *testing.T) {
	t.Parallel()
	s := seed(t)
	for _, name := range []string{"calls", "dispositions"} {
		p := s.params(t, "")
		p.Limit = 2
		_, rows := collect(t, s, name, p)
		require.Len(t, rows, 2, name)
	}
	p := s.params(t, "")
	p.Limit = 1
	_, rows := collect(t, s, "calls", p)
	require.Equal(t, s.c1, rows[0][0])
}
