package sip

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/dialer/blend"
	"github.com/pacer-dialer/pacer/inbound"
	"github.com/pacer-dialer/pacer/media"
)

// CallerRouter is the inbound router as SIP callers reach it (package
// inbound's Router): a caller arrives on the number they dialled, and
// hangs up while waiting.
type CallerRouter interface {
	Arrive(a inbound.Arrival, now time.Time) error
	HungUp(call inbound.CallKey, now time.Time)
	// LeaveForCallback is a waiting caller pressing CallbackKey: they
	// keep their place as a callback request, where the queue takes them.
	LeaveForCallback(call inbound.CallKey, now time.Time) error
}

// CallbackKey is the key a waiting caller presses to be called back
// instead of waiting (RFC 4733 telephone-event), where their queue allows.
const CallbackKey = '1'

// CallerLegBase is where the legs of SIP callers are numbered from: above
// blend.LegBase (they are inbound legs) and above every leg the simulated
// carrier's callers use (blend.LegBase plus the clock in microseconds ×
// 16, far below 2^61), so the two kinds of callers never share a key.
const CallerLegBase = blend.LegBase + 1<<61

// IsCaller reports whether leg is a SIP caller's leg (see CallerLegBase).
func IsCaller(leg dialer.CallID) bool { return leg >= CallerLegBase }

// CallersConfig configures the node's SIP callers.
type CallersConfig struct {
	// Router queues the callers (required).
	Router CallerRouter
	// Ringback is how long a caller hears ringing (our 180) before we
	// answer and they hear the music (default 1 s).
	Ringback time.Duration
	// HoldMusic is what waiting callers hear where their queue has no
	// music of its own (default media.HoldMusic()).
	HoldMusic *media.Prompt
	// Sounds is what the callers of a number hear while they wait: their
	// queue's welcome, music and comfort message (inbound.Sounds.ForDID).
	// It is asked once per caller, when they are queued, so a recording
	// changed later reaches the callers who arrive after it. Nil: music
	// only.
	Sounds func(did string) inbound.WaitSounds
	// Goodbye is played to a caller the queue sends away (closed, full, no
	// agents, waited too long) before we hang up (default the special
	// information tone, DismissTone()).
	Goodbye *media.Prompt
	// Elsewhere, when set, is asked before a caller is queued whether they
	// are to wait on another node (dialer/blend's Placer: this node runs
	// none of their queue's agents): it returns that node's SIP address,
	// and the INVITE is answered 302 to it. An error keeps the caller here.
	// A caller sent here by another node (PlacedParam) is never sent on.
	Elsewhere func(ctx context.Context, did, from string) (sipAddr string, ok bool, err error)
	Logger    *slog.Logger
}

// PlacedParam is the Request-URI parameter of the Contact we send a caller
// on with: the INVITE it brings to the other node carries it, and that
// node keeps the caller whatever its own count says.
const PlacedParam = "x-pacer-placed"

// Callers is the node's side of callers from trunks: an INVITE from a trunk
// host is answered, its caller queued by the number they dialled, and
// hears music until an agent takes them (a campaign's Trunk.Bridge, on any
// SIP campaign of the node) or the queue sends them away (Dismiss). Each
// caller's leg is one goroutine owning its dialog and its RTP leg. Safe for
// concurrent use.
type Callers struct {
	ua  *UA
	cfg CallersConfig
	log *slog.Logger

	mu     sync.Mutex
	next   dialer.CallID
	legs   map[dialer.CallID]*inLeg
	closed bool
	live   sync.WaitGroup // one per leg goroutine
}

// NewCallers makes the UA's callers (one per UA). Route INVITEs to them
// with SetInboundHandler(c.HandleInvite). Their legs are numbered from a
// point that grows with the wall clock, so a restarted node never reuses
// one (the queue event log keys calls by them).
func (u *UA) NewCallers(cfg CallersConfig) (*Callers, error) {
	if cfg.Router == nil {
		return nil, errors.New("sip callers need a router")
	}
	if cfg.Ringback < 0 {
		return nil, errors.New("sip callers: ringback must not be negative")
	}
	if cfg.Ringback == 0 {
		cfg.Ringback = time.Second
	}
	if cfg.HoldMusic == nil {
		cfg.HoldMusic = media.HoldMusic()
	}
	if cfg.Goodbye == nil {
		cfg.Goodbye = DismissTone()
	}
	if cfg.Logger == nil {
		cfg.Logger = u.cfg.Logger
	}
	c := &Callers{ua: u, cfg: cfg, log: cfg.Logger.With("component", "sip-callers"),
		next: CallerLegBase + dialer.CallID(time.Now().UnixMicro())<<4, legs: map[dialer.CallID]*inLeg{}}
	if !u.callers.CompareAndSwap(nil, c) {
		return nil, errors.New("this sip user agent already has its callers")
	}
	return c, nil
}

// Waiting counts the callers' legs not yet over (waiting or talking).
func (c *Callers) Waiting() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.legs)
}

// Owns reports whether call is a SIP caller's (by its number: see
// CallerLegBase).
func (c *Callers) Owns(call inbound.CallKey) bool { return IsCaller(blend.Leg(call)) }

func (c *Callers) leg(call dialer.CallID) (*inLeg, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.legs[call]
	return l, ok
}

func (c *Callers) forget(l *inLeg) {
	c.mu.Lock()
	if c.legs[l.call] == l {
		delete(c.legs, l.call)
	}
	c.mu.Unlock()
}

// Dismiss is the router sending a caller away (its CallerLine): the
// caller hears Goodbye, then we hang up.
func (c *Callers) Dismiss(call inbound.CallKey, why string) {
	l, ok := c.leg(blend.Leg(call))
	if !ok {
		return
	}
	l.log.Info("the queue sends the caller away", "why", why)
	if why == inbound.DismissCallback {
		l.cancel(errCallbackLeft)
		return
	}
	l.cancel(errDismissed)
}

// errDismissed: the router sent the caller away. errCallbackLeft: the
// caller left a callback request, now stored.
var (
	errDismissed    = errors.New("sent away by the queue")
	errCallbackLeft = errors.New("left a callback request")
)

// HandleInvite takes a new INVITE from a trunk (the UA's InboundHandler):
// the number dialled is the Request-URI's user part (else the To's); an
// unknown number is answered 404, an INVITE without an SDP offer 488.
// It returns once the INVITE has its final response (sipgo ends the
// transaction when the handler returns); the caller's leg goes on in its
// own goroutine.
func (c *Callers) HandleInvite(req *sip.Request, tx sip.ServerTransaction) {
	number, err := dialledNumber(req)
	if err != nil {
		c.log.Info("INVITE to a number that is no DID: 404", "err", err)
		respond(tx, req, sip.StatusNotFound, "Not Found")
		return
	}
	if len(req.Body()) == 0 {
		c.log.Info("INVITE without an SDP offer refused: 488", "did", number)
		res := sip.NewResponseFromRequest(req, sip.StatusNotAcceptableHere, "Not Acceptable Here", nil)
		res.AppendHeader(sip.NewHeader("Warning", `399 pacer "an SDP offer is required"`))
		_ = tx.Respond(res)
		return
	}
	if c.sendOn(req, tx, number) {
		return
	}
	dlg, err := c.ua.dua.ReadInvite(req, tx)
	if err != nil {
		c.log.Info("unusable INVITE: 400", "err", err)
		respond(tx, req, sip.StatusBadRequest, "Bad Request")
		return
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		respond(tx, req, sip.StatusServiceUnavailable, "Service Unavailable")
		return
	}
	c.next++
	l := newInLeg(c, c.next, dlg, tx, number, callerNumber(req))
	c.legs[l.call] = l
	c.live.Add(1)
	c.mu.Unlock()
	answered := make(chan struct{})
	if !c.ua.goLeg(func() { defer c.live.Done(); l.run(answered) }) {
		c.live.Done()
		c.forget(l)
		respond(tx, req, sip.StatusServiceUnavailable, "Service Unavailable")
		return
	}
	<-answered
}

// sendOn answers 302 to a caller who is to wait on another node
// (CallersConfig.Elsewhere) and reports whether it did. The Contact is the
// number dialled at that node's address, marked with PlacedParam.
func (c *Callers) sendOn(req *sip.Request, tx sip.ServerTransaction, number string) bool {
	if c.cfg.Elsewhere == nil || req.Recipient.UriParams.Has(PlacedParam) {
		return false
	}
	ctx, cancel := context.WithTimeout(c.ua.ctx, placeTimeout)
	defer cancel()
	addr, ok, err := c.cfg.Elsewhere(ctx, number, callerNumber(req))
	if err != nil {
		c.log.Warn("could not learn where the caller's queue is served; the caller waits here", "did", number, "err", err)
		return false
	}
	if !ok {
		return false
	}
	host, port, err := net.SplitHostPort(addr)
	p, perr := strconv.Atoi(port)
	if err != nil || perr != nil {
		c.log.Error("the node serving the caller's queue has an unusable SIP address; the caller waits here",
			"did", number, "sip_addr", addr)
		return false
	}
	to := sip.Uri{Scheme: "sip", User: req.Recipient.User, Host: host, Port: p, UriParams: sip.NewParams()}
	to.UriParams.Add(PlacedParam, "1")
	res := sip.NewResponseFromRequest(req, sip.StatusMovedTemporarily, "Moved Temporarily", nil)
	res.AppendHeader(&sip.ContactHeader{Address: to})
	if err := tx.Respond(res); err != nil {
		c.log.Info("302 not sent", "did", number, "err", err)
	}
	c.log.Info("caller sent to the node serving their queue: 302", "did", number, "to", to.String())
	return true
}

// placeTimeout bounds the question of where a caller waits: past it, they
// wait here.
const placeTimeout = 2 * time.Second

// Close stops taking callers (503) and hangs up every caller still here
// (BYE; a waiting one leaves the queue as an abandon), waiting for their
// legs to end up to the UA's ShutdownGrace: serve calls it when its
// campaigns have stopped, before the queue event log is flushed.
func (c *Callers) Close() {
	c.mu.Lock()
	c.closed = true
	legs := make([]*inLeg, 0, len(c.legs))
	for _, l := range c.legs {
		legs = append(legs, l)
	}
	c.mu.Unlock()
	for _, l := range legs {
		l.cancel(errStopping)
	}
	done := make(chan struct{})
	go func() { c.live.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(c.ua.cfg.ShutdownGrace):
		c.log.Warn("SIP callers still ending at close", "legs", c.Waiting())
	}
}

// dialledNumber is the DID the caller dialled, normalised.
func dialledNumber(req *sip.Request) (string, error) {
	user := req.Recipient.User
	if user == "" {
		if to := req.To(); to != nil {
			user = to.Address.User
		}
	}
	if user == "" {
		return "", errors.New("no user part in the Request-URI or To")
	}
	return didOf(user)
}

// didOf normalises a dialled number; carriers often send E.164 without
// its "+" (12025550100), which is taken as +12025550100.
func didOf(user string) (string, error) {
	n, err := inbound.NormalizeDID(user)
	if err != nil && strings.Trim(user, "0123456789") == "" && !strings.HasPrefix(user, "0") {
		if n, err2 := inbound.NormalizeDID("+" + user); err2 == nil {
			return n, nil
		}
	}
	return n, err
}

// callerNumber is the caller's number as the agent sees it: From's user
// part, normalised when it is a number, else cleaned of control
// characters and cut to 32 bytes ("anonymous" when empty).
func callerNumber(req *sip.Request) string {
	var user string
	if f := req.From(); f != nil {
		user = f.Address.User
	}
	if n, err := inbound.NormalizeDID(user); err == nil {
		return n
	}
	clean := make([]rune, 0, len(user))
	for _, r := range user {
		if r >= 0x20 && r != 0x7f {
			clean = append(clean, r)
		}
	}
	s := string(clean)
	for len(s) > 32 {
		s = string([]rune(s)[:len([]rune(s))-1])
	}
	if s == "" {
		return "anonymous"
	}
	return s
}

// inLeg is one caller: its goroutine (run) owns the dialog and the RTP leg
// from the INVITE until the call is over.
type inLeg struct {
	c    *Callers
	call dialer.CallID
	did  string
	from string
	log  *slog.Logger
	dlg  *sipgo.DialogServerSession
	tx   sip.ServerTransaction

	// ctx is the leg's lifetime: cancelled by the engine's Hangup
	// (errHangup), the router's Dismiss (errDismissed) or the UA's Stop.
	ctx    context.Context
	cancel context.CancelCauseFunc

	// sounds is what the caller hears while waiting, from their queue as
	// it was when they were queued.
	sounds inbound.WaitSounds

	farBye    chan *sip.Request
	reinvites chan reinvite
	acks      chan *sip.Request // ACKs of our 200s to re-INVITEs
	confirmed atomic.Bool       // the ACK of our answer came

	ctl inCtl
}

// inCtl is what the engines' controls change (under mu), as legCtl is for
// customer legs.
type inCtl struct {
	mu    sync.Mutex
	media *media.Leg // set before the caller is queued
	up    bool       // answered and not over
	over  bool
	// trunk is the campaign trunk that bridged the caller: the leg's
	// events go to its loop from then on.
	trunk    *Trunk
	agent    agents.ID
	agentLeg *media.Leg
	bridge   *media.Bridge
	muted    bool
	held     bool
	playing  <-chan struct{}
}

func newInLeg(c *Callers, call dialer.CallID, dlg *sipgo.DialogServerSession, tx sip.ServerTransaction, did, from string) *inLeg {
	l := &inLeg{c: c, call: call, did: did, from: from, dlg: dlg, tx: tx,
		farBye: make(chan *sip.Request, 1), reinvites: make(chan reinvite), acks: make(chan *sip.Request, 4),
		log: c.log.With("call", uint64(call), "did", did, "sip_call_id", dlg.InviteRequest.CallID().Value())}
	l.ctx, l.cancel = context.WithCancelCause(c.ua.ctx)
	return l
}

// why is the reason the leg's ctx ended: errHangup, errDismissed or
// errStopping.
func (l *inLeg) why() error {
	switch err := context.Cause(l.ctx); {
	case errors.Is(err, errHangup), errors.Is(err, errDismissed):
		return err
	}
	return errStopping
}

func (l *inLeg) key() inbound.CallKey { return blend.Key(l.call) }

func (l *inLeg) run(answered chan struct{}) {
	defer l.c.forget(l)
	defer l.cancel(nil)
	hand := sync.OnceFunc(func() { close(answered) })
	defer hand()
	release := l.c.ua.HandleDialog(l.dlg.InviteRequest.CallID().Value(), l.onRequest)
	defer release()
	defer l.dlg.Close()

	m, err := l.c.ua.NewMediaLeg(l.log)
	if err != nil {
		l.log.Error("no RTP leg for the caller: 503", "err", err)
		l.refuse(sip.StatusServiceUnavailable, "Service Unavailable")
		return
	}
	defer m.Close()
	answer, err := m.Answer(l.dlg.InviteRequest.Body())
	if err != nil {
		l.log.Info("caller's SDP refused: 488", "err", err)
		l.refuse(sip.StatusNotAcceptableHere, "Not Acceptable Here", sip.NewHeader("Warning", `304 pacer "media type not available"`))
		return
	}
	m.SetHold(true) // no media timeout before our answer
	l.ctl.mu.Lock()
	l.ctl.media = m
	l.ctl.mu.Unlock()

	// Queued first (an unknown number is refused before any ringing), then
	// ringback: an agent may take the caller before the answer, and the
	// bridge is made when it comes.
	now := time.Now()
	err = l.c.cfg.Router.Arrive(inbound.Arrival{Call: l.key(), DID: l.did, From: l.from}, now)
	if err != nil {
		if errors.Is(err, inbound.ErrUnknownDID) {
			l.log.Info("no queue answers the number: 404", "err", err)
			l.refuse(sip.StatusNotFound, "Not Found")
		} else {
			l.log.Error("caller not queued: 500", "err", err)
			l.refuse(sip.StatusInternalServerError, "Server Internal Error")
		}
		return
	}
	l.log.Info("caller queued", "from", l.from)
	if l.c.cfg.Sounds != nil {
		l.sounds = l.c.cfg.Sounds(l.did)
	}
	if err := l.dlg.Respond(sip.StatusRinging, "Ringing", nil); err != nil {
		l.log.Info("180 not sent", "err", err)
	}
	ring := time.NewTimer(l.c.cfg.Ringback)
	select {
	case <-ring.C:
	case <-l.dlg.Context().Done():
		// CANCEL: the transaction answered it 487.
		ring.Stop()
		l.log.Info("the caller hung up while ringing")
		l.ended(dialer.CauseNormalClearing)
		return
	case <-l.ctx.Done():
		ring.Stop()
		if why := l.why(); !errors.Is(why, errDismissed) {
			// The engine gave the caller up, or the node stops.
			l.log.Info("caller not answered", "why", why.Error())
			l.refuse(sip.StatusTemporarilyUnavailable, "Temporarily Unavailable")
			if errors.Is(why, errStopping) {
				l.ended(dialer.CauseNormalClearing)
			}
			return
		}
		// Dismissed: answered all the same, to hear why.
	}
	m.SetHold(false)
	if err := l.dlg.RespondSDP(answer); err != nil {
		// A CANCEL crossed the answer, or the ACK never came.
		l.log.Info("answer not completed", "err", err)
		l.ended(dialer.CauseNormalClearing)
		return
	}
	hand()
	l.log.Info("answered")
	l.answered()
	l.live()
}

// refuse gives the INVITE a final non-2xx response; the transaction
// layer absorbs its ACK.
func (l *inLeg) refuse(code int, reason string, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(l.dlg.InviteRequest, code, reason, nil)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	if err := l.tx.Respond(res); err != nil {
		l.log.Debug("final response not sent", "code", code, "err", err)
	}
}

// answered makes the call up: bridged at once when an agent took the
// caller during the ringback, else their queue's welcome once, then music
// with the comfort message after every interval of it (media.Program),
// until a bridge stops it (rebridgeLocked).
func (l *inLeg) answered() {
	l.ctl.mu.Lock()
	defer l.ctl.mu.Unlock()
	l.ctl.up = true
	if l.ctl.agentLeg != nil {
		l.ctl.bridge = media.NewBridge(l.ctl.media, l.ctl.agentLeg)
		return
	}
	if l.ctx.Err() == nil {
		music := l.sounds.Music
		if music == nil {
			music = l.c.cfg.HoldMusic
		}
		l.ctl.media.PlayProgram(media.Program{Intro: l.sounds.Welcome, Loop: music, Interject: l.sounds.Comfort,
			Every: l.sounds.ComfortEvery})
		// A waiting caller may press CallbackKey to be called back.
		key, router := blend.Key(l.call), l.c.cfg.Router
		l.ctl.media.OnDTMF(func(d rune) {
			if d != CallbackKey {
				return
			}
			go func() {
				if err := router.LeaveForCallback(key, time.Now()); err != nil {
					l.log.Info("callback key pressed; no callback request", "err", err)
				}
			}()
		})
	}
}

// ended is the caller gone (or their leg lost) by itself: the campaign
// loop that bridged them hears it, else the router (an abandon).
func (l *inLeg) ended(cause dialer.Cause) {
	l.ctl.mu.Lock()
	t := l.ctl.trunk
	l.over()
	l.ctl.mu.Unlock()
	if t != nil {
		t.deliver(l.call, dialer.TrunkHungUp, cause)
		return
	}
	l.c.cfg.Router.HungUp(l.key(), time.Now())
}

// over closes the controls (l.ctl.mu held).
func (l *inLeg) over() {
	l.ctl.up, l.ctl.over = false, true
	if l.ctl.bridge != nil {
		l.ctl.bridge.Close()
		l.ctl.bridge = nil
	}
}

func (l *inLeg) endControls() {
	l.ctl.mu.Lock()
	l.over()
	l.ctl.mu.Unlock()
}

// live is the answered caller, waiting or talking, until either end hangs
// up or the media stops; it answers the caller's re-INVITEs.
func (l *inLeg) live() {
	defer l.endControls()
	m := l.ctl.media
	mediaDone := m.Done()
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
			cause := byeCause(req)
			l.log.Info("the caller hung up", "cause", cause.String())
			l.ended(cause)
			return
		case <-mediaDone:
			l.log.Warn("media stopped: hanging up", "err", m.Err())
			l.bye()
			l.ended(causeMediaTimeout)
			return
		case <-l.ctx.Done():
			l.hangUp(mediaDone)
			return
		case r := <-l.reinvites:
			if pending != nil {
				pending.stop()
			}
			pending = answerReinvite(l.log, l.c.ua, m, r)
		case ack := <-l.acks:
			if pending != nil && cseqOf(ack) == pending.cseq {
				ok := ackReceived(l.log, m, pending, ack)
				pending = nil
				if !ok {
					l.bye()
					l.ended(dialer.Cause{Q850: 65, Reason: "unusable SDP answer in ACK"})
					return
				}
			}
		case <-retrans:
			pending.retransmit()
		case <-ackDeadline:
			l.log.Error("no ACK to our 200 OK for the re-INVITE: hanging up", "waited", l.c.ua.cfg.AckTimeout)
			pending.stop()
			pending = nil
			l.bye()
			l.ended(causeNoAck)
			return
		}
	}
}

// hangUp ends the call from our side: after the goodbye message for a
// dismissed caller, after the prompt of Play for the engine's Hangup.
func (l *inLeg) hangUp(mediaDone <-chan struct{}) {
	why := l.why()
	var wait <-chan struct{}
	switch {
	case errors.Is(why, errDismissed):
		l.ctl.mu.Lock()
		wait = l.ctl.media.Play(l.c.cfg.Goodbye, false)
		l.ctl.mu.Unlock()
	case errors.Is(why, errCallbackLeft):
		l.ctl.mu.Lock()
		wait = l.ctl.media.Play(callbackTone(), false)
		l.ctl.mu.Unlock()
	case errors.Is(why, errHangup):
		l.ctl.mu.Lock()
		wait = l.ctl.playing
		l.ctl.mu.Unlock()
	}
	if wait != nil {
		select {
		case <-wait:
		case req := <-l.farBye:
			l.log.Info("the caller hung up during the message")
			if errors.Is(why, errHangup) {
				l.ended(byeCause(req))
			}
			return
		case <-mediaDone:
		}
	}
	l.log.Info("hanging up", "why", why.Error())
	l.bye()
	if errors.Is(why, errStopping) {
		// A caller still waiting leaves the queue with the node.
		l.ctl.mu.Lock()
		waiting := l.ctl.trunk == nil
		l.ctl.mu.Unlock()
		if waiting {
			l.c.cfg.Router.HungUp(l.key(), time.Now())
		}
	}
}

func (l *inLeg) bye() {
	ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
	defer cancel()
	if err := l.dlg.Bye(ctx); err != nil {
		l.log.Info("BYE not confirmed", "err", err)
	}
}

// onRequest receives the requests inside the caller's dialog (sipgo's
// goroutine).
func (l *inLeg) onRequest(req *sip.Request, tx sip.ServerTransaction) {
	switch req.Method {
	case sip.ACK:
		if !l.confirmed.Load() {
			if err := l.dlg.ReadAck(req, tx); err == nil {
				l.confirmed.Store(true)
			}
			return
		}
		select {
		case l.acks <- req:
		default:
		}
	case sip.BYE:
		if err := l.dlg.ReadBye(req, tx); err != nil {
			l.log.Debug("caller's BYE", "err", err)
			respond(tx, req, sip.StatusOK, "OK")
		}
		select {
		case l.farBye <- req:
		default:
		}
	case sip.INVITE:
		if !l.confirmed.Load() {
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
	default:
		respond(tx, req, 488, "Not Acceptable Here")
	}
}

// callbackTone is what a caller who left a callback request hears before
// we hang up: two short rising beeps (660 then 880 Hz, 150 ms each), an
// acknowledgement, unlike the dismissal's information tone. Generated in
// code.
var callbackTone = sync.OnceValue(func() *media.Prompt {
	const rate, peak = 8000, 6000.0
	var out []int16
	for _, f := range []float64{660, 880} {
		n := rate * 15 / 100
		for i := range n {
			env := math.Min(1, math.Min(float64(i), float64(n-1-i))/float64(rate/200)) // 5 ms ramps
			out = append(out, int16(peak*env*math.Sin(2*math.Pi*f*float64(i)/rate)))
		}
		out = append(out, make([]int16, rate/10)...)
	}
	return media.NewPrompt(append(out, make([]int16, rate/2)...))
})

// DismissTone is the special information tone (ITU-T Q.35: 950, 1400 and
// 1800 Hz, a third of a second each), what a caller the queue cannot keep
// hears before we hang up: the network's own "your call cannot be
// completed". Generated in code.
func DismissTone() *media.Prompt { return dismissTone() }

var dismissTone = sync.OnceValue(func() *media.Prompt {
	const rate, peak = 8000, 6000.0
	var out []int16
	for _, f := range []float64{950, 1400, 1800} {
		n := rate / 3
		for i := range n {
			env := math.Min(1, math.Min(float64(i), float64(n-1-i))/float64(rate/200)) // 5 ms ramps
			out = append(out, int16(peak*env*math.Sin(2*math.Pi*f*float64(i)/rate)))
		}
	}
	return media.NewPrompt(append(out, make([]int16, rate/2)...)) // then half a second of silence
})
