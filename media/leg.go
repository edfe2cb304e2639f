package media

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

// Format is what SDP negotiated for a leg.
type Format struct {
	Codec Codec         // PCMU or PCMA
	PTime time.Duration // packet time we send at (20 ms default); we accept any ptime we receive
	DTMF  uint8         // RFC 4733 telephone-event payload type, 0 = none negotiated
}

// LegConfig configures a leg. BindIP is the local IP to listen on (loopback
// in tests); PublicIP is what goes into our SDP c= line (defaults to
// BindIP; set it to the address the far end can reach when BindIP is a
// wildcard or behind NAT). Timeouts default to 30 s before the first packet
// and 15 s after (livekit/sip's figures).
type LegConfig struct {
	BindIP, PublicIP                  netip.Addr
	FirstPacketTimeout, PacketTimeout time.Duration
	Logger                            *slog.Logger
}

// WithDefaults fills the zero fields.
func (c LegConfig) WithDefaults() LegConfig {
	if !c.PublicIP.IsValid() {
		c.PublicIP = c.BindIP
	}
	if c.FirstPacketTimeout <= 0 {
		c.FirstPacketTimeout = 30 * time.Second
	}
	if c.PacketTimeout <= 0 {
		c.PacketTimeout = 15 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate says what is wrong with a config after WithDefaults.
func (c LegConfig) Validate() error {
	if !c.BindIP.IsValid() {
		return errors.New("media: leg config: BindIP is required")
	}
	if c.PublicIP.IsUnspecified() {
		return errors.New("media: leg config: PublicIP is unspecified (0.0.0.0 or ::): our SDP must name an address the far end can reach")
	}
	return nil
}

var (
	// ErrMediaTimeout ends a leg whose far end sent nothing for the
	// configured time while audio was expected.
	ErrMediaTimeout = errors.New("media: no RTP received (media timeout)")
	// ErrClosed is returned by operations on a closed leg.
	ErrClosed = errors.New("media: leg closed")
)

// lockOnPackets is how many consecutive in-order packets a new source
// address must send before symmetric RTP sends to it: one stray or spoofed
// packet cannot steal the stream.
const lockOnPackets = 3

// LegStats are a leg's counters since it was made.
type LegStats struct {
	PacketsIn, PacketsOut uint64
	BytesIn, BytesOut     uint64 // RTP payload bytes
	// Garbage counts datagrams dropped as not RTP, or RTP with a payload
	// type this leg did not negotiate.
	Garbage uint64
	// Stray counts valid RTP dropped because it came from an address we had
	// not locked onto (fewer than lockOnPackets consecutive packets).
	Stray uint64
	// Lost counts packets missing by sequence-number gaps in what arrived.
	Lost uint64
	// FirstPacketIn and LastPacketIn are zero until a packet arrives.
	FirstPacketIn, LastPacketIn time.Time
	// Sources counts the times symmetric RTP locked onto a new source
	// address (the first lock included).
	Sources uint64
}

// A Leg is one RTP endpoint: a UDP socket on a port from Ports, the far
// end's address, and the stream we send, which keeps one SSRC and
// continuous sequence numbers and timestamps for the leg's whole life,
// whatever feeds it (a bridge's relay, a prompt, DTMF, a conference mixer).
//
// Goroutines: a leg runs exactly one, its reader, started by NewLeg. It
// reads the socket, checks the media timeout, and hands each packet to the
// bridge or conference the leg is in, which writes the packet out on the
// other leg's socket from this same goroutine (no per-packet goroutine or
// channel). It exits when the leg closes (Close, media timeout, socket
// error); Done is closed after it has exited. Prompts, DTMF sending and
// conference mixing run on the package's shared pacer goroutine (see
// pacer.go), which exits whenever nothing is scheduled.
type Leg struct {
	id     uint64
	ports  *Ports
	port   int
	conn   *net.UDPConn
	public netip.AddrPort
	log    *slog.Logger

	firstTimeout, timeout time.Duration

	out stream

	// remote is where we send: the SDP address, then the locked-on source.
	remote atomic.Pointer[netip.AddrPort]
	// farDir is the far end's Direction from its last SDP.
	farDir atomic.Uint32
	// rxDTMF is the telephone-event payload type we accept, 0 = none.
	rxDTMF atomic.Uint32
	hold   atomic.Bool
	// negotiated: the far end's SDP (offer or answer) has been applied.
	negotiated atomic.Bool
	// activity is the nanotime of the last packet, or of the last moment
	// audio became expected again (resume, direction change): the media
	// timeout counts from it.
	activity atomic.Int64
	gotFirst atomic.Bool

	att    atomic.Pointer[attHolder]
	onDTMF atomic.Pointer[func(rune)]
	// handOver asks the reader to pass its early packet (the last audio
	// read while the leg was in nothing) to the bridge it just joined; see
	// rxState.early.
	handOver atomic.Bool
	// earlyMaxAge is how old the early packet may be and still be handed
	// over (earlyMaxAge by default; tests shorten it).
	earlyMaxAge time.Duration

	// mu guards the control state below (SDP session, what plays).
	mu      sync.Mutex
	sessID  uint64
	sessVer uint64
	// sdpRemote is the address the far end's last SDP gave.
	sdpRemote netip.AddrPort
	player    *player
	dtmfTx    *dtmfSender
	owner     owner // bridge or conference the leg is in; guarded by attachMu

	st counters

	closeOnce  sync.Once
	closing    atomic.Bool
	err        error         // set before done is closed
	done       chan struct{} // closed by the reader as it exits, after shutdown
	inCallback atomic.Bool
}

type counters struct {
	packetsIn, packetsOut atomic.Uint64
	bytesIn, bytesOut     atomic.Uint64
	garbage, stray, lost  atomic.Uint64
	sources               atomic.Uint64
	firstIn, lastIn       atomic.Int64 // unix nanos, 0 = none
}

// NewLeg binds a socket on the next free port and starts the leg's reader.
// The leg sends nothing until it has a far address (ApplyAnswer, Answer)
// and something feeds it.
func (p *Ports) NewLeg(cfg LegConfig) (*Leg, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	conn, port, err := p.bind(cfg.BindIP)
	if err != nil {
		return nil, err
	}
	_ = conn.SetReadBuffer(256 << 10)
	l := &Leg{
		id:           nextID(),
		ports:        p,
		port:         port,
		conn:         conn,
		public:       netip.AddrPortFrom(cfg.PublicIP, uint16(port)),
		firstTimeout: cfg.FirstPacketTimeout,
		timeout:      cfg.PacketTimeout,
		sessID:       rand.Uint64() >> 2,
		done:         make(chan struct{}),
	}
	l.log = cfg.Logger.With("rtp_port", port)
	l.earlyMaxAge = earlyMaxAge
	l.out.init(l)
	l.activity.Store(nanotime())
	go l.read()
	return l, nil
}

// LocalAddr is the public IP and port, as our SDP says.
func (l *Leg) LocalAddr() netip.AddrPort { return l.public }

// RemoteAddr is where the leg sends: the SDP's address until symmetric RTP
// locks onto the address packets come from. Invalid before any.
func (l *Leg) RemoteAddr() netip.AddrPort {
	if r := l.remote.Load(); r != nil {
		return *r
	}
	return netip.AddrPort{}
}

// Format is what SDP negotiated (PCMU at 20 ms with no DTMF before any).
func (l *Leg) Format() Format {
	l.out.mu.Lock()
	defer l.out.mu.Unlock()
	return l.out.format
}

// Direction is the far end's direction from its last SDP (SendRecv before
// any).
func (l *Leg) Direction() Direction { return Direction(l.farDir.Load()) }

// SetHold says the call is on hold (we hold the far end): the media
// timeout is suspended, and Offer says a=sendonly until SetHold(false).
func (l *Leg) SetHold(on bool) {
	l.hold.Store(on)
	l.activity.Store(nanotime())
}

// expectingAudio is whether the media timeout runs: the far end's SDP is
// in (an outbound leg waits for its answer through a long ring with no
// RTP), not on hold, and the far end said it sends (sendrecv). A far end that said sendonly is holding us;
// some send music then and some send nothing, so we do not time it out
// either.
func (l *Leg) expectingAudio() bool {
	return l.negotiated.Load() && !l.hold.Load() && Direction(l.farDir.Load()) == SendRecv
}

// Done is closed when the leg has closed and its reader goroutine exited.
func (l *Leg) Done() <-chan struct{} { return l.done }

// Err says why the leg closed: nil after Close, ErrMediaTimeout, or a
// socket error. Nil while it is open.
func (l *Leg) Err() error {
	select {
	case <-l.done:
		return l.err
	default:
		return nil
	}
}

// Close stops the leg: its reader, anything playing into it, its place in
// a bridge (which closes) or conference (which goes on without it), and
// frees its port. Idempotent. It waits for the reader goroutine to exit,
// except while an OnDTMF callback is running (so a callback can close its
// own leg; Done tells when the reader is gone).
func (l *Leg) Close() error {
	l.shutdown(nil)
	if !l.inCallback.Load() {
		<-l.done
	}
	return nil
}

// shutdown closes the leg once with cause err. Safe from any goroutine,
// the reader included.
func (l *Leg) shutdown(err error) {
	l.closeOnce.Do(func() {
		l.closing.Store(true)
		l.err = err
		if err != nil {
			l.log.Info("media leg closed", "err", err)
		}
		detach(l)
		l.StopPlay()
		l.stopDTMF()
		// The reader exits once its blocked read returns on the closed
		// socket; it gives the port back and closes done.
		_ = l.conn.Close()
	})
}

// Stats returns the leg's counters.
func (l *Leg) Stats() LegStats {
	s := LegStats{
		PacketsIn:  l.st.packetsIn.Load(),
		PacketsOut: l.st.packetsOut.Load(),
		BytesIn:    l.st.bytesIn.Load(),
		BytesOut:   l.st.bytesOut.Load(),
		Garbage:    l.st.garbage.Load(),
		Stray:      l.st.stray.Load(),
		Lost:       l.st.lost.Load(),
		Sources:    l.st.sources.Load(),
	}
	if n := l.st.firstIn.Load(); n != 0 {
		s.FirstPacketIn = time.Unix(0, n)
	}
	if n := l.st.lastIn.Load(); n != 0 {
		s.LastPacketIn = time.Unix(0, n)
	}
	return s
}

// OnDTMF sets the function called once per key press the far end sends
// (RFC 4733). It runs on the leg's reader goroutine: it must not block
// (hand the digit to a channel or a goroutine of yours); it may call Close.
func (l *Leg) OnDTMF(f func(digit rune)) {
	if f == nil {
		l.onDTMF.Store(nil)
		return
	}
	l.onDTMF.Store(&f)
}

// rxPacket is one received packet as the reader hands it on. Payload
// aliases the reader's buffer: it is valid only during the call it is
// passed to.
type rxPacket struct {
	hdr     *rtp.Header
	payload []byte
	dtmf    bool // an RFC 4733 event, else G.711 audio of codec
	codec   Codec
}

// rxState is owned by the reader goroutine.
type rxState struct {
	buf [1600]byte
	hdr rtp.Header
	pkt rxPacket

	started bool
	ssrc    uint32
	lastSeq uint16

	cand      netip.AddrPort
	candSeq   uint16
	candCount int

	dtmfSeen bool
	dtmfSSRC uint32
	dtmfTS   uint32

	// early is the last audio packet read while the leg was in no bridge
	// or conference (a customer who answered and spoke before the engine
	// bridged an agent): a new bridge sends it on at once, so the first
	// syllable is not lost and the agent hears the customer without waiting
	// a packet time for the next one.
	early struct {
		buf   [1600]byte
		n     int
		hdr   rtp.Header
		codec Codec
		at    int64 // nanotime read; 0 = none
	}
}

// earlyMaxAge: an early packet older than this (a packet time and a half at
// 30 ms, with jitter) is stale when its leg joins a bridge and is dropped.
const earlyMaxAge = 50 * time.Millisecond

// read is the leg's reader goroutine. Every way out of it goes through
// shutdown first (a closed socket, a timeout, a read error).
func (l *Leg) read() {
	defer func() {
		l.ports.release(l.port)
		close(l.done)
	}()
	check := min(l.firstTimeout, l.timeout) / 4
	check = max(min(check, time.Second), 5*time.Millisecond)
	var rx rxState
	_ = l.conn.SetReadDeadline(time.Now().Add(check))
	for {
		n, from, err := l.conn.ReadFromUDPAddrPort(rx.buf[:])
		if err != nil {
			if l.closing.Load() {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				if l.timedOut() {
					l.shutdown(ErrMediaTimeout)
					return
				}
				// Re-armed before handOver is read: a bridge that sets
				// handOver after the read wakes us again (its deadline
				// comes after this one).
				_ = l.conn.SetReadDeadline(time.Now().Add(check))
				l.handEarlyOver(&rx)
				continue
			}
			l.shutdown(fmt.Errorf("media: read RTP: %w", err))
			return
		}
		if from.Addr().Is4In6() {
			from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		}
		l.receive(&rx, rx.buf[:n], from)
	}
}

func (l *Leg) timedOut() bool {
	now := nanotime()
	if !l.expectingAudio() {
		l.activity.Store(now)
		return false
	}
	limit := l.firstTimeout
	if l.gotFirst.Load() {
		limit = l.timeout
	}
	return time.Duration(now-l.activity.Load()) >= limit
}

func (l *Leg) receive(rx *rxState, b []byte, from netip.AddrPort) {
	if len(b) < 12 || b[0]>>6 != 2 {
		l.st.garbage.Add(1)
		return
	}
	hl, err := rx.hdr.Unmarshal(b)
	if err != nil {
		l.st.garbage.Add(1)
		return
	}
	payload := b[hl:]
	if rx.hdr.Padding {
		pad := int(b[len(b)-1])
		if pad == 0 || pad > len(payload) {
			l.st.garbage.Add(1)
			return
		}
		payload = payload[:len(payload)-pad]
	}
	pt := rx.hdr.PayloadType
	// The packet handed on lives in rxState: passed to an interface it
	// would escape, and a heap allocation per packet is what the relay
	// must not do.
	p := &rx.pkt
	*p = rxPacket{hdr: &rx.hdr, payload: payload}
	switch {
	case pt == uint8(PCMU) || pt == uint8(PCMA):
		p.codec = Codec(pt)
	case pt != 0 && uint32(pt) == l.rxDTMF.Load():
		p.dtmf = true
	case pt == 13: // comfort noise: proves the far end is there; nothing to relay
	default:
		l.st.garbage.Add(1)
		return
	}
	if !l.fromLockedSource(rx, from) {
		l.st.stray.Add(1)
		return
	}

	now := time.Now()
	l.activity.Store(nanotime())
	if !l.gotFirst.Load() {
		l.gotFirst.Store(true)
		l.st.firstIn.Store(now.UnixNano())
	}
	l.st.lastIn.Store(now.UnixNano())
	l.st.packetsIn.Add(1)
	l.st.bytesIn.Add(uint64(len(payload)))
	h := &rx.hdr
	if !rx.started || h.SSRC != rx.ssrc {
		rx.started, rx.ssrc, rx.lastSeq = true, h.SSRC, h.SequenceNumber
	} else if d := int16(h.SequenceNumber - rx.lastSeq); d > 0 {
		if d > 1 && d < 3000 {
			l.st.lost.Add(uint64(d - 1))
		}
		rx.lastSeq = h.SequenceNumber
	}

	if pt == 13 {
		return
	}
	if p.dtmf {
		l.detectDTMF(rx, p)
	}
	if a := l.att.Load(); a != nil {
		l.handEarlyOver(rx)
		a.a.deliver(l, p)
	} else if !p.dtmf {
		e := &rx.early
		e.n = copy(e.buf[:], payload)
		e.hdr, e.codec, e.at = rx.hdr, p.codec, nanotime()
	}
}

// handEarlyOver, on the reader, sends the early packet to the bridge the
// leg joined, if NewBridge asked and the packet is fresh; either way the
// early packet is gone afterwards.
func (l *Leg) handEarlyOver(rx *rxState) {
	if !l.handOver.Load() || !l.handOver.Swap(false) {
		return
	}
	e := &rx.early
	if e.at == 0 {
		return
	}
	fresh := time.Duration(nanotime()-e.at) <= l.earlyMaxAge
	e.at = 0
	a := l.att.Load()
	if !fresh || a == nil {
		return
	}
	hdr := e.hdr
	a.a.deliver(l, &rxPacket{hdr: &hdr, payload: e.buf[:e.n], codec: e.codec})
}

// wakeForEarly asks the reader to hand its early packet to the bridge the
// leg has just joined, waking it from its read.
func (l *Leg) wakeForEarly() {
	l.handOver.Store(true)
	_ = l.conn.SetReadDeadline(time.Now())
}

// fromLockedSource implements symmetric RTP: packets from where we send
// are taken; a new address is locked onto (and sent to from then on) after
// lockOnPackets consecutive in-order packets, with none from the current
// address in between.
func (l *Leg) fromLockedSource(rx *rxState, from netip.AddrPort) bool {
	if r := l.remote.Load(); r != nil && *r == from {
		rx.candCount = 0
		return true
	}
	seq := rx.hdr.SequenceNumber
	if rx.candCount > 0 && rx.cand == from && seq-rx.candSeq >= 1 && seq-rx.candSeq <= 3 {
		rx.candCount++
	} else {
		rx.cand, rx.candCount = from, 1
	}
	rx.candSeq = seq
	if rx.candCount < lockOnPackets {
		return false
	}
	rx.candCount = 0
	addr := from
	l.remote.Store(&addr)
	l.st.sources.Add(1)
	l.log.Debug("symmetric RTP locked onto a new source", "from", from)
	return true
}

// setRemote points the leg at the address the far end's SDP gave. An SDP
// that repeats the address of the last one (a hold or resume re-INVITE)
// leaves the leg where symmetric RTP locked it: behind NAT the SDP address
// is one we cannot reach, and going back to it would cut the audio until
// the next lock-on.
func (l *Leg) setRemote(a netip.AddrPort) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if a == l.sdpRemote {
		return
	}
	l.sdpRemote = a
	l.remote.Store(&a)
}

var idCounter atomic.Uint64

// nextID numbers legs, bridges and generators: the stream tells its
// sources apart by these.
func nextID() uint64 { return idCounter.Add(1) }

var epoch = time.Now()

// nanotime is monotonic nanoseconds since the package loaded.
func nanotime() int64 { return int64(time.Since(epoch)) }
