package campaigns

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Lead is a lead as an agent's screen shows it.
type Lead struct {
	ID              LeadID            `json:"id"`
	Campaign        ID                `json:"campaign_id"`
	List            ListID            `json:"list_id"`
	Phone           string            `json:"phone"`
	AltPhone        string            `json:"alt_phone"`
	FirstName       string            `json:"first_name"`
	LastName        string            `json:"last_name"`
	Address1        string            `json:"address1"`
	Address2        string            `json:"address2"`
	Address3        string            `json:"address3"`
	City            string            `json:"city"`
	State           string            `json:"state"`
	PostalCode      string            `json:"postal_code"`
	Country         string            `json:"country"`
	Email           string            `json:"email"`
	Custom          map[string]string `json:"custom"`
	Status          string            `json:"status"`
	Attempts        int               `json:"attempts"`
	LastDisposition string            `json:"last_disposition"`
	LastAttemptAt   *time.Time        `json:"last_attempt_at"`
}

// GetLead returns one lead.
func GetLead(ctx context.Context, db DB, id LeadID) (Lead, error) {
	var l Lead
	var custom []byte
	err := db.QueryRow(ctx, `SELECT id, campaign_id, list_id, phone, alt_phone, first_name, last_name, address1,
		address2, address3, city, state, postal_code, country, email, custom, status, attempts, last_disposition, last_attempt_at
		FROM leads WHERE id = $1`, id).Scan(&l.ID, &l.Campaign, &l.List, &l.Phone, &l.AltPhone, &l.FirstName,
		&l.LastName, &l.Address1, &l.Address2, &l.Address3, &l.City, &l.State, &l.PostalCode, &l.Country, &l.Email, &custom,
		&l.Status, &l.Attempts, &l.LastDisposition, &l.LastAttemptAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return l, fmt.Errorf("lead %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return l, fmt.Errorf("lead %d: %w", id, err)
	}
	l.Custom = map[string]string{}
	var raw map[string]any
	if err := json.Unmarshal(custom, &raw); err == nil {
		for k, v := range raw {
			l.Custom[k] = fmt.Sprint(v)
		}
	}
	return l, nil
}

// HopperDepth counts the leads of a campaign that may be claimed now or
// later (new or waiting for a retry, not on a DNC list).
func HopperDepth(ctx context.Context, db DB, id ID) (int64, error) {
	var n int64
	err := db.QueryRow(ctx, `SELECT count(*) FROM leads WHERE campaign_id = $1 AND status IN ('new', 'retry') AND NOT dnc`, id).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("hopper depth of campaign %d: %w", id, err)
	}
	return n, nil
}

// Lists returns a campaign's lead lists, newest first.
func Lists(ctx context.Context, db DB, campaign ID) ([]LeadList, error) {
	rows, err := db.Query(ctx, `SELECT `+leadListColumns+` FROM lead_lists WHERE campaign_id = $1
		ORDER BY id DESC`, campaign)
	if err != nil {
		return nil, fmt.Errorf("lists of campaign %d: %w", campaign, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (LeadList, error) {
		var l LeadList
		err := r.Scan(l.fields()...)
		return l, err
	})
}

// DNCEntry is one number on a do-not-call list.
type DNCEntry struct {
	Phone   string    `json:"phone"`
	Source  string    `json:"source"`
	AddedAt time.Time `json:"added_at"`
}

// ListDNC returns up to limit numbers of a list, newest first.
func ListDNC(ctx context.Context, db DB, scope DNCScope, limit int) ([]DNCEntry, error) {
	rows, err := db.Query(ctx, `SELECT phone, source, added_at FROM dnc
		WHERE campaign_id IS NOT DISTINCT FROM $1::bigint ORDER BY added_at DESC, id DESC LIMIT $2`, scope.campaignArg(), limit)
	if err != nil {
		return nil, fmt.Errorf("list dnc: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (DNCEntry, error) {
		var e DNCEntry
		err := r.Scan(&e.Phone, &e.Source, &e.AddedAt)
		return e, err
	})
}
