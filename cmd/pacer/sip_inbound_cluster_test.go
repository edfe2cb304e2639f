package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/pacer-dialer/pacer/dialer/sip"
	"github.com/pacer-dialer/pacer/inbound"
	"github.com/pacer-dialer/pacer/internal/sipptest"
	"github.com/pacer-dialer/pacer/internal/testwait"
)

// Two nodes with SIP, ann's campaign on one: a SIP caller who reaches the
// other node (as a load balancer in front may send them) is answered 302
// to the first node's registered SIP address, follows it (sipp, as a trunk
// does), and waits and is offered to ann there; the other node never
// queues them.
func TestSIPCallerReachingTheWrongNodeIsSentToTheAgentsNode(t *testing.T) {
	t.Parallel()
	sipptest.Need(t)
	dir := t.TempDir()
	annPhone := listenRTP(t)
	annSet := startSipp(t, "e2e_phone.xml", 1, filepath.Join(dir, "ann.txt"), annPhone, 0)
	dbURL, db := sipDB(t)
	ctx := context.Background()
	c, ann := sipCampaign(t, db, sipptest.FreeUDPPort(t), annSet.Port, 0)
	const did = "+12025550100"
	qs := inbound.NewQueueStore(db)
	q, err := qs.CreateQueue(ctx, inbound.Queue{Name: "Support", NoAgents: inbound.Fallback{Action: inbound.ActionWait},
		AtClose: inbound.Fallback{Action: inbound.ActionWait}}.WithDefaults())
	require.NoError(t, err)
	_, err = qs.SetDID(ctx, did, q.ID)
	require.NoError(t, err)
	_, err = qs.SetMember(ctx, inbound.Member{Queue: q.ID, Agent: ann, Level: 1})
	require.NoError(t, err)

	node := func(id string, port int) (string, func()) {
		return serveWeb(t, serveOptions{db: dbOptions{url: dbURL}, httpAddr: "127.0.0.1:0", nodeID: id,
			engine: engineOptions{noDemo: true, poll: 100 * time.Millisecond, summary: -1},
			web:    webOptions{bcryptCost: bcrypt.MinCost, sessionTTL: time.Hour},
			sip:    sipOptions{addr: "127.0.0.1:" + strconv.Itoa(port), rtpPorts: "30000-39999"}})
	}
	aPort, bPort := sipptest.FreeUDPPort(t), sipptest.FreeUDPPort(t)
	aBase, stopA := node("sip-a", aPort)
	defer stopA()
	testwait.Until(t, func() bool {
		return countRows(t, db, `SELECT count(*) FROM campaign_leases WHERE campaign_id = $1 AND node_id = 'sip-a'`, c.ID) == 1
	}, "the first node owns the campaign")
	_, stopB := node("sip-b", bPort)
	defer stopB()
	require.Equal(t, 1, countRows(t, db, `SELECT count(*) FROM nodes WHERE id = 'sip-a' AND sip_addr = $1`,
		"127.0.0.1:"+strconv.Itoa(aPort)), "each node registers where it takes SIP callers")

	annC := loginAgent(t, aBase, "ann")
	annC.ready(c.ID)

	b, err := os.ReadFile("../../dialer/sip/testdata/uac_caller_redirected.xml")
	require.NoError(t, err)
	scenario := filepath.Join(dir, "caller.xml")
	callerSock := listenRTP(t)
	require.NoError(t, os.WriteFile(scenario, []byte(strings.NewReplacer("PHONEPORT", strconv.Itoa(callerSock.port()),
		"PAUSE", "3000").Replace(string(b))), 0o644))
	caller := sipptest.Start(t, sipptest.Options{Scenario: scenario, Calls: 1, Remote: "127.0.0.1:" + strconv.Itoa(bPort),
		Args: []string{"-s", did}})
	sippExits(t, caller, "the caller's call did not end",
		"the caller was sent on by a 302, answered on the first node and hung up as its scenario says")

	testwait.Until(t, func() bool {
		return countRows(t, db, `SELECT count(*) FROM queue_events WHERE queue_id = $1 AND node = 'sip-a'
			AND kind IN ('enter', 'offer', 'abandon') AND call_key >= $2`, q.ID, int64(sip.CallerLegBase)) == 3
	}, "the caller waited on ann's node, was offered to her and hung up")
	require.Zero(t, countRows(t, db, `SELECT count(*) FROM queue_events WHERE node = 'sip-b'`), "the other node never queued them")
	stopB()
	stopA()
	sippExits(t, annSet, "ann's phone leg was not hung up at shutdown", "one phone leg for the session")
}
