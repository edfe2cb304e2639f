package sip

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"
	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/internal/sipptest"
	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/internal/testwait"
	"github.com/pacer-dialer/pacer/media"
)

// phoneTestUA is a node's SIP side for phone legs, on a loopback port of its
// own: a DialogUA sending from the served socket, and in-dialog requests
// routed by Call-ID (what the node's UA does in production).
type phoneTestUA struct {
	dua  *sipgo.DialogUA
	addr netip.AddrPort

	mu      sync.Mutex
	dialogs map[string]func(*sipmsg.Request, sipmsg.ServerTransaction)
	// acks counts the ACKs received (a phone's re-INVITE completed).
	acks atomic.Int64
}

func newPhoneTestUA(t *testing.T, reg *Registrar) *phoneTestUA {
	t.Helper()
	u := &phoneTestUA{dialogs: map[string]func(*sipmsg.Request, sipmsg.ServerTransaction){}}
	dispatch := func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		if req.IsAck() {
			u.acks.Add(1)
		}
		u.mu.Lock()
		h := u.dialogs[req.CallID().Value()]
		u.mu.Unlock()
		if h == nil {
			if !req.IsAck() {
				_ = tx.Respond(sipmsg.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
			}
			return
		}
		h(req, tx)
	}
	ua, addr := sipServer(t, func(srv *sipgo.Server) {
		for _, m := range []sipmsg.RequestMethod{sipmsg.INVITE, sipmsg.BYE, sipmsg.ACK, sipmsg.INFO} {
			srv.OnRequest(m, dispatch)
		}
		if reg != nil {
			srv.OnRegister(reg.HandleRegister)
		}
	})
	u.addr = addr
	cli, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientPort(int(addr.Port())),
		sipgo.WithClientConnectionAddr(addr.String()))
	require.NoError(t, err)
	u.dua = &sipgo.DialogUA{Client: cli, ContactHDR: sipmsg.ContactHeader{
		Address: sipmsg.Uri{Scheme: "sip", User: "pacer", Host: "127.0.0.1", Port: int(addr.Port())}}}
	return u
}

func (u *phoneTestUA) HandleDialog(callID string, h DialogHandler) func() {
	u.mu.Lock()
	u.dialogs[callID] = h
	u.mu.Unlock()
	return func() {
		u.mu.Lock()
		delete(u.dialogs, callID)
		u.mu.Unlock()
	}
}

// phoneEvents collects a Phones' events for one test.
type phoneEvents struct {
	mu  sync.Mutex
	evs []PhoneEvent
}

func (e *phoneEvents) add(ev PhoneEvent) {
	e.mu.Lock()
	e.evs = append(e.evs, ev)
	e.mu.Unlock()
}

// waitFor waits for the n-th event (counting from 1) in state st.
func (e *phoneEvents) waitFor(t *testing.T, st PhoneState, n int) PhoneEvent {
	t.Helper()
	var found PhoneEvent
	testwait.Until(t, func() bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		seen := 0
		for _, ev := range e.evs {
			if ev.State == st {
				if seen++; seen == n {
					found = ev
					return true
				}
			}
		}
		return false
	}, "phone event %v #%d", st, n)
	return found
}

// customer is the far end of a customer leg: a UDP socket that sends
// PCMU packets and counts the ones that come back.
type customer struct {
	conn *net.UDPConn
	got  atomic.Int64
	ssrc atomic.Uint32
}

func newCustomer(t *testing.T) *customer {
	t.Helper()
	c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	require.NoError(t, err)
	cu := &customer{conn: c}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			var p rtp.Packet
			if p.Unmarshal(buf[:n]) == nil && p.PayloadType == 0 {
				cu.ssrc.Store(p.SSRC)
				cu.got.Add(1)
			}
		}
	}()
	t.Cleanup(func() { _ = c.Close(); <-done })
	return cu
}

func (c *customer) addr() netip.AddrPort { return netip.MustParseAddrPort(c.conn.LocalAddr().String()) }

// send sends n 20 ms PCMU packets to dst.
func (c *customer) send(t *testing.T, dst netip.AddrPort, n int, seq0 uint16) {
	t.Helper()
	payload := make([]byte, 160)
	for i := range payload {
		payload[i] = 0xff
	}
	for i := range n {
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: seq0 + uint16(i),
			Timestamp: uint32(i) * 160, SSRC: 0x5eed}, Payload: payload}
		b, err := p.Marshal()
		require.NoError(t, err)
		_, err = c.conn.WriteToUDPAddrPort(b, dst)
		require.NoError(t, err)
	}
}

// customerLeg is a media leg talking to cu, as a carrier's call would be.
func customerLeg(t *testing.T, ports *media.Ports, cu *customer) *media.Leg {
	t.Helper()
	l, err := ports.NewLeg(media.LegConfig{BindIP: netip.MustParseAddr("127.0.0.1")})
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	_ = l.Offer()
	answer := fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\n"+
		"a=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n", cu.addr().Port())
	require.NoError(t, l.ApplyAnswer([]byte(answer)))
	return l
}

// sendInfo sends an INFO into the phone's dialog from a socket of the
// test's own: the sipp phone hangs up when it gets one.
func sendInfo(t *testing.T, phone netip.AddrPort, callID string) {
	t.Helper()
	c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	require.NoError(t, err)
	defer c.Close()
	msg := fmt.Sprintf("INFO sip:ann@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-%d\r\nFrom: <sip:test@127.0.0.1>;tag=test\r\n"+
		"To: <sip:ann@127.0.0.1>\r\nCall-ID: %s\r\nCSeq: 7 INFO\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
		phone, c.LocalAddr(), time.Now().UnixNano(), callID)
	_, err = c.WriteToUDPAddrPort([]byte(msg), phone)
	require.NoError(t, err)
}

// phones is the part of a PhonesConfig that places legs through u.
func (u *phoneTestUA) phones() PhonesConfig {
	return PhonesConfig{DialogUA: u.dua, HandleDialog: u.HandleDialog}
}

// newTestPhones starts phone legs on loopback with cfg (its DialogUA,
// HandleDialog and timeouts), media from ports with legCfg, and collects
// their events.
func newTestPhones(t *testing.T, db agents.PhoneDB, cfg PhonesConfig, ports *media.Ports, legCfg media.LegConfig) (*Phones, *phoneEvents) {
	t.Helper()
	legCfg.BindIP = netip.MustParseAddr("127.0.0.1")
	cfg.Host, cfg.Logger = "127.0.0.1", testLogger(t)
	cfg.NewMedia = func() (*media.Leg, error) { return ports.NewLeg(legCfg) }
	ph, err := NewPhones(db, cfg)
	require.NoError(t, err)
	evs := &phoneEvents{}
	unsub := ph.Subscribe(evs.add)
	t.Cleanup(func() { ph.Stop(); unsub() })
	return ph, evs
}

// Pacer calls an agent's phone (sipp, auto-answering, echoing RTP) when the
// agent joins, with the auto-answer headers; a customer leg bridged into
// the phone leg is heard at the phone and the phone's audio reaches the
// customer; when the phone hangs up the leg is reported down, redialled and
// up again; Leave sends BYE, and a later Join calls the phone again (sipp
// sees all three calls end cleanly).
func TestPhoneLegIsCalledKeptAndRedialledAgainstSipp(t *testing.T) {
	sipptest.Need(t)
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	ann := addAgent(t, db, "ann", false)
	u := newPhoneTestUA(t, nil)
	ports := testPorts(t)

	sippPort := sipptest.FreeUDPPort(t)
	mediaPort := sipptest.FreeMediaPortBeside(t, sippPort)
	phone := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(sippPort))
	sipp := startSipp(t, "phone_autoanswer.xml", netip.AddrPort{}, "-p", strconv.Itoa(sippPort), "-mp", strconv.Itoa(mediaPort),
		"-rtp_echo", "-m", "3")
	require.NoError(t, agents.SetPhoneURI(ctx, db, ann, "sip:ann@"+phone.String()))

	ph, evs := newTestPhones(t, db, u.phones(), ports, media.LegConfig{})
	require.ErrorContains(t, ph.Join(ctx, addAgent(t, db, "bob", false)), "has no SIP phone")
	require.NoError(t, ph.Join(ctx, ann))
	up := evs.waitFor(t, PhoneUp, 1)
	require.Equal(t, PhoneUp, ph.State(ann))
	leg, ok := ph.AgentLeg(ann)
	require.True(t, ok)
	require.Equal(t, int(mediaPort), int(leg.RemoteAddr().Port()), "the phone's SDP answer was applied")

	// A customer bridged into the phone leg: what the customer says goes
	// out to the phone, which echoes it, and comes back to the customer.
	cu := newCustomer(t)
	cl := customerLeg(t, ports, cu)
	br := media.NewBridge(cl, leg)
	cu.send(t, cl.LocalAddr(), 50, 1)
	testwait.Until(t, func() bool { return cu.got.Load() >= 10 }, "the phone's audio reaches the customer")
	st := leg.Stats()
	require.NotZero(t, st.PacketsOut, "RTP was sent to the phone")
	require.NotZero(t, st.PacketsIn, "the phone's RTP reached the phone leg")
	br.Close()

	// The phone hangs up: down, then redialled and up again.
	sendInfo(t, phone, up.CallID)
	down := evs.waitFor(t, PhoneDown, 1)
	require.ErrorIs(t, down.Err, ErrPhoneHungUp)
	require.Equal(t, time.Second, down.Retry)
	up2 := evs.waitFor(t, PhoneUp, 2)
	require.NotEqual(t, up.CallID, up2.CallID, "a new call")
	leg2, ok := ph.AgentLeg(ann)
	require.True(t, ok)
	require.NotSame(t, leg, leg2)

	// Hangup lets go of the leg at once: a Join straight after (the agent
	// moving to another campaign) calls the phone afresh while the old leg
	// is still hanging up, and the old one cannot take the new one down.
	gone := ph.Hangup(ann)
	require.Equal(t, PhoneOff, ph.State(ann))
	_, ok = ph.AgentLeg(ann)
	require.False(t, ok)
	require.NoError(t, ph.Join(ctx, ann))
	select {
	case <-gone:
	case <-testwait.Expired(t):
		t.Fatal("the old leg never finished hanging up")
	}
	evs.waitFor(t, PhoneOff, 1)
	evs.waitFor(t, PhoneUp, 3)
	_, ok = ph.AgentLeg(ann)
	require.True(t, ok, "the new leg is up")
	ph.Leave(ann)
	r := sipp.wait(t)
	require.Zero(t, r.code, "sipp: three calls answered and ended cleanly (the last two by our BYE)\n%s", r.output)
}

// A phone that registered from behind NAT (its Contact a private address)
// is called where its REGISTER came from; its hold (re-INVITE sendonly) is
// answered recvonly; Leave hangs up.
func TestRegisteredPhoneIsCalledAtItsSourceAgainstSipp(t *testing.T) {
	sipptest.Need(t)
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	ann := addAgent(t, db, "ann", false)
	require.NoError(t, agents.SetSIPPassword(ctx, db, agents.SIPPassword{Agent: ann, Password: "right-secret"}))
	reg, err := NewRegistrar(db, RegistrarConfig{Node: "n", Logger: testLogger(t)})
	require.NoError(t, err)
	u := newPhoneTestUA(t, reg)
	ports := testPorts(t)

	sippPort := strconv.Itoa(sipptest.FreeUDPPort(t))
	r := runSipp(t, "phone_register_nat.xml", u.addr, "-p", sippPort, "-s", "ann", "-au", "ann", "-ap", "right-secret",
		"-key", "expires", "300")
	require.Zero(t, r.code, r.output)
	c, err := agents.PhoneContact(ctx, db, ann, time.Now())
	require.NoError(t, err)
	require.Equal(t, "sip:ann@192.0.2.10:5060", c.URI)
	require.Equal(t, "127.0.0.1:"+sippPort, c.Source.String())

	// The same phone (port) now answers calls.
	sipp := startSipp(t, "phone_hold.xml", netip.AddrPort{}, "-p", sippPort)
	ph, evs := newTestPhones(t, db, u.phones(), ports, media.LegConfig{})
	require.NoError(t, ph.Join(ctx, ann))
	evs.waitFor(t, PhoneUp, 1)
	testwait.Until(t, func() bool { return u.acks.Load() == 1 }, "the phone's hold re-INVITE is answered and ACKed")
	leg, ok := ph.AgentLeg(ann)
	require.True(t, ok)
	require.Equal(t, media.SendOnly, leg.Direction(), "the phone holds")
	ph.Leave(ann)
	r = sipp.wait(t)
	require.Zero(t, r.code, "sipp: called at its source, hold answered recvonly, hung up by our BYE\n%s", r.output)
}

// A phone that answers but sends no RTP is hung up by the media timeout,
// reported down with why, and redialled.
func TestSilentPhoneLegTimesOutAndIsRedialledAgainstSipp(t *testing.T) {
	sipptest.Need(t)
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	ann := addAgent(t, db, "ann", false)
	u := newPhoneTestUA(t, nil)
	ports := testPorts(t)
	sippPort := sipptest.FreeUDPPort(t)
	sipp := startSipp(t, "phone_silent.xml", netip.AddrPort{}, "-p", strconv.Itoa(sippPort),
		"-m", "2")
	require.NoError(t, agents.SetPhoneURI(ctx, db, ann, fmt.Sprintf("sip:ann@127.0.0.1:%d", sippPort)))

	ph, evs := newTestPhones(t, db, u.phones(), ports, media.LegConfig{FirstPacketTimeout: 300 * time.Millisecond})
	require.NoError(t, ph.Join(ctx, ann))
	down := evs.waitFor(t, PhoneDown, 1)
	require.ErrorIs(t, down.Err, media.ErrMediaTimeout)
	down = evs.waitFor(t, PhoneDown, 2)
	require.ErrorIs(t, down.Err, media.ErrMediaTimeout)
	require.Equal(t, 2*time.Second, down.Retry, "back-off doubles")
	ph.Leave(ann)
	r := sipp.wait(t)
	require.Zero(t, r.code, "sipp: two calls, each ended by our BYE\n%s", r.output)
}

// Wired as in production, on the node's UA: a phone registers through the
// UA's REGISTER handler, its address becomes a known INVITE source, and its
// leg is placed from the UA's sockets with in-dialog requests (the hold
// re-INVITE, ACK) routed by the UA.
func TestPhonesOnTheNodeUAAgainstSipp(t *testing.T) {
	sipptest.Need(t)
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	ann := addAgent(t, db, "ann", false)
	require.NoError(t, agents.SetSIPPassword(ctx, db, agents.SIPPassword{Agent: ann, Password: "right-secret"}))
	reg, err := NewRegistrar(db, RegistrarConfig{Node: "n", Logger: testLogger(t)})
	require.NoError(t, err)
	require.NoError(t, reg.Start(ctx))
	t.Cleanup(reg.Stop)
	ua := startUA(t, Config{KnownSource: reg.KnownSource})
	ua.SetRegisterHandler(reg.HandleRegister)
	uaAddr := netip.MustParseAddrPort(ua.Contact().Address.Host + ":" + strconv.Itoa(ua.Contact().Address.Port))

	sippPort := strconv.Itoa(sipptest.FreeUDPPort(t))
	r := runSipp(t, "phone_register_nat.xml", uaAddr, "-p", sippPort, "-s", "ann", "-au", "ann", "-ap", "right-secret",
		"-key", "expires", "300")
	require.Zero(t, r.code, r.output)
	require.True(t, reg.KnownSource(netip.MustParseAddr("127.0.0.1")))

	ports := testPorts(t)
	sipp := startSipp(t, "phone_hold.xml", netip.AddrPort{}, "-p", sippPort)
	// The UA routes the dialog's requests; the test only counts the ACKs
	// on their way (the hold is complete when its ACK arrived).
	var acks atomic.Int64
	handle := func(callID string, h DialogHandler) func() {
		return ua.HandleDialog(callID, func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
			if req.IsAck() {
				acks.Add(1)
			}
			h(req, tx)
		})
	}
	ph, evs := newTestPhones(t, db, PhonesConfig{DialogUA: ua.DialogUA(), HandleDialog: handle}, ports, media.LegConfig{})
	require.NoError(t, ph.Join(ctx, ann))
	evs.waitFor(t, PhoneUp, 1)
	testwait.Until(t, func() bool { return acks.Load() == 1 }, "the phone's hold re-INVITE is answered and ACKed through the UA")
	leg, ok := ph.AgentLeg(ann)
	require.True(t, ok)
	require.Equal(t, media.SendOnly, leg.Direction())
	ph.Leave(ann)
	r = sipp.wait(t)
	require.Zero(t, r.code, "sipp: called through the UA at its source, hold answered recvonly, BYE\n%s", r.output)
}

// A phone that rings but does not answer is cancelled after the answer
// timeout, reported down with why, and redialled.
func TestUnansweredPhoneIsCancelledAndRedialledAgainstSipp(t *testing.T) {
	sipptest.Need(t)
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	ann := addAgent(t, db, "ann", false)
	u := newPhoneTestUA(t, nil)
	ports := testPorts(t)
	sippPort := sipptest.FreeUDPPort(t)
	sipp := startSipp(t, "phone_noanswer.xml", netip.AddrPort{}, "-p", strconv.Itoa(sippPort), "-m", "2")
	require.NoError(t, agents.SetPhoneURI(ctx, db, ann, fmt.Sprintf("sip:ann@127.0.0.1:%d", sippPort)))

	cfg := u.phones()
	cfg.AnswerTimeout = 300 * time.Millisecond
	ph, evs := newTestPhones(t, db, cfg, ports, media.LegConfig{})
	require.NoError(t, ph.Join(ctx, ann))
	down := evs.waitFor(t, PhoneDown, 1)
	require.ErrorContains(t, down.Err, "did not answer")
	down = evs.waitFor(t, PhoneDown, 2)
	require.ErrorContains(t, down.Err, "did not answer", "redialled, and again not answered")
	_, ok := ph.AgentLeg(ann)
	require.False(t, ok, "no leg to bridge into while the phone is down")
	ph.Leave(ann)
	r := sipp.wait(t)
	require.Zero(t, r.code, "sipp: two calls rang and were cancelled\n%s", r.output)
}
