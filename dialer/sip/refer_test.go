package sip

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/internal/sipptest"
	"github.com/pacer-dialer/pacer/internal/testwait"
	"github.com/pacer-dialer/pacer/media"
)

// referCall answers a customer through sipp running file on a trunk that
// transfers by REFER, with agent 1's phone leg bridged in.
func referCall(t *testing.T, cfg Config, file string, subst ...string) (tr *Trunk, rec *recorder, cust, agent *phone, agentLeg *media.Leg, s *sipptest.Sipp, l *outLeg) {
	t.Helper()
	u, ag, agent, agentLeg := uaWithAgentPhone(t, cfg)
	cust = newPhone(t)
	subst = append(subst, "[media_port]", strconv.Itoa(int(cust.addr().Port())))
	s = uas(t, scenario(t, file, subst...), 1)
	trunk := trunkTo("carrier", s)
	trunk.TransferMethod = TransferRefer
	tr, rec = newTrunk(t, u, TrunkOptions{AgentLegs: ag}, trunk)
	dial(t, tr, 1)
	rec.waitFor(t, 1, dialer.TrunkAnsweredHuman)
	l, ok := tr.leg(1)
	require.True(t, ok)
	require.NoError(t, tr.Bridge(context.Background(), 1, 1))
	return tr, rec, cust, agent, agentLeg, s, l
}

// A carrier that does REFER: it accepts (202), reports 100 then 200 in
// NOTIFYs (each answered 200, else sipp fails), and the transfer is
// answered: the engine is told once, our leg sends BYE and is gone, with
// its RTP leg and its channel on the trunk.
func TestSIPTransferByReferAnswered(t *testing.T) {
	t.Parallel()
	tr, rec, _, _, _, s, l := referCall(t, Config{}, "uas_refer.xml", "FINAL", "200 OK")
	require.ErrorIs(t, tr.Transfer(context.Background(), 1, dialer.Target{Kind: dialer.TargetNumber, Number: "+1555\r\n1"}), dialer.ErrBadControl,
		"a number that would break the Refer-To header is refused before anything is sent")
	require.ErrorIs(t, tr.Transfer(context.Background(), 1, dialer.NumberTarget("+15550001111")), dialer.ErrTransferPending,
		"the engine keeps the call the agent's until the carrier reports")
	require.ErrorIs(t, tr.Mute(context.Background(), 1), dialer.ErrTrunkRefused, "no pair control while the REFER is under way")
	rec.waitFor(t, 1, dialer.TrunkTransferAnswered)
	sippPassed(t, s) // Refer-To and Referred-By as expected, both NOTIFYs answered 200, then our BYE
	testwait.Until(t, func() bool { _, ok := tr.leg(1); return !ok }, "the customer leg is over")
	<-l.media.Done()
	require.Zero(t, tr.Channels("carrier"), "the trunk's channel is free")
	require.Equal(t, []dialer.TrunkEventKind{dialer.TrunkAnsweredHuman, dialer.TrunkTransferAnswered}, withoutRinging(rec.kinds(1)),
		"one transfer event and no hang-up after it")
}

// A carrier that hangs up on us itself once the transfer is answered
// (its BYE crossing ours, or coming first): the engine hears of the
// transfer once and of nothing after it, and the leg ends.
func TestSIPTransferByReferThenCarrierBye(t *testing.T) {
	t.Parallel()
	tr, rec, _, _, _, s, l := referCall(t, Config{}, "uas_refer_bye.xml")
	require.ErrorIs(t, tr.Transfer(context.Background(), 1, dialer.NumberTarget("+15550001111")), dialer.ErrTransferPending)
	rec.waitFor(t, 1, dialer.TrunkTransferAnswered)
	sippPassed(t, s)
	testwait.Until(t, func() bool { _, ok := tr.leg(1); return !ok }, "the customer leg is over")
	<-l.media.Done()
	require.Zero(t, tr.Channels("carrier"))
	require.Equal(t, []dialer.TrunkEventKind{dialer.TrunkAnsweredHuman, dialer.TrunkTransferAnswered}, withoutRinging(rec.kinds(1)))
}

// The carrier's NOTIFY says the number is busy: the transfer failed with
// that cause, and the customer and the agent still hear each other.
func TestSIPTransferByReferBusyAgentKeepsCustomer(t *testing.T) {
	t.Parallel()
	tr, rec, cust, agent, agentLeg, s, l := referCall(t, Config{}, "uas_refer.xml", "FINAL", "486 Busy Here")
	custLeg := l.media.LocalAddr()
	require.ErrorIs(t, tr.Transfer(context.Background(), 1, dialer.NumberTarget("+15550001111")), dialer.ErrTransferPending)
	failed := rec.waitFor(t, 1, dialer.TrunkTransferFailed)
	require.Equal(t, dialer.CauseBusy, failed.Cause, "the engine is told why")
	cust.send(custLeg, 0, 0x63, 10)
	testwait.Until(t, func() bool { return agent.withFill(agentLeg.LocalAddr(), 0x63) == 10 }, "the agent still hears the customer")
	agent.send(agentLeg.LocalAddr(), 0, 0x64, 10)
	testwait.Until(t, func() bool { return cust.withFill(custLeg, 0x64) == 10 }, "the customer still hears the agent")
	require.Zero(t, cust.others(custLeg))
	require.NoError(t, tr.Mute(context.Background(), 1), "controls work again")
	require.NoError(t, tr.Hangup(context.Background(), 1))
	sippPassed(t, s)
	require.Equal(t, []dialer.TrunkEventKind{dialer.TrunkAnsweredHuman, dialer.TrunkTransferFailed}, withoutRinging(rec.kinds(1)))
}

// A carrier that does not do REFER (501): the transfer is bridged instead,
// a new INVITE for the number (here through the second carrier, the first
// being full), and the customer is with the number when it answers.
func TestSIPTransferReferRefusedFallsBackToBridge(t *testing.T) {
	t.Parallel()
	u, ag, agent, agentLeg := uaWithAgentPhone(t, Config{})
	cust, party := newPhone(t), newPhone(t)
	custSipp := uas(t, scenario(t, "uas_refer501.xml", "[media_port]", strconv.Itoa(int(cust.addr().Port()))), 1)
	partySipp := uas(t, scenario(t, "uas_answer.xml", "[media_port]", strconv.Itoa(int(party.addr().Port()))), 1)
	first := trunkTo("customer-carrier", custSipp)
	first.MaxChannels = 1
	first.TransferMethod = TransferRefer
	tr, rec := newTrunk(t, u, TrunkOptions{AgentLegs: ag}, first, trunkTo("party-carrier", partySipp))
	dial(t, tr, 1)
	rec.waitFor(t, 1, dialer.TrunkAnsweredHuman)
	l, _ := tr.leg(1)
	custLeg := l.media.LocalAddr()
	require.NoError(t, tr.Bridge(context.Background(), 1, 1))
	require.ErrorIs(t, tr.Transfer(context.Background(), 1, dialer.NumberTarget("+15550001111")), dialer.ErrTransferPending)
	rec.waitFor(t, 1, dialer.TrunkTransferAnswered)
	var partyLeg *media.Leg
	testwait.Until(t, func() bool { partyLeg = partyLegOf(l); return partyLeg != nil }, "the number answered the bridged transfer")
	cust.send(custLeg, 0, 0x71, 10)
	testwait.Until(t, func() bool { return party.withFill(partyLeg.LocalAddr(), 0x71) == 10 }, "the customer reaches the number")
	require.Zero(t, agent.withFill(agentLeg.LocalAddr(), 0x71), "the agent was released")
	l.ctl.mu.Lock()
	require.True(t, l.ctl.noRefer, "later transfers on this call are bridged at once")
	l.ctl.mu.Unlock()
	require.NoError(t, tr.Hangup(context.Background(), 1))
	sippPassed(t, custSipp) // REFER answered 501, then our BYE
	sippPassed(t, partySipp)
	require.Equal(t, []dialer.TrunkEventKind{dialer.TrunkAnsweredHuman, dialer.TrunkTransferAnswered}, withoutRinging(rec.kinds(1)))
}

// A carrier that accepts the REFER and then says nothing: the transfer
// fails when no NOTIFY came in time (shortened here; nothing races it, the
// carrier never sends one) and the agent keeps the customer.
func TestSIPTransferByReferWithoutNotifyFails(t *testing.T) {
	t.Parallel()
	tr, rec, cust, agent, agentLeg, s, l := referCall(t, Config{ReferNotifyTimeout: 200 * time.Millisecond}, "uas_refer_silent.xml")
	custLeg := l.media.LocalAddr()
	require.ErrorIs(t, tr.Transfer(context.Background(), 1, dialer.NumberTarget("+15550001111")), dialer.ErrTransferPending)
	failed := rec.waitFor(t, 1, dialer.TrunkTransferFailed)
	require.EqualValues(t, 102, failed.Cause.Q850, "recovery on timer expiry: %v", failed.Cause)
	cust.send(custLeg, 0, 0x65, 10)
	testwait.Until(t, func() bool { return agent.withFill(agentLeg.LocalAddr(), 0x65) == 10 }, "the agent still hears the customer")
	require.NoError(t, tr.Hangup(context.Background(), 1))
	sippPassed(t, s)
}

func TestParseSipfrag(t *testing.T) {
	for _, tc := range []struct {
		body string
		code int
		ok   bool
	}{
		{"SIP/2.0 100 Trying\r\n", 100, true},
		{"SIP/2.0 200 OK", 200, true},
		{"SIP/2.0 486 Busy Here\r\nContent-Length: 0\r\n", 486, true},
		{"SIP/2.0 99 Low\r\n", 0, false},
		{"HTTP/1.1 200 OK\r\n", 0, false},
		{"", 0, false},
	} {
		n, ok := parseSipfrag([]byte(tc.body))
		require.Equal(t, tc.ok, ok, tc.body)
		require.Equal(t, tc.code, n.code, tc.body)
	}
	require.True(t, isReferEvent("refer;id=93"))
	require.True(t, isReferEvent(" Refer "))
	require.False(t, isReferEvent("presence"))
}

func TestTrunkConfigTransferMethod(t *testing.T) {
	for _, m := range []string{"", TransferBridge, TransferRefer} {
		require.NoError(t, TrunkConfig{Name: "a", URI: "sip:127.0.0.1", TransferMethod: m}.Validate(), m)
	}
	require.ErrorContains(t, TrunkConfig{Name: "a", URI: "sip:127.0.0.1", TransferMethod: "blind"}.Validate(), `transfer method "blind" is not bridge or refer`)
}
