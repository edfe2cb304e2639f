package reports

import (
	"context"
	"time"
)

// The abandon rate as package dialer's Budget counts it (the rate pacing
// holds under the target): abandons ÷ live answers, where a live answer is a
// call a person answered that was connected to an agent or abandoned
// (outcome completed or abandoned), counted when the call ended. Under UK
// rules the campaign's AMD false-positive share of machine answers is added
// to both (Ofcom). Per day of the chosen zone, and over the legal window
// ending with that day: 30 days rolling under US rules, 24 hours under UK
// rules. The Budget keeps hour buckets, so its window edge may be up to an
// hour longer than the exact window here.
const abandonSQL = `
WITH days AS (
	SELECT d::date AS day, d AT TIME ZONE $4 AS d0, (d + interval '1 day') AT TIME ZONE $4 AS d1
	FROM generate_series($5::timestamp, $6::timestamp, interval '1 day') d
), camps AS (
	SELECT id, name, rule_set, abandon_target::float8 AS target, amd_false_positive::float8 AS fp,
		CASE WHEN rule_set = 'uk' THEN interval '24 hours' ELSE interval '720 hours' END AS win
	FROM campaigns cp
	WHERE ($3::bigint = 0 OR id = $3) AND EXISTS (SELECT 1 FROM calls c WHERE c.campaign_id = cp.id
		AND c.ended_at >= $1::timestamptz - interval '720 hours' AND c.ended_at < $2
		AND c.outcome IN ('completed', 'abandoned', 'machine'))
)
SELECT to_char(d.day, 'YYYY-MM-DD'), cp.id, cp.name, cp.rule_set, cp.target, cp.fp, d.d1 - cp.win, d.d1,
	dc.live, dc.ab, dc.m, wc.live, wc.ab, wc.m
FROM camps cp CROSS JOIN days d
CROSS JOIN LATERAL (
	SELECT count(*) FILTER (WHERE outcome IN ('completed', 'abandoned')) AS live,
		count(*) FILTER (WHERE outcome = 'abandoned') AS ab, count(*) FILTER (WHERE outcome = 'machine') AS m
	FROM calls WHERE campaign_id = cp.id AND ended_at >= d.d0 AND ended_at < d.d1
		AND outcome IN ('completed', 'abandoned', 'machine')
) dc
CROSS JOIN LATERAL (
	SELECT count(*) FILTER (WHERE outcome IN ('completed', 'abandoned')) AS live,
		count(*) FILTER (WHERE outcome = 'abandoned') AS ab, count(*) FILTER (WHERE outcome = 'machine') AS m
	FROM calls WHERE campaign_id = cp.id AND ended_at >= d.d1 - cp.win AND ended_at < d.d1
		AND outcome IN ('completed', 'abandoned', 'machine')
) wc
ORDER BY cp.name, cp.id, d.day`

var abandonReport = &Report{
	Name:  "abandon",
	Title: "Abandon rate per legal window",
	Note: "Abandon rate = abandoned calls ÷ live answers (calls a person answered: connected to an agent or " +
		"abandoned), counted on the day the call ended, as the dialer's abandon budget counts it. Under UK rules " +
		"the campaign's AMD false-positive share of machine answers is added to both. Per day, and over the legal " +
		"window ending with the day: 30 days rolling (US), 24 hours (UK). Within target: the window's rate is at " +
		"or under the campaign's target.",
	run: runAbandon,
}

var abandonColumns = []Column{
	{"day", "Day"}, {"campaign_id", "Campaign id"}, {"campaign", "Campaign"}, {"rules", "Rules"},
	{"target", "Target"}, {"day_live_answers", "Live answers (day)"}, {"day_abandons", "Abandons (day)"},
	{"day_machines", "Machines (day)"}, {"day_rate", "Rate (day)"}, {"window", "Window"},
	{"window_from", "Window from"}, {"window_to", "Window to"}, {"window_live_answers", "Live answers (window)"},
	{"window_abandons", "Abandons (window)"}, {"window_machines", "Machines (window)"},
	{"window_rate", "Rate (window)"}, {"within_target", "Within target"},
}

// abandonRate is the Budget's Rate: (abandons + estimate) ÷ (live + estimate).
func abandonRate(live, abandons, machines int64, fp float64) float64 {
	est := fp * float64(machines)
	if float64(live)+est == 0 {
		return 0
	}
	return (float64(abandons) + est) / (float64(live) + est)
}

func runAbandon(ctx context.Context, db Querier, p Params, head header, row emit) error {
	if err := head(abandonColumns); err != nil {
		return err
	}
	rows, err := db.Query(ctx, abandonSQL, p.Start(), p.End(), p.Campaign, p.Zone.String(),
		p.From.Format(time.DateOnly), p.To.Format(time.DateOnly))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			day, name, rules           string
			id, dl, da, dm, wl, wa, wm int64
			target, fp                 float64
			wFrom, wTo                 time.Time
		)
		if err := rows.Scan(&day, &id, &name, &rules, &target, &fp, &wFrom, &wTo, &dl, &da, &dm, &wl, &wa,
			&wm); err != nil {
			return err
		}
		if rules != "uk" {
			fp = 0 // the US rule counts no estimate, as the Budget is given none
		}
		window := "30 days"
		if rules == "uk" {
			window = "24 hours"
		}
		wRate := abandonRate(wl, wa, wm, fp)
		if err := row([]any{day, id, name, rules, target, dl, da, dm, round4(abandonRate(dl, da, dm, fp)), window,
			localTime(&wFrom, p.Zone), localTime(&wTo, p.Zone), wl, wa, wm, round4(wRate),
			yesNo(wRate <= target)}); err != nil {
			return err
		}
	}
	return rows.Err()
}
