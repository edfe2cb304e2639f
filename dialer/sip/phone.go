package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"
	"github.com/google/uuid"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/media"
)

// Agents' phone legs (issue 13, item 4): when an agent joins a campaign,
// Pacer calls the agent's SIP phone (its live registration, else its fixed
// URI) asking it to answer at once, and keeps that dialog up for the whole
// session; customers are bridged into its media.Leg with no ringing. A leg
// that drops (the phone's BYE, a media timeout, a failed answer) is
// reported down and redialled with back-off (MinBackoff doubling up to
// MaxBackoff) until the agent leaves; Leave sends BYE.
//
// Goroutines: one per joined agent, started by Join, which owns that
// agent's dialog and media leg and exits after Leave (or Stop) has hung up.
// In-dialog requests (BYE, re-INVITE, ACK) arrive on sipgo's goroutines
// through HandleDialog and are answered there.

// PhoneState is where an agent's phone leg is.
type PhoneState uint8

const (
	// PhoneOff: the agent has not joined (or has left).
	PhoneOff PhoneState = iota
	// PhoneCalling: the INVITE is out; the phone has not answered yet.
	PhoneCalling
	// PhoneUp: the phone answered; its media.Leg carries audio.
	PhoneUp
	// PhoneDown: the leg dropped or the phone could not be reached; it is
	// redialled after the back-off. The agent is shown "phone disconnected"
	// and must not be offered calls.
	PhoneDown
)

func (s PhoneState) String() string {
	switch s {
	case PhoneOff:
		return "off"
	case PhoneCalling:
		return "calling"
	case PhoneUp:
		return "up"
	case PhoneDown:
		return "down"
	}
	return fmt.Sprintf("PhoneState(%d)", uint8(s))
}

// PhoneEvent is a change of an agent's phone leg.
type PhoneEvent struct {
	Agent agents.ID
	State PhoneState
	// Err says why the leg is down (PhoneDown only).
	Err error
	// Retry is the back-off before the next call (PhoneDown only).
	Retry time.Duration
	// CallID is the SIP Call-ID of the dialog (PhoneCalling, PhoneUp).
	CallID string
}

// ErrPhoneHungUp is the Err of a leg the phone ended with BYE.
var ErrPhoneHungUp = errors.New("the phone hung up")

// PhonesConfig configures Phones.
type PhonesConfig struct {
	// DialogUA places the dialogs from the node's SIP sockets (UA.DialogUA).
	DialogUA *sipgo.DialogUA
	// HandleDialog routes the in-dialog requests of a Call-ID to h until
	// release is called (UA.HandleDialog).
	HandleDialog func(callID string, h DialogHandler) (release func())
	// NewMedia makes the RTP leg of one call to a phone.
	NewMedia func() (*media.Leg, error)
	// Host is the node's SIP host as phones reach it: From, Call-Info.
	Host string
	// AnswerTimeout is how long a phone may take to answer before the call
	// is cancelled and redialled (default 30 s).
	AnswerTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait before a redial (defaults
	// 1 s and 30 s); it doubles after each failure and returns to MinBackoff
	// after a leg stayed up StableAfter (default 1 minute).
	MinBackoff, MaxBackoff, StableAfter time.Duration
	Logger                              *slog.Logger
}

// WithDefaults fills unset fields.
func (c PhonesConfig) WithDefaults() PhonesConfig {
	if c.AnswerTimeout == 0 {
		c.AnswerTimeout = 30 * time.Second
	}
	if c.MinBackoff == 0 {
		c.MinBackoff = time.Second
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = 30 * time.Second
	}
	if c.StableAfter == 0 {
		c.StableAfter = time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Validate says what is missing.
func (c PhonesConfig) Validate() error {
	switch {
	case c.DialogUA == nil || c.HandleDialog == nil || c.NewMedia == nil:
		return errors.New("phones: DialogUA, HandleDialog and NewMedia are required")
	case c.Host == "" || strings.ContainsAny(c.Host, "\r\n\x00 <>\""):
		return fmt.Errorf("phones: bad SIP host %q", c.Host)
	case c.AnswerTimeout <= 0 || c.MinBackoff <= 0 || c.MaxBackoff < c.MinBackoff || c.StableAfter <= 0:
		return errors.New("phones: timeouts and back-off must be positive, MaxBackoff >= MinBackoff")
	}
	return nil
}

// Phones keeps agents' phone legs up. Safe for concurrent use.
type Phones struct {
	cfg PhonesConfig
	db  agents.PhoneDB
	log *slog.Logger

	mu      sync.Mutex
	legs    map[agents.ID]*phoneLeg
	subs    map[int]func(PhoneEvent)
	nextSub int
	stopped bool
	// running counts the legs' goroutines, including those of legs that
	// Leave took out of legs and that are still hanging up.
	running sync.WaitGroup
}

// NewPhones makes the phone legs' keeper; db is where phones are found.
func NewPhones(db agents.PhoneDB, cfg PhonesConfig) (*Phones, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Phones{cfg: cfg, db: db, log: cfg.Logger.With("component", "phones"),
		legs: map[agents.ID]*phoneLeg{}, subs: map[int]func(PhoneEvent){}}, nil
}

// phoneLeg is one joined agent's leg; its goroutine owns dlg and media.
type phoneLeg struct {
	agent  agents.ID
	log    *slog.Logger
	ctx    context.Context // the agent's session on this leg: cancelled by Leave
	cancel context.CancelFunc
	done   chan struct{}

	// state and media are read by State and Leg; written by the goroutine.
	state atomic.Uint32
	media atomic.Pointer[media.Leg]
	// dlg is the current dialog, for BYE from sipgo's goroutine.
	dlg atomic.Pointer[sipgo.DialogClientSession]
	// farBye is signalled when the phone sends BYE.
	farBye chan struct{}
	// offered is set while a re-INVITE without SDP waits for the ACK
	// carrying the phone's answer to our offer.
	offered atomic.Bool
}

// Subscribe calls f on every phone leg change until unsubscribe is called.
// f runs on the agent's leg goroutine, in order per agent; it must not block
// (nor call Leave or Stop, which wait for that goroutine).
func (p *Phones) Subscribe(f func(PhoneEvent)) (unsubscribe func()) {
	p.mu.Lock()
	id := p.nextSub
	p.nextSub++
	p.subs[id] = f
	p.mu.Unlock()
	return func() {
		p.mu.Lock()
		delete(p.subs, id)
		p.mu.Unlock()
	}
}

// Join starts calling the agent's phone and keeping the leg up; it returns
// at once (the leg's progress is reported to subscribers). An agent with
// neither a registration nor a fixed URI gets an error naming them; a
// second Join while joined does nothing.
func (p *Phones) Join(ctx context.Context, agent agents.ID) error {
	if _, err := agents.PhoneContact(ctx, p.db, agent, time.Now()); err != nil {
		if errors.Is(err, agents.ErrNoPhone) {
			return fmt.Errorf("agent %d has no SIP phone: %w", agent, err)
		}
		return fmt.Errorf("agent %d's phone: %w", agent, err)
	}
	lctx, cancel := context.WithCancel(context.Background())
	l := &phoneLeg{agent: agent, log: p.log.With("agent", int64(agent)), ctx: lctx, cancel: cancel,
		done: make(chan struct{}), farBye: make(chan struct{}, 1)}
	for {
		p.mu.Lock()
		old, stopped := p.legs[agent], p.stopped
		if old == nil && !stopped {
			p.legs[agent] = l
			p.running.Add(1)
		}
		p.mu.Unlock()
		switch {
		case stopped:
			cancel()
			return errors.New("phones: stopped")
		case old == nil:
			go p.run(l)
			return nil
		case old.ctx.Err() == nil:
			cancel()
			return nil // joined already
		}
		// A Leave is hanging the old leg up: join anew once it is gone.
		select {
		case <-old.done:
		case <-ctx.Done():
			cancel()
			return ctx.Err()
		}
	}
}

// Leave hangs up the agent's phone leg (BYE, or CANCEL while it rings) and
// stops redialling; it returns when the leg's goroutine has exited, which
// may take until the phone answers the BYE. Leaving an agent who has not
// joined does nothing.
func (p *Phones) Leave(agent agents.ID) { <-p.Hangup(agent) }

// Hangup is Leave without the wait: the leg is forgotten and told to hang
// up before it returns (a Join after it calls the phone afresh, and a later
// Hangup cannot reach that new leg); the channel closes once the leg's
// goroutine has exited.
func (p *Phones) Hangup(agent agents.ID) <-chan struct{} {
	p.mu.Lock()
	l := p.legs[agent]
	delete(p.legs, agent)
	p.mu.Unlock()
	if l == nil {
		done := make(chan struct{})
		close(done)
		return done
	}
	l.cancel()
	return l.done
}

// Stop leaves every agent and waits for every leg to be hung up.
// Idempotent; Join fails afterwards.
func (p *Phones) Stop() {
	p.mu.Lock()
	p.stopped = true
	for _, l := range p.legs {
		l.cancel()
	}
	p.mu.Unlock()
	p.running.Wait()
}

// State is where the agent's phone leg is (PhoneOff when not joined).
func (p *Phones) State(agent agents.ID) PhoneState {
	p.mu.Lock()
	l := p.legs[agent]
	p.mu.Unlock()
	if l == nil {
		return PhoneOff
	}
	return PhoneState(l.state.Load())
}

// AgentLeg is the agent's phone media while the leg is up: what the customer is
// bridged into.
func (p *Phones) AgentLeg(agent agents.ID) (*media.Leg, bool) {
	p.mu.Lock()
	l := p.legs[agent]
	p.mu.Unlock()
	if l == nil || PhoneState(l.state.Load()) != PhoneUp {
		return nil, false
	}
	m := l.media.Load()
	return m, m != nil
}

func (p *Phones) set(l *phoneLeg, ev PhoneEvent) {
	l.state.Store(uint32(ev.State))
	ev.Agent = l.agent
	p.mu.Lock()
	subs := make([]func(PhoneEvent), 0, len(p.subs))
	for _, f := range p.subs {
		subs = append(subs, f)
	}
	p.mu.Unlock()
	for _, f := range subs {
		f(ev)
	}
}

// run is the agent's leg goroutine: call, keep up, redial, until Leave.
func (p *Phones) run(l *phoneLeg) {
	defer func() {
		p.set(l, PhoneEvent{State: PhoneOff})
		p.mu.Lock()
		if p.legs[l.agent] == l {
			delete(p.legs, l.agent)
		}
		p.mu.Unlock()
		close(l.done)
		p.running.Done()
	}()
	backoff := p.cfg.MinBackoff
	for {
		upFor, err := p.call(l)
		if l.ctx.Err() != nil {
			return
		}
		if upFor >= p.cfg.StableAfter {
			backoff = p.cfg.MinBackoff
		}
		l.log.Warn("phone leg down", "err", err, "redial_in", backoff)
		p.set(l, PhoneEvent{State: PhoneDown, Err: err, Retry: backoff})
		t := time.NewTimer(backoff)
		select {
		case <-l.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(backoff*2, p.cfg.MaxBackoff)
	}
}

// byeTimeout bounds a BYE or ACK we send.
const phoneByeTimeout = 5 * time.Second

// call places one call to the phone and keeps it until it ends; upFor is
// how long it was up (0 if it never came up), err why it ended (nil after
// Leave).
func (p *Phones) call(l *phoneLeg) (upFor time.Duration, err error) {
	contact, err := agents.PhoneContact(l.ctx, p.db, l.agent, time.Now())
	if err != nil {
		return 0, err
	}
	var ruri sipmsg.Uri
	if err := sipmsg.ParseUri(contact.URI, &ruri); err != nil {
		return 0, fmt.Errorf("phone URI %q: %w", contact.URI, err)
	}
	m, err := p.cfg.NewMedia()
	if err != nil {
		return 0, fmt.Errorf("phone media: %w", err)
	}
	defer m.Close()

	req := p.invite(ruri, contact, m.Offer())
	callID := req.CallID().Value()
	log := l.log.With("sip_call_id", callID, "contact", contact.URI)
	release := p.cfg.HandleDialog(callID, func(r *sipmsg.Request, tx sipmsg.ServerTransaction) { p.onRequest(l, r, tx) })
	defer release()
	select { // a BYE of a previous dialog must not end this one
	case <-l.farBye:
	default:
	}

	p.set(l, PhoneEvent{State: PhoneCalling, CallID: callID})
	dlg, err := p.cfg.DialogUA.WriteInvite(l.ctx, req)
	if err != nil {
		if l.ctx.Err() != nil {
			return 0, nil
		}
		return 0, fmt.Errorf("INVITE to the phone not sent: %w", err)
	}
	defer dlg.Close()
	l.dlg.Store(dlg)
	defer l.dlg.Store(nil)

	// The wait ends on an answer, the answer timeout or Leave. A CANCEL can
	// only follow a provisional response: on the answer timeout sipgo waits
	// for one (up to Timer B, when the INVITE transaction gives up anyway)
	// so a phone that rings late is still cancelled; on Leave with nothing
	// heard from the phone there is nothing to cancel and no reason to wait.
	waitCtx, cancel := context.WithCancelCause(context.Background())
	var responded atomic.Bool
	errNoAnswer := fmt.Errorf("the phone did not answer within %s", p.cfg.AnswerTimeout)
	timer := time.AfterFunc(p.cfg.AnswerTimeout, func() { cancel(errNoAnswer) })
	stopOnLeave := context.AfterFunc(l.ctx, func() {
		if responded.Load() {
			cancel(context.Canceled)
		} else {
			cancel(sipgo.WaitAnswerForceCancelErr)
		}
	})
	err = dlg.WaitAnswer(waitCtx, sipgo.AnswerOptions{OnResponse: func(*sipmsg.Response) error {
		responded.Store(true)
		return nil
	}})
	timer.Stop()
	stopOnLeave()
	timedOut := context.Cause(waitCtx) == errNoAnswer || (waitCtx.Err() != nil && l.ctx.Err() == nil)
	cancel(nil)
	if err != nil {
		if dlg.InviteResponse != nil && dlg.InviteResponse.IsSuccess() {
			// 200 OK raced our CANCEL: sipgo neither ACKs nor BYEs it.
			if id, err := sipmsg.DialogIDFromResponse(dlg.InviteResponse); err == nil {
				dlg.ID = id
			}
			p.ackAndBye(dlg, log)
		}
		if l.ctx.Err() != nil {
			return 0, nil
		}
		var final *sipgo.ErrDialogResponse
		if errors.As(err, &final) {
			return 0, fmt.Errorf("the phone answered %d %s", final.Res.StatusCode, final.Res.Reason)
		}
		if timedOut {
			return 0, errNoAnswer
		}
		return 0, fmt.Errorf("call to the phone failed: %w", err)
	}
	// The answer is applied before the ACK goes out: the phone may send a
	// re-INVITE as soon as it has the ACK, and it is answered from m.
	applyErr := m.ApplyAnswer(dlg.InviteResponse.Body())
	l.media.Store(m)
	defer l.media.Store(nil)
	ackCtx, cancelAck := context.WithTimeout(context.Background(), phoneByeTimeout)
	err = dlg.Ack(ackCtx)
	cancelAck()
	if err != nil {
		p.bye(dlg, log)
		return 0, fmt.Errorf("ACK to the phone not sent: %w", err)
	}
	if applyErr != nil {
		p.bye(dlg, log)
		return 0, fmt.Errorf("the phone's SDP answer is unusable: %w", applyErr)
	}
	up := time.Now()
	log.Info("phone leg up")
	p.set(l, PhoneEvent{State: PhoneUp, CallID: callID})

	select {
	case <-l.farBye:
		return time.Since(up), ErrPhoneHungUp
	case <-m.Done():
		l.state.Store(uint32(PhoneDown)) // Leg must not hand out a closed leg while BYE goes out
		p.bye(dlg, log)
		return time.Since(up), fmt.Errorf("phone media ended: %w", m.Err())
	case <-l.ctx.Done():
		p.bye(dlg, log)
		log.Info("phone leg hung up: the agent left")
		return time.Since(up), nil
	}
}

// invite builds the INVITE asking the phone to answer at once.
func (p *Phones) invite(ruri sipmsg.Uri, contact agents.Contact, offer []byte) *sipmsg.Request {
	req := sipmsg.NewRequest(sipmsg.INVITE, ruri)
	if tr, ok := ruri.UriParams.Get("transport"); ok && tr != "" {
		req.SetTransport(strings.ToUpper(tr))
	}
	if contact.Registered {
		// Where the REGISTER came from: the phone may be behind NAT and
		// its Contact a private address.
		req.SetDestination(contact.Source.String())
		if contact.Transport != "" {
			req.SetTransport(strings.ToUpper(contact.Transport))
		}
	}
	from := &sipmsg.FromHeader{DisplayName: "Pacer", Address: sipmsg.Uri{Scheme: "sip", User: "pacer", Host: p.cfg.Host},
		Params: sipmsg.NewParams()}
	from.Params.Add("tag", sipmsg.GenerateTagN(16))
	req.AppendHeader(from)
	to := ruri
	to.UriParams = nil
	to.Headers = nil
	req.AppendHeader(&sipmsg.ToHeader{Address: to})
	cid := sipmsg.CallIDHeader(uuid.NewString())
	req.AppendHeader(&cid)
	// Auto-answer, in the forms desk phones and softphones look for:
	// RFC 5373-style Call-Info (Polycom, Yealink, Linphone), the
	// Alert-Info info= form (Grandstream, Snom, Cisco) and the plain form.
	req.AppendHeader(sipmsg.NewHeader("Call-Info", "<sip:"+p.cfg.Host+">;answer-after=0"))
	req.AppendHeader(sipmsg.NewHeader("Alert-Info", "<http://localhost>;info=alert-autoanswer"))
	req.AppendHeader(sipmsg.NewHeader("Alert-Info", "auto-answer"))
	req.AppendHeader(sipmsg.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(offer)
	return req
}

func (p *Phones) ackAndBye(dlg *sipgo.DialogClientSession, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), phoneByeTimeout)
	defer cancel()
	if err := dlg.Ack(ctx); err != nil {
		log.Info("ACK of a late 200 not sent", "err", err)
	}
	p.bye(dlg, log)
}

func (p *Phones) bye(dlg *sipgo.DialogClientSession, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), phoneByeTimeout)
	defer cancel()
	if err := dlg.Bye(ctx); err != nil {
		log.Info("BYE to the phone not confirmed", "err", err)
	}
}

// onRequest answers a request inside the phone's dialog (sipgo's goroutine).
func (p *Phones) onRequest(l *phoneLeg, req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	switch req.Method {
	case sipmsg.BYE:
		dlg := l.dlg.Load()
		if dlg == nil {
			phoneRespond(tx, req, 481, "Call/Transaction Does Not Exist", nil)
			return
		}
		if err := dlg.ReadBye(req, tx); err != nil {
			l.log.Debug("phone's BYE", "err", err)
		}
		select {
		case l.farBye <- struct{}{}:
		default:
		}
	case sipmsg.INVITE:
		p.reinvite(l, req, tx)
	case sipmsg.ACK:
		if m := l.media.Load(); m != nil && l.offered.CompareAndSwap(true, false) && len(req.Body()) > 0 {
			if err := m.ApplyAnswer(req.Body()); err != nil {
				l.log.Warn("phone's SDP answer in ACK unusable", "err", err)
			}
		}
	case sipmsg.INFO, sipmsg.NOTIFY, sipmsg.OPTIONS:
		phoneRespond(tx, req, 200, "OK", nil)
	default:
		phoneRespond(tx, req, 501, "Not Implemented", nil)
	}
}

// reinvite answers the phone's re-INVITE (hold, resume, a new address):
// the answer mirrors the offer's direction (a sendonly offer is answered
// recvonly: sendrecv makes some peers hang up).
func (p *Phones) reinvite(l *phoneLeg, req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	m := l.media.Load()
	if m == nil {
		phoneRespond(tx, req, 491, "Request Pending", nil)
		return
	}
	var body []byte
	if offer := req.Body(); len(offer) > 0 {
		ans, err := m.Answer(offer)
		if err != nil {
			l.log.Info("phone's re-INVITE refused", "err", err)
			phoneRespond(tx, req, 488, "Not Acceptable Here", nil)
			return
		}
		body = ans
	} else {
		// No offer: ours goes in the 200 and the answer comes in the ACK.
		body = m.Offer()
		l.offered.Store(true)
	}
	l.log.Info("phone re-INVITE answered", "direction", m.Direction().String())
	res := sipmsg.NewResponseFromRequest(req, 200, "OK", body)
	res.AppendHeader(sipmsg.NewHeader("Content-Type", "application/sdp"))
	contact := p.cfg.DialogUA.ContactHDR.Clone()
	res.AppendHeader(contact)
	if err := tx.Respond(res); err != nil {
		l.log.Info("answer to the phone's re-INVITE not sent", "err", err)
	}
}

func phoneRespond(tx sipmsg.ServerTransaction, req *sipmsg.Request, code int, reason string, sdp []byte) {
	res := sipmsg.NewResponseFromRequest(req, code, reason, sdp)
	if sdp != nil {
		res.AppendHeader(sipmsg.NewHeader("Content-Type", "application/sdp"))
	}
	_ = tx.Respond(res)
}
