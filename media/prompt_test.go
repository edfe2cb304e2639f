package media

import (
	"math"
	"testing"
	"time"

	"github.com/pacer-dialer/pacer/internal/testwait"
	"github.com/pion/rtp"
	"github.com/stretchr/testify/require"
)

func ramp(n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16((i*37)%4000 - 2000)
	}
	return s
}

// payloads concatenates what a peer received.
func payloads(pkts []rtp.Packet) []byte {
	var b []byte
	for _, p := range pkts {
		b = append(b, p.Payload...)
	}
	return b
}

// A prompt plays into a bridged leg in ptime packets of the leg's codec,
// holding the relay back; when it ends the relay resumes in the same
// stream.
func TestPromptReplacesRelayThenRelayResumesInTheSameStream(t *testing.T) {
	noLeaks(t)
	ports := testPorts(t)
	carrier, phone := newPeer(t), newPeer(t)
	cust := answerPeer(t, ports, carrier, []int{8}, 0, 30) // PCMA, 30 ms
	agent := answerPeer(t, ports, phone, []int{0}, 0, 20)
	NewBridge(cust, agent)

	prompt := NewPrompt(ramp(1000)) // 125 ms, looped: not a multiple of 30 ms
	done := cust.Play(prompt, true)
	phone.send(agent.LocalAddr(), 0, tone(160, 0x55)) // the agent talks over the prompt: not heard
	testwait.Until(t, func() bool { return agent.Stats().PacketsIn == 1 && carrier.count() >= 10 }, "agent packet read while the prompt plays")
	cust.StopPlay()
	<-done
	testwait.Until(t, func() bool { return carrier.count() == int(cust.Stats().PacketsOut) }, "all sent was received")
	got := carrier.received()
	var want []byte
	for len(want) < len(payloads(got)) {
		want = append(want, prompt.encoded(PCMA)...)
	}
	require.Equal(t, want[:len(payloads(got))], payloads(got), "the carrier hears the prompt and only the prompt, A-law")
	for _, p := range got {
		require.Equal(t, uint8(PCMA), p.PayloadType)
		require.Len(t, p.Payload, 240, "30 ms packets, as the carrier asked")
	}
	require.True(t, got[0].Marker)

	for range 3 {
		phone.send(agent.LocalAddr(), 0, tone(160, 0x66))
	}
	testwait.Until(t, func() bool { return carrier.count() == len(got)+3 }, "relay resumed after the prompt")
	all := carrier.received()
	for i := 1; i < len(all); i++ {
		require.Equal(t, all[0].SSRC, all[i].SSRC)
		require.Equal(t, uint16(1), all[i].SequenceNumber-all[i-1].SequenceNumber, "packet %d", i)
		dts := all[i].Timestamp - all[i-1].Timestamp
		require.True(t, dts > 0 && dts < 1<<31, "packet %d: timestamps go forward", i)
	}
	x := tone(160, 0x66)
	Transcode(x, PCMU, PCMA)
	require.Equal(t, x, all[len(all)-1].Payload)
}

// A looped prompt plays until StopPlay; hold music is music: not silent,
// not clipped, starting and ending at silence so the loop does not click.
func TestHoldMusicLoopsUntilStopped(t *testing.T) {
	noLeaks(t)
	m := HoldMusic()
	require.InDelta(t, 4.8, m.Duration().Seconds(), 0.01)
	lin := PCMU.Decode(nil, m.ulaw)
	peak, energy := 0, 0.0
	for _, s := range lin {
		peak = max(peak, int(math.Abs(float64(s))))
		energy += float64(s) * float64(s)
	}
	require.Less(t, peak, 16000, "headroom, no clipping")
	require.Greater(t, math.Sqrt(energy/float64(len(lin))), 500.0, "audible")
	require.Less(t, math.Abs(float64(lin[0])), 200.0, "starts at silence")
	require.Less(t, math.Abs(float64(lin[len(lin)-1])), 200.0, "ends at silence")

	// Looping, with a short prompt so the test does not wait out 4.8 s.
	short := NewPrompt(ramp(1000)) // 125 ms: loops every 6.25 packets
	ports := testPorts(t)
	carrier := newPeer(t)
	cust := answerPeer(t, ports, carrier, []int{0}, 0, 20)
	cust.SetHold(true)
	done := cust.Play(short, true)
	testwait.Until(t, func() bool { return carrier.count() >= 20 }, "looping: %d of 20 packets", carrier.count())
	cust.StopPlay()
	<-done
	testwait.Until(t, func() bool { return carrier.count() == int(cust.Stats().PacketsOut) }, "all sent was received")
	heard := payloads(carrier.received())
	var looped []byte
	for len(looped) < len(heard) {
		looped = append(looped, short.ulaw...)
	}
	require.Equal(t, looped[:len(heard)], heard, "looped seamlessly, across packet boundaries")
	require.EqualValues(t, len(heard)/160, cust.Stats().PacketsOut)
}

// A prompt played once ends by itself, its last packet short.
func TestPromptPlayedOnceEnds(t *testing.T) {
	noLeaks(t)
	ports := testPorts(t)
	phone := newPeer(t)
	agent := answerPeer(t, ports, phone, []int{0}, 0, 20)
	prompt := NewPrompt(ramp(1000))
	require.Equal(t, 125*time.Millisecond, prompt.Duration())
	select {
	case <-agent.Play(prompt, false):
	case <-testwait.Expired(t):
		t.Fatal("a prompt played once never ended")
	}
	testwait.Until(t, func() bool { return phone.count() == 7 }, "7 packets: %d", phone.count())
	got := phone.received()
	require.Equal(t, prompt.ulaw, payloads(got))
	require.Len(t, got[6].Payload, 40)
}

// Play on a leg that closes ends the prompt.
func TestPromptEndsWhenLegCloses(t *testing.T) {
	noLeaks(t)
	ports := testPorts(t)
	carrier := newPeer(t)
	cust := answerPeer(t, ports, carrier, []int{0}, 0, 20)
	done := cust.Play(HoldMusic(), true)
	testwait.Until(t, func() bool { return carrier.count() > 2 }, "music playing")
	require.NoError(t, cust.Close())
	<-done
}

// A recording kept as G.711 plays as the same bytes on a leg of its law.
func TestPromptFromG711KeepsTheBytes(t *testing.T) {
	ulaw := PCMU.Encode(nil, ramp(4000))
	p := NewPromptG711(PCMU, ulaw)
	require.Equal(t, ulaw, p.encoded(PCMU))
	require.Equal(t, 500*time.Millisecond, p.Duration())
	alaw := PCMA.Encode(nil, ramp(4000))
	require.Equal(t, alaw, NewPromptG711(PCMA, alaw).encoded(PCMA))
	x := append([]byte(nil), alaw...)
	Transcode(x, PCMA, PCMU)
	require.Equal(t, x, NewPromptG711(PCMA, alaw).encoded(PCMU))
}

// A program plays its intro once, then its loop with the interjection in
// its place after every Every of loop, the loop resuming where it stopped,
// all in one stream cut in ptime packets across the parts' boundaries;
// StopPlay stops it at once.
func TestProgramPlaysIntroThenLoopWithInterjections(t *testing.T) {
	noLeaks(t)
	fill := func(n int, f func(i int) byte) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = f(i)
		}
		return b
	}
	intro := fill(500, func(int) byte { return 0x11 })               // 62.5 ms
	loop := fill(300, func(i int) byte { return byte(0x20 + i%16) }) // 37.5 ms, looped
	inter := fill(240, func(int) byte { return 0x77 })               // 30 ms
	const every = 800                                                // 100 ms of loop between interjections
	pg := Program{Intro: NewPromptG711(PCMU, intro), Loop: NewPromptG711(PCMU, loop),
		Interject: NewPromptG711(PCMU, inter), Every: 100 * time.Millisecond}

	ports := testPorts(t)
	carrier := newPeer(t)
	cust := answerPeer(t, ports, carrier, []int{0}, 0, 20)
	cust.SetHold(true)
	done := cust.PlayProgram(pg)
	testwait.Until(t, func() bool { return carrier.count() >= 40 }, "program playing: %d of 40 packets", carrier.count())
	cust.StopPlay()
	<-done
	testwait.Until(t, func() bool { return carrier.count() == int(cust.Stats().PacketsOut) }, "all sent was received")
	heard := payloads(carrier.received())

	want := append([]byte(nil), intro...)
	pos := 0
	for len(want) < len(heard) {
		for range every {
			want = append(want, loop[pos%len(loop)])
			pos++
		}
		want = append(want, inter...)
	}
	require.Equal(t, want[:len(heard)], heard, "intro, then %d samples of loop and the interjection, over and over", every)
	require.Greater(t, len(heard), len(intro)+2*every+len(inter), "heard the loop resume after an interjection")
	for _, p := range carrier.received()[:len(heard)/160] {
		require.Len(t, p.Payload, 160, "20 ms packets across the parts' boundaries")
	}
}

// A program without a loop ends after its intro, as Play of one prompt.
func TestProgramWithoutLoopEndsAfterIntro(t *testing.T) {
	noLeaks(t)
	ports := testPorts(t)
	phone := newPeer(t)
	agent := answerPeer(t, ports, phone, []int{0}, 0, 20)
	intro := NewPrompt(ramp(400))
	select {
	case <-agent.PlayProgram(Program{Intro: intro, Interject: NewPrompt(ramp(80)), Every: time.Second}):
	case <-testwait.Expired(t):
		t.Fatal("a program without a loop never ended")
	}
	testwait.Until(t, func() bool { return phone.count() == 3 }, "3 packets: %d", phone.count())
	require.Equal(t, intro.ulaw, payloads(phone.received()))
}
