package agents

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The daily roll-up of agent time (agent_daily_stats,
// migrations/0004_callbacks.sql), rebuilt from the state log: a day is a UTC
// day. Each event's state lasts until the session's next event (or its
// logout, or for a session still open, until now), clipped to the day, so a
// shift across midnight is split between the two days. Time per call (talk,
// hold, dispo) and the call count come from the events that closed calls
// that day, which carry the call's own accounting. DIALING (the agent's own
// call ringing out) is wait, as in Session.

const rollupAgentsSQL = `
WITH sessions AS (
	SELECT id, logout_at FROM agent_sessions WHERE login_at < $2 AND coalesce(logout_at, $3) > $1
), ev AS (
	SELECT e.agent_id, e.campaign_id, e.to_state, e.at AS t0,
		coalesce(lead(e.at) OVER (PARTITION BY e.session_id ORDER BY e.id), s.logout_at, $3) AS t1
	FROM agent_events e JOIN sessions s ON s.id = e.session_id
), clipped AS (
	SELECT agent_id, campaign_id, to_state, extract(epoch FROM least(t1, $2) - greatest(t0, $1)) AS secs
	FROM ev WHERE least(t1, $2) > greatest(t0, $1)
), times AS (
	SELECT agent_id, campaign_id,
		coalesce(sum(secs) FILTER (WHERE to_state IN ('READY', 'DIALING')), 0) AS wait_s,
		coalesce(sum(secs) FILTER (WHERE to_state = 'RINGING'), 0) AS ring_s,
		coalesce(sum(secs) FILTER (WHERE to_state IN ('PAUSED', 'DND')), 0) AS pause_s
	FROM clipped GROUP BY 1, 2
), calls AS (
	SELECT agent_id, campaign_id, count(*) AS calls, sum(call_talk_s) AS talk_s, sum(call_hold_s) AS hold_s,
		sum(call_dispo_s) AS dispo_s
	FROM agent_events WHERE at >= $1 AND at < $2 AND call_talk_s IS NOT NULL GROUP BY 1, 2
)
INSERT INTO agent_daily_stats (day, agent_id, campaign_id, calls, talk_s, hold_s, wait_s, ring_s, pause_s, dispo_s, rolled_at)
SELECT $4::date, coalesce(t.agent_id, c.agent_id), coalesce(t.campaign_id, c.campaign_id),
	coalesce(c.calls, 0), coalesce(c.talk_s, 0), coalesce(c.hold_s, 0), coalesce(t.wait_s, 0), coalesce(t.ring_s, 0),
	coalesce(t.pause_s, 0), coalesce(c.dispo_s, 0), $3
FROM times t FULL JOIN calls c ON c.agent_id = t.agent_id AND c.campaign_id = t.campaign_id
WHERE EXISTS (SELECT 1 FROM campaigns WHERE id = coalesce(t.campaign_id, c.campaign_id))`

// DayStart is the UTC midnight that starts the day containing t.
func DayStart(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// RollupDay rebuilds agent_daily_stats for the UTC day starting at day (a
// UTC midnight) from the state log, as of now, in the caller's transaction.
// Running it again replaces the day's rows, so a day can be rolled up again
// after late events. It returns how many agent×campaign rows it wrote.
func RollupDay(ctx context.Context, tx pgx.Tx, day, now time.Time) (int64, error) {
	day = DayStart(day)
	end := day.Add(24 * time.Hour)
	if _, err := tx.Exec(ctx, `DELETE FROM agent_daily_stats WHERE day = $1::date`, day); err != nil {
		return 0, fmt.Errorf("roll up agents for %s: %w", day.Format(time.DateOnly), err)
	}
	tag, err := tx.Exec(ctx, rollupAgentsSQL, day, end, now, day)
	if err != nil {
		return 0, fmt.Errorf("roll up agents for %s: %w", day.Format(time.DateOnly), err)
	}
	return tag.RowsAffected(), nil
}

// DayDispositions is how many calls one agent dispositioned with each code
// in one campaign on one day.
type DayDispositions struct {
	Agent    int64
	Campaign int64
	Codes    map[string]int64
}

// SetDayDispositions records each agent's disposition counts for a rolled-up
// day (the calls are the dialer's; it calls this after RollupDay). An agent
// with dispositions but no row for the day gets one.
func SetDayDispositions(ctx context.Context, tx pgx.Tx, day, now time.Time, rows []DayDispositions) error {
	day = DayStart(day)
	for _, r := range rows {
		b, err := json.Marshal(r.Codes)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
INSERT INTO agent_daily_stats (day, agent_id, campaign_id, calls, talk_s, hold_s, wait_s, ring_s, pause_s, dispo_s, dispositions, rolled_at)
VALUES ($1::date, $2, $3, 0, 0, 0, 0, 0, 0, 0, $4, $5)
ON CONFLICT (day, agent_id, campaign_id) DO UPDATE SET dispositions = EXCLUDED.dispositions`,
			day, r.Agent, r.Campaign, string(b), now)
		if err != nil {
			return fmt.Errorf("agent %d dispositions for %s: %w", r.Agent, day.Format(time.DateOnly), err)
		}
	}
	return nil
}

// DayTimes is a campaign's agent time on one day.
type DayTimes struct {
	Wait, Pause float64 // seconds
}

// CampaignDayTimes sums a rolled-up day's agent time per campaign.
func CampaignDayTimes(ctx context.Context, tx pgx.Tx, day time.Time) (map[int64]DayTimes, error) {
	rows, err := tx.Query(ctx, `SELECT campaign_id, sum(wait_s)::float8, sum(pause_s)::float8 FROM agent_daily_stats
WHERE day = $1::date GROUP BY 1`, DayStart(day))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]DayTimes{}
	for rows.Next() {
		var id int64
		var t DayTimes
		if err := rows.Scan(&id, &t.Wait, &t.Pause); err != nil {
			return nil, err
		}
		out[id] = t
	}
	return out, rows.Err()
}

// DayStats is one agent's rolled-up day in one campaign.
type DayStats struct {
	Day          time.Time        `json:"day"`
	Agent        int64            `json:"agent_id"`
	Campaign     int64            `json:"campaign_id"`
	Calls        int64            `json:"calls"`
	TalkS        float64          `json:"talk_s"`
	HoldS        float64          `json:"hold_s"`
	WaitS        float64          `json:"wait_s"`
	RingS        float64          `json:"ring_s"`
	PauseS       float64          `json:"pause_s"`
	DispoS       float64          `json:"dispo_s"`
	Dispositions map[string]int64 `json:"dispositions"`
}

// DailyStats lists rolled-up agent days in [from, to), by day then agent;
// campaign 0 means every campaign.
func DailyStats(ctx context.Context, db interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}, campaign int64, from, to time.Time) ([]DayStats, error) {
	rows, err := db.Query(ctx, `SELECT day, agent_id, campaign_id, calls, talk_s::float8, hold_s::float8,
	wait_s::float8, ring_s::float8, pause_s::float8, dispo_s::float8, dispositions
FROM agent_daily_stats WHERE day >= $1::date AND day < $2::date AND ($3::bigint = 0 OR campaign_id = $3)
ORDER BY day, agent_id, campaign_id`, DayStart(from), DayStart(to), campaign)
	if err != nil {
		return nil, fmt.Errorf("agent daily stats: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (DayStats, error) {
		var s DayStats
		err := r.Scan(&s.Day, &s.Agent, &s.Campaign, &s.Calls, &s.TalkS, &s.HoldS, &s.WaitS, &s.RingS, &s.PauseS,
			&s.DispoS, &s.Dispositions)
		return s, err
	})
}
