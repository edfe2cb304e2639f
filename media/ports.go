package media

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
)

// Ports hands out even RTP ports from a range (RTCP would be port+1; we do
// not send RTCP, but keep the odd port free). Safe for concurrent use; a port
// is reused only after its leg closes, and the allocator walks the range
// round-robin so a port just released is the last to be handed out again
// (late packets of an old call then find no one listening).
type Ports struct {
	lo, hi int // even bounds, inclusive

	mu   sync.Mutex
	used map[int]bool
	next int
}

// ErrNoPorts is returned by NewLeg when every port of the range is in use
// (or held by another process).
var ErrNoPorts = errors.New("media: no free RTP port in range")

// NewPorts allocates from the even ports in [lo, hi].
func NewPorts(lo, hi int) (*Ports, error) {
	if lo%2 != 0 {
		lo++
	}
	if hi%2 != 0 {
		hi--
	}
	if lo < 1024 || hi > 65534 || lo > hi {
		return nil, fmt.Errorf("media: RTP port range %d-%d: want even ports within 1024-65534, low <= high", lo, hi)
	}
	return &Ports{lo: lo, hi: hi, used: make(map[int]bool), next: lo}, nil
}

// Free is how many ports of the range are not held by a leg of this
// allocator (another process may still hold some of them).
func (p *Ports) Free() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return (p.hi-p.lo)/2 + 1 - len(p.used)
}

// bind takes the next free port that the OS lets us bind on ip. Ports that
// another process holds are skipped, so two test runs sharing a range only
// cost each other a retry.
func (p *Ports) bind(ip netip.Addr) (*net.UDPConn, int, error) {
	// One address family per socket: a dual-stack wildcard socket would
	// report IPv4 peers as ::ffff:a.b.c.d, never equal to an SDP address.
	network := "udp6"
	if ip.Unmap().Is4() {
		network, ip = "udp4", ip.Unmap()
	}
	n := (p.hi-p.lo)/2 + 1
	for range n {
		p.mu.Lock()
		port := -1
		for range n {
			c := p.next
			p.next += 2
			if p.next > p.hi {
				p.next = p.lo
			}
			if !p.used[c] {
				port = c
				p.used[c] = true
				break
			}
		}
		p.mu.Unlock()
		if port < 0 {
			return nil, 0, ErrNoPorts
		}
		conn, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port))))
		if err == nil {
			return conn, port, nil
		}
		p.release(port)
		var opErr *net.OpError
		if !errors.As(err, &opErr) || !isAddrInUse(err) {
			return nil, 0, fmt.Errorf("media: bind RTP %s: %w", netip.AddrPortFrom(ip, uint16(port)), err)
		}
	}
	return nil, 0, ErrNoPorts
}

func (p *Ports) release(port int) {
	p.mu.Lock()
	delete(p.used, port)
	p.mu.Unlock()
}
