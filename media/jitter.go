package media

import "sync"

// jitter is the small buffer in front of the mixer: packets are decoded
// into a ring of samples at their RTP timestamp, so reordering and loss
// cost nothing special (a lost packet is silence), and the mixer takes
// 20 ms at a time from a play position that trails the first packet by
// jitterDepth. It is only where we decode (the relay never buffers).
const (
	jitterRing  = 8192            // samples, about 1 s; a power of two
	jitterDepth = 480             // 60 ms at 8 kHz, as livekit/sip
	jitterAhead = 4 * jitterDepth // further ahead than this: resynchronise
	jitterLate  = 5               // this many late packets in a row: resynchronise
)

type jitter struct {
	mu      sync.Mutex
	ring    [jitterRing]int16
	started bool
	ssrc    uint32
	play    uint32 // timestamp of the next sample the mixer takes
	late    int
}

// put decodes one packet into the ring. A new SSRC, a jump (silence
// suppression, a restarted sender) or a sender whose clock drifted far
// ahead restarts the buffer at jitterDepth behind the packet.
func (j *jitter) put(ssrc, ts uint32, c Codec, payload []byte) {
	n := int32(len(payload))
	if n == 0 || n > jitterRing/4 {
		return
	}
	table := &ulawToLinear
	if c == PCMA {
		table = &alawToLinear
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	off := int32(ts - j.play)
	if !j.started || ssrc != j.ssrc || j.late >= jitterLate || off+n > jitterAhead || off < -jitterRing/2 {
		clear(j.ring[:])
		j.started, j.ssrc, j.late = true, ssrc, 0
		j.play = ts - jitterDepth
		off = jitterDepth
	}
	if off+n <= 0 {
		j.late++
		return
	}
	j.late = 0
	for i := max(0, -off); i < n; i++ {
		j.ring[(ts+uint32(i))&(jitterRing-1)] = table[payload[i]]
	}
}

// take fills dst with the next samples (silence where nothing arrived)
// and moves the play position on.
func (j *jitter) take(dst []int16) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.started {
		clear(dst)
		return
	}
	for i := range dst {
		k := (j.play + uint32(i)) & (jitterRing - 1)
		dst[i] = j.ring[k]
		j.ring[k] = 0
	}
	j.play += uint32(len(dst))
}
