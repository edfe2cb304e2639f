package sip

import (
	"log/slog"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/media"
)

// reinvite is a re-INVITE from the far end, handed by the dialog handler
// (sipgo's goroutine) to the leg's goroutine, which answers it.
type reinvite struct {
	req      *sip.Request
	tx       sip.ServerTransaction
	answered chan struct{}
}

// pendingAck is a 200 OK we sent to a re-INVITE and whose ACK has not come:
// the leg retransmits it (RFC 3261 §13.3.1.4: T1 doubling up to T2) and
// ends the call when no ACK came within Config.AckTimeout.
type pendingAck struct {
	cseq      uint32
	offerless bool // the ACK carries the SDP answer to our offer
	res       *sip.Response
	tx        sip.ServerTransaction
	deadline  *time.Timer
	retrans   *time.Timer
	interval  time.Duration
}

func (p *pendingAck) stop() {
	p.deadline.Stop()
	p.retrans.Stop()
}

// causeNoAck: the far end never ACKed our 200 OK.
var causeNoAck = dialer.Cause{Q850: 41, Reason: "no ACK to our 200 OK"}

// onReinvite runs on sipgo's goroutine: it waits until the leg's goroutine
// has answered (or the leg is over).
func (l *outLeg) onReinvite(req *sip.Request, tx sip.ServerTransaction) {
	if l.reinviting.Load() {
		// Glare: our own re-INVITE is waiting for its answer, and the leg's
		// goroutine with it (RFC 3261 §14.2).
		respond(tx, req, sip.StatusRequestPending, "Request Pending")
		return
	}
	r := reinvite{req: req, tx: tx, answered: make(chan struct{})}
	select {
	case l.reinvites <- r:
		<-r.answered
	case <-l.ctx.Done():
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
	}
}

// answerReinvite answers the far end's offer with the mirrored direction
// (a sendonly offer, a hold, is answered recvonly, never sendrecv), or 488
// when the SDP is malformed or has no codec we take. It returns the 200's
// pending ACK, or nil.
func (l *outLeg) answerReinvite(log *slog.Logger, r reinvite) *pendingAck {
	return answerReinvite(log, l.t.ua, l.media, r)
}

// answerReinvite answers r on the leg m of a dialog of u (customer legs
// and callers alike).
func answerReinvite(log *slog.Logger, u *UA, m *media.Leg, r reinvite) *pendingAck {
	defer close(r.answered)
	body := r.req.Body()
	var ans []byte
	var err error
	offerless := len(body) == 0
	if offerless {
		// A re-INVITE without SDP (a session refresh, or asking for our
		// offer): our offer goes in the 200 and the ACK carries the answer.
		ans = m.Offer()
	} else {
		ans, err = m.Answer(body)
	}
	if err != nil {
		log.Info("re-INVITE refused: 488", "err", err)
		res := sip.NewResponseFromRequest(r.req, sip.StatusNotAcceptableHere, "Not Acceptable Here", nil)
		res.AppendHeader(sip.NewHeader("Warning", `304 pacer "media type not available"`))
		_ = r.tx.Respond(res)
		return nil
	}
	res := sip.NewResponseFromRequest(r.req, sip.StatusOK, "OK", ans)
	res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	contact := u.Contact()
	res.AppendHeader(&contact)
	if err := r.tx.Respond(res); err != nil {
		log.Warn("answer re-INVITE", "err", err)
		return nil
	}
	log.Info("re-INVITE answered", "cseq", cseqOf(r.req))
	return &pendingAck{cseq: cseqOf(r.req), offerless: offerless, res: res, tx: r.tx, interval: sip.T1,
		deadline: time.NewTimer(u.cfg.AckTimeout), retrans: time.NewTimer(sip.T1)}
}

func cseqOf(m sip.Message) uint32 {
	if c := m.CSeq(); c != nil {
		return c.SeqNo
	}
	return 0
}

// ackReceived settles p with the ACK: false when the ACK's SDP answer (to
// an offerless re-INVITE) is unusable.
func (l *outLeg) ackReceived(log *slog.Logger, p *pendingAck, ack *sip.Request) bool {
	return ackReceived(log, l.media, p, ack)
}

// ackReceived settles p, a pending ACK on leg m.
func ackReceived(log *slog.Logger, m *media.Leg, p *pendingAck, ack *sip.Request) bool {
	p.stop()
	if p.offerless {
		if err := m.ApplyAnswer(ack.Body()); err != nil {
			log.Warn("unusable SDP answer in the ACK", "err", err)
			return false
		}
	}
	return true
}

// retransmit resends the 200 OK whose ACK has not come.
func (p *pendingAck) retransmit() {
	_ = p.tx.Respond(p.res)
	p.interval = min(2*p.interval, sip.T2)
	p.retrans.Reset(p.interval)
}
