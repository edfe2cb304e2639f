package campaigns

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// An inbound caller's call settles the lead attached to it (the caller's
// lead, chosen or made during the call) as an outbound disposition settles
// the lead it dialled, except that nothing was dialled: no attempt is
// counted (lifetime, per day), so the lead's attempt limits, recycling and
// the campaign's outbound figures are as if the call had not happened.
//
// The lead is settled in its own campaign, under that campaign's definition
// of the code the agent chose (a caller may be a lead of another campaign
// than the agent's; every campaign starts with the same codes): a final or
// DNC code finishes it (DNC puts the number on that campaign's list at
// once), another code keeps it from being dialled before the code's recycle
// time or the campaign's retry delay, a callback code schedules the callback
// with its job. A callback the lead had open is completed: the customer was
// reached (a new callback replaces it).
//
// A lead claimed for an outbound attempt at that moment (being dialled,
// offered as a preview or a callback, or awaiting another agent's
// disposition) keeps its claim, so the attempt's own settlement is never
// refused and the lead is settled once: the caller's code waits on the lead
// (leads.inbound_disposition) and is applied as the claim ends, whatever
// ends it (migrations/0034_inbound_lead_settlement.sql): a final or DNC code
// finishes the lead whatever the attempt's outcome, and an attempt that
// reached no one leaves the caller's code as the lead's last. A DNC code
// also puts the number on the list and marks the lead at once (no claim
// dials a DNC number, and settling an attempt never clears the mark). A
// callback is refused with ErrLeadClaimed: holding the lead for it would
// take it from the attempt.

// ErrLeadClaimed: the inbound call's lead is claimed for an outbound
// attempt right now, so no callback can be scheduled for it from this call.
var ErrLeadClaimed = errors.New("the lead is being dialled or offered right now, so no callback can be scheduled for it from this call")

// ErrCallbackNeedsLead: a callback disposition of an inbound call with no
// lead attached: there is no one to call back.
var ErrCallbackNeedsLead = errors.New("a callback needs the caller's lead: attach or create it first")

// InboundLeadDisposition is the lead's side of an inbound call's
// disposition.
type InboundLeadDisposition struct {
	// Campaign is the agent's: its dispositions are the ones the agent
	// chose from.
	Campaign *Campaign
	Lead     LeadID
	// Agent saved it (0 none); a callback of scope me is theirs.
	Agent int64
	// Call is the calls row (calls.id) of the inbound call; 0 unknown.
	Call  int64
	Input DispositionInput
	At    time.Time
	// Auto marks the wrap-up limit's automatic disposition.
	Auto bool
}

// InboundLeadResult is what settling an inbound call's lead did.
type InboundLeadResult struct {
	DispositionResult
	// Claimed: the lead was claimed for an outbound attempt; the code is
	// applied when that claim ends.
	Claimed bool
	// Unknown: the lead's campaign has no disposition with the code, so
	// the lead was left as it was.
	Unknown bool
}

// DisposeInboundLead applies an inbound call's disposition to the lead
// attached to the call, inside the caller's transaction (see above). A lead
// deleted meanwhile is ErrNotFound.
func DisposeInboundLead(ctx context.Context, tx pgx.Tx, jobs CallbackJobs, p InboundLeadDisposition) (InboundLeadResult, error) {
	var res InboundLeadResult
	in, d, err := checkInput(ctx, tx, p.Campaign.ID, p.Input, p.At, p.Auto)
	if err != nil {
		return res, err
	}
	res.Disposition = d
	var (
		campaign ID
		status   string
	)
	err = tx.QueryRow(ctx, `SELECT campaign_id, status FROM leads WHERE id = $1 FOR UPDATE`, p.Lead).Scan(&campaign, &status)
	if errors.Is(err, pgx.ErrNoRows) {
		return res, fmt.Errorf("inbound call's lead %d: %w", p.Lead, ErrNotFound)
	}
	if err != nil {
		return res, fmt.Errorf("inbound call's lead %d: %w", p.Lead, err)
	}
	c := p.Campaign
	if campaign != c.ID {
		other, err := Get(ctx, tx, campaign)
		if err != nil {
			return res, fmt.Errorf("campaign of inbound call's lead %d: %w", p.Lead, err)
		}
		c = &other
		switch d, err = GetDisposition(ctx, tx, campaign, d.Code); {
		case errors.Is(err, ErrNotFound):
			res.Unknown = true
			return res, nil
		case err != nil:
			return res, err
		}
	}
	dnc := d.Category == CategoryDNC
	if dnc {
		by := DNCChange{How: DNCViaDisposition, ByUser: p.Agent, By: "engine", Call: p.Call, At: p.At,
			Reason: "disposition " + d.Code + " of an inbound call"}
		if p.Agent != 0 {
			by.By = fmt.Sprintf("agent %d", p.Agent)
		}
		if err := by.record(ctx, tx); err != nil {
			return res, err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO dnc (campaign_id, phone, source) SELECT campaign_id, phone, 'disposition'
FROM leads WHERE id = $1 ON CONFLICT DO NOTHING`, p.Lead); err != nil {
			return res, fmt.Errorf("add inbound call's lead %d to DNC: %w", p.Lead, err)
		}
	}
	next := p.At.Add(retryDelay(c, OutcomeCompleted, d))
	if status == "dialing" {
		res.Claimed = true
		if in.Callback != nil {
			return res, fmt.Errorf("lead %d: %w", p.Lead, ErrLeadClaimed)
		}
		// Applied when the claim ends (migrations/0034_inbound_lead_settlement.sql).
		if _, err := tx.Exec(ctx, `UPDATE leads SET inbound_disposition = $2, dnc = dnc OR $3,
	next_attempt_at = CASE WHEN $4 THEN next_attempt_at ELSE greatest(next_attempt_at, $5) END WHERE id = $1`,
			p.Lead, d.Code, dnc, d.Final || dnc, next); err != nil {
			return res, fmt.Errorf("keep inbound call's disposition for claimed lead %d: %w", p.Lead, err)
		}
		return res, nil
	}
	// A finished lead stays finished (its attempts may be used up); only a
	// callback the customer asked for reopens it, for that callback.
	done := d.Final || dnc || status == "done"
	newStatus := "retry"
	if done {
		newStatus = "done"
	}
	_, err = tx.Exec(ctx, `
UPDATE leads SET status = $2, next_attempt_at = greatest(next_attempt_at, $3), last_outcome = $4, last_disposition = $5,
	last_attempt_at = $6, dnc = dnc OR $7
WHERE id = $1`, p.Lead, newStatus, next, string(OutcomeCompleted), d.Code, p.At, dnc)
	if err != nil {
		return res, fmt.Errorf("settle inbound call's lead %d: %w", p.Lead, err)
	}
	if in.Callback != nil && d.SchedulesCallback {
		cb, err := scheduleCallback(ctx, tx, jobs, NewCallback{
			Campaign: c, Lead: p.Lead, Agent: p.Agent, Call: p.Call, Scope: in.Callback.Scope,
			At: in.Callback.At, Notes: in.Notes, Now: p.At,
		})
		if err != nil {
			return res, err
		}
		res.Callback = &cb
		return res, nil
	}
	return res, completeOpenCallbacks(ctx, tx, p.Lead, p.At, p.Agent)
}

// completeOpenCallbacks completes the callbacks a lead has waiting (not
// being offered or dialled: the lead is then claimed) because the customer
// was reached another way, and gives the lead its own priority back.
func completeOpenCallbacks(ctx context.Context, tx pgx.Tx, lead LeadID, at time.Time, agent int64) error {
	open, err := lockCallbacks(ctx, tx, lead, CallbackScheduled, CallbackDue, CallbackMissed)
	if err != nil {
		return err
	}
	for i := range open {
		cb := &open[i]
		if err := move(ctx, tx, cb, CbComplete, at, agent, "the customer called in"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE leads SET priority = coalesce((SELECT lead_priority FROM callbacks WHERE id = $2), priority)
WHERE id = $1`, lead, cb.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE callbacks SET lead_priority = NULL WHERE id = $1`, cb.ID); err != nil {
			return err
		}
	}
	return nil
}
