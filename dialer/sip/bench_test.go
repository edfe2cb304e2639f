package sip

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/internal/benchout"
	"github.com/pacer-dialer/pacer/internal/sipptest"
	"github.com/pacer-dialer/pacer/internal/testwait"
)

// benchDeliverer times each call from Dial to its answer and hangs it up
// (our BYE) after hold, so calls overlap as real ones do.
type benchDeliverer struct {
	tr   *Trunk
	hold time.Duration

	mu       sync.Mutex
	started  map[dialer.CallID]time.Time
	setup    []time.Duration
	failed   map[string]int
	finished int
	done     chan struct{}
	want     int
}

func (d *benchDeliverer) Now() time.Time { return time.Now() }

func (d *benchDeliverer) DeliverTrunk(_ time.Time, ev dialer.TrunkEvent) {
	if ev.Kind == dialer.TrunkRinging {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if ev.Kind == dialer.TrunkAnsweredHuman {
		d.setup = append(d.setup, time.Since(d.started[ev.Call]))
		call := ev.Call
		time.AfterFunc(d.hold, func() { _ = d.tr.Hangup(context.Background(), call) })
	} else {
		d.failed[ev.Kind.String()+" "+ev.Cause.String()]++
	}
	if d.finished++; d.finished == d.want {
		close(d.done)
	}
}

// BenchmarkSIPCallsPerSecond places calls through the SIP trunk to sipp (as
// the carrier, answering at once) at 50, 100 and 200 calls per second (or
// the comma-separated PACER_SIP_BENCH_RATES) for
// PACER_SIP_BENCH_SECONDS (default 60; `make bench` sets 300, the issue's
// five minutes) and reports the rate achieved, the failed calls and the
// setup time (Dial to the answer event) p50/p99. Every call is a real dialog
// with a real RTP leg (SDP offer and answer; no audio flows: the relay's
// load is media's BenchmarkRelay): INVITE, 100, 200, ACK, then after
// PACER_SIP_BENCH_HOLD_MS (default 2000, so 400 calls are up at once at
// 200/s) our BYE and its 200.
//
//	PACER_BENCH_OUT=$PWD/bench/results PACER_SIP_BENCH_SECONDS=300 go test -run '^$' -bench BenchmarkSIPCallsPerSecond -benchtime 1x -timeout 30m ./dialer/sip/
func BenchmarkSIPCallsPerSecond(b *testing.B) {
	seconds := 60
	if v := os.Getenv("PACER_SIP_BENCH_SECONDS"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(b, err, "PACER_SIP_BENCH_SECONDS")
		seconds = n
	}
	hold := 2000
	if v := os.Getenv("PACER_SIP_BENCH_HOLD_MS"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(b, err, "PACER_SIP_BENCH_HOLD_MS")
		hold = n
	}
	rates := []int{50, 100, 200}
	if v := os.Getenv("PACER_SIP_BENCH_RATES"); v != "" {
		rates = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			require.NoError(b, err, "PACER_SIP_BENCH_RATES")
			rates = append(rates, n)
		}
	}
	for _, rate := range rates {
		b.Run(fmt.Sprintf("cps=%d", rate), func(b *testing.B) {
			for range b.N {
				benchCPS(b, rate, time.Duration(seconds)*time.Second, time.Duration(hold)*time.Millisecond)
			}
		})
	}
}

func benchCPS(b *testing.B, rate int, dur, hold time.Duration) {
	sipptest.Need(b)
	calls := rate * int(dur/time.Second)
	u, err := New(Config{Addr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Media: MediaConfig{Ports: testPorts(b)}})
	require.NoError(b, err)
	require.NoError(b, u.Start(context.Background()))
	defer u.Stop()
	s := sipptest.Start(b, sipptest.Options{Scenario: "testdata/uas_bench.xml", Calls: calls,
		Args: []string{"-buff_size", "4194304"}})
	d := &benchDeliverer{hold: hold, started: map[dialer.CallID]time.Time{}, failed: map[string]int{}, done: make(chan struct{}), want: calls}
	tr, err := u.Trunk(1, []TrunkConfig{trunkTo("sipp", s)}, d, TrunkOptions{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(b, err)
	d.tr = tr

	b.ResetTimer()
	start := time.Now()
	tick := time.NewTicker(time.Second / time.Duration(rate))
	for i := 1; i <= calls; i++ {
		<-tick.C
		id := dialer.CallID(i)
		d.mu.Lock()
		d.started[id] = time.Now()
		d.mu.Unlock()
		require.NoError(b, tr.Dial(context.Background(), dialer.DialRequest{Call: id, Number: "+15551230000",
			CallerID: "+15557654321", RingTimeout: 30 * time.Second}))
	}
	tick.Stop()
	placed := time.Since(start)
	select {
	case <-d.done:
	case <-testwait.Expired(b):
		require.FailNow(b, "calls never all finished")
	}
	elapsed := time.Since(start)
	b.StopTimer()
	testwait.Until(b, func() bool { return tr.Channels("sipp") == 0 }, "every BYE answered")

	d.mu.Lock()
	setup := slices.Clone(d.setup)
	failed := calls - len(setup)
	reasons := fmt.Sprint(d.failed)
	d.mu.Unlock()
	slices.Sort(setup)
	pct := func(p float64) time.Duration {
		if len(setup) == 0 {
			return 0
		}
		return setup[min(len(setup)-1, int(p*float64(len(setup))))]
	}
	achieved := float64(len(setup)) / placed.Seconds()
	b.ReportMetric(achieved, "calls/s")
	b.ReportMetric(float64(failed), "failed")
	b.ReportMetric(float64(pct(0.5).Microseconds())/1000, "setup-p50-ms")
	b.ReportMetric(float64(pct(0.99).Microseconds())/1000, "setup-p99-ms")
	b.Logf("rate %d/s for %s, calls held %s: %d calls answered (%.1f/s), %d failed %s, setup p50 %s p99 %s, all done in %s",
		rate, dur, hold, len(setup), achieved, failed, reasons, pct(0.5), pct(0.99), elapsed.Round(time.Millisecond))
	met := failed == 0 && achieved >= 0.99*float64(rate)
	require.NoError(b, benchout.Write(benchout.Result{
		Name:    "sip_cps_" + strconv.Itoa(rate),
		Summary: fmt.Sprintf("SIP calls (each with an RTP leg, up %s) to a sipp UAS at %d/s for %s: %.1f calls/s answered, %d failed, setup p50 %s p99 %s", hold, rate, dur, achieved, failed, pct(0.5).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond)),
		Figures: map[string]float64{"target_cps": float64(rate), "achieved_cps": achieved, "failed": float64(failed),
			"setup_p50_ms": float64(pct(0.5).Microseconds()) / 1000, "setup_p99_ms": float64(pct(0.99).Microseconds()) / 1000,
			"seconds": dur.Seconds(), "hold_seconds": hold.Seconds()},
		Goal: "200 calls/s sustained for 5 minutes with no failed call",
		Met:  &met,
	}))
	<-s.Done()
	st, err := s.Stats()
	if err == nil {
		b.Logf("sipp: %d successful, %d failed", st.Successful, st.Failed)
	}
}
