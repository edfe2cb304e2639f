package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// ErrNoDTMF: the far end negotiated no telephone-event payload type.
var ErrNoDTMF = errors.New("media: no telephone-event negotiated with the far end")

// How a key press is sent (RFC 4733): a packet every ptime while the tone
// lasts, the first with the marker bit, each with the duration so far;
// then the end packet three times; then a pause before the next key.
const (
	dtmfTone   = 100 * time.Millisecond
	dtmfPause  = 60 * time.Millisecond
	dtmfEnds   = 3
	dtmfVolume = 10 // -10 dBm0
)

// SendDTMF sends digits (0-9 * # A-D) as RFC 4733 events with the
// payload type the far end negotiated. It returns at once; the events go
// out paced, after any already queued, and take the leg's stream while
// they do (relayed audio and prompts are held back meanwhile).
func (l *Leg) SendDTMF(digits string) error {
	if l.Format().DTMF == 0 {
		return ErrNoDTMF
	}
	events := make([]byte, 0, len(digits))
	for _, d := range strings.ToUpper(digits) {
		i := strings.IndexRune(dtmfDigits, d)
		if i < 0 {
			return fmt.Errorf("media: DTMF digit %q: want 0-9, *, #, A-D", d)
		}
		events = append(events, byte(i))
	}
	if len(events) == 0 {
		return nil
	}
	if l.closing.Load() {
		return ErrClosed
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if tx := l.dtmfTx; tx != nil && tx.enqueue(events) {
		return nil
	}
	tx := &dtmfSender{l: l, key: srcKey{src: nextID()}, queue: events}
	l.dtmfTx = tx
	l.out.own(&l.out.dtmf, tx.key)
	tx.mu.Lock()
	tx.item = pace.schedule(tx, nanotime())
	tx.mu.Unlock()
	return nil
}

func (l *Leg) stopDTMF() {
	l.mu.Lock()
	tx := l.dtmfTx
	l.dtmfTx = nil
	l.mu.Unlock()
	if tx != nil {
		tx.mu.Lock()
		it := tx.item
		tx.finishLocked()
		tx.mu.Unlock()
		pace.remove(it)
	}
}

type dtmfPhase uint8

const (
	dtmfIdle dtmfPhase = iota
	dtmfOn
	dtmfEnd
	dtmfGap
)

// dtmfSender is a pacer job sending queued key presses.
type dtmfSender struct {
	l   *Leg
	key srcKey
	seq uint16
	ts  uint32 // the sender's clock: advances a packet time every tick

	mu       sync.Mutex
	item     *pacedItem
	finished bool
	queue    []byte
	phase    dtmfPhase
	event    byte
	eventTS  uint32
	dur      uint32
	ends     int
	gapUntil int64
}

// enqueue adds events unless the sender has finished (then a new one is
// needed).
func (tx *dtmfSender) enqueue(events []byte) bool {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if tx.finished {
		return false
	}
	tx.queue = append(tx.queue, events...)
	return true
}

func (tx *dtmfSender) tick(due, now int64) int64 {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if tx.finished {
		return 0
	}
	if tx.l.closing.Load() {
		tx.finishLocked()
		return 0
	}
	f := tx.l.Format()
	step := uint32(f.PTime / (time.Second / 8000))
	toneSamples := uint32(dtmfTone / (time.Second / 8000))
	if tx.phase == dtmfGap && due >= tx.gapUntil {
		tx.phase = dtmfIdle // the pause is over: the next key starts in this tick
	}
	switch tx.phase {
	case dtmfIdle:
		if len(tx.queue) == 0 {
			tx.finishLocked()
			return 0
		}
		tx.event, tx.queue = tx.queue[0], tx.queue[1:]
		tx.eventTS, tx.dur = tx.ts, step
		tx.sendLocked(true, false, f.Codec)
		tx.phase = dtmfOn
	case dtmfOn:
		tx.dur += step
		if tx.dur >= toneSamples {
			tx.phase, tx.ends = dtmfEnd, 1
			tx.sendLocked(false, true, f.Codec)
		} else {
			tx.sendLocked(false, false, f.Codec)
		}
	case dtmfEnd:
		tx.sendLocked(false, true, f.Codec)
		tx.ends++
		if tx.ends >= dtmfEnds {
			tx.phase, tx.gapUntil = dtmfGap, due+int64(dtmfPause)
		}
	case dtmfGap:
	}
	tx.ts += step
	return nextDue(due, now, f.PTime)
}

func (tx *dtmfSender) sendLocked(marker, end bool, c Codec) {
	var p [4]byte
	p[0] = tx.event
	p[1] = dtmfVolume
	if end {
		p[1] |= 0x80
	}
	binary.BigEndian.PutUint16(p[2:], uint16(min(tx.dur, 0xffff)))
	tx.l.out.write(tx.key, tx.seq, tx.eventTS, marker, true, c, p[:])
	tx.seq++
}

func (tx *dtmfSender) finishLocked() {
	if tx.finished {
		return
	}
	tx.finished = true
	tx.l.out.disown(&tx.l.out.dtmf, tx.key)
}
