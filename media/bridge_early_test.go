package media

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/internal/testwait"
)

// A customer who speaks before the bridge (the packet read while the leg
// was in nothing) is heard at once when the agent is bridged: the bridge
// sends that packet on without waiting for the next one.
func TestBridgeHandsOverTheEarlyPacket(t *testing.T) {
	noLeaks(t)
	ports := testPorts(t)
	carrier, phone := newPeer(t), newPeer(t)
	cust := answerPeer(t, ports, carrier, []int{0}, 0, 20)
	agent := answerPeer(t, ports, phone, []int{0}, 101, 20)
	cust.earlyMaxAge = time.Hour // the hand-over, not its age limit, is under test

	carrier.send(cust.LocalAddr(), uint8(PCMU), tone(160, 0x41))
	testwait.Until(t, func() bool { return cust.Stats().PacketsIn == 1 }, "the customer leg read the early packet")
	br := NewBridge(cust, agent)
	testwait.Until(t, func() bool { return phone.count() == 1 }, "the early packet reaches the agent's phone with nothing sent after it")
	require.Equal(t, tone(160, 0x41), phone.received()[0].Payload)
	n, first := br.Relayed(cust)
	require.EqualValues(t, 1, n)
	require.False(t, first.IsZero())

	// Once handed over it is gone: the next packet follows it in sequence.
	carrier.send(cust.LocalAddr(), uint8(PCMU), tone(160, 0x42))
	testwait.Until(t, func() bool { return phone.count() == 2 }, "the next packet follows")
	got := phone.received()
	require.Equal(t, tone(160, 0x42), got[1].Payload)
	require.Equal(t, got[0].SequenceNumber+1, got[1].SequenceNumber)
	require.Equal(t, got[0].SSRC, got[1].SSRC)
}

// An early packet older than the age limit is stale when the bridge comes:
// dropped, the agent hears only what follows.
func TestBridgeDropsAStaleEarlyPacket(t *testing.T) {
	noLeaks(t)
	ports := testPorts(t)
	carrier, phone := newPeer(t), newPeer(t)
	cust := answerPeer(t, ports, carrier, []int{0}, 0, 20)
	agent := answerPeer(t, ports, phone, []int{0}, 101, 20)
	cust.earlyMaxAge = 0 // every early packet is stale

	carrier.send(cust.LocalAddr(), uint8(PCMU), tone(160, 0x41))
	testwait.Until(t, func() bool { return cust.Stats().PacketsIn == 1 }, "the customer leg read the early packet")
	br := NewBridge(cust, agent)
	carrier.send(cust.LocalAddr(), uint8(PCMU), tone(160, 0x42))
	testwait.Until(t, func() bool { return cust.Stats().PacketsIn == 2 && phone.count() >= 1 }, "the live packet reaches the phone")
	got := phone.received()
	require.Len(t, got, 1, "only the live packet")
	require.Equal(t, tone(160, 0x42), got[0].Payload)
	n, _ := br.Relayed(cust)
	require.EqualValues(t, 1, n)
}
