package sip

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/internal/sipptest"
	"github.com/pacer-dialer/pacer/internal/testwait"
	"github.com/pacer-dialer/pacer/media"
)

// callWithPhone dials a customer through sipp running file (its SDP's media
// port replaced by a phone the test drives, plus any more substitutions)
// and returns the answered call's customer-leg address.
func callWithPhone(t *testing.T, u *UA, opts TrunkOptions, file string, subst ...string) (*Trunk, *recorder, *phone, *sipptest.Sipp, *outLeg) {
	t.Helper()
	cust := newPhone(t)
	subst = append(subst, "[media_port]", strconv.Itoa(int(cust.addr().Port())))
	s := uas(t, scenario(t, file, subst...), 1)
	tr, rec := newTrunk(t, u, opts, trunkTo("carrier", s))
	dial(t, tr, 1)
	rec.waitFor(t, 1, dialer.TrunkAnsweredHuman)
	l, ok := tr.leg(1)
	require.True(t, ok)
	return tr, rec, cust, s, l
}

func tone(n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16((i%16 - 8) * 1000)
	}
	return s
}

// The information message on an abandon: Play, then Hangup at once (what
// the engine does at the connect deadline). The customer hears the whole
// prompt (every packet of it, from our customer leg) and only then gets
// our BYE: a BYE sent first would close the leg and cut the prompt short.
func TestSIPInfoMessageThenHangup(t *testing.T) {
	t.Parallel()
	u := startUA(t, Config{})
	prompt := media.NewPrompt(tone(8 * 400)) // 400 ms: 20 packets of 20 ms
	tr, rec, cust, s, l := callWithPhone(t, u, TrunkOptions{Prompts: func(name string) (*media.Prompt, bool) {
		return prompt, name == "info"
	}}, "uas_answer.xml")
	custLeg := l.media.LocalAddr()
	require.ErrorIs(t, tr.Play(context.Background(), 1, "missing"), dialer.ErrTrunkRefused)
	require.NoError(t, tr.Play(context.Background(), 1, "info"))
	require.NoError(t, tr.Hangup(context.Background(), 1))
	sippPassed(t, s) // the BYE came
	testwait.Until(t, func() bool { return len(cust.from(custLeg)) >= 20 }, "the whole prompt reached the customer before the BYE")
	require.Zero(t, cust.others(custLeg))
	require.Equal(t, []dialer.TrunkEventKind{dialer.TrunkAnsweredHuman}, withoutRinging(rec.kinds(1)))
}

// Hold: the customer hears music from our customer leg while the agent's
// audio is held back; Resume brings the agent's audio back.
func TestSIPHoldMusicReachesTheCustomer(t *testing.T) {
	t.Parallel()
	u, ag, agent, agentLeg := uaWithAgentPhone(t, Config{})
	tr, _, cust, s, l := callWithPhone(t, u, TrunkOptions{AgentLegs: ag}, "uas_hold.xml")
	custLeg := l.media.LocalAddr()
	require.NoError(t, tr.Bridge(context.Background(), 1, 1))
	require.NoError(t, tr.Hold(context.Background(), 1))
	testwait.Until(t, func() bool { return l.media.Direction() == media.RecvOnly }, "held")
	// Nothing else feeds the customer leg: what arrives is the music.
	testwait.Until(t, func() bool { return len(cust.from(custLeg)) >= 25 }, "hold music reaches the customer")
	agent.send(agentLeg.LocalAddr(), 0, 0x31, 10)
	testwait.Until(t, func() bool { return agentLeg.Stats().PacketsIn >= 10 }, "the agent leg read the agent's packets")
	require.NoError(t, tr.Resume(context.Background(), 1))
	testwait.Until(t, func() bool { return l.media.Direction() == media.SendRecv }, "resumed")
	agent.send(agentLeg.LocalAddr(), 0, 0x32, 10)
	testwait.Until(t, func() bool { return cust.withFill(custLeg, 0x32) == 10 }, "after resume the agent is heard again")
	require.Zero(t, cust.withFill(custLeg, 0x31), "the agent is not heard while the customer is held")
	require.NoError(t, tr.Hangup(context.Background(), 1))
	sippPassed(t, s)
}

// The agent's keypad reaches the customer as RFC 4733 events with the
// payload type the carrier negotiated, 101 or 96.
func TestSIPSendDTMFPayloadTypes(t *testing.T) {
	t.Parallel()
	for _, pt := range []string{"101", "96"} {
		t.Run(pt, func(t *testing.T) {
			t.Parallel()
			ports := testPorts(t)
			u := startUA(t, Config{Media: MediaConfig{Ports: ports}})
			var ag agentPhones
			ag.add(t, ports, 1, newPhone(t), media.PCMU)
			tr, _, cust, s, l := callWithPhone(t, u, TrunkOptions{AgentLegs: &ag}, "uas_answer.xml", "101", pt)
			custLeg := l.media.LocalAddr()
			require.ErrorIs(t, tr.SendDTMF(context.Background(), 1, "5"), dialer.ErrTrunkRefused, "no agent bridged")
			require.NoError(t, tr.Bridge(context.Background(), 1, 1))
			require.ErrorIs(t, tr.SendDTMF(context.Background(), 1, "5x"), dialer.ErrBadControl)
			require.NoError(t, tr.SendDTMF(context.Background(), 1, "5#"))
			events := func() []byte {
				var keys []byte
				seen := map[uint32]bool{}
				for _, p := range cust.from(custLeg) {
					if strconv.Itoa(int(p.hdr.PayloadType)) == pt && len(p.pay) >= 4 && !seen[p.hdr.Timestamp] {
						seen[p.hdr.Timestamp] = true
						keys = append(keys, p.pay[0])
					}
				}
				return keys
			}
			testwait.Until(t, func() bool { return len(events()) >= 2 }, "two events with payload type %s", pt)
			require.Equal(t, []byte{5, 11}, events(), "5 then # (event 11)")
			require.NoError(t, tr.Hangup(context.Background(), 1))
			sippPassed(t, s)
		})
	}
}

// A conference: agent 2 joins the customer and agent 1, everyone hears
// audio from the leg that faces them; when agent 1 leaves, the customer
// and agent 2 are bridged directly (payloads relayed unchanged) and agent 1
// hears nothing more.
func TestSIPConferenceAndLeave(t *testing.T) {
	t.Parallel()
	ports := testPorts(t)
	u := startUA(t, Config{Media: MediaConfig{Ports: ports}})
	var ag agentPhones
	p1, p2 := newPhone(t), newPhone(t)
	leg1 := ag.add(t, ports, 1, p1, media.PCMU)
	leg2 := ag.add(t, ports, 2, p2, media.PCMU)
	tr, _, cust, s, l := callWithPhone(t, u, TrunkOptions{AgentLegs: &ag}, "uas_answer.xml")
	custLeg := l.media.LocalAddr()
	require.ErrorIs(t, tr.AddParty(context.Background(), 1, dialer.AgentTarget(2)), dialer.ErrTrunkRefused, "no agent bridged")
	require.NoError(t, tr.Bridge(context.Background(), 1, 1))
	require.ErrorIs(t, tr.Leave(context.Background(), 1), dialer.ErrTrunkRefused, "no conference")
	require.NoError(t, tr.AddParty(context.Background(), 1, dialer.AgentTarget(agents.ID(2))))
	require.ErrorIs(t, tr.Hold(context.Background(), 1), dialer.ErrTrunkRefused, "no hold in a conference")

	// Each of the three talks; each hears mixed audio from its own leg.
	before1, before2, beforeC := len(p1.from(leg1.LocalAddr())), len(p2.from(leg2.LocalAddr())), len(cust.from(custLeg))
	cust.send(custLeg, 0, 0x20, 25)
	p1.send(leg1.LocalAddr(), 0, 0x21, 25)
	p2.send(leg2.LocalAddr(), 0, 0x22, 25)
	testwait.Until(t, func() bool {
		return len(p1.from(leg1.LocalAddr())) > before1+5 && len(p2.from(leg2.LocalAddr())) > before2+5 && len(cust.from(custLeg)) > beforeC+5
	}, "all three hear the conference")
	require.Zero(t, cust.others(custLeg)+p1.others(leg1.LocalAddr())+p2.others(leg2.LocalAddr()), "each hears only its own leg")

	require.NoError(t, tr.Leave(context.Background(), 1))
	cust.send(custLeg, 0, 0x44, 10)
	testwait.Until(t, func() bool { return p2.withFill(leg2.LocalAddr(), 0x44) == 10 }, "the customer reaches agent 2 directly")
	p2.send(leg2.LocalAddr(), 0, 0x45, 10)
	testwait.Until(t, func() bool { return cust.withFill(custLeg, 0x45) == 10 }, "agent 2 reaches the customer directly")
	require.Zero(t, p1.withFill(leg1.LocalAddr(), 0x44), "agent 1 left")
	require.NoError(t, tr.Hangup(context.Background(), 1))
	sippPassed(t, s)
}

// twoCarriers makes a trunk whose first carrier (one channel) takes the
// customer's call and whose second takes the third party's: each answers
// with SDP naming a phone the test drives.
func twoCarriers(t *testing.T, u *UA, opts TrunkOptions, partyScenario string) (tr *Trunk, rec *recorder, cust, party *phone, custSipp, partySipp *sipptest.Sipp) {
	t.Helper()
	cust, party = newPhone(t), newPhone(t)
	custSipp = uas(t, scenario(t, "uas_answer.xml", "[media_port]", strconv.Itoa(int(cust.addr().Port()))), 1)
	partySipp = uas(t, scenario(t, partyScenario, "[media_port]", strconv.Itoa(int(party.addr().Port())), "CODE", "486", "Q850", "17", "PAUSE", "100"), 1)
	first := trunkTo("customer-carrier", custSipp)
	first.MaxChannels = 1
	tr, rec = newTrunk(t, u, opts, first, trunkTo("party-carrier", partySipp))
	dial(t, tr, 1)
	rec.waitFor(t, 1, dialer.TrunkAnsweredHuman)
	return
}

// partyLegOf is the customer leg's answered third-party leg, once there.
func partyLegOf(l *outLeg) *media.Leg {
	l.ctl.mu.Lock()
	defer l.ctl.mu.Unlock()
	if l.ctl.partyOut == nil {
		return nil
	}
	return l.ctl.partyLeg
}

// A blind transfer to a number: a new leg through the trunk (the second
// carrier, the first being full); when it answers the customer is bridged
// to it, both ways, and the agent is released.
func TestSIPTransferToNumber(t *testing.T) {
	t.Parallel()
	u, ag, agent, agentLeg := uaWithAgentPhone(t, Config{})
	tr, rec, cust, party, custSipp, partySipp := twoCarriers(t, u, TrunkOptions{AgentLegs: ag}, "uas_answer.xml")
	l, _ := tr.leg(1)
	custLeg := l.media.LocalAddr()
	require.NoError(t, tr.Bridge(context.Background(), 1, 1))
	require.ErrorIs(t, tr.Transfer(context.Background(), 1, dialer.Target{Kind: dialer.TargetNumber, Number: "+1555\r\n1"}), dialer.ErrBadControl)
	require.ErrorIs(t, tr.Transfer(context.Background(), 1, dialer.NumberTarget("+15550001111")), dialer.ErrTransferPending,
		"the engine keeps the call the agent's until the number answers")
	rec.waitFor(t, 1, dialer.TrunkTransferAnswered)
	var partyLeg *media.Leg
	testwait.Until(t, func() bool { partyLeg = partyLegOf(l); return partyLeg != nil }, "the third party answered")
	cust.send(custLeg, 0, 0x61, 10)
	testwait.Until(t, func() bool { return party.withFill(partyLeg.LocalAddr(), 0x61) == 10 }, "the customer reaches the third party")
	party.send(partyLeg.LocalAddr(), 0, 0x62, 10)
	testwait.Until(t, func() bool { return cust.withFill(custLeg, 0x62) == 10 }, "the third party reaches the customer")
	require.Zero(t, agent.withFill(agentLeg.LocalAddr(), 0x61), "the agent was released")
	require.Zero(t, cust.others(custLeg)+party.others(partyLeg.LocalAddr()))
	require.NoError(t, tr.Hangup(context.Background(), 1)) // BYE to both
	sippPassed(t, custSipp)
	sippPassed(t, partySipp)
}

// When the number the customer was transferred to hangs up, the customer's
// call ends too (our BYE, and a hung-up event).
func TestSIPTransferredPartyHangsUp(t *testing.T) {
	t.Parallel()
	ports := testPorts(t)
	u := startUA(t, Config{Media: MediaConfig{Ports: ports}})
	var ag agentPhones
	ag.add(t, ports, 1, newPhone(t), media.PCMU)
	tr, rec, _, _, custSipp, partySipp := twoCarriers(t, u, TrunkOptions{AgentLegs: &ag}, "uas_bye.xml")
	require.NoError(t, tr.Bridge(context.Background(), 1, 1))
	require.ErrorIs(t, tr.Transfer(context.Background(), 1, dialer.NumberTarget("+15550001111")), dialer.ErrTransferPending)
	rec.waitFor(t, 1, dialer.TrunkTransferAnswered)
	ev := rec.waitFor(t, 1, dialer.TrunkHungUp)
	require.Equal(t, dialer.CauseNormalClearing, ev.Cause)
	sippPassed(t, partySipp)
	sippPassed(t, custSipp)
}

// A transfer to a number that is busy: the agent keeps the customer.
func TestSIPTransferToNumberBusyAgentKeepsCustomer(t *testing.T) {
	t.Parallel()
	u, ag, agent, agentLeg := uaWithAgentPhone(t, Config{})
	tr, rec, cust, _, custSipp, partySipp := twoCarriers(t, u, TrunkOptions{AgentLegs: ag}, "uas_final.xml")
	l, _ := tr.leg(1)
	custLeg := l.media.LocalAddr()
	require.NoError(t, tr.Bridge(context.Background(), 1, 1))
	require.ErrorIs(t, tr.Transfer(context.Background(), 1, dialer.NumberTarget("+15550001111")), dialer.ErrTransferPending)
	failed := rec.waitFor(t, 1, dialer.TrunkTransferFailed)
	require.Equal(t, uint16(486), failed.Cause.SIP, "the engine is told why: %v", failed.Cause)
	sippPassed(t, partySipp) // 486 given and ACKed
	testwait.Until(t, func() bool {
		l.ctl.mu.Lock()
		defer l.ctl.mu.Unlock()
		return l.ctl.dialing == nil
	}, "the busy third party is given up")
	cust.send(custLeg, 0, 0x63, 10)
	testwait.Until(t, func() bool { return agent.withFill(agentLeg.LocalAddr(), 0x63) == 10 }, "the agent still hears the customer")
	require.NoError(t, tr.Mute(context.Background(), 1), "controls work again")
	require.NoError(t, tr.Hangup(context.Background(), 1))
	sippPassed(t, custSipp)
}

// A conference with a number: it joins when it answers and the three hear
// each other; the agent leaves and the customer and the number are bridged
// directly.
func TestSIPConferenceWithNumber(t *testing.T) {
	t.Parallel()
	u, ag, agent, agentLeg := uaWithAgentPhone(t, Config{})
	tr, _, cust, party, custSipp, partySipp := twoCarriers(t, u, TrunkOptions{AgentLegs: ag}, "uas_answer.xml")
	l, _ := tr.leg(1)
	custLeg := l.media.LocalAddr()
	require.NoError(t, tr.Bridge(context.Background(), 1, 1))
	require.NoError(t, tr.AddParty(context.Background(), 1, dialer.NumberTarget("+15550001111")))
	require.ErrorIs(t, tr.AddParty(context.Background(), 1, dialer.NumberTarget("+15550002222")), dialer.ErrTrunkRefused, "one at a time")
	var partyLeg *media.Leg
	testwait.Until(t, func() bool { partyLeg = partyLegOf(l); return partyLeg != nil }, "the third party answered")
	before := len(agent.from(agentLeg.LocalAddr()))
	cust.send(custLeg, 0, 0x20, 25)
	party.send(partyLeg.LocalAddr(), 0, 0x21, 25)
	testwait.Until(t, func() bool { return len(agent.from(agentLeg.LocalAddr())) > before+5 }, "the agent hears the conference")
	testwait.Until(t, func() bool { return len(party.from(partyLeg.LocalAddr())) > 5 }, "the third party hears the conference")
	require.NoError(t, tr.Leave(context.Background(), 1))
	cust.send(custLeg, 0, 0x46, 10)
	testwait.Until(t, func() bool { return party.withFill(partyLeg.LocalAddr(), 0x46) == 10 }, "customer and third party bridged directly")
	require.Zero(t, agent.withFill(agentLeg.LocalAddr(), 0x46), "the agent left")
	u.Stop() // the engine is done with the call after Leave; Stop hangs up both legs
	sippPassed(t, custSipp)
	sippPassed(t, partySipp)
}
