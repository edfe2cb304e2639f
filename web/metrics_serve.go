package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Who may scrape /metrics (it shows campaign ids, call volumes and agent
// counts): with Config.MetricsAddr, anyone who can reach that address and
// nobody on the main port; with Config.MetricsToken, a scraper that sends
// it as a bearer token; with neither, a logged-in supervisor, manager or
// admin (a browser, or a scraper given a session cookie).

// metricsGate guards /metrics on the main port.
func (s *Server) metricsGate(c *fiber.Ctx) error {
	switch {
	case s.separateMetrics():
		return apiError(fiber.StatusNotFound, "no such endpoint: %s %s", c.Method(), c.Path())
	case s.cfg.MetricsToken != "":
		if !s.bearerOK(c.Get(fiber.HeaderAuthorization)) {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="pacer metrics"`)
			return apiError(fiber.StatusUnauthorized, "send the metrics token as Authorization: Bearer <token>")
		}
	case s.db == nil:
		return apiError(fiber.StatusUnauthorized, "metrics need a metrics token or their own address on a node without a database")
	default:
		ss, ok, err := s.lookupSession(c)
		if err != nil {
			return err
		}
		if !ok {
			return apiError(fiber.StatusUnauthorized, "log in as a supervisor, manager or admin, or configure a metrics token")
		}
		if !allowed(ss.User.Role, []Role{RoleSupervisor, RoleManager}) {
			return apiError(fiber.StatusForbidden, "your role (%s) may not read metrics", ss.User.Role)
		}
	}
	return c.Next()
}

func (s *Server) separateMetrics() bool {
	return s.cfg.MetricsAddr != "" || s.cfg.MetricsListener != nil
}

func (s *Server) bearerOK(header string) bool {
	tok, ok := strings.CutPrefix(header, "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(s.cfg.MetricsToken)) == 1
}

// metricsListener binds the metrics address, if there is one.
func (s *Server) metricsListener(ctx context.Context) (net.Listener, error) {
	if s.cfg.MetricsListener != nil || s.cfg.MetricsAddr == "" {
		return s.cfg.MetricsListener, nil
	}
	return Listen(ctx, s.cfg.MetricsAddr)
}

// serveMetrics serves /metrics alone on ln until stopMetrics.
func (s *Server) serveMetrics(ln net.Listener) {
	prom := promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.MetricsToken != "" && !s.bearerOK(r.Header.Get("Authorization")) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="pacer metrics"`)
			http.Error(w, "send the metrics token as Authorization: Bearer <token>", http.StatusUnauthorized)
			return
		}
		prom.ServeHTTP(w, r)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	s.metricsSrv, s.metricsLn = srv, ln
	s.mu.Unlock()
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("metrics server stopped", "err", err)
		}
	}()
	s.log.Info("metrics listening", "addr", ln.Addr().String())
}

// MetricsAddr is the bound metrics address ("" without one).
func (s *Server) MetricsAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.metricsLn == nil {
		return ""
	}
	return s.metricsLn.Addr().String()
}

func (s *Server) stopMetrics() {
	s.mu.Lock()
	srv := s.metricsSrv
	s.mu.Unlock()
	if srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		s.log.Warn("metrics shutdown", "err", err)
	}
}
