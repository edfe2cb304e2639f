package media

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/pacer-dialer/pacer/internal/testwait"
	"github.com/pion/rtp"
	"github.com/stretchr/testify/require"
)

// answerPeer makes a leg that answered p's offer.
func answerPeer(t *testing.T, ports *Ports, p *peer, pts []int, dtmfPT, ptimeMS int) *Leg {
	t.Helper()
	l := newTestLeg(t, ports, LegConfig{})
	_, err := l.Answer(p.sdp(pts, dtmfPT, ptimeMS, "sendrecv"))
	require.NoError(t, err)
	return l
}

func tone(n int, b byte) []byte { return bytes.Repeat([]byte{b}, n) }

// Three customers in a row are bridged into one nailed-up agent leg: the
// agent's phone sees one SSRC, sequence numbers with no gap except where a
// customer skipped packets, and timestamps that only move forward (by
// whole packets); each customer hears the agent.
func TestAgentLegKeepsOneStreamAcrossThreeCustomers(t *testing.T) {
	noLeaks(t)
	ports := testPorts(t)
	phone := newPeer(t)
	agent := answerPeer(t, ports, phone, []int{0}, 101, 20)

	const perCustomer = 40
	skipped := 0
	for i := range 3 {
		carrier := newPeer(t)
		cust := answerPeer(t, ports, carrier, []int{0, 8}, 0, 20)
		br := NewBridge(cust, agent)
		before := phone.count()
		for n := range perCustomer {
			if n == 10 && i == 1 { // the carrier lost two packets upstream
				carrier.skip(2, 160)
				skipped += 2
			}
			carrier.send(cust.LocalAddr(), uint8(PCMU), tone(160, byte(0x10+i)))
		}
		testwait.Until(t, func() bool { return phone.count() == before+perCustomer },
			"customer %d: the phone got %d of %d packets", i, phone.count()-before, perCustomer)
		for range 5 {
			phone.send(agent.LocalAddr(), uint8(PCMU), tone(160, 0x77))
		}
		testwait.Until(t, func() bool { return carrier.count() == 5 }, "customer %d hears the agent", i)
		for _, p := range carrier.received() {
			require.Equal(t, tone(160, 0x77), p.Payload)
		}
		n, first := br.Relayed(cust)
		require.EqualValues(t, perCustomer, n)
		require.False(t, first.IsZero())
		n, _ = br.Relayed(agent)
		require.EqualValues(t, 5, n)
		br.Close()
		require.NoError(t, cust.Close())
		require.NoError(t, cust.Err())
	}

	got := phone.received()
	require.Len(t, got, 3*perCustomer)
	gaps := 0
	for i, p := range got {
		require.Equal(t, got[0].SSRC, p.SSRC, "packet %d: one SSRC for the leg's life", i)
		require.Equal(t, uint8(PCMU), p.PayloadType)
		require.Equal(t, tone(160, byte(0x10+i/perCustomer)), p.Payload, "packet %d comes from customer %d", i, i/perCustomer)
		if i == 0 {
			continue
		}
		dseq := p.SequenceNumber - got[i-1].SequenceNumber
		require.GreaterOrEqual(t, dseq, uint16(1), "packet %d: sequence goes forward", i)
		gaps += int(dseq - 1)
		dts := p.Timestamp - got[i-1].Timestamp
		require.Less(t, dts, uint32(1<<31), "packet %d: timestamp goes forward", i)
		require.NotZero(t, dts, "packet %d: timestamp goes forward", i)
		require.Zero(t, dts%160, "packet %d: timestamps move by whole packets", i)
		if i%perCustomer != 0 {
			require.Equal(t, uint32(160)*uint32(dseq), dts, "packet %d: within a customer the timestamp follows the customer's", i)
		} else {
			require.True(t, p.Marker, "packet %d: a new talker starts with the marker bit", i)
		}
	}
	require.Equal(t, skipped, gaps, "the only sequence gaps are the packets a customer did not send")
	st := agent.Stats()
	require.EqualValues(t, 3*perCustomer, st.PacketsOut)
	require.EqualValues(t, 15, st.PacketsIn)
	require.NoError(t, agent.Close())
}

// sipp's g711a.pcap (PCMA, 30 ms packets) played by a carrier reaches a
// PCMU phone transcoded by table, packet for packet, at the carrier's
// packet size and clock.
func TestPCMA30msFromSippCaptureRelaysToPCMUPhone(t *testing.T) {
	noLeaks(t)
	frames := pcapUDPPayloads(t, "/usr/share/sip-tester/g711a.pcap")
	var pkts []rtp.Packet
	for _, f := range frames {
		var p rtp.Packet
		require.NoError(t, p.Unmarshal(f))
		pkts = append(pkts, p)
	}
	require.NotEmpty(t, pkts)
	require.Equal(t, uint8(PCMA), pkts[0].PayloadType)
	require.Len(t, pkts[0].Payload, 240, "the capture is 30 ms packets")

	ports := testPorts(t)
	carrier, phone := newPeer(t), newPeer(t)
	cust := newTestLeg(t, ports, LegConfig{})
	ans, err := cust.Answer(carrier.sdp([]int{8}, 0, 30, "sendrecv"))
	require.NoError(t, err)
	require.Contains(t, string(ans), "RTP/AVP 8\r\n")
	require.Equal(t, Format{Codec: PCMA, PTime: 30e6}, cust.Format())
	agent := answerPeer(t, ports, phone, []int{0}, 0, 20)
	NewBridge(cust, agent)

	for i, f := range frames {
		carrier.sendRaw(cust.LocalAddr(), f)
		if i%10 == 9 { // a burst of the whole file would overflow socket buffers under -race
			testwait.Until(t, func() bool { return phone.count() == i+1 }, "phone got %d of %d", phone.count(), i+1)
		}
	}
	testwait.Until(t, func() bool { return phone.count() == len(frames) }, "phone got %d of %d: %+v %+v", phone.count(), len(frames), cust.Stats(), agent.Stats())
	got := phone.received()
	for i, p := range got {
		want := append([]byte(nil), pkts[i].Payload...)
		Transcode(want, PCMA, PCMU)
		require.Equal(t, uint8(PCMU), p.PayloadType)
		require.Equal(t, want, p.Payload, "packet %d transcoded A-law to µ-law", i)
		if i > 0 {
			require.Equal(t, pkts[i].Timestamp-pkts[i-1].Timestamp, p.Timestamp-got[i-1].Timestamp)
			require.Equal(t, pkts[i].SequenceNumber-pkts[i-1].SequenceNumber, p.SequenceNumber-got[i-1].SequenceNumber)
		}
	}
	require.EqualValues(t, len(frames), cust.Stats().PacketsIn)
	require.Zero(t, cust.Stats().Garbage)
}

// Garbage on an RTP port (not RTP, truncated, RTCP, a payload type nobody
// negotiated) is counted and dropped; the call's audio goes on.
func TestGarbageOnRTPPortIsCountedAndDropped(t *testing.T) {
	noLeaks(t)
	ports := testPorts(t)
	carrier, phone := newPeer(t), newPeer(t)
	cust := answerPeer(t, ports, carrier, []int{0}, 101, 20)
	agent := answerPeer(t, ports, phone, []int{0}, 101, 20)
	NewBridge(cust, agent)

	junk := [][]byte{
		[]byte("INVITE sip:x@y SIP/2.0\r\n\r\n"),
		{0x80},
		{0x80, 0x00, 0x00},
		{0x81, 0xc8, 0x00, 0x06, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}, // RTCP SR
		carrier.packet(99, false, tone(160, 1)),                                                         // payload type not negotiated
		{0x8f, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1},                                                         // 15 CSRCs announced, none there
		append(carrier.packet(0, false, tone(4, 1))[:12:12], 0xff),                                      // padding longer than the packet
		bytes.Repeat([]byte{0xff}, 1400),
	}
	junk[6][0] |= 0x20
	garbageSender := newPeer(t)
	for i, j := range junk {
		if i%2 == 0 {
			carrier.sendRaw(cust.LocalAddr(), j)
		} else {
			garbageSender.sendRaw(cust.LocalAddr(), j)
		}
		carrier.send(cust.LocalAddr(), uint8(PCMU), tone(160, byte(i)))
	}
	testwait.Until(t, func() bool { return cust.Stats().Garbage == uint64(len(junk)) }, "garbage counted: %+v", cust.Stats())
	testwait.Until(t, func() bool { return phone.count() == len(junk) }, "the real audio got through")
	for i, p := range phone.received() {
		require.Equal(t, tone(160, byte(i)), p.Payload)
	}
	require.EqualValues(t, len(junk), cust.Stats().PacketsIn)
	require.Nil(t, cust.Err(), "the leg is still up")
}

// Symmetric RTP: the leg keeps sending to the SDP address while another
// address sends fewer than three consecutive in-order packets (or sends
// out of order, or is interrupted by the real far end), then follows the
// new address.
func TestSymmetricRTPFollowsAMovedSourceOnlyAfterConsecutivePackets(t *testing.T) {
	noLeaks(t)
	ports := testPorts(t)
	phone, carrier, moved := newPeer(t), newPeer(t), newPeer(t)
	agent := answerPeer(t, ports, phone, []int{0}, 0, 20)
	cust := answerPeer(t, ports, carrier, []int{0}, 0, 20)
	NewBridge(cust, agent)
	moved.ssrc = carrier.ssrc
	moved.seq = carrier.seq + 1000

	fromPhone := func(n int) {
		before := carrier.count() + moved.count()
		for range n {
			phone.send(agent.LocalAddr(), 0, tone(160, 9))
		}
		testwait.Until(t, func() bool { return carrier.count()+moved.count() == before+n }, "relayed to the customer")
	}
	stray := func(n int) {
		testwait.Until(t, func() bool { return cust.Stats().Stray == uint64(n) }, "stray packets counted: %+v", cust.Stats())
	}

	moved.send(cust.LocalAddr(), 0, tone(160, 1))
	moved.send(cust.LocalAddr(), 0, tone(160, 1))
	stray(2)
	carrier.send(cust.LocalAddr(), 0, tone(160, 2)) // the real far end interrupts the run
	moved.send(cust.LocalAddr(), 0, tone(160, 1))
	moved.send(cust.LocalAddr(), 0, tone(160, 1))
	stray(4)
	moved.seq -= 10 // out of order: starts the count again
	moved.send(cust.LocalAddr(), 0, tone(160, 1))
	stray(5)
	testwait.Until(t, func() bool { return cust.Stats().PacketsIn == 1 }, "the real far end's packet counted")
	require.Equal(t, carrier.addr(), cust.RemoteAddr())
	fromPhone(3)
	require.Equal(t, 3, carrier.count())
	require.Zero(t, moved.count(), "no packet went to the address that did not lock on")

	moved.send(cust.LocalAddr(), 0, tone(160, 1))
	moved.send(cust.LocalAddr(), 0, tone(160, 1)) // third consecutive: locked
	testwait.Until(t, func() bool { return cust.Stats().PacketsIn == 2 }, "the locking packet is taken")
	require.Equal(t, moved.addr(), cust.RemoteAddr())
	require.EqualValues(t, 1, cust.Stats().Sources)
	fromPhone(3)
	require.Equal(t, 3, moved.count(), "the stream follows the moved source")
	require.Equal(t, 3, carrier.count())
	// What the phone heard: the packet from the carrier and the locking one.
	testwait.Until(t, func() bool { return phone.count() == 2 }, "phone hears the accepted packets")

	// A hold re-INVITE repeating the SDP address (behind NAT, one we cannot
	// reach) keeps the locked-on address; a new SDP address is followed at
	// once.
	_, err := cust.Answer(carrier.sdp([]int{0}, 0, 20, "sendonly"))
	require.NoError(t, err)
	require.Equal(t, moved.addr(), cust.RemoteAddr())
	_, err = cust.Answer(carrier.sdp([]int{0}, 0, 20, "sendrecv"))
	require.NoError(t, err)
	require.Equal(t, moved.addr(), cust.RemoteAddr())
	elsewhere := newPeer(t)
	_, err = cust.Answer(elsewhere.sdp([]int{0}, 0, 20, "sendrecv"))
	require.NoError(t, err)
	require.Equal(t, elsewhere.addr(), cust.RemoteAddr())
}

// A leg that hears nothing closes with ErrMediaTimeout (before the first
// packet and after the last), except while on hold, while the far end said
// it sends nothing, or before the far end's SDP is in (an outbound call
// ringing); the timeout runs again on resume.
func TestMediaTimeoutEndsSilentLegsButNotHeldOnes(t *testing.T) {
	noLeaks(t)
	ports := testPorts(t)
	cfg := LegConfig{FirstPacketTimeout: 300e6, PacketTimeout: 150e6}
	withSDP := func(dir string, hold bool) (*Leg, *peer) {
		p := newPeer(t)
		l := newTestLeg(t, ports, cfg)
		l.SetHold(hold) // before the SDP: the timeout never runs for it
		_, err := l.Answer(p.sdp([]int{0}, 0, 0, dir))
		require.NoError(t, err)
		return l, p
	}

	silent, _ := withSDP("sendrecv", false)
	ringing := newTestLeg(t, ports, cfg) // our offer is out, no answer yet
	held, _ := withSDP("sendrecv", true)
	inactive, inactivePeer := withSDP("inactive", false)
	require.Equal(t, Inactive, inactive.Direction())

	talker := newPeer(t)
	// Waits as long as it takes for the first packet, then times out.
	spoke := newTestLeg(t, ports, LegConfig{FirstPacketTimeout: time.Hour, PacketTimeout: cfg.PacketTimeout})
	_, err := spoke.Answer(talker.sdp([]int{0}, 0, 0, "sendrecv"))
	require.NoError(t, err)
	talker.send(spoke.LocalAddr(), 0, tone(160, 1))

	waitDone(t, silent)
	require.ErrorIs(t, silent.Err(), ErrMediaTimeout)
	waitDone(t, spoke)
	require.ErrorIs(t, spoke.Err(), ErrMediaTimeout)
	require.EqualValues(t, 1, spoke.Stats().PacketsIn)
	require.False(t, spoke.Stats().LastPacketIn.IsZero())

	// The held, inactive and ringing legs started with the silent one and
	// are still up: their timeout is not running, however long this took.
	require.NoError(t, held.Err())
	select {
	case <-held.Done():
		t.Fatal("a held leg timed out")
	case <-inactive.Done():
		t.Fatal("an inactive leg timed out")
	case <-ringing.Done():
		t.Fatal("a leg waiting for its answer timed out")
	default:
	}
	require.NoError(t, ringing.ApplyAnswer(newPeer(t).sdp([]int{0}, 0, 0, "sendrecv")))
	waitDone(t, ringing)
	require.ErrorIs(t, ringing.Err(), ErrMediaTimeout)
	held.SetHold(false)
	waitDone(t, held)
	require.ErrorIs(t, held.Err(), ErrMediaTimeout)
	_, err = inactive.Answer(inactivePeer.sdp([]int{0}, 0, 0, "sendrecv"))
	require.NoError(t, err)
	waitDone(t, inactive)
	require.ErrorIs(t, inactive.Err(), ErrMediaTimeout)
}

// Mute stops the agent's audio reaching the customer; unmuted, it comes
// back in the same stream with no sequence gap for the muted packets.
func TestMuteStopsAgentAudioAndResumesWithoutGap(t *testing.T) {
	noLeaks(t)
	ports := testPorts(t)
	phone, carrier := newPeer(t), newPeer(t)
	agent := answerPeer(t, ports, phone, []int{0}, 0, 20)
	cust := answerPeer(t, ports, carrier, []int{8}, 0, 20)
	br := NewBridge(cust, agent)

	say := func(n int, b byte) {
		for range n {
			phone.send(agent.LocalAddr(), 0, tone(160, b))
		}
	}
	say(5, 1)
	testwait.Until(t, func() bool { return carrier.count() == 5 }, "before mute")
	br.Mute(agent, true)
	say(7, 2)
	testwait.Until(t, func() bool { return agent.Stats().PacketsIn == 12 }, "the agent leg read the muted packets")
	br.Mute(agent, false)
	say(5, 3)
	testwait.Until(t, func() bool { return carrier.count() == 10 }, "after unmute")
	got := carrier.received()
	alaw := func(b byte) []byte { x := tone(160, b); Transcode(x, PCMU, PCMA); return x }
	for i, p := range got {
		want := byte(1)
		if i >= 5 {
			want = 3
		}
		require.Equal(t, uint8(PCMA), p.PayloadType)
		require.Equal(t, alaw(want), p.Payload, "packet %d: nothing said while muted is heard", i)
		if i > 0 {
			require.Equal(t, uint16(1), p.SequenceNumber-got[i-1].SequenceNumber)
		}
	}
}

// Closing legs and bridges stops every goroutine and frees the ports.
func TestCloseStopsEverythingAndFreesPorts(t *testing.T) {
	noLeaks(t)
	ports := testPorts(t)
	free := ports.Free()
	a := newTestLeg(t, ports, LegConfig{})
	b := newTestLeg(t, ports, LegConfig{})
	require.Equal(t, free-2, ports.Free())
	br := NewBridge(a, b)
	require.NoError(t, a.Close())
	require.NoError(t, a.Close(), "idempotent")
	require.NoError(t, a.Err(), "closed by us, not by a fault")
	br.Close()
	require.NoError(t, b.Close())
	require.Equal(t, free, ports.Free())
	require.Zero(t, a.LocalAddr().Port()%2, "RTP ports are even")
	require.Zero(t, b.LocalAddr().Port()%2, "RTP ports are even")
	require.NotEqual(t, a.LocalAddr().Port(), b.LocalAddr().Port())
}

// The relay path (read, restamp, transcode, write) allocates nothing per
// packet.
func TestRelayPathDoesNotAllocate(t *testing.T) {
	noLeaks(t)
	ports := testPorts(t)
	carrier, phone := newPeer(t), newPeer(t)
	cust := answerPeer(t, ports, carrier, []int{8}, 101, 20)
	agent := answerPeer(t, ports, phone, []int{0}, 96, 20)
	NewBridge(cust, agent)
	// The phone reads what is relayed without recording it: its reads
	// run beside the relay, and an allocation count is process-wide.
	phone.discard.Store(true)
	var rx rxState
	audio := carrier.packet(8, false, tone(160, 0x2a))
	event := carrier.packet(101, false, []byte{5, 10, 0, 160})
	seq := uint16(0)
	allocs := testing.AllocsPerRun(500, func() {
		seq++
		audio[2], audio[3] = byte(seq>>8), byte(seq)
		cust.receive(&rx, audio, carrier.addr())
		cust.receive(&rx, event, carrier.addr())
	})
	require.Zero(t, allocs)
	require.NotZero(t, agent.Stats().PacketsOut)
	testwait.Until(t, func() bool { return phone.discarded.Load() > 0 }, "the phone receives the relayed packets")
}

func waitDone(t *testing.T, l *Leg) {
	t.Helper()
	select {
	case <-l.Done():
	case <-testwait.Expired(t):
		t.Fatalf("leg %s never closed", l.LocalAddr())
	}
}

// A leg bound to the IPv4 wildcard (a server's usual setting, with
// PublicIP for the SDP) takes its peer's packets at once: peers are
// compared as plain IPv4 addresses, never as IPv4-mapped IPv6 ones.
func TestWildcardBoundLegMatchesPeersByPlainAddress(t *testing.T) {
	noLeaks(t)
	ports := testPorts(t)
	_, err := ports.NewLeg(LegConfig{BindIP: netip.IPv4Unspecified()})
	require.ErrorContains(t, err, "PublicIP", "a wildcard bind needs a public address for the SDP")
	l := newTestLeg(t, ports, LegConfig{BindIP: netip.IPv4Unspecified(), PublicIP: loopback})
	require.Equal(t, loopback, l.LocalAddr().Addr())
	carrier := newPeer(t)
	_, err = l.Answer(carrier.sdp([]int{0}, 0, 20, "sendrecv"))
	require.NoError(t, err)
	carrier.send(l.LocalAddr(), 0, tone(160, 1))
	testwait.Until(t, func() bool { st := l.Stats(); return st.PacketsIn+st.Stray == 1 }, "packet read")
	require.EqualValues(t, 1, l.Stats().PacketsIn, "taken at once, not held back as from an unknown source")
}
