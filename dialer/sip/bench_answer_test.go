package sip

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/internal/benchout"
	"github.com/pacer-dialer/pacer/internal/rtpgen"
	"github.com/pacer-dialer/pacer/internal/sipptest"
	"github.com/pacer-dialer/pacer/internal/testwait"
	"github.com/pacer-dialer/pacer/media"
)

// BenchmarkAnswerToFirstPacket measures the dead air at connect: for each
// answered call, from the moment the carrier's 200 OK reached the call's
// leg (outLeg.answeredAt) to the first customer packet the bridge sent on
// to the agent's leg (media.Bridge.Relayed), while
// PACER_SIP_BENCH_ANSWER_BRIDGED (default 500) other bridged calls relay
// 20 ms G.711 both ways (about 100,000 packets/s through this process, fed
// by an RTP generator in a second process, as media's BenchmarkRelay).
//
// The carrier is sipp (testdata/uas_answer_rtp.xml): it answers every INVITE
// at once and streams sipp's g711a.pcap (PCMA, 30 ms packets) from the
// moment our ACK reaches it (we ACK first thing on the 200; sipp started
// from its own 200 lost most calls' audio). The benchmark does what the engine does on
// each answer: one goroutine takes the trunk's events in order and, on
// TrunkAnsweredHuman, bridges the call into a free agent's nailed-up leg
// (a media.Leg whose far end is a socket standing in for the agents'
// phones); after PACER_SIP_BENCH_HOLD_MS (default 2000) it reads the
// call's times and hangs up. The engine's own bookkeeping between the
// answer and its Bridge call (agent state, journal) is not in the figure.
//
// Calls are placed at each rate of PACER_SIP_BENCH_ANSWER_RATES (default
// "10,100": the relay load alone, then with 100 new calls a second on top)
// for PACER_SIP_BENCH_ANSWER_SECONDS (default 30). Reported per rate:
// answer-to-first-packet p50/p99/max (the figure) and its parts
// (200 OK to the engine's event, event to bridged, bridged to the first
// packet relayed, 200 OK to the carrier's first packet), Pacer's part of it
// (from the later of the 200 and the carrier's first packet to audio
// leaving for the agent: sipp starting its stream late is not Pacer's), the
// calls measured and failed (no customer audio relayed within the hold),
// and the background relay's loss.
//
//	PACER_BENCH_OUT=$PWD/bench/results go test -run '^$' -bench BenchmarkAnswerToFirstPacket -benchtime 1x -timeout 30m ./dialer/sip/
func BenchmarkAnswerToFirstPacket(b *testing.B) {
	envInt := func(name string, def int) int {
		v := os.Getenv(name)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		require.NoError(b, err, name)
		return n
	}
	seconds := envInt("PACER_SIP_BENCH_ANSWER_SECONDS", 30)
	bridged := envInt("PACER_SIP_BENCH_ANSWER_BRIDGED", 500)
	hold := time.Duration(envInt("PACER_SIP_BENCH_HOLD_MS", 2000)) * time.Millisecond
	rates := []int{10, 100}
	if v := os.Getenv("PACER_SIP_BENCH_ANSWER_RATES"); v != "" {
		rates = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			require.NoError(b, err, "PACER_SIP_BENCH_ANSWER_RATES")
			rates = append(rates, n)
		}
	}
	for _, rate := range rates {
		b.Run(fmt.Sprintf("cps=%d", rate), func(b *testing.B) {
			for range b.N {
				benchAnswer(b, rate, time.Duration(seconds)*time.Second, hold, bridged)
			}
		})
	}
}

// answerSample is one measured call's times.
type answerSample struct {
	agent    agents.ID
	event    time.Time // the engine goroutine took TrunkAnsweredHuman
	bridged  time.Time // Trunk.Bridge returned
	answered time.Time // the 200 OK reached the leg
	firstIn  time.Time // the customer leg took its first packet
	relayed  time.Time // the first customer packet went to the agent leg
	stray    uint64    // customer packets dropped before symmetric RTP took their source
}

// answerEngine stands in for the campaign engine: one goroutine takes the
// trunk's events in order, bridges each answer into a free agent, and hangs
// calls up after hold.
type answerEngine struct {
	tr     *Trunk
	hold   time.Duration
	events chan dialer.TrunkEvent
	ends   chan dialer.CallID

	// Owned by the engine goroutine until done is closed.
	free    []agents.ID
	live    map[dialer.CallID]*answerSample
	samples []answerSample
	failed  map[string]int
	noAgent int
	left    int
	done    chan struct{}
}

func (e *answerEngine) Now() time.Time { return time.Now() }

func (e *answerEngine) DeliverTrunk(_ time.Time, ev dialer.TrunkEvent) { e.events <- ev }

func (e *answerEngine) run() {
	for e.left > 0 {
		select {
		case ev := <-e.events:
			e.onEvent(ev)
		case call := <-e.ends:
			e.end(call)
		}
	}
	close(e.done)
}

func (e *answerEngine) onEvent(ev dialer.TrunkEvent) {
	switch ev.Kind {
	case dialer.TrunkRinging:
	case dialer.TrunkAnsweredHuman:
		s := &answerSample{event: time.Now()}
		if len(e.free) == 0 {
			e.noAgent++
			_ = e.tr.Hangup(context.Background(), ev.Call)
			e.left--
			return
		}
		s.agent = e.free[len(e.free)-1]
		e.free = e.free[:len(e.free)-1]
		if err := e.tr.Bridge(context.Background(), ev.Call, s.agent); err != nil {
			e.failed["bridge: "+err.Error()]++
			e.free = append(e.free, s.agent)
			_ = e.tr.Hangup(context.Background(), ev.Call)
			e.left--
			return
		}
		s.bridged = time.Now()
		e.live[ev.Call] = s
		call := ev.Call
		time.AfterFunc(e.hold, func() { e.ends <- call })
	default:
		if s, ok := e.live[ev.Call]; ok {
			// The call ended before its hold was up: measured anyway.
			e.measure(ev.Call, s)
			delete(e.live, ev.Call)
			e.free = append(e.free, s.agent)
		}
		e.failed[ev.Kind.String()+" "+ev.Cause.String()]++
		e.left--
	}
}

// end measures a call whose hold is up, hangs it up and frees its agent.
func (e *answerEngine) end(call dialer.CallID) {
	s, ok := e.live[call]
	if !ok {
		return // ended already
	}
	delete(e.live, call)
	e.measure(call, s)
	_ = e.tr.Hangup(context.Background(), call)
	e.free = append(e.free, s.agent)
	e.left--
}

func (e *answerEngine) measure(call dialer.CallID, s *answerSample) {
	l, ok := e.tr.leg(call)
	if !ok {
		e.failed["gone before measured"]++
		return
	}
	if n := l.answeredAt.Load(); n != 0 {
		s.answered = time.Unix(0, n)
	}
	l.ctl.mu.Lock()
	br := l.ctl.bridge
	l.ctl.mu.Unlock()
	if br != nil {
		_, s.relayed = br.Relayed(l.media)
	}
	st := l.media.Stats()
	s.firstIn, s.stray = st.FirstPacketIn, st.Stray
	e.samples = append(e.samples, *s)
}

func benchAnswer(b *testing.B, rate int, dur, hold time.Duration, bridged int) {
	sipptest.Need(b)
	calls := rate * int(dur/time.Second)
	quiet := slog.New(slog.DiscardHandler)
	ports, err := media.NewPorts(20000, 29999)
	require.NoError(b, err)

	// The background: bridged calls relaying 20 ms G.711 both ways.
	var gen *rtpLoad
	if bridged > 0 {
		gen = startRTPLoad(b, ports, bridged)
		defer gen.stop()
	}

	u, err := New(Config{Addr: "127.0.0.1:0", Logger: quiet, Media: MediaConfig{Ports: ports}})
	require.NoError(b, err)
	require.NoError(b, u.Start(context.Background()))
	defer u.Stop()

	// The agents' phones: one socket that reads and drops what the agent
	// legs send it.
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(b, err)
	_ = sink.SetReadBuffer(4 << 20)
	sinkDone := make(chan struct{})
	go func() {
		defer close(sinkDone)
		buf := make([]byte, 1500)
		for {
			if _, _, err := sink.ReadFromUDPAddrPort(buf); err != nil {
				return
			}
		}
	}()
	defer func() { sink.Close(); <-sinkDone }()
	sinkSDP := []byte(fmt.Sprintf("v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\na=sendrecv\r\n",
		sink.LocalAddr().(*net.UDPAddr).Port))
	var ag agentPhones
	nAgents := rate*int(hold/time.Second+1)*3/2 + 10
	free := make([]agents.ID, 0, nAgents)
	for i := 1; i <= nAgents; i++ {
		// The phones send nothing: no media timeout on their legs.
		l, err := ports.NewLeg(media.LegConfig{BindIP: netip.MustParseAddr("127.0.0.1"), Logger: quiet, FirstPacketTimeout: time.Hour})
		require.NoError(b, err)
		defer l.Close()
		_ = l.Offer()
		require.NoError(b, l.ApplyAnswer(sinkSDP))
		ag.mu.Lock()
		if ag.legs == nil {
			ag.legs = map[agents.ID]*media.Leg{}
		}
		ag.legs[agents.ID(i)] = l
		ag.mu.Unlock()
		free = append(free, agents.ID(i))
	}

	s := sipptest.Start(b, sipptest.Options{Scenario: "testdata/uas_answer_rtp.xml", Calls: calls,
		Args: []string{"-buff_size", "4194304"}})
	e := &answerEngine{hold: hold, events: make(chan dialer.TrunkEvent, 4*calls+16), ends: make(chan dialer.CallID, calls),
		free: free, live: map[dialer.CallID]*answerSample{}, failed: map[string]int{}, left: calls, done: make(chan struct{})}
	tr, err := u.Trunk(1, []TrunkConfig{trunkTo("carrier", s)}, e, TrunkOptions{Logger: quiet, AgentLegs: &ag})
	require.NoError(b, err)
	e.tr = tr
	go e.run()

	if gen != nil {
		gen.mark()
	}
	sched0 := schedLatencies()
	b.ResetTimer()
	start := time.Now()
	tick := time.NewTicker(time.Second / time.Duration(rate))
	for i := 1; i <= calls; i++ {
		<-tick.C
		require.NoError(b, tr.Dial(context.Background(), dialer.DialRequest{Call: dialer.CallID(i), Number: "+15551230000",
			CallerID: "+15557654321", RingTimeout: 30 * time.Second}))
	}
	tick.Stop()
	select {
	case <-e.done:
	case <-testwait.Expired(b):
		require.FailNow(b, "calls never all finished")
	}
	elapsed := time.Since(start)
	b.StopTimer()
	schedP99 := schedLatencyQuantile(sched0, schedLatencies(), 0.99)
	var bg rtpLoadReport
	if gen != nil {
		bg = gen.report(b)
	}
	testwait.Until(b, func() bool { return tr.Channels("carrier") == 0 }, "every BYE answered")

	// The figures.
	var total, toEvent, toBridge, toPacket, toAudio, added []time.Duration
	never, early, stray := 0, 0, 0
	for _, s := range e.samples {
		if s.answered.IsZero() || s.relayed.IsZero() {
			never++
			continue
		}
		total = append(total, s.relayed.Sub(s.answered))
		toEvent = append(toEvent, s.event.Sub(s.answered))
		toBridge = append(toBridge, s.bridged.Sub(s.event))
		toPacket = append(toPacket, s.relayed.Sub(s.bridged))
		if !s.firstIn.IsZero() {
			toAudio = append(toAudio, s.firstIn.Sub(s.answered))
			// What Pacer added: from the 200 OK or the customer's first
			// packet, whichever came later, to that audio leaving for the
			// agent (the carrier's own delay in starting its stream is not
			// ours).
			added = append(added, s.relayed.Sub(maxTime(s.answered, s.firstIn)))
			if s.firstIn.Before(s.bridged) {
				early++
			}
		}
		if s.stray > 0 {
			stray++
		}
	}
	failed := calls - len(total)
	q := func(d []time.Duration, p float64) float64 {
		if len(d) == 0 {
			return 0
		}
		slices.Sort(d)
		return ms(d[min(len(d)-1, int(p*float64(len(d))))])
	}
	p50, p99, mx := q(total, 0.5), q(total, 0.99), q(total, 1)
	b.ReportMetric(p50, "p50-ms")
	b.ReportMetric(p99, "p99-ms")
	b.ReportMetric(mx, "max-ms")
	b.ReportMetric(float64(len(total)), "calls")
	b.ReportMetric(float64(failed), "failed")
	b.ReportMetric(q(added, 0.99), "pacer-added-p99-ms")
	b.Logf("%d calls/s for %s (held %s) over %d bridged calls relaying (background: %d pkts sent, loss %.3f%%, generator CPU %.2f s/s; this process CPU %.2f s/s): "+
		"answer to first packet to the agent p50 %.2f ms p99 %.2f ms max %.2f ms over %d calls; "+
		"parts p50/p99: 200 OK to engine event %.2f/%.2f ms, event to bridged %.2f/%.2f ms, bridged to first relayed %.2f/%.2f ms; 200 OK to the carrier's first packet in %.2f/%.2f ms; Pacer-added (from the later of the 200 and the first packet) %.2f/%.2f ms max %.2f ms; "+
		"%d calls had customer audio before the bridge, %d had stray packets; %d never relayed, no free agent %d, failed %v; all done in %s; "+
		"Go scheduling latency p99 %.2f ms (runnable goroutines waiting for a CPU)",
		rate, dur, hold, bridged, bg.Sent, bg.lossPct(), bg.CPU, bg.relayCPU, p50, p99, mx, len(total),
		q(toEvent, 0.5), q(toEvent, 0.99), q(toBridge, 0.5), q(toBridge, 0.99), q(toPacket, 0.5), q(toPacket, 0.99), q(toAudio, 0.5), q(toAudio, 0.99), q(added, 0.5), q(added, 0.99), q(added, 1),
		early, stray, never, e.noAgent, e.failed, elapsed.Round(time.Millisecond), ms(schedP99))
	met := failed == 0 && p99 < 20
	require.NoError(b, benchout.Write(benchout.Result{
		Name: "sip_answer_first_packet_" + strconv.Itoa(rate),
		Summary: fmt.Sprintf("carrier's 200 OK to the first customer packet relayed to the agent's leg, %d new calls/s for %s (sipp streaming g711a.pcap, PCMA 30 ms, from our ACK) over %d bridged calls relaying 20 ms G.711 (background loss %.3f%%): p50 %.2f ms, p99 %.2f ms, max %.2f ms over %d calls, %d failed (the carrier's stream started p99 %.2f ms after its 200; Pacer-added p99 %.2f ms; %d calls' audio came before the bridge)",
			rate, dur, bridged, bg.lossPct(), p50, p99, mx, len(total), failed, q(toAudio, 0.99), q(added, 0.99), early),
		Figures: map[string]float64{"cps": float64(rate), "bridged_background": float64(bridged), "calls": float64(len(total)), "failed": float64(failed),
			"p50_ms": p50, "p99_ms": p99, "max_ms": mx,
			"to_event_p50_ms": q(toEvent, 0.5), "to_event_p99_ms": q(toEvent, 0.99),
			"to_bridged_p50_ms": q(toBridge, 0.5), "to_bridged_p99_ms": q(toBridge, 0.99),
			"bridged_to_packet_p50_ms": q(toPacket, 0.5), "bridged_to_packet_p99_ms": q(toPacket, 0.99),
			"carrier_first_packet_p50_ms": q(toAudio, 0.5), "carrier_first_packet_p99_ms": q(toAudio, 0.99),
			"sched_latency_p99_ms": ms(schedP99), "pacer_added_p50_ms": q(added, 0.5), "pacer_added_p99_ms": q(added, 0.99), "pacer_added_max_ms": q(added, 1),
			"audio_before_bridge": float64(early), "background_loss_pct": bg.lossPct(), "relay_process_cpu_s_per_s": bg.relayCPU,
			"seconds": dur.Seconds(), "hold_seconds": hold.Seconds()},
		Goal: "200 OK to the first customer packet sent to the agent's leg: p99 under 20 ms at 500 bridged calls",
		Met:  &met,
	}))
	<-s.Done()
}

// schedLatencies is the runtime's histogram of how long goroutines waited
// runnable before running.
func schedLatencies() *metrics.Float64Histogram {
	m := []metrics.Sample{{Name: "/sched/latencies:seconds"}}
	metrics.Read(m)
	return m[0].Value.Float64Histogram()
}

// schedLatencyQuantile is the q quantile of the waits between two readings.
func schedLatencyQuantile(a, b *metrics.Float64Histogram, q float64) time.Duration {
	var total uint64
	for i := range b.Counts {
		total += b.Counts[i] - a.Counts[i]
	}
	want := uint64(q * float64(total))
	var run uint64
	for i := range b.Counts {
		run += b.Counts[i] - a.Counts[i]
		if run > want {
			hi := b.Buckets[i+1] // the bucket's upper bound; the last one's is +Inf
			if math.IsInf(hi, 1) {
				hi = b.Buckets[i]
			}
			return time.Duration(hi * float64(time.Second))
		}
	}
	return 0
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// The background relay load. Its RTP generator runs in a second process
// (this test binary again, with rtpGenEnv set: see init), so its
// goroutines do not queue behind the relay's in one Go scheduler: one
// sender goroutine pacing every endpoint's 20 ms stream, staggered over 20
// slots of 1 ms as independent phones are, four sockets with a reader each
// counting what comes back. It talks JSON lines: it says its sockets, is
// told where each endpoint sends, is told "mark" when the count starts,
// sends until its stdin closes, then reports.
const rtpGenEnv = "PACER_SIP_BENCH_RTP_GENERATOR"

const rtpGenSockets = 4

type rtpGenHello struct {
	Addrs []string `json:"addrs"`
}

type rtpGenPlan struct {
	Dst []string `json:"dst"` // where endpoint e sends; e's own socket is e % rtpGenSockets
}

// rtpLoadReport counts from the mark (the measured window's start) to the
// end of sending.
type rtpLoadReport struct {
	Sent, Recv uint64
	CPU        float64 // the generator's CPU seconds per second
	relayCPU   float64 // this process's
}

func (r rtpLoadReport) lossPct() float64 {
	if r.Sent == 0 {
		return 0
	}
	return 100 * (1 - float64(r.Recv)/float64(r.Sent))
}

// init makes this test binary the generator process when started as one
// (rtpGenEnv=1), before any test machinery runs.
func init() {
	if os.Getenv(rtpGenEnv) != "1" {
		return
	}
	if err := runRTPGenerator(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "generator:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func runRTPGenerator(in io.Reader, out io.Writer) error {
	enc := json.NewEncoder(out)
	socks, addrs, err := rtpgen.Listen(rtpGenSockets)
	if err != nil {
		return err
	}
	if err := enc.Encode(rtpGenHello{Addrs: addrs}); err != nil {
		return err
	}
	rd := bufio.NewReader(in)
	dec := json.NewDecoder(rd)
	var plan rtpGenPlan
	if err := dec.Decode(&plan); err != nil {
		return fmt.Errorf("read plan: %w", err)
	}
	dst, err := rtpgen.ParseDst(plan.Dst)
	if err != nil {
		return err
	}
	// counting is set at the mark: packets sent from then on carry the
	// counted byte first in their payload (the relay passes G.711 payloads
	// through untouched) and only those count as received.
	const counted = 0x01
	var counting atomic.Bool
	var recv atomic.Uint64
	var readers sync.WaitGroup
	for _, c := range socks {
		readers.Go(func() {
			buf := make([]byte, 1500)
			for {
				n, _, err := c.ReadFromUDPAddrPort(buf)
				if err != nil {
					return
				}
				if n > 12 && buf[12] == counted {
					recv.Add(1)
				}
			}
		})
	}
	stop := make(chan struct{})
	var sent uint64
	senderDone := make(chan struct{})
	go func() {
		defer close(senderDone)
		sent = rtpgen.Pace(stop, socks, dst, func(payload []byte, _ int) bool {
			count := counting.Load()
			payload[0] = 0xff
			if count {
				payload[0] = counted
			}
			return count
		})
	}()
	// "mark" starts the count; end of input stops sending.
	var ru0, ru1 syscall.Rusage
	var t0 time.Time
	for {
		line, err := rd.ReadString('\n')
		if strings.TrimSpace(line) == "mark" {
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
			t0 = time.Now()
			counting.Store(true)
		}
		if err != nil {
			break
		}
	}
	close(stop)
	<-senderDone
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	wall := time.Since(t0)
	time.Sleep(200 * time.Millisecond) // the last packets come back
	for _, c := range socks {
		c.Close()
	}
	readers.Wait()
	r := rtpLoadReport{Sent: sent, Recv: recv.Load()}
	if !t0.IsZero() {
		r.CPU = rtpgen.CPUSeconds(ru0, ru1) / wall.Seconds()
	}
	return enc.Encode(r)
}

// rtpLoad is the running background: the generator process and the
// bridged legs in this process.
type rtpLoad struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	dec   *json.Decoder
	legs  []*media.Leg
	ru0   syscall.Rusage
	t0    time.Time
}

// startRTPLoad bridges n calls (2n legs) in this process and starts the
// generator sending into them.
func startRTPLoad(b *testing.B, ports *media.Ports, n int) *rtpLoad {
	b.Helper()
	g := &rtpLoad{cmd: exec.Command(os.Args[0], "-test.run=^$")}
	g.cmd.Env = append(os.Environ(), rtpGenEnv+"=1")
	g.cmd.Stderr = os.Stderr
	var err error
	g.stdin, err = g.cmd.StdinPipe()
	require.NoError(b, err)
	stdout, err := g.cmd.StdoutPipe()
	require.NoError(b, err)
	require.NoError(b, g.cmd.Start())
	g.dec = json.NewDecoder(stdout)
	var hello rtpGenHello
	require.NoError(b, g.dec.Decode(&hello))
	require.Len(b, hello.Addrs, rtpGenSockets)
	plan := rtpGenPlan{Dst: make([]string, 2*n)}
	for i := range n {
		var pair [2]*media.Leg
		for side := range 2 {
			e := 2*i + side
			l, err := ports.NewLeg(media.LegConfig{BindIP: netip.MustParseAddr("127.0.0.1")})
			require.NoError(b, err)
			gen := netip.MustParseAddrPort(hello.Addrs[e%rtpGenSockets])
			offer := fmt.Sprintf("v=0\r\no=gen 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\na=sendrecv\r\n", gen.Port())
			_, err = l.Answer([]byte(offer))
			require.NoError(b, err)
			plan.Dst[e] = l.LocalAddr().String()
			pair[side] = l
			g.legs = append(g.legs, l)
		}
		media.NewBridge(pair[0], pair[1])
	}
	require.NoError(b, json.NewEncoder(g.stdin).Encode(plan))
	return g
}

// mark starts the count (the measured window).
func (g *rtpLoad) mark() {
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &g.ru0)
	g.t0 = time.Now()
	_, _ = io.WriteString(g.stdin, "mark\n")
}

// report stops the generator and returns its counts since the mark.
func (g *rtpLoad) report(b *testing.B) rtpLoadReport {
	b.Helper()
	var ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	wall := time.Since(g.t0)
	require.NoError(b, g.stdin.Close())
	var r rtpLoadReport
	require.NoError(b, g.dec.Decode(&r))
	require.NoError(b, g.cmd.Wait())
	r.relayCPU = rtpgen.CPUSeconds(g.ru0, ru1) / wall.Seconds()
	g.cmd = nil
	return r
}

// stop ends whatever is still running (after report, only the legs).
func (g *rtpLoad) stop() {
	if g.cmd != nil {
		_ = g.stdin.Close()
		_ = g.cmd.Wait()
	}
	for _, l := range g.legs {
		l.Close()
	}
}
