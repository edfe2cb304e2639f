package reports

import "context"

// Dispositions by campaign and agent: calls whose disposition was saved in
// the range (a disposition belongs to the day it was saved, as in the daily
// roll-up), with the code's label and category. Engine codes (NA, B, AA,
// DROP, FAIL) are stamped at the call's end with no agent; AUTO is the
// wrap-up limit's. Share is of the campaign's dispositioned calls in range.
const dispositionsSQL = `
WITH counts AS (
	SELECT campaign_id, agent_id, disposition, count(*) AS n
	FROM calls
	WHERE dispositioned_at >= $1 AND dispositioned_at < $2 AND disposition IS NOT NULL
		AND ($3::bigint = 0 OR campaign_id = $3)
	GROUP BY 1, 2, 3
)
SELECT c.campaign_id, cp.name, c.agent_id, coalesce(u.username, 'sim-' || c.agent_id), c.disposition, d.label, d.category, d.final, c.n,
	c.n::float8 / sum(c.n) OVER (PARTITION BY c.campaign_id)
FROM counts c JOIN campaigns cp ON cp.id = c.campaign_id
LEFT JOIN users u ON u.id = c.agent_id
LEFT JOIN dispositions d ON d.campaign_id = c.campaign_id AND d.code = c.disposition
ORDER BY cp.name, c.campaign_id, c.agent_id NULLS FIRST, c.n DESC, c.disposition`

var dispositionsReport = &Report{
	Name:  "dispositions",
	Title: "Dispositions by campaign and agent",
	Note: "Calls whose disposition was saved in the range, per campaign, agent and code, with the code's label " +
		"and category. Codes the engine sets when a call ends unanswered (NA, B, AA, DROP, FAIL) have no agent. " +
		"Share is of the campaign's dispositioned calls in the range.",
	run: runDispositions,
}

var dispositionColumns = []Column{
	{"campaign_id", "Campaign id"}, {"campaign", "Campaign"}, {"agent_id", "Agent id"}, {"agent", "Agent"},
	{"code", "Code"}, {"label", "Label"}, {"category", "Category"}, {"final", "Final"}, {"calls", "Calls"},
	{"share", "Share of campaign"},
}

func runDispositions(ctx context.Context, db Querier, p Params, head header, row emit) error {
	if err := head(dispositionColumns); err != nil {
		return err
	}
	rows, err := db.Query(ctx, dispositionsSQL, p.Start(), p.End(), p.Campaign)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			campaign, n           int64
			agent                 *int64
			campaignName, code    string
			agentName, label, cat *string
			final                 *bool
			share                 float64
		)
		if err := rows.Scan(&campaign, &campaignName, &agent, &agentName, &code, &label, &cat, &final, &n,
			&share); err != nil {
			return err
		}
		var fin any
		if final != nil {
			fin = yesNo(*final)
		}
		if err := row([]any{campaign, campaignName, num(agent), text(agentName), code, text(label), text(cat), fin,
			n, round4(share)}); err != nil {
			return err
		}
	}
	return rows.Err()
}
