package campaigns

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// DNCEvent is one recorded change to a do-not-call list (dnc_events).
type DNCEvent struct {
	ID int64     `json:"id"`
	At time.Time `json:"at"`
	// Action is add or remove.
	Action string `json:"action"`
	// Campaign is the list's campaign, 0 the global list.
	Campaign ID     `json:"campaign_id"`
	Phone    string `json:"phone"`
	How      string `json:"how"`
	// ByUser is the user or agent who made the change, 0 none.
	ByUser int64  `json:"by_user,omitempty"`
	By     string `json:"by"`
	// Call is the calls row of the disposition that added the number.
	Call   int64  `json:"call_id,omitempty"`
	Reason string `json:"reason"`
}

// DNCHistoryFilter picks the changes DNCHistory reads.
type DNCHistoryFilter struct {
	// Scope is the one list to read; nil reads every list.
	Scope *DNCScope
	// Number keeps the changes whose number contains its digits (others in
	// it are ignored: "(202) 555-01" finds +12025550123); empty keeps all.
	Number string
	// Limit bounds the changes read, newest first; 0 reads them all.
	Limit int
}

// digits keeps the digits of the filter's number.
func (f DNCHistoryFilter) digits() string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, f.Number)
}

// DNCHistory calls fn with the recorded changes f picks, newest first.
func DNCHistory(ctx context.Context, db DB, f DNCHistoryFilter, fn func(DNCEvent) error) error {
	var limit *int
	if f.Limit > 0 {
		limit = &f.Limit
	}
	var campaign any
	if f.Scope != nil {
		campaign = f.Scope.campaignArg()
	}
	rows, err := db.Query(ctx, `
SELECT id, at, action, coalesce(campaign_id, 0), phone, how, coalesce(by_user, 0), by_name, coalesce(call_id, 0), reason
FROM dnc_events
WHERE ($1 OR campaign_id IS NOT DISTINCT FROM $2::bigint) AND ($3 = '' OR strpos(phone, $3) > 0)
ORDER BY id DESC LIMIT $4`, f.Scope == nil, campaign, f.digits(), limit)
	if err != nil {
		return fmt.Errorf("DNC history: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e DNCEvent
		if err := rows.Scan(&e.ID, &e.At, &e.Action, &e.Campaign, &e.Phone, &e.How, &e.ByUser, &e.By, &e.Call,
			&e.Reason); err != nil {
			return fmt.Errorf("DNC history: %w", err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}
