package campaigns

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// TransferNumber is an external number in the agents' transfer directory,
// for one campaign or (Campaign nil) every campaign: table
// transfer_numbers.
type TransferNumber struct {
	ID        int64     `json:"id"`
	Campaign  *ID       `json:"campaign_id"`
	Label     string    `json:"label"`
	Number    string    `json:"number"` // E.164
	CreatedAt time.Time `json:"created_at"`
}

// AddTransferNumber saves a number, normalized to E.164 in region (the
// campaign's default region, or the installation's for a global number).
func AddTransferNumber(ctx context.Context, db DB, t TransferNumber, region string) (TransferNumber, error) {
	t.Label = strings.TrimSpace(t.Label)
	if t.Label == "" || len(t.Label) > 64 {
		return t, fmt.Errorf("%w: label must be 1-64 characters", ErrInputInvalid)
	}
	phone, err := NormalizePhone(t.Number, region)
	if err != nil {
		return t, fmt.Errorf("%w: %v", ErrInputInvalid, err)
	}
	t.Number = phone
	err = db.QueryRow(ctx, `INSERT INTO transfer_numbers (campaign_id, label, number) VALUES ($1, $2, $3)
		RETURNING id, created_at`, t.Campaign, t.Label, t.Number).Scan(&t.ID, &t.CreatedAt)
	return t, storeWriteError(err, "transfer number "+t.Number)
}

// ListTransferNumbers lists every number, global ones first.
func ListTransferNumbers(ctx context.Context, db DB) ([]TransferNumber, error) {
	return queryTransferNumbers(ctx, db, `SELECT id, campaign_id, label, number, created_at FROM transfer_numbers
		ORDER BY campaign_id NULLS FIRST, label`)
}

// CampaignTransferNumbers are the numbers an agent of the campaign sees.
func CampaignTransferNumbers(ctx context.Context, db DB, campaign ID) ([]TransferNumber, error) {
	return queryTransferNumbers(ctx, db, `SELECT id, campaign_id, label, number, created_at FROM transfer_numbers
		WHERE campaign_id IS NULL OR campaign_id = $1 ORDER BY label, number`, campaign)
}

func queryTransferNumbers(ctx context.Context, db DB, sql string, args ...any) ([]TransferNumber, error) {
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("list transfer numbers: %w", err)
	}
	defer rows.Close()
	out := []TransferNumber{}
	for rows.Next() {
		var t TransferNumber
		if err := rows.Scan(&t.ID, &t.Campaign, &t.Label, &t.Number, &t.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// DeleteTransferNumber removes a number from the directory.
func DeleteTransferNumber(ctx context.Context, db DB, id int64) error {
	tag, err := db.Exec(ctx, `DELETE FROM transfer_numbers WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete transfer number %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("transfer number %d: %w", id, ErrNotFound)
	}
	return nil
}
