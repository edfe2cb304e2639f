package blend

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/inbound"
)

// Requests joins the router's callback requests to the database and the
// engines (issue 14 item 6): it stores the requests callers leave and
// hands them back to the router (inbound.RequestSink), keeps the router
// holding exactly this node's pending requests (Sync, every poll: adopting
// dead nodes', expiring, settling finished dials), and dials a request an
// agent accepts (Dial): claimed in the database first, so that it is never
// dialled twice at once, then checked against the do-not-call lists and the
// calling window of the number in the agent's campaign, then dialled with
// the agent in the call.
type Requests struct {
	pool   *pgxpool.Pool
	router *inbound.Router
	queues *inbound.QueueStore
	node   string
	clock  dialer.Clock
	log    *slog.Logger

	mu      sync.Mutex
	left    []leftRequest
	wake    chan struct{}
	stopped chan struct{}
}

type leftRequest struct {
	c      inbound.LeftCaller
	stored func()
}

var _ inbound.RequestSink = (*Requests)(nil)

// NewRequests makes the requests' side of node; SetRouter must follow
// before Start (the router needs the sink first).
func NewRequests(pool *pgxpool.Pool, node string, clock dialer.Clock, logger *slog.Logger) *Requests {
	return &Requests{pool: pool, queues: inbound.NewQueueStore(pool), node: node, clock: clock, log: logger,
		wake: make(chan struct{}, 1), stopped: make(chan struct{})}
}

// SetRouter is the router the requests are held by.
func (q *Requests) SetRouter(r *inbound.Router) { q.router = r }

// Left queues a caller's request for storing (the router's RequestSink).
func (q *Requests) Left(c inbound.LeftCaller, stored func()) {
	q.mu.Lock()
	q.left = append(q.left, leftRequest{c, stored})
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Start stores the requests callers leave until ctx ends, retrying through
// database outages: a caller is told they will be called back only once
// their request is stored.
func (q *Requests) Start(ctx context.Context) {
	go func() {
		defer close(q.stopped)
		for {
			select {
			case <-ctx.Done():
				return
			case <-q.wake:
			}
			for q.storeLeft(ctx) && ctx.Err() == nil {
				select {
				case <-ctx.Done():
				case <-time.After(time.Second):
				}
			}
		}
	}()
}

// Wait returns once Start's goroutine has ended (its context ended).
func (q *Requests) Wait() { <-q.stopped }

// storeLeft stores the requests waiting; it reports whether some could
// not be stored (to be tried again).
func (q *Requests) storeLeft(ctx context.Context) bool {
	q.mu.Lock()
	list := q.left
	q.left = nil
	q.mu.Unlock()
	var failed []leftRequest
	for _, l := range list {
		if err := q.store(ctx, l); err != nil {
			q.log.Error("store a callback request; trying again", "from", l.c.From, "queue", int64(l.c.Queue), "err", err)
			failed = append(failed, l)
		}
	}
	if len(failed) == 0 {
		return false
	}
	q.mu.Lock()
	q.left = append(failed, q.left...)
	q.mu.Unlock()
	return true
}

func (q *Requests) store(ctx context.Context, l leftRequest) error {
	qu, err := q.queues.Queue(ctx, l.c.Queue)
	if err != nil {
		return err
	}
	r, err := inbound.CreateQueueRequest(ctx, q.pool, inbound.LeftRequest{Queue: qu, Phone: l.c.From, Name: l.c.Name,
		Notes: "asked at " + l.c.DID + ": " + l.c.Why, Entered: l.c.Entered, Node: q.node, Now: l.c.At})
	if err != nil {
		return err // the router lets only callable numbers leave one: an outage, tried again
	}
	l.stored()
	q.router.HoldRequest(held(r), q.clock.Now())
	return nil
}

// Create stores a queue request made through the API, held by this node,
// and has the router hold it.
func (q *Requests) Create(ctx context.Context, p inbound.LeftRequest) (inbound.CallbackRequest, error) {
	p.Node = q.node
	r, err := inbound.CreateQueueRequest(ctx, q.pool, p)
	if err != nil {
		return r, err
	}
	q.router.HoldRequest(held(r), q.clock.Now())
	return r, nil
}

func held(r inbound.CallbackRequest) inbound.HeldRequest {
	h := inbound.HeldRequest{ID: r.ID, Queue: r.QueueID, Phone: r.Phone, Name: r.Name}
	if r.Entered != nil {
		h.Entered = *r.Entered
	}
	if r.NotBefore != nil {
		h.NotBefore = *r.NotBefore
	}
	if r.Expires != nil {
		h.Expires = *r.Expires
	}
	return h
}

// Sync adopts the pending requests of dead nodes and those of live nodes
// running none of their queue's agents when this one runs some (a request
// is offered only to this node's agents), expires the ones whose
// time ran out, settles the dials whose calls ended, and makes the router
// hold exactly this node's pending requests.
func (q *Requests) Sync(ctx context.Context) error {
	now := q.clock.Now()
	var errs []error
	if n, err := inbound.AdoptRequests(ctx, q.pool, q.node, now); err != nil {
		errs = append(errs, err)
	} else if n > 0 {
		q.log.Warn("callback requests of a lost node are held here now", "requests", n)
	}
	if n, err := inbound.MoveRequests(ctx, q.pool, q.node, now); err != nil {
		errs = append(errs, err)
	} else if n > 0 {
		q.log.Info("callback requests whose queue's agents work here are held here now", "requests", n)
	}
	if _, err := inbound.ExpireRequests(ctx, q.pool, q.node, now); err != nil {
		errs = append(errs, err)
	}
	if _, err := inbound.SettleRequests(ctx, q.pool, q.node, now); err != nil {
		errs = append(errs, err)
	}
	list, err := inbound.HeldRequests(ctx, q.pool, q.node)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	hold := make([]inbound.HeldRequest, 0, len(list))
	var dialling []inbound.RequestID
	for _, r := range list {
		if r.Status == inbound.RequestPending {
			hold = append(hold, held(r))
		} else {
			dialling = append(dialling, r.ID)
		}
	}
	q.router.SyncRequests(hold, dialling, q.clock.Now())
	return errors.Join(errs...)
}

// Why Dial refuses.
var (
	// ErrRequestRefused: the number may not be called now (do-not-call,
	// calling window, the campaign's rules); the error says which, and
	// the request is settled accordingly.
	ErrRequestRefused = errors.New("this callback request cannot be dialled")
)

// Dial accepts the callback request off, ringing agent of campaign on loop
// l, by dialling it. The agent is READY again when it is not dialled.
func (q *Requests) Dial(ctx context.Context, l *dialer.Loop, campaign campaigns.ID, agent agents.ID,
	off dialer.InboundOffer) (dialer.CallID, error) {
	id := inbound.RequestID(off.Request)
	now := q.clock.Now()
	req, err := inbound.ClaimRequest(ctx, q.pool, inbound.Dial{Request: id, Agent: int64(agent), Campaign: int64(campaign),
		Node: q.node, Now: now})
	if err != nil {
		q.router.DropRequest(id, now) // withdraws the offer; Sync holds it again if it is still pending
		return 0, err
	}
	// From here the request is dialling: every way out settles it.
	bg := context.WithoutCancel(ctx)
	c, err := campaigns.Get(ctx, q.pool, campaign)
	if err != nil {
		return 0, q.notPlaced(bg, req, inbound.ReqNotPlaced, err, time.Time{})
	}
	if err := campaigns.CheckNumber(ctx, q.pool, &c, req.Phone, now); err != nil {
		return 0, q.refused(bg, &c, req, err, now)
	}
	// The number's lead, or a new one of the campaign's manual list with
	// the name the caller left (the rules were checked just above).
	first, last, _ := strings.Cut(strings.TrimSpace(req.Name), " ")
	lead, err := campaigns.InboundLead(ctx, q.pool, &c, req.Phone, first, last, now)
	if err != nil {
		return 0, q.refused(bg, &c, req, err, now)
	}
	call, err := l.DialRequest(ctx, agent, off.Leg, lead)
	if err != nil {
		return 0, q.refused(bg, &c, req, err, now)
	}
	for try := 0; ; try++ {
		err := inbound.RequestPlaced(bg, q.pool, id, int64(lead), int64(call))
		if err == nil || try == 2 {
			if err != nil {
				// SettleRequests finds the call by its campaign, agent
				// and number.
				q.log.Error("record a callback request's call", "request", int64(id), "call", uint64(call), "err", err)
			}
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	return call, nil
}

// refused settles a claimed request whose dial was refused: a number on a
// do-not-call list closes it, the calling window puts it back until the
// window opens, another rule of the campaign closes it with the reason,
// and anything else (the agent left, the offer rang out) puts it back.
func (q *Requests) refused(ctx context.Context, c *campaigns.Campaign, req inbound.CallbackRequest, why error,
	now time.Time) error {
	if !errors.Is(why, campaigns.ErrNotDialable) {
		return q.notPlaced(ctx, req, inbound.ReqNotPlaced, why, time.Time{})
	}
	if on, err := campaigns.OnDNC(ctx, q.pool, c.ID, req.Phone); err == nil && on {
		return q.notPlaced(ctx, req, inbound.ReqDNC, why, time.Time{})
	}
	w, err := c.Window()
	if err == nil {
		zones, states := campaigns.LeadPlace(req.Phone, "", "", "")
		if !w.AllowedIn(now, zones, states) {
			next, ok := w.NextAllowedIn(now, zones, states)
			if !ok {
				return q.notPlaced(ctx, req, inbound.ReqRefuse, why, time.Time{})
			}
			return q.notPlaced(ctx, req, inbound.ReqNotPlaced, why, next)
		}
	}
	return q.notPlaced(ctx, req, inbound.ReqRefuse, why, time.Time{})
}

// notPlaced records why a claimed request was not dialled, lets the router
// hold it again if it is still pending (the offer ringing the agent is
// withdrawn either way), and returns why.
func (q *Requests) notPlaced(ctx context.Context, req inbound.CallbackRequest, ev inbound.RequestEvent, why error,
	notBefore time.Time) error {
	now := q.clock.Now()
	q.router.DropRequest(req.ID, now)
	r, err := inbound.RequestNotPlaced(ctx, q.pool, req.ID, ev, why.Error(), notBefore, q.node, now)
	if err != nil {
		q.log.Error("settle a callback request not dialled", "request", int64(req.ID), "err", err)
		return why // SettleRequests takes it back after inbound's grace
	}
	if r.Status == inbound.RequestPending {
		q.router.HoldRequest(held(r), now)
	}
	if ev == inbound.ReqNotPlaced && errors.Is(why, campaigns.ErrNotDialable) {
		return fmt.Errorf("%w: %w; it is tried again when the window opens", ErrRequestRefused, why)
	}
	if ev != inbound.ReqNotPlaced {
		return fmt.Errorf("%w: %w; it is closed", ErrRequestRefused, why)
	}
	return why
}
