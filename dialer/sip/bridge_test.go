package sip

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/internal/testwait"
	"github.com/pacer-dialer/pacer/media"
)

// A customer called through sipp (signalling) whose RTP endpoint is a
// phone the test drives is bridged into an agent's leg: audio flows both
// ways, each party receiving only from the leg that faces it. Mute stops
// the agent's audio reaching the customer and Unmute restores it; a
// transfer re-bridges the customer into another agent's leg while the
// customer keeps hearing one stream (one SSRC).
func TestSIPBridgeMuteTransferAudio(t *testing.T) {
	t.Parallel()
	ports := testPorts(t)
	u := startUA(t, Config{Media: MediaConfig{Ports: ports}})
	cust := newPhone(t)
	s := uas(t, scenario(t, "uas_answer.xml", "[media_port]", strconv.Itoa(int(cust.addr().Port()))), 1)
	var ag agentPhones
	phone1, phone2 := newPhone(t), newPhone(t)
	leg1 := ag.add(t, ports, 1, phone1, media.PCMU)
	leg2 := ag.add(t, ports, 2, phone2, media.PCMU)
	tr, rec := newTrunk(t, u, TrunkOptions{AgentLegs: &ag}, trunkTo("carrier", s))

	require.ErrorIs(t, tr.Bridge(context.Background(), 1, 1), dialer.ErrTrunkRefused, "no such call yet")
	dial(t, tr, 1)
	rec.waitFor(t, 1, dialer.TrunkAnsweredHuman)
	l, ok := tr.leg(1)
	require.True(t, ok)
	custLeg := l.media.LocalAddr()
	require.ErrorIs(t, tr.Mute(context.Background(), 1), dialer.ErrTrunkRefused, "nothing to mute before the bridge")
	require.ErrorIs(t, tr.Bridge(context.Background(), 1, 99), dialer.ErrTrunkRefused, "agent without a phone leg")
	require.NoError(t, tr.Bridge(context.Background(), 1, 1))

	// Agent -> customer, then customer -> agent.
	phone1.send(leg1.LocalAddr(), 0, 0x55, 10)
	testwait.Until(t, func() bool { return cust.withFill(custLeg, 0x55) == 10 }, "the agent's audio reaches the customer from our customer leg")
	cust.send(custLeg, 0, 0x66, 10)
	testwait.Until(t, func() bool { return phone1.withFill(leg1.LocalAddr(), 0x66) == 10 }, "the customer's audio reaches the agent from the agent's leg")
	require.Zero(t, cust.others(custLeg), "the customer hears only our customer leg")
	require.Zero(t, phone1.others(leg1.LocalAddr()), "the agent hears only the agent leg")

	// Mute: what the agent says while muted never reaches the customer.
	require.NoError(t, tr.Mute(context.Background(), 1))
	before := leg1.Stats().PacketsIn
	phone1.send(leg1.LocalAddr(), 0, 0x11, 10)
	testwait.Until(t, func() bool { return leg1.Stats().PacketsIn >= before+10 }, "the agent leg read the muted packets")
	require.NoError(t, tr.Unmute(context.Background(), 1))
	phone1.send(leg1.LocalAddr(), 0, 0x22, 10)
	testwait.Until(t, func() bool { return cust.withFill(custLeg, 0x22) == 10 }, "unmuted audio reaches the customer")
	require.Zero(t, cust.withFill(custLeg, 0x11), "muted audio never reached the customer")

	// Blind transfer to agent 2: the customer's audio now reaches phone 2.
	require.ErrorIs(t, tr.Transfer(context.Background(), 1, dialer.AgentTarget(1)), dialer.ErrTrunkRefused, "already on the call")
	require.ErrorIs(t, tr.Transfer(context.Background(), 1, dialer.QueueTarget("sales")), dialer.ErrTrunkRefused)
	require.NoError(t, tr.Transfer(context.Background(), 1, dialer.AgentTarget(agents.ID(2))))
	cust.send(custLeg, 0, 0x77, 10)
	testwait.Until(t, func() bool { return phone2.withFill(leg2.LocalAddr(), 0x77) == 10 }, "after the transfer the customer reaches agent 2")
	phone2.send(leg2.LocalAddr(), 0, 0x88, 10)
	testwait.Until(t, func() bool { return cust.withFill(custLeg, 0x88) == 10 }, "agent 2 reaches the customer")
	require.Zero(t, phone1.withFill(leg1.LocalAddr(), 0x77), "agent 1 no longer hears the customer")
	ssrcs := map[uint32]bool{}
	for _, p := range cust.from(custLeg) {
		ssrcs[p.hdr.SSRC] = true
	}
	require.Len(t, ssrcs, 1, "the customer hears one stream across agents")

	require.NoError(t, tr.Hangup(context.Background(), 1))
	sippPassed(t, s)
	require.ErrorIs(t, tr.Mute(context.Background(), 1), dialer.ErrTrunkRefused, "no controls after the end")
}

// Hold re-INVITEs the customer with a=sendonly and Resume with a=sendrecv
// (sipp checks both offers and answers recvonly, then sendrecv); both are
// refused when they do not apply.
func TestSIPHoldResumeReinvite(t *testing.T) {
	t.Parallel()
	ports := testPorts(t)
	u := startUA(t, Config{Media: MediaConfig{Ports: ports}})
	var ag agentPhones
	ag.add(t, ports, 1, newPhone(t), media.PCMU)
	s := uas(t, "uas_hold.xml", 1)
	tr, rec := newTrunk(t, u, TrunkOptions{AgentLegs: &ag}, trunkTo("carrier", s))
	dial(t, tr, 1)
	rec.waitFor(t, 1, dialer.TrunkAnsweredHuman)
	require.ErrorIs(t, tr.Hold(context.Background(), 1), dialer.ErrTrunkRefused, "no agent bridged yet")
	require.NoError(t, tr.Bridge(context.Background(), 1, 1))
	require.ErrorIs(t, tr.Resume(context.Background(), 1), dialer.ErrTrunkRefused, "not on hold")
	require.NoError(t, tr.Hold(context.Background(), 1))
	require.ErrorIs(t, tr.Hold(context.Background(), 1), dialer.ErrTrunkRefused, "already on hold")
	l, _ := tr.leg(1)
	testwait.Until(t, func() bool { return l.media.Direction() == media.RecvOnly }, "the carrier's recvonly answer applied")
	require.NoError(t, tr.Resume(context.Background(), 1))
	testwait.Until(t, func() bool { return l.media.Direction() == media.SendRecv }, "the carrier's sendrecv answer applied")
	require.NoError(t, tr.Hangup(context.Background(), 1))
	sippPassed(t, s)
}

// Keys the customer presses (RFC 4733, payload type 101 from sipp's stock
// pcaps) are reported once each through OnDTMF.
func TestSIPCustomerDTMF(t *testing.T) {
	t.Parallel()
	u := startUA(t, Config{})
	s := uas(t, "uas_dtmf.xml", 1)
	var mu sync.Mutex
	var keys []rune
	var calls []dialer.CallID
	tr, rec := newTrunk(t, u, TrunkOptions{OnDTMF: func(call dialer.CallID, d rune) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, call)
		keys = append(keys, d)
	}}, trunkTo("carrier", s))
	dial(t, tr, 1)
	rec.waitFor(t, 1, dialer.TrunkAnsweredHuman)
	testwait.Until(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(keys) >= 2
	}, "two key presses reported")
	require.NoError(t, tr.Hangup(context.Background(), 1))
	sippPassed(t, s)
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []rune{'1', '#'}, keys)
	require.Equal(t, []dialer.CallID{1, 1}, calls)
}

// A PCMA carrier sending 30 ms packets (sipp's g711a.pcap) bridged to a PCMU
// phone: the phone receives PCMU packets from the agent leg only.
func TestSIPPCMA30msToPCMUPhone(t *testing.T) {
	t.Parallel()
	u, ag, ph, agentLeg := uaWithAgentPhone(t, Config{})
	s := uas(t, "uas_pcma.xml", 1)
	tr, rec := newTrunk(t, u, TrunkOptions{AgentLegs: ag}, trunkTo("carrier", s))
	dial(t, tr, 1)
	rec.waitFor(t, 1, dialer.TrunkAnsweredHuman)
	l, _ := tr.leg(1)
	require.Equal(t, media.PCMA, l.media.Format().Codec)
	require.NoError(t, tr.Bridge(context.Background(), 1, 1))
	testwait.Until(t, func() bool { return len(ph.from(agentLeg.LocalAddr())) >= 50 }, "the carrier's audio reaches the phone")
	for _, p := range ph.from(agentLeg.LocalAddr()) {
		require.EqualValues(t, media.PCMU, p.hdr.PayloadType, "transcoded to the phone's codec")
	}
	require.Zero(t, ph.others(agentLeg.LocalAddr()))
	require.Positive(t, l.media.Stats().PacketsIn)
	require.NoError(t, tr.Hangup(context.Background(), 1))
	<-s.Done() // sipp may still be playing the pcap when our BYE comes: its result is not this test's point
}

// Three customers in a row bridged into one nailed-up agent leg: the
// agent's phone hears each of them from the agent leg in one stream, one
// SSRC with sequence numbers that never skip (each customer sent every
// packet).
func TestSIPThreeCustomersOneAgentStream(t *testing.T) {
	t.Parallel()
	u, ag, agent, agentLeg := uaWithAgentPhone(t, Config{})
	cust := newPhone(t)
	s := uas(t, scenario(t, "uas_answer.xml", "[media_port]", strconv.Itoa(int(cust.addr().Port()))), 3)
	tr, rec := newTrunk(t, u, TrunkOptions{AgentLegs: ag}, trunkTo("carrier", s))
	for i, fill := range []byte{0x71, 0x72, 0x73} {
		call := dialer.CallID(i + 1)
		dial(t, tr, call)
		rec.waitFor(t, call, dialer.TrunkAnsweredHuman)
		require.NoError(t, tr.Bridge(context.Background(), call, 1))
		l, _ := tr.leg(call)
		cust.send(l.media.LocalAddr(), 0, fill, 20)
		testwait.Until(t, func() bool { return agent.withFill(agentLeg.LocalAddr(), fill) == 20 }, "customer %d heard by the agent", call)
		require.NoError(t, tr.Hangup(context.Background(), call))
	}
	sippPassed(t, s)
	pkts := agent.from(agentLeg.LocalAddr())
	require.Len(t, pkts, 60)
	require.Zero(t, agent.others(agentLeg.LocalAddr()))
	for i := 1; i < len(pkts); i++ {
		require.Equal(t, pkts[0].hdr.SSRC, pkts[i].hdr.SSRC, "one SSRC across customers")
		require.Equal(t, pkts[i-1].hdr.SequenceNumber+1, pkts[i].hdr.SequenceNumber, "no sequence gap at packet %d", i)
	}
}
