package media

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/internal/rtpgen"
)

// The RTP generator of BenchmarkRelay runs in its own process (this test
// binary, started again with genEnv set), so the relay's process CPU is
// the relay's alone and the generator's goroutines do not queue behind
// the relay's in one Go scheduler. It talks JSON lines on stdin/stdout:
// it says its socket addresses, is told where each endpoint sends and the
// window, says when the window starts and ends, and reports what it sent,
// received and the delays.
const genEnv = "PACER_MEDIA_RTP_GENERATOR"

func TestMain(m *testing.M) {
	if os.Getenv(genEnv) == "1" {
		if err := runGenerator(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "generator:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const genSockets = 4

type genHello struct {
	Addrs []string `json:"addrs"`
}

type genPlan struct {
	Dst      []string `json:"dst"` // where endpoint e sends; e's own socket is e % genSockets
	WarmupMS int      `json:"warmup_ms"`
	WindowMS int      `json:"window_ms"`
}

type genEvent struct {
	Event string `json:"event,omitempty"` // "start", "end"
	// The report, after "end".
	Sent, Recv   uint64
	P50, P99     time.Duration
	P999         time.Duration
	Over         [5]uint64 // received later than 1, 5, 10, 20, 50 ms
	CPU          float64   // the generator's CPU seconds per second
	SentShortPct float64   // packets owed by the 20 ms schedule but not sent in the window
}

// runGenerator: one sender goroutine pacing every endpoint's 20 ms stream,
// staggered in 20 slots of 1 ms as independent phones are; one reader per
// socket. Each packet carries its send time (monotonic, this process's
// clock) in its payload, which the relay passes through untouched.
func runGenerator(in io.Reader, out io.Writer) error {
	enc := json.NewEncoder(out)
	socks, addrs, err := rtpgen.Listen(genSockets)
	if err != nil {
		return err
	}
	if err := enc.Encode(genHello{Addrs: addrs}); err != nil {
		return err
	}
	var plan genPlan
	if err := json.NewDecoder(bufio.NewReader(in)).Decode(&plan); err != nil {
		return fmt.Errorf("read plan: %w", err)
	}
	eps := len(plan.Dst)
	dst, err := rtpgen.ParseDst(plan.Dst)
	if err != nil {
		return err
	}
	ws := nanotime() + int64(plan.WarmupMS)*int64(time.Millisecond)
	we := ws + int64(plan.WindowMS)*int64(time.Millisecond)
	inWindow := func(t int64) bool { return t >= ws && t < we }

	var recv atomic.Uint64
	hists := make([]*delayHist, genSockets)
	var readers sync.WaitGroup
	for i, c := range socks {
		h := new(delayHist)
		hists[i] = h
		readers.Go(func() {
			buf := make([]byte, 1500)
			var got uint64
			defer func() { recv.Add(got) }()
			for {
				nb, _, err := c.ReadFromUDPAddrPort(buf)
				if err != nil {
					return
				}
				if nb < 12+12 {
					continue
				}
				now := nanotime()
				if sent := int64(binary.BigEndian.Uint64(buf[16:])); inWindow(sent) {
					got++
					h.add(now - sent)
				}
			}
		})
	}

	stop := make(chan struct{})
	var sent uint64
	senderDone := make(chan struct{})
	go func() {
		defer close(senderDone)
		sent = rtpgen.Pace(stop, socks, dst, func(payload []byte, e int) bool {
			binary.BigEndian.PutUint32(payload, uint32(e))
			now := nanotime()
			binary.BigEndian.PutUint64(payload[4:], uint64(now))
			return inWindow(now)
		})
	}()

	time.Sleep(time.Duration(ws - nanotime()))
	var ru0, ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	t0 := time.Now()
	if err := enc.Encode(genEvent{Event: "start"}); err != nil {
		return err
	}
	time.Sleep(time.Duration(we - nanotime()))
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	wall := time.Since(t0)
	if err := enc.Encode(genEvent{Event: "end"}); err != nil {
		return err
	}
	time.Sleep(500 * time.Millisecond) // the window's last packets arrive
	close(stop)
	<-senderDone
	for _, c := range socks {
		c.Close()
	}
	readers.Wait()

	var all delayHist
	for _, h := range hists {
		for i, c := range h {
			all[i] += c
		}
	}
	r := genEvent{Sent: sent, Recv: recv.Load(), P50: all.quantile(0.5), P99: all.quantile(0.99), P999: all.quantile(0.999)}
	for i, c := range all {
		for k, lim := range []int{100, 500, 1000, 2000, 5000} {
			if i >= lim {
				r.Over[k] += c
			}
		}
	}
	owed := float64(eps) * 50 * float64(plan.WindowMS) / 1000
	r.SentShortPct = 100 * (1 - float64(r.Sent)/owed)
	r.CPU = rtpgen.CPUSeconds(ru0, ru1) / wall.Seconds()
	return enc.Encode(r)
}

type loadResult struct {
	genEvent
	lossPct float64
	cpu     float64 // this (the relay's) process, CPU seconds per second
}

// runRelayLoad runs n calls (2n endpoint streams) through the relay in
// this process, fed by a generator process; relay=false has the generator
// send straight to its own sockets (the one-hop baseline).
func runRelayLoad(b *testing.B, n int, relay bool, window time.Duration) loadResult {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), genEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	require.NoError(b, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(b, err)
	require.NoError(b, cmd.Start())
	dec := json.NewDecoder(stdout)
	var hello genHello
	require.NoError(b, dec.Decode(&hello))
	require.Len(b, hello.Addrs, genSockets)

	eps := 2 * n
	plan := genPlan{Dst: make([]string, eps), WarmupMS: 2000, WindowMS: int(window / time.Millisecond)}
	var legs []*Leg
	if relay {
		lo := 20000 + 2*int(time.Now().UnixNano()%5000)
		ports, err := NewPorts(lo, lo+8*n+1000)
		require.NoError(b, err)
		for i := range n {
			var pair [2]*Leg
			for side := range 2 {
				e := 2*i + side
				l, err := ports.NewLeg(LegConfig{BindIP: loopback})
				require.NoError(b, err)
				gen := netip.MustParseAddrPort(hello.Addrs[e%genSockets])
				offer := fmt.Sprintf("v=0\r\no=gen 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\na=sendrecv\r\n", gen.Port())
				_, err = l.Answer([]byte(offer))
				require.NoError(b, err)
				plan.Dst[e] = l.LocalAddr().String()
				pair[side] = l
				legs = append(legs, l)
			}
			NewBridge(pair[0], pair[1])
		}
	} else {
		for e := range eps {
			plan.Dst[e] = hello.Addrs[(e^1)%genSockets]
		}
	}
	require.NoError(b, json.NewEncoder(stdin).Encode(plan))

	var ev genEvent
	require.NoError(b, dec.Decode(&ev))
	require.Equal(b, "start", ev.Event)
	var ru0, ru1 syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru0))
	t0 := time.Now()
	require.NoError(b, dec.Decode(&ev))
	require.Equal(b, "end", ev.Event)
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru1))
	wall := time.Since(t0)
	var r loadResult
	require.NoError(b, dec.Decode(&r.genEvent))
	require.NoError(b, cmd.Wait())
	for _, l := range legs {
		l.Close()
	}
	if r.Sent > 0 {
		r.lossPct = 100 * (1 - float64(r.Recv)/float64(r.Sent))
	}
	r.cpu = rtpgen.CPUSeconds(ru0, ru1) / wall.Seconds()
	return r
}
