package pgproxy

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Proxy forwards TCP connections to one PostgreSQL server until Cut.
type Proxy struct {
	ln      net.Listener
	network string
	target  string
	base    string

	mu  sync.Mutex
	cut bool
	// cutOn, when set, cuts the proxy as soon as the server sends it
	// (CutOnReply), before the client sees it.
	cutOn []byte
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// New starts a proxy to the server dbURL names and returns it with dbURL
// rewritten to go through it. The proxy is closed when the test ends.
func New(t testing.TB, dbURL string) (*Proxy, string) {
	t.Helper()
	p, err := Start(dbURL)
	if err != nil {
		t.Fatalf("pgproxy: %v", err)
	}
	t.Cleanup(p.Close)
	return p, p.URL()
}

// Start starts a proxy to the server dbURL names. Close stops it.
func Start(dbURL string) (*Proxy, error) {
	cfg, err := pgconn.ParseConfig(dbURL)
	if err != nil {
		return nil, err
	}
	p := &Proxy{base: dbURL, conns: map[net.Conn]struct{}{}}
	if strings.HasPrefix(cfg.Host, "/") {
		p.network, p.target = "unix", filepath.Join(cfg.Host, fmt.Sprintf(".s.PGSQL.%d", cfg.Port))
	} else {
		p.network, p.target = "tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))
	}
	if p.ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return nil, err
	}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the proxy's listening address.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// URL is the URL the proxy was started with, pointed at the proxy.
func (p *Proxy) URL() string {
	host, port, _ := net.SplitHostPort(p.Addr())
	u, err := url.Parse(p.base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return p.base + " host=" + host + " port=" + port
	}
	q := u.Query()
	q.Del("host")
	q.Del("port")
	u.RawQuery = q.Encode()
	u.Host = p.Addr()
	return u.String()
}

// Cut closes every proxied connection and refuses new ones until Restore.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		_ = c.Close()
	}
}

// CutOnReply arms a one-shot cut: the first server message containing
// marker (e.g. "COMMIT\x00", the tag of a committed transaction's reply) is
// not forwarded, and the proxy is cut at once. The server has done the work;
// the client never hears so. Restore forwards again.
func (p *Proxy) CutOnReply(marker string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cutOn = []byte(marker)
}

// Restore forwards new connections again.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
}

// Close stops listening, closes every connection and waits for the proxy's
// goroutines to exit. Idempotent.
func (p *Proxy) Close() {
	_ = p.ln.Close()
	p.Cut()
	p.wg.Wait()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

func (p *Proxy) serve(client net.Conn) {
	defer p.wg.Done()
	if !p.track(client) {
		_ = client.Close()
		return
	}
	defer p.untrack(client)
	server, err := net.Dial(p.network, p.target)
	if err != nil {
		return
	}
	if !p.track(server) {
		_ = server.Close()
		return
	}
	defer p.untrack(server)
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		done <- struct{}{}
	}
	go pipe(server, client)
	go func() {
		p.replies(client, server)
		done <- struct{}{}
	}()
	<-done
	// One side hung up: close both so the other copy ends too.
	_ = client.Close()
	_ = server.Close()
	<-done
}

// replies copies the server's messages to the client, watching for the
// CutOnReply marker.
func (p *Proxy) replies(client, server net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := server.Read(buf)
		if n > 0 {
			p.mu.Lock()
			hit := p.cutOn != nil && bytes.Contains(buf[:n], p.cutOn)
			if hit {
				p.cutOn = nil
			}
			p.mu.Unlock()
			if hit {
				p.Cut()
				return
			}
			if _, werr := client.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// track registers c unless the proxy is cut.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	_ = c.Close()
}

// NewPool starts a proxy to the server dbURL names and returns it with a pool
// that reaches the database through it (connect timeout 1 s, so a cut is
// noticed at once). Both are closed when the test ends.
func NewPool(t testing.TB, dbURL string) (*Proxy, *pgxpool.Pool) {
	t.Helper()
	p, proxied := New(t, dbURL)
	cfg, err := pgxpool.ParseConfig(proxied)
	if err != nil {
		t.Fatalf("pgproxy: %v", err)
	}
	cfg.ConnConfig.ConnectTimeout = time.Second
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatalf("pgproxy: pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return p, pool
}
