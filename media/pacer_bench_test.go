package media

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pacer-dialer/pacer/internal/benchout"
	"github.com/stretchr/testify/require"
)

// BenchmarkHoldMusic: 1,000 legs on hold, each playing the generated hold
// music at 20 ms, all paced by the one shared pacer goroutine, received by
// four sockets. Reported: packets received against the 50 a second each
// leg owes, how far the gap between a leg's consecutive packets strays
// from 20 ms (p50, p99: the jitter a phone sees), and process CPU seconds
// per second.
//
//	PACER_BENCH_OUT=$PWD/bench/results go test -run '^$' -bench BenchmarkHoldMusic -benchtime 1x ./media/
func BenchmarkHoldMusic(b *testing.B) {
	const legs = 1000
	const window = 10 * time.Second
	var got, owed uint64
	var p50, p99 time.Duration
	var cpu float64
	for range b.N {
		socks := make([]*net.UDPConn, genSockets)
		for i := range socks {
			c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
			require.NoError(b, err)
			_ = c.SetReadBuffer(4 << 20)
			socks[i] = c
		}
		lo := 20000 + 2*int(time.Now().UnixNano()%5000)
		ports, err := NewPorts(lo, lo+4*legs+1000)
		require.NoError(b, err)
		var all []*Leg
		ssrcLeg := map[uint32]int{}
		for i := range legs {
			l, err := ports.NewLeg(LegConfig{BindIP: loopback})
			require.NoError(b, err)
			port := socks[i%genSockets].LocalAddr().(*net.UDPAddr).Port
			_, err = l.Answer([]byte(fmt.Sprintf("v=0\r\no=gen 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\na=sendrecv\r\n", port)))
			require.NoError(b, err)
			ssrcLeg[l.out.ssrc] = i
			all = append(all, l)
		}
		// Per leg, the previous arrival: each gap is judged against 20 ms.
		type track struct {
			prev int64
			n    int64
		}
		var hist delayHist
		var mu sync.Mutex
		var wg sync.WaitGroup
		const warmup = time.Second
		ws := nanotime() + int64(warmup)
		we := ws + int64(window)
		for _, c := range socks {
			wg.Go(func() {
				tracks := make([]track, legs)
				var h delayHist
				var n uint64
				buf := make([]byte, 1500)
				for {
					nb, _, err := c.ReadFromUDPAddrPort(buf)
					if err != nil {
						break
					}
					now := nanotime()
					if nb < 12 || now < ws || now >= we {
						continue
					}
					i, ok := ssrcLeg[binary.BigEndian.Uint32(buf[8:])]
					if !ok {
						continue
					}
					n++
					tr := &tracks[i]
					if tr.n > 0 {
						dev := now - tr.prev - int64(20*time.Millisecond)
						h.add(max(dev, -dev))
					}
					tr.prev = now
					tr.n++
				}
				mu.Lock()
				got += n
				for i, c := range h {
					hist[i] += c
				}
				mu.Unlock()
			})
		}
		for _, l := range all {
			l.SetHold(true)
			l.Play(HoldMusic(), true)
		}
		time.Sleep(time.Duration(ws - nanotime()))
		var ru0, ru1 syscall.Rusage
		require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru0))
		t0 := time.Now()
		time.Sleep(time.Duration(we - nanotime()))
		require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru1))
		wall := time.Since(t0)
		for _, l := range all {
			l.Close()
		}
		for _, c := range socks {
			c.Close()
		}
		wg.Wait()
		owed = uint64(legs * 50 * window / time.Second)
		p50, p99 = hist.quantile(0.5), hist.quantile(0.99)
		used := syscall.TimevalToNsec(ru1.Utime) - syscall.TimevalToNsec(ru0.Utime) + syscall.TimevalToNsec(ru1.Stime) - syscall.TimevalToNsec(ru0.Stime)
		cpu = time.Duration(used).Seconds() / wall.Seconds()
	}
	b.Logf("%d legs playing hold music: %d of %d packets (%.2f%%), gap from 20 ms off by p50 %v p99 %v, CPU %.2f s/s",
		legs, got, owed, 100*float64(got)/float64(owed), p50, p99, cpu)
	met := float64(got) >= 0.999*float64(owed) && p99 < 10*time.Millisecond
	require.NoError(b, benchout.Write(benchout.Result{
		Name: "media_hold_music",
		Summary: fmt.Sprintf("%d legs playing generated hold music, paced by one shared goroutine: %.2f%% of packets on time, packet gaps off 20 ms by p99 %.2f ms, CPU %.2f s/s",
			legs, 100*float64(got)/float64(owed), ms(p99), cpu),
		Figures: map[string]float64{"legs": legs, "received_pct": 100 * float64(got) / float64(owed),
			"gap_jitter_p50_ms": ms(p50), "gap_jitter_p99_ms": ms(p99), "cpu_s_per_s": cpu},
		Goal: "1,000 legs at 20 ms: every packet sent, gap jitter p99 < 10 ms",
		Met:  &met,
	}))
}
