package reports

import (
	"context"
	"time"
)

// The call detail records: one row per call the engine placed, by the
// instant it was dialled, in dial order, read row by row (a day can hold
// hundreds of thousands). Every call in the calls table is outbound:
// inbound calls are queued and answered by package inbound, which keeps no
// call records yet, so direction is always "outbound". Ring time runs from
// the first ring (or the dial when the carrier sent none) to the answer or
// the end; talk, hold and wrap are the agent's, known once the call is
// dispositioned. Nothing is recorded yet, so recording is "none".
const cdrSQL = `
SELECT c.id, c.dialed_at, c.campaign_id, cp.name, l.list_id, ll.name, c.lead_id,
	nullif(btrim(l.first_name || ' ' || l.last_name), ''), c.phone, c.agent_id, coalesce(u.username, 'sim-' || c.agent_id),
	c.outcome, c.answered_by, c.abandoned, c.disposition, d.label, d.category, c.auto_disposition,
	extract(epoch FROM coalesce(c.answered_at, c.ended_at) - coalesce(c.ringing_at, c.dialed_at))::float8,
	c.talk_s::float8, c.hold_s::float8, c.dispo_s::float8, c.ended_at, c.sip_code::int8, c.q850_cause::int8,
	c.cause_text, nullif(c.end_cause, ''), c.notes
FROM calls c
JOIN campaigns cp ON cp.id = c.campaign_id
LEFT JOIN leads l ON l.id = c.lead_id
LEFT JOIN lead_lists ll ON ll.id = l.list_id
LEFT JOIN users u ON u.id = c.agent_id
LEFT JOIN dispositions d ON d.campaign_id = c.campaign_id AND d.code = c.disposition
WHERE c.dialed_at >= $1 AND c.dialed_at < $2 AND ($3::bigint = 0 OR c.campaign_id = $3)
ORDER BY c.dialed_at, c.id
LIMIT nullif($4::int, 0)`

var cdrColumns = []Column{
	{"call_id", "Call"}, {"time", "Dialled at"}, {"campaign_id", "Campaign id"}, {"campaign", "Campaign"},
	{"list_id", "List id"}, {"list", "List"}, {"lead_id", "Lead id"}, {"lead_name", "Lead"}, {"number", "Number"},
	{"direction", "Direction"}, {"agent_id", "Agent id"}, {"agent", "Agent"}, {"outcome", "Outcome"},
	{"answered_by", "Answered by"}, {"abandoned", "Abandoned"}, {"disposition", "Disposition"},
	{"disposition_label", "Disposition label"}, {"disposition_category", "Category"},
	{"auto_disposition", "Auto disposition"}, {"ring_s", "Ring s"}, {"talk_s", "Talk s"}, {"hold_s", "Hold s"},
	{"wrap_s", "Wrap s"}, {"ended_at", "Ended at"}, {"sip_code", "SIP code"}, {"q850_cause", "Q.850 cause"},
	{"cause", "Cause"}, {"end_cause", "End cause"}, {"notes", "Notes"}, {"recording", "Recording"},
}

var cdrReport = &Report{
	Name:  "calls",
	Title: "Call detail records",
	Note: "One row per call dialled in the range, in dial order, times in the chosen zone. All calls are outbound. " +
		"Ring s runs from the first ring (or the dial) to the answer or the end; talk, hold and wrap s are the " +
		"agent's, set when the call is dispositioned. No calls are recorded.",
	run: runCDR,
}

func runCDR(ctx context.Context, db Querier, p Params, head header, row emit) error {
	if err := head(cdrColumns); err != nil {
		return err
	}
	rows, err := db.Query(ctx, cdrSQL, p.Start(), p.End(), p.Campaign, p.Limit)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id, campaign                           int64
			dialed                                 time.Time
			campaignName, phone, notes             string
			list, lead, agent, sip, q850           *int64
			listName, leadName, agentName, outcome *string
			answeredBy, dispo, label, category     *string
			cause, endCause                        *string
			abandoned, auto                        bool
			ring, talk, hold, wrap                 *float64
			ended                                  *time.Time
		)
		if err := rows.Scan(&id, &dialed, &campaign, &campaignName, &list, &listName, &lead, &leadName, &phone,
			&agent, &agentName, &outcome, &answeredBy, &abandoned, &dispo, &label, &category, &auto,
			&ring, &talk, &hold, &wrap, &ended, &sip, &q850, &cause, &endCause, &notes); err != nil {
			return err
		}
		err := row([]any{id, localTime(&dialed, p.Zone), campaign, campaignName, num(list), text(listName), num(lead),
			text(leadName), phone, "outbound", num(agent), text(agentName), text(outcome), text(answeredBy),
			yesNo(abandoned), text(dispo), text(label), text(category), yesNo(auto), seconds(ring), seconds(talk),
			seconds(hold), seconds(wrap), localTime(ended, p.Zone), num(sip), num(q850), text(cause), text(endCause),
			notes, "none"})
		if err != nil {
			return err
		}
	}
	return rows.Err()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
