package campaigns

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// completeBatch is how many leads CompleteLeadGroups moves per statement.
const completeBatch = 5000

// CompleteLeadGroups moves every lead still in a calling-window group made
// before migration 0012 (zones from the address only) to the complete group
// of its address and number (LeadPlace), and returns how many it moved.
// Until it has, the hopper never opens such a lead's group, so the window
// holds for old leads too; `pacer serve` runs it before it dials. Safe to
// run on several nodes at once and to repeat.
func CompleteLeadGroups(ctx context.Context, db DB) (int64, error) {
	rows, err := db.Query(ctx, "SELECT id FROM tz_groups WHERE NOT complete")
	if err != nil {
		return 0, fmt.Errorf("incomplete calling-window groups: %w", err)
	}
	legacy, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil || len(legacy) == 0 {
		return 0, err
	}
	groups := map[string]int32{}
	var moved int64
	var after LeadID
	for {
		type lead struct {
			id                            LeadID
			phone, state, postal, country string
		}
		rows, err := db.Query(ctx, `SELECT id, phone, state, postal_code, country FROM leads
WHERE tz_group = ANY($1) AND id > $2 ORDER BY id LIMIT $3`, legacy, after, completeBatch)
		if err != nil {
			return moved, fmt.Errorf("leads in incomplete calling-window groups: %w", err)
		}
		batch, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (lead, error) {
			var l lead
			return l, r.Scan(&l.id, &l.phone, &l.state, &l.postal, &l.country)
		})
		if err != nil {
			return moved, fmt.Errorf("leads in incomplete calling-window groups: %w", err)
		}
		if len(batch) == 0 {
			return moved, nil
		}
		ids := make([]LeadID, 0, len(batch))
		to := make([]int32, 0, len(batch))
		for _, l := range batch {
			after = l.id
			zones, states := LeadPlace(l.phone, l.state, l.postal, l.country)
			if len(zones) == 0 {
				continue // nothing places it: it stays where no window opens
			}
			key := groupKey(zones, states)
			g, ok := groups[key]
			if !ok {
				if g, err = ensureTZGroup(ctx, db, zones, states); err != nil {
					return moved, err
				}
				groups[key] = g
			}
			ids = append(ids, l.id)
			to = append(to, g)
		}
		tag, err := db.Exec(ctx, `UPDATE leads l SET tz_group = m.g
FROM unnest($1::bigint[], $2::integer[]) AS m(id, g)
WHERE l.id = m.id AND l.tz_group = ANY($3)`, ids, to, legacy)
		if err != nil {
			return moved, fmt.Errorf("move leads to complete calling-window groups: %w", err)
		}
		moved += tag.RowsAffected()
	}
}

// groupKey identifies a calling-window group in a memo.
func groupKey(zones, states []string) string {
	return strings.Join(zones, ",") + "|" + strings.Join(states, ",")
}
