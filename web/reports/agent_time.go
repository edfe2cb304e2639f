package reports

import (
	"context"
	"sort"
	"strings"
	"time"
)

// Agent time per agent, campaign and day of the report's zone, from the
// append-only state log (agent_events) as agents' roll-up reads it: each
// event's state lasts until the session's next event, its logout, or now for
// a session still open, and is clipped to the day, so a shift across
// midnight is split between the days. Every second logged in is in exactly
// one column: wait (READY, and DIALING: the agent's own dial ringing, as
// agents' roll-up counts it), ring (RINGING: an inbound or preview offer),
// talk (INCALL), hold (INCALL after a hold, until resume), dispo (DISPO) and
// pause (PAUSED, also by pause code), so login is their sum. Sums are kept
// to the millisecond per part, and login is the sum of the parts.
const agentTimeSQL = `
WITH days AS (
	SELECT d::date AS day, d AT TIME ZONE $5 AS d0, (d + interval '1 day') AT TIME ZONE $5 AS d1
	FROM generate_series($6::timestamp, $7::timestamp, interval '1 day') d
), sessions AS (
	SELECT id, logout_at FROM agent_sessions
	WHERE login_at < $2 AND coalesce(logout_at, $4) > $1 AND ($3::bigint = 0 OR campaign_id = $3)
), ev AS (
	SELECT e.agent_id, e.campaign_id, e.event, e.to_state, e.pause_code, e.at AS t0,
		coalesce(lead(e.at) OVER (PARTITION BY e.session_id ORDER BY e.id), s.logout_at, $4) AS t1
	FROM agent_events e JOIN sessions s ON s.id = e.session_id
), parts AS (
	SELECT d.day, ev.agent_id, ev.campaign_id, ev.to_state, ev.event = 'hold' AS held,
		coalesce(ev.pause_code, '') AS code,
		round(sum(extract(epoch FROM least(ev.t1, d.d1) - greatest(ev.t0, d.d0))) * 1000)::int8 AS ms
	FROM ev JOIN days d ON ev.t0 < d.d1 AND ev.t1 > d.d0
	WHERE ev.to_state <> 'LOGGED_OUT'
	GROUP BY 1, 2, 3, 4, 5, 6
)
SELECT to_char(p.day, 'YYYY-MM-DD'), p.agent_id, coalesce(u.username, 'sim-' || p.agent_id), p.campaign_id, cp.name, p.to_state, p.held, p.code, p.ms
FROM parts p JOIN campaigns cp ON cp.id = p.campaign_id LEFT JOIN users u ON u.id = p.agent_id
ORDER BY 1, 2, 4`

var agentTimeReport = &Report{
	Name:  "agent-time",
	Title: "Agent time",
	Note: "Per agent, campaign and day of the chosen zone, from the agent state log; a session across midnight is " +
		"split between the days. Login = wait + ring + talk + hold + dispo + pause: ring is time offered a call " +
		"(inbound or preview), talk is time on a call not on hold, pause is also shown by pause code. " +
		"A session still open counts until now.",
	run: runAgentTime,
}

type agentDay struct {
	day, campaignName  string
	agent, campaign    int64
	agentName          *string
	wait, ring, talk   int64 // milliseconds
	hold, dispo, pause int64
	pauseBy            map[string]int64
}

func runAgentTime(ctx context.Context, db Querier, p Params, head header, row emit) error {
	rows, err := db.Query(ctx, agentTimeSQL, p.Start(), p.End(), p.Campaign, p.Now, p.Zone.String(),
		p.From.Format(time.DateOnly), p.To.Format(time.DateOnly))
	if err != nil {
		return err
	}
	defer rows.Close()
	var days []*agentDay
	codes := map[string]bool{}
	for rows.Next() {
		var (
			d           agentDay
			state, code string
			held        bool
			ms          int64
		)
		if err := rows.Scan(&d.day, &d.agent, &d.agentName, &d.campaign, &d.campaignName, &state, &held, &code,
			&ms); err != nil {
			return err
		}
		cur := &d
		if n := len(days); n > 0 && days[n-1].day == d.day && days[n-1].agent == d.agent &&
			days[n-1].campaign == d.campaign {
			cur = days[n-1]
		} else {
			d.pauseBy = map[string]int64{}
			days = append(days, cur)
		}
		switch state {
		case "READY", "DIALING":
			cur.wait += ms
		case "RINGING":
			cur.ring += ms
		case "INCALL":
			if held {
				cur.hold += ms
			} else {
				cur.talk += ms
			}
		case "DISPO":
			cur.dispo += ms
		case "PAUSED", "DND":
			if state == "DND" {
				code = "DND" // do not disturb is pause with that code
			}
			cur.pause += ms
			cur.pauseBy[code] += ms
			codes[code] = true
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()
	sorted := make([]string, 0, len(codes))
	for c := range codes {
		sorted = append(sorted, c)
	}
	sort.Strings(sorted)
	cols := []Column{{"day", "Day"}, {"agent_id", "Agent id"}, {"agent", "Agent"}, {"campaign_id", "Campaign id"},
		{"campaign", "Campaign"}, {"login_s", "Login s"}, {"wait_s", "Wait s"}, {"ring_s", "Ring s"},
		{"talk_s", "Talk s"}, {"hold_s", "Hold s"}, {"dispo_s", "Dispo s"}, {"pause_s", "Pause s"}}
	for _, c := range sorted {
		cols = append(cols, Column{"pause_" + strings.ToLower(c) + "_s", "Pause " + c + " s"})
	}
	if err := head(cols); err != nil {
		return err
	}
	for _, d := range days {
		login := d.wait + d.ring + d.talk + d.hold + d.dispo + d.pause
		r := []any{d.day, d.agent, text(d.agentName), d.campaign, d.campaignName, ms(login), ms(d.wait), ms(d.ring),
			ms(d.talk), ms(d.hold), ms(d.dispo), ms(d.pause)}
		for _, c := range sorted {
			r = append(r, ms(d.pauseBy[c]))
		}
		if err := row(r); err != nil {
			return err
		}
	}
	return nil
}

func ms(v int64) float64 { return float64(v) / 1000 }
