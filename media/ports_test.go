package media

import (
	"math/rand/v2"
	"net"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNewPortsChecksTheRange(t *testing.T) {
	for _, r := range [][2]int{{80, 2000}, {30000, 20000}, {60000, 70000}} {
		_, err := NewPorts(r[0], r[1])
		require.Error(t, err, "%v", r)
	}
	p, err := NewPorts(30001, 30009) // odd bounds: 30002..30008
	require.NoError(t, err)
	require.Equal(t, 4, p.Free())
}

// A range runs out, a port held by another process is skipped, and a
// port comes back when its leg closes.
func TestPortsRunOutSkipForeignPortsAndComeBack(t *testing.T) {
	noLeaks(t)
	lo := 10000 + 2*rand.IntN(4500) // below the ephemeral range and the other tests' windows
	p, err := NewPorts(lo, lo+4)    // three ports
	require.NoError(t, err)
	foreign, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, uint16(lo))))
	if err != nil {
		t.Skipf("SKIP: port %d is busy on this machine, pick again by rerunning: %v", lo, err)
	}
	defer foreign.Close()
	a, err := p.NewLeg(LegConfig{BindIP: loopback})
	require.NoError(t, err)
	b, err := p.NewLeg(LegConfig{BindIP: loopback})
	require.NoError(t, err)
	require.NotEqual(t, lo, int(a.LocalAddr().Port()), "the foreign port is skipped")
	require.NotEqual(t, lo, int(b.LocalAddr().Port()))
	_, err = p.NewLeg(LegConfig{BindIP: loopback})
	require.ErrorIs(t, err, ErrNoPorts)
	require.Equal(t, 1, p.Free(), "the foreign port is not ours")
	port := a.LocalAddr().Port()
	require.NoError(t, a.Close())
	c, err := p.NewLeg(LegConfig{BindIP: loopback})
	require.NoError(t, err)
	require.Equal(t, port, c.LocalAddr().Port(), "the only free one")
	require.NoError(t, b.Close())
	require.NoError(t, c.Close())
	require.Equal(t, 3, p.Free())
}
