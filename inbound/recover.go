package inbound

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ExitNodeLost is the reason of the exit CloseOrphans gives a caller whose
// node is gone.
const ExitNodeLost = "node lost"

// orphanLookback bounds how far back CloseOrphans looks for open visits.
const orphanLookback = 24 * time.Hour

// openVisitsSQL: the last event of each call of the last day, where it
// leaves the caller waiting, logged by a node that is not alive in the same
// life (expired, stopped, or started again since the event).
const openVisitsSQL = `
WITH last AS (
	SELECT DISTINCT ON (call_key) ` + queueEventColumns + `
	FROM queue_events WHERE at > $1 ORDER BY call_key, seq DESC
)
SELECT * FROM last l
WHERE l.kind IN ('enter', 'offer', 'reject', 'timeout') AND l.node <> '' AND l.call_key > 0
  AND NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = l.node AND n.expires_at > now() AND n.stopped_at IS NULL
	AND n.started_at <= l.at)`

// CloseOrphans gives every caller left waiting by a node that is no longer
// alive (killed, or restarted since) an exit event, "node lost", at now:
// their leg died with that node, and the figures must not count them as
// waiting. Any node may run it at any time; it takes the log's append turn,
// so two running at once close each caller once. It returns how many it
// closed.
func (s *EventStore) CloseOrphans(ctx context.Context, db TxDB, now time.Time) (int, error) {
	var closed int
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", appendLockKey); err != nil {
			return err
		}
		open, err := (&EventStore{db: tx}).query(ctx, openVisitsSQL, now.Add(-orphanLookback))
		if err != nil {
			return err
		}
		for _, e := range open {
			exit := Event{Queue: e.Queue, Call: e.Call, Kind: EvExit, At: now, Entered: e.Entered, From: e.From,
				DID: e.DID, Detail: ExitNodeLost, Node: e.Node}
			if _, err := tx.Exec(ctx, insertQueueEventSQL, int64(exit.Queue), int64(exit.Call), exit.Kind.String(),
				dbTime(exit.At), enteredArg(exit.Entered), nil, exit.From, exit.DID, exit.Detail, exit.Node); err != nil {
				return err
			}
		}
		closed = len(open)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("close callers of lost nodes: %w", err)
	}
	return closed, nil
}

func enteredArg(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = dbTime(t)
	return &t
}
