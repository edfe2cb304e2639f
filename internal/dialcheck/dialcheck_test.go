package dialcheck_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/internal/dialcheck"
	"github.com/pacer-dialer/pacer/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// The window check sees every zone and state a lead may be in: a Miami
// number with a Seattle address, under a campaign whose hours are 08:00-21:00
// and 08:00-20:00 in Florida.
func TestWindowCheckHoldsInEveryZoneAndState(t *testing.T) {
	ctx := context.Background()
	db := testdb.NewPool(t)
	c, err := campaigns.Create(ctx, db, "window check", map[string]string{"state_windows": "FL=08:00-20:00"})
	require.NoError(t, err)
	_, err = campaigns.Import(ctx, db, strings.NewReader("phone,state,postal_code\n3055550143,WA,98101\n"),
		campaigns.ImportOptions{Campaign: c.ID, Name: "one.csv"})
	require.NoError(t, err)
	var lead int64
	require.NoError(t, db.QueryRow(ctx, `SELECT id FROM leads WHERE campaign_id = $1`, c.ID).Scan(&lead))

	call := func(at string) int64 {
		ts, err := time.Parse(time.RFC3339, at)
		require.NoError(t, err)
		var id int64
		require.NoError(t, db.QueryRow(ctx, `INSERT INTO calls (run_id, seq, campaign_id, lead_id, phone, node, state, outcome,
			queued_at, dialed_at, ended_at) VALUES (gen_random_uuid(), 1, $1, $2, '+13055550143', 'n', 'ended', 'no_answer',
			$3::timestamptz, $3::timestamptz, $3::timestamptz + interval '10 seconds') RETURNING id`, c.ID, lead, ts).Scan(&id))
		return id
	}
	early := call("2026-06-01T14:00:00Z") // 10:00 in Miami, 07:00 in Seattle
	call("2026-06-01T18:00:00Z")          // 14:00 in Miami, 11:00 in Seattle
	late := call("2026-06-02T00:30:00Z")  // 20:30 in Miami (Florida closes at 20:00), 17:30 in Seattle

	v, err := dialcheck.Violations(ctx, db, true)
	require.NoError(t, err)
	var window []string
	for _, l := range v {
		if strings.HasPrefix(l, "called outside the calling window") {
			window = append(window, l)
		}
	}
	require.Len(t, window, 2, dialcheck.Report(v))
	require.Contains(t, window[0], fmt.Sprintf("call %d ", early))
	require.Contains(t, window[0], "07:00:00 local in America/Los_Angeles")
	require.Contains(t, window[1], fmt.Sprintf("call %d ", late))
	require.Contains(t, window[1], "20:30:00 local in America/New_York, outside 08:00:00-20:00:00")
}

// An inbound caller's call is no dial: with its lead attached it breaks no
// dialling promise, even at 03:00 the lead's time while the dialer rings
// the same lead.
func TestInboundCallsAreNoDials(t *testing.T) {
	ctx := context.Background()
	db := testdb.NewPool(t)
	c, err := campaigns.Create(ctx, db, "inbound check", nil)
	require.NoError(t, err)
	_, err = campaigns.Import(ctx, db, strings.NewReader("phone,state\n2125550143,NY\n"),
		campaigns.ImportOptions{Campaign: c.ID, Name: "one.csv"})
	require.NoError(t, err)
	var lead int64
	require.NoError(t, db.QueryRow(ctx, `SELECT id FROM leads WHERE campaign_id = $1`, c.ID).Scan(&lead))
	// 03:00 in New York: the caller rang in, talked and was dispositioned
	// NI; an outbound dial (14:00, inside the window) overlaps nothing.
	_, err = db.Exec(ctx, `INSERT INTO calls (run_id, seq, campaign_id, lead_id, phone, node, agent_id, state, outcome,
		answered_by, queued_at, dialed_at, answered_at, connected_at, ended_at, disposition, dispositioned_at, direction,
		queue_id, without_lead)
		VALUES (gen_random_uuid(), 1, $1, $2, '+12125550143', 'n', 7, 'ended', 'completed', 'human', '2026-06-01T07:00:00Z',
		'2026-06-01T07:00:00Z', '2026-06-01T07:00:00Z', '2026-06-01T07:00:05Z', '2026-06-01T18:30:00Z', 'NI',
		'2026-06-01T18:31:00Z', 'inbound', 1, true)`, c.ID, lead)
	require.NoError(t, err)
	_, err = db.Exec(ctx, `INSERT INTO calls (run_id, seq, campaign_id, lead_id, phone, node, state, outcome, queued_at,
		dialed_at, ended_at) VALUES (gen_random_uuid(), 1, $1, $2, '+12125550143', 'n', 'ended', 'busy',
		'2026-06-01T18:00:00Z', '2026-06-01T18:00:00Z', '2026-06-01T18:00:20Z')`, c.ID, lead)
	require.NoError(t, err)
	v, err := dialcheck.Violations(ctx, db, true)
	require.NoError(t, err)
	require.Empty(t, v, dialcheck.Report(v))
}
