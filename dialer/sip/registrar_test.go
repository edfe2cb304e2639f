package sip

import (
	"context"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/internal/sipptest"
	"github.com/pacer-dialer/pacer/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// sippRun is one sipp run: its exit code and what it wrote.
type sippRun struct {
	code   int
	output string
}

// runSipp runs scenario (a file in testdata) once against target from a
// port of its own, and waits for it to end; -timeout is a hang guard only.
func runSipp(t *testing.T, scenario string, target netip.AddrPort, args ...string) sippRun {
	t.Helper()
	return startSipp(t, scenario, target, args...).wait(t)
}

// sippProc is a running sipp.
type sippProc struct{ *sipptest.Sipp }

// startSipp starts sipp running scenario (a file in testdata) against
// target, or as a phone (UAS) when target is not valid, returning once it
// listens. -i, -p, -mp and -m in args set its address, ports and number of
// calls (default loopback, free ports, one call).
func startSipp(t *testing.T, scenario string, target netip.AddrPort, args ...string) *sippProc {
	t.Helper()
	o := sipptest.Options{Scenario: filepath.Join("testdata", scenario), Calls: 1}
	rest := []string{"-timeout", "120s"}
	for i := 0; i < len(args); i++ {
		if i+1 == len(args) {
			rest = append(rest, args[i])
			break
		}
		var err error
		switch args[i] {
		case "-i":
			o.IP = args[i+1]
		case "-p":
			o.Port, err = strconv.Atoi(args[i+1])
		case "-mp":
			o.MediaPort, err = strconv.Atoi(args[i+1])
		case "-m":
			o.Calls, err = strconv.Atoi(args[i+1])
		default:
			rest = append(rest, args[i])
			continue
		}
		require.NoError(t, err, "sipp %s", args[i])
		i++
	}
	o.Args = rest
	if target.IsValid() {
		o.Remote = target.String()
	}
	return &sippProc{sipptest.Start(t, o)}
}

// wait waits for sipp to exit; sipptest logs its error file when the
// test fails.
func (p *sippProc) wait(t *testing.T) sippRun {
	t.Helper()
	return sippRun{code: p.ExitCode(), output: p.Output()}
}

// sipServer is a sipgo server on a loopback UDP port of its own.
func sipServer(t *testing.T, setup func(*sipgo.Server)) (*sipgo.UserAgent, netip.AddrPort) {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("pacer-test"), sipgo.WithUserAgentHostname("127.0.0.1"))
	require.NoError(t, err)
	srv, err := sipgo.NewServer(ua)
	require.NoError(t, err)
	setup(srv)
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.ServeUDP(conn)
	}()
	t.Cleanup(func() {
		_ = ua.Close()
		_ = conn.Close()
		<-served
	})
	return ua, netip.MustParseAddrPort(conn.LocalAddr().String())
}

func addAgent(t *testing.T, db *pgxpool.Pool, username string, disabled bool) agents.ID {
	t.Helper()
	var id int64
	require.NoError(t, db.QueryRow(context.Background(), `INSERT INTO users (username, role, password_hash, disabled)
		VALUES ($1, 'agent', '$2a$04$xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', $2) RETURNING id`,
		username, disabled).Scan(&id))
	return agents.ID(id)
}

// testClock is a settable clock for nonce and binding lifetimes.
type testClock struct{ ns atomic.Int64 }

func newTestClock() *testClock {
	c := &testClock{}
	c.ns.Store(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *testClock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *testClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func startRegistrar(t *testing.T, db *pgxpool.Pool, cfg RegistrarConfig) (*Registrar, netip.AddrPort) {
	t.Helper()
	cfg.Logger = testLogger(t)
	reg, err := NewRegistrar(db, cfg)
	require.NoError(t, err)
	_, addr := sipServer(t, func(s *sipgo.Server) { s.OnRegister(reg.HandleRegister) })
	return reg, addr
}

// A phone with the right SIP password registers (challenged first), its
// binding is stored with where it came from and is what the phone is called
// at; too brief an Expires gets 423, too long is shortened; Contact: * with
// Expires: 0 removes it.
func TestPhoneRegistersWithDigestAgainstSipp(t *testing.T) {
	sipptest.Need(t)
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	ann := addAgent(t, db, "ann", false)
	require.NoError(t, agents.SetSIPPassword(ctx, db, agents.SIPPassword{Agent: ann, Password: "right-secret"}))
	clock := newTestClock()
	reg, addr := startRegistrar(t, db, RegistrarConfig{Node: "node-a", Now: clock.Now})
	require.False(t, reg.KnownSource(netip.MustParseAddr("127.0.0.1")))

	phone := []string{"-s", "ann", "-au", "ann", "-ap", "right-secret"}
	r := runSipp(t, "phone_register.xml", addr, append(phone, "-key", "expires", "300")...)
	require.Zero(t, r.code, r.output)
	regs, err := agents.Registrations(ctx, db, ann, clock.Now())
	require.NoError(t, err)
	require.Len(t, regs, 1)
	require.Regexp(t, `^sip:ann@127\.0\.0\.1:\d+$`, regs[0].Contact)
	require.Equal(t, "127.0.0.1", regs[0].Source.Addr().String())
	require.True(t, strings.HasSuffix(regs[0].Contact, ":"+strconv.Itoa(int(regs[0].Source.Port()))), "source is sipp's port")
	require.Equal(t, "udp", regs[0].Transport)
	require.Equal(t, "node-a", regs[0].Node)
	require.Equal(t, "sipp agent phone", regs[0].UserAgent)
	require.True(t, regs[0].ExpiresAt.Equal(clock.Now().Add(300*time.Second)), regs[0].ExpiresAt)
	c, err := agents.PhoneContact(ctx, db, ann, clock.Now())
	require.NoError(t, err)
	require.True(t, c.Registered)
	require.True(t, reg.KnownSource(netip.MustParseAddr("127.0.0.1")), "a registered phone may send INVITEs")
	require.False(t, reg.KnownSource(netip.MustParseAddr("127.0.0.2")))

	r = runSipp(t, "phone_register_brief.xml", addr, append(phone, "-key", "expires", "10")...)
	require.Zero(t, r.code, "10 s is under the 60 s minimum: 423 with Min-Expires\n%s", r.output)

	clock.Advance(time.Second)
	r = runSipp(t, "phone_register.xml", addr, append(phone, "-key", "expires", "86400")...)
	require.Zero(t, r.code, r.output)
	regs, err = agents.Registrations(ctx, db, ann, clock.Now())
	require.NoError(t, err)
	require.Len(t, regs, 2, "a second sipp run is a second contact (another port)")
	require.True(t, regs[0].ExpiresAt.Equal(clock.Now().Add(time.Hour)), "a day is shortened to the 1 hour maximum: %v", regs[0].ExpiresAt)

	r = runSipp(t, "phone_unregister.xml", addr, phone...)
	require.Zero(t, r.code, r.output)
	regs, err = agents.Registrations(ctx, db, ann, clock.Now())
	require.NoError(t, err)
	require.Empty(t, regs)
	require.True(t, reg.KnownSource(netip.MustParseAddr("127.0.0.1")), "until the next refresh")
	require.NoError(t, reg.Refresh(ctx))
	require.False(t, reg.KnownSource(netip.MustParseAddr("127.0.0.1")), "an unregistered phone's address is no longer known")
}

// Wrong passwords are challenged again, then the user is throttled: even the
// right password gets 403 without being checked, until the failure window
// has passed. Users without a SIP password, or disabled, get 403.
func TestPhoneWithWrongPasswordIsThrottledAgainstSipp(t *testing.T) {
	sipptest.Need(t)
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	ann := addAgent(t, db, "ann", false)
	require.NoError(t, agents.SetSIPPassword(ctx, db, agents.SIPPassword{Agent: ann, Password: "right-secret"}))
	clock := newTestClock()
	_, addr := startRegistrar(t, db, RegistrarConfig{Node: "n", Now: clock.Now, MaxFailures: 3, FailureWindow: 10 * time.Minute})

	r := runSipp(t, "phone_register_wrong.xml", addr, "-s", "ann", "-au", "ann", "-ap", "wrong-secret")
	require.Zero(t, r.code, "three 401s, then 403\n%s", r.output)
	r = runSipp(t, "phone_register_throttled.xml", addr, "-s", "ann", "-au", "ann", "-ap", "right-secret")
	require.Zero(t, r.code, "the source is throttled: 403 without a challenge\n%s", r.output)
	r = runSipp(t, "phone_register_forbidden.xml", addr, "-i", "127.0.0.2", "-s", "ann", "-au", "ann", "-ap", "right-secret")
	require.Zero(t, r.code, "from another address the user is still throttled: 403 even with the right password\n%s", r.output)
	regs, err := agents.Registrations(ctx, db, ann, clock.Now())
	require.NoError(t, err)
	require.Empty(t, regs)

	clock.Advance(11 * time.Minute)
	r = runSipp(t, "phone_register.xml", addr, "-s", "ann", "-au", "ann", "-ap", "right-secret", "-key", "expires", "300")
	require.Zero(t, r.code, "after the window the right password registers again\n%s", r.output)

	// Fresh registrar (no counted failures) for the 403 cases.
	bob := addAgent(t, db, "bob", false)
	require.NoError(t, agents.SetPhoneURI(ctx, db, bob, "sip:bob@127.0.0.1:5999"))
	dis := addAgent(t, db, "dis", true)
	require.NoError(t, agents.SetSIPPassword(ctx, db, agents.SIPPassword{Agent: dis, Password: "right-secret"}))
	_, addr = startRegistrar(t, db, RegistrarConfig{Node: "n", Now: clock.Now, MaxFailures: 10})
	for _, user := range []string{"bob", "dis", "nobody"} {
		r = runSipp(t, "phone_register_forbidden.xml", addr, "-s", user, "-au", user, "-ap", "right-secret")
		require.Zero(t, r.code, "%s: 403\n%s", user, r.output)
	}
}

// A nonce that expired between challenge and answer gets 401 stale=true, and
// the phone's retry with the new nonce registers.
func TestPhoneWithExpiredNonceGetsStaleAgainstSipp(t *testing.T) {
	sipptest.Need(t)
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	ann := addAgent(t, db, "ann", false)
	require.NoError(t, agents.SetSIPPassword(ctx, db, agents.SIPPassword{Agent: ann, Password: "right-secret"}))
	base := newTestClock().Now()
	var calls atomic.Int64
	// The registrar reads its clock once per REGISTER: the first (the
	// challenge) happens at base, the rest after the nonce's 5 minutes.
	now := func() time.Time {
		if calls.Add(1) == 1 {
			return base
		}
		return base.Add(6 * time.Minute)
	}
	_, addr := startRegistrar(t, db, RegistrarConfig{Node: "n", Now: now, NonceTTL: 5 * time.Minute})
	r := runSipp(t, "phone_register_stale.xml", addr, "-s", "ann", "-au", "ann", "-ap", "right-secret")
	require.Zero(t, r.code, r.output)
	regs, err := agents.Registrations(ctx, db, ann, base.Add(6*time.Minute))
	require.NoError(t, err)
	require.Len(t, regs, 1)
}
