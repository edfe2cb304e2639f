package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pion/rtp"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/internal/sipptest"
	"github.com/pacer-dialer/pacer/internal/testwait"
	"github.com/pacer-dialer/pacer/media"
	"github.com/pacer-dialer/pacer/web"
)

// openNumber is a US, Guam or London number whose local time is now well
// inside the lawful calling hours, so a campaign on a real trunk may dial it
// whatever hour the test runs at (between them their 09:00–20:00 cover the
// day: without London none did from about 10:00 to 13:00 UTC).
func openNumber(t *testing.T) string {
	t.Helper()
	for _, c := range []struct{ number, zone string }{
		{"+12025550123", "America/New_York"}, {"+13125550123", "America/Chicago"},
		{"+13035550123", "America/Denver"}, {"+12135550123", "America/Los_Angeles"},
		{"+19075550123", "America/Anchorage"}, {"+18085550123", "Pacific/Honolulu"},
		{"+16715550123", "Pacific/Guam"}, {"+442079460123", "Europe/London"},
	} {
		loc, err := time.LoadLocation(c.zone)
		require.NoError(t, err)
		if h := time.Now().In(loc).Hour(); h >= 9 && h < 20 {
			return c.number[:len(c.number)-1]
		}
	}
	t.Fatal("no test number is inside its calling hours now")
	return ""
}

// rtpSocket is one of the test's RTP endpoints: it records what it
// receives and talks to the address a sipp scenario wrote down.
type rtpSocket struct {
	conn *net.UDPConn
	mu   sync.Mutex
	got  []rtpSeen
}

type rtpSeen struct {
	from netip.AddrPort
	hdr  rtp.Header
	b0   byte // the payload's first byte: whose voice it is
}

func listenRTP(t *testing.T) *rtpSocket {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	s := &rtpSocket{conn: c}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			var p rtp.Packet
			if p.Unmarshal(buf[:n]) != nil {
				continue
			}
			s.mu.Lock()
			var b0 byte
			if len(p.Payload) > 0 {
				b0 = p.Payload[0]
			}
			s.got = append(s.got, rtpSeen{from: from, hdr: p.Header, b0: b0})
			s.mu.Unlock()
		}
	}()
	return s
}

func (s *rtpSocket) port() int { return s.conn.LocalAddr().(*net.UDPAddr).Port }

func (s *rtpSocket) seen() []rtpSeen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]rtpSeen(nil), s.got...)
}

// talk sends n 20 ms PCMU packets of a tone as stream ssrc to port, paced.
func (s *rtpSocket) talk(ctx context.Context, port int, ssrc uint32, n int) int {
	return s.say(ctx, port, ssrc, n, media.PCMU.Encode(nil, tone(160)))
}

// say is talk with the payload given: a voice the other end can tell apart.
func (s *rtpSocket) say(ctx context.Context, port int, ssrc uint32, n int, payload []byte) int {
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	sent := 0
	for i := range n {
		p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(1000 + i),
			Timestamp: uint32(5000 + 160*i), SSRC: ssrc, Marker: i == 0}, Payload: payload}
		b, _ := p.Marshal()
		if _, err := s.conn.WriteToUDP(b, to); err == nil {
			sent++
		}
		select {
		case <-ctx.Done():
			return sent
		case <-tick.C:
		}
	}
	return sent
}

func tone(n int) []int16 {
	out := make([]int16, n)
	for i := range out {
		if (i/10)%2 == 0 {
			out[i] = 4000
		} else {
			out[i] = -4000
		}
	}
	return out
}

// portsWritten follows a file a sipp scenario appends "call port" lines to
// and calls f once per line.
func portsWritten(ctx context.Context, path string, f func(call, port int)) {
	seen := 0
	for ctx.Err() == nil {
		if b, err := os.ReadFile(path); err == nil {
			sc := bufio.NewScanner(strings.NewReader(string(b)))
			i := 0
			for sc.Scan() {
				i++
				if i <= seen {
					continue
				}
				var call, port int
				if _, err := fmt.Sscan(sc.Text(), &call, &port); err == nil {
					f(call, port)
				}
				seen = i
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// sipCampaign is a power campaign on a real trunk pointing at carrierPort on
// loopback, with a recorded information message, leads to numbers open now,
// and agent ann whose phone is a fixed URI at phonePort.
func sipCampaign(t *testing.T, db *pgxpool.Pool, carrierPort, phonePort, leads int) (campaigns.Campaign, agents.ID) {
	t.Helper()
	ctx := context.Background()
	u, err := web.CreateUser(ctx, db, web.NewUser{Username: "ann", Role: web.RoleAgent, Password: "password-ann", Cost: bcrypt.MinCost})
	require.NoError(t, err)
	ann := agents.ID(u.ID)
	require.NoError(t, agents.SetPhoneURI(ctx, db, ann, fmt.Sprintf("sip:ann@127.0.0.1:%d", phonePort)))
	name, uri := "carrier", fmt.Sprintf("sip:127.0.0.1:%d", carrierPort)
	_, err = campaigns.AddTrunk(ctx, db, campaigns.TrunkSpec{Name: &name, URI: &uri})
	require.NoError(t, err)
	msg := media.PCMU.Encode(nil, tone(8000)) // one second
	c, err := campaigns.CreateWithChange(ctx, db, "Real", campaigns.Change{
		Settings: map[string]string{"mode": "power", "simulated": "false", "window_start": "08:00", "window_end": "21:00",
			"caller_id": "+12025550143", "abandon_target": "0.03",
			"info_message": "This was Pacer Test calling; dial +1 202 555 0143 to opt out."},
		SetTrunks: true, Trunks: []string{name},
		Audio: []campaigns.AudioUpload{{Kind: campaigns.AudioInfoMessage, PCMU: msg, FileName: "msg.wav", UploadedBy: "test", At: time.Now()}},
	})
	require.NoError(t, err)
	var csv strings.Builder
	csv.WriteString("phone\n")
	base := openNumber(t)
	for i := range leads {
		fmt.Fprintf(&csv, "%s%d\n", base, i)
	}
	_, err = campaigns.Import(ctx, db, strings.NewReader(csv.String()),
		campaigns.ImportOptions{Campaign: c.ID, Name: "real.csv", Format: campaigns.FormatCSV})
	require.NoError(t, err)
	_, err = campaigns.AssignAgents(ctx, db, c.ID, []int64{int64(ann)})
	require.NoError(t, err)
	c, err = campaigns.SetStatus(ctx, db, c.ID, campaigns.StatusActive)
	require.NoError(t, err)
	return c, ann
}

// The whole product on real SIP: a power campaign with one agent dials
// three customers through sipp (the carrier), Pacer calls the agent's phone
// (sipp, auto-answering) when she joins and keeps that one leg up, and each
// answered customer is bridged into it. The test is both ends' voices: it
// talks as each customer and as the agent, and checks at the packet level
// that the phone hears every customer on ONE stream (one SSRC, sequence
// numbers with no gap larger than the packets the customer did not send)
// and that each customer hears the agent, from the port Pacer gave that
// customer's call.
func TestSIPPowerCampaignBridgesCustomersIntoTheAgentsPhone(t *testing.T) {
	t.Parallel()
	sipptest.Need(t)
	dir := t.TempDir()
	customers, phone := listenRTP(t), listenRTP(t)
	carrierLog, phoneLog := filepath.Join(dir, "carrier.txt"), filepath.Join(dir, "phone.txt")
	const calls = 3
	carrier := startSipp(t, "e2e_carrier.xml", calls, carrierLog, customers, 0)
	handset := startSipp(t, "e2e_phone.xml", 1, phoneLog, phone, 0)

	dbURL, db := sipDB(t)
	c, _ := sipCampaign(t, db, carrier.Port, handset.Port, calls)
	base, stop := serveSIP(t, dbURL, "sip-e2e")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// The agent talks as soon as her phone leg is up; each customer talks
	// for three seconds once their call is answered.
	go portsWritten(ctx, phoneLog, func(_, port int) { phone.talk(ctx, port, 0xa6e17, 1<<20) })
	voices := customersTalk(ctx, customers, carrierLog)

	ann := loginAgent(t, base, "ann")
	ann.ready(c.ID) // refused (409) until her phone leg is up
	for i := range calls {
		testwait.Until(t, func() bool { return ann.agentState().State == "DISPO" }, "customer %d talked and hung up", i+1)
		ann.disposition("NI")
	}
	sippExits(t, carrier, "the carrier did not see its three calls end", "the carrier's calls went as its scenario says")
	testwait.Until(t, voices.done(calls), "every customer finished talking")
	sent := voices.bySent()

	// The phone heard the customers on one stream.
	heard := phone.seen()
	require.NotEmpty(t, heard)
	ssrc := heard[0].hdr.SSRC
	totalSent := 0
	for _, n := range sent {
		totalSent += n
	}
	gaps := 0
	for i, p := range heard {
		require.Equal(t, ssrc, p.hdr.SSRC, "packet %d of the agent's stream changed SSRC", i)
		if i > 0 {
			d := p.hdr.SequenceNumber - heard[i-1].hdr.SequenceNumber
			require.NotZero(t, d, "packet %d repeats a sequence number", i)
			require.Less(t, d, uint16(1000), "packet %d goes back in sequence", i)
			gaps += int(d) - 1
			require.Greater(t, p.hdr.Timestamp-heard[i-1].hdr.Timestamp, uint32(0), "timestamps move forward")
		}
	}
	require.LessOrEqual(t, gaps, totalSent-len(heard), "sequence gaps only where customers' packets did not arrive")
	require.GreaterOrEqual(t, len(heard), totalSent/2, "the phone heard most of what %d customers said", calls)

	// Each customer heard the agent, from the port Pacer gave their call.
	got := byPort(customers)
	t.Logf("customers sent %v packets (by Pacer port); the phone heard %d on SSRC %#x with %d missing; customers heard the agent %v",
		sent, len(heard), ssrc, gaps, got)
	requireHeardAgent(t, sent, got)

	stop()
	sippExits(t, handset, "the phone leg was not hung up at shutdown", "one phone leg for the whole session, hung up at the end")
}

// A live answer no agent can take within the connect deadline hears the
// campaign's recorded information message, then Pacer hangs up; the call is
// recorded abandoned. Here the agent pauses while the customer's phone
// rings, so nobody is free when the customer answers.
func TestSIPAbandonPlaysTheInformationMessage(t *testing.T) {
	t.Parallel()
	sipptest.Need(t)
	dir := t.TempDir()
	customer, phone := listenRTP(t), listenRTP(t)
	carrierLog := filepath.Join(dir, "carrier.txt")
	carrier := startSipp(t, "e2e_carrier_abandon.xml", 1, carrierLog, customer, 0)
	handset := startSipp(t, "e2e_phone.xml", 1, filepath.Join(dir, "phone.txt"), phone, 0)

	dbURL, db := sipDB(t)
	c, _ := sipCampaign(t, db, carrier.Port, handset.Port, 1)
	base, _ := serveSIP(t, dbURL, "sip-abandon")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	invited := make(chan struct{}, 4)
	var answeredPort atomic.Int32
	go portsWritten(ctx, carrierLog, func(call, port int) {
		if call == 0 {
			invited <- struct{}{}
			return
		}
		answeredPort.Store(int32(port))
	})

	ann := loginAgent(t, base, "ann")
	ann.ready(c.ID)
	select {
	case <-invited:
	case <-testwait.Expired(t):
		t.Fatal("the power campaign did not dial its READY agent's lead")
	}
	code, body := ann.do("POST", "/api/v1/agent/state", map[string]any{"state": "PAUSED", "pause_code": "BREAK"}, true)
	require.Equal(t, http.StatusOK, code, body)

	sippExits(t, carrier, "Pacer did not hang up the abandoned call", "the customer heard the message and got Pacer's BYE")
	port := uint16(answeredPort.Load())
	require.NotZero(t, port)
	heard := 0
	for _, p := range customer.seen() {
		if p.from.Port() == port {
			heard++
		}
	}
	// The message is one second: 50 packets of 20 ms, all before the BYE.
	require.GreaterOrEqual(t, heard, 45, "the customer heard the information message")
	require.LessOrEqual(t, heard, 50)
	var outcome, cause string
	testwait.Until(t, func() bool {
		err := db.QueryRow(context.Background(), `SELECT coalesce(outcome, ''), coalesce(cause_text, '') FROM calls WHERE campaign_id = $1`,
			c.ID).Scan(&outcome, &cause)
		return err == nil && outcome != ""
	}, "the call is recorded")
	require.Equal(t, "abandoned", outcome)
	require.Contains(t, cause, "information message played")
}
