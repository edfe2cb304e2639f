package media

import (
	"sync"
	"sync/atomic"
	"time"
)

// A leg is in at most one bridge or conference at a time: its owner. The
// reader hands each packet to the leg's attachment; attaching and
// detaching (rare, signalling-paced) go through attachMu, the per-packet
// path only loads an atomic pointer.
var attachMu sync.Mutex

// attachment receives what a leg reads, on that leg's reader goroutine.
type attachment interface {
	deliver(from *Leg, p *rxPacket)
}

type attHolder struct{ a attachment }

// owner is a bridge or a conference holding legs.
type owner interface {
	// releaseLocked lets go of l because l joins something else or closes;
	// attachMu is held.
	releaseLocked(l *Leg)
}

// attachLocked makes o the owner of l and a the receiver of its packets,
// taking l from whatever held it before.
func attachLocked(l *Leg, o owner, a attachment) {
	if l.owner != nil && l.owner != o {
		l.owner.releaseLocked(l)
	}
	l.owner = o
	l.att.Store(&attHolder{a: a})
}

// detach takes l out of its bridge or conference (the leg is closing).
func detach(l *Leg) {
	attachMu.Lock()
	defer attachMu.Unlock()
	if l.owner != nil {
		l.owner.releaseLocked(l)
	}
	l.owner = nil
	l.att.Store(nil)
}

// Bridge relays between two legs: what one receives goes out on the other,
// restamped into the destination's own stream, without decoding when the
// codecs match and PCMA<->PCMU by table when not. DTMF events are relayed
// with the destination's telephone-event payload type (dropped when it has
// none). The relay runs on the legs' reader goroutines: the bridge itself
// has no goroutine.
type Bridge struct {
	a, b   *Leg
	ab, ba *relay
	closed bool // guarded by attachMu
}

// relay is one direction of a bridge.
type relay struct {
	dst   *Leg
	muted atomic.Bool
	// via is part of the stream's source key; it changes on unmute so the
	// destination resynchronises instead of showing the muted packets as a
	// sequence gap.
	via atomic.Uint64

	// Written only by the source leg's reader.
	relayed atomic.Uint64
	first   atomic.Int64 // unix nanos of the first packet relayed, 0 = none
}

func (r *relay) deliver(from *Leg, p *rxPacket) {
	if r.muted.Load() {
		return
	}
	k := srcKey{src: from.id, via: r.via.Load(), ssrc: p.hdr.SSRC}
	if r.dst.out.write(k, p.hdr.SequenceNumber, p.hdr.Timestamp, p.hdr.Marker, p.dtmf, p.codec, p.payload) {
		if r.relayed.Add(1) == 1 {
			r.first.Store(time.Now().UnixNano())
		}
	}
}

// Relayed says how many packets from `from` this bridge has sent on to the
// other leg, and when the first went (zero time before any): the answer to
// "did the customer's audio reach the agent, and how soon after connect".
func (br *Bridge) Relayed(from *Leg) (packets uint64, first time.Time) {
	r := br.ab
	if from == br.b {
		r = br.ba
	} else if from != br.a {
		return 0, time.Time{}
	}
	if n := r.first.Load(); n != 0 {
		first = time.Unix(0, n)
	}
	return r.relayed.Load(), first
}

// NewBridge relays a<->b, taking each leg out of any bridge (which closes)
// or conference it was in. The legs' streams carry on: the far ends see
// the new audio in the same SSRC with continuous sequence numbers and
// timestamps. A leg that was in nothing hands over the last audio packet
// it read if that is under 50 ms old (the customer's first syllable when
// the bridge comes just after the answer), on its reader, ahead of the
// next packet.
func NewBridge(a, b *Leg) *Bridge {
	br := &Bridge{a: a, b: b, ab: &relay{dst: b}, ba: &relay{dst: a}}
	br.ab.via.Store(nextID())
	br.ba.via.Store(nextID())
	attachMu.Lock()
	attachLocked(a, br, br.ab)
	attachLocked(b, br, br.ba)
	attachMu.Unlock()
	// What either far end said just before the bridge (within a packet
	// time or so) goes across now rather than being lost.
	a.wakeForEarly()
	b.wakeForEarly()
	return br
}

// Mute stops relaying what from says (the agent's mute): the other leg
// hears nothing from it until Mute(from, false). from must be one of the
// bridge's legs.
func (br *Bridge) Mute(from *Leg, on bool) {
	r := br.ab
	if from == br.b {
		r = br.ba
	} else if from != br.a {
		return
	}
	if r.muted.Swap(on) && !on {
		r.via.Store(nextID())
	}
}

// Close stops the relay. The legs stay up; what they send stops until
// something feeds them again.
func (br *Bridge) Close() {
	attachMu.Lock()
	defer attachMu.Unlock()
	br.closeLocked()
}

func (br *Bridge) closeLocked() {
	if br.closed {
		return
	}
	br.closed = true
	for _, l := range []*Leg{br.a, br.b} {
		if l.owner == br {
			l.owner = nil
			l.att.Store(nil)
		}
	}
}

// releaseLocked: a bridge without one of its legs relays nothing, so it
// closes.
func (br *Bridge) releaseLocked(*Leg) { br.closeLocked() }
