package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Config configures the HTTP server.
type Config struct {
	// Addr is the listen address, e.g. ":8080" or "127.0.0.1:0".
	Addr string
	// ShutdownTimeout bounds how long Stop waits for in-flight requests.
	// Default 8 s, so the whole process stops within 10 s of a signal.
	ShutdownTimeout time.Duration
	// CheckTimeout bounds each readiness check. Default 2 s.
	CheckTimeout time.Duration
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
	return c
}

// Validate reports a config that cannot work.
func (c Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("http address %q: %w", c.Addr, err)
	}
	if c.ShutdownTimeout < 0 || c.CheckTimeout < 0 {
		return errors.New("timeouts must not be negative")
	}
	return nil
}

// Check is one readiness condition; Func returns nil when it holds.
type Check struct {
	Name string
	Func func(ctx context.Context) error
}

// Server is the HTTP server.
type Server struct {
	cfg    Config
	log    *slog.Logger
	app    *fiber.App
	checks []Check

	mu       sync.Mutex
	listener net.Listener
	done     chan struct{}
	stopOnce sync.Once
}

// New builds the server; nothing listens until Start.
func New(cfg Config, checks []Check, logger *slog.Logger) (*Server, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: logger, checks: checks}
	s.app = fiber.New(fiber.Config{
		DisableStartupMessage: true,
		AppName:               "pacer",
		ErrorHandler:          s.errorHandler,
	})
	s.routes()
	return s, nil
}

// Start binds the listen address and serves until Stop.
func (s *Server) Start(ctx context.Context) error {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, errors.Unwrap(err))
	}
	s.mu.Lock()
	s.listener = ln
	s.done = make(chan struct{})
	s.mu.Unlock()
	go func() {
		defer close(s.done)
		if err := s.app.Listener(ln); err != nil {
			s.log.Error("http server stopped", "err", err)
		}
	}()
	s.log.Info("http server listening", "addr", ln.Addr().String())
	return nil
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

// Stop lets in-flight requests finish (up to ShutdownTimeout) and returns when
// the serving goroutine has exited. Safe to call more than once, or without Start.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		s.mu.Lock()
		done := s.done
		s.mu.Unlock()
		if done == nil {
			return
		}
		if err := s.app.ShutdownWithTimeout(s.cfg.ShutdownTimeout); err != nil {
			s.log.Warn("http shutdown", "err", err)
		}
		<-done
	})
}

func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	code := fiber.StatusInternalServerError
	var fe *fiber.Error
	if errors.As(err, &fe) {
		code = fe.Code
	}
	if code >= 500 {
		s.log.Error("request failed", "method", c.Method(), "path", c.Path(), "err", err)
	}
	return c.Status(code).JSON(fiber.Map{"error": err.Error()})
}
