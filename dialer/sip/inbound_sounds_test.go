package sip

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/inbound"
	"github.com/pacer-dialer/pacer/internal/testwait"
	"github.com/pacer-dialer/pacer/media"
)

// toneOf is a recording of one pure frequency, d long, with 5 ms ramps.
func toneOf(hz float64, d time.Duration) *media.Prompt {
	n := int(d / (time.Second / 8000))
	s := make([]int16, n)
	for i := range s {
		env := math.Min(1, math.Min(float64(i), float64(n-1-i))/40)
		s[i] = int16(6000 * env * math.Sin(2*math.Pi*hz*float64(i)/8000))
	}
	return media.NewPrompt(s)
}

// goertzel is the power of frequency hz in samples.
func goertzel(samples []int16, hz float64) float64 {
	w := 2 * math.Cos(2*math.Pi*hz/8000)
	var s1, s2 float64
	for _, x := range samples {
		s0 := float64(x) + w*s1 - s2
		s2, s1 = s1, s0
	}
	return s1*s1 + s2*s2 - w*s1*s2
}

// heardTones names each packet p received by its dominant frequency among
// freqs (0: none clearly dominant: silence, or a packet across two tones),
// in the order of their RTP sequence numbers.
func heardTones(p *phone, freqs ...float64) []float64 {
	p.mu.Lock()
	pkts := append([]rxPkt(nil), p.got...)
	p.mu.Unlock()
	out := make([]float64, 0, len(pkts))
	for i := 1; i < len(pkts); i++ { // received in order on loopback; check it
		if pkts[i].hdr.SequenceNumber != pkts[i-1].hdr.SequenceNumber+1 {
			p.t.Errorf("packet %d out of sequence", i)
		}
	}
	for _, r := range pkts {
		lin := media.PCMU.Decode(nil, r.pay)
		best, second, bestHz := 0.0, 0.0, 0.0
		for _, hz := range freqs {
			switch e := goertzel(lin, hz); {
			case e > best:
				best, second, bestHz = e, best, hz
			case e > second:
				second = e
			}
		}
		if best < 1e9 || best < 20*second {
			bestHz = 0
		}
		out = append(out, bestHz)
	}
	return out
}

// runs collapses a sequence into its runs: value and length.
type run struct {
	hz float64
	n  int
}

func runs(seq []float64) []run {
	var out []run
	for _, v := range seq {
		if v == 0 {
			continue
		}
		if len(out) > 0 && out[len(out)-1].hz == v {
			out[len(out)-1].n++
			continue
		}
		out = append(out, run{v, 1})
	}
	return out
}

// A caller of a queue with recordings hears, from their answer, the
// welcome once, then the queue's own music, then the comfort message after
// the interval of music, then the music again: each recording a tone of
// its own frequency, told apart in the RTP the caller receives.
func TestSIPInboundCallerHearsWelcomeThenMusicWithComfortMessages(t *testing.T) {
	t.Parallel()
	const welcomeHz, musicHz, comfortHz = 1200.0, 500.0, 2000.0
	every := time.Second
	u := loopbackUA(t)
	line, log := &lateLine{}, &queueLog{}
	r, err := inbound.NewRouter(inbound.Config{}, inbound.Deps{Notify: pokes{}, Line: line, Log: log})
	require.NoError(t, err)
	q := inbound.Queue{ID: 1, Name: "support", NoAgents: inbound.Fallback{Action: inbound.ActionWait}}.WithDefaults()
	require.NoError(t, r.SetQueue(q, []inbound.Member{{Queue: 1, Agent: agents.ID(7), Level: 1}})) // never comes
	r.SetDID(testDID, 1)
	sounds := inbound.WaitSounds{Welcome: toneOf(welcomeHz, 600*time.Millisecond), Music: toneOf(musicHz, 400*time.Millisecond),
		Comfort: toneOf(comfortHz, 400*time.Millisecond), ComfortEvery: every}
	asked := make(chan string, 1)
	c, err := u.NewCallers(CallersConfig{Router: r, Ringback: 100 * time.Millisecond, Logger: testLogger(t),
		Sounds: func(did string) inbound.WaitSounds { asked <- did; return sounds }})
	require.NoError(t, err)
	line.c = c
	u.SetInboundHandler(c.HandleInvite)

	ph := newPhone(t)
	s := caller(t, u, ph, testDID, callerWaitsForBye, 0)
	testwait.Until(t, func() bool {
		rs := runs(heardTones(ph, welcomeHz, musicHz, comfortHz))
		return len(rs) >= 4
	}, "the caller heard four parts")
	require.Equal(t, testDID, <-asked, "the sounds are those of the number the caller dialled")
	rs := runs(heardTones(ph, welcomeHz, musicHz, comfortHz))
	require.Equal(t, []float64{welcomeHz, musicHz, comfortHz, musicHz}, []float64{rs[0].hz, rs[1].hz, rs[2].hz, rs[3].hz},
		"welcome, music, comfort message, music again: %v", rs)
	require.InDelta(t, 30, rs[0].n, 2, "the whole welcome (600 ms: 30 packets), once")
	require.InDelta(t, 50, rs[1].n, 2, "then %v of music (50 packets)", every)
	require.InDelta(t, 20, rs[2].n, 2, "then the whole comfort message (400 ms: 20 packets)")

	require.Equal(t, 1, r.CloseAll("test over", time.Now()), "the caller was still waiting")
	sippPassed(t, s) // the goodbye, then our BYE
	testwait.Until(t, func() bool { return c.Waiting() == 0 }, "the caller's leg ended")
}
