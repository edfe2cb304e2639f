package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/dialer/blend"
	"github.com/pacer-dialer/pacer/dialer/sip"
	"github.com/pacer-dialer/pacer/inbound"
	"github.com/pacer-dialer/pacer/internal/sipptest"
	"github.com/pacer-dialer/pacer/internal/testwait"
)

// The whole product on real SIP, inbound: a queue on a DID served by ann,
// whose campaign dials through a trunk on loopback and whose phone is a
// sipp that auto-answers her nailed-up leg. A caller (sipp, from the trunk
// host) dials the DID: Pacer rings (180), answers, and the caller hears
// music while ann, READY, is offered the call. She accepts (through her
// campaign's loop, what the workspace's accept does); the caller is
// bridged into her phone leg and each hears the other, told apart by
// payload. The caller hangs up: ann is in DISPO, and the call is recorded
// as an inbound call of the queue, hers.
func TestSIPInboundCallerReachesTheAgentsPhone(t *testing.T) {
	t.Parallel()
	sipptest.Need(t)
	dir := t.TempDir()
	callerSock, annPhone := listenRTP(t), listenRTP(t)
	callerLog, annLog := filepath.Join(dir, "caller.txt"), filepath.Join(dir, "ann.txt")
	annSet := startSipp(t, "e2e_phone.xml", 1, annLog, annPhone, 0)

	dbURL, db := sipDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The trunk is only where callers come from: its campaign has no leads.
	c, ann := sipCampaign(t, db, sipptest.FreeUDPPort(t), annSet.Port, 0)
	const did = "+12025550100"
	q := makeQueue(t, db, inbound.Queue{Name: "Support"}, did, map[int64]int{int64(ann): 1})

	sipPort := sipptest.FreeUDPPort(t)
	var mgr atomic.Pointer[dialer.Manager]
	base, stop := serveWeb(t, serveOptions{db: dbOptions{url: dbURL}, httpAddr: "127.0.0.1:0", nodeID: "sip-inbound",
		engine: engineOptions{noDemo: true, poll: 100 * time.Millisecond, summary: -1,
			onManager: func(m *dialer.Manager) { mgr.Store(m) }},
		web: webOptions{bcryptCost: bcrypt.MinCost, sessionTTL: time.Hour},
		sip: sipOptions{addr: "127.0.0.1:" + strconv.Itoa(sipPort), rtpPorts: "30000-39999"}})

	const callerVoice, annVoice = 0x33, 0x22
	voice := func(b byte) []byte { return bytes.Repeat([]byte{b}, 160) }
	go portsWritten(ctx, annLog, func(_, port int) { annPhone.say(ctx, port, 0xa11, 1<<20, voice(annVoice)) })
	callerPort := make(chan int, 1)
	go portsWritten(ctx, callerLog, func(_, port int) { callerPort <- port })

	annC := loginAgent(t, base, "ann")
	annC.ready(c.ID) // refused until her phone leg is up
	caller := sipptest.Start(t, sipptest.Options{Scenario: "testdata/e2e_caller.xml", Calls: 1,
		Remote: "127.0.0.1:" + strconv.Itoa(sipPort),
		Args:   []string{"-s", did, "-set", "out", callerLog, "-set", "media", strconv.Itoa(callerSock.port())}})

	var pacerPort int
	select {
	case pacerPort = <-callerPort:
	case <-testwait.Expired(t):
		t.Fatalf("the caller was never answered: %s", caller.Output())
	}
	testwait.Until(t, func() bool { return byPort(callerSock)[uint16(pacerPort)] > 10 }, "the waiting caller hears music from Pacer")
	testwait.Until(t, func() bool { return annC.agentState().State == "RINGING" }, "ann is offered the caller")
	require.Zero(t, heardFrom(annPhone, callerVoice), "ann hears nothing of the caller before she accepts")

	loop, err := mgr.Load().Loop(ctx, dialer.CampaignID(c.ID))
	require.NoError(t, err)
	require.NoError(t, loop.AgentEvent(ctx, ann, agents.Event{Kind: agents.EvAccept}))
	require.Equal(t, "INCALL", annC.agentState().State)
	go callerSock.say(ctx, pacerPort, 0xca11, 1<<20, voice(callerVoice))
	testwait.Until(t, func() bool { return heardFrom(annPhone, callerVoice) > 25 && heardFrom(callerSock, annVoice) > 25 },
		"ann and the caller hear each other")

	sippExits(t, caller, "the caller's call did not end", "the caller was answered and hung up as its scenario says")
	testwait.Until(t, func() bool { return annC.agentState().State == "DISPO" }, "ann dispositions the call the caller ended")
	annC.disposition("NI")

	var direction string
	var queue int64
	var agent int64
	testwait.Until(t, func() bool {
		err := db.QueryRow(ctx, `SELECT direction, queue_id, agent_id FROM calls WHERE campaign_id = $1 AND disposition IS NOT NULL`,
			c.ID).Scan(&direction, &queue, &agent)
		return err == nil
	}, "the inbound call is recorded")
	require.Equal(t, "inbound", direction)
	require.Equal(t, int64(q.ID), queue)
	require.Equal(t, int64(ann), agent)
	var kinds []string
	testwait.Until(t, func() bool {
		rows, err := db.Query(ctx, `SELECT kind || ' ' || did || ' ' || from_number || ' ' || (call_key >= $2)::text
			FROM queue_events WHERE queue_id = $1 ORDER BY seq`, q.ID, int64(sip.CallerLegBase))
		require.NoError(t, err)
		kinds = nil
		for rows.Next() {
			var k string
			require.NoError(t, rows.Scan(&k))
			kinds = append(kinds, k)
		}
		return len(kinds) == 3
	}, "the queue's events are written")
	require.Equal(t, []string{"enter " + did + " +12025550177 true", "offer " + did + " +12025550177 true",
		"connect " + did + " +12025550177 true"}, kinds, "one SIP caller, queued, offered to ann and connected")

	stop()
	sippExits(t, annSet, "ann's phone leg was not hung up at shutdown", "one phone leg for the session")
}

type noPokes struct{}

func (noPokes) Poke(agents.ID)                      {}
func (noPokes) Withdraw(agents.ID, inbound.CallKey) {}

// serve's rule for who may be offered which caller: a SIP caller only
// agents on a SIP campaign (their phone leg is what a caller is bridged
// to), a simulated caller only agents on the simulated carrier; an agent
// whose campaign is not known yet is not refused.
func TestSIPInboundCallersOnlyReachAgentsOnSIPCampaigns(t *testing.T) {
	s := &inboundSide{loops: &blend.Loops{}}
	r, err := inbound.NewRouter(inbound.Config{}, inbound.Deps{Notify: noPokes{}, Line: callerLine{s}})
	require.NoError(t, err)
	e := blend.Engines{R: r, Where: s.loops}
	s.carries(1, true)
	s.carries(2, false)
	now := time.Now()
	e.AgentChanged(10, 1, agents.Ready, now)
	e.AgentChanged(20, 2, agents.Ready, now)
	sipCaller, simCaller := blend.Key(sip.CallerLegBase+5), blend.Key(blend.LegBase+5)
	require.True(t, s.canTake(10, sipCaller))
	require.False(t, s.canTake(10, simCaller))
	require.False(t, s.canTake(20, sipCaller))
	require.True(t, s.canTake(20, simCaller))
	require.True(t, s.canTake(30, sipCaller), "an agent not placed yet")
}
