package campaigns

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// An agent's manual dial obeys the rules the hopper does: a lead that is
// finished (a final disposition, its attempts used up, an invalid number),
// on a do-not-call list, locked out after an abandoned call or outside its
// calling window is refused, and the refusal says which rule (ErrNotDialable
// wrapped with the reason), so the agent is not left guessing.

// notDialableReason says which rule, other than the calling window, keeps
// lead id of campaign c from a manual dial at now: an error wrapping
// ErrNotDialable, or nil when none does.
func notDialableReason(ctx context.Context, db DB, c *Campaign, id LeadID, now time.Time) error {
	var (
		status, code, phone string
		zones               []string
		dnc                 bool
		attempts, today     int
		day, lockedUntil    *time.Time
		campaignStatus      Status
		onList              bool
	)
	err := db.QueryRow(ctx, `
SELECT l.status, l.last_disposition, l.phone, g.zones, l.dnc, l.attempts, l.attempts_today, l.attempts_day,
	l.locked_until, c.status,
	EXISTS (SELECT 1 FROM dnc d WHERE d.phone = l.phone AND (d.campaign_id IS NULL OR d.campaign_id = l.campaign_id))
FROM leads l JOIN tz_groups g ON g.id = l.tz_group JOIN campaigns c ON c.id = l.campaign_id
WHERE l.id = $1 AND l.campaign_id = $2`, id, c.ID).Scan(&status, &code, &phone, &zones, &dnc, &attempts, &today, &day,
		&lockedUntil, &campaignStatus, &onList)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("lead %d of campaign %d: %w", id, c.ID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("lead %d: %w", id, err)
	}
	why := func(format string, args ...any) error {
		return fmt.Errorf("%w: lead %d (%s) %s", ErrNotDialable, id, phone, fmt.Sprintf(format, args...))
	}
	switch {
	case campaignStatus != StatusActive:
		return why("belongs to a campaign that is %s, not active", campaignStatus)
	case dnc || onList:
		return why("is on a do-not-call list")
	case status == "dialing":
		return why("is being dialled now")
	case status == "callback":
		return why("waits for its scheduled callback: dial it from the callbacks list")
	case status == "done" && code != "":
		return why("is finished: its last disposition %s is final or used its last attempt", code)
	case status == "done":
		return why("is finished")
	case lockedUntil != nil && lockedUntil.After(now):
		return why("is locked out after an abandoned call until %s", lockedUntil.UTC().Format(time.RFC3339))
	case attempts >= c.MaxAttempts:
		return why("has used all %d of its attempts", c.MaxAttempts)
	case today >= c.MaxAttemptsPerDay && day != nil && !day.Before(localDate(now, zones)):
		return why("has used today's %d attempts", c.MaxAttemptsPerDay)
	}
	return nil
}

// CheckNumber applies the rules that do not need a lead to a number that is
// not one of campaign c's leads: it must be on no do-not-call list and
// inside the calling window in every time zone its number may be in
// (LeadPlace). A refusal wraps ErrNotDialable with the reason.
func CheckNumber(ctx context.Context, db DB, c *Campaign, phone string, now time.Time) error {
	on, err := OnDNC(ctx, db, c.ID, phone)
	if err != nil {
		return fmt.Errorf("check %s against the do-not-call lists: %w", phone, err)
	}
	if on {
		return fmt.Errorf("%w: %s is on a do-not-call list", ErrNotDialable, phone)
	}
	w, err := c.Window()
	if err != nil {
		return fmt.Errorf("campaign %d window: %w", c.ID, err)
	}
	zones, states := LeadPlace(phone, "", "", "")
	if !w.AllowedIn(now, zones, states) {
		return fmt.Errorf("%w: %s is outside the calling window in its time zone (%v)", ErrNotDialable, phone, zones)
	}
	return nil
}

// ManualListName names the list a campaign's manually dialled numbers join.
const ManualListName = "Manual dials"

// ManualLead returns the lead of campaign c with phone (E.164), making it
// a lead of the campaign's manual list when it is none yet (the list itself
// is made on first use). A number that may not be dialled now (DNC, calling
// window: CheckNumber) is refused with the reason and no lead is made.
// Leads are made one at a time per campaign, under the manual list's row
// lock, after looking for the number again: two agents dialling the same
// new number at once get one lead.
func ManualLead(ctx context.Context, db TxDB, c *Campaign, phone string, now time.Time) (LeadID, error) {
	id, err := LeadByPhone(ctx, db, c.ID, phone)
	if err == nil || !errors.Is(err, ErrNotFound) {
		return id, err
	}
	if err := CheckNumber(ctx, db, c, phone, now); err != nil {
		return 0, err
	}
	return manualListLead(ctx, db, c, phone, "", "", now)
}

// manualListLead returns campaign c's lead with phone, adding it (with a
// name) to the campaign's manual list when there is none.
func manualListLead(ctx context.Context, db TxDB, c *Campaign, phone, first, last string, now time.Time) (LeadID, error) {
	var id LeadID
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO lead_lists (campaign_id, name, format, status, finished_at)
VALUES ($1, $2, 'manual', 'ready', $3) ON CONFLICT (campaign_id) WHERE format = 'manual' DO NOTHING`,
			c.ID, ManualListName, now); err != nil {
			return fmt.Errorf("make the manual list of campaign %d: %w", c.ID, err)
		}
		var list int64
		if err := tx.QueryRow(ctx, `SELECT id FROM lead_lists WHERE campaign_id = $1 AND format = 'manual' FOR UPDATE`,
			c.ID).Scan(&list); err != nil {
			return fmt.Errorf("lock the manual list of campaign %d: %w", c.ID, err)
		}
		got, err := LeadByPhone(ctx, tx, c.ID, phone)
		if err == nil {
			id = got
			return nil
		}
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		zones, states := LeadPlace(phone, "", "", "")
		group, err := ensureTZGroup(ctx, tx, zones, states)
		if err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO leads (id, campaign_id, list_id, line, phone, tz_group, first_name, last_name)
SELECT nextval('leads_shared_id_seq'), $1, $2, imported + 1, $3, $4, $5, $6 FROM lead_lists WHERE id = $2 RETURNING id`,
			c.ID, list, phone, group, first, last).Scan(&id); err != nil {
			return fmt.Errorf("add %s to the manual list of campaign %d: %w", phone, c.ID, err)
		}
		_, err = tx.Exec(ctx, `UPDATE lead_lists SET rows_read = rows_read + 1, imported = imported + 1 WHERE id = $1`, list)
		return err
	})
	if err != nil {
		return 0, err
	}
	return id, nil
}
