package media

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pacer-dialer/pacer/internal/benchout"
	"github.com/stretchr/testify/require"
)

// BenchmarkRelay: N bridged calls (two legs each) relaying 20 ms PCMU both
// ways in this process, fed by an RTP generator in a second process (this
// test binary again, see generator_test.go): one sender goroutine pacing
// every endpoint's stream, staggered over the 20 ms as independent phones
// are, and four sockets with a reader each. Per N it runs a baseline
// first (the generator at the same packet rate sending straight to its own
// sockets: one loopback hop, no relay), then the relay for
// PACER_MEDIA_BENCH_SECONDS (default 20 s) after a 2 s warm-up. Reported
// per N:
//
//   - loss: packets sent during the window that never reached the far
//     endpoint;
//
//   - delay: generator send to far-endpoint receive (two loopback hops plus
//     the relay, and the generator's own wake-ups), and relay-added delay =
//     that minus the baseline's median one-hop time;
//
//   - CPU: the relay process's CPU seconds per second (getrusage), and the
//     generator process's apart; on 2 cores they compete with each other
//     (and with anything else running).
//
// Run it with
//
//	PACER_BENCH_OUT=$PWD/bench/results go test -run '^$' -bench BenchmarkRelay -benchtime 1x -timeout 30m ./media/
//
// PACER_MEDIA_BENCH_CALLS overrides the list of N (default
// 100,250,500,750,1000: past the goal, to find what the machine holds).
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
			added50 := r.P50 - base.P50
			added99 := r.P99 - base.P50
			b.Logf("%d calls: loss %.4f%% (%d of %d), end-to-end p50 %.2f ms p99 %.2f ms p99.9 %.2f ms (later than 1/5/10/20/50 ms: %v), one-hop baseline p50 %.3f ms, relay-added p50 %.2f ms p99 %.2f ms; relay process CPU %.2f s/s, generator process %.2f s/s; generator short of its schedule by %.2f%%",
				n, r.lossPct, r.Sent-r.Recv, r.Sent, ms(r.P50), ms(r.P99), ms(r.P999), r.Over, ms(base.P50), ms(added50), ms(added99), r.cpu, r.CPU, r.SentShortPct)
			k := fmt.Sprintf("calls_%d_", n)
			figures[k+"loss_pct"] = r.lossPct
			figures[k+"e2e_p50_ms"] = ms(r.P50)
			figures[k+"e2e_p99_ms"] = ms(r.P99)
			figures[k+"e2e_p999_ms"] = ms(r.P999)
			figures[k+"baseline_hop_p50_ms"] = ms(base.P50)
			figures[k+"relay_added_p50_ms"] = ms(added50)
			figures[k+"relay_added_p99_ms"] = ms(added99)
			figures[k+"relay_cpu_s_per_s"] = r.cpu
			figures[k+"generator_cpu_s_per_s"] = r.CPU
			figures[k+"generator_short_pct"] = r.SentShortPct
			figures[k+"relay_packets_per_s"] = float64(r.Sent) / window.Seconds() * 2 // each packet is read and written
			if r.lossPct < 0.1 && n > mostLoss {
				mostLoss = n
			}
			ok := r.lossPct < 0.1 && added99 < 10*time.Millisecond
			if ok && n > most {
				most = n
			}
			if n >= 500 && ok {
				met = true
			}
			summary = append(summary, fmt.Sprintf("%d calls: loss %.3f%%, relay-added p99 %.2f ms, relay CPU %.2f s/s", n, r.lossPct, ms(added99), r.cpu))
		}
	}
	figures["most_calls_loss_under_0.1pct_and_p99_under_10ms"] = float64(most)
	figures["most_calls_loss_under_0.1pct"] = float64(mostLoss)
	require.NoError(b, benchout.Write(benchout.Result{
		Name: "media_relay",
		Summary: fmt.Sprintf("bridged G.711 calls at 20 ms relayed on loopback, generator in a second process, %s window: %s; most held with loss < 0.1%% and relay-added p99 < 10 ms: %d",
			window, strings.Join(summary, "; "), most),
		Figures: figures,
		Goal:    "500 bridged calls (100,000 packets/s) with loss < 0.1% and relay-added delay p99 < 10 ms",
		Met:     &met,
	}))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

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
