package sip

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/pacer-dialer/pacer/dialer"
)

// A blind transfer to a number on a trunk whose TransferMethod is
// TransferRefer (RFC 3515): REFER inside the customer's dialog, and the
// carrier connects the customer to the number itself. The REFER leaves
// from the leg's goroutine (so its CSeq never races a hold re-INVITE); a
// small goroutine waits for its final response; the carrier's NOTIFYs
// (message/sipfrag, RFC 3420) come from the request handler. Both reach
// the leg's goroutine (referLeg's channels), which decides:
//   - 2xx to the REFER: wait for NOTIFYs, each within
//     Config.ReferNotifyTimeout, else the transfer failed;
//   - a sipfrag 1xx: keep waiting; 2xx: TrunkTransferAnswered, and we hang
//     up our leg (BYE, media and channel released); 3xx-6xx:
//     TrunkTransferFailed with that cause, the agent keeps the customer;
//   - a non-2xx final answer to the REFER (405, 501, 403, 420…: the carrier
//     does not do REFER): the transfer is bridged instead (a new leg through
//     the trunks), and later transfers on the call go that way at once.
// Until the outcome, the agent keeps the customer and other controls that
// need the pair are refused.

// referLeg is a customer leg's REFER in progress; the channels are made
// with the leg, state is the leg goroutine's.
type referLeg struct {
	results  chan referResult
	notifies chan referNotify

	state *referState // nil: no REFER under way
	sent  int         // REFERs sent on the call: tells a late result from the current one's
}

type referState struct {
	id       int
	number   string
	accepted bool        // 2xx to the REFER, or a NOTIFY arrived
	timer    *time.Timer // the next NOTIFY is due before it fires
}

type referResult struct {
	id  int
	res *sip.Response
	err error
}

// referNotify is the status line of a NOTIFY's sipfrag, and answered,
// closed once our 200 to that NOTIFY has been sent (nil: not waited for).
type referNotify struct {
	code     int
	reason   string
	answered <-chan struct{}
}

func newReferLeg() referLeg {
	return referLeg{results: make(chan referResult, 1), notifies: make(chan referNotify, 8)}
}

// timeout is the running NOTIFY timer's channel (nil when none).
func (r *referLeg) timeout() <-chan time.Time {
	if r.state == nil || r.state.timer == nil {
		return nil
	}
	return r.state.timer.C
}

// done stops the REFER's timer and forgets it.
func (r *referLeg) done() {
	if r.state != nil && r.state.timer != nil {
		r.state.timer.Stop()
	}
	r.state = nil
}

// referRequest builds the REFER for number: Refer-To is the number at the
// trunk's host, as the INVITE's Request-URI would be; Referred-By is the
// campaign's caller ID at our host (anonymous without one).
func (l *outLeg) referRequest(number string) (*sip.Request, error) {
	target, err := l.trunk.config().target()
	if err != nil {
		return nil, err
	}
	referTo := target
	referTo.User = number
	referTo.UriParams = target.UriParams.Clone()
	referTo.Headers = nil
	referredBy := l.dlg.InviteRequest.From().Address
	if l.req.CallerID != "" {
		// The caller ID, also when it went in P-Asserted-Identity.
		referredBy = sip.Uri{Scheme: "sip", User: l.req.CallerID, Host: l.t.ua.host}
	}
	referredBy.UriParams, referredBy.Headers = nil, nil
	referToV, referredByV := "<"+referTo.String()+">", "<"+referredBy.String()+">"
	if err := headerSafe("Refer-To", referToV); err != nil {
		return nil, err
	}
	if err := headerSafe("Referred-By", referredByV); err != nil {
		return nil, err
	}
	dlg := l.dlg
	recipient := dlg.InviteRequest.Recipient
	if c := dlg.InviteResponse.Contact(); c != nil {
		recipient = c.Address
	}
	req := sip.NewRequest(sip.REFER, *recipient.Clone())
	req.AppendHeader(sip.HeaderClone(dlg.InviteRequest.From()))
	req.AppendHeader(sip.HeaderClone(dlg.InviteResponse.To()))
	req.AppendHeader(sip.HeaderClone(dlg.InviteRequest.CallID()))
	req.AppendHeader(sip.NewHeader("Refer-To", referToV))
	req.AppendHeader(sip.NewHeader("Referred-By", referredByV))
	return req, nil
}

// startRefer runs on the leg's goroutine: it sends the REFER and has its
// final response waited for.
func (l *outLeg) startRefer(log *slog.Logger, number string) {
	req, err := l.referRequest(number)
	if err != nil {
		log.Warn("REFER not built: transfer failed", "err", err)
		l.referEnded(dialer.TrunkTransferFailed, dialer.Cause{Q850: 41, Reason: "REFER could not be built"})
		return
	}
	ctx, cancel := context.WithTimeout(l.ctx, 64*sip.T1)
	tx, err := l.dlg.TransactionRequest(ctx, req)
	if err != nil {
		cancel()
		log.Warn("REFER not sent: transfer failed", "err", err)
		l.referEnded(dialer.TrunkTransferFailed, dialer.Cause{Q850: 41, Reason: "REFER not sent"})
		return
	}
	l.rf.sent++
	l.rf.state = &referState{id: l.rf.sent, number: number}
	id := l.rf.sent
	wait := func() {
		defer cancel()
		defer tx.Terminate()
		r := referResult{id: id}
	loop:
		for {
			select {
			case res := <-tx.Responses():
				if res.IsProvisional() {
					continue
				}
				r.res = res
				break loop
			case <-tx.Done():
				r.err = tx.Err()
				break loop
			case <-ctx.Done():
				r.err = ctx.Err()
				break loop
			}
		}
		select {
		case l.rf.results <- r:
		case <-l.ctx.Done():
		}
	}
	if !l.t.ua.goLeg(wait) {
		cancel()
		tx.Terminate()
		l.rf.done()
		l.referEnded(dialer.TrunkTransferFailed, dialer.Cause{Q850: 41, Reason: "SIP user agent stopping"})
		return
	}
	log.Info("transfer by REFER sent", "to", number)
}

// referEnded clears the transfer under way and reports its outcome.
func (l *outLeg) referEnded(kind dialer.TrunkEventKind, cause dialer.Cause) {
	l.ctl.mu.Lock()
	l.ctl.referring = ""
	l.ctl.mu.Unlock()
	l.report(kind, cause)
}

// onReferResult handles the REFER's final response (leg's goroutine).
func (l *outLeg) onReferResult(log *slog.Logger, r referResult) {
	st := l.rf.state
	if st == nil || st.id != r.id {
		return // the REFER it answers is over already
	}
	switch {
	case r.err != nil:
		if st.accepted {
			return // a NOTIFY already told us the carrier took it
		}
		l.rf.done()
		log.Warn("REFER not answered: transfer failed, the agent keeps the customer", "err", r.err)
		l.referEnded(dialer.TrunkTransferFailed, dialer.Cause{Q850: 102, Reason: "REFER not answered by the carrier"})
	case r.res.IsSuccess():
		log.Info("REFER accepted: waiting for the carrier's NOTIFY", "status", r.res.StatusCode)
		if !st.accepted {
			st.accepted = true
			st.timer = time.NewTimer(l.t.ua.cfg.ReferNotifyTimeout)
		}
	case st.accepted:
		// A failure after a NOTIFY: the NOTIFYs decide.
	default:
		number := st.number
		l.rf.done()
		l.ctl.mu.Lock()
		defer l.ctl.mu.Unlock()
		l.ctl.referring = ""
		l.ctl.noRefer = true
		log.Info("the carrier does not take REFER on this call: bridging the transfer instead",
			"status", r.res.StatusCode, "reason", r.res.Reason, "to", number)
		if !l.ctl.up {
			return
		}
		if err := l.startPartyLocked(number, partyTransfer); err != nil {
			l.report(dialer.TrunkTransferFailed, dialer.Cause{Q850: 41, Reason: "SIP user agent stopping"})
		}
	}
}

// onReferNotify handles a sipfrag status from the carrier (leg's
// goroutine); true when the transfer succeeded and our leg is over.
// farHungUp: the carrier's BYE has come already.
func (l *outLeg) onReferNotify(log *slog.Logger, n referNotify, farHungUp bool) bool {
	st := l.rf.state
	if st == nil {
		log.Debug("NOTIFY for no REFER under way", "status", n.code)
		return false
	}
	st.accepted = true
	switch {
	case n.code < 200:
		if st.timer == nil {
			st.timer = time.NewTimer(l.t.ua.cfg.ReferNotifyTimeout)
		} else {
			if !st.timer.Stop() {
				select {
				case <-st.timer.C:
				default:
				}
			}
			st.timer.Reset(l.t.ua.cfg.ReferNotifyTimeout)
		}
		return false
	case n.code < 300:
		l.rf.done()
		log.Info("transfer by REFER answered: the carrier has the customer, hanging up our leg", "to", st.number)
		l.ctl.mu.Lock()
		l.ctl.referring = ""
		l.ctl.up = false // no control applies any more; endControls releases the media
		l.ctl.mu.Unlock()
		l.report(dialer.TrunkTransferAnswered, dialer.Cause{})
		if farHungUp {
			return true
		}
		// Our BYE follows our 200 to the NOTIFY: the status reached us
		// before that 200 left (onNotify), and a carrier may refuse a BYE
		// ahead of it (sipp does).
		if n.answered != nil {
			select {
			case <-n.answered:
			case <-l.farBye:
				return true // the carrier hung up on us first
			case <-l.ctx.Done():
			}
		}
		select {
		case <-l.farBye:
			// The carrier hung up on us first: nothing more to say.
		default:
			l.bye(log)
		}
		return true
	default:
		l.rf.done()
		cause := sipfragCause(n)
		log.Info("transfer by REFER not answered: the agent keeps the customer", "to", st.number, "cause", cause.String())
		l.referEnded(dialer.TrunkTransferFailed, cause)
		return false
	}
}

// onReferTimeout: no NOTIFY in time.
func (l *outLeg) onReferTimeout(log *slog.Logger) {
	number := l.rf.state.number
	l.rf.done()
	log.Warn("no NOTIFY for the REFER in time: transfer failed, the agent keeps the customer",
		"to", number, "waited", l.t.ua.cfg.ReferNotifyTimeout)
	l.referEnded(dialer.TrunkTransferFailed, dialer.Cause{Q850: 102, Reason: "no transfer progress from the carrier (NOTIFY)"})
}

// onNotify answers a NOTIFY in the customer's dialog (sipgo's goroutine)
// and hands a REFER's progress to the leg's goroutine.
func (l *outLeg) onNotify(req *sip.Request, tx sip.ServerTransaction) {
	ev := req.GetHeader("Event")
	if ev == nil || !isReferEvent(ev.Value()) {
		respond(tx, req, 489, "Bad Event")
		return
	}
	// The status reaches the leg before our 200 leaves: a BYE the carrier
	// sends once it has our 200 then always finds it there
	// (transferredBeforeBye).
	answered := make(chan struct{})
	defer close(answered)
	if n, ok := parseSipfrag(req.Body()); ok {
		n.answered = answered
		select {
		case l.rf.notifies <- n:
		case <-l.ctx.Done():
		}
	} else {
		l.log.Debug("NOTIFY without a sipfrag status line")
	}
	respond(tx, req, sip.StatusOK, "OK")
}

// transferredBeforeBye runs on the leg's goroutine when the far end hung
// up: a NOTIFY that came before the BYE and says the transfer was answered
// is the call's outcome (true), not the hang-up.
func (l *outLeg) transferredBeforeBye(log *slog.Logger) bool {
	for l.rf.state != nil {
		select {
		case n := <-l.rf.notifies:
			if l.onReferNotify(log, n, true) {
				return true
			}
		default:
			return false
		}
	}
	return false
}

// isReferEvent: "refer", maybe with parameters (";id=2").
func isReferEvent(v string) bool {
	name, _, _ := strings.Cut(v, ";")
	return strings.EqualFold(strings.TrimSpace(name), "refer")
}

// parseSipfrag reads the status line a REFER's NOTIFY carries
// ("SIP/2.0 180 Ringing").
func parseSipfrag(body []byte) (referNotify, bool) {
	line, _, _ := strings.Cut(string(body), "\n")
	line = strings.TrimSpace(line)
	rest, ok := strings.CutPrefix(line, "SIP/2.0 ")
	if !ok {
		return referNotify{}, false
	}
	codeS, reason, _ := strings.Cut(rest, " ")
	code, err := strconv.Atoi(codeS)
	if err != nil || code < 100 || code > 699 {
		return referNotify{}, false
	}
	return referNotify{code: code, reason: strings.TrimSpace(reason)}, true
}

// sipfragCause is the cause of a transfer the carrier reports failed.
func sipfragCause(n referNotify) dialer.Cause {
	switch n.code {
	case 486:
		return dialer.CauseBusy
	case 600:
		return dialer.CauseBusyEverywhere
	case 480:
		return dialer.CauseUnavailable
	case 408:
		return dialer.CauseRequestTimeout
	case 404:
		return dialer.CauseUnallocated
	case 484:
		return dialer.CauseAddressIncomplete
	case 604:
		return dialer.CauseDoesNotExist
	case 503:
		return dialer.CauseCongestion
	}
	return dialer.Cause{SIP: uint16(n.code), Reason: reasonText(n.code, n.reason)}
}
