package campaigns

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Category groups dispositions for reporting and for the rules that follow
// from them (a dnc disposition adds the number to the campaign's DNC list).
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

// SaveDisposition adds a disposition to a campaign, or changes it.
func SaveDisposition(ctx context.Context, db DB, campaign ID, d Disposition) error {
	if d.Final && d.RecycleAfterS > 0 {
		return errors.New("a final disposition cannot also recycle the lead")
	}
	_, err := db.Exec(ctx, insertDispositionSQL+`
ON CONFLICT (campaign_id, code) DO UPDATE SET label = EXCLUDED.label, category = EXCLUDED.category,
	final = EXCLUDED.final, recycle_after_s = EXCLUDED.recycle_after_s,
	schedules_callback = EXCLUDED.schedules_callback, system = EXCLUDED.system`,
		campaign, d.Code, d.Label, string(d.Category), d.Final, d.RecycleAfterS, d.SchedulesCallback, d.System,
		1000)
	if err != nil {
		return fmt.Errorf("save disposition %s: %w", d.Code, constraintError(err))
	}
	return nil
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
