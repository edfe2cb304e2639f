package media

import (
	"encoding/binary"
	"math/rand/v2"
	"sync"
	"time"
)

// srcKey names what feeds a leg's stream: a far leg's SSRC as relayed
// through one bridge (via), or a generator (prompt player, DTMF sender,
// conference member) by its id. A new key makes the stream resynchronise:
// its sequence numbers go on from the last one sent and its timestamps
// from the last one plus the time that passed, so the receiver sees one
// continuous stream whatever feeds it.
type srcKey struct {
	src, via uint64
	ssrc     uint32
}

// stream is everything a leg sends: one SSRC, its own sequence numbers and
// timestamps. Its mutex is taken once per packet sent; in a bridge only the
// other leg's reader writes, so it is uncontended unless a prompt or DTMF
// is being generated into the leg at the same moment.
type stream struct {
	mu sync.Mutex
	l  *Leg

	format Format
	ssrc   uint32

	sent     bool
	seq      uint16 // last sent
	ts       uint32 // last sent
	lastWall int64  // nanotime of the last send
	lastDur  uint32 // samples in the last audio packet

	cur    srcKey
	seqOff uint16
	tsOff  uint32
	srcSeq uint16 // newest sequence number seen from cur

	endTS uint32 // where the media of the last packet ends (ts + its samples)

	// prompt and dtmf, when set, are generators that own the stream: only
	// the DTMF sender may write while it sends, else only the prompt
	// player while it plays; relayed and mixed audio is dropped meanwhile.
	prompt, dtmf srcKey

	buf [1600]byte
}

func (s *stream) init(l *Leg) {
	s.l = l
	s.ssrc = rand.Uint32()
	s.seq = uint16(rand.Uint32())
	s.ts = rand.Uint32()
	s.format = Format{Codec: PCMU, PTime: 20 * time.Millisecond}
	s.lastDur = 160
	s.endTS = s.ts
}

// own gives the stream to generator k in slot (prompt or dtmf).
func (s *stream) own(slot *srcKey, k srcKey) {
	s.mu.Lock()
	*slot = k
	s.mu.Unlock()
}

// disown gives the slot up if k still holds it.
func (s *stream) disown(slot *srcKey, k srcKey) {
	s.mu.Lock()
	if *slot == k {
		*slot = srcKey{}
	}
	s.mu.Unlock()
}

func (s *stream) allowedLocked(k srcKey) bool {
	switch {
	case s.dtmf != (srcKey{}):
		return k == s.dtmf
	case s.prompt != (srcKey{}):
		return k == s.prompt
	}
	return true
}

// write sends one packet of source k, restamped into the stream. Audio is
// G.711 of law codec (transcoded by table to the leg's codec when they
// differ); dtmf payloads go out with the leg's negotiated event payload
// type, or are dropped when none was negotiated. It reports whether the
// packet went out.
func (s *stream) write(k srcKey, seq uint16, ts uint32, marker, dtmf bool, codec Codec, payload []byte) bool {
	l := s.l
	if l.closing.Load() || len(payload) > len(s.buf)-12 {
		return false
	}
	if d := Direction(l.farDir.Load()); d == SendOnly || d == Inactive {
		return false // the far end asked for nothing
	}
	r := l.remote.Load()
	if r == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.allowedLocked(k) {
		return false
	}
	var pt uint8
	if dtmf {
		if s.format.DTMF == 0 {
			return false
		}
		pt = s.format.DTMF
	} else {
		pt = uint8(s.format.Codec)
	}
	now := nanotime()
	if k != s.cur || !s.sent || absInt16(int16(seq-s.srcSeq)) > 1000 {
		s.resyncLocked(k, seq, ts, now)
		if !dtmf {
			marker = true
		}
	}
	outSeq := seq + s.seqOff
	outTS := ts + s.tsOff
	if int16(seq-s.srcSeq) > 0 {
		s.srcSeq = seq
	}
	if !s.sent || int16(outSeq-s.seq) > 0 {
		s.seq = outSeq
	}
	if !s.sent || int32(outTS-s.ts) > 0 {
		s.ts = outTS
	}
	s.sent = true
	s.lastWall = now
	samples := uint32(len(payload))
	if dtmf {
		samples = 0
		if len(payload) >= 4 {
			samples = uint32(binary.BigEndian.Uint16(payload[2:]))
		}
	} else {
		s.lastDur = samples
	}
	if end := outTS + samples; int32(end-s.endTS) > 0 {
		s.endTS = end
	}

	b := s.buf[:12+len(payload)]
	b[0] = 0x80
	b[1] = pt
	if marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], outSeq)
	binary.BigEndian.PutUint32(b[4:], outTS)
	binary.BigEndian.PutUint32(b[8:], s.ssrc)
	copy(b[12:], payload)
	if !dtmf && codec != s.format.Codec {
		Transcode(b[12:], codec, s.format.Codec)
	}
	if _, err := l.conn.WriteToUDPAddrPort(b, *r); err != nil {
		return false
	}
	l.st.packetsOut.Add(1)
	l.st.bytesOut.Add(uint64(len(payload)))
	return true
}

// resyncLocked maps a new source onto the stream: the next sequence number,
// and the last timestamp plus the time since the last packet, rounded to
// whole packets of the last size (at least one), and never inside the
// media already sent (a DTMF event's packets all carry its start).
func (s *stream) resyncLocked(k srcKey, seq uint16, ts uint32, now int64) {
	nextSeq, nextTS := s.seq, s.ts
	if s.sent {
		nextSeq++
		dur := max(s.lastDur, 1)
		elapsed := uint32((now - s.lastWall) / int64(time.Second/8000))
		pkts := max((elapsed+dur/2)/dur, 1)
		nextTS += pkts * dur
		if int32(s.endTS-nextTS) > 0 {
			nextTS = s.endTS
		}
	}
	s.cur = k
	s.seqOff = nextSeq - seq
	s.tsOff = nextTS - ts
	s.srcSeq = seq
}

func absInt16(v int16) int {
	if v < 0 {
		return -int(v)
	}
	return int(v)
}
