package campaigns

import (
	"context"
	"fmt"
	"time"
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
