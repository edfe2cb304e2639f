package dialer

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pacer-dialer/pacer/agents"
)

// The daily roll-up of calls (campaign_daily_stats, and each agent's
// disposition counts through agents.SetDayDispositions): a call belongs to
// the UTC day it ended; a disposition to the day it was saved. Call it after
// agents.RollupDay for the same day, in the same transaction, so the
// campaign's wait and pause time are the agents' rolled-up time.

const rollupCampaignCallsSQL = `
SELECT campaign_id, count(*) FILTER (WHERE dialled), count(*) FILTER (WHERE dialled AND answered_by = 'human'),
	count(*) FILTER (WHERE dialled AND connected_at IS NOT NULL), count(*) FILTER (WHERE abandoned),
	count(*) FILTER (WHERE outcome = 'machine'), coalesce(sum(talk_s), 0)::float8, coalesce(sum(dispo_s), 0)::float8
FROM (SELECT *, transferred_from_seq IS NULL AS dialled FROM calls WHERE direction = 'outbound') calls
WHERE ended_at >= $1 AND ended_at < $2 GROUP BY 1`

const rollupDispositionsSQL = `
SELECT campaign_id, coalesce(agent_id, 0), disposition, count(*)
FROM calls WHERE dispositioned_at >= $1 AND dispositioned_at < $2 AND disposition IS NOT NULL GROUP BY 1, 2, 3`

type campaignDay struct {
	dials, live, connected, abandoned, machines int64
	talk, dispo                                 float64
	codes                                       map[string]int64
}

// RollupDay rebuilds campaign_daily_stats for the UTC day starting at day
// and sets each agent's disposition counts, in the caller's transaction.
func RollupDay(ctx context.Context, tx pgx.Tx, day, now time.Time) (int64, error) {
	day = agents.DayStart(day)
	end := day.Add(24 * time.Hour)
	days := map[int64]*campaignDay{}
	get := func(id int64) *campaignDay {
		d := days[id]
		if d == nil {
			d = &campaignDay{codes: map[string]int64{}}
			days[id] = d
		}
		return d
	}
	rows, err := tx.Query(ctx, rollupCampaignCallsSQL, day, end)
	if err != nil {
		return 0, fmt.Errorf("roll up calls for %s: %w", day.Format(time.DateOnly), err)
	}
	for rows.Next() {
		var id int64
		var d campaignDay
		if err := rows.Scan(&id, &d.dials, &d.live, &d.connected, &d.abandoned, &d.machines, &d.talk, &d.dispo); err != nil {
			rows.Close()
			return 0, err
		}
		g := get(id)
		d.codes = g.codes
		*g = d
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	byAgent := map[[2]int64]map[string]int64{}
	rows, err = tx.Query(ctx, rollupDispositionsSQL, day, end)
	if err != nil {
		return 0, fmt.Errorf("roll up dispositions for %s: %w", day.Format(time.DateOnly), err)
	}
	for rows.Next() {
		var campaign, agent, n int64
		var code string
		if err := rows.Scan(&campaign, &agent, &code, &n); err != nil {
			rows.Close()
			return 0, err
		}
		get(campaign).codes[code] += n
		if agent != 0 {
			k := [2]int64{agent, campaign}
			if byAgent[k] == nil {
				byAgent[k] = map[string]int64{}
			}
			byAgent[k][code] += n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	var perAgent []agents.DayDispositions
	for k, codes := range byAgent {
		perAgent = append(perAgent, agents.DayDispositions{Agent: k[0], Campaign: k[1], Codes: codes})
	}
	if err := agents.SetDayDispositions(ctx, tx, day, now, perAgent); err != nil {
		return 0, err
	}
	times, err := agents.CampaignDayTimes(ctx, tx, day)
	if err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM campaign_daily_stats WHERE day = $1::date`, day); err != nil {
		return 0, err
	}
	for id := range times {
		get(id) // a campaign with agent time and no calls still gets its row
	}
	var n int64
	for id, d := range days {
		codes, err := json.Marshal(d.codes)
		if err != nil {
			return n, err
		}
		t := times[id]
		tag, err := tx.Exec(ctx, `
INSERT INTO campaign_daily_stats (day, campaign_id, dials, live_answers, connected, abandoned, machines, talk_s, dispo_s,
	wait_s, pause_s, dispositions, rolled_at)
SELECT $1::date, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 WHERE EXISTS (SELECT 1 FROM campaigns WHERE id = $2)`,
			day, id, d.dials, d.live, d.connected, d.abandoned, d.machines, d.talk, d.dispo, t.Wait, t.Pause,
			string(codes), now)
		if err != nil {
			return n, fmt.Errorf("campaign %d stats for %s: %w", id, day.Format(time.DateOnly), err)
		}
		n += tag.RowsAffected()
	}
	return n, nil
}

// CampaignDayRollup is one campaign's rolled-up day.
type CampaignDayRollup struct {
	Day          time.Time        `json:"day"`
	Campaign     int64            `json:"campaign_id"`
	Dials        int64            `json:"dials"`
	LiveAnswers  int64            `json:"live_answers"`
	Connected    int64            `json:"connected"`
	Abandoned    int64            `json:"abandoned"`
	Machines     int64            `json:"machines"`
	TalkS        float64          `json:"talk_s"`
	DispoS       float64          `json:"dispo_s"`
	WaitS        float64          `json:"wait_s"`
	PauseS       float64          `json:"pause_s"`
	Dispositions map[string]int64 `json:"dispositions"`
}

// CampaignDailyRollups lists rolled-up campaign days in [from, to); campaign 0
// means every campaign.
func CampaignDailyRollups(ctx context.Context, db queryer, campaign int64, from, to time.Time) ([]CampaignDayRollup, error) {
	rows, err := db.Query(ctx, `SELECT day, campaign_id, dials, live_answers, connected, abandoned, machines,
	talk_s::float8, dispo_s::float8, wait_s::float8, pause_s::float8, dispositions
FROM campaign_daily_stats WHERE day >= $1::date AND day < $2::date AND ($3::bigint = 0 OR campaign_id = $3)
ORDER BY day, campaign_id`, agents.DayStart(from), agents.DayStart(to), campaign)
	if err != nil {
		return nil, fmt.Errorf("campaign daily stats: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (CampaignDayRollup, error) {
		var s CampaignDayRollup
		err := r.Scan(&s.Day, &s.Campaign, &s.Dials, &s.LiveAnswers, &s.Connected, &s.Abandoned, &s.Machines,
			&s.TalkS, &s.DispoS, &s.WaitS, &s.PauseS, &s.Dispositions)
		return s, err
	})
}
