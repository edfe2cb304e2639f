package campaigns

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNotDialable is returned when an agent asks to dial a lead the rules do
// not allow now.
var ErrNotDialable = errors.New("lead may not be dialled now")

// claimOneSQL claims one named lead for an agent's manual dial with the
// hopper's rules (DNC lists, lock-out, attempt limits, active campaign),
// ahead of its retry time; never a finished lead (a final disposition is
// final for an agent's own dial too).
const claimOneSQL = `
UPDATE leads l SET status = 'dialing', claimed_at = $3, claimed_by = $4
WHERE l.id = $1 AND l.campaign_id = $2
  AND l.status IN ('new', 'retry') AND NOT l.dnc
  AND l.attempts < $5
  AND (l.attempts_today < $6 OR l.attempts_day IS NULL OR l.attempts_day < $7)
  AND (l.locked_until IS NULL OR l.locked_until <= $3)
  AND NOT EXISTS (SELECT 1 FROM dnc d WHERE d.campaign_id IS NULL AND d.phone = l.phone)
  AND NOT EXISTS (SELECT 1 FROM dnc d WHERE d.campaign_id = $2 AND d.phone = l.phone)
  AND EXISTS (SELECT 1 FROM campaigns c WHERE c.id = $2 AND c.status = 'active')
RETURNING l.id, l.phone, l.attempts, l.priority, l.next_attempt_at`

// ClaimLead claims one lead of an active campaign for an agent's manual
// dial at now: not finished, inside its calling window, on no DNC list, not
// locked out, within its attempt limits and not being dialled; a refusal
// wraps ErrNotDialable with the rule that refused it. The engine completes or
// releases it like any claimed lead.
func ClaimLead(ctx context.Context, db DB, c *Campaign, id LeadID, now time.Time, node string) (ClaimedLead, error) {
	var zones, states []string
	var complete bool
	err := db.QueryRow(ctx, `SELECT g.zones, g.states, g.complete FROM leads l JOIN tz_groups g ON g.id = l.tz_group
		WHERE l.id = $1 AND l.campaign_id = $2`, id, c.ID).Scan(&zones, &states, &complete)
	if errors.Is(err, pgx.ErrNoRows) {
		return ClaimedLead{}, fmt.Errorf("lead %d of campaign %d: %w", id, c.ID, ErrNotFound)
	}
	if err != nil {
		return ClaimedLead{}, fmt.Errorf("lead %d: %w", id, err)
	}
	w, err := c.Window()
	if err != nil {
		return ClaimedLead{}, fmt.Errorf("campaign %d window: %w", c.ID, err)
	}
	if !complete || !w.AllowedIn(now, zones, states) {
		// A rule that holds at any hour says more than the window.
		if err := notDialableReason(ctx, db, c, id, now); err != nil {
			return ClaimedLead{}, err
		}
		return ClaimedLead{}, fmt.Errorf("%w: lead %d is outside the calling window in its time zones (%v)", ErrNotDialable, id, zones)
	}
	var l ClaimedLead
	err = db.QueryRow(ctx, claimOneSQL, id, c.ID, now, node, c.MaxAttempts, c.MaxAttemptsPerDay, localDate(now, zones)).
		Scan(&l.ID, &l.Phone, &l.Attempts, &l.Priority, &l.next)
	if errors.Is(err, pgx.ErrNoRows) {
		if err := notDialableReason(ctx, db, c, id, now); err != nil {
			return l, err
		}
		return l, fmt.Errorf("%w: lead %d was claimed by another dial just now", ErrNotDialable, id)
	}
	if err != nil {
		return l, fmt.Errorf("claim lead %d: %w", id, err)
	}
	return l, nil
}

// LeadByPhone finds a campaign's lead by its E.164 number.
func LeadByPhone(ctx context.Context, db DB, campaign ID, phone string) (LeadID, error) {
	var id LeadID
	err := db.QueryRow(ctx, `SELECT id FROM leads WHERE campaign_id = $1 AND phone = $2`, campaign, phone).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("number %s in campaign %d: %w", phone, campaign, ErrNotFound)
	}
	return id, err
}
