package media

import (
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/pacer-dialer/pacer/internal/testwait"
	"github.com/stretchr/testify/require"
)

// Signalling-paced operations (bridge, mute, play, DTMF, conference)
// racing each other on the same legs while audio flows leave no data race
// (under -race), no deadlock, and legs that still relay afterwards.
func TestControlOperationsRaceSafelyWithTraffic(t *testing.T) {
	noLeaks(t)
	ports := testPorts(t)
	const n = 4
	var peers [n]*peer
	var legs [n]*Leg
	for i := range n {
		peers[i] = newPeer(t)
		legs[i] = answerPeer(t, ports, peers[i], []int{0, 8}[i%2:i%2+1], 101, 20)
		talk(t, peers[i], legs[i], int16(500*(i+1)))
	}
	prompt := NewPrompt(ramp(800))
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 7))
			var br *Bridge
			var conf *Conference
			for range 300 {
				a, b := legs[r.IntN(n)], legs[r.IntN(n)]
				switch r.IntN(9) {
				case 0, 1:
					if a != b {
						br = NewBridge(a, b)
					}
				case 2:
					if br != nil {
						br.Mute(a, r.IntN(2) == 0)
						br.Relayed(a)
					}
				case 3:
					if br != nil {
						br.Close()
					}
				case 4:
					a.Play(prompt, r.IntN(2) == 0)
				case 5:
					a.StopPlay()
				case 6:
					if r.IntN(8) == 0 { // each key holds the stream for 220 ms
						require.NoError(t, a.SendDTMF("1"))
					}
				case 7:
					if conf == nil {
						conf = NewConference(a, b)
					} else {
						conf.Add(a)
						conf.Remove(b)
					}
				case 8:
					if conf != nil {
						conf.Close()
						conf = nil
					}
					a.SetHold(r.IntN(2) == 0)
					a.Stats()
				}
			}
			if conf != nil {
				conf.Close()
			}
		})
	}
	wg.Wait()
	for _, l := range legs {
		l.StopPlay()
		l.SetHold(false)
	}
	br := NewBridge(legs[0], legs[1])
	before, _ := br.Relayed(legs[0])
	testwait.Until(t, func() bool { got, _ := br.Relayed(legs[0]); return got > before+5 }, "a bridge made after the storm relays")
	for _, l := range legs {
		require.NoError(t, l.Err())
	}
}
