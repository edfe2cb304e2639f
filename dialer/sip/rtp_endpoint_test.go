package sip

import (
	"net"
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/media"
)

// phone is an RTP endpoint a test drives itself: a UDP socket on loopback
// that sends G.711 packets (one SSRC, 20 ms) where it is told and records
// every packet it receives with its source address.
type phone struct {
	t    testing.TB
	conn *net.UDPConn
	ssrc uint32

	mu   sync.Mutex
	got  []rxPkt
	seq  uint16
	ts   uint32
	done chan struct{}
}

type rxPkt struct {
	from netip.AddrPort
	hdr  rtp.Header
	pay  []byte
}

func newPhone(t testing.TB) *phone {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	p := &phone{t: t, conn: c, ssrc: uint32(time.Now().UnixNano()), done: make(chan struct{})}
	go p.read()
	t.Cleanup(func() {
		c.Close()
		<-p.done
	})
	return p
}

func (p *phone) addr() netip.AddrPort { return p.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

func (p *phone) read() {
	defer close(p.done)
	buf := make([]byte, 1500)
	for {
		n, from, err := p.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		var pkt rtp.Packet
		if pkt.Unmarshal(buf[:n]) != nil {
			continue
		}
		p.mu.Lock()
		p.got = append(p.got, rxPkt{from: from, hdr: pkt.Header, pay: append([]byte(nil), pkt.Payload...)})
		p.mu.Unlock()
	}
}

// send sends n packets of payload type pt filled with fill to dst.
func (p *phone) send(dst netip.AddrPort, pt uint8, fill byte, n int) {
	pay := make([]byte, 160)
	for i := range pay {
		pay[i] = fill
	}
	for range n {
		p.mu.Lock()
		p.seq++
		p.ts += 160
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: p.seq, Timestamp: p.ts, SSRC: p.ssrc}, Payload: pay}
		p.mu.Unlock()
		b, err := pkt.Marshal()
		require.NoError(p.t, err)
		_, err = p.conn.WriteToUDPAddrPort(b, dst)
		require.NoError(p.t, err)
	}
}

// from returns the packets received from src.
func (p *phone) from(src netip.AddrPort) []rxPkt {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []rxPkt
	for _, r := range p.got {
		if r.from == src {
			out = append(out, r)
		}
	}
	return out
}

// others counts packets received from anywhere but src.
func (p *phone) others(src netip.AddrPort) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, r := range p.got {
		if r.from != src {
			n++
		}
	}
	return n
}

// withFill counts packets from src whose payload is all fill.
func (p *phone) withFill(src netip.AddrPort, fill byte) int {
	n := 0
	for _, r := range p.from(src) {
		if len(r.pay) > 0 && r.pay[0] == fill && r.pay[len(r.pay)-1] == fill {
			n++
		}
	}
	return n
}

// sdp is the phone's SDP (an answer to a leg's offer): one codec, 20 ms.
func (p *phone) sdp(codec media.Codec) []byte {
	pt := strconv.Itoa(int(codec))
	name := map[media.Codec]string{media.PCMU: "PCMU", media.PCMA: "PCMA"}[codec]
	a := p.addr()
	return []byte("v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 " + a.Addr().String() + "\r\nt=0 0\r\n" +
		"m=audio " + strconv.Itoa(int(a.Port())) + " RTP/AVP " + pt + " 101\r\n" +
		"a=rtpmap:" + pt + " " + name + "/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n")
}

// agentPhones is an AgentLegs over media legs whose far ends are phones.
type agentPhones struct {
	mu   sync.Mutex
	legs map[agents.ID]*media.Leg
}

func (a *agentPhones) AgentLeg(id agents.ID) (*media.Leg, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	l, ok := a.legs[id]
	return l, ok
}

// add gives agent id a nailed-up leg to phone ph (the leg offered, the
// phone answered with codec).
func (a *agentPhones) add(t testing.TB, ports *media.Ports, id agents.ID, ph *phone, codec media.Codec) *media.Leg {
	l, err := ports.NewLeg(media.LegConfig{BindIP: netip.MustParseAddr("127.0.0.1"), Logger: testLogger(t)})
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	_ = l.Offer()
	require.NoError(t, l.ApplyAnswer(ph.sdp(codec)))
	a.mu.Lock()
	if a.legs == nil {
		a.legs = map[agents.ID]*media.Leg{}
	}
	a.legs[id] = l
	a.mu.Unlock()
	return l
}
