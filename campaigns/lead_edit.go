package campaigns

import (
	"context"
	"encoding/json"
	"fmt"
	"net/mail"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// LeadEdit is one field of a lead an agent changed: table lead_edits,
// append-only.
type LeadEdit struct {
	ID       int64     `json:"id"`
	Lead     LeadID    `json:"lead_id"`
	Campaign ID        `json:"campaign_id"`
	Field    string    `json:"field"`
	Before   string    `json:"before"`
	After    string    `json:"after"`
	User     int64     `json:"user_id"`
	Call     int64     `json:"call_id,omitempty"`
	At       time.Time `json:"at"`
}

// EditableLeadFields are the lead's columns an agent may change; custom
// fields are "custom.<key>". The phone is not among them: it is what the
// lead is dialled and deduplicated by.
var EditableLeadFields = []string{"first_name", "last_name", "address1", "address2", "address3", "city", "state",
	"postal_code", "country", "email", "alt_phone"}

// placeFields change where the lead is, so its calling-window group.
var placeFields = map[string]bool{"state": true, "postal_code": true, "country": true}

const (
	maxLeadField    = 200
	maxCustomKey    = 64
	maxCustomFields = 100
)

// LeadChange asks to set a lead's fields; the values are the new ones.
type LeadChange struct {
	Lead     LeadID
	Campaign ID // the campaign the lead must belong to
	Fields   map[string]string
	User     int64
	Call     int64 // the call it was on screen for (0: none)
	At       time.Time
	// Region reads a changed alt_phone.
	Region string
}

// check refuses a change the agent made by mistake, naming the field.
func (ch LeadChange) check() error {
	if len(ch.Fields) == 0 {
		return fmt.Errorf("%w: no fields to change", ErrInputInvalid)
	}
	for f, v := range ch.Fields {
		key, custom := strings.CutPrefix(f, "custom.")
		switch {
		case custom && !customKeyOK(key):
			// Imports keep any column name as a custom field, so any
			// printable name up to 64 characters is one.
			return fmt.Errorf("%w: custom field name %q must be 1-64 printable characters without surrounding spaces", ErrInputInvalid, key)
		case !custom && !slices.Contains(EditableLeadFields, f):
			return fmt.Errorf("%w: %q is not a field you can edit (editable: %s, custom.<name>)", ErrInputInvalid, f,
				strings.Join(EditableLeadFields, ", "))
		case !utf8.ValidString(v) || utf8.RuneCountInString(v) > maxLeadField:
			return fmt.Errorf("%w: %s must be at most %d characters", ErrInputInvalid, f, maxLeadField)
		case strings.ContainsAny(v, "\r\n\t\x00"):
			return fmt.Errorf("%w: %s must be one line", ErrInputInvalid, f)
		case f == "email" && v != "":
			if a, err := mail.ParseAddress(v); err != nil || a.Address != v || a.Name != "" {
				return fmt.Errorf("%w: email %q is not an address such as name@example.com", ErrInputInvalid, v)
			}
		}
	}
	return nil
}

func customKeyOK(key string) bool {
	if key == "" || !utf8.ValidString(key) || utf8.RuneCountInString(key) > maxCustomKey || strings.TrimSpace(key) != key {
		return false
	}
	for _, r := range key {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// EditLead applies an agent's change to a lead in one transaction: each
// field that changes gets a lead_edits row (what it was, what it is, who,
// when), and a changed state, postal code or country moves the lead to the
// calling-window group of its new place. Fields that already hold the value
// are left out. It returns the edits made and the lead as it is now.
func EditLead(ctx context.Context, db TxDB, ch LeadChange) ([]LeadEdit, Lead, error) {
	if err := ch.check(); err != nil {
		return nil, Lead{}, err
	}
	if v, ok := ch.Fields["alt_phone"]; ok && strings.TrimSpace(v) != "" {
		phone, err := NormalizePhone(v, ch.Region)
		if err != nil {
			return nil, Lead{}, fmt.Errorf("%w: alt_phone: %v", ErrInputInvalid, err)
		}
		ch.Fields["alt_phone"] = phone
	}
	tx, err := db.Begin(ctx)
	if err != nil {
		return nil, Lead{}, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	// The row lock keeps two agents' (or a supervisor's) edits from
	// logging a "before" that the other already changed.
	var locked ID
	if err := tx.QueryRow(ctx, `SELECT campaign_id FROM leads WHERE id = $1 FOR UPDATE`, ch.Lead).Scan(&locked); err != nil {
		return nil, Lead{}, storeWriteError(err, fmt.Sprintf("lead %d", ch.Lead))
	}
	if locked != ch.Campaign {
		return nil, Lead{}, fmt.Errorf("lead %d: %w", ch.Lead, ErrNotFound)
	}
	lead, err := GetLead(ctx, tx, ch.Lead)
	if err != nil {
		return nil, Lead{}, err
	}
	cols := leadColumns(&lead)
	fields := make([]string, 0, len(ch.Fields))
	for f := range ch.Fields {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	var edits []LeadEdit
	custom := lead.Custom
	moved := false
	for _, f := range fields {
		after := ch.Fields[f]
		var before string
		if key, ok := strings.CutPrefix(f, "custom."); ok {
			before = custom[key]
			if before == after {
				continue
			}
			if after == "" {
				delete(custom, key)
			} else {
				custom[key] = after
			}
			if len(custom) > maxCustomFields {
				return nil, Lead{}, fmt.Errorf("%w: a lead keeps at most %d custom fields", ErrInputInvalid, maxCustomFields)
			}
		} else {
			before = *cols[f]
			if before == after {
				continue
			}
			*cols[f] = after
			moved = moved || placeFields[f]
		}
		e := LeadEdit{Lead: ch.Lead, Campaign: ch.Campaign, Field: f, Before: before, After: after, User: ch.User, Call: ch.Call, At: ch.At}
		var call any
		if ch.Call != 0 {
			call = ch.Call
		}
		if err := tx.QueryRow(ctx, `INSERT INTO lead_edits (lead_id, campaign_id, field, before, after, user_id, call_seq, at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, e.Lead, e.Campaign, e.Field, e.Before, e.After, e.User, call, e.At).
			Scan(&e.ID); err != nil {
			return nil, Lead{}, fmt.Errorf("log edit of lead %d %s: %w", ch.Lead, f, err)
		}
		edits = append(edits, e)
	}
	if len(edits) == 0 {
		return edits, lead, tx.Commit(ctx)
	}
	customJSON, err := json.Marshal(custom)
	if err != nil {
		return nil, Lead{}, err
	}
	if _, err := tx.Exec(ctx, `UPDATE leads SET first_name = $2, last_name = $3, address1 = $4, address2 = $5,
		address3 = $6, city = $7, state = $8, postal_code = $9, country = $10, email = $11, alt_phone = $12, custom = $13
		WHERE id = $1`, ch.Lead, lead.FirstName, lead.LastName, lead.Address1, lead.Address2, lead.Address3, lead.City,
		lead.State, lead.PostalCode, lead.Country, lead.Email, lead.AltPhone, customJSON); err != nil {
		return nil, Lead{}, fmt.Errorf("edit lead %d: %w", ch.Lead, err)
	}
	if moved {
		zones, states := LeadPlace(lead.Phone, lead.State, lead.PostalCode, lead.Country)
		if len(zones) > 0 {
			g, err := ensureTZGroup(ctx, tx, zones, states)
			if err != nil {
				return nil, Lead{}, err
			}
			if _, err := tx.Exec(ctx, `UPDATE leads SET tz_group = $2 WHERE id = $1`, ch.Lead, g); err != nil {
				return nil, Lead{}, fmt.Errorf("move lead %d to its new calling-window group: %w", ch.Lead, err)
			}
		}
	}
	return edits, lead, tx.Commit(ctx)
}

// leadColumns points at the lead's editable columns by name.
func leadColumns(l *Lead) map[string]*string {
	return map[string]*string{"first_name": &l.FirstName, "last_name": &l.LastName, "address1": &l.Address1,
		"address2": &l.Address2, "address3": &l.Address3, "city": &l.City, "state": &l.State,
		"postal_code": &l.PostalCode, "country": &l.Country, "email": &l.Email, "alt_phone": &l.AltPhone}
}

// LeadEdits lists a lead's edits, oldest first.
func LeadEdits(ctx context.Context, db DB, lead LeadID) ([]LeadEdit, error) {
	rows, err := db.Query(ctx, `SELECT id, lead_id, campaign_id, field, before, after, user_id, coalesce(call_seq, 0), at
		FROM lead_edits WHERE lead_id = $1 ORDER BY at, id`, lead)
	if err != nil {
		return nil, fmt.Errorf("edits of lead %d: %w", lead, err)
	}
	defer rows.Close()
	out := []LeadEdit{}
	for rows.Next() {
		var e LeadEdit
		if err := rows.Scan(&e.ID, &e.Lead, &e.Campaign, &e.Field, &e.Before, &e.After, &e.User, &e.Call, &e.At); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
