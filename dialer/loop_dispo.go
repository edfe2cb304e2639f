package dialer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
)

// The loop's side of dispositions and callbacks, when it has a database
// (LoopDeps.DB). All of it runs on the loop goroutine.
//
// A disposition is saved in one transaction before the agent moves on: the
// call record (code, notes, talk, hold and dispo time), the lead (attempt,
// final/recycle rules, DNC at once), any callback the lead had (completed),
// any callback the disposition asks for (row and River job) and the agent's
// state-log event that closes the call (with the same talk, hold and dispo
// time). Only when it commits does the agent leave DISPO, with the
// transition backdated to the instant written on the call, so the call's
// dispo_s and the agent's accounting are the same number. If it fails,
// nothing changed and the agent is still in DISPO.
//
// The wrap-up limit (campaign wrapup_limit_s) is a loop timer started when
// the agent enters DISPO: if they are still in that DISPO when it fires, the
// call gets the system disposition AUTO through the same transaction and the
// agent goes READY or PAUSED(WRAPUP) per wrapup_then.
//
// Due callbacks of scope me are offered to their agent as preview calls: the
// loop polls for them (CallbackPoll, at each login, or at once when
// KickCallbacks says one fell due) and offers one to an agent who is READY,
// or becomes READY, ahead of new calls (Engine.Offers). Skipping it, or
// leaving while it rings, puts it back to due (that version is not offered
// again for declineBackoff).

const (
	timerLoopFirst TimerKind = 100 + iota
	timerCallbackPoll
	timerCallbackKick
	timerWrapup
)

const (
	// dispoTimeout bounds a disposition's transaction on the loop goroutine.
	dispoTimeout = 5 * time.Second
	// declineBackoff is how long a skipped callback is not offered again.
	declineBackoff = 2 * time.Minute
	// wrapupRetry is when a failed automatic disposition is tried again.
	wrapupRetry = 5 * time.Second
)

// TxCallJournal writes a disposition's call record inside the
// disposition's transaction (StoreJournal): Flush first writes the call's
// end, queued behind, which the disposition then updates; DisposeTx returns
// the calls row.
type TxCallJournal interface {
	Flush(ctx context.Context) error
	DisposeTx(ctx context.Context, tx pgx.Tx, d *CallDisposition) (int64, error)
}

// TxAgentLog is an agent state log that can write a transition inside a
// disposition's transaction (agents.EventSink).
type TxAgentLog interface {
	Flush(ctx context.Context) error
	AppendTx(ctx context.Context, tx agents.Execer, t agents.Transition) error
	Forget(agent agents.ID)
	Written(t agents.Transition)
}

type callbackState struct {
	due    map[agents.ID][]campaigns.Callback
	offers map[LeadID]*offeredCallback
	skip   map[skipKey]time.Time
}

// skipKey is one version of a callback: a rescheduled callback is offered
// again even if the agent skipped the earlier version.
type skipKey struct {
	id      campaigns.CallbackID
	version int
}

type offeredCallback struct {
	cb      campaigns.Callback
	agent   agents.ID
	dialled bool
}

func newCallbackState() callbackState {
	return callbackState{due: map[agents.ID][]campaigns.Callback{}, offers: map[LeadID]*offeredCallback{},
		skip: map[skipKey]time.Time{}}
}

// SetCampaign takes changed campaign settings (wrap-up limit, retry rules,
// window) for the dispositions and offers that follow.
func (l *Loop) SetCampaign(c campaigns.Campaign) {
	l.campaign.Store(&c)
	if w, ok := l.trunk.(CampaignWatcher); ok {
		w.CampaignChanged(c)
	}
}

// CampaignWatcher is a trunk that follows its campaign's rows as the manager
// reads them (every poll): the SIP trunk reloads the campaign's trunks and
// recordings when they changed, so a change applies mid-shift without a
// restart. CampaignChanged must not block.
type CampaignWatcher interface {
	CampaignChanged(c campaigns.Campaign)
}

// Disposition saves an agent's disposition of the call awaiting it (call 0:
// whichever that is; otherwise it must be that call). See loop_dispo.go. Bad
// input returns an error for which campaigns.IsDispositionInputError is true.
// Without a database the code is checked against
// LoopConfig.Dispositions and written behind through the journal and the
// lead source (tests, the simulator).
func (l *Loop) Disposition(ctx context.Context, id agents.ID, call CallID, in campaigns.DispositionInput) (campaigns.DispositionResult, error) {
	var res campaigns.DispositionResult
	err := l.do(ctx, func(ctx context.Context) error {
		var err error
		res, err = l.saveDisposition(ctx, id, call, in, false)
		return err
	})
	return res, err
}

func (l *Loop) saveDisposition(ctx context.Context, id agents.ID, call CallID, in campaigns.DispositionInput, auto bool) (campaigns.DispositionResult, error) {
	var res campaigns.DispositionResult
	a := l.eng.Agent(id)
	if a == nil {
		return res, fmt.Errorf("agent %d is not in campaign %d: %w", id, l.cfg.Engine.Campaign, campaigns.ErrNoCallToDisposition)
	}
	// The call the disposition is for, as the engine has it: talked on, or
	// in wrap-up (then it holds its lead until this settles it).
	var ac Call
	if dc := l.eng.dispositionCall(id); dc != nil {
		ac = *dc
	}
	// A call that handed its customer on to another agent does not hold the
	// lead: that agent's disposition settles it.
	open, held := ac.ID != 0, ac.State == CallWrapUp && ac.holdsLead()
	// An inbound caller's lead, attached during the call, is settled
	// without an attempt (campaigns.DisposeInboundLead).
	var attached LeadID
	if ac.State == CallWrapUp {
		attached = ac.attachedLead()
	}
	settled := l.eng.settledCall(id)
	if call != 0 && (!open || ac.ID != call) {
		if settled == call {
			return res, fmt.Errorf("call %d: %w", call, campaigns.ErrAlreadyDispositioned)
		}
		return res, fmt.Errorf("call %d, agent %d: %w", call, id, campaigns.ErrNotAgentsCall)
	}
	if a.State() != agents.Dispo {
		switch {
		case open && a.State() == agents.InCall:
			return res, fmt.Errorf("%w: agent %d's call is still connected", campaigns.ErrNoCallToDisposition, id)
		case settled != 0:
			return res, fmt.Errorf("call %d: %w", settled, campaigns.ErrAlreadyDispositioned)
		}
		return res, fmt.Errorf("agent %d is %s: %w", id, a.State(), campaigns.ErrNoCallToDisposition)
	}
	if ac.attached && attached == 0 && in.Callback != nil && !in.NoCallback {
		return res, fmt.Errorf("call %d: %w", ac.ID, campaigns.ErrCallbackNeedsLead)
	}
	if !l.writesHealthy() {
		return res, errWritesDown
	}
	in.Code = strings.TrimSpace(in.Code)
	c := l.campaign.Load()
	now := l.Now()
	ev := agents.Event{Kind: agents.EvDispoSaved, At: now}
	if auto {
		ev.Kind = agents.EvWrapupTimeout
		if c != nil && c.WrapupThen == "paused" {
			ev.PauseCode = agents.PauseCodeWrapup
		}
	}
	if l.deps.DB == nil {
		// Written behind when the engine settles the call (loopCalls).
		if in.Code == "" {
			return res, fmt.Errorf("%w: a disposition code is required", campaigns.ErrNoCallToDisposition)
		}
		if l.allowed != nil && !l.allowed[in.Code] && !auto {
			return res, fmt.Errorf("disposition %q is not one of campaign %d's agent dispositions", in.Code, l.cfg.Engine.Campaign)
		}
		res.Disposition.Code = in.Code
		if err := l.eng.Dispose(ctx, id, ev, Disposal{Code: in.Code}); err != nil {
			return res, err
		}
		return res, nil
	}
	times, _ := a.OpenCall(now)
	ctx, cancel := context.WithTimeout(ctx, dispoTimeout)
	defer cancel()
	// The agent's event is written in the transaction too: it is the
	// transition Apply will make once the transaction commits.
	tr, err := a.Peek(ev)
	if err != nil {
		return res, err
	}
	sink := l.deps.TxAgents
	if sink != nil {
		if err := sink.Flush(ctx); err != nil {
			return res, fmt.Errorf("write agent %d's state log before the disposition: %w", id, err)
		}
	}
	j := l.deps.TxJournal
	if open && j != nil {
		// The call's end is written behind; the disposition updates it.
		if err := j.Flush(ctx); err != nil {
			return res, fmt.Errorf("write call %d before its disposition: %w", ac.ID, err)
		}
	}
	err = pgx.BeginFunc(ctx, l.deps.DB, func(tx pgx.Tx) error {
		d, err := campaigns.CheckDisposition(ctx, tx, c.ID, in, now, auto)
		if err != nil {
			return err
		}
		res.Disposition = d
		var row int64
		if open && j != nil {
			row, err = j.DisposeTx(ctx, tx, &CallDisposition{Call: ac.ID, Agent: id, Code: d.Code, At: now,
				Talk: times.Talk, Hold: times.Hold, Dispo: times.Dispo, Notes: in.Notes, Auto: auto})
			if err != nil {
				return err
			}
		}
		if attached != 0 {
			got, err := campaigns.DisposeInboundLead(ctx, tx, l.deps.Callbacks, campaigns.InboundLeadDisposition{
				Campaign: c, Lead: campaigns.LeadID(attached), Agent: int64(id), Call: row, Input: in, At: now, Auto: auto})
			switch {
			case errors.Is(err, campaigns.ErrNotFound):
				// Deleted during the call: the call keeps its disposition.
				l.log.Warn("inbound call's lead is gone; the disposition is the call's only", "call", uint64(ac.ID),
					"lead", int64(attached))
			case err != nil:
				return err
			default:
				res = got.DispositionResult
				l.logInboundSettlement(ac.ID, attached, got)
			}
		}
		if held {
			res, err = campaigns.DisposeLead(ctx, tx, l.deps.Callbacks, campaigns.LeadDisposition{
				Campaign: c, Lead: campaigns.LeadID(ac.Lead.ID), Agent: int64(id), Call: row, Input: in, At: now,
				Auto: auto, Node: l.cfg.Node})
			if err != nil {
				return err
			}
		}
		if sink != nil {
			return sink.AppendTx(ctx, tx, tr)
		}
		return nil
	})
	if sink != nil && err != nil {
		sink.Forget(id)
	}
	var saved *dispositionSaved
	if errors.As(err, &saved) {
		// Saved by an earlier try whose reply was lost: the agent moves on
		// as of then, and their event, written then, is not written again.
		l.log.Warn("disposition found already saved; agent moves on", "agent", int64(id), "call", uint64(ac.ID),
			"disposition", saved.Code, "saved_at", saved.At)
		ev.At = saved.At
		if tr, err = a.Peek(ev); err != nil {
			return res, err
		}
		if sink != nil {
			sink.Written(tr)
		}
		res.Disposition.Code = saved.Code
		err = nil
	}
	if err != nil {
		return res, err
	}
	if err := l.eng.Dispose(ctx, id, ev, Disposal{Code: res.Disposition.Code, Saved: true}); err != nil {
		return res, fmt.Errorf("disposition of call %d saved, agent %d not moved on: %w", ac.ID, id, err)
	}
	attrs := []any{"agent", int64(id), "call", uint64(ac.ID), "lead", int64(ac.Lead.ID), "disposition", res.Disposition.Code,
		"auto", auto, "talk_s", times.Talk.Seconds(), "dispo_s", times.Dispo.Seconds()}
	if cb := res.Callback; cb != nil {
		attrs = append(attrs, "callback", int64(cb.ID), "callback_due", cb.DueAt, "callback_scope", cb.Scope.String(),
			"callback_moved", cb.Moved)
	}
	l.log.Debug("call dispositioned", attrs...)
	return res, nil
}

// logInboundSettlement says when an inbound call's disposition waits for
// an outbound attempt's end to apply to its lead, or cannot apply to it.
func (l *Loop) logInboundSettlement(call CallID, lead LeadID, r campaigns.InboundLeadResult) {
	switch {
	case r.Claimed:
		l.log.Info("inbound call's lead is claimed for an outbound attempt; its code applies when that attempt ends", "call", uint64(call),
			"lead", int64(lead), "disposition", r.Disposition.Code)
	case r.Unknown:
		l.log.Warn("inbound call's lead is of a campaign without this disposition; the lead is left as it was",
			"call", uint64(call), "lead", int64(lead), "disposition", r.Disposition.Code)
	}
}

// settleAttached settles an inbound call's lead that its agent left
// without a disposition (logout, session lost, shutdown): AUTO, in its own
// transaction.
func (l *Loop) settleAttached(ctx context.Context, st *Settlement) {
	c := l.campaign.Load()
	if l.deps.DB == nil || c == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, dispoTimeout)
	defer cancel()
	var got campaigns.InboundLeadResult
	err := pgx.BeginFunc(ctx, l.deps.DB, func(tx pgx.Tx) error {
		var err error
		got, err = campaigns.DisposeInboundLead(ctx, tx, l.deps.Callbacks, campaigns.InboundLeadDisposition{
			Campaign: c, Lead: campaigns.LeadID(st.Attached), Agent: int64(st.Agent),
			Input: campaigns.DispositionInput{Code: st.Code, NoCallback: true}, At: st.Transition.At, Auto: true})
		return err
	})
	if err != nil {
		l.log.Error("settle inbound call's lead", "call", uint64(st.Call), "lead", int64(st.Attached), "err", err)
		return
	}
	l.logInboundSettlement(st.Call, st.Attached, got)
}

// watchAgent starts the wrap-up limit when an agent enters DISPO, learns an
// agent's due callbacks at login and forgets them at logout. Called from the
// engine's sink: it only schedules.
func (l *Loop) watchAgent(t agents.Transition) {
	switch {
	case t.To == agents.Dispo && t.From == agents.InCall:
		c := l.campaign.Load()
		if c == nil || c.WrapupLimitS <= 0 {
			return
		}
		l.push(due{at: t.At.Add(time.Duration(c.WrapupLimitS) * time.Second), timer: Timer{Kind: timerWrapup},
			agent: t.Agent, since: t.At})
	case t.Event == agents.EvLogin && l.deps.DB != nil:
		// Learn the agent's due callbacks before they can go READY.
		l.push(due{at: t.At, timer: Timer{Kind: timerCallbackKick}})
	case t.To == agents.LoggedOut:
		delete(l.cb.due, t.Agent)
	}
}

// loopTimer runs the loop's own timers.
func (l *Loop) loopTimer(ctx context.Context, d due) {
	switch d.timer.Kind {
	case timerCallbackPoll:
		l.pollCallbacks(ctx)
		l.Schedule(l.Now().Add(l.cfg.CallbackPoll), Timer{Kind: timerCallbackPoll})
	case timerCallbackKick:
		l.pollCallbacks(ctx)
	case timerWrapup:
		l.wrapupDue(ctx, d)
	}
}

// wrapupDue applies the automatic disposition if the agent is still in the
// DISPO the timer was started for.
func (l *Loop) wrapupDue(ctx context.Context, d due) {
	a := l.eng.Agent(d.agent)
	if a == nil || a.State() != agents.Dispo || !a.StateSince().Equal(d.since) {
		return
	}
	if _, err := l.saveDisposition(ctx, d.agent, 0, campaigns.DispositionInput{Code: campaigns.DispoAuto}, true); err != nil {
		l.log.Error("automatic disposition at the wrap-up limit; trying again", "agent", int64(d.agent), "err", err)
		d.at = l.Now().Add(wrapupRetry)
		l.push(d)
		return
	}
	l.log.Info("wrap-up limit passed: call dispositioned automatically", "agent", int64(d.agent),
		"code", campaigns.DispoAuto)
}

// KickCallbacks makes the loop look for due callbacks now (a callback's job
// just made one due). Safe from any goroutine; never blocks.
func (l *Loop) KickCallbacks() {
	if l.deps.DB == nil {
		return
	}
	l.push(due{at: l.Now(), timer: Timer{Kind: timerCallbackKick}})
}

// pollCallbacks refreshes the agents' due callbacks and offers one to each
// READY agent who has one.
func (l *Loop) pollCallbacks(ctx context.Context) {
	var ids []int64
	for _, id := range l.agentIDs {
		if a := l.eng.Agent(id); a != nil && a.State() != agents.LoggedOut {
			ids = append(ids, int64(id))
		}
	}
	clear(l.cb.due)
	if len(ids) == 0 {
		return
	}
	// Its own timeout: ctx goes on to the offers below.
	qctx, cancel := context.WithTimeout(ctx, claimTimeout)
	list, err := campaigns.DueForAgents(qctx, l.deps.DB, campaigns.ID(l.cfg.Engine.Campaign), ids)
	cancel()
	if err != nil {
		l.log.Error("look for due callbacks", "err", err)
		return
	}
	for _, cb := range list {
		id := agents.ID(cb.Agent)
		l.cb.due[id] = append(l.cb.due[id], cb)
	}
	now := l.Now()
	for k, until := range l.cb.skip {
		if !now.Before(until) {
			delete(l.cb.skip, k)
		}
	}
	for _, id := range l.agentIDs {
		if len(l.cb.due[id]) == 0 || l.eng.Agent(id).State() != agents.Ready {
			continue
		}
		lead, ok := l.nextCallback(ctx, id)
		if !ok {
			continue
		}
		if err := l.eng.OfferLead(ctx, id, lead); err != nil {
			l.log.Error("offer callback", "agent", int64(id), "lead", int64(lead.ID), "err", err)
			l.declineOffer(ctx, lead.ID)
		}
	}
}

// loopOffers is the engine's PriorityOffers: an agent's due callback.
type loopOffers struct{ l *Loop }

func (o loopOffers) OfferFor(ctx context.Context, agent agents.ID) (Lead, bool) {
	if !o.l.writesHealthy() {
		return Lead{}, false
	}
	return o.l.nextCallback(ctx, agent)
}

func (l *Loop) offers() PriorityOffers {
	if l.deps.DB == nil {
		return nil
	}
	return loopOffers{l}
}

// nextCallback claims the agent's oldest due callback that may be called now.
func (l *Loop) nextCallback(ctx context.Context, agent agents.ID) (Lead, bool) {
	list := l.cb.due[agent]
	if len(list) == 0 {
		return Lead{}, false
	}
	c := l.campaign.Load()
	now := l.Now()
	keep := list[:0]
	var got *campaigns.Callback
	for i := range list {
		cb := list[i]
		key := skipKey{cb.ID, cb.Version}
		if got != nil {
			keep = append(keep, cb)
			continue
		}
		if until, ok := l.cb.skip[key]; ok && now.Before(until) {
			keep = append(keep, cb)
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, claimTimeout)
		offered, err := campaigns.OfferCallback(cctx, l.deps.DB, c, cb.ID, int64(agent), now, l.cfg.Node)
		cancel()
		switch {
		case err == nil:
			got = &offered
		case errors.Is(err, campaigns.ErrWindowClosed):
			l.cb.skip[key] = now.Add(time.Minute)
			keep = append(keep, cb)
		case errors.Is(err, campaigns.ErrOnDNC), errors.Is(err, campaigns.ErrCallbackTransition),
			errors.Is(err, campaigns.ErrNotFound):
			l.log.Info("due callback not offered", "callback", int64(cb.ID), "agent", int64(agent), "reason", err)
		default:
			l.log.Error("offer callback", "callback", int64(cb.ID), "agent", int64(agent), "err", err)
			l.cb.skip[key] = now.Add(10 * time.Second)
			keep = append(keep, cb)
		}
	}
	l.cb.due[agent] = keep
	if got == nil {
		return Lead{}, false
	}
	lead := LeadID(got.Lead)
	l.cb.offers[lead] = &offeredCallback{cb: *got, agent: agent}
	l.log.Info("callback offered", "callback", int64(got.ID), "agent", int64(agent), "lead", int64(got.Lead),
		"due_at", got.DueAt)
	return Lead{ID: lead, Number: got.Phone}, true
}

// declineOffer takes back a callback offer the agent skipped or left; false
// when the lead is not a callback's.
func (l *Loop) declineOffer(ctx context.Context, lead LeadID) bool {
	o, ok := l.cb.offers[lead]
	if !ok {
		return false
	}
	delete(l.cb.offers, lead)
	if o.dialled {
		// Dialled and not completed: the call never started (a duplicate
		// lead); the attempt is not counted, the lead goes back to the pool.
		return false
	}
	now := l.Now()
	l.cb.skip[skipKey{o.cb.ID, o.cb.Version}] = now.Add(declineBackoff)
	ctx, cancel := context.WithTimeout(ctx, claimTimeout)
	defer cancel()
	if err := campaigns.DeclineCallback(ctx, l.deps.DB, o.cb.ID, int64(o.agent), now, "skipped or left by the agent"); err != nil {
		l.log.Error("take back callback offer", "callback", int64(o.cb.ID), "err", err)
	}
	return true
}

// callbackDialled records that the agent dialled their callback.
func (l *Loop) callbackDialled(ctx context.Context, lead LeadID) {
	o, ok := l.cb.offers[lead]
	if !ok || o.dialled {
		return
	}
	o.dialled = true
	ctx, cancel := context.WithTimeout(ctx, claimTimeout)
	defer cancel()
	if err := campaigns.DialCallback(ctx, l.deps.DB, o.cb.ID, int64(o.agent), l.Now()); err != nil {
		l.log.Error("record callback dialled", "callback", int64(o.cb.ID), "err", err)
	}
}

// DialCallback dials one of the agent's callbacks, or an anyone's, at the
// agent's choice ("click to dial" in their callbacks list): the agent must be
// READY; the callback may be scheduled (taken early), due or missed. The
// agent is put in the call at once and hears it ring.
func (l *Loop) DialCallback(ctx context.Context, id agents.ID, cb campaigns.CallbackID) (CallID, error) {
	if l.deps.DB == nil {
		return 0, errors.New("campaign loop has no database for callbacks")
	}
	var call CallID
	err := l.do(ctx, func(ctx context.Context) error {
		a := l.eng.Agent(id)
		if a == nil || a.State() != agents.Ready {
			return fmt.Errorf("%w: agent %d must be READY to dial a callback", campaigns.ErrCallbackTransition, id)
		}
		cctx, cancel := context.WithTimeout(ctx, claimTimeout)
		got, err := campaigns.TakeCallback(cctx, l.deps.DB, l.deps.Callbacks, l.campaign.Load(), cb, int64(id), l.Now(), l.cfg.Node)
		cancel()
		if err != nil {
			return err
		}
		lead := LeadID(got.Lead)
		l.cb.offers[lead] = &offeredCallback{cb: got, agent: id}
		call, err = l.eng.ManualDial(ctx, id, Lead{ID: lead, Number: got.Phone})
		if err != nil {
			l.declineOffer(ctx, lead)
			return err
		}
		return nil
	})
	return call, err
}

// OfferInfo is what an agent's preview offer shows.
type OfferInfo struct {
	Lead Lead
	// Callback is set when the offer is one of the agent's callbacks (its
	// notes are shown with the lead).
	Callback *campaigns.Callback
}

// Offer returns the lead offered to the agent (RINGING), if any.
func (l *Loop) Offer(ctx context.Context, id agents.ID) (OfferInfo, bool, error) {
	var info OfferInfo
	var ok bool
	err := l.do(ctx, func(context.Context) error {
		info.Lead, ok = l.eng.PreviewLead(id)
		if o := l.cb.offers[info.Lead.ID]; ok && o != nil {
			cb := o.cb
			info.Callback = &cb
		}
		return nil
	})
	return info, ok, err
}
