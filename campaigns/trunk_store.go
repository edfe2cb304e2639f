package campaigns

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Trunks: tables trunks and campaign_trunks (migrations/0022_trunks.sql).

// touchCampaigns moves updated_at of the campaigns where says (one
// argument): whatever a campaign dials with — its trunks, a trunk's
// settings, its recordings — changing shows there, for whoever watches
// campaigns for changes.
func touchCampaigns(ctx context.Context, db DB, where string, arg any) error {
	if _, err := db.Exec(ctx, "UPDATE campaigns SET updated_at = now() WHERE "+where, arg); err != nil {
		return fmt.Errorf("mark campaigns changed: %w", err)
	}
	return nil
}

const trunkColumns = `t.id, t.name, t.uri, t.username, t.password, t.max_channels, t.cps::float8,
	t.caller_id_header, t.transfer_method, t.enabled, t.created_at, t.updated_at,
	ARRAY(SELECT c.name FROM campaign_trunks ct JOIN campaigns c ON c.id = ct.campaign_id
		WHERE ct.trunk_id = t.id ORDER BY c.name)`

func scanTrunk(row pgx.Row) (Trunk, error) {
	var t Trunk
	err := row.Scan(&t.ID, &t.Name, &t.URI, &t.Username, &t.Password, &t.MaxChannels, &t.CPS,
		&t.CallerIDHeader, &t.TransferMethod, &t.Enabled, &t.CreatedAt, &t.UpdatedAt, &t.Campaigns)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, ErrNotFound
	}
	t.PasswordSet = t.Password != ""
	return t, err
}

func queryTrunks(ctx context.Context, db DB, sql string, args ...any) ([]Trunk, error) {
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("list trunks: %w", err)
	}
	defer rows.Close()
	out := []Trunk{}
	for rows.Next() {
		t, err := scanTrunk(rows)
		if err != nil {
			return nil, fmt.Errorf("list trunks: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// trunkWriteError turns a violated constraint into the refusal the manager
// reads; Go-side checks catch the same first.
func trunkWriteError(err error, name string) error {
	var pe *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("trunk %q: %w", name, ErrNotFound)
	case errors.As(err, &pe) && pe.Code == "23505":
		return &TrunkError{Field: "name", Message: fmt.Sprintf("a trunk named %q already exists", name)}
	case errors.As(err, &pe) && pe.Code == "23514":
		return &TrunkError{Field: "", Message: fmt.Sprintf("trunk %q refused by rule %s", name, pe.ConstraintName)}
	}
	return fmt.Errorf("save trunk %q: %w", name, err)
}

// AddTrunk creates a trunk. Name and URI are required; the rest default
// (DefaultTrunkChannels, DefaultTrunkCPS, caller ID in From, transfers
// bridged, enabled).
func AddTrunk(ctx context.Context, db DB, spec TrunkSpec) (Trunk, error) {
	t := Trunk{MaxChannels: DefaultTrunkChannels, CPS: DefaultTrunkCPS, CallerIDHeader: CallerIDFrom, TransferMethod: TransferBridge, Enabled: true}
	if spec.Name == nil || strings.TrimSpace(*spec.Name) == "" {
		return t, trunkError("name", "a trunk needs a name")
	}
	if spec.URI == nil || strings.TrimSpace(*spec.URI) == "" {
		return t, trunkError("uri", "a trunk needs a URI: sip:HOST[:PORT][;transport=udp|tcp]")
	}
	if err := spec.apply(&t); err != nil {
		return t, err
	}
	var id TrunkID
	err := db.QueryRow(ctx, `INSERT INTO trunks (name, uri, username, password, max_channels, cps, caller_id_header, transfer_method, enabled)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		t.Name, t.URI, t.Username, t.Password, t.MaxChannels, t.CPS, t.CallerIDHeader, t.TransferMethod, t.Enabled).Scan(&id)
	if err != nil {
		return t, trunkWriteError(err, t.Name)
	}
	return GetTrunk(ctx, db, id)
}

// GetTrunk returns one trunk, password included (for the SIP layer; never
// serialized).
func GetTrunk(ctx context.Context, db DB, id TrunkID) (Trunk, error) {
	t, err := scanTrunk(db.QueryRow(ctx, "SELECT "+trunkColumns+" FROM trunks t WHERE t.id = $1", id))
	if err != nil {
		return t, fmt.Errorf("trunk %d: %w", id, err)
	}
	return t, nil
}

// GetTrunkByName returns the trunk with that name.
func GetTrunkByName(ctx context.Context, db DB, name string) (Trunk, error) {
	t, err := scanTrunk(db.QueryRow(ctx, "SELECT "+trunkColumns+" FROM trunks t WHERE t.name = $1", name))
	if err != nil {
		return t, fmt.Errorf("trunk %q: %w", name, err)
	}
	return t, nil
}

// ListTrunks returns every trunk by name, each with the campaigns using it.
func ListTrunks(ctx context.Context, db DB) ([]Trunk, error) {
	return queryTrunks(ctx, db, "SELECT "+trunkColumns+" FROM trunks t ORDER BY t.name")
}

// UpdateTrunk changes the fields spec gives. Changes reach the SIP layer
// when it next reads the trunk.
func UpdateTrunk(ctx context.Context, db TxDB, id TrunkID, spec TrunkSpec) (Trunk, error) {
	var out Trunk
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		t, err := scanTrunk(tx.QueryRow(ctx, "SELECT "+trunkColumns+" FROM trunks t WHERE t.id = $1 FOR UPDATE", id))
		if err != nil {
			return fmt.Errorf("trunk %d: %w", id, err)
		}
		if err := spec.apply(&t); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE trunks SET name = $2, uri = $3, username = $4, password = $5, max_channels = $6,
			cps = $7, caller_id_header = $8, transfer_method = $9, enabled = $10, updated_at = now() WHERE id = $1`,
			id, t.Name, t.URI, t.Username, t.Password, t.MaxChannels, t.CPS, t.CallerIDHeader, t.TransferMethod, t.Enabled)
		if err != nil {
			return trunkWriteError(err, t.Name)
		}
		if err := touchCampaigns(ctx, tx, "id IN (SELECT campaign_id FROM campaign_trunks WHERE trunk_id = $1)", id); err != nil {
			return err
		}
		out, err = GetTrunk(ctx, tx, id)
		return err
	})
	return out, err
}

// DeleteTrunk removes a trunk no campaign dials through; otherwise it
// returns a *TrunkInUseError naming them.
func DeleteTrunk(ctx context.Context, db TxDB, id TrunkID) error {
	return pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		t, err := scanTrunk(tx.QueryRow(ctx, "SELECT "+trunkColumns+" FROM trunks t WHERE t.id = $1 FOR UPDATE", id))
		if err != nil {
			return fmt.Errorf("trunk %d: %w", id, err)
		}
		if len(t.Campaigns) > 0 {
			return &TrunkInUseError{Trunk: t.Name, Campaigns: t.Campaigns}
		}
		// A campaign that took the trunk after the lock above still meets the
		// foreign key, which refuses the delete.
		if _, err := tx.Exec(ctx, "DELETE FROM trunks WHERE id = $1", id); err != nil {
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Code == "23503" {
				return &TrunkInUseError{Trunk: t.Name, Campaigns: []string{"(a campaign that just took it)"}}
			}
			return fmt.Errorf("delete trunk %q: %w", t.Name, err)
		}
		return nil
	})
}

// CampaignTrunks returns the trunks a campaign dials through, in priority
// order (first tried first), passwords included, disabled ones too (the
// SIP layer skips those); none means the simulated carrier.
func CampaignTrunks(ctx context.Context, db DB, campaign ID) ([]Trunk, error) {
	return queryTrunks(ctx, db, "SELECT "+trunkColumns+` FROM trunks t
		JOIN campaign_trunks ct ON ct.trunk_id = t.id WHERE ct.campaign_id = $1 ORDER BY ct.priority`, campaign)
}

// SetCampaignTrunks makes the named trunks, in that order, the ones the
// campaign dials through; an empty list puts it back on the simulated
// carrier. A campaign on a real trunk must pass CheckRealCarrier, and an
// active predictive or power one must have its information message
// recorded (CheckCarrier).
func SetCampaignTrunks(ctx context.Context, db TxDB, campaign ID, names []string) ([]Trunk, error) {
	if len(names) > MaxCampaignTrunks {
		return nil, trunkError("trunks", "at most %d trunks per campaign", MaxCampaignTrunks)
	}
	for i, n := range names {
		if slices.Contains(names[:i], n) {
			return nil, trunkError("trunks", "trunk %q is listed twice", n)
		}
	}
	var out []Trunk
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		c, err := getForUpdate(ctx, tx, campaign)
		if err != nil {
			return err
		}
		ids := make([]TrunkID, len(names))
		for i, n := range names {
			// FOR SHARE: a trunk being deleted now cannot be picked up.
			err := tx.QueryRow(ctx, "SELECT id FROM trunks WHERE name = $1 FOR SHARE", n).Scan(&ids[i])
			if errors.Is(err, pgx.ErrNoRows) {
				return trunkError("trunks", "no trunk named %q (see pacer trunks list)", n)
			}
			if err != nil {
				return fmt.Errorf("find trunk %q: %w", n, err)
			}
		}
		if _, err := tx.Exec(ctx, "DELETE FROM campaign_trunks WHERE campaign_id = $1", campaign); err != nil {
			return fmt.Errorf("campaign %d trunks: %w", campaign, err)
		}
		for i, id := range ids {
			if _, err := tx.Exec(ctx, "INSERT INTO campaign_trunks (campaign_id, trunk_id, priority) VALUES ($1, $2, $3)",
				campaign, id, i+1); err != nil {
				return fmt.Errorf("campaign %d trunks: %w", campaign, err)
			}
		}
		if err := CheckCarrier(ctx, tx, c); err != nil {
			return err
		}
		if err := touchCampaigns(ctx, tx, "id = $1", campaign); err != nil {
			return err
		}
		out, err = CampaignTrunks(ctx, tx, campaign)
		return err
	})
	return out, err
}

// CheckCarrier is the check a campaign's settings pass given the carrier it
// dials (its rows in campaign_trunks as db sees them): on a real trunk it
// must pass CheckRealCarrier, and an active predictive or power campaign
// must have its information message recorded, since an abandoned live
// answer hears it. A campaign on the simulated carrier passes. The refusal
// is a *FloorError.
func CheckCarrier(ctx context.Context, db DB, c Campaign) error {
	var trunks []string
	var hasMessage bool
	err := db.QueryRow(ctx, `SELECT
		ARRAY(SELECT t.name FROM campaign_trunks ct JOIN trunks t ON t.id = ct.trunk_id
			WHERE ct.campaign_id = $1 ORDER BY ct.priority),
		EXISTS (SELECT 1 FROM campaign_audio WHERE campaign_id = $1 AND kind = 'info_message')`,
		c.ID).Scan(&trunks, &hasMessage)
	if err != nil {
		return fmt.Errorf("campaign %d carrier: %w", c.ID, err)
	}
	if len(trunks) == 0 {
		return nil
	}
	if err := c.CheckRealCarrier(); err != nil {
		return err
	}
	if c.Status == StatusActive && (c.Mode == ModePredictive || c.Mode == ModePower) && !hasMessage {
		return floorError("info_message_audio",
			"campaign %q dials through trunk %s: a %s campaign on a real trunk may be active only with a recorded information message, played when a live answer cannot be connected in time; upload one first (console: campaign settings, Recordings; CLI: pacer campaigns set %q --info-message-file msg.wav)",
			c.Name, strings.Join(trunks, ", "), c.Mode, c.Name)
	}
	return nil
}

// Change is an edit that may touch a campaign's settings, its trunks and its
// recordings at once (the CLI's `campaigns create|set`), applied in one
// transaction so that the checks see the result as a whole: a campaign may
// be made active, given a trunk and its information message in one go.
type Change struct {
	Settings map[string]string // keys as in Settings; nil for none
	// SetTrunks replaces the campaign's trunks by Trunks (in priority
	// order; empty: the simulated carrier).
	SetTrunks bool
	Trunks    []string
	Audio     []AudioUpload // their Campaign is filled in
}

// ApplyChange applies ch to campaign id. Recordings go first (so a start
// or a new trunk finds the information message), then the settings and
// the trunks, in the order that lets a valid result pass: a trunk list
// that is being emptied first (so the campaign may become simulated), a
// new one after the settings (so it may stop being simulated first).
func ApplyChange(ctx context.Context, db TxDB, id ID, ch Change) (Campaign, error) {
	var c Campaign
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		var err error
		if c, err = getForUpdate(ctx, tx, id); err != nil {
			return err
		}
		for _, a := range ch.Audio {
			a.Campaign = id
			if _, err := SaveCampaignAudio(ctx, tx, a); err != nil {
				return err
			}
		}
		clearing := ch.SetTrunks && len(ch.Trunks) == 0
		if clearing {
			if _, err := SetCampaignTrunks(ctx, tx, id, nil); err != nil {
				return err
			}
		}
		if len(ch.Settings) > 0 {
			if c, err = Update(ctx, tx, id, ch.Settings); err != nil {
				return err
			}
		}
		if ch.SetTrunks && !clearing {
			if _, err := SetCampaignTrunks(ctx, tx, id, ch.Trunks); err != nil {
				return err
			}
		}
		c, err = Get(ctx, tx, id)
		return err
	})
	return c, err
}

// CreateWithChange creates a campaign with ch.Settings, then gives it its
// trunks and recordings, in one transaction.
func CreateWithChange(ctx context.Context, db TxDB, name string, ch Change) (Campaign, error) {
	var c Campaign
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		var err error
		if c, err = Create(ctx, tx, name, ch.Settings); err != nil {
			return err
		}
		ch.Settings = nil
		c, err = ApplyChange(ctx, tx, c.ID, ch)
		return err
	})
	return c, err
}
