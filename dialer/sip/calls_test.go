package sip

import (
	"context"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/internal/sipptest"
	"github.com/pacer-dialer/pacer/internal/testwait"
)

// An answered call is reported once, stays up, and our Hangup sends BYE
// (sipp's scenario fails unless the BYE arrives).
func TestSIPAnswerThenWeHangUp(t *testing.T) {
	t.Parallel()
	u := startUA(t, Config{})
	s := uas(t, "uas_answer.xml", 1)
	tr, rec := newTrunk(t, u, TrunkOptions{}, trunkTo("carrier", s))
	dial(t, tr, 7)
	rec.waitFor(t, 7, dialer.TrunkAnsweredHuman)
	require.Equal(t, 1, tr.Channels("carrier"), "the answered dialog holds a channel")
	require.NoError(t, tr.Hangup(context.Background(), 7))
	sippPassed(t, s)
	testwait.Until(t, func() bool { return tr.Channels("carrier") == 0 }, "channel released after BYE")
	require.Equal(t, []dialer.TrunkEventKind{dialer.TrunkAnsweredHuman}, withoutRinging(rec.kinds(7)),
		"our own hangup is not reported back")
}

// The carrier's BYE is answered 200 and reported as the customer hanging up,
// with the Q.850 cause of its Reason header.
func TestSIPFarEndHangsUp(t *testing.T) {
	t.Parallel()
	u := startUA(t, Config{})
	s := uas(t, scenario(t, "uas_bye.xml", "PAUSE", "200"), 1)
	tr, rec := newTrunk(t, u, TrunkOptions{}, trunkTo("carrier", s))
	dial(t, tr, 3)
	rec.waitFor(t, 3, dialer.TrunkAnsweredHuman)
	ev := rec.waitFor(t, 3, dialer.TrunkHungUp)
	require.Equal(t, dialer.CauseNormalClearing, ev.Cause)
	sippPassed(t, s)
	testwait.Until(t, func() bool { return tr.Channels("carrier") == 0 }, "channel released")
}

// Ring timeout: we CANCEL, the carrier answers 487, the call is a no-answer
// with CauseRingTimeout, and the channel stays counted until the 487.
func TestSIPRingTimeoutCancels(t *testing.T) {
	t.Parallel()
	u := startUA(t, Config{})
	s := uas(t, "uas_noanswer.xml", 1)
	tr, rec := newTrunk(t, u, TrunkOptions{}, trunkTo("carrier", s))
	require.NoError(t, tr.Dial(context.Background(), dialer.DialRequest{Call: 9, Number: "+15551230000",
		CallerID: "+15557654321", RingTimeout: 300 * time.Millisecond}))
	ev := rec.waitFor(t, 9, dialer.TrunkNoAnswer)
	require.Equal(t, dialer.CauseRingTimeout, ev.Cause)
	// (Ringing may or may not come first: the timeout can pass before the
	// 180 on a loaded machine; sipgo then CANCELs on the first provisional.)
	require.NotContains(t, rec.kinds(9), dialer.TrunkAnsweredHuman)
	sippPassed(t, s) // CANCEL, 487 and our ACK of it, as the scenario says
	testwait.Until(t, func() bool { return tr.Channels("carrier") == 0 }, "channel released")
}

// The engine's Hangup while the call rings sends CANCEL and reports nothing
// (the engine ended the call itself).
func TestSIPHangupWhileRingingCancels(t *testing.T) {
	t.Parallel()
	u := startUA(t, Config{})
	s := uas(t, "uas_noanswer.xml", 1)
	tr, rec := newTrunk(t, u, TrunkOptions{}, trunkTo("carrier", s))
	dial(t, tr, 4)
	rec.waitFor(t, 4, dialer.TrunkRinging)
	require.NoError(t, tr.Hangup(context.Background(), 4))
	sippPassed(t, s)
	testwait.Until(t, func() bool { return tr.Channels("carrier") == 0 }, "channel released after the 487")
	require.Equal(t, []dialer.TrunkEventKind{dialer.TrunkRinging}, rec.kinds(4))
}

// The 200-after-CANCEL race: the carrier answers our CANCEL and then the
// INVITE with 200 instead of 487. We ACK it (sipp's scenario requires the
// ACK) and report an answer; the call is live until hung up.
func TestSIPLate200AfterCancelIsAnswered(t *testing.T) {
	t.Parallel()
	u := startUA(t, Config{})
	s := uas(t, "uas_late200.xml", 1)
	tr, rec := newTrunk(t, u, TrunkOptions{}, trunkTo("carrier", s))
	require.NoError(t, tr.Dial(context.Background(), dialer.DialRequest{Call: 5, Number: "+15551230000",
		RingTimeout: 300 * time.Millisecond}))
	rec.waitFor(t, 5, dialer.TrunkAnsweredHuman)
	require.NotContains(t, rec.kinds(5), dialer.TrunkNoAnswer)
	require.Equal(t, 1, tr.Channels("carrier"))
	require.NoError(t, tr.Hangup(context.Background(), 5))
	sippPassed(t, s) // ACK of the late 200, then our BYE
}

// After the engine's Hangup the late 200 is ACKed and at once hung up.
func TestSIPLate200AfterHangupIsAckedAndByed(t *testing.T) {
	t.Parallel()
	u := startUA(t, Config{})
	s := uas(t, "uas_late200.xml", 1)
	tr, rec := newTrunk(t, u, TrunkOptions{}, trunkTo("carrier", s))
	dial(t, tr, 6)
	rec.waitFor(t, 6, dialer.TrunkRinging)
	require.NoError(t, tr.Hangup(context.Background(), 6))
	sippPassed(t, s) // ACK and BYE
	require.Equal(t, []dialer.TrunkEventKind{dialer.TrunkRinging}, rec.kinds(6))
}

// Twenty provisional responses (sipgo's WaitAnswer alone gives up after
// ten) still end in an answered call, reported ringing once.
func TestSIPTwentyProvisionalsStillConnect(t *testing.T) {
	t.Parallel()
	u := startUA(t, Config{})
	s := uas(t, "uas_provisionals.xml", 1)
	tr, rec := newTrunk(t, u, TrunkOptions{}, trunkTo("carrier", s))
	dial(t, tr, 8)
	rec.waitFor(t, 8, dialer.TrunkAnsweredHuman)
	require.Equal(t, []dialer.TrunkEventKind{dialer.TrunkRinging, dialer.TrunkAnsweredHuman}, rec.kinds(8),
		"ringing reported once whatever the number of provisionals")
	require.NoError(t, tr.Hangup(context.Background(), 8))
	sippPassed(t, s)
}

// Digest challenges, 401 and 407, are answered with the trunk's
// credentials; sipp checks the digest and answers 200 only if it is right.
func TestSIPDigestAuth(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"uas_auth401.xml", "uas_auth407.xml"} {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			u := startUA(t, Config{})
			s := uas(t, file, 1)
			c := trunkTo("carrier", s)
			c.Username, c.Password = "pacer-test", "s3cret"
			tr, rec := newTrunk(t, u, TrunkOptions{}, c)
			dial(t, tr, 1)
			rec.waitFor(t, 1, dialer.TrunkAnsweredHuman)
			require.NoError(t, tr.Hangup(context.Background(), 1))
			sippPassed(t, s)
		})
	}
}

// A wrong password is refused by the carrier (403) and reported as failed.
func TestSIPDigestAuthWrongPassword(t *testing.T) {
	t.Parallel()
	u := startUA(t, Config{})
	s := uas(t, "uas_auth401.xml", 1)
	c := trunkTo("carrier", s)
	c.Username, c.Password = "pacer-test", "wrong"
	tr, rec := newTrunk(t, u, TrunkOptions{}, c)
	dial(t, tr, 1)
	ev := rec.waitFor(t, 1, dialer.TrunkFailed)
	require.EqualValues(t, 403, ev.Cause.SIP)
	sippPassed(t, s)
}

// 503 fails over to the next trunk, which answers; the congested trunk is
// then skipped while it backs off.
func TestSIP503FailsOverToTheNextTrunk(t *testing.T) {
	t.Parallel()
	u := startUA(t, Config{})
	first := uas(t, scenario(t, "uas_final.xml", "CODE", "503", "Q850", "34"), 1)
	second := uas(t, "uas_answer.xml", 2)
	tr, rec := newTrunk(t, u, TrunkOptions{}, trunkTo("first", first), trunkTo("second", second))
	dial(t, tr, 1)
	rec.waitFor(t, 1, dialer.TrunkAnsweredHuman)
	sippPassed(t, first)
	// The trunk that answered 503 backs off; the next call is answered by
	// "second" whether it goes there at once (back-off still running) or
	// after "first", gone, gave no response.
	require.NoError(t, tr.Hangup(context.Background(), 1))
	tr.route.Load().trunks[0].mu.Lock()
	require.Equal(t, minBackoff, tr.route.Load().trunks[0].backoff, "the trunk that answered 503 backs off")
	tr.route.Load().trunks[0].mu.Unlock()
	dial(t, tr, 2)
	rec.waitFor(t, 2, dialer.TrunkAnsweredHuman)
	require.NoError(t, tr.Hangup(context.Background(), 2))
	sippPassed(t, second)
}

// A trunk that does not answer at all is given up after NoResponseTimeout
// and the next trunk takes the call.
func TestSIPNoResponseFailsOver(t *testing.T) {
	t.Parallel()
	u := startUA(t, Config{})
	hole, err := net.ListenPacket("udp4", "127.0.0.1:0") // reads nothing, answers nothing
	require.NoError(t, err)
	t.Cleanup(func() { hole.Close() })
	s := uas(t, "uas_answer.xml", 1)
	tr, rec := newTrunk(t, u, TrunkOptions{NoResponseTimeout: 200 * time.Millisecond},
		TrunkConfig{Name: "silent", URI: "sip:" + hole.LocalAddr().String()}, trunkTo("carrier", s))
	dial(t, tr, 1)
	rec.waitFor(t, 1, dialer.TrunkAnsweredHuman)
	require.NoError(t, tr.Hangup(context.Background(), 1))
	sippPassed(t, s)
}

// With every trunk congested the call fails at once with CauseCongestion.
func TestSIPAllTrunksCongested(t *testing.T) {
	t.Parallel()
	u := startUA(t, Config{})
	s := uas(t, scenario(t, "uas_final.xml", "CODE", "503", "Q850", "34"), 1)
	tr, rec := newTrunk(t, u, TrunkOptions{}, trunkTo("only", s))
	dial(t, tr, 1)
	ev := rec.waitFor(t, 1, dialer.TrunkFailed)
	require.Equal(t, dialer.CauseCongestion, ev.Cause)
	sippPassed(t, s)
}

// MaxChannels holds: with two dialogs up, a third call fails with
// congestion without an INVITE; after one hangs up a new call goes through.
func TestSIPChannelLimit(t *testing.T) {
	t.Parallel()
	u := startUA(t, Config{})
	s := uas(t, "uas_answer.xml", 3)
	c := trunkTo("carrier", s)
	c.MaxChannels = 2
	tr, rec := newTrunk(t, u, TrunkOptions{}, c)
	dial(t, tr, 1)
	dial(t, tr, 2)
	rec.waitFor(t, 1, dialer.TrunkAnsweredHuman)
	rec.waitFor(t, 2, dialer.TrunkAnsweredHuman)
	dial(t, tr, 3)
	ev := rec.waitFor(t, 3, dialer.TrunkFailed)
	require.Equal(t, dialer.CauseCongestion, ev.Cause)
	require.Equal(t, 2, tr.Channels("carrier"))
	require.NoError(t, tr.Hangup(context.Background(), 1))
	testwait.Until(t, func() bool { return tr.Channels("carrier") == 1 }, "channel of call 1 released")
	dial(t, tr, 4)
	rec.waitFor(t, 4, dialer.TrunkAnsweredHuman)
	require.NoError(t, tr.Hangup(context.Background(), 2))
	require.NoError(t, tr.Hangup(context.Background(), 4))
	sippPassed(t, s) // exactly three calls reached the carrier
}

// The CPS limit holds: at 0.01 calls per second (a burst of one), the
// second call finds no slot within CPSWait and fails with congestion,
// whatever the machine's load.
func TestSIPCPSLimit(t *testing.T) {
	t.Parallel()
	u := startUA(t, Config{})
	s := uas(t, "uas_answer.xml", 1)
	c := trunkTo("carrier", s)
	c.CPS = 0.01
	tr, rec := newTrunk(t, u, TrunkOptions{CPSWait: 10 * time.Millisecond}, c)
	dial(t, tr, 1)
	rec.waitFor(t, 1, dialer.TrunkAnsweredHuman)
	dial(t, tr, 2)
	ev := rec.waitFor(t, 2, dialer.TrunkFailed)
	require.Equal(t, dialer.CauseCongestion, ev.Cause)
	require.NoError(t, tr.Hangup(context.Background(), 1))
	sippPassed(t, s)
}

// Stop hangs up live calls (sipp's scenario requires our BYE), cancels
// ringing ones (the other scenario requires our CANCEL) and returns only
// when every leg has ended.
func TestSIPStopHangsUpLiveCalls(t *testing.T) {
	t.Parallel()
	u := startUA(t, Config{})
	s := uas(t, "uas_answer.xml", 1)
	ringing := uas(t, "uas_noanswer.xml", 1)
	tr, rec := newTrunk(t, u, TrunkOptions{}, trunkTo("carrier", s))
	tr2, rec2 := newTrunk(t, u, TrunkOptions{}, trunkTo("ringing", ringing))
	dial(t, tr, 1)
	dial(t, tr2, 2)
	rec.waitFor(t, 1, dialer.TrunkAnsweredHuman)
	rec2.waitFor(t, 2, dialer.TrunkRinging)
	u.Stop()
	sippPassed(t, s)
	sippPassed(t, ringing)
	require.Error(t, tr.Dial(context.Background(), dialer.DialRequest{Call: 3, Number: "+15551230000"}),
		"a stopped UA dials nothing")
	u.Stop() // idempotent
}

// A new INVITE from an address that is neither a trunk nor a known phone
// gets 403; from a known source with no inbound handler yet, 480; OPTIONS
// gets 200.
func TestSIPInboundRefusals(t *testing.T) {
	t.Parallel()
	t.Run("unknown source 403", func(t *testing.T) {
		t.Parallel()
		u := startUA(t, Config{})
		c := sipptest.Start(t, sipptest.Options{Scenario: scenario(t, "uac_invite.xml", "EXPECT", "403"), Calls: 1,
			Remote: u.udp.LocalAddr().String()})
		sippPassed(t, c)
	})
	t.Run("known source 480", func(t *testing.T) {
		t.Parallel()
		u := startUA(t, Config{KnownSource: func(a netip.Addr) bool { return a.IsLoopback() }})
		c := sipptest.Start(t, sipptest.Options{Scenario: scenario(t, "uac_invite.xml", "EXPECT", "480"), Calls: 1,
			Remote: u.udp.LocalAddr().String()})
		sippPassed(t, c)
	})
	t.Run("trunk host 480", func(t *testing.T) {
		t.Parallel()
		u := startUA(t, Config{})
		newTrunk(t, u, TrunkOptions{}, TrunkConfig{Name: "local", URI: "sip:127.0.0.1:5999"})
		c := sipptest.Start(t, sipptest.Options{Scenario: scenario(t, "uac_invite.xml", "EXPECT", "480"), Calls: 1,
			Remote: u.udp.LocalAddr().String()})
		sippPassed(t, c)
	})
	t.Run("OPTIONS 200", func(t *testing.T) {
		t.Parallel()
		u := startUA(t, Config{})
		c := sipptest.Start(t, sipptest.Options{Scenario: "testdata/uac_options.xml", Calls: 1,
			Remote: u.udp.LocalAddr().String()})
		sippPassed(t, c)
	})
}

// A customer whose side sends no RTP is hung up (BYE, which sipp's
// scenario requires) when the media timeout passes, and reported with the
// media-timeout cause.
func TestSIPMediaTimeoutHangsUp(t *testing.T) {
	t.Parallel()
	u := startUA(t, Config{Media: MediaConfig{Ports: testPorts(t), FirstPacketTimeout: 300 * time.Millisecond}})
	s := uas(t, "uas_answer.xml", 1) // signalling only: no RTP comes
	tr, rec := newTrunk(t, u, TrunkOptions{}, trunkTo("carrier", s))
	dial(t, tr, 1)
	rec.waitFor(t, 1, dialer.TrunkAnsweredHuman)
	ev := rec.waitFor(t, 1, dialer.TrunkHungUp)
	require.Equal(t, causeMediaTimeout, ev.Cause)
	sippPassed(t, s)
}

// A trunk reached over TCP (;transport=tcp): the call is placed, answered
// and hung up on one TCP connection.
func TestSIPTrunkOverTCP(t *testing.T) {
	t.Parallel()
	u := startUA(t, Config{})
	s := uas(t, "uas_answer.xml", 1, "-t", "t1")
	tr, rec := newTrunk(t, u, TrunkOptions{}, TrunkConfig{Name: "tcp", URI: "sip:" + s.Addr + ";transport=tcp"})
	dial(t, tr, 1)
	rec.waitFor(t, 1, dialer.TrunkAnsweredHuman)
	require.NoError(t, tr.Hangup(context.Background(), 1))
	sippPassed(t, s)
}

// Requests are routed: REGISTER to the registrar handler (405 while none),
// a new INVITE from a known source to the inbound handler, and a request
// inside a dialog another component owns to that component's handler by
// its Call-ID (481 for an unknown one).
func TestSIPRequestRouting(t *testing.T) {
	t.Parallel()
	request := func(t *testing.T, u *UA, method, expect, callID string) {
		t.Helper()
		c := sipptest.Start(t, sipptest.Options{Scenario: scenario(t, "uac_request.xml", "METHOD", method, "EXPECT", expect),
			Calls: 1, Remote: u.udp.LocalAddr().String(), Args: []string{"-cid_str", callID}})
		sippPassed(t, c)
	}
	t.Run("REGISTER without registrar 405", func(t *testing.T) {
		t.Parallel()
		request(t, startUA(t, Config{}), "REGISTER", "405", "reg-%u")
	})
	t.Run("REGISTER to the registrar", func(t *testing.T) {
		t.Parallel()
		u := startUA(t, Config{})
		var got atomic.Int32
		u.SetRegisterHandler(func(req *sip.Request, tx sip.ServerTransaction) {
			got.Add(1)
			respond(tx, req, sip.StatusUnauthorized, "Unauthorized")
		})
		request(t, u, "REGISTER", "401", "reg-%u")
		require.EqualValues(t, 1, got.Load())
	})
	t.Run("inbound INVITE to the handler", func(t *testing.T) {
		t.Parallel()
		u := startUA(t, Config{KnownSource: func(a netip.Addr) bool { return a.IsLoopback() }})
		u.SetInboundHandler(func(req *sip.Request, tx sip.ServerTransaction) {
			respond(tx, req, sip.StatusBusyHere, "Busy Here")
		})
		c := sipptest.Start(t, sipptest.Options{Scenario: scenario(t, "uac_invite.xml", "EXPECT", "486"), Calls: 1,
			Remote: u.udp.LocalAddr().String()})
		sippPassed(t, c)
	})
	t.Run("in-dialog request by Call-ID", func(t *testing.T) {
		t.Parallel()
		u := startUA(t, Config{})
		var got atomic.Int32
		release := u.HandleDialog("phone-leg-1", func(req *sip.Request, tx sip.ServerTransaction) {
			got.Add(1)
			respond(tx, req, sip.StatusOK, "OK")
		})
		request(t, u, "BYE", "200", "phone-leg-%u")
		require.EqualValues(t, 1, got.Load())
		release()
		request(t, u, "BYE", "481", "phone-leg-%u")
		require.EqualValues(t, 1, got.Load())
	})
}

// The media timeout runs from the answer, not from the INVITE: a call that
// rings longer than the first-packet timeout and is then answered with
// audio stays up and receives it.
func TestSIPMediaTimeoutStartsAtAnswer(t *testing.T) {
	t.Parallel()
	u := startUA(t, Config{Media: MediaConfig{Ports: testPorts(t), FirstPacketTimeout: 3 * time.Second}})
	s := uas(t, scenario(t, "uas_slow_answer.xml", "PAUSE", "4000"), 1)
	tr, rec := newTrunk(t, u, TrunkOptions{}, trunkTo("carrier", s))
	dial(t, tr, 1)
	rec.waitFor(t, 1, dialer.TrunkAnsweredHuman)
	l, _ := tr.leg(1)
	testwait.Until(t, func() bool { return l.media.Stats().PacketsIn >= 10 }, "the carrier's audio arrives")
	require.NotContains(t, rec.kinds(1), dialer.TrunkHungUp)
	require.NoError(t, tr.Hangup(context.Background(), 1))
	<-s.Done()
}

// PublicAddr goes into our Contact and Via and the media public IP into the
// SDP's c= line (what a carrier behind NAT must reach); sipp checks the
// INVITE, then refuses it.
func TestSIPPublicAddresses(t *testing.T) {
	t.Parallel()
	u := startUA(t, Config{PublicAddr: "192.0.2.10:5999",
		Media: MediaConfig{Ports: testPorts(t), BindIP: netip.MustParseAddr("127.0.0.1"), PublicIP: netip.MustParseAddr("198.51.100.7")}})
	s := uas(t, scenario(t, "uas_check_public.xml", "CODE", "486", "Q850", "17"), 1)
	tr, rec := newTrunk(t, u, TrunkOptions{}, trunkTo("carrier", s))
	dial(t, tr, 1)
	rec.waitFor(t, 1, dialer.TrunkBusy)
	sippPassed(t, s)
}

// A cancelled call holds its channel until the carrier's 487: with one
// channel, a call placed while the 487 is outstanding finds the trunk full.
func TestSIPChannelHeldUntil487(t *testing.T) {
	t.Parallel()
	u := startUA(t, Config{})
	s := uas(t, scenario(t, "uas_slow487.xml", "PAUSE", "2000"), 1)
	c := trunkTo("carrier", s)
	c.MaxChannels = 1
	tr, rec := newTrunk(t, u, TrunkOptions{}, c)
	dial(t, tr, 1)
	rec.waitFor(t, 1, dialer.TrunkRinging)
	require.NoError(t, tr.Hangup(context.Background(), 1)) // CANCEL; the 487 comes 2 s later
	dial(t, tr, 2)
	ev := rec.waitFor(t, 2, dialer.TrunkFailed)
	require.Equal(t, dialer.CauseCongestion, ev.Cause)
	sippPassed(t, s)
	testwait.Until(t, func() bool { return tr.Channels("carrier") == 0 }, "released after the 487")
}

// The race with no provisional response at all: our ring timeout passes
// before the carrier said anything, so there is nothing to CANCEL yet and
// we wait for its first response, which is a 200: it is ACKed (sipp
// requires it) and reported as an answer.
func TestSIPBare200AfterRingTimeoutIsAnswered(t *testing.T) {
	t.Parallel()
	u := startUA(t, Config{})
	s := uas(t, scenario(t, "uas_bare200.xml", "PAUSE", "300"), 1)
	tr, rec := newTrunk(t, u, TrunkOptions{}, trunkTo("carrier", s))
	require.NoError(t, tr.Dial(context.Background(), dialer.DialRequest{Call: 1, Number: "+15551230000", RingTimeout: 50 * time.Millisecond}))
	rec.waitFor(t, 1, dialer.TrunkAnsweredHuman)
	require.NoError(t, tr.Hangup(context.Background(), 1))
	sippPassed(t, s)
}

// A carrier that keeps answering 401 (wrong credentials) gets two
// authenticated retries, then the call fails with its 401: no endless loop.
func TestSIPDigestRefusedFails(t *testing.T) {
	t.Parallel()
	u := startUA(t, Config{})
	s := uas(t, "uas_always401.xml", 1)
	c := trunkTo("carrier", s)
	c.Username, c.Password = "pacer-test", "wrong"
	tr, rec := newTrunk(t, u, TrunkOptions{}, c)
	dial(t, tr, 1)
	ev := rec.waitFor(t, 1, dialer.TrunkFailed)
	require.EqualValues(t, 401, ev.Cause.SIP)
	sippPassed(t, s)
}

// A trunk's channel limit is the node's: two campaigns dialling through the
// same trunk share its channels.
func TestSIPChannelLimitSharedByCampaigns(t *testing.T) {
	t.Parallel()
	u := startUA(t, Config{})
	s := uas(t, "uas_answer.xml", 1)
	c := trunkTo("carrier", s)
	c.MaxChannels = 1
	a, recA := newTrunk(t, u, TrunkOptions{}, c)
	b, recB := newTrunk(t, u, TrunkOptions{}, c)
	dial(t, a, 1)
	recA.waitFor(t, 1, dialer.TrunkAnsweredHuman)
	dial(t, b, 1)
	ev := recB.waitFor(t, 1, dialer.TrunkFailed)
	require.Equal(t, dialer.CauseCongestion, ev.Cause, "the other campaign's call holds the only channel")
	require.Equal(t, 1, b.Channels("carrier"))
	require.NoError(t, a.Hangup(context.Background(), 1))
	sippPassed(t, s)
}

// A manager changes the campaign's trunks mid-shift: the call under way
// stays on its trunk, the next one goes to the new trunk.
func TestSIPSetTrunksAppliesToTheNextCall(t *testing.T) {
	t.Parallel()
	u := startUA(t, Config{})
	old := uas(t, "uas_answer.xml", 1)
	next := uas(t, "uas_answer.xml", 1)
	tr, rec := newTrunk(t, u, TrunkOptions{}, trunkTo("old", old))
	dial(t, tr, 1)
	rec.waitFor(t, 1, dialer.TrunkAnsweredHuman)
	require.NoError(t, tr.SetTrunks([]TrunkConfig{trunkTo("next", next)}))
	require.Error(t, tr.SetTrunks(nil), "a SIP campaign keeps at least one trunk")
	dial(t, tr, 2)
	rec.waitFor(t, 2, dialer.TrunkAnsweredHuman)
	require.Equal(t, 1, tr.Channels("next"))
	require.Equal(t, 1, u.trunkState(trunkTo("old", old), time.Now()).channels(), "the call under way stays on its trunk")
	require.NoError(t, tr.Hangup(context.Background(), 1))
	require.NoError(t, tr.Hangup(context.Background(), 2))
	sippPassed(t, old)
	sippPassed(t, next)
}
