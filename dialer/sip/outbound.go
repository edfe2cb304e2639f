package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/google/uuid"

	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/media"
)

// Why a leg's wait or life was cut short.
var (
	errHangup      = errors.New("hung up by the engine")
	errStopping    = errors.New("sip user agent stopping")
	errRingTimeout = errors.New("ring timeout")
	errNoResponse  = errors.New("no response from the trunk")
)

// ringLead is how much earlier than the engine's own ring timer we CANCEL:
// a 200 OK that crosses our CANCEL then reaches the engine as an answer
// (the 200-after-CANCEL race) before its timer ends the call as unanswered.
// Never below dialer.MinRingTimeout, the legal floor.
const ringLead = 500 * time.Millisecond

// ringTimeout is how long our INVITE rings before we CANCEL.
func ringTimeout(engine time.Duration) time.Duration {
	if engine <= 0 {
		return 25 * time.Second
	}
	return max(engine-ringLead, min(engine, dialer.MinRingTimeout))
}

// byeTimeout bounds our BYE (and the ACK before it) when a leg ends.
const byeTimeout = 5 * time.Second

// outLeg is one customer leg: its goroutine (run) owns the dialog and the
// RTP leg from the first INVITE until the call is over.
type outLeg struct {
	t   *Trunk
	req dialer.DialRequest
	log *slog.Logger

	// ctx is the leg's own lifetime (kept in the struct because it is the
	// leg's, not a request's): cancelled by Hangup (errHangup) or the UA's
	// Stop (errStopping).
	ctx    context.Context
	cancel context.CancelCauseFunc

	farBye    chan *sip.Request       // the far end's BYE, answered already
	reinvites chan reinvite           // the far end's re-INVITEs, to answer
	acks      chan *sip.Request       // ACKs of the 200s we sent to re-INVITEs
	cmds      chan func(*slog.Logger) // controls that need the dialog (hold)
	// report sends the leg's progress: to the engine for a customer leg, to
	// the customer leg's goroutine for a third party's leg (party.go).
	report func(kind dialer.TrunkEventKind, cause dialer.Cause)
	// parent is the customer leg of a third party's leg, nil otherwise.
	parent      *outLeg
	partyEvents chan partyEvent // progress of our third party's leg
	// rf is a transfer by REFER under way (refer.go).
	rf referLeg

	ctl legCtl

	// Set on the leg's goroutine only.
	media *media.Leg
	offer []byte // our SDP offer in the INVITE
	dlg   *sipgo.DialogClientSession
	trunk *trunkState
	rang  bool
	// releaseDialog stops routing the dialog's requests to the leg.
	releaseDialog func()

	// byeDlg is dlg for the request handler, which runs on sipgo's
	// goroutines.
	byeDlg atomic.Pointer[sipgo.DialogClientSession]
	// reinviting is set while our own re-INVITE waits for its answer: a
	// re-INVITE from the far end then gets 491.
	reinviting atomic.Bool
	// answeredAt is when the 200 OK to our INVITE reached the leg (unix
	// nanos, 0 before): the start of BenchmarkAnswerToFirstPacket's
	// answer-to-first-relayed-packet time. One clock read per call.
	answeredAt atomic.Int64
}

func newOutLeg(t *Trunk, req dialer.DialRequest) *outLeg {
	l := &outLeg{t: t, req: req, farBye: make(chan *sip.Request, 1), reinvites: make(chan reinvite),
		acks: make(chan *sip.Request, 4), cmds: make(chan func(*slog.Logger), 8), partyEvents: make(chan partyEvent, 4),
		rf: newReferLeg(), log: t.log.With("call", uint64(req.Call))}
	ctx, cancel := context.WithCancelCause(t.ua.ctx)
	l.ctx, l.cancel = ctx, cancel
	l.report = func(kind dialer.TrunkEventKind, cause dialer.Cause) { t.deliver(req.Call, kind, cause) }
	return l
}

// why is the reason the leg's ctx ended.
func (l *outLeg) why() error {
	if err := context.Cause(l.ctx); !errors.Is(err, errHangup) && err != nil {
		return errStopping
	}
	return context.Cause(l.ctx)
}

func (l *outLeg) run() {
	defer l.t.forget(l)
	defer l.cancel(nil)
	m, err := l.t.ua.NewMediaLeg(l.log)
	if err != nil {
		l.log.Error("no RTP leg for the call", "err", err)
		l.report(dialer.TrunkFailed, dialer.CauseTemporaryFailure)
		return
	}
	l.media = m
	defer m.Close()
	// The offer is made once for every trunk we try; then the leg is put on
	// hold, which only stops its media timeout: no RTP is due before the
	// answer, however long the call rings (answered() takes it off).
	l.offer = m.Offer()
	m.SetHold(true)
	if f := l.t.opts.OnDTMF; f != nil && l.parent == nil {
		// Before the INVITE: the customer's first key may arrive with the
		// first packets after the 200, before the leg's goroutine gets on.
		call := l.req.Call
		m.OnDTMF(func(d rune) { f(call, d) })
	}
	r := l.t.route.Load()
	for i, ts := range r.trunks {
		wait, ok := ts.reserve(time.Now(), l.t.opts.CPSWait)
		if !ok {
			l.log.Debug("trunk full or backing off", "trunk", ts.name)
			continue
		}
		if wait > 0 {
			select {
			case <-time.After(wait):
			case <-l.ctx.Done():
				ts.release()
				return
			}
		}
		l.trunk = ts
		res := l.attempt(ts, r.targets[i])
		switch res.kind {
		case attemptAnswered:
			l.live()
			ts.release()
			return
		case attemptFailover:
			ts.release()
			l.log.Info("trying the next trunk", "trunk", ts.name, "why", res.why)
			continue
		case attemptEnded:
			ts.release()
			return
		case attemptFinal:
			ts.release()
			l.report(res.event, res.cause)
			return
		}
	}
	l.log.Info("no trunk could take the call", "why", "all trunks full, throttled or congested")
	l.report(dialer.TrunkFailed, dialer.CauseCongestion)
}

type attemptKind uint8

const (
	attemptAnswered attemptKind = iota + 1
	attemptFinal                // a final outcome to report
	attemptFailover             // try the next trunk
	attemptEnded                // the engine or the UA ended it: nothing to report
)

type attemptResult struct {
	kind  attemptKind
	event dialer.TrunkEventKind
	cause dialer.Cause
	why   string
}

// invite builds the INVITE for the number through the trunk at target.
func (l *outLeg) invite(ts *trunkState, target sip.Uri) *sip.Request {
	ruri := target
	ruri.User = l.req.Number
	ruri.UriParams = target.UriParams.Clone()
	ruri.Headers = nil
	req := sip.NewRequest(sip.INVITE, ruri)
	contact := l.t.ua.Contact()
	if tr, ok := target.UriParams.Get("transport"); ok && tr != "" {
		req.SetTransport(strings.ToUpper(tr))
		if tr == "tcp" {
			contact.Address.UriParams = sip.NewParams()
			contact.Address.UriParams.Add("transport", "tcp")
		}
	}
	req.AppendHeader(&contact)
	host := l.t.ua.host
	caller := l.req.CallerID
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", Host: host}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	switch {
	case caller == "":
		from.Address.User = "anonymous"
	case ts.config().CallerIDHeader == "pai":
		from.Address.User = "anonymous"
		from.DisplayName = "Anonymous"
		req.AppendHeader(sip.NewHeader("P-Asserted-Identity", "<sip:"+caller+"@"+host+">"))
	default:
		from.Address.User = caller
	}
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: l.req.Number, Host: target.Host, Port: target.Port}})
	cid := sip.CallIDHeader(uuid.NewString())
	req.AppendHeader(&cid)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(l.offer)
	return req
}

// attempt places the call through one trunk and waits for its outcome.
func (l *outLeg) attempt(ts *trunkState, target sip.Uri) (res attemptResult) {
	log := l.log.With("trunk", ts.name)
	inv := l.invite(ts, target)
	callID := inv.CallID().Value()
	log = log.With("sip_call_id", callID)
	// The dialog's requests come to the leg from before the INVITE leaves
	// (a BYE may follow the 200 at once) until the call is over: live()
	// releases an answered one.
	l.releaseDialog = l.t.ua.HandleDialog(callID, l.onRequest)
	defer func() {
		if res.kind != attemptAnswered {
			l.releaseDialog()
		}
	}()

	dlg, err := l.t.ua.dua.WriteInvite(l.ctx, inv, l.t.ua.buildRequest)
	if err != nil {
		if l.ctx.Err() != nil {
			return attemptResult{kind: attemptEnded}
		}
		log.Warn("INVITE not sent", "err", err)
		return attemptResult{kind: attemptFailover, why: err.Error()}
	}
	l.dlg = dlg
	l.byeDlg.Store(dlg)
	defer func() {
		if res.kind != attemptAnswered {
			dlg.Close()
		}
	}()

	// The wait is cancelled by the ring timeout, the engine's Hangup or the
	// UA stopping, after which sipgo sends CANCEL (waiting first for a
	// provisional response if none came yet, as RFC 3261 §9.1 asks, and then
	// for the 487), or forced (no CANCEL: nothing to cancel) by the
	// no-response timer and by the UA stopping before any response.
	waitCtx, waitCancel := context.WithCancelCause(context.Background())
	defer waitCancel(nil)
	var (
		responded atomic.Bool
		whyMu     sync.Mutex
		why       error
	)
	stopWait := func(reason error, force bool) {
		whyMu.Lock()
		if why == nil {
			why = reason
		}
		whyMu.Unlock()
		if force {
			waitCancel(sipgo.WaitAnswerForceCancelErr)
		} else {
			waitCancel(reason)
		}
	}
	ring := ringTimeout(l.req.RingTimeout)
	ringTimer := time.AfterFunc(ring, func() { stopWait(errRingTimeout, false) })
	defer ringTimer.Stop()
	noResp := time.AfterFunc(l.t.opts.NoResponseTimeout, func() {
		if !responded.Load() {
			stopWait(errNoResponse, true)
		}
	})
	defer noResp.Stop()
	stopOnEnd := context.AfterFunc(l.ctx, func() {
		// At shutdown a call that has rung is CANCELled; one the far end has
		// not answered at all is just dropped (nothing to cancel yet).
		why := l.why()
		stopWait(why, errors.Is(why, errStopping) && !responded.Load())
	})
	defer stopOnEnd()

	cfg := ts.config()
	opts := sipgo.AnswerOptions{Username: cfg.Username, Password: cfg.Password,
		OnResponse: func(res *sip.Response) error {
			if res.IsSuccess() {
				l.answeredAt.CompareAndSwap(0, time.Now().UnixNano())
			}
			responded.Store(true)
			noResp.Stop()
			if (res.StatusCode == 180 || res.StatusCode == 183) && !l.rang {
				l.rang = true
				l.report(dialer.TrunkRinging, dialer.Cause{})
			}
			return nil
		}}
	if opts.Username == "" {
		opts.Username = "pacer"
	}
	for {
		err = dlg.WaitAnswer(waitCtx, opts)
		// sipgo gives up after ten responses in one WaitAnswer (a carrier
		// repeating 180/183 through a long ring): the INVITE transaction is
		// still alive, so keep waiting on it.
		if err != nil && err.Error() == "more than 10 responses received" && waitCtx.Err() == nil {
			continue
		}
		break
	}
	whyMu.Lock()
	stopped := why
	whyMu.Unlock()

	var final *sipgo.ErrDialogResponse
	switch {
	case err == nil:
		ts.responded()
		if a := l.answered(log); a != nil {
			return *a
		}
		return attemptResult{kind: attemptAnswered}

	case stopped != nil && dlg.InviteResponse != nil && dlg.InviteResponse.IsSuccess():
		// The 200-after-CANCEL race: the far end answered as we cancelled.
		// sipgo keeps the 200 and neither ACKs nor BYEs it; the customer
		// is on the line, so ACK it ourselves.
		ts.responded()
		if id, err := sip.DialogIDFromResponse(dlg.InviteResponse); err == nil {
			dlg.ID = id
		}
		log.Info("200 OK after our CANCEL: ACKed", "cancelled_for", stopped.Error())
		if errors.Is(stopped, errHangup) || errors.Is(stopped, errStopping) {
			// Nobody wants the call any more: ACK and BYE at once.
			l.ackAndBye(log)
			return attemptResult{kind: attemptEnded}
		}
		if a := l.answered(log); a != nil {
			return *a
		}
		return attemptResult{kind: attemptAnswered}

	case errors.As(err, &final):
		return l.finalResponse(ts, log, final.Res)

	case errors.Is(stopped, errNoResponse):
		d := ts.congested(time.Now())
		return attemptResult{kind: attemptFailover, why: fmt.Sprintf("no response in %s (trunk skipped for %s)", l.t.opts.NoResponseTimeout, d)}

	case errors.Is(stopped, errRingTimeout):
		log.Info("ring timeout: cancelled", "ring", ring)
		return attemptResult{kind: attemptFinal, event: dialer.TrunkNoAnswer, cause: dialer.CauseRingTimeout}

	case stopped != nil:
		log.Debug("dial ended before an answer", "why", stopped.Error())
		return attemptResult{kind: attemptEnded}

	case !responded.Load():
		// Timer B: the INVITE was never answered (or could not be sent).
		d := ts.congested(time.Now())
		return attemptResult{kind: attemptFailover, why: fmt.Sprintf("%v (trunk skipped for %s)", err, d)}

	default:
		log.Warn("INVITE failed", "err", err)
		return attemptResult{kind: attemptFinal, event: dialer.TrunkFailed, cause: dialer.CauseTemporaryFailure}
	}
}

// answered applies the SDP answer and ACKs the 200; nil when the call is
// up. The answer goes in first: the customer's audio can follow the 200 at
// once, and until the leg knows the far address it drops those packets as
// strays (the first syllable lost).
func (l *outLeg) answered(log *slog.Logger) *attemptResult {
	l.media.SetHold(false) // the media timeout starts now
	if err := l.media.ApplyAnswer(l.dlg.InviteResponse.Body()); err != nil {
		log.Warn("unusable SDP answer: hanging up", "err", err)
		l.ackAndBye(log)
		return &attemptResult{kind: attemptFinal, event: dialer.TrunkFailed,
			cause: dialer.Cause{SIP: 488, Q850: 65, Reason: "unusable SDP answer"}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
	defer cancel()
	if err := l.dlg.Ack(ctx); err != nil {
		log.Warn("ACK not sent", "err", err)
		l.bye(log)
		return &attemptResult{kind: attemptFinal, event: dialer.TrunkFailed, cause: dialer.CauseTemporaryFailure}
	}
	log.Info("answered")
	return nil
}

func (l *outLeg) ackAndBye(log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
	defer cancel()
	if err := l.dlg.Ack(ctx); err != nil {
		log.Warn("ACK not sent", "err", err)
	}
	l.bye(log)
}

func (l *outLeg) bye(log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
	defer cancel()
	if err := l.dlg.Bye(ctx); err != nil {
		log.Info("BYE not confirmed", "err", err)
	}
}

// finalResponse maps a final non-2xx answer to the INVITE.
func (l *outLeg) finalResponse(ts *trunkState, log *slog.Logger, res *sip.Response) attemptResult {
	code := res.StatusCode
	log = log.With("status", code)
	if code == 503 {
		d := ts.congested(time.Now())
		return attemptResult{kind: attemptFailover, why: fmt.Sprintf("503 (trunk skipped for %s)", d)}
	}
	ts.responded()
	var ev dialer.TrunkEventKind
	var cause dialer.Cause
	switch code {
	case 486:
		ev, cause = dialer.TrunkBusy, dialer.CauseBusy
	case 600:
		ev, cause = dialer.TrunkBusy, dialer.CauseBusyEverywhere
	case 480:
		ev, cause = dialer.TrunkNoAnswer, dialer.CauseUnavailable
	case 408:
		ev, cause = dialer.TrunkNoAnswer, dialer.CauseRequestTimeout
	case 404:
		ev, cause = dialer.TrunkInvalidNumber, dialer.CauseUnallocated
	case 484:
		ev, cause = dialer.TrunkInvalidNumber, dialer.CauseAddressIncomplete
	case 604:
		ev, cause = dialer.TrunkInvalidNumber, dialer.CauseDoesNotExist
	case 487:
		// Terminated without our CANCEL: the network gave up on the call.
		ev, cause = dialer.TrunkNoAnswer, dialer.Cause{SIP: 487, Q850: 19, Reason: "request terminated by the network"}
	default:
		ev, cause = dialer.TrunkFailed, dialer.Cause{SIP: uint16(code), Reason: reasonText(code, res.Reason)}
	}
	if q, ok := q850(res); ok {
		cause.Q850 = q
	}
	log.Info("call not answered", "outcome", ev.String(), "cause", cause.String())
	return attemptResult{kind: attemptFinal, event: ev, cause: cause}
}

// reasonText is the network's reason phrase, cleaned to fit a Cause.
func reasonText(code int, phrase string) string {
	phrase = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, phrase)
	if phrase == "" {
		phrase = "SIP " + strconv.Itoa(code)
	}
	if len(phrase) > dialer.MaxCauseReason {
		phrase = phrase[:dialer.MaxCauseReason]
		for !utf8ValidEnd(phrase) {
			phrase = phrase[:len(phrase)-1]
		}
	}
	return phrase
}

func utf8ValidEnd(s string) bool {
	return strings.ToValidUTF8(s, "\x00") == s
}

// q850 reads the cause of a "Reason: Q.850;cause=N" header (RFC 3326).
func q850(m sip.Message) (uint8, bool) {
	for _, h := range m.GetHeaders("Reason") {
		v := h.Value()
		for _, part := range strings.Split(v, ",") {
			fields := strings.Split(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(fields[0]), "Q.850") {
				continue
			}
			for _, f := range fields[1:] {
				k, val, ok := strings.Cut(strings.TrimSpace(f), "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "cause") {
					if n, err := strconv.Atoi(strings.TrimSpace(val)); err == nil && n >= 1 && n <= 127 {
						return uint8(n), true
					}
				}
			}
		}
	}
	return 0, false
}

// onRequest receives the requests inside the leg's dialog (sipgo's
// goroutine).
func (l *outLeg) onRequest(req *sip.Request, tx sip.ServerTransaction) {
	switch req.Method {
	case sip.BYE:
		dlg := l.byeDlg.Load()
		if dlg == nil {
			respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
			return
		}
		if err := dlg.ReadBye(req, tx); err != nil {
			l.log.Debug("far-end BYE", "err", err)
		}
		select {
		case l.farBye <- req:
		default:
		}
	case sip.INVITE:
		if l.byeDlg.Load() == nil {
			respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
			return
		}
		l.onReinvite(req, tx)
	case sip.ACK:
		select {
		case l.acks <- req:
		default:
		}
	case sip.NOTIFY:
		l.onNotify(req, tx)
	default:
		respond(tx, req, 488, "Not Acceptable Here")
	}
}

// live is the answered call: it reports the answer and runs until either end
// hangs up or the media stops, answering the far end's re-INVITEs.
func (l *outLeg) live() {
	log := l.log.With("trunk", l.trunk.name)
	l.controlsUp()
	defer l.endControls()
	defer l.rf.done()

	l.report(dialer.TrunkAnsweredHuman, dialer.Cause{})
	mediaDone := l.media.Done()
	defer l.releaseDialog()
	var pending *pendingAck
	defer func() {
		if pending != nil {
			pending.stop()
		}
	}()
	for {
		var ackDeadline, retrans <-chan time.Time
		if pending != nil {
			ackDeadline, retrans = pending.deadline.C, pending.retrans.C
		}
		select {
		case req := <-l.farBye:
			if l.transferredBeforeBye(log) {
				return
			}
			cause := byeCause(req)
			log.Info("the customer hung up", "cause", cause.String())
			l.report(dialer.TrunkHungUp, cause)
			return
		case <-mediaDone:
			log.Warn("media stopped: hanging up", "err", l.media.Err())
			l.bye(log)
			l.report(dialer.TrunkHungUp, causeMediaTimeout)
			return
		case <-l.ctx.Done():
			if why := l.why(); errors.Is(why, errHangup) {
				if playing := l.promptPlaying(); playing != nil {
					// The information message is heard to its end.
					select {
					case <-playing:
					case req := <-l.farBye:
						log.Info("the customer hung up during the prompt")
						l.report(dialer.TrunkHungUp, byeCause(req))
						return
					case <-mediaDone:
					}
				}
			}
			log.Info("hanging up", "why", l.why().Error())
			l.bye(log)
			return
		case cmd := <-l.cmds:
			cmd(log)
		case ev := <-l.partyEvents:
			if l.onPartyEvent(log, ev) {
				return
			}
		case r := <-l.rf.results:
			l.onReferResult(log, r)
		case n := <-l.rf.notifies:
			if l.onReferNotify(log, n, false) {
				return
			}
		case <-l.rf.timeout():
			l.onReferTimeout(log)
		case r := <-l.reinvites:
			if pending != nil {
				// A new offer replaces the one whose ACK is missing.
				pending.stop()
			}
			pending = l.answerReinvite(log, r)
		case ack := <-l.acks:
			if pending != nil && cseqOf(ack) == pending.cseq {
				ok := l.ackReceived(log, pending, ack)
				pending = nil
				if !ok {
					l.bye(log)
					l.report(dialer.TrunkHungUp, dialer.Cause{Q850: 65, Reason: "unusable SDP answer in ACK"})
					return
				}
			}
		case <-retrans:
			pending.retransmit()
		case <-ackDeadline:
			contact := l.t.ua.Contact()
			log.Error("no ACK to our 200 OK for the re-INVITE: hanging up (the far end cannot reach our Contact? check the SIP public address and NAT)",
				"waited", l.t.ua.cfg.AckTimeout, "cseq", pending.cseq, "contact", contact.Value())
			pending.stop()
			pending = nil
			l.bye(log)
			l.report(dialer.TrunkHungUp, causeNoAck)
			return
		}
	}
}

// byeCause is the cause of the far end's BYE: normal clearing, with the
// Q.850 cause of its Reason header when it has one.
func byeCause(req *sip.Request) dialer.Cause {
	cause := dialer.CauseNormalClearing
	if q, ok := q850(req); ok {
		cause.Q850 = q
	}
	return cause
}

// causeMediaTimeout: the far end stopped sending RTP.
var causeMediaTimeout = dialer.Cause{Q850: 41, Reason: "no audio from the far end (media timeout)"}
