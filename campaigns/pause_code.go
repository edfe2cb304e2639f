package campaigns

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// PauseCode is a reason an agent may give for a pause, for one campaign or
// (Campaign nil) for every campaign: table pause_codes.
type PauseCode struct {
	ID       int64  `json:"id"`
	Campaign *ID    `json:"campaign_id"`
	Code     string `json:"code"`
	Label    string `json:"label"`
	// Billable: the pause counts as paid work in reports.
	Billable bool `json:"billable"`
	// LimitMin is how long the pause may last before the wallboard flags
	// it; nil is no limit.
	LimitMin  *int      `json:"limit_min"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ErrPauseCode: a pause code that is not valid for the campaign.
var ErrPauseCode = errors.New("pause code not valid")

// ErrDuplicate: a row with the same key exists already.
var ErrDuplicate = errors.New("already exists")

var pauseCodeSyntax = regexp.MustCompile(`^[A-Z0-9_]{1,16}$`)

// engineOnlyCodes are the pauses the engine itself starts.
var engineOnlyCodes = []string{"LOGIN", "DND", "WRAPUP"}

// Check normalizes the code and refuses what the table would.
func (p *PauseCode) Check() error {
	p.Code = strings.ToUpper(strings.TrimSpace(p.Code))
	p.Label = strings.TrimSpace(p.Label)
	switch {
	case !pauseCodeSyntax.MatchString(p.Code):
		return fmt.Errorf("%w: code must be 1-16 of A-Z, 0-9 and _", ErrInputInvalid)
	case slices.Contains(engineOnlyCodes, p.Code):
		return fmt.Errorf("%w: %s is the dialer's own pause code", ErrInputInvalid, p.Code)
	case p.Label == "" || len(p.Label) > 64:
		return fmt.Errorf("%w: label must be 1-64 characters", ErrInputInvalid)
	case p.LimitMin != nil && (*p.LimitMin < 1 || *p.LimitMin > 1440):
		return fmt.Errorf("%w: limit_min must be 1-1440 minutes, or null for none", ErrInputInvalid)
	}
	return nil
}

// ErrInputInvalid: a value the store refuses (the message says which).
var ErrInputInvalid = errors.New("invalid")

const pauseCodeColumns = `id, campaign_id, code, label, billable, limit_min, updated_at`

func scanPauseCodes(rows pgx.Rows) ([]PauseCode, error) {
	out := []PauseCode{}
	for rows.Next() {
		var p PauseCode
		if err := rows.Scan(&p.ID, &p.Campaign, &p.Code, &p.Label, &p.Billable, &p.LimitMin, &p.UpdatedAt); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// ListPauseCodes lists every pause code, global ones first.
func ListPauseCodes(ctx context.Context, db DB) ([]PauseCode, error) {
	rows, err := db.Query(ctx, `SELECT `+pauseCodeColumns+` FROM pause_codes
		ORDER BY campaign_id NULLS FIRST, code`)
	if err != nil {
		return nil, fmt.Errorf("list pause codes: %w", err)
	}
	defer rows.Close()
	return scanPauseCodes(rows)
}

// CampaignPauseCodes are the codes an agent of the campaign may choose: its
// own and the global ones; a campaign's code overrides a global one of the
// same name.
func CampaignPauseCodes(ctx context.Context, db DB, campaign ID) ([]PauseCode, error) {
	rows, err := db.Query(ctx, `SELECT DISTINCT ON (code) `+pauseCodeColumns+` FROM pause_codes
		WHERE campaign_id IS NULL OR campaign_id = $1 ORDER BY code, campaign_id NULLS LAST`, campaign)
	if err != nil {
		return nil, fmt.Errorf("pause codes of campaign %d: %w", campaign, err)
	}
	defer rows.Close()
	return scanPauseCodes(rows)
}

// CampaignPauseCode is the campaign's pause code named code, or an error
// wrapping ErrPauseCode.
func CampaignPauseCode(ctx context.Context, db DB, campaign ID, code string) (PauseCode, error) {
	rows, err := db.Query(ctx, `SELECT `+pauseCodeColumns+` FROM pause_codes
		WHERE (campaign_id IS NULL OR campaign_id = $1) AND code = $2 ORDER BY campaign_id NULLS LAST LIMIT 1`, campaign, code)
	if err != nil {
		return PauseCode{}, fmt.Errorf("pause code %s of campaign %d: %w", code, campaign, err)
	}
	defer rows.Close()
	list, err := scanPauseCodes(rows)
	if err != nil {
		return PauseCode{}, err
	}
	if len(list) == 0 {
		return PauseCode{}, fmt.Errorf("%w: %q is not a pause code of this campaign", ErrPauseCode, code)
	}
	return list[0], nil
}

// SavePauseCode creates the code (ID 0) or changes it.
func SavePauseCode(ctx context.Context, db DB, p PauseCode) (PauseCode, error) {
	if err := p.Check(); err != nil {
		return p, err
	}
	var err error
	if p.ID == 0 {
		err = db.QueryRow(ctx, `INSERT INTO pause_codes (campaign_id, code, label, billable, limit_min)
			VALUES ($1, $2, $3, $4, $5) RETURNING id, updated_at`, p.Campaign, p.Code, p.Label, p.Billable, p.LimitMin).
			Scan(&p.ID, &p.UpdatedAt)
	} else {
		err = db.QueryRow(ctx, `UPDATE pause_codes SET campaign_id = $2, code = $3, label = $4, billable = $5,
			limit_min = $6, updated_at = now() WHERE id = $1 RETURNING updated_at`,
			p.ID, p.Campaign, p.Code, p.Label, p.Billable, p.LimitMin).Scan(&p.UpdatedAt)
	}
	return p, storeWriteError(err, fmt.Sprintf("pause code %s", p.Code))
}

// DeletePauseCode removes a pause code; agents paused with it stay paused.
func DeletePauseCode(ctx context.Context, db DB, id int64) error {
	tag, err := db.Exec(ctx, `DELETE FROM pause_codes WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete pause code %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("pause code %d: %w", id, ErrNotFound)
	}
	return nil
}

// storeWriteError names what a write refused: a duplicate key, a campaign
// that does not exist, a row that does not exist.
func storeWriteError(err error, what string) error {
	var pe *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	case errors.As(err, &pe) && pe.Code == "23505":
		return fmt.Errorf("%s: %w for this campaign (or for all campaigns)", what, ErrDuplicate)
	case errors.As(err, &pe) && pe.Code == "23503":
		return fmt.Errorf("%s: %w: no such campaign", what, ErrInputInvalid)
	}
	return fmt.Errorf("save %s: %w", what, err)
}
