package reports

import "context"

// List penetration: per list, its leads now, and what the calls dialled in
// the range did to them. A lead is contacted when a person answered at least
// one of those calls (answered by a human, connected or abandoned); finished
// when it is done now (a final disposition, its attempts used up, or an
// invalid number), whenever that happened.
const penetrationSQL = `
WITH lists AS (
	SELECT ll.id, ll.name, ll.status, ll.campaign_id, cp.name AS campaign
	FROM lead_lists ll JOIN campaigns cp ON cp.id = ll.campaign_id
	WHERE $3::bigint = 0 OR ll.campaign_id = $3
), lead_counts AS (
	SELECT l.list_id, count(*) AS leads, count(*) FILTER (WHERE l.status = 'done') AS finished
	FROM leads l WHERE l.list_id IN (SELECT id FROM lists) AND ($3::bigint = 0 OR l.campaign_id = $3)
	GROUP BY 1
), call_counts AS (
	SELECT l.list_id, count(*) AS attempts, count(DISTINCT c.lead_id) AS dialed,
		count(DISTINCT c.lead_id) FILTER (WHERE c.answered_by = 'human') AS contacted
	FROM calls c JOIN leads l ON l.id = c.lead_id
	WHERE c.dialed_at >= $1 AND c.dialed_at < $2 AND ($3::bigint = 0 OR c.campaign_id = $3)
		AND c.transferred_from_seq IS NULL AND c.direction = 'outbound'
	GROUP BY 1
)
SELECT li.campaign_id, li.campaign, li.id, li.name, li.status, coalesce(lc.leads, 0), coalesce(cc.dialed, 0),
	coalesce(cc.contacted, 0), coalesce(cc.attempts, 0), coalesce(lc.finished, 0)
FROM lists li LEFT JOIN lead_counts lc ON lc.list_id = li.id LEFT JOIN call_counts cc ON cc.list_id = li.id
ORDER BY li.campaign, li.campaign_id, li.id`

var penetrationReport = &Report{
	Name:  "penetration",
	Title: "List penetration",
	Note: "Per list: its leads now; of those, how many calls dialled in the range reached (dialled), how many a " +
		"person answered at least once (contacted), attempts in the range per lead, and how many leads are " +
		"finished now (final disposition, attempts used up or invalid number). Shares are of the list's leads.",
	run: runPenetration,
}

var penetrationColumns = []Column{
	{"campaign_id", "Campaign id"}, {"campaign", "Campaign"}, {"list_id", "List id"}, {"list", "List"},
	{"status", "Status"}, {"leads", "Leads"}, {"dialed", "Dialled"}, {"dialed_share", "Dialled share"},
	{"contacted", "Contacted"}, {"contacted_share", "Contacted share"}, {"attempts", "Attempts"},
	{"attempts_per_lead", "Attempts per lead"}, {"finished", "Finished"}, {"finished_share", "Finished share"},
}

func share(n, of int64) float64 {
	if of == 0 {
		return 0
	}
	return round4(float64(n) / float64(of))
}

func runPenetration(ctx context.Context, db Querier, p Params, head header, row emit) error {
	if err := head(penetrationColumns); err != nil {
		return err
	}
	rows, err := db.Query(ctx, penetrationSQL, p.Start(), p.End(), p.Campaign)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			campaign, list                               int64
			campaignName, name, status                   string
			leads, dialed, contacted, attempts, finished int64
		)
		if err := rows.Scan(&campaign, &campaignName, &list, &name, &status, &leads, &dialed, &contacted, &attempts,
			&finished); err != nil {
			return err
		}
		if err := row([]any{campaign, campaignName, list, name, status, leads, dialed, share(dialed, leads),
			contacted, share(contacted, leads), attempts, share(attempts, leads), finished,
			share(finished, leads)}); err != nil {
			return err
		}
	}
	return rows.Err()
}
