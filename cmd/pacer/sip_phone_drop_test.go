package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/internal/sipptest"
	"github.com/pacer-dialer/pacer/internal/testwait"
)

// Issue 13, item 4, the unhappy path, on the whole product: the real
// `pacer serve` binary, its database, sipp as the carrier and as the agent's
// phone. A phone leg that drops is redialled; meanwhile the agent is PAUSED
// with code PHONE, the workspace says "Phone disconnected: reconnecting",
// and no customer is dialled for them; when the phone answers again the
// agent is READY by themselves and the next customer is bridged into the
// new leg.

const phoneDownLabel = "Phone disconnected: reconnecting"

// servePhoneDrop runs the real binary on dbURL with SIP on loopback and
// returns its base URL and what stops it (SIGTERM, clean exit required).
func servePhoneDrop(t *testing.T, dbURL string) (base string, stop func()) {
	t.Helper()
	addr := freeAddr(t)
	// --agent-gone-after -1s: the agent is an API client with no workspace
	// socket open, which must not log her out while the phone is down.
	stop, logs := startPacer(t, workDir(t), cleanEnv("DATABASE_URL="+dbURL), "serve", "--http-addr", addr,
		"--no-demo", "--campaign-poll", "100ms", "--agent-gone-after", "-1s", "--rtp-ports", "30000-39999")
	waitReady(t, addr, logs)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("pacer logs:\n%s", logs)
		}
	})
	return "http://" + addr, stop
}

// phoneLeg is one line a phone scenario wrote: the call's number in that
// sipp, Pacer's RTP port for the leg and the leg's SIP Call-ID.
type phoneLeg struct {
	call, port int
	callID     string
}

// phoneLegs follows the file a phone scenario appends its legs to and sends
// each leg once.
func phoneLegs(ctx context.Context, path string) <-chan phoneLeg {
	out := make(chan phoneLeg, 8)
	go func() {
		seen := 0
		for ctx.Err() == nil {
			if b, err := os.ReadFile(path); err == nil {
				lines := strings.Split(string(b), "\n")
				for ; seen < len(lines)-1; seen++ { // the last element is after the final newline
					var l phoneLeg
					if _, err := fmt.Sscan(lines[seen], &l.call, &l.port, &l.callID); err == nil {
						out <- l
					}
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return out
}

func nextLeg(t *testing.T, legs <-chan phoneLeg, what string) phoneLeg {
	t.Helper()
	select {
	case l := <-legs:
		return l
	case <-testwait.Expired(t):
		t.Fatalf("%s: no phone leg came up", what)
		return phoneLeg{}
	}
}

// dropPhone asks the sipp phone at addr to put its line down: an INFO in the
// leg's dialog, which e2e_phone_drop.xml answers by sending Pacer a BYE.
func dropPhone(t *testing.T, addr string, leg phoneLeg) {
	t.Helper()
	c, err := net.Dial("udp4", addr)
	require.NoError(t, err)
	defer c.Close()
	local := c.LocalAddr().String()
	msg := strings.Join([]string{
		"INFO sip:agent@" + addr + " SIP/2.0",
		"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK-drop-" + strconv.Itoa(leg.port),
		"From: <sip:test@127.0.0.1>;tag=drop",
		"To: <sip:agent@" + addr + ">",
		"Call-ID: " + leg.callID,
		"CSeq: 1 INFO",
		"Max-Forwards: 70",
		"Content-Length: 0",
		"", ""}, "\r\n")
	_, err = c.Write([]byte(msg))
	require.NoError(t, err)
}

// deadPhone stands at a phone's address while the phone is away: it sees
// Pacer's redials and, when decline is set, answers each 480 Temporarily
// Unavailable (a phone whose line is unplugged behind a PBX), else nothing
// at all (a phone that is switched off).
type deadPhone struct {
	conn    *net.UDPConn
	decline bool

	mu      sync.Mutex
	invites []string        // Call-IDs, in order, each once
	acked   map[string]bool // Call-IDs whose 480 Pacer ACKed
	closed  chan struct{}
}

func standInPhone(t *testing.T, port int, decline bool) *deadPhone {
	t.Helper()
	var c *net.UDPConn
	// The sipp that held the port has exited; the kernel lets it go at once.
	testwait.Until(t, func() bool {
		var err error
		c, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
		return err == nil
	}, "bind the phone's port %d", port)
	d := &deadPhone{conn: c, decline: decline, acked: map[string]bool{}, closed: make(chan struct{})}
	go d.serve()
	t.Cleanup(d.close)
	return d
}

func (d *deadPhone) close() {
	select {
	case <-d.closed:
	default:
		d.conn.Close()
		<-d.closed
	}
}

func (d *deadPhone) serve() {
	defer close(d.closed)
	buf := make([]byte, 65535)
	for {
		n, from, err := d.conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		msg := string(buf[:n])
		method, _, _ := strings.Cut(msg, " ")
		callID := sipHeader(msg, "Call-ID", "i")
		d.mu.Lock()
		switch method {
		case "INVITE":
			if !slices.Contains(d.invites, callID) {
				d.invites = append(d.invites, callID)
			}
		case "ACK":
			d.acked[callID] = true
		}
		d.mu.Unlock()
		if method == "INVITE" && d.decline {
			_, _ = d.conn.WriteToUDP([]byte(declined(msg)), from)
		}
	}
}

// calls is the Call-IDs of the INVITEs seen, and how many of them were
// ACKed.
func (d *deadPhone) calls() (ids []string, acked int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, id := range d.invites {
		if d.acked[id] {
			acked++
		}
	}
	return append([]string(nil), d.invites...), acked
}

// sipHeader is the value of the first header called name (or its compact
// form) in msg.
func sipHeader(msg, name, compact string) string {
	for _, line := range strings.Split(msg, "\r\n")[1:] {
		if line == "" {
			break
		}
		k, v, ok := strings.Cut(line, ":")
		if ok && (strings.EqualFold(strings.TrimSpace(k), name) || strings.EqualFold(strings.TrimSpace(k), compact)) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// declined is the 480 answer to the INVITE msg.
func declined(msg string) string {
	var via []string
	for _, line := range strings.Split(msg, "\r\n")[1:] {
		if line == "" {
			break
		}
		if k, _, _ := strings.Cut(line, ":"); strings.EqualFold(k, "Via") || strings.EqualFold(k, "v") {
			via = append(via, line)
		}
	}
	lines := append([]string{"SIP/2.0 480 Temporarily Unavailable"}, via...)
	lines = append(lines,
		"From: "+sipHeader(msg, "From", "f"),
		"To: "+sipHeader(msg, "To", "t")+";tag=unplugged",
		"Call-ID: "+sipHeader(msg, "Call-ID", "i"),
		"CSeq: "+sipHeader(msg, "CSeq", ""),
		"Content-Length: 0", "", "")
	return strings.Join(lines, "\r\n")
}

// campaignCalls is how many calls the campaign has placed (a row is written
// when a call is dialled) and how many were ever connected to an agent.
func campaignCalls(t *testing.T, db *pgxpool.Pool, c campaigns.ID) (placed, connected int) {
	t.Helper()
	require.NoError(t, db.QueryRow(context.Background(),
		`SELECT count(*), count(connected_at) FROM calls WHERE campaign_id = $1`, c).Scan(&placed, &connected))
	return placed, connected
}

// firstLeg is the first call to the phone, which the scenario writes to
// log; the phone talks on it until stopTalk.
func firstLeg(ctx context.Context, t *testing.T, phone *rtpSocket, log string) (leg phoneLeg, stopTalk func()) {
	t.Helper()
	leg = nextLeg(t, phoneLegs(ctx, log), "first call to the phone")
	talk, stopTalk := context.WithCancel(ctx)
	go phone.talk(talk, leg.port, 0xa6e17, 1<<20)
	return leg, stopTalk
}

// hangUpPhone has the sipp phone handset put its line down on leg and
// requires Pacer to answer its BYE (the scenario then ends cleanly).
func hangUpPhone(t *testing.T, handset *sipptest.Sipp, leg phoneLeg) {
	t.Helper()
	dropPhone(t, handset.Addr, leg)
	sippExits(t, handset, "the phone's BYE was not answered", "Pacer answered the phone's BYE")
}

// requirePhoneDown requires st to be PAUSED (why says when) with code
// PHONE, and the workspace to say the phone is disconnected.
func requirePhoneDown(t *testing.T, st agentStateJSON, why string) {
	t.Helper()
	require.Equal(t, "PAUSED", st.State, why)
	require.Equal(t, "PHONE", st.PauseCode)
	require.Equal(t, phoneDownLabel, st.PauseLabel, "the workspace says why")
}

// A power campaign's agent takes a customer on her phone, wraps up and is
// READY; then the phone hangs up its line. She is PAUSED with code PHONE and
// her workspace says the phone is disconnected; Pacer redials the phone
// (here it is unavailable twice: 480) and, while it is down, a lead that
// arrives is not dialled for her. When the phone answers again she is READY
// without doing anything, the lead is dialled, and the customer is bridged
// into the new leg: each hears the other at the packet level.
func TestSIPPhoneDropIsRedialledAndTheAgentIsReadyAgain(t *testing.T) {
	t.Parallel()
	sipptest.Need(t)
	dir := t.TempDir()
	customers, phone := listenRTP(t), listenRTP(t)
	carrierLog := filepath.Join(dir, "carrier.txt")
	phone1Log, phone2Log := filepath.Join(dir, "phone1.txt"), filepath.Join(dir, "phone2.txt")
	carrier := startSipp(t, "e2e_carrier.xml", 2, carrierLog, customers, 0)
	handset := startSipp(t, "e2e_phone_drop.xml", 1, phone1Log, phone, 0)

	dbURL, db := sipDB(t)
	c, ann := sipCampaign(t, db, carrier.Port, handset.Port, 1)
	base, stop := servePhoneDrop(t, dbURL)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// Each customer talks for three seconds once answered.
	voices := customersTalk(ctx, customers, carrierLog)

	agent := loginAgent(t, base, "ann")
	agent.ready(c.ID) // refused (409) until her phone leg is up
	leg1, stopTalk1 := firstLeg(ctx, t, phone, phone1Log)

	// 1. The first customer, bridged, hangs up; she disposes and is READY
	// (the campaign has no other lead yet).
	testwait.Until(t, func() bool { return agent.agentState().State == "DISPO" }, "the first customer talked and hung up")
	agent.disposition("NI")
	testwait.Until(t, func() bool { return agent.agentState().State == "READY" }, "READY after the disposition")
	testwait.Until(t, voices.done(1), "the first customer finished talking")

	// 2. The phone hangs up its line.
	hangUpPhone(t, handset, leg1)
	stopTalk1()
	unplugged := standInPhone(t, handset.Port, true)

	var st agentStateJSON
	testwait.Until(t, func() bool { st = agent.agentState(); return st.State == "PAUSED" }, "the agent is paused when her phone drops")
	requirePhoneDown(t, st, "paused when her phone drops")

	// A lead arrives while the phone is down: a READY agent of a power
	// campaign would have it dialled at once.
	_, err := campaigns.Import(context.Background(), db, strings.NewReader("phone\n"+openNumber(t)+"7\n"),
		campaigns.ImportOptions{Campaign: c.ID, Name: "later.csv", Format: campaigns.FormatCSV})
	require.NoError(t, err)
	ids, _ := unplugged.calls()
	testwait.Until(t, func() bool {
		st := agent.agentState()
		require.Equal(t, "PAUSED", st.State, "paused for as long as the phone is down")
		require.Equal(t, "PHONE", st.PauseCode)
		got, acked := unplugged.calls()
		return len(got) >= len(ids)+2 && acked == len(got)
	}, "Pacer redials the phone, which is unavailable, twice after the lead arrived")
	requirePhoneDown(t, agent.agentState(), "still paused while the phone is down")
	placed, connected := campaignCalls(t, db, c.ID)
	require.Equal(t, 1, placed, "no customer was dialled for the agent while her phone was down")
	require.Equal(t, 1, connected)
	var status string
	require.NoError(t, db.QueryRow(context.Background(),
		`SELECT status FROM leads WHERE campaign_id = $1 AND attempts = 0`, c.ID).Scan(&status))
	require.Equal(t, "new", status, "the new lead waits for an agent with a phone")

	// 3. The phone is back: the next redial is answered.
	unplugged.close()
	handset2 := startSipp(t, "e2e_phone_drop.xml", 1, phone2Log, phone, handset.Port)
	leg2 := nextLeg(t, phoneLegs(ctx, phone2Log), "the redial")
	require.NotEqual(t, leg1.port, leg2.port, "a new leg, on a new RTP port")
	go phone.talk(ctx, leg2.port, 0xa6e18, 1<<20)

	// Nobody asks for READY: she is READY when her phone answers, and the
	// lead is dialled and bridged to her.
	testwait.Until(t, func() bool { s := agent.agentState().State; return s == "INCALL" || s == "DISPO" },
		"the next customer is bridged to the agent by itself")
	testwait.Until(t, func() bool { return agent.agentState().State == "DISPO" }, "the second customer talked and hung up")
	agent.disposition("NI")
	sippExits(t, carrier, "the carrier did not see its two calls end", "the carrier's calls went as its scenario says")
	testwait.Until(t, voices.done(2), "the second customer finished talking")
	placed, connected = campaignCalls(t, db, c.ID)
	require.Equal(t, 2, placed)
	require.Equal(t, 2, connected)
	var agentID int64
	require.NoError(t, db.QueryRow(context.Background(),
		`SELECT agent_id FROM calls WHERE campaign_id = $1 ORDER BY dialed_at DESC LIMIT 1`, c.ID).Scan(&agentID))
	require.Equal(t, int64(ann), agentID)

	// The second customer and the agent heard each other through the new
	// leg: the phone got the customer from Pacer's port of leg 2, and the
	// customer got the agent from Pacer's port of their call.
	fromLeg, heardAgent, sent := byPort(phone), byPort(customers), voices.bySent()
	t.Logf("phone heard %v (by Pacer port; leg 1 %d, leg 2 %d); customers sent %v and heard %v",
		fromLeg, leg1.port, leg2.port, sent, heardAgent)
	requireHeardAgent(t, sent, heardAgent)
	require.Greater(t, fromLeg[uint16(leg1.port)], 25, "the phone heard the first customer on leg 1")
	require.Greater(t, fromLeg[uint16(leg2.port)], 25, "the phone heard the second customer on leg 2")

	stop()
	sippExits(t, handset2, "the redialled leg was not hung up at shutdown", "the redialled leg, up to the end, hung up at shutdown")
}

// A phone that drops and then does not answer at all (switched off): the
// agent stays PAUSED with code PHONE while Pacer calls it, READY is refused
// with the reason, and she can log out. Logging out lets go of the phone
// leg entirely: when she logs in again Pacer calls the phone afresh (a
// stranded leg would make the new login a no-op for the phone), that call is
// answered and she is READY, and her next logout hangs it up.
func TestSIPPhoneThatDoesNotAnswerKeepsTheAgentPausedAndLogoutIsClean(t *testing.T) {
	t.Parallel()
	sipptest.Need(t)
	dir := t.TempDir()
	phone := listenRTP(t)
	phone1Log, phone2Log := filepath.Join(dir, "phone1.txt"), filepath.Join(dir, "phone2.txt")
	handset := startSipp(t, "e2e_phone_drop.xml", 1, phone1Log, phone, 0)

	dbURL, db := sipDB(t)
	// No leads: the agent waits READY and nothing is dialled. The trunk
	// points at a port nobody listens on.
	c, _ := sipCampaign(t, db, sipptest.FreeUDPPort(t), handset.Port, 0)
	base, stop := servePhoneDrop(t, dbURL)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	agent := loginAgent(t, base, "ann")
	agent.ready(c.ID)
	leg, stopTalk := firstLeg(ctx, t, phone, phone1Log)

	hangUpPhone(t, handset, leg)
	stopTalk()
	off := standInPhone(t, handset.Port, false)
	testwait.Until(t, func() bool { ids, _ := off.calls(); return len(ids) > 0 }, "Pacer redials the phone")

	requirePhoneDown(t, agent.agentState(), "paused while the phone rings unanswered")
	code, body := agent.do("POST", "/api/v1/agent/state", map[string]any{"state": "READY"}, true)
	require.Equal(t, http.StatusConflict, code, body)
	require.Contains(t, body, "your phone is not connected")
	require.Equal(t, "PAUSED", agent.agentState().State)

	code, body = agent.do("POST", "/api/v1/agent/state", map[string]any{"state": "LOGGED_OUT"}, true)
	require.Equal(t, http.StatusNoContent, code, body)
	require.Equal(t, "LOGGED_OUT", agent.agentState().State)
	ids, acked := off.calls()
	require.Zero(t, acked, "the phone never answered")
	off.close()

	// Logged in again with the phone back on: it is called afresh and
	// answered, and she is READY.
	handset2 := startSipp(t, "e2e_phone_drop.xml", 1, phone2Log, phone, handset.Port)
	agent.ready(c.ID)
	leg2 := nextLeg(t, phoneLegs(ctx, phone2Log), "the call after the new login")
	require.NotContains(t, ids, leg2.callID, "a new call, not the unanswered one")
	st := agent.agentState()
	require.Equal(t, "READY", st.State)
	require.Empty(t, st.PauseCode)

	code, body = agent.do("POST", "/api/v1/agent/state", map[string]any{"state": "LOGGED_OUT"}, true)
	require.Equal(t, http.StatusNoContent, code, body)
	sippExits(t, handset2, "the phone was not hung up at logout", "one call to the phone after the new login, hung up at logout")
	b, err := os.ReadFile(phone2Log)
	require.NoError(t, err)
	require.Equal(t, 1, strings.Count(string(b), "\n"), "the phone was called once after the new login: %s", b)
	stop()
}

// A phone that drops while its agent talks to a customer: the customer
// would talk to no one, so Pacer hangs the customer up (the carrier gets a
// BYE) and records why; the agent wraps the call up as any other and is
// PAUSED with code PHONE after the disposition, not READY; when the phone
// answers the redial she is READY by herself.
func TestSIPPhoneDropDuringACallEndsTheCustomersCall(t *testing.T) {
	t.Parallel()
	sipptest.Need(t)
	dir := t.TempDir()
	customers, phone := listenRTP(t), listenRTP(t)
	phone1Log, phone2Log := filepath.Join(dir, "phone1.txt"), filepath.Join(dir, "phone2.txt")
	carrier := startSipp(t, "e2e_carrier_stays.xml", 1, filepath.Join(dir, "carrier.txt"), customers, 0)
	handset := startSipp(t, "e2e_phone_drop.xml", 1, phone1Log, phone, 0)

	dbURL, db := sipDB(t)
	c, ann := sipCampaign(t, db, carrier.Port, handset.Port, 1)
	base, stop := servePhoneDrop(t, dbURL)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	agent := loginAgent(t, base, "ann")
	agent.ready(c.ID)
	leg, stopTalk := firstLeg(ctx, t, phone, phone1Log)
	testwait.Until(t, func() bool { return agent.agentState().State == "INCALL" }, "the customer is bridged to the agent")

	hangUpPhone(t, handset, leg)
	stopTalk()
	unplugged := standInPhone(t, handset.Port, true)
	sippExits(t, carrier, "the customer was not hung up when the agent's phone dropped", "the customer got Pacer's BYE")

	var st agentStateJSON
	testwait.Until(t, func() bool { st = agent.agentState(); return st.State == "DISPO" }, "the agent wraps the call up")
	require.Equal(t, "PHONE", st.PausePending, "paused after the disposition")
	var agentID int64
	var cause string
	testwait.Until(t, func() bool {
		err := db.QueryRow(context.Background(), `SELECT coalesce(agent_id, 0), coalesce(cause_text, '') FROM calls
			WHERE campaign_id = $1 AND state = 'ended'`, c.ID).Scan(&agentID, &cause)
		return err == nil
	}, "the call is recorded ended")
	require.Equal(t, int64(ann), agentID)
	require.Contains(t, cause, "agent's phone")

	agent.disposition("NI")
	requirePhoneDown(t, agent.agentState(), "not READY: her phone is still down")
	testwait.Until(t, func() bool { ids, acked := unplugged.calls(); return len(ids) > 0 && acked == len(ids) },
		"Pacer redials the phone, which is unavailable")
	require.Equal(t, "PAUSED", agent.agentState().State)

	unplugged.close()
	handset2 := startSipp(t, "e2e_phone_drop.xml", 1, phone2Log, phone, handset.Port)
	leg2 := nextLeg(t, phoneLegs(ctx, phone2Log), "the redial")
	go phone.talk(ctx, leg2.port, 0xa6e18, 1<<20)
	testwait.Until(t, func() bool { st = agent.agentState(); return st.State == "READY" }, "READY by herself when the phone is back")
	require.Empty(t, st.PauseLabel)

	stop()
	sippExits(t, handset2, "the redialled leg was not hung up at shutdown", "the redialled leg, up to the end, hung up at shutdown")
}
