package media

import (
	"math"
	"sync"
	"testing"
	"time"

	"github.com/pacer-dialer/pacer/internal/testwait"
	"github.com/pion/rtp"
	"github.com/stretchr/testify/require"
)

// talk makes p send a steady level (a constant linear sample value, so
// the mix is readable in what each party hears) every 20 ms, as a phone
// does, until the returned stop is called.
func talk(t *testing.T, p *peer, to *Leg, level int16) (stop func()) {
	codec := to.Format().Codec
	payload := codec.Encode(nil, make([]int16, 160))
	for i := range payload {
		payload[i] = codec.Encode(nil, []int16{level})[0]
	}
	quit, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case <-tick.C:
				_, _ = p.conn.WriteToUDPAddrPort(p.packet(uint8(codec), false, payload), to.LocalAddr())
				p.seq++
				p.ts += 160
			}
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { close(quit); <-exited }) }
	t.Cleanup(stop)
	return stop
}

// levels are the distinct sample values (rounded to hundreds) in what a
// peer received from index from on.
func levels(pkts []rtp.Packet, from int) map[int]bool {
	out := map[int]bool{}
	for _, p := range pkts[from:] {
		for _, s := range Codec(p.PayloadType).Decode(nil, p.Payload) {
			out[int(math.Round(float64(s)/100))*100] = true
		}
	}
	return out
}

// hears waits until p's latest packet is all one level, near want.
func hears(t *testing.T, p *peer, want int, who string) {
	t.Helper()
	testwait.Until(t, func() bool {
		got := p.received()
		if len(got) == 0 {
			return false
		}
		last := got[len(got)-1]
		for _, s := range Codec(last.PayloadType).Decode(nil, last.Payload) {
			if math.Abs(float64(int(s)-want)) > 0.04*float64(want)+60 {
				return false
			}
		}
		return true
	}, "%s should hear level %d", who, want)
}

// Three parties in a conference each hear the other two mixed and never
// themselves, each in its own codec; after one leaves, the other two go on
// hearing each other; the conference closed, a bridge joins them directly.
func TestConferenceEachHearsTheOthersNeverThemselves(t *testing.T) {
	noLeaks(t)
	ports := testPorts(t)
	pa, pb, pc := newPeer(t), newPeer(t), newPeer(t)
	a := answerPeer(t, ports, pa, []int{0}, 0, 20)
	b := answerPeer(t, ports, pb, []int{0}, 0, 20)
	c := answerPeer(t, ports, pc, []int{8}, 0, 30) // a PCMA carrier
	const la, lb, lc = 1000, 2000, 4000
	stopA, stopB, stopC := talk(t, pa, a, la), talk(t, pb, b, lb), talk(t, pc, c, lc)

	conf := NewConference(a, b, c)
	hears(t, pa, lb+lc, "a")
	hears(t, pb, la+lc, "b")
	hears(t, pc, la+lb, "c")
	for who, p := range map[string]*peer{"a": pa, "b": pb, "c": pc} {
		own := map[string]int{"a": la, "b": lb, "c": lc}[who]
		allowed := map[int]bool{0: true}
		for _, x := range []int{la, lb, lc} {
			if x == own {
				continue
			}
			for k := range allowed {
				allowed[k+x] = true
			}
		}
		for lv := range levels(p.received(), 0) {
			ok := false
			for al := range allowed {
				if math.Abs(float64(lv-al)) <= 0.04*float64(al)+150 {
					ok = true
				}
			}
			require.True(t, ok, "%s heard level %d: a mix containing its own voice (allowed %v)", who, lv, allowed)
		}
	}
	for _, p := range pc.received() {
		require.EqualValues(t, PCMA, p.PayloadType, "c gets its own codec")
	}

	conf.Remove(c)
	stopC()
	hears(t, pa, lb, "a after c left")
	hears(t, pb, la, "b after c left")
	require.Len(t, conf.Members(), 2)

	conf.Close()
	stopA()
	stopB()
	NewBridge(a, b)
	before := pb.count()
	pa.send(a.LocalAddr(), 0, tone(160, 0x42))
	testwait.Until(t, func() bool {
		got := pb.received()
		return len(got) > before && string(got[len(got)-1].Payload) == string(tone(160, 0x42))
	}, "b hears a's packet relayed as is")
	// b's stream stayed one stream through mix and relay.
	got := pb.received()
	for i := 1; i < len(got); i++ {
		require.Equal(t, got[0].SSRC, got[i].SSRC)
		require.Equal(t, uint16(1), got[i].SequenceNumber-got[i-1].SequenceNumber, "packet %d", i)
	}
}

// The jitter buffer puts reordered packets back in order and plays lost
// ones as silence, 60 ms behind the first packet.
func TestJitterBufferReordersAndFillsLoss(t *testing.T) {
	var j jitter
	pkt := func(v int16) []byte { return PCMU.Encode(nil, []int16{v, v, v, v, v, v, v, v}) }
	j.put(7, 1000, PCMU, pkt(1000))
	j.put(7, 1016, PCMU, pkt(3000)) // arrives before 1008
	j.put(7, 1008, PCMU, pkt(2000))
	// 1024 lost; 1032 arrives
	j.put(7, 1032, PCMU, pkt(5000))
	out := make([]int16, jitterDepth)
	j.take(out)
	for _, s := range out {
		require.Zero(t, s, "60 ms of depth before the first packet plays")
	}
	out = make([]int16, 40)
	j.take(out)
	want := []int16{1000, 2000, 3000, 0, 5000}
	for i, w := range want {
		for _, s := range out[i*8 : i*8+8] {
			require.InDelta(t, w, s, float64(w)*0.04+40, "block %d", i)
		}
	}
	j.put(7, 1000, PCMU, pkt(9000)) // late: dropped
	j.take(out[:8])
	require.Zero(t, out[0])
}
