package media

// G.711 (ITU-T, 1972): 8-bit logarithmic companding of 14-bit (µ-law) or
// 13-bit (A-law) linear samples at 8 kHz. The encoders follow the reference
// segment search; the decoders and the PCMU↔PCMA transcoding go through
// tables built once, so relaying between the two laws costs one lookup a
// byte.

// Codec is a G.711 law, named by its RTP static payload type.
type Codec uint8

const (
	PCMU Codec = 0 // µ-law, RTP payload type 0
	PCMA Codec = 8 // A-law, RTP payload type 8
)

func (c Codec) String() string {
	switch c {
	case PCMU:
		return "PCMU"
	case PCMA:
		return "PCMA"
	}
	return "unknown"
}

const (
	ulawBias = 0x84
	ulawClip = 32635
)

var (
	ulawToLinear [256]int16
	alawToLinear [256]int16
	ulawToAlaw   [256]byte
	alawToUlaw   [256]byte
)

func init() {
	for i := range 256 {
		ulawToLinear[i] = decodeUlaw(byte(i))
		alawToLinear[i] = decodeAlaw(byte(i))
	}
	for i := range 256 {
		ulawToAlaw[i] = EncodeAlaw(ulawToLinear[i])
		alawToUlaw[i] = EncodeUlaw(alawToLinear[i])
	}
}

// EncodeUlaw compresses one linear 16-bit sample to µ-law.
func EncodeUlaw(s int16) byte {
	x := int32(s)
	sign := byte(0)
	if x < 0 {
		x = -x
		sign = 0x80
	}
	if x > ulawClip {
		x = ulawClip
	}
	x += ulawBias
	exp := byte(7)
	for mask := int32(0x4000); x&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	mant := byte(x>>(uint(exp)+3)) & 0x0f
	return ^(sign | exp<<4 | mant)
}

func decodeUlaw(u byte) int16 {
	u = ^u
	sign := u & 0x80
	exp := (u >> 4) & 0x07
	mant := u & 0x0f
	x := ((int32(mant) << 3) + ulawBias) << exp
	x -= ulawBias
	if sign != 0 {
		return int16(-x)
	}
	return int16(x)
}

// EncodeAlaw compresses one linear 16-bit sample to A-law.
func EncodeAlaw(s int16) byte {
	x := int32(s) >> 3 // A-law works on 13 bits
	sign := byte(0x80)
	if x < 0 {
		x = -x - 1
		sign = 0
	}
	var out byte
	if x < 32 {
		out = byte(x >> 1)
	} else {
		exp := byte(1)
		for v := x >> 5; v > 1 && exp < 7; v >>= 1 {
			exp++
		}
		if x >= 4096 {
			x, exp = 4095, 7
		}
		out = exp<<4 | byte(x>>exp)&0x0f
	}
	return (sign | out) ^ 0x55
}

func decodeAlaw(a byte) int16 {
	a ^= 0x55
	sign := a & 0x80
	exp := (a >> 4) & 0x07
	mant := int32(a & 0x0f)
	var x int32
	if exp == 0 {
		x = mant<<4 + 8
	} else {
		x = (mant<<4 + 0x108) << (exp - 1)
	}
	if sign == 0 {
		return int16(-x)
	}
	return int16(x)
}

// Decode expands G.711 bytes of law c into linear samples, appending to dst.
func (c Codec) Decode(dst []int16, src []byte) []int16 {
	t := &ulawToLinear
	if c == PCMA {
		t = &alawToLinear
	}
	for _, b := range src {
		dst = append(dst, t[b])
	}
	return dst
}

// Encode compresses linear samples to law c, appending to dst.
func (c Codec) Encode(dst []byte, src []int16) []byte {
	enc := EncodeUlaw
	if c == PCMA {
		enc = EncodeAlaw
	}
	for _, s := range src {
		dst = append(dst, enc(s))
	}
	return dst
}

// Transcode rewrites G.711 bytes from law from to law to in place, by table
// (no decoding to linear): the relay's answer to a PCMA carrier and a PCMU
// phone.
func Transcode(b []byte, from, to Codec) {
	var t *[256]byte
	switch {
	case from == to:
		return
	case from == PCMU && to == PCMA:
		t = &ulawToAlaw
	case from == PCMA && to == PCMU:
		t = &alawToUlaw
	default:
		return
	}
	for i, v := range b {
		b[i] = t[v]
	}
}
