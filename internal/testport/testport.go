package testport

import (
	"math/rand/v2"
	"net"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// The range tests choose from: below pacer's default RTP range
// (20000-29999) and the Linux ephemeral range (32768-60999).
const (
	low  = 10000
	high = 19996
)

// pick returns a random port in the range for which free holds, trying up
// to 500 ports.
func pick(t testing.TB, what string, free func(port int) bool) int {
	t.Helper()
	for range 500 {
		if p := low + rand.IntN(high-low); free(p) {
			return p
		}
	}
	require.FailNow(t, "no free loopback port found", "for %s in %d-%d", what, low, high)
	return 0
}

func tcpFree(port int) bool {
	l, err := net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// UDPFree reports whether the loopback UDP port can be bound now.
func UDPFree(port int) bool {
	c, err := net.ListenPacket("udp4", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// TCPAddr is "127.0.0.1:port" for a TCP port that was free a moment ago.
func TCPAddr(t testing.TB) string {
	t.Helper()
	return "127.0.0.1:" + strconv.Itoa(pick(t, "tcp", tcpFree))
}

// UDPAndTCP is a port free for both UDP and TCP a moment ago (a SIP peer
// may open both).
func UDPAndTCP(t testing.TB) int {
	t.Helper()
	return pick(t, "udp+tcp", func(p int) bool { return UDPFree(p) && tcpFree(p) })
}

// Media is an even UDP port with the three above it free too (sipp's -mp
// uses port and port+2 for audio and video, each with its RTCP port).
func Media(t testing.TB) int {
	t.Helper()
	return pick(t, "media", func(p int) bool {
		if p%2 != 0 {
			return false
		}
		for q := p; q < p+4; q++ {
			if !UDPFree(q) {
				return false
			}
		}
		return true
	})
}
