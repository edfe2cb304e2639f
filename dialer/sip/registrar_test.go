package sip

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"os/exec"
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
	"github.com/pacer-dialer/pacer/internal/testwait"
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
type sippProc struct {
	cmd  *exec.Cmd
	out  *strings.Builder
	done chan struct{} // closed when sipp has exited; err is then set
	err  error
}

func startSipp(t *testing.T, scenario string, target netip.AddrPort, args ...string) *sippProc {
	t.Helper()
	bin := sipptest.Need(t)
	sf, err := filepath.Abs(filepath.Join("testdata", scenario))
	require.NoError(t, err)
	// -i, -p and -m default to loopback, a free port and one call; args
	// may give their own.
	opts := map[string]string{"-i": "127.0.0.1", "-p": strconv.Itoa(sipptest.FreeUDPPort(t)), "-m": "1"}
	var rest []string
	for i := 0; i < len(args); i++ {
		if _, ok := opts[args[i]]; ok && i+1 < len(args) {
			opts[args[i]] = args[i+1]
			i++
			continue
		}
		rest = append(rest, args[i])
	}
	all := []string{"-sf", sf, "-i", opts["-i"], "-p", opts["-p"], "-m", opts["-m"], "-nostdin",
		"-trace_err", "-timeout", "120s", "-timeout_error"}
	all = append(all, rest...)
	if target.IsValid() {
		all = append(all, target.String())
	}
	p := &sippProc{cmd: exec.Command(bin, all...), out: &strings.Builder{}}
	p.cmd.Dir = t.TempDir()
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	require.NoError(t, p.cmd.Start())
	p.done = make(chan struct{})
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	if !target.IsValid() {
		// A phone (UAS): wait until sipp holds its port, so that the first
		// INVITE is not sent to a closed port.
		addr := opts["-i"] + ":" + opts["-p"]
		testwait.Until(t, func() bool {
			select {
			case <-p.done:
				return true
			default:
			}
			c, err := net.ListenPacket("udp4", addr)
			if err != nil {
				return true
			}
			_ = c.Close()
			return false
		}, "sipp listens on %s", addr)
	}
	return p
}

// wait waits for sipp to exit; on failure the output has its error log.
func (p *sippProc) wait(t *testing.T) sippRun {
	t.Helper()
	<-p.done
	err := p.err
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else {
		require.NoError(t, err)
	}
	out := p.out.String()
	if code != 0 {
		logs, _ := filepath.Glob(filepath.Join(p.cmd.Dir, "*_errors.log"))
		for _, l := range logs {
			b, _ := os.ReadFile(l)
			out += "\n--- " + filepath.Base(l) + "\n" + string(b)
		}
	}
	return sippRun{code: code, output: out}
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
