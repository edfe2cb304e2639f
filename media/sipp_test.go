package media

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"testing"
	"time"

	"github.com/pacer-dialer/pacer/internal/sipptest"
	"github.com/pacer-dialer/pacer/internal/testwait"
	"github.com/pion/rtp"
	"github.com/stretchr/testify/require"
)

// sipRequest sends req to sipp until a response with wantCode arrives
// (UDP: sipp may not be listening yet, and SIP retransmits anyway) and
// returns it.
func sipRequest(t *testing.T, c *net.UDPConn, to netip.AddrPort, req string, wantCode string) string {
	t.Helper()
	buf := make([]byte, 65535)
	expired := testwait.Expired(t)
	for {
		_, err := c.WriteToUDPAddrPort([]byte(req), to)
		require.NoError(t, err)
		require.NoError(t, c.SetReadDeadline(time.Now().Add(500*time.Millisecond))) // SIP's T1 retransmission
		for {
			n, _, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				break
			}
			resp := string(buf[:n])
			if regexp.MustCompile(`^SIP/2.0 ` + wantCode).MatchString(resp) {
				return resp
			}
		}
		select {
		case <-expired:
			t.Fatalf("sipp never answered %q", req[:20])
		default:
		}
	}
}

// sippCarrier is sipp playing a carrier that answers one call with the
// scenario's SDP and media; signalling is done by hand over UDP.
type sippCarrier struct {
	t     *testing.T
	sipp  *sipptest.Sipp
	sig   *net.UDPConn
	at    netip.AddrPort
	port  int
	toTag string
}

// startSippCarrier runs sipp with scenario (from testdata) and calls it
// with leg's Offer, applying its answer; it skips the test loudly when
// sipp is missing.
func startSippCarrier(t *testing.T, scenario string, leg *Leg) *sippCarrier {
	t.Helper()
	s := sipptest.Start(t, sipptest.Options{Scenario: "testdata/" + scenario, Calls: 1})
	c := &sippCarrier{t: t, sipp: s, port: s.Port, at: netip.AddrPortFrom(loopback, uint16(s.Port))}
	var err error
	c.sig, err = net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	require.NoError(t, err)
	t.Cleanup(func() { c.sig.Close() })

	offer := leg.Offer()
	resp := sipRequest(t, c.sig, c.at, c.head("INVITE", 1)+fmt.Sprintf("Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s", len(offer), offer), "200")
	c.toTag = ";tag=" + regexp.MustCompile(`(?m)^To:.*;tag=([^;\r\n]+)`).FindStringSubmatch(resp)[1]
	_, body, ok := bytes.Cut([]byte(resp), []byte("\r\n\r\n"))
	require.True(t, ok)
	require.NoError(t, leg.ApplyAnswer(body), "sipp's answer:\n%s", body)
	return c
}

func (c *sippCarrier) head(method string, cseq int) string {
	me := c.sig.LocalAddr().String()
	return fmt.Sprintf("%s sip:carrier@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-media-%s-%d\r\nMax-Forwards: 70\r\n"+
		"From: <sip:pacer@127.0.0.1>;tag=pacer1\r\nTo: <sip:carrier@127.0.0.1>%s\r\nCall-ID: media-test-%d@127.0.0.1\r\nCSeq: %d %s\r\n"+
		"Contact: <sip:pacer@%s>\r\n", method, c.at, me, method, cseq, c.toTag, c.port, cseq, method, me)
}

// ack starts the scenario's media.
func (c *sippCarrier) ack() {
	_, err := c.sig.WriteToUDPAddrPort([]byte(c.head("ACK", 1)+"Content-Length: 0\r\n\r\n"), c.at)
	require.NoError(c.t, err)
}

// bye ends the call and waits for sipp to exit cleanly.
func (c *sippCarrier) bye() {
	t := c.t
	sipRequest(t, c.sig, c.at, c.head("BYE", 2)+"Content-Length: 0\r\n\r\n", "200")
	select {
	case <-c.sipp.Done():
		require.Zero(t, c.sipp.ExitCode(), "sipp:\n%s", c.sipp.Output())
	case <-testwait.Expired(t):
		t.Fatalf("sipp did not finish")
	}
}

// A real, independent RTP sender: sipp as a carrier answers our INVITE
// (our Offer) with PCMA at 30 ms and plays its g711a.pcap capture at us;
// bridged into a PCMU phone leg, the phone gets the capture's audio
// transcoded, packet for packet, in one stream.
func TestSippCarrierPlayingG711aReachesAPCMUPhone(t *testing.T) {
	noLeaks(t)
	ports := testPorts(t)
	cust := newTestLeg(t, ports, LegConfig{})
	phone := newPeer(t)
	agent := answerPeer(t, ports, phone, []int{0}, 0, 20)
	frames := pcapUDPPayloads(t, "/usr/share/sip-tester/g711a.pcap")
	carrier := startSippCarrier(t, "sipp_carrier_g711a.xml", cust)
	require.Equal(t, Format{Codec: PCMA, PTime: 30 * time.Millisecond, DTMF: 0}, cust.Format())
	NewBridge(cust, agent)
	carrier.ack()
	testwait.Until(t, func() bool { return phone.count() >= 40 }, "the phone hears the carrier")
	carrier.bye()

	var capture [][]byte // the capture's payloads, transcoded to µ-law
	for _, f := range frames {
		var p rtp.Packet
		require.NoError(t, p.Unmarshal(f))
		x := append([]byte(nil), p.Payload...)
		Transcode(x, PCMA, PCMU)
		capture = append(capture, x)
	}
	got := phone.received()
	require.GreaterOrEqual(t, len(got), 40)
	// The phone heard a run of the capture in order (where in the capture
	// it starts is ambiguous: its first packets are all the same silence).
	matchesFrom := func(k0 int) bool {
		for i, p := range got {
			if k0+i >= len(capture) || !bytes.Equal(p.Payload, capture[k0+i]) {
				return false
			}
		}
		return true
	}
	found := false
	for k0 := range capture {
		if matchesFrom(k0) {
			found = true
			break
		}
	}
	require.True(t, found, "the phone heard the capture, transcoded to µ-law, packet for packet in order")
	for i, p := range got {
		require.EqualValues(t, PCMU, p.PayloadType)
		require.Len(t, p.Payload, 240, "30 ms packets relayed as they came")
		require.Equal(t, got[0].SSRC, p.SSRC)
		if i > 0 {
			require.Equal(t, uint16(1), p.SequenceNumber-got[i-1].SequenceNumber)
			require.Equal(t, uint32(240), p.Timestamp-got[i-1].Timestamp)
		}
	}
	st := cust.Stats()
	require.Zero(t, st.Garbage)
	t.Logf("customer leg: %+v", st)
}

// sipp's play_dtmf sends RFC 4733 events with payload type 96 (its answer
// says so, though our offer said 101): each key is reported once, and
// relayed to a phone that negotiated 101 with 101.
func TestSippCarrierKeysWithPayloadType96AreReportedOnce(t *testing.T) {
	noLeaks(t)
	ports := testPorts(t)
	cust := newTestLeg(t, ports, LegConfig{})
	phone := newPeer(t)
	agent := answerPeer(t, ports, phone, []int{0}, 101, 20)
	var heard keys
	cust.OnDTMF(heard.add)
	carrier := startSippCarrier(t, "sipp_carrier_dtmf.xml", cust)
	require.EqualValues(t, 96, cust.Format().DTMF)
	NewBridge(cust, agent)
	carrier.ack()
	testwait.Until(t, func() bool { return heard.get() == "1#9" }, "keys heard: %q", heard.get())
	carrier.bye()
	testwait.Until(t, func() bool { return phone.count() > 0 }, "events relayed")
	var events []rtp.Packet
	for _, p := range phone.received() {
		if p.PayloadType != 0 {
			events = append(events, p)
		}
	}
	require.NotEmpty(t, events)
	for _, p := range events {
		require.EqualValues(t, 101, p.PayloadType, "the phone's telephone-event type")
	}
	require.Equal(t, "1#9", heard.get(), "once per key")
}
