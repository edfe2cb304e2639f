package media

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pacer-dialer/pacer/internal/benchout"
	"github.com/stretchr/testify/require"
)

// BenchmarkRelay: N bridged calls (two legs each) relaying 20 ms PCMU both
// ways, fed by an RTP generator in the same process: one sender goroutine
// pacing every endpoint's stream (staggered over the 20 ms so the load is
// smooth, as independent phones are), four generator sockets with a reader
// each. Per N it runs a baseline first (the same generator at the same
// packet rate sending straight to its own sockets: one loopback hop, no
// relay) and then the relay for PACER_MEDIA_BENCH_SECONDS (default 20 s)
// after a 2 s warm-up. Reported per N:
//
//   - loss: packets sent during the window that never reached the far
//     endpoint;
//
//   - delay: generator send to far-endpoint receive (two loopback hops plus
//     the relay), and relay-added delay = that minus the baseline's median
//     one-hop time;
//
//   - CPU: process CPU seconds per second (getrusage), generator included;
//     the baseline's figure is the generator's own share.
//
//     PACER_BENCH_OUT=$PWD/bench/results go test -run '^$' -bench BenchmarkRelay -benchtime 1x -timeout 30m ./media/
//
// PACER_MEDIA_BENCH_CALLS overrides the list of N (default
// 100,250,500,750,1000: past the goal, to find what the machine holds);
// PACER_MEDIA_BENCH_DEBUG=1 logs more of the delay distribution.
func BenchmarkRelay(b *testing.B) {
	calls := []int{100, 250, 500, 750, 1000}
	if s := os.Getenv("PACER_MEDIA_BENCH_CALLS"); s != "" {
		calls = nil
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			require.NoError(b, err)
			calls = append(calls, n)
		}
	}
	window := 20 * time.Second
	if s := os.Getenv("PACER_MEDIA_BENCH_SECONDS"); s != "" {
		secs, err := strconv.Atoi(s)
		require.NoError(b, err)
		window = time.Duration(secs) * time.Second
	}
	figures := map[string]float64{"window_s": window.Seconds()}
	var summary []string
	most, mostLoss := 0, 0
	met := false
	for range b.N {
		for _, n := range calls {
			base := runRelayLoad(b, n, false, window/4)
			r := runRelayLoad(b, n, true, window)
			added50 := r.p50 - base.p50
			added99 := r.p99 - base.p50
			b.Logf("%d calls: loss %.4f%% (%d of %d), end-to-end p50 %.2f ms p99 %.2f ms, one-hop baseline p50 %.3f ms, relay-added p50 %.2f ms p99 %.2f ms, CPU %.2f s/s (generator alone %.2f s/s)",
				n, r.lossPct, r.sent-r.recv, r.sent, ms(r.p50), ms(r.p99), ms(base.p50), ms(added50), ms(added99), r.cpu, base.cpu)
			k := fmt.Sprintf("calls_%d_", n)
			figures[k+"loss_pct"] = r.lossPct
			figures[k+"e2e_p50_ms"] = ms(r.p50)
			figures[k+"e2e_p99_ms"] = ms(r.p99)
			figures[k+"baseline_hop_p50_ms"] = ms(base.p50)
			figures[k+"relay_added_p50_ms"] = ms(added50)
			figures[k+"relay_added_p99_ms"] = ms(added99)
			figures[k+"cpu_s_per_s"] = r.cpu
			figures[k+"generator_cpu_s_per_s"] = base.cpu
			figures[k+"packets_per_s"] = float64(r.sent) / window.Seconds() * 2 // each relayed packet is read and written
			if r.lossPct < 0.1 && n > mostLoss {
				mostLoss = n
			}
			ok := r.lossPct < 0.1 && added99 < 10*time.Millisecond
			if ok && n > most {
				most = n
			}
			figures[k+"sent_share_pct"] = 100 * float64(r.sent) / (float64(2*n) * 50 * window.Seconds())
			if n >= 500 && ok {
				met = true
			}
			summary = append(summary, fmt.Sprintf("%d calls: loss %.3f%%, relay-added p99 %.2f ms, CPU %.2f s/s (generator %.2f)", n, r.lossPct, ms(added99), r.cpu, base.cpu))
		}
	}
	figures["most_calls_loss_under_0.1pct_and_p99_under_10ms"] = float64(most)
	figures["most_calls_loss_under_0.1pct"] = float64(mostLoss)
	require.NoError(b, benchout.Write(benchout.Result{
		Name: "media_relay",
		Summary: fmt.Sprintf("bridged G.711 calls at 20 ms relayed on loopback, generator in process, %s window: %s; most held with loss < 0.1%% and relay-added p99 < 10 ms: %d",
			window, strings.Join(summary, "; "), most),
		Figures: figures,
		Goal:    "500 bridged calls (100,000 packets/s) with loss < 0.1% and relay-added delay p99 < 10 ms",
		Met:     &met,
	}))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

type loadResult struct {
	sent, recv uint64
	lossPct    float64
	p50, p99   time.Duration
	cpu        float64 // process CPU seconds per wall second
}

// delayHist counts delays in 10 µs buckets up to 200 ms.
type delayHist [20001]uint64

func (h *delayHist) add(d int64) {
	i := d / 10_000
	if i < 0 {
		i = 0
	}
	h[min(i, int64(len(h)-1))]++
}

func (h *delayHist) quantile(q float64) time.Duration {
	var total uint64
	for _, c := range h {
		total += c
	}
	want := uint64(q * float64(total))
	var run uint64
	for i, c := range h {
		run += c
		if run > want {
			return time.Duration(i*10_000+5_000) * time.Nanosecond
		}
	}
	return 0
}

const genSockets = 4

// runRelayLoad runs n calls (2n endpoint streams) for window after a
// warm-up. relay=false sends each endpoint's stream straight to a
// generator socket (the baseline).
func runRelayLoad(b *testing.B, n int, relay bool, window time.Duration) loadResult {
	b.Helper()
	socks := make([]*net.UDPConn, genSockets)
	for i := range socks {
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
		require.NoError(b, err)
		_ = c.SetReadBuffer(4 << 20)
		_ = c.SetWriteBuffer(4 << 20)
		socks[i] = c
	}
	addr := func(i int) netip.AddrPort { return socks[i%genSockets].LocalAddr().(*net.UDPAddr).AddrPort() }

	// Endpoint 2i is call i's customer, 2i+1 its agent's phone; dst[e] is
	// where endpoint e sends.
	eps := 2 * n
	dst := make([]netip.AddrPort, eps)
	var legs []*Leg
	if relay {
		lo := 20000 + 2*int(time.Now().UnixNano()%5000)
		ports, err := NewPorts(lo, lo+8*n+1000)
		require.NoError(b, err)
		for i := range n {
			var pair [2]*Leg
			for side := range 2 {
				l, err := ports.NewLeg(LegConfig{BindIP: loopback})
				require.NoError(b, err)
				e := 2*i + side
				offer := fmt.Sprintf("v=0\r\no=gen 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\na=sendrecv\r\n", addr(e).Port())
				_, err = l.Answer([]byte(offer))
				require.NoError(b, err)
				dst[e] = l.LocalAddr()
				pair[side] = l
				legs = append(legs, l)
			}
			NewBridge(pair[0], pair[1])
		}
	} else {
		for e := range eps {
			dst[e] = addr(e ^ 1)
		}
	}

	// The window is fixed before anything is sent, and sender and receivers
	// judge each packet by its own send time: a packet is in or out for
	// both.
	const warmup = 2 * time.Second
	ws := nanotime() + int64(warmup)
	we := ws + int64(window)
	inWindow := func(t int64) bool { return t >= ws && t < we }
	var recvInWindow atomic.Uint64
	hists := make([]*delayHist, genSockets)
	var readers sync.WaitGroup
	for i, c := range socks {
		h := new(delayHist)
		hists[i] = h
		readers.Go(func() {
			buf := make([]byte, 1500)
			var got uint64
			for {
				nb, _, err := c.ReadFromUDPAddrPort(buf)
				if err != nil {
					recvInWindow.Add(got)
					return
				}
				if nb < 12+12 {
					continue
				}
				now := nanotime()
				sent := int64(binary.BigEndian.Uint64(buf[16:]))
				if inWindow(sent) {
					got++
					h.add(now - sent)
				}
			}
		})
	}

	// The sender: endpoints in 20 slots of 1 ms.
	stop := make(chan struct{})
	var sentInWindow atomic.Uint64
	senderDone := make(chan struct{})
	go func() {
		defer close(senderDone)
		const slots = 20
		pkt := make([]byte, 12+160)
		for i := range pkt[12:] {
			pkt[12+i] = 0xff
		}
		seq := make([]uint16, eps)
		ts := make([]uint32, eps)
		start := time.Now()
		var sent uint64
		for k := 0; ; k++ {
			select {
			case <-stop:
				sentInWindow.Add(sent)
				return
			default:
			}
			if d := time.Until(start.Add(time.Duration(k) * time.Millisecond)); d > 0 {
				time.Sleep(d)
			}
			for e := k % slots; e < eps; e += slots {
				pkt[0], pkt[1] = 0x80, 0
				binary.BigEndian.PutUint16(pkt[2:], seq[e])
				binary.BigEndian.PutUint32(pkt[4:], ts[e])
				binary.BigEndian.PutUint32(pkt[8:], uint32(e))
				binary.BigEndian.PutUint32(pkt[12:], uint32(e))
				now := nanotime()
				binary.BigEndian.PutUint64(pkt[16:], uint64(now))
				seq[e]++
				ts[e] += 160
				if _, err := socks[e%genSockets].WriteToUDPAddrPort(pkt, dst[e]); err != nil {
					continue
				}
				if inWindow(now) {
					sent++
				}
			}
		}
	}()

	time.Sleep(time.Duration(ws - nanotime())) // warm-up: lock-on, buffers, scheduler
	var ru0, ru1 syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru0))
	t0 := time.Now()
	time.Sleep(time.Duration(we - nanotime()))
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru1))
	wall := time.Since(t0)
	time.Sleep(500 * time.Millisecond) // the last packets of the window arrive
	close(stop)
	<-senderDone
	for _, c := range socks {
		c.Close()
	}
	readers.Wait()
	for _, l := range legs {
		l.Close()
	}

	var all delayHist
	for _, h := range hists {
		for i, c := range h {
			all[i] += c
		}
	}
	r := loadResult{sent: sentInWindow.Load(), recv: recvInWindow.Load()}
	if r.sent > 0 {
		r.lossPct = 100 * (1 - float64(r.recv)/float64(r.sent))
	}
	r.p50, r.p99 = all.quantile(0.50), all.quantile(0.99)
	if os.Getenv("PACER_MEDIA_BENCH_DEBUG") != "" {
		var over [5]uint64
		for i, c := range all {
			for k, lim := range []int{100, 500, 1000, 2000, 5000} { // 1, 5, 10, 20, 50 ms
				if i >= lim {
					over[k] += c
				}
			}
		}
		b.Logf("relay=%v n=%d p90 %v p999 %v; over 1/5/10/20/50 ms: %v of %d", relay, n, all.quantile(0.9), all.quantile(0.999), over, r.recv)
	}
	cpu := time.Duration(syscall.TimevalToNsec(ru1.Utime) - syscall.TimevalToNsec(ru0.Utime) +
		syscall.TimevalToNsec(ru1.Stime) - syscall.TimevalToNsec(ru0.Stime))
	r.cpu = cpu.Seconds() / wall.Seconds()
	return r
}
