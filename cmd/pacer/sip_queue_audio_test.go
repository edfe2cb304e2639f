package main

import (
	"context"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/inbound"
	"github.com/pacer-dialer/pacer/internal/sipptest"
	"github.com/pacer-dialer/pacer/internal/testwait"
	"github.com/pacer-dialer/pacer/media"
)

// welcomeRun is how many packets a caller's socket received, from the
// start, whose first byte is level (the test's welcome is one level).
func welcomeRun(s *rtpSocket, level byte) (run, total int) {
	got := s.seen()
	for run < len(got) && got[run].b0 == level {
		run++
	}
	return run, len(got)
}

// A queue's welcome stored by another node (its API writes the row; this
// node is not told) reaches this node's SIP callers with its next reload of
// the queues, and is what they hear first, then the music; a caller who
// arrived before keeps what they heard (the music alone).
func TestQueueWelcomeStoredElsewhereReachesTheNodesCallers(t *testing.T) {
	t.Parallel()
	sipptest.Need(t)
	dbURL, db := sipDB(t)
	ctx := context.Background()
	// A campaign running on a trunk on loopback, so callers from there are
	// let in; nobody serves the queue, which keeps its callers waiting.
	name, uri := "carrier", "sip:127.0.0.1:"+strconv.Itoa(sipptest.FreeUDPPort(t))
	_, err := campaigns.AddTrunk(ctx, db, campaigns.TrunkSpec{Name: &name, URI: &uri})
	require.NoError(t, err)
	c, err := campaigns.CreateWithChange(ctx, db, "Inbound only", campaigns.Change{
		Settings: map[string]string{"mode": "manual", "simulated": "false"}, SetTrunks: true, Trunks: []string{name}})
	require.NoError(t, err)
	_, err = campaigns.SetStatus(ctx, db, c.ID, campaigns.StatusActive)
	require.NoError(t, err)
	const did = "+12025550100"
	qs := inbound.NewQueueStore(db)
	q := makeQueue(t, db, inbound.Queue{Name: "Support", ComfortEvery: inbound.DefaultComfortEvery}, did, nil)

	sipPort := sipptest.FreeUDPPort(t)
	var side atomic.Pointer[inboundSide]
	serveWeb(t, serveOptions{db: dbOptions{url: dbURL}, httpAddr: "127.0.0.1:0", nodeID: "sip-node",
		engine: engineOptions{noDemo: true, poll: 100 * time.Millisecond, summary: -1,
			onInbound: func(s *inboundSide) { side.Store(s) }},
		web: webOptions{bcryptCost: bcrypt.MinCost, sessionTTL: time.Hour},
		sip: sipOptions{addr: "127.0.0.1:" + strconv.Itoa(sipPort), rtpPorts: "30000-39999"}})

	dir := t.TempDir()
	call := func(name string) (*sipptest.Sipp, *rtpSocket) {
		sock := listenRTP(t)
		s := sipptest.Start(t, sipptest.Options{Scenario: "testdata/e2e_caller.xml", Calls: 1,
			Remote: "127.0.0.1:" + strconv.Itoa(sipPort),
			Args:   []string{"-s", did, "-set", "out", filepath.Join(dir, name), "-set", "media", strconv.Itoa(sock.port())}})
		return s, sock
	}
	const welcomeSamples = 8000 // one second of one level: 50 packets of one byte
	welcome := make([]int16, welcomeSamples)
	for i := range welcome {
		welcome[i] = 3000
	}
	pcmu := media.PCMU.Encode(nil, welcome)
	level := pcmu[0]

	first, firstSock := call("first.txt")
	testwait.Until(t, func() bool { _, n := welcomeRun(firstSock, level); return n >= 60 }, "the first caller hears the queue")
	run, _ := welcomeRun(firstSock, level)
	require.Less(t, run, 5, "no welcome yet: the music from the start")

	_, err = qs.SaveAudio(ctx, inbound.AudioUpload{Queue: q.ID, Kind: inbound.AudioWelcome, PCMU: pcmu,
		FileName: "welcome.wav", UploadedBy: "max", At: time.Now()})
	require.NoError(t, err)
	testwait.Until(t, func() bool { s := side.Load(); return s != nil && s.Sounds.ForDID(did).Welcome != nil },
		"the node has the welcome from its reload of the queues")

	second, secondSock := call("second.txt")
	testwait.Until(t, func() bool { _, n := welcomeRun(secondSock, level); return n >= 60 }, "the second caller hears the queue")
	run, _ = welcomeRun(secondSock, level)
	require.InDelta(t, welcomeSamples/160, run, 1, "the second caller hears the whole welcome first, then the music")
	run, _ = welcomeRun(firstSock, level)
	require.Less(t, run, 5, "the first caller keeps what they heard")

	sippExits(t, first, "the first caller's call did not end", "the first caller was answered and hung up")
	sippExits(t, second, "the second caller's call did not end", "the second caller was answered and hung up")
}
