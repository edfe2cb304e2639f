package dialcheck

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DB is what the checks read through: a pool or a connection.
type DB interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// check is one promise: a query returning a description of each row that
// breaks it.
type check struct {
	name string
	sql  string
}

var checks = []check{
	{"lead in two calls at once", `
SELECT format('lead %s: calls %s and %s overlap', x.lead_id, x.id, y.id)
FROM calls x JOIN calls y ON x.lead_id = y.lead_id AND x.id < y.id
WHERE x.transferred_from_seq IS NULL AND y.transferred_from_seq IS NULL
  AND x.direction = 'outbound' AND y.direction = 'outbound'
  AND tstzrange(x.dialed_at, coalesce(x.ended_at, 'infinity')) && tstzrange(y.dialed_at, coalesce(y.ended_at, 'infinity'))`},

	{"agent on two calls at once", `
SELECT format('agent %s: calls %s and %s overlap', x.agent_id, x.id, y.id)
FROM calls x JOIN calls y ON x.agent_id = y.agent_id AND x.id < y.id
WHERE x.connected_at IS NOT NULL AND y.connected_at IS NOT NULL
  AND tstzrange(x.connected_at, coalesce(x.ended_at, 'infinity')) && tstzrange(y.connected_at, coalesce(y.ended_at, 'infinity'))`},

	// The next dial of a lead waits for the retry delay of the last
	// attempt's outcome (the disposition's own recycle time first), counted
	// from when the attempt was settled; a final or DNC disposition ends
	// the lead. A callback the customer asked for is theirs to keep.
	{"lead dialled again too soon", `
WITH seq AS (
	SELECT c.id, c.lead_id, c.campaign_id, c.outcome, c.disposition, c.ended_at, c.dispositioned_at, c.end_cause,
		lead(c.dialed_at) OVER w AS next_dial, lead(c.id) OVER w AS next_id
	FROM calls c WHERE c.lead_id IS NOT NULL AND NOT c.without_lead AND c.direction = 'outbound'
	WINDOW w AS (PARTITION BY c.lead_id ORDER BY c.dialed_at, c.id)
)
SELECT format('lead %s: call %s (%s %s) then call %s at %s', s.lead_id, s.id, s.outcome, coalesce(s.disposition, '-'),
	s.next_id, s.next_dial)
FROM seq s JOIN campaigns k ON k.id = s.campaign_id
LEFT JOIN dispositions d ON d.campaign_id = s.campaign_id AND d.code = s.disposition
WHERE s.next_dial IS NOT NULL AND s.ended_at IS NOT NULL
  AND NOT coalesce(d.schedules_callback, false)
  AND (coalesce(d.final, false) OR d.category = 'dnc'
       OR s.next_dial < greatest(s.ended_at, s.dispositioned_at) - interval '1 second' + make_interval(secs =>
	CASE WHEN coalesce(d.recycle_after_s, 0) > 0 THEN d.recycle_after_s
	     WHEN s.outcome = 'busy' THEN k.retry_busy_s
	     WHEN s.outcome = 'machine' OR d.category = 'machine' THEN k.retry_machine_s
	     WHEN s.outcome = 'abandoned' THEN k.retry_abandoned_s
	     WHEN s.outcome = 'failed' THEN k.retry_failed_s
	     ELSE k.retry_no_answer_s END))`},

	// added_at is the adding transaction's start, and a claim that took its
	// snapshot just before that transaction committed may still dial: the
	// promise is that no claim made once the number is listed dials it, so
	// a dial within a few seconds of added_at is that race, not a breach (a
	// claim that ignored the list would dial it for as long as it runs).
	// A lead is called only while the campaign's hours hold in every zone
	// it may be in, each state it may be in applying its own hours
	// (DESIGN.md §6); a lead in no state has the campaign's default hours.
	{"called outside the calling window", `
SELECT DISTINCT ON (c.id) format('call %s to lead %s at %s: %s local in %s, outside %s-%s', c.id, c.lead_id, c.dialed_at,
	(c.dialed_at AT TIME ZONE z)::time(0), z, h.opens, h.closes)
FROM calls c
JOIN leads l ON l.id = c.lead_id AND c.transferred_from_seq IS NULL AND c.direction = 'outbound'
JOIN tz_groups g ON g.id = l.tz_group
JOIN campaigns k ON k.id = c.campaign_id
CROSS JOIN LATERAL unnest(g.zones) z
CROSS JOIN LATERAL (
	SELECT coalesce(split_part(k.state_windows->>st, '-', 1)::time, k.window_start) AS opens,
	       coalesce(split_part(k.state_windows->>st, '-', 2)::time, k.window_end) AS closes
	FROM unnest(CASE WHEN cardinality(g.states) = 0 THEN ARRAY[''] ELSE g.states END) st
) h
WHERE (c.dialed_at AT TIME ZONE z)::time < h.opens OR (c.dialed_at AT TIME ZONE z)::time >= h.closes
ORDER BY c.id, h.closes, z`},

	{"DNC number dialled", `
SELECT format('call %s to %s after it went on a DNC list at %s', c.id, c.phone, d.added_at)
FROM calls c JOIN dnc d ON d.phone = c.phone AND (d.campaign_id IS NULL OR d.campaign_id = c.campaign_id)
WHERE c.dialed_at > d.added_at + interval '5 seconds' AND c.transferred_from_seq IS NULL
  AND c.direction = 'outbound'`},

	{"call left open", `
SELECT format('call %s of node %s is %s', id, node, state) FROM calls WHERE state <> 'ended'`},

	{"lead left claimed", `
SELECT format('lead %s is dialing, claimed by %s', l.id, l.claimed_by) FROM leads l
WHERE l.status = 'dialing'
  AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.lead_id = l.id AND c.outcome = 'completed' AND c.disposition IS NULL)`},
}

// Violations lists every broken promise, one line each; empty is good.
// Calls still open and leads still claimed are only reported when settled
// is set (the system is stopped or quiet).
func Violations(ctx context.Context, db DB, settled bool) ([]string, error) {
	var out []string
	for _, c := range checks {
		if !settled && (c.name == "call left open" || c.name == "lead left claimed") {
			continue
		}
		rows, err := db.Query(ctx, c.sql)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.name, err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.name, err)
		}
		for _, l := range lines {
			out = append(out, c.name+": "+l)
		}
	}
	return out, nil
}

// Report is Violations as one message for a test failure.
func Report(lines []string) string {
	if len(lines) > 30 {
		lines = append(lines[:30:30], fmt.Sprintf("… and %d more", len(lines)-30))
	}
	return strings.Join(lines, "\n")
}
