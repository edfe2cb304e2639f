package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/pacer-dialer/pacer/internal/testdb"
)

// manualClock is a clock a test moves by hand.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func newManualClock() *manualClock {
	return &manualClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *manualClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// startClockedServer runs a Server on db with clock and cfg's login and
// proxy settings.
func startClockedServer(t *testing.T, db *pgxpool.Pool, clock Clock, cfg Config) *Server {
	t.Helper()
	cfg.Addr, cfg.BcryptCost, cfg.ShutdownTimeout = "127.0.0.1:0", bcrypt.MinCost, time.Second
	s, err := New(cfg, Deps{DB: db, Clock: clock}, nil)
	require.NoError(t, err)
	require.NoError(t, s.Start(context.Background()))
	t.Cleanup(s.Stop)
	return s
}

// from is an HTTP client whose connections come from the loopback address
// ip (any 127.x.y.z is this machine), so a test has several client
// addresses without a proxy.
func from(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}

// tryLogin posts a login and returns the status and Retry-After (seconds).
func tryLogin(t *testing.T, hc *http.Client, s *Server, user, password string, header ...string) (int, int) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": user, "password": password})
	req, err := http.NewRequest("POST", "http://"+s.Addr()+"/api/v1/login", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, err := hc.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	retry := 0
	if v := resp.Header.Get("Retry-After"); v != "" {
		retry, err = strconv.Atoi(v)
		require.NoError(t, err, v)
	}
	return resp.StatusCode, retry
}

// Wrong passwords from one address slow down only that address: the user
// still logs in from their own desk at once, while the guesser's waits
// (Retry-After) double with each further failure.
func TestLoginThrottleSlowsTheGuesserNotTheUser(t *testing.T) {
	t.Parallel()
	db, clock := testdb.NewPool(t), newManualClock()
	s := startClockedServer(t, db, clock, Config{})
	addUser(t, db, "ann", RoleAgent)
	guesser, desk := from("127.0.0.2"), from("127.0.0.3")

	for i := range 5 {
		code, _ := tryLogin(t, guesser, s, "ann", "guess", "X-Forwarded-For", "198.51.100.9")
		require.Equal(t, http.StatusUnauthorized, code, "failure %d is not throttled yet", i+1)
	}
	code, _ := tryLogin(t, desk, s, "ann", "password-ann")
	require.Equal(t, http.StatusOK, code, "ann logs in from her own address")
	code, _ = tryLogin(t, guesser, s, "ANN", "password-ann")
	require.Equal(t, http.StatusTooManyRequests, code, "the guesser's address waits, even with the right password")

	var waits []int
	for range 5 {
		code, retry := tryLogin(t, guesser, s, "ann", "guess")
		require.Equal(t, http.StatusTooManyRequests, code)
		waits = append(waits, retry)
		clock.Add(time.Duration(retry) * time.Second)
		code, _ = tryLogin(t, guesser, s, "ann", "guess")
		require.Equal(t, http.StatusUnauthorized, code, "after waiting, one more guess")
	}
	require.Equal(t, []int{1, 2, 4, 8, 16}, waits, "each failure doubles the wait")
	code, _ = tryLogin(t, desk, s, "ann", "password-ann")
	require.Equal(t, http.StatusOK, code, "ann is never locked out")

	// The right password from the throttled address, once it may try,
	// logs in and clears the count.
	_, retry := tryLogin(t, guesser, s, "ann", "password-ann")
	clock.Add(time.Duration(retry) * time.Second)
	code, _ = tryLogin(t, guesser, s, "ann", "password-ann")
	require.Equal(t, http.StatusOK, code)
	code, _ = tryLogin(t, guesser, s, "ann", "guess")
	require.Equal(t, http.StatusUnauthorized, code, "the count starts over")
}

// Nodes of a cluster share the count: a guesser gains nothing by spreading
// attempts over them.
func TestLoginThrottleHoldsAcrossNodes(t *testing.T) {
	t.Parallel()
	db := testdb.NewPool(t)
	clock := newManualClock()
	nodes := []*Server{startClockedServer(t, db, clock, Config{Node: "n1"}), startClockedServer(t, db, clock, Config{Node: "n2"}),
		startClockedServer(t, db, clock, Config{Node: "n3"})}
	addUser(t, db, "bob", RoleAgent)
	guesser := from("127.0.0.4")
	for i := range 5 {
		code, _ := tryLogin(t, guesser, nodes[i%3], "bob", "guess")
		require.Equal(t, http.StatusUnauthorized, code)
	}
	for _, n := range nodes {
		code, retry := tryLogin(t, guesser, n, "bob", "guess")
		require.Equal(t, http.StatusTooManyRequests, code, n.cfg.Node)
		require.Equal(t, 1, retry)
	}
}

// A burst of parallel guesses is counted before any password is checked, so
// no more than the free attempts get through.
func TestLoginThrottleCountsParallelBursts(t *testing.T) {
	t.Parallel()
	db, clock := testdb.NewPool(t), newManualClock()
	s := startClockedServer(t, db, clock, Config{})
	addUser(t, db, "cy", RoleAgent)
	guesser := from("127.0.0.5")
	codes := make(chan int, 20)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _ := tryLogin(t, guesser, s, "cy", "guess")
			codes <- code
		}()
	}
	wg.Wait()
	close(codes)
	n := map[int]int{}
	for c := range codes {
		n[c]++
	}
	require.Equal(t, map[int]int{http.StatusUnauthorized: 5, http.StatusTooManyRequests: 15}, n)
}

// X-Forwarded-For names the client only when the peer is a trusted proxy;
// otherwise a guesser could pose as a new address on every attempt.
func TestForwardedForOnlyFromTrustedProxies(t *testing.T) {
	t.Parallel()
	db := testdb.NewPool(t)
	clock := newManualClock()
	addUser(t, db, "dee", RoleAgent)

	open := startClockedServer(t, db, clock, Config{})
	hc := from("127.0.0.6")
	for i := range 6 {
		code, _ := tryLogin(t, hc, open, "dee", "guess", "X-Forwarded-For", "198.51.100."+strconv.Itoa(i+1))
		want := http.StatusUnauthorized
		if i == 5 {
			want = http.StatusTooManyRequests
		}
		require.Equal(t, want, code, "attempt %d: a made-up X-Forwarded-For is not a new address", i+1)
	}

	proxies, err := ParseTrustedProxies("127.0.0.7/32, 10.0.0.1")
	require.NoError(t, err)
	require.Equal(t, []netip.Prefix{netip.MustParsePrefix("127.0.0.7/32"), netip.MustParsePrefix("10.0.0.1/32")}, proxies)
	behind := startClockedServer(t, db, clock, Config{TrustedProxies: proxies})
	proxy := from("127.0.0.7")
	for range 5 {
		code, _ := tryLogin(t, proxy, behind, "dee", "guess", "X-Forwarded-For", "203.0.113.50, 10.0.0.1")
		require.Equal(t, http.StatusUnauthorized, code)
	}
	code, _ := tryLogin(t, proxy, behind, "dee", "guess", "X-Forwarded-For", "203.0.113.50")
	require.Equal(t, http.StatusTooManyRequests, code, "the client the proxies name is throttled")
	code, _ = tryLogin(t, proxy, behind, "dee", "password-dee", "X-Forwarded-For", "203.0.113.51")
	require.Equal(t, http.StatusOK, code, "another client behind the same proxy is not")
	// The client cannot disown its address by writing its own header: the
	// proxy appends what it heard, and only that counts.
	code, _ = tryLogin(t, proxy, behind, "dee", "guess", "X-Forwarded-For", "192.0.2.99, 203.0.113.50")
	require.Equal(t, http.StatusTooManyRequests, code)

	_, err = ParseTrustedProxies("10.0.0.0/8, proxy.example")
	require.ErrorContains(t, err, `"proxy.example"`)
}
