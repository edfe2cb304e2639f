package media

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/pacer-dialer/pacer/internal/testwait"
	"github.com/pion/rtp"
	"github.com/stretchr/testify/require"
)

// freeUDPPort is a loopback UDP port free at the moment (for sipp, which
// must be told its ports).
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	require.NoError(t, err)
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

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

// A real, independent RTP sender: sipp as a carrier answers our INVITE
// (our Offer) with PCMA at 30 ms and plays its g711a.pcap capture at us;
// bridged into a PCMU phone leg, the phone gets the capture's audio
// transcoded, packet for packet, in one stream.
func TestSippCarrierPlayingG711aReachesAPCMUPhone(t *testing.T) {
	sipp, err := exec.LookPath("sipp")
	if err != nil {
		t.Skip("SKIP: sipp is missing (install the Debian package sip-tester) — this test needs a real SIP/RTP peer")
	}
	frames := pcapUDPPayloads(t, "/usr/share/sip-tester/g711a.pcap")
	noLeaks(t)

	sipPort, mediaPort := freeUDPPort(t), freeUDPPort(t)
	var out bytes.Buffer
	cmd := exec.Command(sipp, "-sf", "testdata/sipp_carrier_g711a.xml", "-i", "127.0.0.1", "-mi", "127.0.0.1",
		"-p", strconv.Itoa(sipPort), "-mp", strconv.Itoa(mediaPort), "-m", "1", "-nostdin", "-timeout", "120", "-timeout_error")
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Dir = "."
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			_ = cmd.Process.Kill()
			<-exited
		}
	})

	ports := testPorts(t)
	cust := newTestLeg(t, ports, LegConfig{})
	phone := newPeer(t)
	agent := answerPeer(t, ports, phone, []int{0}, 0, 20)

	sig, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	require.NoError(t, err)
	defer sig.Close()
	me := sig.LocalAddr().String()
	carrier := netip.AddrPortFrom(loopback, uint16(sipPort))
	offer := cust.Offer()
	head := func(method string, cseq int, toTag string) string {
		return fmt.Sprintf("%s sip:carrier@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-media-%s-%d\r\nMax-Forwards: 70\r\n"+
			"From: <sip:pacer@127.0.0.1>;tag=pacer1\r\nTo: <sip:carrier@127.0.0.1>%s\r\nCall-ID: media-test-%d@127.0.0.1\r\nCSeq: %d %s\r\n"+
			"Contact: <sip:pacer@%s>\r\n", method, carrier, me, method, cseq, toTag, sipPort, cseq, method, me)
	}
	resp := sipRequest(t, sig, carrier, head("INVITE", 1, "")+fmt.Sprintf("Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s", len(offer), offer), "200")
	toTag := ";tag=" + regexp.MustCompile(`(?m)^To:.*;tag=([^;\r\n]+)`).FindStringSubmatch(resp)[1]
	_, body, ok := bytes.Cut([]byte(resp), []byte("\r\n\r\n"))
	require.True(t, ok)
	require.NoError(t, cust.ApplyAnswer(body), "sipp's answer:\n%s", body)
	require.Equal(t, Format{Codec: PCMA, PTime: 30 * time.Millisecond, DTMF: 0}, cust.Format())
	NewBridge(cust, agent)
	_, err = sig.WriteToUDPAddrPort([]byte(head("ACK", 1, toTag)+"Content-Length: 0\r\n\r\n"), carrier)
	require.NoError(t, err)

	testwait.Until(t, func() bool { return phone.count() >= 40 }, "the phone hears the carrier: %d packets", phone.count())
	sipRequest(t, sig, carrier, head("BYE", 2, toTag)+"Content-Length: 0\r\n\r\n", "200")
	select {
	case <-exited:
		require.NoError(t, waitErr, "sipp:\n%s", out.String())
	case <-testwait.Expired(t):
		t.Fatalf("sipp did not finish:\n%s", out.String())
	}

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
