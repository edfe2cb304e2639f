package dialer

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
)

// HistoryCall is one call record as the workspace lists it.
type HistoryCall struct {
	ID          int64      `json:"id"`
	Campaign    int64      `json:"campaign_id"`
	Lead        *int64     `json:"lead_id"`
	Phone       string     `json:"phone"`
	Agent       *int64     `json:"agent_id"`
	Outcome     string     `json:"outcome"`
	Disposition string     `json:"disposition"`
	DialedAt    time.Time  `json:"dialed_at"`
	ConnectedAt *time.Time `json:"connected_at"`
	EndedAt     *time.Time `json:"ended_at"`
	// Seconds connected to the agent (or ringing, for calls never answered).
	DurationS float64 `json:"duration_s"`
	// Notes are the agent's notes saved with the disposition.
	Notes string `json:"notes"`
	// Direction is outbound (dialled) or inbound (the caller dialled in).
	Direction string `json:"direction"`
}

const historyColumns = `id, campaign_id, lead_id, phone, agent_id, coalesce(outcome, ''), coalesce(disposition, ''),
	dialed_at, connected_at, ended_at,
	coalesce(extract(epoch FROM ended_at - coalesce(connected_at, dialed_at)), 0)::float8, notes, direction`

func scanHistory(row pgx.CollectableRow) (HistoryCall, error) {
	var h HistoryCall
	err := row.Scan(&h.ID, &h.Campaign, &h.Lead, &h.Phone, &h.Agent, &h.Outcome, &h.Disposition, &h.DialedAt,
		&h.ConnectedAt, &h.EndedAt, &h.DurationS, &h.Notes, &h.Direction)
	return h, err
}

// AgentHistory lists the calls an agent handled, newest first.
func AgentHistory(ctx context.Context, db campaigns.DB, agent agents.ID, limit int) ([]HistoryCall, error) {
	rows, err := db.Query(ctx, "SELECT "+historyColumns+` FROM calls WHERE agent_id = $1 AND state = 'ended'
		ORDER BY dialed_at DESC LIMIT $2`, int64(agent), limit)
	if err != nil {
		return nil, fmt.Errorf("history of agent %d: %w", agent, err)
	}
	return pgx.CollectRows(rows, scanHistory)
}

// LeadHistory lists the calls placed to a lead, newest first.
func LeadHistory(ctx context.Context, db campaigns.DB, lead LeadID, limit int) ([]HistoryCall, error) {
	rows, err := db.Query(ctx, "SELECT "+historyColumns+` FROM calls WHERE lead_id = $1 AND state = 'ended'
		ORDER BY dialed_at DESC LIMIT $2`, int64(lead), limit)
	if err != nil {
		return nil, fmt.Errorf("history of lead %d: %w", lead, err)
	}
	return pgx.CollectRows(rows, scanHistory)
}

// DayStats are a campaign's call figures since a moment (the wallboard's
// "today").
type DayStats struct {
	Dials        int64            `json:"dials"`
	LiveAnswers  int64            `json:"live_answers"`
	Abandons     int64            `json:"abandons"`
	Dispositions map[string]int64 `json:"dispositions"`
	// AvgDispoS is the mean time from call end to saved disposition;
	// AgentDispoS the same per agent.
	AvgDispoS   float64           `json:"avg_dispo_s"`
	AgentDispoS map[int64]float64 `json:"agent_dispo_s"`
	// Agents are each agent's calls since the moment.
	Agents map[int64]AgentDay `json:"agents"`
}

// AgentDay is one agent's calls since a moment: calls connected to them,
// talk time of those settled, and how many were dispositioned as a sale.
type AgentDay struct {
	Calls int64   `json:"calls"`
	TalkS float64 `json:"talk_s"`
	Sales int64   `json:"sales"`
}

// CampaignDayStats sums a campaign's calls ended since since; saleCodes are
// the campaign's disposition codes of the sale category.
func CampaignDayStats(ctx context.Context, db campaigns.DB, campaign CampaignID, since time.Time, saleCodes []string) (DayStats, error) {
	s := DayStats{Dispositions: map[string]int64{}, AgentDispoS: map[int64]float64{}, Agents: map[int64]AgentDay{}}
	err := db.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE outcome IN ('completed', 'abandoned')),
		count(*) FILTER (WHERE outcome = 'abandoned'), coalesce(avg(dispo_s), 0)::float8
		FROM calls WHERE campaign_id = $1 AND dialed_at >= $2 AND transferred_from_seq IS NULL AND direction = 'outbound'`, int64(campaign), since).
		Scan(&s.Dials, &s.LiveAnswers, &s.Abandons, &s.AvgDispoS)
	if err != nil {
		return s, fmt.Errorf("day stats of campaign %d: %w", campaign, err)
	}
	rows, err := db.Query(ctx, `SELECT disposition, count(*) FROM calls
		WHERE campaign_id = $1 AND dialed_at >= $2 AND disposition IS NOT NULL GROUP BY 1`, int64(campaign), since)
	if err != nil {
		return s, fmt.Errorf("dispositions of campaign %d: %w", campaign, err)
	}
	for rows.Next() {
		var code string
		var n int64
		if err := rows.Scan(&code, &n); err != nil {
			rows.Close()
			return s, err
		}
		s.Dispositions[code] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return s, err
	}
	rows, err = db.Query(ctx, `SELECT agent_id, avg(dispo_s)::float8 FROM calls
		WHERE campaign_id = $1 AND dialed_at >= $2 AND dispo_s IS NOT NULL AND agent_id IS NOT NULL GROUP BY 1`,
		int64(campaign), since)
	if err != nil {
		return s, fmt.Errorf("dispo time of campaign %d: %w", campaign, err)
	}
	defer rows.Close()
	for rows.Next() {
		var a int64
		var d float64
		if err := rows.Scan(&a, &d); err != nil {
			return s, err
		}
		s.AgentDispoS[a] = d
	}
	if err := rows.Err(); err != nil {
		return s, err
	}
	rows.Close()
	if saleCodes == nil {
		saleCodes = []string{}
	}
	// A call in wrap-up has no talk_s yet: its connected span counts.
	rows, err = db.Query(ctx, `SELECT agent_id, count(*),
		coalesce(sum(coalesce(talk_s, extract(epoch FROM ended_at - connected_at))), 0)::float8,
		count(*) FILTER (WHERE disposition = ANY($3))
		FROM calls WHERE campaign_id = $1 AND dialed_at >= $2 AND connected_at IS NOT NULL GROUP BY 1`,
		int64(campaign), since, saleCodes)
	if err != nil {
		return s, fmt.Errorf("agent calls of campaign %d: %w", campaign, err)
	}
	defer rows.Close()
	for rows.Next() {
		var a int64
		var d AgentDay
		if err := rows.Scan(&a, &d.Calls, &d.TalkS, &d.Sales); err != nil {
			return s, err
		}
		s.Agents[a] = d
	}
	return s, rows.Err()
}
