package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

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
	c, ann := sipCampaign(t, db, sipptest.FreeUDPPort(t), annSet.Port, 0)
	const did = "+12025550100"
	q := makeQueue(t, db, inbound.Queue{Name: "Support"}, did, map[int64]int{int64(ann): 1})

	aPort, bPort := sipptest.FreeUDPPort(t), sipptest.FreeUDPPort(t)
	aBase, stopA := serveSIPOn(t, dbURL, "sip-a", "127.0.0.1:"+strconv.Itoa(aPort))
	defer stopA()
	testwait.Until(t, func() bool {
		return countRows(t, db, `SELECT count(*) FROM campaign_leases WHERE campaign_id = $1 AND node_id = 'sip-a'`, c.ID) == 1
	}, "the first node owns the campaign")
	_, stopB := serveSIPOn(t, dbURL, "sip-b", "127.0.0.1:"+strconv.Itoa(bPort))
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
