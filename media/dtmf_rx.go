package media

// dtmfDigits maps RFC 4733 event codes 0-15 to keys.
const dtmfDigits = "0123456789*#ABCD"

// detectDTMF reports a key press once: every packet of one event carries
// the event's start timestamp (the end packet is sent three times and the
// marker bit of the first may be lost), so an event is new when its
// timestamp (or SSRC) is.
func (l *Leg) detectDTMF(rx *rxState, p *rxPacket) {
	if len(p.payload) < 4 || int(p.payload[0]) >= len(dtmfDigits) {
		return
	}
	h := p.hdr
	if rx.dtmfSeen && rx.dtmfSSRC == h.SSRC && rx.dtmfTS == h.Timestamp {
		return
	}
	rx.dtmfSeen, rx.dtmfSSRC, rx.dtmfTS = true, h.SSRC, h.Timestamp
	f := l.onDTMF.Load()
	if f == nil {
		return
	}
	l.inCallback.Store(true)
	defer l.inCallback.Store(false)
	(*f)(rune(dtmfDigits[p.payload[0]]))
}
