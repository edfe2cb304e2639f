package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/media"
)

// TrunkConfig is one SIP carrier a campaign dials through.
type TrunkConfig struct {
	// Name identifies the trunk in logs.
	Name string
	// URI is sip:HOST[:PORT][;transport=udp|tcp] (port 5060, UDP by
	// default). HOST should be an IP address or a name that resolves to the
	// address the carrier sends its requests from: INVITEs from it pass the
	// UA's source check.
	URI string
	// Username and Password answer the carrier's 401/407 digest challenges
	// (none when Password is empty).
	Username, Password string
	// MaxChannels bounds the dialogs open on this trunk at once (0: no
	// limit). A dialog counts from our INVITE until it is over, including a
	// cancelled call still waiting for its 487.
	MaxChannels int
	// CPS bounds new INVITEs per second (0: no limit); bursts up to one
	// second's worth.
	CPS float64
	// CallerIDHeader is where the campaign's caller ID goes: "from" (the
	// default) or "pai" (P-Asserted-Identity, with an anonymous From).
	CallerIDHeader string
	// TransferMethod is how a blind transfer to a number leaves a call
	// answered through this trunk: TransferBridge (the default: a new leg
	// through the trunks, bridged to the customer when it answers) or
	// TransferRefer (REFER inside the customer's dialog; the carrier
	// connects the customer and we hang up, falling back to a bridge when
	// the carrier refuses the REFER).
	TransferMethod string
}

// Transfer methods of a trunk (TrunkConfig.TransferMethod).
const (
	TransferBridge = "bridge"
	TransferRefer  = "refer"
)

// Validate checks the trunk can be dialled.
func (c TrunkConfig) Validate() error {
	var errs []error
	if c.Name == "" {
		errs = append(errs, errors.New("trunk name is empty"))
	}
	if _, err := c.target(); err != nil {
		errs = append(errs, err)
	}
	for what, v := range map[string]string{"name": c.Name, "username": c.Username, "password": c.Password} {
		if err := headerSafe("trunk "+what, v); err != nil {
			errs = append(errs, err)
		}
	}
	if c.MaxChannels < 0 || c.CPS < 0 {
		errs = append(errs, fmt.Errorf("trunk %s: channels and cps must not be negative", c.Name))
	}
	switch c.CallerIDHeader {
	case "", "from", "pai":
	default:
		errs = append(errs, fmt.Errorf("trunk %s: caller-id header %q is not from or pai", c.Name, c.CallerIDHeader))
	}
	switch c.TransferMethod {
	case "", TransferBridge, TransferRefer:
	default:
		errs = append(errs, fmt.Errorf("trunk %s: transfer method %q is not bridge or refer", c.Name, c.TransferMethod))
	}
	return errors.Join(errs...)
}

// target parses URI into the Request-URI template (no user part).
func (c TrunkConfig) target() (sip.Uri, error) {
	var u sip.Uri
	if err := headerSafe("trunk uri", c.URI); err != nil {
		return u, err
	}
	if !strings.HasPrefix(c.URI, "sip:") {
		return u, fmt.Errorf("trunk %s: uri %q must be sip:HOST[:PORT]", c.Name, c.URI)
	}
	if err := sip.ParseUri(c.URI, &u); err != nil {
		return u, fmt.Errorf("trunk %s: uri %q: %w", c.Name, c.URI, err)
	}
	if u.Host == "" || u.User != "" {
		return u, fmt.Errorf("trunk %s: uri %q must be sip:HOST[:PORT][;transport=udp|tcp]", c.Name, c.URI)
	}
	if u.UriParams != nil {
		if tr, ok := u.UriParams.Get("transport"); ok && tr != "udp" && tr != "tcp" {
			return u, fmt.Errorf("trunk %s: transport %q is not udp or tcp", c.Name, tr)
		}
	}
	return u, nil
}

// TrunkOptions are a campaign trunk's settings beyond the carriers.
type TrunkOptions struct {
	// NoResponseTimeout: a trunk that has not answered an INVITE at all
	// (not even 100 Trying) in this long is given up for the call, backed
	// off like a 503, and the next trunk is tried (default 5 s).
	NoResponseTimeout time.Duration
	// CPSWait is how long a call may wait for a CPS slot on a trunk before
	// that trunk counts as full (default 1 s). When every trunk is full
	// the call fails at once with dialer.CauseCongestion.
	CPSWait time.Duration
	// AgentLegs finds agents' phone legs for Bridge and Transfer (nil:
	// both are refused).
	AgentLegs AgentLegs
	// OnDTMF, if set, receives each key the customer presses (RFC 4733,
	// with the payload type the call negotiated) on an answered call. It
	// runs on the call's RTP reader goroutine and must not block.
	OnDTMF func(call dialer.CallID, digit rune)
	// Prompts finds a prompt by the name the engine plays (the campaign's
	// information message); nil: Play is refused.
	Prompts func(name string) (*media.Prompt, bool)
	// HoldMusic plays to a held customer (default media.HoldMusic(),
	// generated in code).
	HoldMusic *media.Prompt
	Logger    *slog.Logger
}

func (o TrunkOptions) withDefaults() TrunkOptions {
	if o.NoResponseTimeout == 0 {
		o.NoResponseTimeout = 5 * time.Second
	}
	if o.CPSWait == 0 {
		o.CPSWait = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Trunk is a campaign's dialer.Trunk over SIP: each Dial starts one leg
// goroutine that owns the dialog and its RTP leg until the call is over.
type Trunk struct {
	ua       *UA
	campaign int64
	// route is the trunks in priority order, swapped whole by SetTrunks;
	// each call reads it once, at its dial.
	route atomic.Pointer[route]
	music atomic.Pointer[media.Prompt] // nil: media.HoldMusic()
	del   dialer.TrunkDeliverer
	opts  TrunkOptions
	log   *slog.Logger

	mu   sync.Mutex
	legs map[dialer.CallID]*outLeg
}

var _ dialer.Trunk = (*Trunk)(nil)

// Trunk returns the dialer.Trunk of a campaign dialling through trunks, in
// priority order; events go to del. A trunk's limits (channels, CPS,
// back-off) are the node's, shared by every campaign dialling through it
// (by name; the latest config given wins). Trunk hosts given as IP
// addresses (or names that resolve now) may send INVITEs to this UA.
func (u *UA) Trunk(campaign int64, trunks []TrunkConfig, del dialer.TrunkDeliverer, opts TrunkOptions) (*Trunk, error) {
	if len(trunks) == 0 {
		return nil, errors.New("a SIP campaign needs at least one trunk")
	}
	opts = opts.withDefaults()
	t := &Trunk{ua: u, campaign: campaign, del: del, opts: opts, legs: map[dialer.CallID]*outLeg{},
		log: opts.Logger.With("campaign", campaign)}
	if err := t.SetTrunks(trunks); err != nil {
		return nil, err
	}
	t.music.Store(opts.HoldMusic)
	return t, nil
}

// route is a campaign's trunks in priority order with their Request-URIs.
type route struct {
	trunks  []*trunkState
	targets []sip.Uri
}

// SetTrunks replaces the campaign's trunks (a manager changed them
// mid-shift): calls dialled from now on use the new list; calls under way
// keep the trunk they are on. A trunk keeps its node-wide state (channels
// in use, CPS bucket, back-off) across the change.
func (t *Trunk) SetTrunks(trunks []TrunkConfig) error {
	if len(trunks) == 0 {
		return errors.New("a SIP campaign needs at least one trunk")
	}
	var r route
	now := time.Now()
	for _, c := range trunks {
		if err := c.Validate(); err != nil {
			return err
		}
		target, _ := c.target()
		r.trunks = append(r.trunks, t.ua.trunkState(c, now))
		r.targets = append(r.targets, target)
		if ip, err := netip.ParseAddr(target.Host); err == nil {
			t.ua.allowTrunkHost(ip)
		} else if ips, err := net.DefaultResolver.LookupNetIP(context.Background(), "ip", target.Host); err == nil {
			for _, ip := range ips {
				t.ua.allowTrunkHost(ip)
			}
		} else {
			t.log.Warn("trunk host does not resolve now: its INVITEs will be refused", "trunk", c.Name, "host", target.Host, "err", err)
		}
	}
	t.route.Store(&r)
	return nil
}

// SetHoldMusic replaces what a held customer hears from the next hold on
// (nil: the generated music).
func (t *Trunk) SetHoldMusic(p *media.Prompt) { t.music.Store(p) }

// Channels is the number of dialogs open on the named trunk.
func (t *Trunk) Channels(name string) int {
	for _, s := range t.route.Load().trunks {
		if s.name == name {
			return s.channels()
		}
	}
	return 0
}

// Dial starts the customer leg and returns at once. A number or caller ID
// that could not go into a SIP header as it is returns an error wrapping
// dialer.ErrBadControl and sends nothing.
func (t *Trunk) Dial(_ context.Context, req dialer.DialRequest) error {
	if err := userPartSafe("number", req.Number); err != nil {
		return err
	}
	if req.CallerID != "" {
		if err := userPartSafe("caller id", req.CallerID); err != nil {
			return err
		}
	}
	l := newOutLeg(t, req)
	t.mu.Lock()
	if _, dup := t.legs[req.Call]; dup {
		t.mu.Unlock()
		return fmt.Errorf("%w: call %d is already dialled", dialer.ErrBadControl, req.Call)
	}
	t.legs[req.Call] = l
	t.mu.Unlock()
	if !t.ua.goLeg(l.run) {
		t.forget(l)
		return errors.New("sip user agent is not running")
	}
	return nil
}

func (t *Trunk) leg(call dialer.CallID) (*outLeg, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	l, ok := t.legs[call]
	return l, ok
}

func (t *Trunk) forget(l *outLeg) {
	t.mu.Lock()
	if t.legs[l.req.Call] == l {
		delete(t.legs, l.req.Call)
	}
	t.mu.Unlock()
}

func (t *Trunk) deliver(call dialer.CallID, kind dialer.TrunkEventKind, cause dialer.Cause) {
	t.del.DeliverTrunk(t.del.Now(), dialer.TrunkEvent{Call: call, Kind: kind, Cause: cause})
}

// Hangup cancels a ringing leg or hangs up an answered one (after a prompt
// being played has finished). A call already over is not an error.
func (t *Trunk) Hangup(_ context.Context, call dialer.CallID) error {
	if IsCaller(call) {
		return t.hangupCaller(call)
	}
	if l, ok := t.leg(call); ok {
		l.cancel(errHangup)
	}
	return nil
}

// refused is the error of a control the trunk cannot carry out.
func refused(call dialer.CallID, what string) error {
	return fmt.Errorf("%w: %s on call %d", dialer.ErrTrunkRefused, what, call)
}
