package main

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/pacer-dialer/pacer/internal/sipptest"
	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/internal/testwait"
)

// The setup and checks the SIP end-to-end tests (sip_*_test.go) share.

// startSipp runs testdata/scenario for calls calls; the scenario writes its
// lines to out and sends its media to sock. port fixes sipp's SIP port (a
// phone back at the address Pacer calls); 0 picks a free one.
func startSipp(t *testing.T, scenario string, calls int, out string, sock *rtpSocket, port int) *sipptest.Sipp {
	t.Helper()
	return sipptest.Start(t, sipptest.Options{Scenario: "testdata/" + scenario, Calls: calls, Port: port,
		Args: []string{"-set", "out", out, "-set", "media", strconv.Itoa(sock.port())}})
}

// sipDB is a fresh database's URL and a pool on it.
func sipDB(t *testing.T) (string, *pgxpool.Pool) {
	t.Helper()
	dbURL := testdb.New(t)
	db, err := pgxpool.New(context.Background(), dbURL)
	require.NoError(t, err)
	t.Cleanup(db.Close)
	return dbURL, db
}

// serveSIP serves Pacer in process on dbURL with SIP on loopback and
// returns its base URL and what stops it.
func serveSIP(t *testing.T, dbURL, nodeID string) (base string, stop func()) {
	t.Helper()
	return serveSIPOn(t, dbURL, nodeID, "127.0.0.1:0")
}

// serveSIPOn is serveSIP with SIP on sipAddr.
func serveSIPOn(t *testing.T, dbURL, nodeID, sipAddr string) (base string, stop func()) {
	t.Helper()
	return serveWeb(t, serveOptions{db: dbOptions{url: dbURL}, httpAddr: "127.0.0.1:0", nodeID: nodeID,
		engine: engineOptions{noDemo: true, poll: 100 * time.Millisecond, summary: -1},
		web:    webOptions{bcryptCost: bcrypt.MinCost, sessionTTL: time.Hour},
		sip:    sipOptions{addr: sipAddr, rtpPorts: "30000-39999"}})
}

// sippExits waits for s to finish and requires exit code 0 (every message
// of its scenario came as written); notDone is the failure if it does not
// finish, why what its clean exit means.
func sippExits(t *testing.T, s *sipptest.Sipp, notDone, why string) {
	t.Helper()
	select {
	case <-s.Done():
	case <-testwait.Expired(t):
		t.Fatal(notDone)
	}
	require.Zero(t, s.ExitCode(), "%s: %s", why, s.Output())
}

// loginAgent is user logged in through the API with the tests' password.
func loginAgent(t *testing.T, base, user string) *client {
	t.Helper()
	c := newClient(t, base)
	require.Equal(t, http.StatusOK, c.login(user, "password-"+user))
	return c
}

// disposition wraps the agent's call up with code.
func (c *client) disposition(code string) {
	c.t.Helper()
	status, body := c.do("POST", "/api/v1/agent/disposition", map[string]string{"code": code}, true)
	require.Equal(c.t, http.StatusOK, status, body)
}

// customerVoices has each customer the carrier scenario writes to its log
// talk for three seconds once answered, and counts what each sent.
type customerVoices struct {
	mu   sync.Mutex
	sent map[int]int // Pacer's port for the customer's call → packets they sent
}

func customersTalk(ctx context.Context, customers *rtpSocket, carrierLog string) *customerVoices {
	v := &customerVoices{sent: map[int]int{}}
	go portsWritten(ctx, carrierLog, func(call, port int) {
		go func() {
			n := customers.talk(ctx, port, 0xc0ffee00+uint32(call), 150)
			v.mu.Lock()
			v.sent[port] = n
			v.mu.Unlock()
		}()
	})
	return v
}

// done is whether n customers have finished talking.
func (v *customerVoices) done(n int) func() bool {
	return func() bool {
		v.mu.Lock()
		defer v.mu.Unlock()
		return len(v.sent) == n
	}
}

// bySent is a copy of what each customer sent, by Pacer's port.
func (v *customerVoices) bySent() map[int]int {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make(map[int]int, len(v.sent))
	for port, n := range v.sent {
		out[port] = n
	}
	return out
}

// byPort counts the packets s received, by the port they came from.
func byPort(s *rtpSocket) map[uint16]int {
	got := map[uint16]int{}
	for _, p := range s.seen() {
		got[p.from.Port()]++
	}
	return got
}

// requireHeardAgent requires each customer who talked (sent, by Pacer's
// port of their call) to have heard the agent from that port (heard).
func requireHeardAgent(t *testing.T, sent map[int]int, heard map[uint16]int) {
	t.Helper()
	for port := range sent {
		require.Greater(t, heard[uint16(port)], 25, "customer on Pacer port %d heard the agent", port)
	}
}
