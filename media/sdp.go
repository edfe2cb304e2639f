package media

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/pion/sdp/v3"
)

// Direction is an SDP media direction attribute.
type Direction uint8

const (
	SendRecv Direction = iota
	SendOnly
	RecvOnly
	Inactive
)

func (d Direction) String() string {
	switch d {
	case SendRecv:
		return "sendrecv"
	case SendOnly:
		return "sendonly"
	case RecvOnly:
		return "recvonly"
	case Inactive:
		return "inactive"
	}
	return "unknown"
}

// mirror is the direction an answer gives to an offer's (RFC 3264 §6.1):
// a sendonly offer (the far end holds us) is answered recvonly, never
// sendrecv, which makes some carriers hang up.
func (d Direction) mirror() Direction {
	switch d {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	}
	return d
}

// holding narrows an answer's direction while we hold the far end: we
// send (music) and do not take their audio, whatever they offer.
func (d Direction) holding() Direction {
	switch d {
	case SendRecv, SendOnly:
		return SendOnly
	}
	return Inactive
}

var (
	// ErrNoCommonCodec: the offer has no audio stream in PCMU or PCMA over
	// RTP/AVP. The SIP layer answers 488.
	ErrNoCommonCodec = errors.New("media: no common codec (want PCMU or PCMA over RTP/AVP)")
	// ErrBadSDP: the SDP could not be parsed or lacks what a call needs
	// (an address, a port). The SIP layer answers 488.
	ErrBadSDP = errors.New("media: malformed SDP")
)

// offerDTMF is the telephone-event payload type of our offers.
const offerDTMF = 101

// maxSDP bounds what we parse: a SIP message is at most 65,535 bytes.
const maxSDP = 65535

// Offer is our SDP offer: PCMU, PCMA, telephone-event/8000 (payload type
// 101), ptime 20, a=sendrecv (a=sendonly while SetHold(true)). Each call
// raises the o= line's session version, as a re-INVITE needs.
func (l *Leg) Offer() []byte {
	dir := SendRecv
	if l.hold.Load() {
		dir = SendOnly
	}
	md := l.mediaLine([]string{"0", "8", strconv.Itoa(offerDTMF)}, dir, 20*time.Millisecond)
	md.Attributes = append([]sdp.Attribute{
		sdp.NewAttribute("rtpmap", "0 PCMU/8000"),
		sdp.NewAttribute("rtpmap", "8 PCMA/8000"),
		sdp.NewAttribute("rtpmap", strconv.Itoa(offerDTMF)+" telephone-event/8000"),
		sdp.NewAttribute("fmtp", strconv.Itoa(offerDTMF)+" 0-16"),
	}, md.Attributes...)
	return l.marshal([]*sdp.MediaDescription{md})
}

// Answer answers the far end's offer and applies it: the first of the
// offer's codecs we support (PCMU, PCMA), the offer's telephone-event
// payload type (any dynamic one, e.g. 96 or 101), the mirrored direction
// (sendonly answered recvonly; while SetHold(true), narrowed to sendonly
// or inactive, as we are holding them),
// the offer's ptime when it is a sane one (else 20 ms). Other media lines
// are refused with port 0, as RFC 3264 wants. ErrBadSDP and
// ErrNoCommonCodec (wrapped, with details) mean 488.
func (l *Leg) Answer(offer []byte) ([]byte, error) {
	sd, err := parseSDP(offer)
	if err != nil {
		return nil, err
	}
	chosen := -1
	var neg negotiated
	var firstErr error
	for i, m := range sd.MediaDescriptions {
		if m.MediaName.Media != "audio" || m.MediaName.Port.Value == 0 {
			continue
		}
		n, err := negotiate(sd, m)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		chosen, neg = i, n
		break
	}
	if chosen < 0 {
		if firstErr != nil {
			return nil, firstErr
		}
		return nil, fmt.Errorf("%w: the offer has no audio stream", ErrNoCommonCodec)
	}

	mds := make([]*sdp.MediaDescription, 0, len(sd.MediaDescriptions))
	for i, m := range sd.MediaDescriptions {
		if i != chosen {
			formats := m.MediaName.Formats
			if len(formats) > 1 {
				formats = formats[:1]
			}
			mds = append(mds, &sdp.MediaDescription{MediaName: sdp.MediaName{
				Media: m.MediaName.Media, Port: sdp.RangedPort{Value: 0},
				Protos: m.MediaName.Protos, Formats: formats,
			}})
			continue
		}
		formats := []string{strconv.Itoa(int(neg.format.Codec))}
		if neg.format.DTMF != 0 {
			formats = append(formats, strconv.Itoa(int(neg.format.DTMF)))
		}
		dir := neg.dir.mirror()
		if l.hold.Load() {
			dir = dir.holding()
		}
		md := l.mediaLine(formats, dir, neg.format.PTime)
		attrs := []sdp.Attribute{sdp.NewAttribute("rtpmap", fmt.Sprintf("%d %s/8000", neg.format.Codec, neg.format.Codec))}
		if neg.format.DTMF != 0 {
			attrs = append(attrs,
				sdp.NewAttribute("rtpmap", fmt.Sprintf("%d telephone-event/8000", neg.format.DTMF)),
				sdp.NewAttribute("fmtp", fmt.Sprintf("%d 0-16", neg.format.DTMF)))
		}
		md.Attributes = append(attrs, md.Attributes...)
		mds = append(mds, md)
	}
	l.apply(neg)
	return l.marshal(mds), nil
}

// ApplyAnswer applies the far end's answer to our Offer: its codec (the
// first of its formats we support), its telephone-event payload type, its
// ptime, direction and address.
func (l *Leg) ApplyAnswer(answer []byte) error {
	sd, err := parseSDP(answer)
	if err != nil {
		return err
	}
	for _, m := range sd.MediaDescriptions {
		if m.MediaName.Media != "audio" || m.MediaName.Port.Value == 0 {
			continue
		}
		n, err := negotiate(sd, m)
		if err != nil {
			return err
		}
		l.apply(n)
		return nil
	}
	return fmt.Errorf("%w: the answer accepts no audio stream", ErrNoCommonCodec)
}

// negotiated is what one audio media line settles.
type negotiated struct {
	format Format
	dir    Direction
	remote netip.AddrPort // invalid when the line says c=0.0.0.0 (old-style hold)
}

func (l *Leg) apply(n negotiated) {
	l.out.mu.Lock()
	l.out.format = n.format
	l.out.mu.Unlock()
	l.rxDTMF.Store(uint32(n.format.DTMF))
	if n.remote.IsValid() {
		l.setRemote(n.remote)
	}
	if Direction(l.farDir.Swap(uint32(n.dir))) != n.dir || !l.negotiated.Load() {
		l.activity.Store(nanotime()) // the media timeout counts from the change
	}
	l.negotiated.Store(true)
}

func parseSDP(b []byte) (*sdp.SessionDescription, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty body", ErrBadSDP)
	}
	if len(b) > maxSDP {
		return nil, fmt.Errorf("%w: %d bytes", ErrBadSDP, len(b))
	}
	var sd sdp.SessionDescription
	if err := sd.Unmarshal(b); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSDP, err)
	}
	return &sd, nil
}

// negotiate reads one audio media line, of an offer (we answer) or of an
// answer (to our offer): the first format we support, the telephone-event
// payload type, the direction, the address, and the far end's a=ptime
// (what it prefers to receive) when it is 10-60 ms in steps of 10, else
// 20 ms.
func negotiate(sd *sdp.SessionDescription, m *sdp.MediaDescription) (negotiated, error) {
	var n negotiated
	proto := strings.Join(m.MediaName.Protos, "/")
	if !strings.EqualFold(proto, "RTP/AVP") {
		return n, fmt.Errorf("%w: transport %q", ErrNoCommonCodec, proto)
	}
	port := m.MediaName.Port.Value
	if port <= 0 || port > 65535 {
		return n, fmt.Errorf("%w: port %d", ErrBadSDP, port)
	}
	ci := m.ConnectionInformation
	if ci == nil {
		ci = sd.ConnectionInformation
	}
	if ci == nil || ci.Address == nil {
		return n, fmt.Errorf("%w: no c= line for the audio stream", ErrBadSDP)
	}
	host := ci.Address.Address
	if i := strings.IndexByte(host, '/'); i >= 0 { // multicast TTL suffix
		host = host[:i]
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return n, fmt.Errorf("%w: c= address %q is not an IP address", ErrBadSDP, ci.Address.Address)
	}
	n.dir = SendRecv
	for _, a := range m.Attributes {
		switch a.Key {
		case "sendrecv":
			n.dir = SendRecv
		case "sendonly":
			n.dir = SendOnly
		case "recvonly":
			n.dir = RecvOnly
		case "inactive":
			n.dir = Inactive
		}
	}
	if ip.IsUnspecified() {
		// RFC 2543 hold: c=0.0.0.0 means "do not send to me".
		if n.dir == SendRecv {
			n.dir = SendOnly
		} else if n.dir == RecvOnly {
			n.dir = Inactive
		}
	} else {
		n.remote = netip.AddrPortFrom(ip.Unmap(), uint16(port))
	}

	rtpmap := map[string]string{} // payload type -> lowercased encoding/rate
	for _, a := range m.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		pt, enc, ok := strings.Cut(strings.TrimSpace(a.Value), " ")
		if ok {
			rtpmap[pt] = strings.ToLower(strings.TrimSpace(enc))
		}
	}
	codecSet := false
	for _, f := range m.MediaName.Formats {
		pt, err := strconv.Atoi(f)
		if err != nil || pt < 0 || pt > 127 {
			return n, fmt.Errorf("%w: payload type %q", ErrBadSDP, f)
		}
		enc := rtpmap[f]
		switch {
		case !codecSet && pt == int(PCMU) && (enc == "" || strings.HasPrefix(enc, "pcmu/8000")):
			n.format.Codec, codecSet = PCMU, true
		case !codecSet && pt == int(PCMA) && (enc == "" || strings.HasPrefix(enc, "pcma/8000")):
			n.format.Codec, codecSet = PCMA, true
		case pt >= 96 && n.format.DTMF == 0 && strings.HasPrefix(enc, "telephone-event/8000"):
			n.format.DTMF = uint8(pt)
		}
	}
	if !codecSet {
		return n, fmt.Errorf("%w: offered %v", ErrNoCommonCodec, m.MediaName.Formats)
	}
	n.format.PTime = 20 * time.Millisecond
	if v, ok := m.Attribute("ptime"); ok {
		if ms, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && ms >= 10 && ms <= 60 && ms%10 == 0 {
			n.format.PTime = time.Duration(ms) * time.Millisecond
		}
	}
	return n, nil
}

// mediaLine is our audio m= line with its c=, ptime and direction.
func (l *Leg) mediaLine(formats []string, dir Direction, ptime time.Duration) *sdp.MediaDescription {
	return &sdp.MediaDescription{
		MediaName: sdp.MediaName{
			Media: "audio", Port: sdp.RangedPort{Value: int(l.public.Port())},
			Protos: []string{"RTP", "AVP"}, Formats: formats,
		},
		Attributes: []sdp.Attribute{
			sdp.NewAttribute("ptime", strconv.Itoa(int(ptime/time.Millisecond))),
			sdp.NewPropertyAttribute(dir.String()),
		},
	}
}

func (l *Leg) marshal(mds []*sdp.MediaDescription) []byte {
	l.mu.Lock()
	l.sessVer++
	ver := l.sessVer
	l.mu.Unlock()
	ip := l.public.Addr()
	addrType := "IP4"
	if ip.Is6() {
		addrType = "IP6"
	}
	sd := &sdp.SessionDescription{
		Origin: sdp.Origin{
			Username: "pacer", SessionID: l.sessID, SessionVersion: ver,
			NetworkType: "IN", AddressType: addrType, UnicastAddress: ip.String(),
		},
		SessionName: "pacer",
		ConnectionInformation: &sdp.ConnectionInformation{
			NetworkType: "IN", AddressType: addrType, Address: &sdp.Address{Address: ip.String()},
		},
		TimeDescriptions:  []sdp.TimeDescription{{}},
		MediaDescriptions: mds,
	}
	b, err := sd.Marshal()
	if err != nil {
		// Only our own fields go in: a failure is a bug, not bad input.
		panic(fmt.Sprintf("media: marshal our SDP: %v", err))
	}
	return b
}
