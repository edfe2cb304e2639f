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

// The carrier's re-INVITEs are answered with the mirrored direction
// (sendonly -> recvonly, never sendrecv; inactive -> inactive; recvonly ->
// sendonly) and never c=0.0.0.0: sipp checks each 200's body.
func TestSIPReinviteDirections(t *testing.T) {
	t.Parallel()
	u := startUA(t, Config{})
	s := uas(t, "uas_reinvite_hold.xml", 1)
	tr, rec := newTrunk(t, u, TrunkOptions{}, trunkTo("carrier", s))
	dial(t, tr, 1)
	rec.waitFor(t, 1, dialer.TrunkAnsweredHuman)
	ev := rec.waitFor(t, 1, dialer.TrunkHungUp) // the carrier's BYE after its re-INVITEs
	require.Equal(t, dialer.CauseNormalClearing, ev.Cause, "the call stayed up until the carrier hung up")
	sippPassed(t, s)
}

// Malformed SDP and an offer with no codec we take are answered 488, and
// the call goes on: a good re-INVITE after them is answered 200.
func TestSIPReinviteBadSDP488(t *testing.T) {
	t.Parallel()
	u := startUA(t, Config{})
	s := uas(t, "uas_reinvite_bad.xml", 1)
	tr, rec := newTrunk(t, u, TrunkOptions{}, trunkTo("carrier", s))
	dial(t, tr, 1)
	rec.waitFor(t, 1, dialer.TrunkAnsweredHuman)
	ev := rec.waitFor(t, 1, dialer.TrunkHungUp)
	require.Equal(t, dialer.CauseNormalClearing, ev.Cause, "the call stayed up until the carrier hung up")
	sippPassed(t, s)
}

// Forty re-INVITEs back to back are each answered and ACKed, and the call
// is still up and hangs up cleanly after them.
func TestSIPReinviteStorm(t *testing.T) {
	t.Parallel()
	u := startUA(t, Config{})
	s := uas(t, "uas_reinvite_storm.xml", 1)
	tr, rec := newTrunk(t, u, TrunkOptions{}, trunkTo("carrier", s))
	dial(t, tr, 1)
	rec.waitFor(t, 1, dialer.TrunkAnsweredHuman)
	ev := rec.waitFor(t, 1, dialer.TrunkHungUp)
	require.Equal(t, dialer.CauseNormalClearing, ev.Cause, "the call stayed up until the carrier hung up")
	sippPassed(t, s)
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

// Glare: a re-INVITE from the carrier while ours waits for its answer gets
// 491 Request Pending (sipp requires it), and our hold completes.
func TestSIPReinviteGlare491(t *testing.T) {
	t.Parallel()
	ports := testPorts(t)
	u := startUA(t, Config{Media: MediaConfig{Ports: ports}})
	var ag agentPhones
	ag.add(t, ports, 1, newPhone(t), media.PCMU)
	s := uas(t, "uas_glare.xml", 1)
	tr, rec := newTrunk(t, u, TrunkOptions{AgentLegs: &ag}, trunkTo("carrier", s))
	dial(t, tr, 1)
	rec.waitFor(t, 1, dialer.TrunkAnsweredHuman)
	require.NoError(t, tr.Bridge(context.Background(), 1, 1))
	require.NoError(t, tr.Hold(context.Background(), 1))
	l, _ := tr.leg(1)
	testwait.Until(t, func() bool { return l.media.Direction() == media.RecvOnly }, "our hold answered after the 491")
	require.NoError(t, tr.Hangup(context.Background(), 1))
	sippPassed(t, s)
}

// Our hold re-INVITE answered 491 (glare on the carrier's side) is sent
// again after RFC 3261's 2.1-4 s and then completes.
func TestSIPHoldRetriedAfter491(t *testing.T) {
	t.Parallel()
	ports := testPorts(t)
	u := startUA(t, Config{Media: MediaConfig{Ports: ports}})
	var ag agentPhones
	ag.add(t, ports, 1, newPhone(t), media.PCMU)
	s := uas(t, "uas_hold491.xml", 1)
	tr, rec := newTrunk(t, u, TrunkOptions{AgentLegs: &ag}, trunkTo("carrier", s))
	dial(t, tr, 1)
	rec.waitFor(t, 1, dialer.TrunkAnsweredHuman)
	require.NoError(t, tr.Bridge(context.Background(), 1, 1))
	require.NoError(t, tr.Hold(context.Background(), 1))
	l, _ := tr.leg(1)
	testwait.Until(t, func() bool { return l.media.Direction() == media.RecvOnly }, "the retried hold answered")
	require.NoError(t, tr.Hangup(context.Background(), 1))
	sippPassed(t, s)
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
