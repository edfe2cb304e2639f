package dialer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
)

// Recovery of a dead node (DESIGN.md §7): run by another node once the dead
// one's heartbeat has expired, or by the next life of the same node name, in
// one transaction with the node row locked, so it runs once. It closes what
// the node left open with the honest outcome and never lets a customer be
// dialled sooner than the retry delay of what happened:
//   - a call connected to an agent ends completed and awaits the agent's
//     disposition (its lead stays held); if none comes within the campaign's
//     wrap-up limit, it gets the automatic disposition (AUTO);
//   - a call a person answered but no agent took ends abandoned (it counts
//     in the abandon rate and the number is locked out as for any abandon);
//   - a machine answer ends machine; anything not yet answered ends failed;
//     each of these counts an attempt and takes its retry delay;
//   - a lead the node had claimed with no call on record may have been
//     dialled (the dial's record is written behind): it counts a failed
//     attempt, so it waits the failed retry delay; a callback's claim goes
//     back to its callback;
//   - its agent sessions are closed (node_lost) and its campaign leases
//     released for other nodes to take.
// Nothing here touches a DNC number's lead except to finish it.

// EndCauseNodeLost marks calls closed by recovery after their node died.
const EndCauseNodeLost = "node_lost"

// Recovered counts what one recovery closed.
type Recovered struct {
	Node            string
	Calls           int // calls closed
	AwaitingDispo   int // of them, connected calls left for their agent's disposition
	Attempts        int // lead attempts counted
	UnrecordedLeads int // claimed leads without a call on record, counted failed
	Sessions        int // agent sessions closed
	Leases          int // campaign leases released
}

// Empty reports whether nothing was left open.
func (r Recovered) Empty() bool {
	return r.Calls == 0 && r.Attempts == 0 && r.UnrecordedLeads == 0 && r.Sessions == 0 && r.Leases == 0
}

func (r Recovered) attrs() []any {
	return []any{"dead_node", r.Node, "calls", r.Calls, "awaiting_disposition", r.AwaitingDispo, "attempts", r.Attempts,
		"unrecorded_leads", r.UnrecordedLeads, "agent_sessions", r.Sessions, "leases", r.Leases}
}

const (
	lockDeadNodeSQL = `
SELECT 1 FROM nodes WHERE id = $1 AND stopped_at IS NULL AND recovered_at IS NULL AND expires_at < now()
FOR UPDATE SKIP LOCKED`

	markRecoveredSQL = `UPDATE nodes SET recovered_at = now() WHERE id = $1`

	// The call ends at its last known instant. A connected call awaits
	// its agent's disposition (disposition NULL); the others take their
	// system disposition.
	closeNodeCallsSQL = `
UPDATE calls SET state = 'ended',
	ended_at = greatest(dialed_at, ringing_at, answered_at, connected_at),
	outcome = CASE WHEN connected_at IS NOT NULL THEN 'completed'
	               WHEN answered_by = 'human' THEN 'abandoned'
	               WHEN answered_by = 'machine' THEN 'machine'
	               ELSE 'failed' END,
	abandoned = (connected_at IS NULL AND answered_by IS NOT DISTINCT FROM 'human'),
	disposition = CASE WHEN connected_at IS NOT NULL THEN NULL
	                   WHEN answered_by = 'human' THEN $2
	                   WHEN answered_by = 'machine' THEN $3
	                   ELSE $4 END,
	dispositioned_at = CASE WHEN connected_at IS NOT NULL THEN NULL
	                        ELSE greatest(dialed_at, ringing_at, answered_at, connected_at) END,
	end_cause = $5
WHERE node = $1 AND state <> 'ended'
RETURNING id, campaign_id, coalesce(lead_id, 0), outcome`

	// Connected calls of the node still awaiting a disposition: their
	// leads stay held for it.
	awaitingLeadsSQL = `
SELECT lead_id FROM calls
WHERE node = $1 AND outcome = 'completed' AND disposition IS NULL AND lead_id IS NOT NULL AND NOT without_lead`

	releaseNodeLeasesSQL = `
UPDATE campaign_leases SET node_id = '', renewed_at = greatest(now(), acquired_at), expires_at = greatest(now(), acquired_at)
WHERE node_id = $1`
)

// RecoverNode recovers a dead node (see above). It does nothing, and
// returns an empty Recovered with no Node, when the node is alive, stopped,
// already recovered or being recovered by someone else.
func RecoverNode(ctx context.Context, db NodeDB, clock Clock, node string) (Recovered, error) {
	var rec Recovered
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		var one int
		err := tx.QueryRow(ctx, lockDeadNodeSQL, node).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("lock dead node %q: %w", node, err)
		}
		if rec, err = recoverNodeTx(ctx, tx, clock, node); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, markRecoveredSQL, node)
		return err
	})
	if err != nil {
		return Recovered{}, fmt.Errorf("recover node %q: %w", node, err)
	}
	return rec, nil
}

// recoverNodeTx closes what node left open, inside tx.
func recoverNodeTx(ctx context.Context, tx pgx.Tx, clock Clock, node string) (Recovered, error) {
	rec := Recovered{Node: node}
	now := clock.Now()
	rows, err := tx.Query(ctx, closeNodeCallsSQL, node, campaigns.DispoDrop, campaigns.DispoMachine, campaigns.DispoFail,
		EndCauseNodeLost)
	if err != nil {
		return rec, fmt.Errorf("close calls of node %q: %w", node, err)
	}
	type closed struct {
		call, campaign, lead int64
		outcome              string
	}
	calls, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (closed, error) {
		var c closed
		err := r.Scan(&c.call, &c.campaign, &c.lead, &c.outcome)
		return c, err
	})
	if err != nil {
		return rec, fmt.Errorf("close calls of node %q: %w", node, err)
	}
	rec.Calls = len(calls)
	cache := map[int64]*campaigns.Campaign{}
	campaignOf := func(id int64) (*campaigns.Campaign, error) {
		if c, ok := cache[id]; ok {
			return c, nil
		}
		c, err := campaigns.Get(ctx, tx, campaigns.ID(id))
		if err != nil {
			return nil, err
		}
		cache[id] = &c
		return &c, nil
	}
	for _, c := range calls {
		if c.outcome == string(campaigns.OutcomeCompleted) {
			rec.AwaitingDispo++
			continue
		}
		if c.lead == 0 {
			continue
		}
		camp, err := campaignOf(c.campaign)
		if err != nil {
			return rec, fmt.Errorf("recover call %d: %w", c.call, err)
		}
		err = campaigns.CompleteTx(ctx, tx, camp, campaigns.Attempt{Lead: campaigns.LeadID(c.lead),
			Outcome: campaigns.Outcome(c.outcome), At: now})
		switch {
		case err == nil:
			rec.Attempts++
		case errors.Is(err, campaigns.ErrNotClaimed), errors.Is(err, campaigns.ErrNotFound):
			// Already settled (the node wrote it before dying) or deleted.
		default:
			return rec, fmt.Errorf("count the attempt of call %d: %w", c.call, err)
		}
	}
	n, err := settleLeftLeads(ctx, tx, node, now)
	if err != nil {
		return rec, err
	}
	rec.UnrecordedLeads = n
	sessions, err := agents.RecoverSessions(ctx, tx, node)
	if err != nil {
		return rec, err
	}
	rec.Sessions = int(sessions)
	tag, err := tx.Exec(ctx, releaseNodeLeasesSQL, node)
	if err != nil {
		return rec, fmt.Errorf("release leases of node %q: %w", node, err)
	}
	rec.Leases = int(tag.RowsAffected())
	return rec, nil
}

// settleLeftLeads counts a failed attempt for each lead node still has
// claimed, other than those held for a connected call's disposition
// (campaigns.RecoverNodeLeads); a callback's claim goes back to its callback.
func settleLeftLeads(ctx context.Context, tx pgx.Tx, node string, now time.Time) (int, error) {
	rows, err := tx.Query(ctx, awaitingLeadsSQL, node)
	if err != nil {
		return 0, fmt.Errorf("leads awaiting dispositions on node %q: %w", node, err)
	}
	held, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, fmt.Errorf("leads awaiting dispositions on node %q: %w", node, err)
	}
	return campaigns.RecoverNodeLeads(ctx, tx, node, held, now)
}

// orphanDispoSQL finds connected calls of recovered nodes (closed by the
// recovery, or ended before the node died) whose agent has not
// dispositioned them within the campaign's wrap-up limit (an hour when the
// campaign has none) since the recovery.
const orphanDispoSQL = `
SELECT c.id, c.campaign_id, c.lead_id, coalesce(c.agent_id, 0), c.without_lead, c.direction = 'inbound' FROM calls c
JOIN nodes n ON n.id = c.node
JOIN campaigns k ON k.id = c.campaign_id
WHERE c.outcome = 'completed' AND c.disposition IS NULL AND c.lead_id IS NOT NULL
  AND n.recovered_at IS NOT NULL
  AND n.recovered_at < now() - make_interval(secs => CASE WHEN k.wrapup_limit_s > 0 THEN k.wrapup_limit_s ELSE 3600 END)
ORDER BY c.id LIMIT 100`

const autoDisposeOrphanSQL = `
UPDATE calls SET disposition = $2, dispositioned_at = greatest($3, ended_at), auto_disposition = true
WHERE id = $1 AND disposition IS NULL`

// DisposeOrphans gives the automatic disposition (AUTO) to connected calls
// of dead nodes whose agents did not disposition them in time, and settles
// their leads by the AUTO disposition's rules. It returns how many.
func DisposeOrphans(ctx context.Context, db NodeDB, clock Clock, callbacks campaigns.CallbackJobs) (int, error) {
	rows, err := db.Query(ctx, orphanDispoSQL)
	if err != nil {
		return 0, fmt.Errorf("find calls awaiting dispositions of dead nodes: %w", err)
	}
	type orphan struct {
		call, campaign, lead, agent int64
		withoutLead, inbound        bool
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (orphan, error) {
		var o orphan
		err := r.Scan(&o.call, &o.campaign, &o.lead, &o.agent, &o.withoutLead, &o.inbound)
		return o, err
	})
	if err != nil {
		return 0, fmt.Errorf("find calls awaiting dispositions of dead nodes: %w", err)
	}
	done := 0
	for _, o := range list {
		now := clock.Now()
		err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
			tag, err := tx.Exec(ctx, autoDisposeOrphanSQL, o.call, campaigns.DispoAuto, now)
			if err != nil || tag.RowsAffected() == 0 || (o.withoutLead && !o.inbound) {
				// A call that handed its customer on never settles the lead:
				// the call that had the customer does.
				return err
			}
			c, err := campaigns.Get(ctx, tx, campaigns.ID(o.campaign))
			if err != nil {
				return err
			}
			if o.inbound {
				// The lead the agent attached to an inbound caller's call.
				_, err := campaigns.DisposeInboundLead(ctx, tx, callbacks, campaigns.InboundLeadDisposition{Campaign: &c,
					Lead: campaigns.LeadID(o.lead), Agent: o.agent, Call: o.call,
					Input: campaigns.DispositionInput{Code: campaigns.DispoAuto, NoCallback: true}, At: now, Auto: true})
				if errors.Is(err, campaigns.ErrNotFound) {
					return nil
				}
				return err
			}
			_, err = campaigns.DisposeLead(ctx, tx, callbacks, campaigns.LeadDisposition{Campaign: &c,
				Lead: campaigns.LeadID(o.lead), Agent: o.agent, Call: o.call,
				Input: campaigns.DispositionInput{Code: campaigns.DispoAuto, NoCallback: true}, At: now, Auto: true})
			if errors.Is(err, campaigns.ErrNotClaimed) || errors.Is(err, campaigns.ErrNotFound) {
				return nil // the lead was settled otherwise; the call still gets its code
			}
			return err
		})
		if err != nil {
			return done, fmt.Errorf("automatic disposition of call %d: %w", o.call, err)
		}
		done++
	}
	return done, nil
}
