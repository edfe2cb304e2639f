package sip

import (
	"context"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/dialer/blend"
	"github.com/pacer-dialer/pacer/inbound"
	"github.com/pacer-dialer/pacer/internal/sipptest"
	"github.com/pacer-dialer/pacer/internal/testwait"
	"github.com/pacer-dialer/pacer/media"
)

const testDID = "+12025550100"

// Endings of testdata/uac_caller.xml: the caller hangs up after PAUSE ms,
// or waits for our BYE.
const (
	callerHangsUp = `  <pause milliseconds="PAUSE"/>
  <send retrans="500">
    <![CDATA[

BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:+12025550177@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 2 BYE
Contact: <sip:caller@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0

    ]]>
  </send>
  <recv response="200" />`
	callerWaitsForBye = `  <recv request="BYE" />
  <send>
    <![CDATA[

SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

    ]]>
  </send>`
)

// queueLog keeps the router's queue events.
type queueLog struct {
	mu  sync.Mutex
	evs []inbound.Event
}

func (q *queueLog) Append(ev inbound.Event) {
	q.mu.Lock()
	q.evs = append(q.evs, ev)
	q.mu.Unlock()
}

func (q *queueLog) has(kind inbound.EventKind) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, ev := range q.evs {
		if ev.Kind == kind {
			return true
		}
	}
	return false
}

// lateLine is the router's CallerLine, the callers made after the router.
type lateLine struct{ c *Callers }

func (l *lateLine) Dismiss(call inbound.CallKey, why string) { l.c.Dismiss(call, why) }

// pokes hands the router's pokes to a function of the test, on its own
// goroutine (the router must not be called back from Poke).
type pokes struct{ f func(agents.ID) }

func (p pokes) Poke(a agents.ID) {
	if p.f != nil {
		go p.f(a)
	}
}
func (pokes) Withdraw(agents.ID, inbound.CallKey) {}

// callerSide is a UA taking callers from loopback "trunks" into a router
// with one queue on testDID, served by members (none: a caller is sent
// away at once, the queue's no-agents action being hang-up).
func callerSide(t *testing.T, u *UA, ringback time.Duration, poke func(agents.ID), members ...agents.ID) (*Callers, *inbound.Router, *queueLog) {
	t.Helper()
	return callerSideWith(t, u, CallersConfig{Ringback: ringback}, poke, members...)
}

// callerSideWith is callerSide with the callers' configuration (its Router
// is the test's; its Logger defaults to the test's).
func callerSideWith(t *testing.T, u *UA, cfg CallersConfig, poke func(agents.ID), members ...agents.ID) (*Callers, *inbound.Router, *queueLog) {
	t.Helper()
	line := &lateLine{}
	log := &queueLog{}
	r, err := inbound.NewRouter(inbound.Config{}, inbound.Deps{Notify: pokes{poke}, Line: line, Log: log})
	require.NoError(t, err)
	q := inbound.Queue{ID: 1, Name: "support"}.WithDefaults()
	if len(members) > 0 {
		q.NoAgents = inbound.Fallback{Action: inbound.ActionWait}
	}
	var ms []inbound.Member
	for _, a := range members {
		ms = append(ms, inbound.Member{Queue: 1, Agent: a, Level: 1})
	}
	require.NoError(t, r.SetQueue(q, ms))
	r.SetDID(testDID, 1)
	cfg.Router = r
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	c, err := u.NewCallers(cfg)
	require.NoError(t, err)
	line.c = c
	u.SetInboundHandler(c.HandleInvite)
	return c, r, log
}

// takeOn is a poke that has the agent poked take the caller offered to
// them on tr as the engine does when they accept (Claim, Accept,
// Trunk.Bridge), and sends the caller's leg to bridged. *r is read when
// poked (the router is made after its pokes).
func takeOn(t *testing.T, r **inbound.Router, tr *Trunk, bridged chan<- dialer.CallID) func(agents.ID) {
	return func(a agents.ID) {
		off, ok := (*r).Claim(a, time.Now())
		if !ok || !(*r).Accept(off.Call, a, time.Now()) {
			t.Errorf("agent %d could not take the caller", a)
			return
		}
		leg := blend.Leg(off.Call)
		if err := tr.Bridge(context.Background(), leg, a); err != nil {
			t.Errorf("bridge: %v", err)
			return
		}
		bridged <- leg
	}
}

// tune counts the packets p received from anywhere whose payload varies
// (music or a tone, not silence or a test's uniform fill).
func tune(p *phone) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, r := range p.got {
		for _, b := range r.pay {
			if b != r.pay[0] {
				n++
				break
			}
		}
	}
	return n
}

func loopbackUA(t *testing.T) *UA {
	return startUA(t, Config{KnownSource: func(a netip.Addr) bool { return a.IsLoopback() }})
}

// caller starts sipp calling number once with ending, its RTP endpoint
// the test's phone ph.
func caller(t *testing.T, u *UA, ph *phone, number, ending string, pauseMS int) *sipptest.Sipp {
	t.Helper()
	ending = strings.ReplaceAll(ending, "PAUSE", strconv.Itoa(pauseMS))
	file := scenario(t, "uac_caller.xml", "PHONEPORT", strconv.Itoa(int(ph.addr().Port())), "ENDING", ending)
	return sipptest.Start(t, sipptest.Options{Scenario: file, Calls: 1, Remote: u.udp.LocalAddr().String(),
		Args: []string{"-s", number}})
}

// A caller dialling a queue's DID hears ringing (180), is answered (200
// with SDP) and hears music from our leg while waiting; their BYE while
// waiting reaches the router as an abandon, and the leg is gone.
func TestSIPInboundCallerWaitsHearingMusicAndAbandons(t *testing.T) {
	t.Parallel()
	u := loopbackUA(t)
	c, _, log := callerSide(t, u, 100*time.Millisecond, nil, 7) // agent 7 never comes: the caller waits
	ph := newPhone(t)
	s := caller(t, u, ph, testDID, callerHangsUp, 3000)
	sippPassed(t, s) // 180, 200, ACK, then the caller's BYE answered 200
	testwait.Until(t, func() bool { return log.has(inbound.EvAbandon) }, "the caller's BYE reached the router as an abandon")
	testwait.Until(t, func() bool { return c.Waiting() == 0 }, "the caller's leg ended")
	require.Greater(t, tune(ph), 10, "the waiting caller heard music from our leg")
	require.True(t, log.has(inbound.EvEnter))
}

// A caller who gives up while ringing (CANCEL, answered 487 by the
// transaction) leaves the queue as an abandon, never answered.
func TestSIPInboundCancelWhileRingingIsAnAbandon(t *testing.T) {
	t.Parallel()
	u := loopbackUA(t)
	c, _, log := callerSide(t, u, time.Hour, nil, 7)
	ph := newPhone(t)
	file := scenario(t, "uac_caller_cancel.xml", "PHONEPORT", strconv.Itoa(int(ph.addr().Port())))
	s := sipptest.Start(t, sipptest.Options{Scenario: file, Calls: 1, Remote: u.udp.LocalAddr().String(),
		Args: []string{"-s", testDID}})
	sippPassed(t, s)
	testwait.Until(t, func() bool { return log.has(inbound.EvAbandon) }, "the CANCEL reached the router as an abandon")
	testwait.Until(t, func() bool { return c.Waiting() == 0 }, "the caller's leg ended")
}

// A number no queue answers is refused 404, without an answer.
func TestSIPInboundUnknownDIDIs404(t *testing.T) {
	t.Parallel()
	u := loopbackUA(t)
	c, _, log := callerSide(t, u, 100*time.Millisecond, nil, 7)
	s := sipptest.Start(t, sipptest.Options{Scenario: scenario(t, "uac_invite.xml", "EXPECT", "404"), Calls: 1,
		Remote: u.udp.LocalAddr().String(), Args: []string{"-s", "+12025550199"}})
	sippPassed(t, s)
	s = sipptest.Start(t, sipptest.Options{Scenario: scenario(t, "uac_invite.xml", "EXPECT", "404"), Calls: 1,
		Remote: u.udp.LocalAddr().String(), Args: []string{"-s", "not-a-number"}})
	sippPassed(t, s)
	testwait.Until(t, func() bool { return c.Waiting() == 0 }, "the refused callers' legs ended")
	require.False(t, log.has(inbound.EvEnter), "nothing was queued")
}

// A caller the queue sends away (no agents, hang-up) is answered, hears
// the dismiss tone and gets our BYE.
func TestSIPInboundDismissPlaysAndHangsUp(t *testing.T) {
	t.Parallel()
	u := loopbackUA(t)
	c, _, log := callerSide(t, u, 100*time.Millisecond, nil) // no members: "no agents" sends the caller away
	ph := newPhone(t)
	s := caller(t, u, ph, testDID, callerWaitsForBye, 0)
	sippPassed(t, s) // 180, 200, ACK, then our BYE
	require.True(t, log.has(inbound.EvExit), "the router sent the caller away")
	tone := DismissTone().Duration() // 1 s of tones, then 0.5 s of silence
	got := tune(ph)
	require.GreaterOrEqual(t, got, int(tone/(20*time.Millisecond))-35, "the caller heard the whole message before the BYE (%d packets)", got)
	testwait.Until(t, func() bool { return c.Waiting() == 0 }, "the caller's leg ended")
}

// An agent taking a waiting caller on a campaign's trunk (Trunk.Bridge,
// as the engine does when the agent accepts) makes the trunk the caller's:
// the caller's BYE reaches that campaign's loop as TrunkHungUp (not the
// router: no abandon), and controls are refused once the call is over.
func TestSIPInboundBridgedCallerTalksToTheAgentAndHangsUp(t *testing.T) {
	t.Parallel()
	ports := testPorts(t)
	u := startUA(t, Config{Media: MediaConfig{Ports: ports},
		KnownSource: func(a netip.Addr) bool { return a.IsLoopback() }})
	var ag agentPhones
	ag.add(t, ports, 1, newPhone(t), media.PCMU)
	tr, rec := newTrunk(t, u, TrunkOptions{AgentLegs: &ag}, TrunkConfig{Name: "carrier", URI: "sip:127.0.0.1:5999"})

	bridged := make(chan dialer.CallID, 1)
	var r *inbound.Router
	var c *Callers
	var log *queueLog
	c, r, log = callerSide(t, u, 100*time.Millisecond, takeOn(t, &r, tr, bridged), 1)
	r.AgentChanged(1, 1, agents.Ready, time.Now())

	ph := newPhone(t)
	s := caller(t, u, ph, testDID, callerHangsUp, 2000)
	var leg dialer.CallID
	select {
	case leg = <-bridged:
	case <-testwait.Expired(t):
		t.Fatal("the agent never took the caller")
	}
	require.True(t, IsCaller(leg))
	l, ok := c.leg(leg)
	require.True(t, ok)
	testwait.Until(t, func() bool {
		l.ctl.mu.Lock()
		defer l.ctl.mu.Unlock()
		return l.ctl.bridge != nil
	}, "the bridge is made once the answer is ACKed")

	sippPassed(t, s)
	ev := rec.waitFor(t, leg, dialer.TrunkHungUp)
	require.Equal(t, dialer.CauseNormalClearing.SIP, ev.Cause.SIP)
	require.False(t, log.has(inbound.EvAbandon), "a bridged caller's hang-up is the campaign's, not an abandon")
	require.True(t, log.has(inbound.EvConnect))
	testwait.Until(t, func() bool { return c.Waiting() == 0 }, "the caller's leg ended")
	require.ErrorIs(t, tr.Mute(context.Background(), leg), dialer.ErrTrunkRefused, "no controls after the end")
}

// bridgedCaller starts a caller who waits for our BYE and has agent 1 (a
// phone leg of ag) take them on tr as soon as they are queued; it returns
// the caller's sipp, their leg and RTP endpoint, and the router's log.
func bridgedCaller(t *testing.T, u *UA, tr *Trunk) (*sipptest.Sipp, *inLeg, *phone, *queueLog) {
	t.Helper()
	bridged := make(chan dialer.CallID, 1)
	var r *inbound.Router
	c, r, log := callerSide(t, u, 100*time.Millisecond, takeOn(t, &r, tr, bridged), 1)
	r.AgentChanged(1, 1, agents.Ready, time.Now())
	ph := newPhone(t)
	s := caller(t, u, ph, testDID, callerWaitsForBye, 0)
	var leg dialer.CallID
	select {
	case leg = <-bridged:
	case <-testwait.Expired(t):
		t.Fatal("the agent never took the caller")
	}
	l, ok := c.leg(leg)
	require.True(t, ok)
	testwait.Until(t, func() bool {
		l.ctl.mu.Lock()
		defer l.ctl.mu.Unlock()
		return l.ctl.bridge != nil
	}, "the bridge is made once the answer is ACKed")
	return s, l, ph, log
}

// A bridged caller and the agent's phone hear each other through our legs
// (the music stopped), each only from the leg facing them; Mute and Unmute
// work; Hold gives the caller music and keeps their voice from the agent,
// Resume brings both back; a conference is refused; the engine's Hangup
// sends our BYE and reports nothing back (the engine ended the call).
func TestSIPInboundBridgedCallerHoldResumeAndAgentHangup(t *testing.T) {
	t.Parallel()
	ports := testPorts(t)
	u := startUA(t, Config{Media: MediaConfig{Ports: ports},
		KnownSource: func(a netip.Addr) bool { return a.IsLoopback() }})
	var ag agentPhones
	agentPhone := newPhone(t)
	agentLeg := ag.add(t, ports, 1, agentPhone, media.PCMU)
	tr, rec := newTrunk(t, u, TrunkOptions{AgentLegs: &ag}, TrunkConfig{Name: "carrier", URI: "sip:127.0.0.1:5999"})
	s, l, ph, log := bridgedCaller(t, u, tr)
	leg := l.call
	callerLeg := l.ctl.media.LocalAddr()
	ctx := context.Background()

	agentPhone.send(agentLeg.LocalAddr(), 0, 0x44, 10)
	testwait.Until(t, func() bool { return ph.withFill(callerLeg, 0x44) == 10 }, "the agent's audio reaches the caller")
	ph.send(callerLeg, 0, 0x45, 10)
	testwait.Until(t, func() bool { return agentPhone.withFill(agentLeg.LocalAddr(), 0x45) == 10 }, "the caller's audio reaches the agent")
	require.Zero(t, ph.others(callerLeg), "the caller hears only our caller leg")
	require.Zero(t, agentPhone.others(agentLeg.LocalAddr()), "the agent hears only the agent leg")
	require.NoError(t, tr.Mute(ctx, leg))
	require.ErrorIs(t, tr.Mute(ctx, leg), dialer.ErrTrunkRefused, "already muted")
	require.NoError(t, tr.Unmute(ctx, leg))
	require.ErrorIs(t, tr.AddParty(ctx, leg, dialer.AgentTarget(2)), dialer.ErrTrunkRefused)
	require.ErrorIs(t, tr.Bridge(ctx, leg, 99), dialer.ErrTrunkRefused, "agent without a phone leg")

	require.ErrorIs(t, tr.Resume(ctx, leg), dialer.ErrTrunkRefused, "not on hold")
	require.NoError(t, tr.Hold(ctx, leg))
	require.ErrorIs(t, tr.Mute(ctx, leg), dialer.ErrTrunkRefused, "on hold")
	ph.send(callerLeg, 0, 0x66, 10)
	testwait.Until(t, func() bool { return l.ctl.media.Stats().PacketsIn >= 20 }, "our caller leg read what the held caller said")
	agentPhone.send(agentLeg.LocalAddr(), 0, 0x55, 10)
	testwait.Until(t, func() bool { return agentLeg.Stats().PacketsIn >= 20 }, "the agent leg read what the agent said")
	before := tune(ph)
	testwait.Until(t, func() bool { return tune(ph) >= before+10 }, "the held caller hears music")
	require.NoError(t, tr.Resume(ctx, leg))
	ph.send(callerLeg, 0, 0x67, 10)
	testwait.Until(t, func() bool { return agentPhone.withFill(agentLeg.LocalAddr(), 0x67) == 10 }, "after Resume the agent hears the caller")
	agentPhone.send(agentLeg.LocalAddr(), 0, 0x56, 10)
	testwait.Until(t, func() bool { return ph.withFill(callerLeg, 0x56) == 10 }, "after Resume the caller hears the agent")
	require.Zero(t, agentPhone.withFill(agentLeg.LocalAddr(), 0x66), "the agent never heard the held caller")
	require.Zero(t, ph.withFill(callerLeg, 0x55), "the held caller never heard the agent")

	require.NoError(t, tr.Hangup(ctx, leg))
	sippPassed(t, s) // our BYE, answered
	testwait.Until(t, func() bool { return l.c.Waiting() == 0 }, "the caller's leg ended")
	require.Empty(t, rec.of(leg), "the engine hung up: nothing to report")
	require.False(t, log.has(inbound.EvAbandon))
}

// A caller still waiting when the node stops (the UA's Stop, or serve
// closing its callers once the campaigns have stopped) gets our BYE and
// leaves the queue (an abandon); after Close a new caller gets 503.
func TestSIPInboundWaitingCallerAtShutdown(t *testing.T) {
	t.Parallel()
	for name, closed := range map[string]bool{"ua stop": false, "callers close": true} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			u := loopbackUA(t)
			c, _, log := callerSide(t, u, 100*time.Millisecond, nil, 7)
			ph := newPhone(t)
			s := caller(t, u, ph, testDID[1:], callerWaitsForBye, 0) // as carriers often send it: no "+"
			testwait.Until(t, func() bool { return log.has(inbound.EvEnter) && tune(ph) > 0 },
				"the caller waits, hearing music")
			if closed {
				c.Close()
			} else {
				u.Stop()
			}
			sippPassed(t, s)
			require.True(t, log.has(inbound.EvAbandon), "the caller left the queue")
			require.Zero(t, c.Waiting())
			if closed {
				s := sipptest.Start(t, sipptest.Options{Scenario: scenario(t, "uac_invite.xml", "EXPECT", "503"), Calls: 1,
					Remote: u.udp.LocalAddr().String(), Args: []string{"-s", testDID}})
				sippPassed(t, s)
			}
		})
	}
}

// The dialled number is taken in E.164, with or without its "+"; what is
// no number is refused.
func TestSIPInboundDIDOf(t *testing.T) {
	for in, want := range map[string]string{"+12025550100": "+12025550100", "12025550100": "+12025550100",
		"+1-202-555-0100": "+12025550100"} {
		got, err := didOf(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"2025550100", "02025550100", "support", "+"} {
		_, err := didOf(in)
		require.Error(t, err, in)
	}
}

// A caller reaching a node that runs none of their queue's agents is sent
// on by a 302 to the node that does (CallersConfig.Elsewhere), which
// queues them; the INVITE they bring there carries PlacedParam, so that
// node keeps them even though its own Elsewhere would send them back.
func TestSIPInboundCallerIsSentToTheNodeServingTheQueue(t *testing.T) {
	t.Parallel()
	here, there := loopbackUA(t), loopbackUA(t)
	var asked atomic.Int32
	_, _, hereLog := callerSideWith(t, here, CallersConfig{Ringback: 100 * time.Millisecond,
		Elsewhere: func(_ context.Context, did, from string) (string, bool, error) {
			asked.Add(1)
			if did != testDID || from != "+12025550177" {
				t.Errorf("asked where %s calling %s waits", from, did)
			}
			return there.PublicAddr(), true, nil
		}}, nil, 7)
	thereCallers, _, thereLog := callerSideWith(t, there, CallersConfig{Ringback: 100 * time.Millisecond,
		Elsewhere: func(context.Context, string, string) (string, bool, error) {
			t.Error("a caller sent here was asked about again")
			return here.PublicAddr(), true, nil
		}}, nil, 7)
	ph := newPhone(t)
	file := scenario(t, "uac_caller_redirected.xml", "PHONEPORT", strconv.Itoa(int(ph.addr().Port())), "PAUSE", "1500")
	s := sipptest.Start(t, sipptest.Options{Scenario: file, Calls: 1, Remote: here.udp.LocalAddr().String(),
		Args: []string{"-s", testDID}})
	sippPassed(t, s) // 302 from here; 180, 200 and the BYE's 200 from there
	testwait.Until(t, func() bool { return thereLog.has(inbound.EvAbandon) }, "the caller waited there and hung up")
	testwait.Until(t, func() bool { return thereCallers.Waiting() == 0 }, "the caller's leg there ended")
	require.True(t, thereLog.has(inbound.EvEnter))
	require.False(t, hereLog.has(inbound.EvEnter), "the first node never queued the caller")
	require.EqualValues(t, 1, asked.Load())
	require.Greater(t, tune(ph), 10, "the caller heard the music of the node they waited on")
}

// Where the caller's queue is served decides nothing when the question
// fails: the caller waits here.
func TestSIPInboundCallerStaysWhenPlacingFails(t *testing.T) {
	t.Parallel()
	u := loopbackUA(t)
	c, _, log := callerSideWith(t, u, CallersConfig{Ringback: 100 * time.Millisecond,
		Elsewhere: func(context.Context, string, string) (string, bool, error) {
			return "", false, errors.New("database unreachable")
		}}, nil, 7)
	ph := newPhone(t)
	sippPassed(t, caller(t, u, ph, testDID, callerHangsUp, 500))
	testwait.Until(t, func() bool { return log.has(inbound.EvAbandon) }, "the caller waited here and hung up")
	testwait.Until(t, func() bool { return c.Waiting() == 0 }, "the caller's leg ended")
}
