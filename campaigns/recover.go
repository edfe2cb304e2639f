package campaigns

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

const recoverStuckSQL = `
UPDATE leads
SET status = CASE WHEN attempts = 0 THEN 'new' ELSE 'retry' END,
    claimed_at = NULL,
    claimed_by = ''
WHERE status = 'dialing'
  AND (claimed_at < $1 OR ($2 <> '' AND claimed_by = $2))`

// RecoverStuck returns to the pool leads left in `dialing` by a dialer that is
// gone: those claimed before claimedBefore, and, when node is not empty, every
// lead claimed by that node (called when a node starts, so nothing it claimed
// in a previous life stays stranded). A recovered lead keeps its attempt count;
// the claim that never completed is not counted as an attempt.
//
// A lead claimed for a callback's offer or dial goes back to waiting for its
// callback, which is due again (recoverCallbacks), not to the pool.
func RecoverStuck(ctx context.Context, db DB, claimedBefore time.Time, node string) (int64, error) {
	held, err := recoverCallbacks(ctx, db, claimedBefore, node)
	if err != nil {
		return 0, err
	}
	tag, err := db.Exec(ctx, recoverStuckSQL, claimedBefore, node)
	if err != nil {
		return 0, fmt.Errorf("recover stuck leads: %w", err)
	}
	return held + tag.RowsAffected(), nil
}

// recoverNodeLeadsSQL lists the leads a dead node still had claimed, other
// than those held for a connected call's disposition.
const recoverNodeLeadsSQL = `
SELECT l.id, l.campaign_id FROM leads l
WHERE l.status = 'dialing' AND l.claimed_by = $1 AND NOT (l.id = ANY($2))
ORDER BY l.id FOR UPDATE OF l`

// RecoverNodeLeads settles, inside a dead node's recovery transaction, the
// leads the node still had claimed: a callback's claim goes back to its
// callback (due again); any other lead may have been dialled (a dial's record
// is written behind, so its absence proves nothing) and counts a failed
// attempt at at, so it waits the campaign's failed retry delay rather than
// being dialled again at once. held are leads kept for a connected call's
// disposition. It returns how many attempts it counted.
func RecoverNodeLeads(ctx context.Context, tx pgx.Tx, node string, held []int64, at time.Time) (int, error) {
	if node == "" {
		return 0, nil
	}
	if _, err := recoverCallbacks(ctx, tx, time.Time{}, node); err != nil {
		return 0, err
	}
	if held == nil {
		held = []int64{}
	}
	rows, err := tx.Query(ctx, recoverNodeLeadsSQL, node, held)
	if err != nil {
		return 0, fmt.Errorf("leads claimed by node %q: %w", node, err)
	}
	type claimed struct{ lead, campaign int64 }
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (claimed, error) {
		var c claimed
		err := r.Scan(&c.lead, &c.campaign)
		return c, err
	})
	if err != nil {
		return 0, fmt.Errorf("leads claimed by node %q: %w", node, err)
	}
	cache := map[int64]*Campaign{}
	n := 0
	for _, l := range list {
		c := cache[l.campaign]
		if c == nil {
			got, err := Get(ctx, tx, ID(l.campaign))
			if err != nil {
				return n, fmt.Errorf("recover lead %d: %w", l.lead, err)
			}
			c = &got
			cache[l.campaign] = c
		}
		if err := complete(ctx, tx, c, Attempt{Lead: LeadID(l.lead), Outcome: OutcomeFailed, At: at}); err != nil {
			return n, fmt.Errorf("recover lead %d: %w", l.lead, err)
		}
		n++
	}
	return n, nil
}
