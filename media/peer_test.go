package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pacer-dialer/pacer/internal/testwait"
	"github.com/pion/rtp"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

var loopback = netip.MustParseAddr("127.0.0.1")

// testPorts is an allocator over a random window of the high ports: tests
// run in parallel and two suites may run at once on one machine; a port
// someone else holds is skipped by the allocator.
func testPorts(t testing.TB) *Ports {
	t.Helper()
	lo := 20000 + 2*rand.IntN(15000)
	p, err := NewPorts(lo, lo+1998)
	require.NoError(t, err)
	return p
}

func newTestLeg(t testing.TB, p *Ports, cfg LegConfig) *Leg {
	t.Helper()
	if !cfg.BindIP.IsValid() {
		cfg.BindIP = loopback
	}
	l, err := p.NewLeg(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	return l
}

// peer is the far end of a leg in tests: a phone or a carrier, sending and
// receiving RTP on its own loopback socket, recording all it receives.
type peer struct {
	t    testing.TB
	conn *net.UDPConn
	ssrc uint32
	seq  uint16
	ts   uint32

	mu   sync.Mutex
	got  []rtp.Packet
	from []netip.AddrPort
	done chan struct{}
	// discard: read packets and keep nothing, allocating nothing (an
	// allocation count is process-wide, so a peer recording what it
	// receives would count in the code measured); counted in discarded.
	discard   atomic.Bool
	discarded atomic.Int64
}

func newPeer(t testing.TB) *peer {
	t.Helper()
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	require.NoError(t, err)
	p := &peer{t: t, conn: conn, ssrc: rand.Uint32(), seq: uint16(rand.Uint32()), ts: rand.Uint32(), done: make(chan struct{})}
	go p.read()
	t.Cleanup(func() {
		conn.Close()
		<-p.done
	})
	return p
}

func (p *peer) addr() netip.AddrPort { return p.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

func (p *peer) read() {
	defer close(p.done)
	buf := make([]byte, 2048)
	for {
		n, from, err := p.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		if p.discard.Load() {
			p.discarded.Add(1)
			continue
		}
		var pkt rtp.Packet
		if pkt.Unmarshal(append([]byte(nil), buf[:n]...)) != nil {
			continue
		}
		p.mu.Lock()
		p.got = append(p.got, pkt)
		p.from = append(p.from, from)
		p.mu.Unlock()
	}
}

func (p *peer) received() []rtp.Packet {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]rtp.Packet(nil), p.got...)
}

func (p *peer) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.got)
}

// sdp is the peer's offer or answer: the given payload types (with rtpmap
// for the dynamic telephone-event one), ptime and direction.
func (p *peer) sdp(pts []int, dtmfPT int, ptimeMS int, dir string) []byte {
	port := p.addr().Port()
	s := fmt.Sprintf("v=0\r\no=peer 42 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP", port)
	for _, pt := range pts {
		s += fmt.Sprintf(" %d", pt)
	}
	if dtmfPT != 0 {
		s += fmt.Sprintf(" %d", dtmfPT)
	}
	s += "\r\n"
	for _, pt := range pts {
		switch pt {
		case 0:
			s += "a=rtpmap:0 PCMU/8000\r\n"
		case 8:
			s += "a=rtpmap:8 PCMA/8000\r\n"
		}
	}
	if dtmfPT != 0 {
		s += fmt.Sprintf("a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-16\r\n", dtmfPT, dtmfPT)
	}
	if ptimeMS != 0 {
		s += fmt.Sprintf("a=ptime:%d\r\n", ptimeMS)
	}
	s += "a=" + dir + "\r\n"
	return []byte(s)
}

// send sends one RTP packet to the leg, advancing the peer's sequence
// number and timestamp as a real sender does.
func (p *peer) send(to netip.AddrPort, pt uint8, payload []byte) {
	p.t.Helper()
	p.sendRaw(to, p.packet(pt, false, payload))
	p.seq++
	p.ts += uint32(len(payload))
}

// skip advances the peer's clock by n packets it does not send.
func (p *peer) skip(n int, samples int) {
	p.seq += uint16(n)
	p.ts += uint32(n * samples)
}

func (p *peer) packet(pt uint8, marker bool, payload []byte) []byte {
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, Marker: marker,
		SequenceNumber: p.seq, Timestamp: p.ts, SSRC: p.ssrc}, Payload: payload}
	b, err := pkt.Marshal()
	require.NoError(p.t, err)
	return b
}

func (p *peer) sendRaw(to netip.AddrPort, b []byte) {
	p.t.Helper()
	_, err := p.conn.WriteToUDPAddrPort(b, to)
	require.NoError(p.t, err)
}

// pcapUDPPayloads reads the UDP payloads of a classic pcap file of
// Ethernet/IPv4 frames (sipp's g711a.pcap and dtmf_2833_*.pcap).
func pcapUDPPayloads(t testing.TB, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("SKIP: %s is missing: install sipp (Debian package sip-tester) to run this test with its capture", path)
	}
	require.NoError(t, err)
	require.Greater(t, len(b), 24)
	require.Equal(t, uint32(0xa1b2c3d4), binary.LittleEndian.Uint32(b), "little-endian microsecond pcap")
	var out [][]byte
	for off := 24; off+16 <= len(b); {
		incl := int(binary.LittleEndian.Uint32(b[off+8:]))
		frame := b[off+16 : off+16+incl]
		off += 16 + incl
		if len(frame) < 14+20+8 || binary.BigEndian.Uint16(frame[12:]) != 0x0800 {
			continue
		}
		ip := frame[14:]
		ihl := int(ip[0]&0x0f) * 4
		if ip[9] != 17 {
			continue
		}
		udp := ip[ihl:]
		ulen := int(binary.BigEndian.Uint16(udp[4:]))
		out = append(out, append([]byte(nil), udp[8:ulen]...))
	}
	return out
}

// noLeaks checks, after every cleanup of the test has run (peers and legs
// closed), that no goroutine the test started is left.
func noLeaks(t *testing.T) {
	opts := goleak.IgnoreCurrent()
	t.Cleanup(func() { testwait.NoLeaks(t, opts) })
}
