package rtpgen

import (
	"encoding/binary"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// Listen opens n UDP sockets on 127.0.0.1 with 4 MiB buffers and returns
// them with their addresses.
func Listen(n int) ([]*net.UDPConn, []string, error) {
	socks := make([]*net.UDPConn, 0, n)
	addrs := make([]string, 0, n)
	for range n {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			for _, s := range socks {
				s.Close()
			}
			return nil, nil, err
		}
		_ = c.SetReadBuffer(4 << 20)
		_ = c.SetWriteBuffer(4 << 20)
		socks = append(socks, c)
		addrs = append(addrs, c.LocalAddr().String())
	}
	return socks, addrs, nil
}

// ParseDst parses the address each endpoint sends to.
func ParseDst(dst []string) ([]netip.AddrPort, error) {
	out := make([]netip.AddrPort, len(dst))
	for i, d := range dst {
		a, err := netip.ParseAddrPort(d)
		if err != nil {
			return nil, err
		}
		out[i] = a
	}
	return out, nil
}

// Pace sends endpoint e's stream (PCMU, 160-byte payloads every 20 ms,
// SSRC e) to dst[e] from socks[e%len(socks)] until stop is closed; the
// endpoints are spread over 20 slots of 1 ms. stamp writes the payload of
// e's next packet (it holds 0xff until stamp changes it) and says whether
// the packet counts; Pace returns how many counted packets it sent.
func Pace(stop <-chan struct{}, socks []*net.UDPConn, dst []netip.AddrPort, stamp func(payload []byte, e int) (counts bool)) uint64 {
	const slots = 20
	pkt := make([]byte, 12+160)
	for i := range pkt[12:] {
		pkt[12+i] = 0xff
	}
	eps := len(dst)
	seq := make([]uint16, eps)
	ts := make([]uint32, eps)
	start := time.Now()
	var sent uint64
	for k := 0; ; k++ {
		select {
		case <-stop:
			return sent
		default:
		}
		if d := time.Until(start.Add(time.Duration(k) * time.Millisecond)); d > 0 {
			time.Sleep(d)
		}
		for e := k % slots; e < eps; e += slots {
			pkt[0], pkt[1] = 0x80, 0
			binary.BigEndian.PutUint16(pkt[2:], seq[e])
			binary.BigEndian.PutUint32(pkt[4:], ts[e])
			binary.BigEndian.PutUint32(pkt[8:], uint32(e))
			counts := stamp(pkt[12:], e)
			seq[e]++
			ts[e] += 160
			if _, err := socks[e%len(socks)].WriteToUDPAddrPort(pkt, dst[e]); err == nil && counts {
				sent++
			}
		}
	}
}

// CPUSeconds is the user and system CPU time from rusage a to b.
func CPUSeconds(a, b syscall.Rusage) float64 {
	ns := syscall.TimevalToNsec(b.Utime) - syscall.TimevalToNsec(a.Utime) + syscall.TimevalToNsec(b.Stime) - syscall.TimevalToNsec(a.Stime)
	return time.Duration(ns).Seconds()
}
