package sip

import (
	"math"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/dialer"
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
	sounds := inbound.WaitSounds{Welcome: toneOf(welcomeHz, 600*time.Millisecond), Music: toneOf(musicHz, 400*time.Millisecond),
		Comfort: toneOf(comfortHz, 400*time.Millisecond), ComfortEvery: every}
	asked := make(chan string, 1)
	c, r, _ := callerSideWith(t, u, CallersConfig{Ringback: 100 * time.Millisecond,
		Sounds: func(did string) inbound.WaitSounds { asked <- did; return sounds }}, nil, 7) // agent 7 never comes

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

// The welcome holds nobody back: a caller is offered while it plays, and
// the agent who takes them cuts it off at once; the caller hears the
// agent from then on, and none of the welcome or the music.
func TestSIPInboundAgentTakingTheCallerCutsTheWelcomeShort(t *testing.T) {
	t.Parallel()
	const welcomeHz, musicHz, agentVoice = 1200.0, 500.0, 0x55
	ports := testPorts(t)
	u := startUA(t, Config{Media: MediaConfig{Ports: ports},
		KnownSource: func(a netip.Addr) bool { return a.IsLoopback() }})
	var ag agentPhones
	agentPh := newPhone(t)
	agentLeg := ag.add(t, ports, 1, agentPh, media.PCMU)
	tr, _ := newTrunk(t, u, TrunkOptions{AgentLegs: &ag}, TrunkConfig{Name: "carrier", URI: "sip:127.0.0.1:5999"})

	bridged := make(chan dialer.CallID, 1)
	welcome := toneOf(welcomeHz, 30*time.Second) // far longer than the test
	var r *inbound.Router
	_, r, log := callerSideWith(t, u, CallersConfig{Ringback: 100 * time.Millisecond,
		Sounds: func(string) inbound.WaitSounds {
			return inbound.WaitSounds{Welcome: welcome, Music: toneOf(musicHz, time.Second)}
		}}, takeOn(t, &r, tr, bridged), 1)

	ph := newPhone(t)
	s := caller(t, u, ph, testDID, callerHangsUp, 1000)
	testwait.Until(t, func() bool {
		rs := runs(heardTones(ph, welcomeHz, musicHz))
		return len(rs) == 1 && rs[0].hz == welcomeHz && rs[0].n >= 5
	}, "the caller hears the welcome")
	r.AgentChanged(1, 1, agents.Ready, time.Now()) // the agent comes while it plays
	select {
	case <-bridged:
	case <-testwait.Expired(t):
		t.Fatal("the agent was never offered the caller")
	}
	agentPh.send(agentLeg.LocalAddr(), 0, agentVoice, 20)
	testwait.Until(t, func() bool { return voiceHeard(ph, agentVoice) >= 20 }, "the caller hears the agent")
	sippPassed(t, s)

	seq := heardTones(ph, welcomeHz, musicHz)
	rs := runs(seq)
	require.Len(t, rs, 1, "the welcome, then neither the rest of it nor the music: %v", rs)
	require.Less(t, rs[0].n, int(welcome.Duration()/(20*time.Millisecond)), "the welcome was cut short")
	ph.mu.Lock()
	defer ph.mu.Unlock()
	firstVoice := slices.IndexFunc(ph.got, func(p rxPkt) bool { return p.pay[0] == agentVoice })
	require.GreaterOrEqual(t, firstVoice, 0)
	for i, hz := range seq[firstVoice:] {
		require.Zero(t, hz, "packet %d after the agent's first: no welcome, no music", firstVoice+i)
	}
	require.True(t, log.has(inbound.EvConnect))
}

// voiceHeard counts the packets p received filled with voice.
func voiceHeard(p *phone, voice byte) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, r := range p.got {
		if len(r.pay) > 0 && r.pay[0] == voice && r.pay[len(r.pay)-1] == voice {
			n++
		}
	}
	return n
}
