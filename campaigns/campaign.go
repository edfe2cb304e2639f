package campaigns

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/shopspring/decimal"
)

// ID identifies a campaign.
type ID int64

// Mode is how a campaign dials.
type Mode string

// Dial modes (DESIGN.md §3).
const (
	ModePredictive Mode = "predictive"
	ModePower      Mode = "power"
	ModePreview    Mode = "preview"
	ModeManual     Mode = "manual"
)

// Status is a campaign's lifecycle state; only active campaigns dial.
type Status string

// Campaign statuses.
const (
	StatusDraft    Status = "draft"
	StatusActive   Status = "active"
	StatusPaused   Status = "paused"
	StatusArchived Status = "archived"
)

// RuleSet names the abandon-rate regime a campaign is held to.
type RuleSet string

// Rule sets: US (FCC/FTC: 3% of live answers over a rolling 30 days per
// campaign) and UK (Ofcom: per 24 h, AMD false positives counted as abandons,
// 72 h before an abandoned number may be called again).
const (
	RulesUS RuleSet = "us"
	RulesUK RuleSet = "uk"
)

// UKLockout is Ofcom's minimum wait before calling an abandoned number again.
const UKLockout = 72 * time.Hour

// ErrNotFound is returned when a campaign, lead or list does not exist.
var ErrNotFound = errors.New("not found")

// Campaign is every setting of a campaign. JSON names are the setting keys
// used by the CLI and API.
type Campaign struct {
	ID                ID                `json:"id"`
	Name              string            `json:"name"`
	Mode              Mode              `json:"mode"`
	PowerRatio        float64           `json:"power_ratio"`
	AbandonTarget     float64           `json:"abandon_target"`
	Rules             RuleSet           `json:"rules"`
	AMDFalsePositive  float64           `json:"amd_false_positive"`
	AbandonLockoutS   int               `json:"abandon_lockout_s"`
	RingTimeoutS      int               `json:"ring_timeout_s"`
	ConnectDeadlineMS int               `json:"connect_deadline_ms"`
	WindowStart       string            `json:"window_start"`
	WindowEnd         string            `json:"window_end"`
	WindowNote        string            `json:"window_note"`
	StateWindows      map[string]string `json:"state_windows"`
	CallerID          string            `json:"caller_id"`
	InfoMessage       string            `json:"info_message"`
	MaxAttempts       int               `json:"max_attempts"`
	MaxAttemptsPerDay int               `json:"max_attempts_per_day"`
	RetryNoAnswerS    int               `json:"retry_no_answer_s"`
	RetryBusyS        int               `json:"retry_busy_s"`
	RetryMachineS     int               `json:"retry_machine_s"`
	RetryAbandonedS   int               `json:"retry_abandoned_s"`
	RetryFailedS      int               `json:"retry_failed_s"`
	LeadOrder         string            `json:"lead_order"`
	Status            Status            `json:"status"`
	Script            string            `json:"script"`
	RatePerMinute     decimal.Decimal   `json:"rate_per_minute"`
	DefaultRegion     string            `json:"default_region"`
	WrapupLimitS      int               `json:"wrapup_limit_s"`
	WrapupThen        string            `json:"wrapup_then"`
	CallbackGraceS    int               `json:"callback_grace_s"`
	CallbackGraceThen string            `json:"callback_grace_then"`
	// PreviewSkipLimitPerHour caps an agent's preview skips per rolling
	// hour (0: no cap); PreviewSkipHoldS is how long a skipped lead is not
	// offered again to the agent who skipped it.
	PreviewSkipLimitPerHour int `json:"preview_skip_limit_per_hour"`
	PreviewSkipHoldS        int `json:"preview_skip_hold_s"`
	// Simulated marks a campaign that dials only the simulated carrier: it
	// is exempt from the law's floors and refused by CheckRealCarrier.
	Simulated bool      `json:"simulated"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Window is the campaign's calling window.
func (c *Campaign) Window() (Window, error) {
	return ParseWindow(c.WindowStart+"-"+c.WindowEnd, c.StateWindows)
}

// PreviewSkipHold is how long a skipped preview lead is kept from the agent
// who skipped it.
func (c *Campaign) PreviewSkipHold() time.Duration {
	return time.Duration(c.PreviewSkipHoldS) * time.Second
}

// RingTimeout is how long an unanswered call rings before it is given up.
func (c *Campaign) RingTimeout() time.Duration { return time.Duration(c.RingTimeoutS) * time.Second }

// ConnectDeadline is how long a live answer may wait for an agent.
func (c *Campaign) ConnectDeadline() time.Duration {
	return time.Duration(c.ConnectDeadlineMS) * time.Millisecond
}

// AbandonWindow is the period over which the abandon rate is measured.
func (c *Campaign) AbandonWindow() time.Duration {
	if c.Rules == RulesUK {
		return 24 * time.Hour
	}
	return 30 * 24 * time.Hour
}

const campaignColumns = `id, name, dial_mode, power_ratio::float8, abandon_target::float8, rule_set,
	amd_false_positive::float8, abandon_lockout_s, ring_timeout_s, connect_deadline_ms,
	to_char(window_start, 'HH24:MI'), CASE WHEN window_end = '24:00' THEN '24:00' ELSE to_char(window_end, 'HH24:MI') END,
	window_note, state_windows, caller_id, info_message, max_attempts, max_attempts_per_day,
	retry_no_answer_s, retry_busy_s, retry_machine_s, retry_abandoned_s, retry_failed_s,
	lead_order, status, script, rate_per_minute, default_region, wrapup_limit_s, wrapup_then,
	callback_grace_s, callback_grace_then, simulated, created_at, updated_at, preview_skip_limit_per_hour,
	preview_skip_hold_s`

func scanCampaign(row pgx.Row) (Campaign, error) {
	var c Campaign
	var states []byte
	err := row.Scan(&c.ID, &c.Name, &c.Mode, &c.PowerRatio, &c.AbandonTarget, &c.Rules,
		&c.AMDFalsePositive, &c.AbandonLockoutS, &c.RingTimeoutS, &c.ConnectDeadlineMS,
		&c.WindowStart, &c.WindowEnd, &c.WindowNote, &states, &c.CallerID, &c.InfoMessage,
		&c.MaxAttempts, &c.MaxAttemptsPerDay, &c.RetryNoAnswerS, &c.RetryBusyS, &c.RetryMachineS,
		&c.RetryAbandonedS, &c.RetryFailedS, &c.LeadOrder, &c.Status, &c.Script, &c.RatePerMinute,
		&c.DefaultRegion, &c.WrapupLimitS, &c.WrapupThen, &c.CallbackGraceS, &c.CallbackGraceThen, &c.Simulated, &c.CreatedAt, &c.UpdatedAt,
		&c.PreviewSkipLimitPerHour, &c.PreviewSkipHoldS)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(states, &c.StateWindows); err != nil {
		return c, fmt.Errorf("campaign %d state windows: %w", c.ID, err)
	}
	return c, nil
}

// Get returns one campaign.
func Get(ctx context.Context, db DB, id ID) (Campaign, error) {
	c, err := scanCampaign(db.QueryRow(ctx, "SELECT "+campaignColumns+" FROM campaigns WHERE id = $1", id))
	if err != nil {
		return c, fmt.Errorf("campaign %d: %w", id, err)
	}
	return c, nil
}

// GetByName returns the campaign with that name.
func GetByName(ctx context.Context, db DB, name string) (Campaign, error) {
	c, err := scanCampaign(db.QueryRow(ctx, "SELECT "+campaignColumns+" FROM campaigns WHERE name = $1", name))
	if err != nil {
		return c, fmt.Errorf("campaign %q: %w", name, err)
	}
	return c, nil
}

// List returns every campaign, by name.
func List(ctx context.Context, db DB) ([]Campaign, error) {
	rows, err := db.Query(ctx, "SELECT "+campaignColumns+" FROM campaigns ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	defer rows.Close()
	var out []Campaign
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Create inserts a campaign with the given settings (keys as in Campaign's
// JSON; see Settings) and its default dispositions, in one transaction.
func Create(ctx context.Context, db TxDB, name string, settings map[string]string) (Campaign, error) {
	changes, err := parseSettings(settings)
	if err != nil {
		return Campaign{}, err
	}
	var c Campaign
	err = pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		var id ID
		if err := tx.QueryRow(ctx, "INSERT INTO campaigns (name) VALUES ($1) RETURNING id", name).Scan(&id); err != nil {
			return constraintError(err)
		}
		if c, err = update(ctx, tx, id, changes); err != nil {
			return err
		}
		return insertDefaultDispositions(ctx, tx, id)
	})
	return c, err
}

// Update changes settings of a campaign; keys as in Settings. The new
// settings are checked together (a UK campaign keeps its 72 h lock-out, a
// campaign that is not simulated the law's floors).
func Update(ctx context.Context, db TxDB, id ID, settings map[string]string) (Campaign, error) {
	changes, err := parseSettings(settings)
	if err != nil {
		return Campaign{}, err
	}
	var c Campaign
	err = pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		c, err = update(ctx, tx, id, changes)
		return err
	})
	return c, err
}

// update applies parsed settings to campaign id once the result holds the
// law's floors, and returns the campaign as stored.
func update(ctx context.Context, tx pgx.Tx, id ID, changes map[string]any) (Campaign, error) {
	if changes["rules"] == string(RulesUK) {
		if _, set := changes["abandon_lockout_s"]; !set {
			changes["abandon_lockout_s"] = int(UKLockout / time.Second)
		}
	}
	c, err := getForUpdate(ctx, tx, id)
	if err != nil {
		return c, err
	}
	next, err := c.with(changes)
	if err != nil {
		return c, err
	}
	if err := next.CheckFloors(); err != nil {
		return c, err
	}
	if err := CheckCarrier(ctx, tx, next); err != nil {
		return c, err
	}
	if err := applySettings(ctx, tx, id, changes); err != nil {
		return c, err
	}
	return Get(ctx, tx, id)
}

func getForUpdate(ctx context.Context, db DB, id ID) (Campaign, error) {
	c, err := scanCampaign(db.QueryRow(ctx, "SELECT "+campaignColumns+" FROM campaigns WHERE id = $1 FOR UPDATE", id))
	if err != nil {
		return c, fmt.Errorf("campaign %d: %w", id, err)
	}
	return c, nil
}

// SetStatus moves a campaign to a status (start = active, pause = paused).
// A predictive or power campaign that is not simulated starts only with a
// caller ID and an information message (CheckFloors), and on a real trunk
// only with that message recorded (CheckCarrier).
func SetStatus(ctx context.Context, db TxDB, id ID, status Status) (Campaign, error) {
	switch status {
	case StatusDraft, StatusActive, StatusPaused, StatusArchived:
	default:
		return Campaign{}, fmt.Errorf("unknown campaign status %q", status)
	}
	var c Campaign
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		var err error
		c, err = update(ctx, tx, id, map[string]any{"status": string(status)})
		return err
	})
	return c, err
}

// constraintError turns a violated constraint into a sentence for the
// operator; Go-side validation catches most mistakes first, this is the net
// for the rest.
func constraintError(err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	switch pgErr.Code {
	case "23505":
		if pgErr.ConstraintName == "campaigns_name_key" {
			return settingMessage("name", "a campaign with that name already exists")
		}
		return fmt.Errorf("duplicate: %s", pgErr.Detail)
	case "23514":
		if msg, ok := checkMessages[pgErr.ConstraintName]; ok {
			return settingMessage(checkSettings[pgErr.ConstraintName], msg)
		}
		return fmt.Errorf("setting refused by rule %s", pgErr.ConstraintName)
	}
	return err
}

// checkSettings names the setting each CHECK is about.
var checkSettings = map[string]string{
	"campaigns_name_check": "name", "campaigns_check": "window_end", "campaigns_check1": "abandon_lockout_s",
	"campaigns_rule_set_check": "rules", "campaigns_ring_timeout_s_check": "ring_timeout_s",
	"campaigns_connect_deadline_ms_check": "connect_deadline_ms", "campaigns_abandon_target_check": "abandon_target",
	"campaigns_abandon_floor": "abandon_target", "campaigns_us_window_floor": "window_start",
	"campaigns_us_state_window_floor": "state_windows", "campaigns_start_floor": "caller_id",
}

var checkMessages = map[string]string{
	"campaigns_name_check":                "campaign name must be 1 to 100 characters",
	"campaigns_check":                     "the calling window must start before it ends",
	"campaigns_check1":                    "abandon_lockout_s refused: UK rules (Ofcom) need at least 259200 s (72 h)",
	"campaigns_rule_set_check":            "rules must be us or uk",
	"campaigns_ring_timeout_s_check":      "ring_timeout_s refused: US rules (TCPA) need at least 15 s of ringing (allowed 15..600 s)",
	"campaigns_connect_deadline_ms_check": "connect_deadline_ms refused: US rules (TCPA) allow at most 2000 ms (allowed 100..2000 ms)",
	"campaigns_abandon_target_check":      "abandon_target refused: allowed above 0 and at most 0.05 (0.03 unless simulated)",
	"campaigns_abandon_floor":             "abandon_target refused: US (TCPA) and UK (Ofcom) rules allow at most 0.03",
	"campaigns_us_window_floor":           "calling window refused: US rules (TCPA) allow calls only inside 08:00-21:00 local time",
	"campaigns_us_state_window_floor":     "state window refused: US rules (TCPA) allow calls only inside 08:00-21:00 local time, never over midnight",
	"campaigns_start_floor":               "start refused: a predictive or power campaign needs an E.164 caller ID that can be called back and a non-empty info_message",
}
