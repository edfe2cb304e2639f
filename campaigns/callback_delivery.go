package campaigns

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Delivery of callbacks: what their jobs do when they run, and how a
// campaign's loop offers a due `me` callback to its agent. Every step locks
// the callback row and acts only if the row is still where the step expects
// it (status and version), so a job that runs twice, a job of a version since
// rescheduled, or two nodes racing, change nothing the second time.

// FallDueResult says what FallDue did.
type FallDueResult struct {
	Callback Callback
	// Wait is set when the callback is not due yet (a job that ran early):
	// run again after Wait.
	Wait time.Duration
	// Acted is false when the job had nothing to do (stale version, already
	// delivered, cancelled, gone).
	Acted bool
	// GraceAt is set for a `me` callback: when the grace period ends and,
	// if its agent has not taken it, it goes to anyone or is missed.
	GraceAt time.Time
}

// FallDue makes version of callback id due, in the caller's transaction (the
// job's). Scope anyone: the lead goes to the top of its campaign's hopper
// (priority CallbackPriority, due now; the claim still checks the calling
// window and DNC, so a closed window makes it wait for the window). Scope me:
// the callback waits for its agent's loop to offer it (OfferCallback).
func FallDue(ctx context.Context, tx pgx.Tx, id CallbackID, version int, now time.Time) (FallDueResult, error) {
	var res FallDueResult
	cb, err := getCallback(ctx, tx, id, " FOR UPDATE OF cb")
	if errors.Is(err, ErrNotFound) {
		return res, nil
	}
	if err != nil {
		return res, err
	}
	res.Callback = cb
	if cb.Version != version || cb.Status != CallbackScheduled {
		return res, nil
	}
	if now.Before(cb.DueAt) {
		res.Wait = cb.DueAt.Sub(now)
		return res, nil
	}
	if err := move(ctx, tx, &cb, CbFallDue, now, 0, ""); err != nil {
		return res, err
	}
	res.Acted = true
	switch cb.Scope {
	case ScopeAnyone:
		if err := toHopper(ctx, tx, &cb, now); err != nil {
			return res, err
		}
	case ScopeMe:
		c, err := Get(ctx, tx, cb.Campaign)
		if err != nil {
			return res, err
		}
		res.GraceAt = now.Add(time.Duration(c.CallbackGraceS) * time.Second)
	}
	res.Callback = cb
	return res, nil
}

// toHopper puts a due callback's lead at the top of its campaign's hopper.
func toHopper(ctx context.Context, tx pgx.Tx, cb *Callback, now time.Time) error {
	_, err := tx.Exec(ctx, `
UPDATE callbacks SET lead_priority = coalesce(lead_priority, (SELECT priority FROM leads WHERE id = $2)) WHERE id = $1`,
		cb.ID, cb.Lead)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `
UPDATE leads SET status = 'retry', next_attempt_at = least(next_attempt_at, $2), priority = greatest(priority, $3)
WHERE id = $1 AND status = 'callback'`, cb.Lead, now, CallbackPriority)
	if err != nil {
		return fmt.Errorf("lead %d of callback %d to the hopper: %w", cb.Lead, cb.ID, err)
	}
	return nil
}

// GraceExpired ends the grace period of version of a `me` callback its agent
// has not taken: per the campaign it goes to anyone (the hopper) or is
// marked missed (its lead stays held for a supervisor to reschedule or
// cancel). Nothing happens if the callback was offered, dialled, closed or
// rescheduled meanwhile.
func GraceExpired(ctx context.Context, tx pgx.Tx, id CallbackID, version int, now time.Time) (Callback, bool, error) {
	cb, err := getCallback(ctx, tx, id, " FOR UPDATE OF cb")
	if errors.Is(err, ErrNotFound) {
		return cb, false, nil
	}
	if err != nil {
		return cb, false, err
	}
	if cb.Version != version || cb.Status != CallbackDue || cb.Scope != ScopeMe {
		return cb, false, nil
	}
	c, err := Get(ctx, tx, cb.Campaign)
	if err != nil {
		return cb, false, err
	}
	if c.CallbackGraceThen == string(ScopeAnyone) {
		if err := move(ctx, tx, &cb, CbWiden, now, 0, "grace period over: offered to anyone"); err != nil {
			return cb, false, err
		}
		if _, err := tx.Exec(ctx, `UPDATE callbacks SET scope = 'anyone' WHERE id = $1`, cb.ID); err != nil {
			return cb, false, err
		}
		cb.Scope = ScopeAnyone
		return cb, true, toHopper(ctx, tx, &cb, now)
	}
	return cb, true, move(ctx, tx, &cb, CbExpire, now, 0, "grace period over: missed")
}

// DueForAgents lists the due `me` callbacks of a campaign's agents, oldest
// first: what a campaign loop offers to them when they are READY.
func DueForAgents(ctx context.Context, db DB, campaign ID, agents []int64) ([]Callback, error) {
	rows, err := db.Query(ctx, "SELECT "+callbackColumns+callbackFrom+`
WHERE cb.campaign_id = $1 AND cb.status = 'due' AND cb.scope = 'me' AND cb.agent_id = ANY($2)
ORDER BY cb.due_at, cb.id`, campaign, agents)
	if err != nil {
		return nil, fmt.Errorf("due callbacks of campaign %d: %w", campaign, err)
	}
	return pgx.CollectRows(rows, scanCallback)
}

// OfferCallback claims a due `me` callback's lead for its agent (the lead
// becomes dialing, claimed by node) and marks the callback offered. It
// refuses with ErrWindowClosed while the lead may not be called (nothing
// changes; try later) and with ErrOnDNC when the number is on a do-not-call
// list (the callback is cancelled and the lead finished).
func OfferCallback(ctx context.Context, db TxDB, c *Campaign, id CallbackID, agent int64, now time.Time, node string) (Callback, error) {
	return offerCallback(ctx, db, nil, c, id, agent, now, node, false)
}

// TakeCallback claims a callback's lead for an agent who chose it from their
// list ("click to dial"): one of theirs or an anyone's, scheduled (early),
// due or missed. The same checks as OfferCallback apply (calling window, DNC);
// a scheduled callback's job is cancelled.
func TakeCallback(ctx context.Context, db TxDB, jobs CallbackJobs, c *Campaign, id CallbackID, agent int64, now time.Time, node string) (Callback, error) {
	return offerCallback(ctx, db, jobs, c, id, agent, now, node, true)
}

func offerCallback(ctx context.Context, db TxDB, jobs CallbackJobs, c *Campaign, id CallbackID, agent int64, now time.Time, node string, byHand bool) (Callback, error) {
	var out Callback
	var dnc bool
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		cb, err := getCallback(ctx, tx, id, " FOR UPDATE OF cb")
		if err != nil {
			return err
		}
		mine := cb.Scope == ScopeMe && cb.Agent == agent
		switch {
		case cb.Campaign != c.ID:
			return fmt.Errorf("callback %d is not campaign %d's: %w", cb.ID, c.ID, ErrNotFound)
		case !byHand && (cb.Status != CallbackDue || !mine):
			return &CallbackTransitionError{Callback: cb.ID, Status: cb.Status, Event: CbOffer}
		case byHand && !mine && cb.Scope != ScopeAnyone:
			return fmt.Errorf("%w: callback %d is another agent's", ErrCallbackTransition, cb.ID)
		}
		if _, err := callbackTransition(cb.ID, cb.Status, CbOffer); err != nil {
			return err
		}
		l, err := lockLead(ctx, tx, cb.Lead)
		if err != nil {
			return err
		}
		if l.status != "callback" && !(byHand && l.status == "retry") {
			return fmt.Errorf("%w: callback %d's lead is %s", ErrCallbackTransition, cb.ID, l.status)
		}
		if on, err := OnDNC(ctx, tx, c.ID, l.phone); err != nil {
			return err
		} else if on {
			dnc = true
			if err := move(ctx, tx, &cb, CbCancel, now, 0, "number is on a do-not-call list"); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `UPDATE leads SET status = 'done', dnc = true WHERE id = $1`, cb.Lead)
			return err
		}
		w, err := c.Window()
		if err != nil {
			return err
		}
		if !w.AllowedIn(now, l.zones, l.states) {
			return ErrWindowClosed
		}
		if _, err := tx.Exec(ctx, `UPDATE leads SET status = 'dialing', claimed_at = $2, claimed_by = $3 WHERE id = $1`,
			cb.Lead, now, node); err != nil {
			return err
		}
		if byHand && cb.Status == CallbackScheduled && cb.JobID != 0 && jobs != nil {
			if err := jobs.CancelCallbackJob(ctx, tx, cb.JobID); err != nil {
				return err
			}
		}
		if err := move(ctx, tx, &cb, CbOffer, now, agent, ""); err != nil {
			return err
		}
		out = cb
		return nil
	})
	if err == nil && dnc {
		err = fmt.Errorf("callback %d: %w", id, ErrOnDNC)
	}
	return out, err
}

// DeclineCallback takes back an offered callback the agent skipped, or left
// ringing when they paused or logged out: it is due again and its lead
// waits for it.
func DeclineCallback(ctx context.Context, db TxDB, id CallbackID, agent int64, now time.Time, why string) error {
	return pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		cb, err := getCallback(ctx, tx, id, " FOR UPDATE OF cb")
		if err != nil {
			return err
		}
		if err := move(ctx, tx, &cb, CbDecline, now, agent, why); err != nil {
			return err
		}
		// An anyone's callback goes back to the hopper, a me's waits.
		_, err = tx.Exec(ctx, `UPDATE leads SET status = CASE WHEN $2 = 'anyone' THEN 'retry' ELSE 'callback' END,
	claimed_at = NULL, claimed_by = ''
WHERE id = $1 AND status = 'dialing'`, cb.Lead, string(cb.Scope))
		return err
	})
}

// DialCallback records that the agent dialled an offered callback.
func DialCallback(ctx context.Context, db TxDB, id CallbackID, agent int64, now time.Time) error {
	return pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		cb, err := getCallback(ctx, tx, id, " FOR UPDATE OF cb")
		if err != nil {
			return err
		}
		return move(ctx, tx, &cb, CbDial, now, agent, "")
	})
}

// OverdueCallback names a callback whose job should have acted by now.
type OverdueCallback struct {
	ID      CallbackID
	Version int
	Status  CallbackStatus
	JobID   int64
}

// Overdue lists callbacks their jobs should have moved on: scheduled ones
// due before dueBefore, and `me` callbacks due whose grace period ended
// before graceBefore (by the campaign's grace). The sweep that never lets a
// callback be lost runs their step again when their job is gone.
func Overdue(ctx context.Context, db DB, dueBefore, graceBefore time.Time, limit int) ([]OverdueCallback, error) {
	rows, err := db.Query(ctx, `
SELECT cb.id, cb.version, cb.status, coalesce(cb.job_id, 0) FROM callbacks cb JOIN campaigns c ON c.id = cb.campaign_id
WHERE (cb.status = 'scheduled' AND cb.due_at < $1)
   OR (cb.status = 'due' AND cb.scope = 'me' AND cb.updated_at + make_interval(secs => c.callback_grace_s) < $2)
ORDER BY cb.due_at LIMIT $3`, dueBefore, graceBefore, limit)
	if err != nil {
		return nil, fmt.Errorf("overdue callbacks: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (OverdueCallback, error) {
		var o OverdueCallback
		err := r.Scan(&o.ID, &o.Version, &o.Status, &o.JobID)
		return o, err
	})
}

// recoverCallbacksSQL gives back callbacks whose offer or dial a dead node
// left open (the same leads RecoverStuck returns): the callback is due again
// and its lead waits for it, instead of going back to ordinary dialling.
// Each change is logged as the state machine's recover event.
const recoverCallbacksSQL = `
WITH stuck AS (
	SELECT cb.id, cb.status, cb.lead_id FROM callbacks cb JOIN leads l ON l.id = cb.lead_id
	WHERE cb.status IN ('offered', 'dialled') AND l.status = 'dialing'
	  AND (l.claimed_at < $1 OR ($2 <> '' AND l.claimed_by = $2))
	FOR UPDATE OF cb, l
), logged AS (
	INSERT INTO callback_events (callback_id, at, event, from_status, to_status, detail)
	SELECT id, now(), 'recover', status, 'due', 'the node offering it stopped' FROM stuck
), moved AS (
	UPDATE callbacks SET status = 'due', updated_at = now() WHERE id IN (SELECT id FROM stuck)
)
UPDATE leads SET status = 'callback', claimed_at = NULL, claimed_by = '' WHERE id IN (SELECT lead_id FROM stuck)`

func recoverCallbacks(ctx context.Context, db DB, claimedBefore time.Time, node string) (int64, error) {
	tag, err := db.Exec(ctx, recoverCallbacksSQL, claimedBefore, node)
	if err != nil {
		return 0, fmt.Errorf("recover callbacks of stuck leads: %w", err)
	}
	return tag.RowsAffected(), nil
}
