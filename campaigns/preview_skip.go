package campaigns

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// A preview the agent skipped goes back to the hopper without an attempt:
// behind every lead already due (its next attempt becomes the moment of the
// skip, and the hopper takes the lead due first), with its skips counted on
// the lead and each skip kept in preview_skips for the campaign's per-agent
// hourly cap (migrations/0017_agent_dials.sql).

// Skip returns a claimed lead of campaign c that agent skipped at at.
func Skip(ctx context.Context, db TxDB, c ID, lead LeadID, agent int64, at time.Time) error {
	return pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE leads SET status = CASE WHEN attempts = 0 THEN 'new' ELSE 'retry' END,
	claimed_at = NULL, claimed_by = '', skips = skips + 1, next_attempt_at = greatest(next_attempt_at, $3)
WHERE id = $1 AND campaign_id = $2 AND status = 'dialing'`, lead, c, at)
		if err != nil {
			return fmt.Errorf("skip lead %d: %w", lead, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("skip lead %d: not claimed: %w", lead, ErrNotFound)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO preview_skips (campaign_id, agent_id, lead_id, at) VALUES ($1, $2, $3, $4)`,
			c, agent, lead, at); err != nil {
			return fmt.Errorf("record skip of lead %d: %w", lead, err)
		}
		return nil
	})
}

// SkipsSince counts the previews agent skipped in campaign c since since.
func SkipsSince(ctx context.Context, db DB, c ID, agent int64, since time.Time) (int, error) {
	var n int
	err := db.QueryRow(ctx, `SELECT count(*) FROM preview_skips WHERE campaign_id = $1 AND agent_id = $2 AND at > $3`,
		c, agent, since).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count skips of agent %d: %w", agent, err)
	}
	return n, nil
}

// SkipAllowance is where an agent stands against the campaign's skip cap.
type SkipAllowance struct {
	Limit    int `json:"limit"` // 0: no cap
	LastHour int `json:"last_hour"`
}

// Exhausted reports whether another skip would pass the cap.
func (a SkipAllowance) Exhausted() bool { return a.Limit > 0 && a.LastHour >= a.Limit }

// Skips reports agent's skips over the hour before now against c's cap.
func Skips(ctx context.Context, db DB, c *Campaign, agent int64, now time.Time) (SkipAllowance, error) {
	n, err := SkipsSince(ctx, db, c.ID, agent, now.Add(-time.Hour))
	return SkipAllowance{Limit: c.PreviewSkipLimitPerHour, LastHour: n}, err
}
