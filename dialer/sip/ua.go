package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Config configures a node's SIP user agent.
type Config struct {
	// Addr is where the UA listens, UDP and TCP on the same port
	// (default ":5060"). Port 0 picks a free port (tests).
	Addr string
	// PublicAddr is the host:port written into our Via and Contact headers,
	// what peers send requests back to (default: Addr's host, or the
	// node's loopback-free address when Addr has none, and the port bound).
	PublicAddr string
	// KnownSource says whether an INVITE from this address may be served
	// (a registered phone, say). INVITEs from an address that is neither a
	// configured trunk host nor known here get 403. Optional.
	KnownSource func(netip.Addr) bool
	// ShutdownGrace bounds how long Stop waits for live legs to be hung up
	// (BYE, CANCEL) before it closes the sockets under them (default 5 s).
	ShutdownGrace time.Duration
	// AckTimeout is how long a dialog we answered waits for the ACK before it
	// is ended (default 32 s, 64×T1, RFC 3261's Timer H).
	AckTimeout time.Duration
	// ReferNotifyTimeout is how long a transfer by REFER waits for the
	// carrier's next NOTIFY (after its 202, and after each provisional
	// one) before the transfer counts as failed and the agent keeps the
	// customer (default 32 s, 64×T1).
	ReferNotifyTimeout time.Duration
	Logger             *slog.Logger
	// Media is where calls' RTP legs come from.
	Media MediaConfig
}

// WithDefaults fills the zero fields.
func (c Config) WithDefaults() Config {
	if c.Addr == "" {
		c.Addr = ":5060"
	}
	if c.ShutdownGrace == 0 {
		c.ShutdownGrace = 5 * time.Second
	}
	if c.AckTimeout == 0 {
		c.AckTimeout = 64 * sip.T1
	}
	if c.ReferNotifyTimeout == 0 {
		c.ReferNotifyTimeout = 64 * sip.T1
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Validate checks the addresses parse.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("sip addr %q: %w", c.Addr, err))
	}
	if c.PublicAddr != "" {
		host, port, err := net.SplitHostPort(c.PublicAddr)
		if err != nil || host == "" {
			errs = append(errs, fmt.Errorf("sip public addr %q must be host:port", c.PublicAddr))
		} else if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 {
			errs = append(errs, fmt.Errorf("sip public addr %q: bad port", c.PublicAddr))
		}
	}
	if c.ShutdownGrace < 0 || c.AckTimeout < 0 || c.ReferNotifyTimeout < 0 {
		errs = append(errs, errors.New("sip timeouts must not be negative"))
	}
	if err := c.Media.validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// DialogHandler receives the requests that arrive inside a dialog a
// component owns (BYE, re-INVITE, INFO, NOTIFY, UPDATE, REFER, ACK). It runs
// on sipgo's goroutine for the request and must answer tx (except an ACK)
// before it returns.
type DialogHandler func(req *sip.Request, tx sip.ServerTransaction)

// InboundHandler receives a new INVITE from a trunk host (not in a
// dialog). It owns the request from then on and must answer it (sipgo
// terminates the transaction when the handler returns).
type InboundHandler func(req *sip.Request, tx sip.ServerTransaction)

// UA is the node's SIP user agent: one UDP and one TCP socket, sipgo's
// transaction layer, and the routing of requests to the dialogs that own
// them (by Call-ID). See doc.go for what it owns and when it stops.
type UA struct {
	cfg Config
	log *slog.Logger

	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	cli    *sipgo.Client
	dua    *sipgo.DialogUA
	udp    net.PacketConn
	tcp    net.Listener
	public netip.AddrPort // what Via and Contact say
	host   string         // PublicAddr's host as written

	ctx    context.Context // the UA's lifetime: cancelled by Stop
	cancel context.CancelFunc
	legs   sync.WaitGroup // one per call leg goroutine
	serve  sync.WaitGroup // the socket readers

	mu         sync.Mutex
	started    bool
	stopped    bool
	dialogs    map[string]DialogHandler // by Call-ID
	trunkHosts map[netip.Addr]int       // source addresses allowed to INVITE
	// trunkStates are the trunks' limits by name, shared by campaigns.
	trunkStates map[string]*trunkState
	register    sipgo.RequestHandler
	inbound     InboundHandler
	stopOnce    sync.Once
	// callers is the node's SIP callers (NewCallers), whose legs every
	// campaign trunk can bridge; nil until made.
	callers atomic.Pointer[Callers]
}

// New builds a UA from cfg (defaults applied); Start binds its sockets.
func New(cfg Config) (*UA, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &UA{cfg: cfg, log: cfg.Logger.With("component", "sip"), dialogs: map[string]DialogHandler{},
		trunkHosts: map[netip.Addr]int{}, trunkStates: map[string]*trunkState{}}, nil
}

// listenUDPAndTCP binds UDP on addr and TCP on the same port. With port 0
// the kernel's choice for UDP may be a port a TCP socket already holds (an
// outgoing connection's local port, on a busy machine): then it tries
// another UDP port, a few times, before it gives up.
func listenUDPAndTCP(addr string) (net.PacketConn, net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("sip address %q: %w", addr, err)
	}
	tries := 1
	if port == "0" || port == "" {
		tries = 20
	}
	for i := 1; ; i++ {
		udp, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("listen sip udp %s: %w", addr, err)
		}
		p := udp.LocalAddr().(*net.UDPAddr).Port
		tcp, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p)))
		if err == nil {
			return udp, tcp, nil
		}
		udp.Close()
		if i >= tries {
			return nil, nil, fmt.Errorf("listen sip tcp on udp's port %d: %w", p, err)
		}
	}
}

// Start binds UDP and TCP on Addr and starts serving. The sockets live until
// Stop (or ctx ends, which stops the UA the same way).
func (u *UA) Start(ctx context.Context) error {
	u.mu.Lock()
	if u.started {
		u.mu.Unlock()
		return errors.New("sip ua already started")
	}
	u.started = true
	u.mu.Unlock()

	udp, tcp, err := listenUDPAndTCP(u.cfg.Addr)
	if err != nil {
		return err
	}
	bound := udp.LocalAddr().(*net.UDPAddr)
	u.udp, u.tcp = udp, tcp
	if err := u.setPublic(bound); err != nil {
		udp.Close()
		tcp.Close()
		return err
	}

	u.mediaIPs()
	u.ua, err = sipgo.NewUA(sipgo.WithUserAgent("pacer"), sipgo.WithUserAgentHostname(u.host))
	if err != nil {
		udp.Close()
		tcp.Close()
		return fmt.Errorf("sip user agent: %w", err)
	}
	u.srv, err = sipgo.NewServer(u.ua, sipgo.WithServerLogger(u.log))
	if err == nil {
		u.cli, err = sipgo.NewClient(u.ua, sipgo.WithClientLogger(u.log), sipgo.WithClientHostname(u.host),
			sipgo.WithClientPort(int(u.public.Port())), sipgo.WithClientConnectionAddr(udp.LocalAddr().String()))
	}
	if err != nil {
		u.ua.Close()
		udp.Close()
		tcp.Close()
		return fmt.Errorf("sip server/client: %w", err)
	}
	u.dua = &sipgo.DialogUA{Client: u.cli, ContactHDR: u.Contact()}
	u.route()

	u.ctx, u.cancel = context.WithCancel(context.WithoutCancel(ctx))
	u.serve.Add(2)
	go func() {
		defer u.serve.Done()
		if err := u.srv.ServeUDP(udp); err != nil && u.ctx.Err() == nil {
			u.log.Error("sip udp socket stopped", "err", err)
		}
	}()
	go func() {
		defer u.serve.Done()
		// ServeTCP returns only when the listener fails or is closed.
		err := u.srv.ServeTCP(tcp)
		if u.ctx.Err() == nil {
			u.log.Error("sip tcp socket stopped", "err", err)
		}
	}()
	// Requests we send leave from the UDP listener's socket, which sipgo
	// finds in its pool only once ServeUDP has registered it: before that it
	// would try to bind the same port again.
	for i := 0; ; i++ {
		if c, err := u.ua.TransportLayer().GetConnection("udp", udp.LocalAddr().String()); c != nil && err == nil {
			break
		}
		if i == 5000 {
			u.Stop()
			return errors.New("sip udp socket never started serving")
		}
		time.Sleep(time.Millisecond)
	}
	// The caller's ctx ending stops the UA like Stop does.
	stop := context.AfterFunc(ctx, u.Stop)
	go func() { <-u.ctx.Done(); stop() }()
	u.log.Info("sip listening", "udp", udp.LocalAddr().String(), "tcp", tcp.Addr().String(), "public", u.public.String())
	return nil
}

func (u *UA) setPublic(bound *net.UDPAddr) error {
	pub := u.cfg.PublicAddr
	if pub == "" {
		ip := bound.AddrPort().Addr().Unmap()
		if ip.IsUnspecified() {
			ip = outboundIP()
		}
		pub = netip.AddrPortFrom(ip, uint16(bound.Port)).String()
	}
	host, port, err := net.SplitHostPort(pub)
	if err != nil {
		return fmt.Errorf("sip public addr %q: %w", pub, err)
	}
	p, _ := strconv.Atoi(port)
	u.host = host
	if ip, err := netip.ParseAddr(host); err == nil {
		u.public = netip.AddrPortFrom(ip, uint16(p))
	} else {
		u.public = netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(p))
	}
	return nil
}

// outboundIP is the address the node would use to reach the internet (no
// packet is sent), loopback when it has no route.
func outboundIP() netip.Addr {
	c, err := net.Dial("udp4", "192.0.2.1:9")
	if err != nil {
		return netip.MustParseAddr("127.0.0.1")
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
}

// Stop ends every call leg (BYE to answered ones, CANCEL to ringing ones,
// bounded by ShutdownGrace), then closes the sockets and waits for every
// goroutine the UA started. Idempotent; safe before Start.
func (u *UA) Stop() {
	u.stopOnce.Do(func() {
		u.mu.Lock()
		u.stopped = true
		started := u.started && u.cancel != nil
		u.mu.Unlock()
		if !started {
			return
		}
		u.cancel()
		legsDone := make(chan struct{})
		go func() { u.legs.Wait(); close(legsDone) }()
		select {
		case <-legsDone:
		case <-time.After(u.cfg.ShutdownGrace):
			u.log.Warn("sip legs still ending at shutdown; closing the sockets under them")
		}
		u.ua.Close() // ends every transaction, so waits inside sipgo return
		u.udp.Close()
		u.tcp.Close()
		<-legsDone
		u.serve.Wait()
	})
}

// goLeg runs f as a leg goroutine the UA waits for in Stop; false when the
// UA is stopping (f is not run).
func (u *UA) goLeg(f func()) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.stopped || !u.started {
		return false
	}
	u.legs.Add(1)
	go func() {
		defer u.legs.Done()
		f()
	}()
	return true
}

// buildRequest completes a request sipgo's way, then lets a TCP request
// leave from a new connection: sipgo would bind it to our listening port,
// which a connecting socket cannot share.
func (u *UA) buildRequest(c *sipgo.Client, req *sip.Request) error {
	if err := sipgo.ClientRequestBuild(c, req); err != nil {
		return err
	}
	if sip.IsReliable(req.Transport()) {
		req.Laddr = sip.Addr{}
	}
	return nil
}

// Contact is our Contact header (PublicAddr).
func (u *UA) Contact() sip.ContactHeader {
	return sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "pacer", Host: u.host, Port: int(u.public.Port())}}
}

// DialogUA is the sipgo dialog user agent other components use to place
// their own dialogs (agents' phone legs) from this node's sockets. Valid
// after Start.
func (u *UA) DialogUA() *sipgo.DialogUA { return u.dua }

// Client is the sipgo client sending from this node's sockets.
func (u *UA) Client() *sipgo.Client { return u.cli }

// HandleDialog routes the in-dialog requests whose Call-ID is callID to h
// until release is called. A Call-ID can have one handler; a second
// HandleDialog for it replaces the first.
func (u *UA) HandleDialog(callID string, h DialogHandler) (release func()) {
	u.mu.Lock()
	u.dialogs[callID] = h
	u.mu.Unlock()
	return func() {
		u.mu.Lock()
		delete(u.dialogs, callID)
		u.mu.Unlock()
	}
}

// SetRegisterHandler sends REGISTER requests to h (nil: 405).
func (u *UA) SetRegisterHandler(h sipgo.RequestHandler) {
	u.mu.Lock()
	u.register = h
	u.mu.Unlock()
}

// SetInboundHandler sends new INVITEs from trunk hosts to h (nil: 480).
func (u *UA) SetInboundHandler(h InboundHandler) {
	u.mu.Lock()
	u.inbound = h
	u.mu.Unlock()
}

// allowTrunkHost lets INVITEs from addr through the source check.
func (u *UA) allowTrunkHost(addr netip.Addr) {
	u.mu.Lock()
	u.trunkHosts[addr.Unmap()]++
	u.mu.Unlock()
}

func (u *UA) route() {
	inDialog := func(req *sip.Request, tx sip.ServerTransaction) {
		if u.dispatch(req, tx) {
			return
		}
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
	}
	for _, m := range []sip.RequestMethod{sip.BYE, sip.INFO, sip.NOTIFY, sip.UPDATE, sip.REFER, sip.PRACK} {
		u.srv.OnRequest(m, inDialog)
	}
	u.srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) { u.dispatch(req, tx) })
	u.srv.OnInvite(u.onInvite)
	u.srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
		res.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, NOTIFY, UPDATE, REFER, REGISTER"))
		res.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
		if err := tx.Respond(res); err != nil {
			u.log.Debug("answer OPTIONS", "err", err)
		}
	})
	u.srv.OnRegister(func(req *sip.Request, tx sip.ServerTransaction) {
		u.mu.Lock()
		h := u.register
		u.mu.Unlock()
		if h == nil {
			respond(tx, req, sip.StatusMethodNotAllowed, "Method Not Allowed")
			return
		}
		h(req, tx)
	})
}

// dispatch hands req to the dialog registered for its Call-ID.
func (u *UA) dispatch(req *sip.Request, tx sip.ServerTransaction) bool {
	cid := req.CallID()
	if cid == nil {
		return false
	}
	u.mu.Lock()
	h := u.dialogs[cid.Value()]
	u.mu.Unlock()
	if h == nil {
		return false
	}
	h(req, tx)
	return true
}

func (u *UA) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		if !u.dispatch(req, tx) {
			respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		}
		return
	}
	src, ok := sourceAddr(req)
	if !ok || !u.knownSource(src) {
		u.log.Warn("sip INVITE from an unknown address refused", "source", req.Source())
		respond(tx, req, sip.StatusForbidden, "Forbidden")
		return
	}
	u.mu.Lock()
	h := u.inbound
	u.mu.Unlock()
	if h == nil {
		respond(tx, req, sip.StatusTemporarilyUnavailable, "Temporarily Unavailable")
		return
	}
	h(req, tx)
}

func (u *UA) knownSource(a netip.Addr) bool {
	u.mu.Lock()
	n := u.trunkHosts[a]
	u.mu.Unlock()
	return n > 0 || (u.cfg.KnownSource != nil && u.cfg.KnownSource(a))
}

func sourceAddr(req *sip.Request) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(req.Source())
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}

func respond(tx sip.ServerTransaction, req *sip.Request, code int, reason string) {
	_ = tx.Respond(sip.NewResponseFromRequest(req, code, reason, nil))
}
