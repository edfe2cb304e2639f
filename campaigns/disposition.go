package campaigns

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// Category groups dispositions for reporting and for the rules that follow
// from them (a dnc disposition adds the number to the campaign's DNC list
// and ends the lead).
type Category string

// Disposition categories.
const (
	CategorySale          Category = "sale"
	CategoryContact       Category = "contact"
	CategoryCallback      Category = "callback"
	CategoryDNC           Category = "dnc"
	CategoryNotInterested Category = "not-interested"
	CategoryWrongNumber   Category = "wrong-number"
	CategoryNoContact     Category = "no-contact"
	CategoryMachine       Category = "machine"
)

// Disposition is how a call ended, as an agent or the engine recorded it.
type Disposition struct {
	Code     string   `json:"code"`
	Label    string   `json:"label"`
	Category Category `json:"category"`
	// Final ends the lead: it is never dialled again.
	Final bool `json:"final"`
	// RecycleAfterS, when not final, is when the lead may be dialled again;
	// 0 means the campaign's retry delay for the call's outcome applies.
	RecycleAfterS     int  `json:"recycle_after_s"`
	SchedulesCallback bool `json:"schedules_callback"`
	// System dispositions are set by the engine, never offered to agents.
	System bool `json:"system"`
}

// System disposition codes the engine sets for calls no agent handled.
const (
	DispoNoAnswer = "NA"
	DispoBusy     = "B"
	DispoMachine  = "AA"
	DispoDrop     = "DROP"
	DispoFail     = "FAIL"
	// DispoAuto is what the wrap-up limit records when an agent stays in
	// DISPO too long: the person was reached, the lead follows the
	// campaign's retry rules.
	DispoAuto = "AUTO"
)

// DefaultDispositions is the set every new campaign starts with.
var DefaultDispositions = []Disposition{
	{Code: "SALE", Label: "Sale", Category: CategorySale, Final: true},
	{Code: "NI", Label: "Not interested", Category: CategoryNotInterested, Final: true},
	{Code: "CALLBK", Label: "Callback", Category: CategoryCallback, SchedulesCallback: true},
	{Code: "DNC", Label: "Do not call", Category: CategoryDNC, Final: true},
	{Code: "WN", Label: "Wrong number", Category: CategoryWrongNumber, Final: true},
	{Code: "AM", Label: "Answering machine", Category: CategoryMachine},
	{Code: DispoNoAnswer, Label: "No answer", Category: CategoryNoContact, System: true},
	{Code: DispoBusy, Label: "Busy", Category: CategoryNoContact, System: true},
	{Code: DispoMachine, Label: "Machine detected", Category: CategoryMachine, System: true},
	{Code: DispoDrop, Label: "Abandoned", Category: CategoryNoContact, System: true},
	{Code: DispoFail, Label: "Invalid number or network failure", Category: CategoryNoContact, System: true},
	{Code: DispoAuto, Label: "Wrap-up time ran out", Category: CategoryContact, System: true},
}

const insertDispositionSQL = `
INSERT INTO dispositions (campaign_id, code, label, category, final, recycle_after_s, schedules_callback, system, position)
VALUES ($1, $2, $3, $4, $5, NULLIF($6, 0), $7, $8, $9)`

func insertDefaultDispositions(ctx context.Context, db DB, id ID) error {
	for i, d := range DefaultDispositions {
		if _, err := db.Exec(ctx, insertDispositionSQL, id, d.Code, d.Label, string(d.Category), d.Final,
			d.RecycleAfterS, d.SchedulesCallback, d.System, i); err != nil {
			return fmt.Errorf("default disposition %s: %w", d.Code, err)
		}
	}
	return nil
}

// ErrEngineDisposition: the engine's codes (NA, B, AA, DROP, FAIL, AUTO)
// mean what the engine recorded; they are neither edited nor chosen by agents.
var ErrEngineDisposition = errors.New("engine disposition codes (NA, B, AA, DROP, FAIL, AUTO) cannot be edited")

// IsEngineCode reports whether code is one the engine sets.
func IsEngineCode(code string) bool {
	switch code {
	case DispoNoAnswer, DispoBusy, DispoMachine, DispoDrop, DispoFail, DispoAuto:
		return true
	}
	return false
}

// Valid reports whether c is one of the categories.
func (c Category) Valid() bool {
	switch c {
	case CategorySale, CategoryContact, CategoryCallback, CategoryDNC, CategoryNotInterested, CategoryWrongNumber,
		CategoryNoContact, CategoryMachine:
		return true
	}
	return false
}

var dispositionCode = regexp.MustCompile(`^[A-Z0-9_]{1,16}$`)

// DispositionPatch changes the fields it sets and leaves the others as they
// are. A new disposition needs a label; it starts as category contact, not
// final, no recycle time, no callback.
type DispositionPatch struct {
	Label    *string
	Category *Category
	// Final, when not set, follows the category: a dnc disposition is final.
	Final *bool
	// RecycleAfterS set to 0 clears the recycle time (the campaign's retry
	// delay applies).
	RecycleAfterS     *int
	SchedulesCallback *bool
}

// Editor is who changes a disposition, and when.
type Editor struct {
	// User is the users.id, 0 none.
	User int64
	// Name is required.
	Name string
	// At is when; zero takes the transaction's start.
	At time.Time
}

// apply returns d with p's changes and the rules that follow from them.
func (p DispositionPatch) apply(d Disposition) (Disposition, error) {
	if p.Label != nil {
		d.Label = strings.TrimSpace(*p.Label)
	}
	if p.Category != nil {
		d.Category = *p.Category
	}
	if p.Final != nil {
		d.Final = *p.Final
	}
	if p.RecycleAfterS != nil {
		d.RecycleAfterS = *p.RecycleAfterS
	}
	if p.SchedulesCallback != nil {
		d.SchedulesCallback = *p.SchedulesCallback
	}
	if d.Category == CategoryDNC {
		if p.Final != nil && !*p.Final {
			return d, errors.New("a dnc disposition puts the number on the DNC list and is always final")
		}
		d.Final = true
	}
	// A lead that is finished is never recycled: a recycle time left from
	// before goes; one given with final is a contradiction.
	if d.Final && d.RecycleAfterS > 0 {
		if p.RecycleAfterS != nil {
			return d, errors.New("a final disposition cannot also recycle the lead")
		}
		d.RecycleAfterS = 0
	}
	switch n := utf8.RuneCountInString(d.Label); {
	case n == 0:
		return d, errors.New("a disposition needs a label")
	case n > 60:
		return d, errors.New("a disposition's label is at most 60 characters")
	case !d.Category.Valid():
		return d, fmt.Errorf("unknown disposition category %q", d.Category)
	case d.RecycleAfterS < 0:
		return d, errors.New("recycle_after_s cannot be negative")
	case d.Category == CategoryDNC && d.SchedulesCallback:
		return d, errors.New("a dnc disposition cannot schedule a callback to the number")
	}
	return d, nil
}

// EditDisposition adds a disposition to a campaign or changes the fields p
// sets, and logs the change (who, when, before and after) in
// disposition_changes. Engine codes are refused with ErrEngineDisposition.
// A change that changes nothing is not logged.
func EditDisposition(ctx context.Context, db TxDB, campaign ID, code string, p DispositionPatch, by Editor) (Disposition, error) {
	switch {
	case !dispositionCode.MatchString(code):
		return Disposition{}, fmt.Errorf("disposition code %q: 1 to 16 of A-Z, 0-9 and _", code)
	case IsEngineCode(code):
		return Disposition{}, fmt.Errorf("%w: %s is set by the engine", ErrEngineDisposition, code)
	case strings.TrimSpace(by.Name) == "":
		return Disposition{}, errors.New("a disposition change needs to say who makes it")
	}
	var after Disposition
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, "SELECT "+dispositionColumns+" FROM dispositions WHERE campaign_id = $1 AND code = $2 FOR UPDATE",
			campaign, code)
		if err != nil {
			return err
		}
		before, err := pgx.CollectExactlyOneRow(rows, scanDisposition)
		found := err == nil
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			before = Disposition{Code: code, Category: CategoryContact}
		case err != nil:
			return err
		}
		if after, err = p.apply(before); err != nil {
			return err
		}
		if found && after == before {
			return nil
		}
		if _, err := tx.Exec(ctx, insertDispositionSQL+`
ON CONFLICT (campaign_id, code) DO UPDATE SET label = EXCLUDED.label, category = EXCLUDED.category,
	final = EXCLUDED.final, recycle_after_s = EXCLUDED.recycle_after_s, schedules_callback = EXCLUDED.schedules_callback`,
			campaign, after.Code, after.Label, string(after.Category), after.Final, after.RecycleAfterS, after.SchedulesCallback,
			false, 1000); err != nil {
			return constraintError(err)
		}
		var was *Disposition
		if found {
			was = &before
		}
		var at *time.Time
		if !by.At.IsZero() {
			at = &by.At
		}
		_, err = tx.Exec(ctx, `INSERT INTO disposition_changes (campaign_id, code, at, by_user, by_name, before, after)
VALUES ($1, $2, coalesce($3, now()), NULLIF($4, 0), $5, $6, $7)`, campaign, code, at, by.User, strings.TrimSpace(by.Name), was, after)
		return err
	})
	if err != nil {
		return after, fmt.Errorf("save disposition %s: %w", code, err)
	}
	return after, nil
}

// DispositionChange is one logged change to a campaign's disposition.
type DispositionChange struct {
	ID       int64     `json:"id"`
	Campaign ID        `json:"campaign_id"`
	Code     string    `json:"code"`
	At       time.Time `json:"at"`
	// ByUser is the user who made it, 0 none.
	ByUser int64  `json:"by_user,omitempty"`
	By     string `json:"by"`
	// Before is nil when the change created the disposition.
	Before *Disposition `json:"before"`
	After  Disposition  `json:"after"`
}

// DispositionChanges lists up to limit changes to a campaign's dispositions,
// newest first.
func DispositionChanges(ctx context.Context, db DB, campaign ID, limit int) ([]DispositionChange, error) {
	rows, err := db.Query(ctx, `SELECT id, campaign_id, code, at, coalesce(by_user, 0), by_name, before, after
FROM disposition_changes WHERE campaign_id = $1 ORDER BY id DESC LIMIT $2`, campaign, limit)
	if err != nil {
		return nil, fmt.Errorf("disposition changes of campaign %d: %w", campaign, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (DispositionChange, error) {
		var c DispositionChange
		err := r.Scan(&c.ID, &c.Campaign, &c.Code, &c.At, &c.ByUser, &c.By, &c.Before, &c.After)
		return c, err
	})
}

const dispositionColumns = `code, label, category, final, coalesce(recycle_after_s, 0), schedules_callback, system`

// Dispositions lists a campaign's dispositions in display order.
func Dispositions(ctx context.Context, db DB, campaign ID) ([]Disposition, error) {
	rows, err := db.Query(ctx, "SELECT "+dispositionColumns+" FROM dispositions WHERE campaign_id = $1 ORDER BY position, code", campaign)
	if err != nil {
		return nil, fmt.Errorf("dispositions of campaign %d: %w", campaign, err)
	}
	return pgx.CollectRows(rows, scanDisposition)
}

// GetDisposition returns one disposition of a campaign.
func GetDisposition(ctx context.Context, db DB, campaign ID, code string) (Disposition, error) {
	rows, err := db.Query(ctx, "SELECT "+dispositionColumns+" FROM dispositions WHERE campaign_id = $1 AND code = $2", campaign, code)
	if err != nil {
		return Disposition{}, err
	}
	d, err := pgx.CollectExactlyOneRow(rows, scanDisposition)
	if errors.Is(err, pgx.ErrNoRows) {
		return d, fmt.Errorf("disposition %q: %w", code, ErrNotFound)
	}
	return d, err
}

func scanDisposition(row pgx.CollectableRow) (Disposition, error) {
	var d Disposition
	err := row.Scan(&d.Code, &d.Label, &d.Category, &d.Final, &d.RecycleAfterS, &d.SchedulesCallback, &d.System)
	return d, err
}
