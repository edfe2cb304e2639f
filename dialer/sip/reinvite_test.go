package sip

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/internal/testwait"
	"github.com/pacer-dialer/pacer/media"
)

// upUntilCarrierHangsUp answers a call from sipp running file, which sends
// its re-INVITEs (checking our answers) and then BYE: the call must stay
// up until that BYE.
func upUntilCarrierHangsUp(t *testing.T, file string) {
	t.Helper()
	u := startUA(t, Config{})
	s := uas(t, file, 1)
	tr, rec := newTrunk(t, u, TrunkOptions{}, trunkTo("carrier", s))
	dial(t, tr, 1)
	rec.waitFor(t, 1, dialer.TrunkAnsweredHuman)
	ev := rec.waitFor(t, 1, dialer.TrunkHungUp)
	require.Equal(t, dialer.CauseNormalClearing, ev.Cause, "the call stayed up until the carrier hung up")
	sippPassed(t, s)
}

// The carrier's re-INVITEs are answered with the mirrored direction
// (sendonly -> recvonly, never sendrecv; inactive -> inactive; recvonly ->
// sendonly) and never c=0.0.0.0: sipp checks each 200's body.
func TestSIPReinviteDirections(t *testing.T) {
	t.Parallel()
	upUntilCarrierHangsUp(t, "uas_reinvite_hold.xml")
}

// Malformed SDP and an offer with no codec we take are answered 488, and
// the call goes on: a good re-INVITE after them is answered 200.
func TestSIPReinviteBadSDP488(t *testing.T) {
	t.Parallel()
	upUntilCarrierHangsUp(t, "uas_reinvite_bad.xml")
}

// Forty re-INVITEs back to back are each answered and ACKed, and the call
// is still up and hangs up cleanly after them.
func TestSIPReinviteStorm(t *testing.T) {
	t.Parallel()
	upUntilCarrierHangsUp(t, "uas_reinvite_storm.xml")
}

// A far end that never ACKs our 200 OK to its re-INVITE: after the ACK
// timeout (32 s in production, short here) the call is hung up with a BYE
// and reported with causeNoAck.
func TestSIPMissingAckEndsTheCall(t *testing.T) {
	t.Parallel()
	u := startUA(t, Config{AckTimeout: 300 * time.Millisecond})
	s := uas(t, "uas_reinvite_noack.xml", 1)
	tr, rec := newTrunk(t, u, TrunkOptions{}, trunkTo("carrier", s))
	dial(t, tr, 1)
	ev := rec.waitFor(t, 1, dialer.TrunkHungUp)
	require.Equal(t, causeNoAck, ev.Cause)
	sippPassed(t, s) // our BYE came
}

// holdCompletes bridges an agent into a call to sipp running file, holds
// the call and waits until our hold re-INVITE is answered (the customer
// leg's direction is then recvonly), then hangs up; sipp checks its side.
func holdCompletes(t *testing.T, file, held string) {
	t.Helper()
	ports := testPorts(t)
	u := startUA(t, Config{Media: MediaConfig{Ports: ports}})
	var ag agentPhones
	ag.add(t, ports, 1, newPhone(t), media.PCMU)
	s := uas(t, file, 1)
	tr, rec := newTrunk(t, u, TrunkOptions{AgentLegs: &ag}, trunkTo("carrier", s))
	dial(t, tr, 1)
	rec.waitFor(t, 1, dialer.TrunkAnsweredHuman)
	require.NoError(t, tr.Bridge(context.Background(), 1, 1))
	require.NoError(t, tr.Hold(context.Background(), 1))
	l, _ := tr.leg(1)
	testwait.Until(t, func() bool { return l.media.Direction() == media.RecvOnly }, "%s", held)
	require.NoError(t, tr.Hangup(context.Background(), 1))
	sippPassed(t, s)
}

// Glare: a re-INVITE from the carrier while ours waits for its answer gets
// 491 Request Pending (sipp requires it), and our hold completes.
func TestSIPReinviteGlare491(t *testing.T) {
	t.Parallel()
	holdCompletes(t, "uas_glare.xml", "our hold answered after the 491")
}

// Our hold re-INVITE answered 491 (glare on the carrier's side) is sent
// again after RFC 3261's 2.1-4 s and then completes.
func TestSIPHoldRetriedAfter491(t *testing.T) {
	t.Parallel()
	holdCompletes(t, "uas_hold491.xml", "the retried hold answered")
}

// A re-INVITE without SDP is answered with our offer in the 200 (sipp
// checks it) and the answer in the ACK is applied: the call now sends PCMA
// (it answered PCMU first) and the far end holds us (sendonly).
func TestSIPOfferlessReinvite(t *testing.T) {
	t.Parallel()
	u := startUA(t, Config{})
	s := uas(t, "uas_reinvite_offerless.xml", 1)
	tr, rec := newTrunk(t, u, TrunkOptions{}, trunkTo("carrier", s))
	dial(t, tr, 1)
	rec.waitFor(t, 1, dialer.TrunkAnsweredHuman)
	l, _ := tr.leg(1)
	testwait.Until(t, func() bool { return l.media.Direction() == media.SendOnly }, "the ACK's answer applied")
	require.Equal(t, media.PCMA, l.media.Format().Codec)
	require.NoError(t, tr.Hangup(context.Background(), 1))
	sippPassed(t, s)
}
