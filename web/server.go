package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
)

// Config configures the HTTP server.
type Config struct {
	// Addr is the listen address, e.g. ":8080" or "127.0.0.1:0".
	Addr string
	// Listener, when set, is used instead of listening on Addr (serve
	// binds its port before it registers its node, so a port in use fails
	// before anything changes).
	Listener net.Listener
	// ShutdownTimeout bounds how long Stop waits for in-flight requests.
	// Default 8 s, so the whole process stops within 10 s of a signal.
	ShutdownTimeout time.Duration
	// CheckTimeout bounds each readiness check. Default 2 s.
	CheckTimeout time.Duration
	// Node names this process in cross-node events (default "node").
	Node string
	// SecureCookies marks the session cookie Secure. Set it when the
	// server is reached over TLS (directly or behind a proxy); requests
	// that arrive over TLS get Secure cookies either way.
	SecureCookies bool
	// SessionTTL is how long a session lives without use (default 12 h).
	SessionTTL time.Duration
	// LoginAttempts failed logins at one username from one client address
	// go unthrottled (default 5); each further attempt from there waits
	// LoginDelay (default 1 s), doubling up to LoginMaxDelay (default 15
	// min). An address's failures across all usernames get ten times the
	// room. A (username, address) without an attempt for LoginMemory
	// (default 24 h) starts over; so does one that logs in.
	LoginAttempts int
	LoginDelay    time.Duration
	LoginMaxDelay time.Duration
	LoginMemory   time.Duration
	// TrustedProxies are the peers whose X-Forwarded-For names the client
	// (for login throttling and logs); from anyone else it is ignored.
	TrustedProxies []netip.Prefix
	// BcryptCost is the cost of new password hashes, MinBcryptCost to
	// MaxBcryptCost (default DefaultBcryptCost). Below WeakBcryptCost is
	// for tests: the server logs a warning.
	BcryptCost int
	// MetricsAddr, when set, serves /metrics on its own listen address
	// (MetricsListener, when set, is that address already bound), and the
	// main port answers /metrics with 404. Keep it on a private interface.
	MetricsAddr     string
	MetricsListener net.Listener
	// MetricsToken, when set, must come with every scrape as
	// "Authorization: Bearer <token>", on either address. With neither
	// MetricsAddr nor MetricsToken, /metrics is for logged-in supervisors,
	// managers and admins only.
	MetricsToken string
	// SocketsPerUser bounds one user's live-event WebSockets on this node
	// (default 8: an agent's tabs, a supervisor's wallboards).
	SocketsPerUser int
	// StatsEvery is how often each running campaign's stats are pushed to
	// subscribers (default 1 s).
	StatsEvery time.Duration
	// ImportConcurrency is how many lead imports run at once across every
	// node sharing the database; later uploads wait, queued (default
	// campaigns.DefaultImportConcurrency).
	ImportConcurrency int
}

// WithDefaults returns the config with empty fields filled in.
func (c Config) WithDefaults() Config {
	if c.Addr == "" {
		c.Addr = ":8080"
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 8 * time.Second
	}
	if c.CheckTimeout == 0 {
		c.CheckTimeout = 2 * time.Second
	}
	if c.Node == "" {
		c.Node = "node"
	}
	if c.SessionTTL == 0 {
		c.SessionTTL = 12 * time.Hour
	}
	if c.LoginAttempts == 0 {
		c.LoginAttempts = 5
	}
	if c.LoginDelay == 0 {
		c.LoginDelay = time.Second
	}
	if c.LoginMaxDelay == 0 {
		c.LoginMaxDelay = 15 * time.Minute
	}
	if c.LoginMemory == 0 {
		c.LoginMemory = 24 * time.Hour
	}
	if c.BcryptCost == 0 {
		c.BcryptCost = DefaultBcryptCost
	}
	if c.SocketsPerUser == 0 {
		c.SocketsPerUser = 8
	}
	if c.StatsEvery == 0 {
		c.StatsEvery = time.Second
	}
	if c.ImportConcurrency == 0 {
		c.ImportConcurrency = campaigns.DefaultImportConcurrency
	}
	return c
}

// Validate reports a config that cannot work.
func (c Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("http address %q: %w", c.Addr, err)
	}
	if c.ShutdownTimeout < 0 || c.CheckTimeout < 0 || c.SessionTTL < 0 || c.LoginDelay < 0 || c.LoginMaxDelay < 0 ||
		c.LoginMemory < 0 || c.StatsEvery < 0 {
		return errors.New("durations must not be negative")
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			return fmt.Errorf("metrics address %q: %w", c.MetricsAddr, err)
		}
	}
	if c.SocketsPerUser < 1 {
		return errors.New("WebSockets per user must be at least 1")
	}
	if c.LoginAttempts < 1 {
		return errors.New("login attempts must be at least 1")
	}
	if c.LoginMaxDelay < c.LoginDelay || c.LoginMemory < c.LoginMaxDelay {
		return errors.New("login delays must grow from the first to the longest, and be remembered at least as long")
	}
	if c.ImportConcurrency < 1 || c.ImportConcurrency > 64 {
		return fmt.Errorf("import concurrency %d: must be 1 to 64", c.ImportConcurrency)
	}
	return CheckBcryptCost(c.BcryptCost)
}

// Check is one readiness condition; Func returns nil when it holds.
type Check struct {
	Name string
	Func func(ctx context.Context) error
}

// Deps are the server's collaborators. Without DB only the probes are
// served (a process that has no database yet can still say so).
type Deps struct {
	Checks []Check
	// DB holds users, sessions and the read models pages render from.
	DB *pgxpool.Pool
	// Engine drives agents and calls on this node; nil serves everything
	// but the agent's call controls and live campaign figures.
	Engine Engine
	// Router, with DB and Engine, sends each engine call about a campaign
	// to the node that owns it (cluster.go); nil: every campaign is local.
	Router Router
	// Clock is the time source (default: the wall clock).
	Clock Clock
	// Callbacks queues and cancels callbacks' jobs (reschedule, cancel);
	// nil refuses those with 503.
	Callbacks campaigns.CallbackJobs
	// Jobs is the job queue for the admins' jobs page; nil refuses it.
	Jobs Jobs
	// Presence is told when each agent's workspace sockets connect and
	// disconnect, and decides when an agent has left (cmd/pacer wires its
	// report to the engine's session-lost logout). The server stops it
	// first thing in Stop, so closing every socket at shutdown is not
	// taken for agents leaving. Nil: nobody is logged out for leaving.
	Presence *agents.Presence
	// Inbound is the router of this node's inbound queues: queue changes
	// reach it at once, and the wallboard shows its callers waiting and the
	// blending reserve. Nil: queue changes apply at the next periodic
	// reload and the wallboard shows only the event log's figures.
	Inbound Inbound
	// SimInbound injects simulated inbound callers (the admins' POST
	// /api/v1/sim/inbound); nil when the simulated carrier is not in use
	// (a SIP trunk brings the callers), which refuses it with 409.
	SimInbound SimInbound
}

// Clock is the server's time source.
type Clock interface{ Now() time.Time }

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

// Server is the HTTP server.
type Server struct {
	cfg        Config
	log        *slog.Logger
	app        *fiber.App
	checks     []Check
	db         *pgxpool.Pool
	engine     Engine // routed to each campaign's node (cluster.go)
	simInbound SimInbound
	local      Engine // this node's loops only
	secret     string // the cluster secret internal engine calls carry
	// internalClient makes this node's internal calls that are not engine
	// calls (a simulated caller placed on another node).
	internalClient *http.Client
	router         Router // nil: every campaign is local
	clock          Clock

	callbackJobs campaigns.CallbackJobs
	jobs         Jobs
	inbound      Inbound

	dummyHash func() []byte // see checkPassword

	throttle *loginThrottle
	hub      *Hub
	bridge   *notifyBridge
	pub      *publisher
	metrics  *metrics

	// agentCampaign is the campaign each agent user is logged in to on
	// this node (user id → campaign id).
	agentMu       sync.Mutex
	agentCampaign map[int64]int64
	presence      *agents.Presence

	figMu   sync.Mutex
	figures map[int64]storedFigures // per campaign, see storedFigures
	// dialMarks: per campaign, when its dial count last moved (dialSeen)
	dialMarks map[int64]dialMark

	metricsSrv *http.Server // on Config.MetricsAddr, if set
	metricsLn  net.Listener

	mu       sync.Mutex
	listener net.Listener
	done     chan struct{}
	stopOnce sync.Once
	cancel   context.CancelFunc
	bgCtx    context.Context
	bg       sync.WaitGroup
}

// New builds the server; nothing listens until Start.
func New(cfg Config, deps Deps, logger *slog.Logger) (*Server, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: logger, checks: deps.Checks, db: deps.DB, engine: deps.Engine, local: deps.Engine,
		clock: deps.Clock, callbackJobs: deps.Callbacks, simInbound: deps.SimInbound, jobs: deps.Jobs, presence: deps.Presence,
		inbound:       deps.Inbound,
		agentCampaign: map[int64]int64{}, figures: map[int64]storedFigures{}, dialMarks: map[int64]dialMark{}}
	if s.clock == nil {
		s.clock = wallClock{}
	}
	if deps.Router != nil && deps.Engine != nil && s.db != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		secret, err := loadClusterSecret(ctx, s.db)
		cancel()
		if err != nil {
			return nil, err
		}
		s.secret = secret
		s.internalClient = &http.Client{Timeout: 30 * time.Second}
		s.engine = newRoutedEngine(deps.Engine, deps.Router, s.db, secret)
		s.router = deps.Router
	}
	if cfg.BcryptCost < WeakBcryptCost {
		logger.Warn("weak password hashes: a bcrypt cost below 10 is for tests", "bcrypt_cost", cfg.BcryptCost)
	}
	s.dummyHash = dummyHash(cfg.BcryptCost)
	s.throttle = &loginThrottle{db: s.db, free: cfg.LoginAttempts, delay: cfg.LoginDelay, maxDelay: cfg.LoginMaxDelay,
		memory: cfg.LoginMemory}
	s.hub = NewHub()
	s.metrics = newMetrics(s)
	if s.db != nil {
		s.bridge = newNotifyBridge(s.db, cfg.Node, s.hub, logger)
	}
	if s.engine != nil {
		s.pub = newPublisher(s)
	}
	s.app = fiber.New(fiber.Config{
		DisableStartupMessage: true,
		AppName:               "pacer",
		ErrorHandler:          s.errorHandler,
		JSONDecoder:           strictJSON,
		BodyLimit:             512 << 20, // lead files
		ReadTimeout:           5 * time.Minute,
	})
	s.app.Use(s.requestID)
	s.routes()
	return s, nil
}

// Registry is the Prometheus registry /metrics serves.
func (s *Server) Registry() *prometheus.Registry { return s.metrics.reg }

// Hub is the local fan-out of live events.
func (s *Server) Hub() *Hub { return s.hub }

// Start binds the listen address and serves until Stop. It also starts the
// live-event goroutines: the LISTEN/NOTIFY bridge and the publisher that
// follows this node's campaign loops. All of them exit in Stop.
func (s *Server) Start(ctx context.Context) error {
	ln := s.cfg.Listener
	if ln == nil {
		var err error
		if ln, err = Listen(ctx, s.cfg.Addr); err != nil {
			return err
		}
	}
	mln, err := s.metricsListener(ctx)
	if err != nil {
		ln.Close()
		return err
	}
	bgCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	if s.bridge != nil {
		if err := s.bridge.Start(bgCtx); err != nil {
			cancel()
			ln.Close()
			if mln != nil {
				mln.Close()
			}
			return err
		}
	}
	if mln != nil {
		s.serveMetrics(mln)
	}
	s.mu.Lock()
	s.listener = ln
	s.done = make(chan struct{})
	s.cancel = cancel
	s.bgCtx = bgCtx
	s.mu.Unlock()
	if s.pub != nil {
		s.bg.Add(1)
		go func() {
			defer s.bg.Done()
			s.pub.run(bgCtx)
		}()
	}
	go func() {
		defer close(s.done)
		if err := s.app.Listener(ln); err != nil {
			s.log.Error("http server stopped", "err", err)
		}
	}()
	s.log.Info("http server listening", "addr", ln.Addr().String())
	return nil
}

// Listen binds addr for Config.Listener.
func Listen(ctx context.Context, addr string) (net.Listener, error) {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, errors.Unwrap(err))
	}
	return ln, nil
}

// Addr is the bound address (useful when Config.Addr asked for port 0).
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listener == nil {
		return ""
	}
	return s.listener.Addr().String()
}

// Stop lets in-flight requests finish (up to ShutdownTimeout), closes the
// live-event connections and returns when every goroutine has exited. Safe
// to call more than once, or without Start.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		s.mu.Lock()
		done, cancel := s.done, s.cancel
		s.mu.Unlock()
		if done == nil {
			return
		}
		cancel()
		if s.presence != nil {
			s.presence.Stop()
		}
		s.hub.Close()
		s.hub.Wait()
		if err := s.app.ShutdownWithTimeout(s.cfg.ShutdownTimeout); err != nil {
			s.log.Warn("http shutdown", "err", err)
		}
		s.stopMetrics()
		<-done
		s.bg.Wait()
		if s.bridge != nil {
			s.bridge.Stop()
		}
	})
}
