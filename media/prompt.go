package media

import (
	"math"
	"sync"
	"time"
)

// Prompt is 8 kHz mono audio to play into a leg, kept encoded in both
// G.711 laws so playing it costs no encoding.
type Prompt struct {
	ulaw, alaw []byte
}

// NewPrompt holds 8 kHz linear samples (DecodeWAV gives them from a file).
func NewPrompt(samples []int16) *Prompt {
	return &Prompt{
		ulaw: PCMU.Encode(make([]byte, 0, len(samples)), samples),
		alaw: PCMA.Encode(make([]byte, 0, len(samples)), samples),
	}
}

// NewPromptG711 holds 8 kHz G.711 audio of law c (a recording stored
// converted at upload): a leg of that law plays exactly these bytes, a leg
// of the other law gets them transcoded by table.
func NewPromptG711(c Codec, b []byte) *Prompt {
	same := append([]byte(nil), b...)
	other := append([]byte(nil), b...)
	if c == PCMA {
		Transcode(other, PCMA, PCMU)
		return &Prompt{ulaw: other, alaw: same}
	}
	Transcode(other, PCMU, PCMA)
	return &Prompt{ulaw: same, alaw: other}
}

// Duration is how long the prompt plays once.
func (p *Prompt) Duration() time.Duration {
	return time.Duration(len(p.ulaw)) * time.Second / 8000
}

func (p *Prompt) encoded(c Codec) []byte {
	if c == PCMA {
		return p.alaw
	}
	return p.ulaw
}

// Play plays p into the leg's stream, paced at the leg's ptime, from the
// start and once, or over and over when loop. It replaces what the leg was
// sending: a bridge's relay or a conference mix into the leg is dropped
// while it plays (DTMF sent with SendDTMF still interrupts it). A prompt
// already playing is stopped first. done is closed when the prompt ends,
// is stopped, or the leg closes.
func (l *Leg) Play(p *Prompt, loop bool) (done <-chan struct{}) {
	if loop {
		return l.PlayProgram(Program{Loop: p})
	}
	return l.PlayProgram(Program{Intro: p})
}

// Program is a sequence of prompts played as one: Intro once, then Loop
// over and over, with Interject played in its place after every Every of
// Loop (Loop then resumes where it stopped). A nil or empty part is left
// out; without Loop the program ends after Intro. What a caller waiting in
// a queue hears: the welcome, then music with the comfort message.
type Program struct {
	Intro, Loop, Interject *Prompt
	Every                  time.Duration
}

// PlayProgram plays pg as Play plays one prompt (replacing what the leg
// sent, paced at its ptime, one stream); StopPlay stops all of it at once.
// done is closed when the program ends (after Intro, without Loop), is
// stopped, or the leg closes.
func (l *Leg) PlayProgram(pg Program) (done <-chan struct{}) {
	pl := &player{l: l, pg: pg, key: srcKey{src: nextID()}, done: make(chan struct{}), marker: true}
	pl.every = int(pg.Every / (time.Second / 8000))
	pl.until = pl.every
	l.mu.Lock()
	old := l.player
	l.player = pl
	l.mu.Unlock()
	if old != nil {
		old.stop()
	}
	if l.closing.Load() || pg.Intro.empty() && pg.Loop.empty() {
		pl.finish()
		return pl.done
	}
	l.out.own(&l.out.prompt, pl.key)
	pl.mu.Lock()
	pl.item = pace.schedule(pl, nanotime())
	pl.mu.Unlock()
	return pl.done
}

// StopPlay stops the prompt playing into the leg, if any; what the leg
// carried before (a bridge, a conference) resumes.
func (l *Leg) StopPlay() {
	l.mu.Lock()
	pl := l.player
	l.player = nil
	l.mu.Unlock()
	if pl != nil {
		pl.stop()
	}
}

// The parts of a Program, in the order a player moves through them.
const (
	partIntro = iota
	partLoop
	partInterject
)

// player is one Play or PlayProgram: a pacer job.
type player struct {
	l      *Leg
	pg     Program
	key    srcKey
	seq    uint16
	ts     uint32
	marker bool

	// part is the part playing; pos is where in Intro or Interject,
	// loopPos where in Loop (kept while Interject plays); until is the
	// samples of Loop left before the next Interject, every the samples
	// between two (0: none).
	part         int
	pos, loopPos int
	until, every int

	mu      sync.Mutex
	item    *pacedItem
	stopped bool
	done    chan struct{}
	buf     [480]byte // one packet of up to 60 ms
}

func (p *Prompt) empty() bool { return p == nil || len(p.ulaw) == 0 }

func (pl *player) interjects() bool { return pl.every > 0 && !pl.pg.Interject.empty() }

// next is what is left of the part playing, moving on to the next part
// where one is over; nil when the program is.
func (pl *player) next(c Codec) []byte {
	for {
		switch pl.part {
		case partIntro:
			if !pl.pg.Intro.empty() && pl.pos < len(pl.pg.Intro.encoded(c)) {
				return pl.pg.Intro.encoded(c)[pl.pos:]
			}
			pl.part = partLoop
		case partLoop:
			if pl.pg.Loop.empty() {
				return nil
			}
			if pl.interjects() && pl.until <= 0 {
				pl.part, pl.pos = partInterject, 0
				continue
			}
			enc := pl.pg.Loop.encoded(c)
			if pl.loopPos >= len(enc) {
				pl.loopPos = 0
			}
			if pl.interjects() {
				return enc[pl.loopPos:min(len(enc), pl.loopPos+pl.until)]
			}
			return enc[pl.loopPos:]
		case partInterject:
			if enc := pl.pg.Interject.encoded(c); pl.pos < len(enc) {
				return enc[pl.pos:]
			}
			pl.part, pl.until = partLoop, pl.every
		}
	}
}

// played moves past k samples of the part playing.
func (pl *player) played(k int) {
	if pl.part == partLoop {
		pl.loopPos += k
		pl.until -= k
		return
	}
	pl.pos += k
}

func (pl *player) tick(due, now int64) int64 {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if pl.stopped {
		return 0
	}
	if pl.l.closing.Load() {
		pl.finishLocked()
		return 0
	}
	f := pl.l.Format()
	n := int(f.PTime / (time.Second / 8000))
	n = min(max(n, 80), len(pl.buf))
	b := pl.buf[:0]
	for len(b) < n {
		src := pl.next(f.Codec)
		if src == nil {
			break
		}
		k := copy(pl.buf[len(b):n], src)
		b = pl.buf[:len(b)+k]
		pl.played(k)
	}
	if len(b) == 0 {
		pl.finishLocked()
		return 0
	}
	pl.l.out.write(pl.key, pl.seq, pl.ts, pl.marker, false, f.Codec, b)
	pl.marker = false
	pl.seq++
	pl.ts += uint32(len(b))
	return nextDue(due, now, f.PTime)
}

func (pl *player) stop() {
	pl.mu.Lock()
	it := pl.item
	pl.finishLocked()
	pl.mu.Unlock()
	pace.remove(it)
}

func (pl *player) finish() {
	pl.mu.Lock()
	pl.finishLocked()
	pl.mu.Unlock()
}

func (pl *player) finishLocked() {
	if pl.stopped {
		return
	}
	pl.stopped = true
	pl.l.out.disown(&pl.l.out.prompt, pl.key)
	close(pl.done)
}

var holdMusic = sync.OnceValue(makeHoldMusic)

// HoldMusic is generated in code (no recording, nothing copyrighted): a
// soft arpeggio over the chords C, A minor, F and G, 4.8 s, each note a
// sine with a little second harmonic under a bell-like envelope that ends
// at silence, so it loops without a click. It is made once and shared.
func HoldMusic() *Prompt { return holdMusic() }

func makeHoldMusic() *Prompt {
	const (
		rate     = 8000
		noteLen  = rate * 3 / 10 // 300 ms
		attack   = rate / 100    // 10 ms
		release  = rate / 50     // 20 ms
		peak     = 7000.0
		padLevel = 0.25
	)
	// Melody notes (Hz), four per chord; the pad holds the chord's root an
	// octave lower for the bar.
	chords := []struct {
		pad   float64
		notes [4]float64
	}{
		{261.63, [4]float64{523.25, 659.25, 783.99, 659.25}},  // C: C E G E
		{220.00, [4]float64{440.00, 523.25, 659.25, 523.25}},  // Am: A C E C
		{349.23, [4]float64{698.46, 880.00, 1046.50, 880.00}}, // F: F A C A
		{392.00, [4]float64{783.99, 987.77, 1174.66, 987.77}}, // G: G B D B
	}
	out := make([]int16, 0, len(chords)*4*noteLen)
	for _, c := range chords {
		bar := 4 * noteLen
		for i := range bar {
			t := float64(i) / rate
			note := c.notes[i/noteLen]
			j := i % noteLen // position in the note
			nt := float64(j) / rate
			env := math.Exp(-3.5 * nt)
			if j < attack {
				env *= float64(j) / attack
			}
			if j >= noteLen-release {
				env *= float64(noteLen-j) / release
			}
			v := env * (math.Sin(2*math.Pi*note*nt) + 0.3*math.Sin(4*math.Pi*note*nt))
			// The pad fades in and out with the bar so bars join smoothly.
			padEnv := padLevel
			if i < release {
				padEnv *= float64(i) / release
			}
			if i >= bar-release {
				padEnv *= float64(bar-i) / release
			}
			v += padEnv * math.Sin(2*math.Pi*c.pad*t)
			out = append(out, int16(peak*v/1.55))
		}
	}
	return NewPrompt(out)
}
