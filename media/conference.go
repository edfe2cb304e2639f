package media

import (
	"slices"
	"sync"
	"time"
)

// Conference mixes legs: each member hears the others, never itself. What
// members send is decoded into a small jitter buffer per member (about
// 60 ms); every 20 ms the pacer takes a frame from each, sums them, and
// sends each member the sum less its own voice, encoded to its codec, in
// its own stream. Members' DTMF is reported by their OnDTMF but not
// relayed to the others. The conference has no goroutine of its own: the
// legs' readers fill the buffers and the shared pacer mixes.
type Conference struct {
	mu      sync.Mutex
	members []*member
	closed  bool
	item    *pacedItem

	sum [mixFrame]int32
}

const (
	mixFrame  = 160 // 20 ms at 8 kHz
	mixPeriod = 20 * time.Millisecond
)

type member struct {
	c     *Conference
	l     *Leg
	key   srcKey
	seq   uint16
	ts    uint32
	jb    jitter
	frame [mixFrame]int16
	out   [mixFrame]int16
	enc   [mixFrame]byte
}

func (m *member) deliver(from *Leg, p *rxPacket) {
	if p.dtmf {
		return
	}
	m.jb.put(p.hdr.SSRC, p.hdr.Timestamp, p.codec, p.payload)
}

// NewConference mixes legs (each leaves any bridge or conference it was
// in).
func NewConference(legs ...*Leg) *Conference {
	c := &Conference{}
	for _, l := range legs {
		c.Add(l)
	}
	c.mu.Lock()
	if !c.closed {
		c.item = pace.schedule(c, nanotime()+int64(mixPeriod))
	}
	c.mu.Unlock()
	return c
}

// Add brings l into the conference (out of any bridge, which closes, or
// other conference).
func (c *Conference) Add(l *Leg) {
	m := &member{c: c, l: l, key: srcKey{src: nextID()}}
	attachMu.Lock()
	defer attachMu.Unlock()
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed || l.owner == c || l.closing.Load() {
		return
	}
	c.mu.Lock()
	c.members = append(c.members, m)
	c.mu.Unlock()
	attachLocked(l, c, m)
}

// Remove takes l out; the others go on mixing. With two left, the caller
// may Close the conference and NewBridge them instead (a plain relay costs
// no decoding).
func (c *Conference) Remove(l *Leg) {
	attachMu.Lock()
	defer attachMu.Unlock()
	if l.owner != c {
		return
	}
	c.releaseLocked(l)
	l.owner = nil
	l.att.Store(nil)
}

// Members returns the legs in the conference.
func (c *Conference) Members() []*Leg {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*Leg, len(c.members))
	for i, m := range c.members {
		out[i] = m.l
	}
	return out
}

// Close stops the mixing; the legs stay up, carrying nothing until fed.
func (c *Conference) Close() {
	attachMu.Lock()
	defer attachMu.Unlock()
	c.mu.Lock()
	c.closed = true
	members := c.members
	c.members = nil
	it := c.item
	c.mu.Unlock()
	for _, m := range members {
		if m.l.owner == c {
			m.l.owner = nil
			m.l.att.Store(nil)
		}
	}
	pace.remove(it)
}

func (c *Conference) releaseLocked(l *Leg) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.members = slices.DeleteFunc(c.members, func(m *member) bool { return m.l == l })
}

func (c *Conference) tick(due, now int64) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0
	}
	if len(c.members) >= 2 {
		clear(c.sum[:])
		for _, m := range c.members {
			m.jb.take(m.frame[:])
			for i, s := range m.frame {
				c.sum[i] += int32(s)
			}
		}
		for _, m := range c.members {
			for i := range m.out {
				m.out[i] = clip16(c.sum[i] - int32(m.frame[i]))
			}
			codec := m.l.Format().Codec
			b := codec.Encode(m.enc[:0], m.out[:])
			m.l.out.write(m.key, m.seq, m.ts, false, false, codec, b)
			m.seq++
			m.ts += mixFrame
		}
	}
	return nextDue(due, now, mixPeriod)
}

func clip16(v int32) int16 {
	return int16(max(min(v, 32767), -32768))
}
