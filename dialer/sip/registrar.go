package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	sipmsg "github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"github.com/pacer-dialer/pacer/agents"
)

// The registrar takes REGISTER from agents' phones (issue 13, item 4). The
// SIP username is the agent's username; the password is the SIP password
// set with `pacer users set-sip-password`, of which agents keeps only HA1.
//
// Answers:
//   - no Authorization: 401 with a fresh challenge (qop=auth, MD5);
//   - an expired nonce, or a nonce count not above the last one seen for that
//     nonce (a replay), with an otherwise right response: 401, stale=true;
//   - a wrong response, a forged nonce, a user name not matching To: 401
//     with a new challenge, and the failure is counted;
//   - an unknown user, a user who is not an agent, is disabled or has no SIP
//     password (in this realm): 403, counted as a failure of the source;
//   - throttled: after MaxFailures counted failures within FailureWindow for
//     one username or one source IP, every REGISTER with credentials for that
//     user or from that IP is answered 403 "Too Many Failed Attempts" with
//     Retry-After, without looking at the credentials, until FailureWindow has
//     passed since the last failure. 403 rather than 503: a phone retries a
//     503 soon, and a 403 makes it stop and show an error to a person;
//   - Expires below MinExpires: 423 with Min-Expires; above MaxExpires:
//     shortened to MaxExpires; "Contact: *" with Expires: 0 removes every
//     binding of the user (400 with any other Expires or with other contacts);
//   - success: 200 listing the user's live bindings with their expires.
//
// Bindings are written to agent_registrations through the agents store, so
// any node can call the phone. KnownSource answers from memory: this node's
// bindings as they are made, and the whole table read again by Refresh
// (Start runs it every RefreshEvery).

// RegistrarConfig configures a Registrar.
type RegistrarConfig struct {
	// Realm is the digest realm phones are challenged in (default "pacer").
	// A SIP password set in another realm cannot register here.
	Realm string
	// Node names this node in agent_registrations.
	Node string
	// NonceTTL is how long a nonce is good for (default 5 minutes).
	NonceTTL time.Duration
	// MinExpires, MaxExpires and DefaultExpires bound a binding's life
	// (defaults 60 s, 1 hour, 1 hour).
	MinExpires, MaxExpires, DefaultExpires time.Duration
	// MaxFailures counted failures within FailureWindow throttle a username
	// or a source IP (defaults 5 and 10 minutes).
	MaxFailures   int
	FailureWindow time.Duration
	// RefreshEvery is how often Start re-reads every node's bindings for
	// KnownSource and deletes dead ones (default 30 s).
	RefreshEvery time.Duration
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// WithDefaults fills unset fields.
func (c RegistrarConfig) WithDefaults() RegistrarConfig {
	if c.Realm == "" {
		c.Realm = agents.DefaultRealm
	}
	if c.NonceTTL == 0 {
		c.NonceTTL = 5 * time.Minute
	}
	if c.MinExpires == 0 {
		c.MinExpires = time.Minute
	}
	if c.MaxExpires == 0 {
		c.MaxExpires = time.Hour
	}
	if c.DefaultExpires == 0 {
		c.DefaultExpires = c.MaxExpires
	}
	if c.MaxFailures == 0 {
		c.MaxFailures = 5
	}
	if c.FailureWindow == 0 {
		c.FailureWindow = 10 * time.Minute
	}
	if c.RefreshEvery == 0 {
		c.RefreshEvery = 30 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Validate says what is wrong with the config.
func (c RegistrarConfig) Validate() error {
	if err := agents.CheckRealm(c.Realm); err != nil {
		return err
	}
	switch {
	case c.NonceTTL < time.Second:
		return errors.New("registrar: nonce lifetime under 1 s")
	case c.MinExpires < time.Second || c.MaxExpires < c.MinExpires:
		return fmt.Errorf("registrar: expires bounds %v..%v make no sense", c.MinExpires, c.MaxExpires)
	case c.DefaultExpires < c.MinExpires || c.DefaultExpires > c.MaxExpires:
		return fmt.Errorf("registrar: default expires %v is outside %v..%v", c.DefaultExpires, c.MinExpires, c.MaxExpires)
	case c.MaxFailures < 1 || c.FailureWindow <= 0:
		return errors.New("registrar: throttling needs MaxFailures >= 1 and a FailureWindow")
	case c.RefreshEvery <= 0:
		return errors.New("registrar: RefreshEvery must be positive")
	}
	return nil
}

// Registrar handles REGISTER. Safe for concurrent use: sipgo calls
// HandleRegister from its own goroutines.
type Registrar struct {
	cfg  RegistrarConfig
	db   agents.PhoneDB
	auth *digestAuth
	log  *slog.Logger

	mu       sync.Mutex
	failures map[string]*failureCount   // "user:NAME" and "ip:ADDR"
	local    map[netip.Addr]localSource // sources registered here since the last Refresh
	gen      uint64                     // counts Refresh calls
	shared   map[netip.Addr]bool        // every node's sources, from Refresh

	stop chan struct{}
	done chan struct{}
}

// localSource is a binding made here that the last Refresh may not have
// read yet.
type localSource struct {
	until time.Time
	gen   uint64 // the Refresh generation it was made in
}

type failureCount struct {
	n    int
	last time.Time
}

// NewRegistrar makes a registrar over the agents' phone tables.
func NewRegistrar(db agents.PhoneDB, cfg RegistrarConfig) (*Registrar, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	auth, err := newDigestAuth(cfg.Realm, cfg.NonceTTL)
	if err != nil {
		return nil, err
	}
	return &Registrar{cfg: cfg, db: db, auth: auth, log: cfg.Logger.With("component", "registrar"),
		failures: map[string]*failureCount{}, local: map[netip.Addr]localSource{}, shared: map[netip.Addr]bool{}}, nil
}

// Start loads the bindings and keeps re-reading them every RefreshEvery in
// one goroutine, which exits at Stop or when ctx ends.
func (r *Registrar) Start(ctx context.Context) error {
	if err := r.Refresh(ctx); err != nil {
		return err
	}
	r.stop, r.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(r.done)
		t := time.NewTicker(r.cfg.RefreshEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-r.stop:
				return
			case <-t.C:
				if err := r.Refresh(ctx); err != nil && ctx.Err() == nil {
					r.log.Warn("refresh phone sources", "err", err)
				}
			}
		}
	}()
	return nil
}

// Stop ends Start's goroutine and waits for it. Idempotent.
func (r *Registrar) Stop() {
	if r.stop == nil {
		return
	}
	select {
	case <-r.stop:
	default:
		close(r.stop)
	}
	<-r.done
}

// Refresh re-reads every node's live bindings and fixed URIs for
// KnownSource (so an unregistered or expired phone's address stops being
// known), and deletes dead bindings.
func (r *Registrar) Refresh(ctx context.Context) error {
	r.mu.Lock()
	r.gen++
	gen := r.gen
	r.mu.Unlock()
	now := r.cfg.Now()
	if _, err := agents.DeleteExpiredRegistrations(ctx, r.db, now); err != nil {
		return err
	}
	srcs, err := agents.PhoneSources(ctx, r.db, now)
	if err != nil {
		return err
	}
	shared := make(map[netip.Addr]bool, len(srcs))
	for _, a := range srcs {
		shared[a] = true
	}
	r.mu.Lock()
	r.shared = shared
	// Bindings made before this read are in it (or gone); later ones stay.
	for a, l := range r.local {
		if l.gen < gen {
			delete(r.local, a)
		}
	}
	r.mu.Unlock()
	return nil
}

// KnownSource says whether addr is an agent phone's: a live binding's
// source or a fixed URI's IP literal. The UA accepts INVITEs from these.
func (r *Registrar) KnownSource(addr netip.Addr) bool {
	addr = addr.Unmap()
	r.mu.Lock()
	defer r.mu.Unlock()
	if l, ok := r.local[addr]; ok && l.until.After(r.cfg.Now()) {
		return true
	}
	return r.shared[addr]
}

// HandleRegister is a sipgo.RequestHandler for REGISTER.
func (r *Registrar) HandleRegister(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
	res := r.register(req)
	if err := tx.Respond(res); err != nil {
		r.log.Warn("answer REGISTER", "source", req.Source(), "status", res.StatusCode, "err", err)
	}
}

const reasonThrottled = "Too Many Failed Attempts"

// registerDBTimeout bounds the database work of one REGISTER: a phone
// retransmits after 500 ms and gives up after 32 s.
const registerDBTimeout = 5 * time.Second

func (r *Registrar) register(req *sipmsg.Request) *sipmsg.Response {
	ctx, cancel := context.WithTimeout(context.Background(), registerDBTimeout)
	defer cancel()
	now := r.cfg.Now()
	src, err := netip.ParseAddrPort(req.Source())
	if err != nil {
		return sipmsg.NewResponseFromRequest(req, 400, "Bad Request", nil)
	}
	src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
	to := req.To()
	if to == nil || to.Address.User == "" {
		return sipmsg.NewResponseFromRequest(req, 400, "Bad Request: no user in To", nil)
	}
	username := to.Address.User
	log := r.log.With("user", username, "source", src.String())

	authz := req.GetHeader("Authorization")
	if authz == nil {
		if r.throttled("ip:"+src.Addr().String(), now) {
			return r.throttledResponse(req)
		}
		return r.challenge(req, now, false)
	}
	userKey, ipKey := "user:"+strings.ToLower(username), "ip:"+src.Addr().String()
	if r.throttled(userKey, now) || r.throttled(ipKey, now) {
		log.Info("REGISTER throttled")
		return r.throttledResponse(req)
	}
	cred, err := digest.ParseCredentials(authz.Value())
	if err != nil || !strings.EqualFold(cred.Username, username) {
		r.fail(now, userKey, ipKey)
		log.Info("REGISTER refused: bad credentials header or user differs from To")
		return r.challenge(req, now, false)
	}
	phone, err := agents.PhoneByUsername(ctx, r.db, username)
	switch {
	case errors.Is(err, agents.ErrNoUser):
		r.fail(now, ipKey)
		log.Info("REGISTER refused: no such user")
		return sipmsg.NewResponseFromRequest(req, 403, "Forbidden", nil)
	case err != nil:
		log.Error("REGISTER: read phone", "err", err)
		return sipmsg.NewResponseFromRequest(req, 500, "Server Internal Error", nil)
	case phone.Role != "agent" || phone.Disabled || !phone.HasSIPPassword() || phone.Realm != r.cfg.Realm:
		r.fail(now, ipKey)
		log.Info("REGISTER refused: not an enabled agent with a SIP password in this realm",
			"role", phone.Role, "disabled", phone.Disabled, "realm", phone.Realm)
		return sipmsg.NewResponseFromRequest(req, 403, "Forbidden", nil)
	}
	switch r.auth.check(cred, string(req.Method), phone.HA1, now) {
	case authStale:
		return r.challenge(req, now, true)
	case authWrong:
		r.fail(now, userKey, ipKey)
		log.Info("REGISTER refused: wrong digest response")
		return r.challenge(req, now, false)
	}
	r.mu.Lock()
	delete(r.failures, userKey)
	r.mu.Unlock()
	return r.bind(ctx, req, phone, src, now, log)
}

func (r *Registrar) challenge(req *sipmsg.Request, now time.Time, stale bool) *sipmsg.Response {
	res := sipmsg.NewResponseFromRequest(req, 401, "Unauthorized", nil)
	res.AppendHeader(sipmsg.NewHeader("WWW-Authenticate", r.auth.challenge(now, stale)))
	return res
}

func (r *Registrar) throttledResponse(req *sipmsg.Request) *sipmsg.Response {
	res := sipmsg.NewResponseFromRequest(req, 403, reasonThrottled, nil)
	res.AppendHeader(sipmsg.NewHeader("Retry-After", strconv.Itoa(int(r.cfg.FailureWindow/time.Second))))
	return res
}

// throttled says whether key has had MaxFailures failures, the last within
// FailureWindow.
func (r *Registrar) throttled(key string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	f, ok := r.failures[key]
	if !ok {
		return false
	}
	if now.Sub(f.last) > r.cfg.FailureWindow {
		delete(r.failures, key)
		return false
	}
	return f.n >= r.cfg.MaxFailures
}

func (r *Registrar) fail(now time.Time, keys ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range keys {
		f, ok := r.failures[k]
		if !ok || now.Sub(f.last) > r.cfg.FailureWindow {
			f = &failureCount{}
			r.failures[k] = f
		}
		f.n++
		f.last = now
	}
	// Bound the table: an address scan must not grow it without end.
	if len(r.failures) > 100_000 {
		for k, f := range r.failures {
			if now.Sub(f.last) > r.cfg.FailureWindow {
				delete(r.failures, k)
			}
		}
	}
}

// bind applies the REGISTER's contacts for an authenticated phone.
func (r *Registrar) bind(ctx context.Context, req *sipmsg.Request, phone agents.Phone, src netip.AddrPort,
	now time.Time, log *slog.Logger) *sipmsg.Response {
	headerExpires := -1
	if h := req.GetHeader("Expires"); h != nil {
		n, err := strconv.Atoi(strings.TrimSpace(h.Value()))
		if err != nil || n < 0 {
			return sipmsg.NewResponseFromRequest(req, 400, "Bad Request: Expires", nil)
		}
		headerExpires = n
	}
	var contacts []*sipmsg.ContactHeader
	for _, h := range req.GetHeaders("Contact") {
		c, ok := h.(*sipmsg.ContactHeader)
		if !ok {
			return sipmsg.NewResponseFromRequest(req, 400, "Bad Request: Contact", nil)
		}
		contacts = append(contacts, c)
	}
	for _, c := range contacts {
		if c.Address.Wildcard {
			if len(contacts) != 1 || headerExpires != 0 {
				return sipmsg.NewResponseFromRequest(req, 400, "Bad Request: Contact * needs Expires: 0 alone", nil)
			}
			if err := agents.RemoveRegistrations(ctx, r.db, phone.Agent); err != nil {
				log.Error("REGISTER: remove bindings", "err", err)
				return sipmsg.NewResponseFromRequest(req, 500, "Server Internal Error", nil)
			}
			log.Info("phone unregistered (all bindings)")
			return r.bindings(ctx, req, phone.Agent, now, log)
		}
	}
	type change struct {
		uri     string
		expires time.Duration
	}
	changes := make([]change, 0, len(contacts))
	for _, c := range contacts {
		exp := headerExpires
		if v, ok := c.Params.Get("expires"); ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return sipmsg.NewResponseFromRequest(req, 400, "Bad Request: Contact expires", nil)
			}
			exp = n
		}
		d := r.cfg.DefaultExpires
		if exp >= 0 {
			d = time.Duration(exp) * time.Second
		}
		if d > 0 && d < r.cfg.MinExpires {
			res := sipmsg.NewResponseFromRequest(req, 423, "Interval Too Brief", nil)
			res.AppendHeader(sipmsg.NewHeader("Min-Expires", strconv.Itoa(int(r.cfg.MinExpires/time.Second))))
			return res
		}
		d = min(d, r.cfg.MaxExpires)
		uri := c.Address.String()
		if err := agents.CheckPhoneURI(uri); err != nil && d > 0 {
			log.Info("REGISTER refused: contact", "err", err)
			return sipmsg.NewResponseFromRequest(req, 400, "Bad Request: Contact URI", nil)
		}
		changes = append(changes, change{uri, d})
	}
	for _, ch := range changes {
		if ch.expires == 0 {
			if err := agents.RemoveRegistration(ctx, r.db, phone.Agent, ch.uri); err != nil {
				log.Error("REGISTER: remove binding", "err", err)
				return sipmsg.NewResponseFromRequest(req, 500, "Server Internal Error", nil)
			}
			log.Info("phone unregistered", "contact", ch.uri)
			continue
		}
		ua := ""
		if h := req.GetHeader("User-Agent"); h != nil {
			ua = h.Value()
		}
		reg := agents.Registration{Agent: phone.Agent, Contact: ch.uri, Source: src, Transport: strings.ToLower(req.Transport()),
			ExpiresAt: now.Add(ch.expires), Node: r.cfg.Node, UserAgent: ua, RegisteredAt: now}
		if err := agents.SaveRegistration(ctx, r.db, reg); err != nil {
			log.Error("REGISTER: save binding", "err", err)
			return sipmsg.NewResponseFromRequest(req, 500, "Server Internal Error", nil)
		}
		r.mu.Lock()
		if l := r.local[src.Addr()]; reg.ExpiresAt.After(l.until) || l.gen != r.gen {
			r.local[src.Addr()] = localSource{until: reg.ExpiresAt, gen: r.gen}
		}
		r.mu.Unlock()
		log.Info("phone registered", "contact", ch.uri, "expires", ch.expires)
	}
	return r.bindings(ctx, req, phone.Agent, now, log)
}

// bindings is the 200 listing the agent's live bindings.
func (r *Registrar) bindings(ctx context.Context, req *sipmsg.Request, agent agents.ID, now time.Time, log *slog.Logger) *sipmsg.Response {
	regs, err := agents.Registrations(ctx, r.db, agent, now)
	if err != nil {
		log.Error("REGISTER: read bindings", "err", err)
		return sipmsg.NewResponseFromRequest(req, 500, "Server Internal Error", nil)
	}
	res := sipmsg.NewResponseFromRequest(req, 200, "OK", nil)
	for _, g := range regs {
		secs := int(g.ExpiresAt.Sub(now).Round(time.Second) / time.Second)
		res.AppendHeader(sipmsg.NewHeader("Contact", "<"+g.Contact+">;expires="+strconv.Itoa(max(secs, 0))))
	}
	res.AppendHeader(sipmsg.NewHeader("Date", now.UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT")))
	return res
}
