package media

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// WAV files: the recordings a manager uploads (the information message, hold
// music) arrive as whatever their editor exported — 16-bit stereo at 44.1
// kHz, 24-bit at 48 kHz, G.711 at 8 kHz — and are played into calls as 8 kHz
// mono. DecodeWAV reads them all and says plainly what is wrong with a file
// it refuses, since that sentence is what the manager sees.

// wavOutRate is the rate of every prompt: G.711's 8 kHz.
const wavOutRate = 8000

// MaxWAVDuration is the longest recording DecodeWAV accepts: a prompt is
// played into a live call, and five minutes is already long for hold music.
const MaxWAVDuration = 5 * time.Minute

// Lowest and highest input sample rates accepted; below 8 kHz there is less
// audio than a call carries, above 192 kHz no editor exports by default.
const (
	minWAVRate = wavOutRate
	maxWAVRate = 192000
)

// WAVError is a file DecodeWAV refuses; its message says why in words meant
// for the person who uploaded it.
type WAVError struct{ Reason string }

func (e *WAVError) Error() string { return "not a usable WAV file: " + e.Reason }

func wavErr(format string, args ...any) error {
	return &WAVError{Reason: fmt.Sprintf(format, args...)}
}

// WAVE format tags (RFC 2361).
const (
	wavePCM        = 0x0001
	waveFloat      = 0x0003
	waveALaw       = 0x0006
	waveMuLaw      = 0x0007
	waveExtensible = 0xFFFE
)

// compressedFormats names the format tags people most often upload by
// mistake, for the refusal.
var compressedFormats = map[uint16]string{
	0x0002: "Microsoft ADPCM",
	0x0011: "IMA ADPCM",
	0x0022: "TrueSpeech",
	0x0031: "GSM 6.10",
	0x0040: "G.721 ADPCM",
	0x0050: "MPEG",
	0x0055: "MP3",
	0x0064: "G.726 ADPCM",
	0x00FF: "AAC",
	0x0161: "Windows Media Audio",
	0x1610: "AAC",
	0x6750: "Ogg Vorbis",
}

type wavFormat struct {
	tag      uint16 // after resolving WAVE_FORMAT_EXTENSIBLE
	channels int
	rate     int
	bits     int // container bits per sample
	frame    int // bytes per frame (all channels)
}

// DecodeWAV reads a RIFF/WAVE file — PCM 8, 16, 24 or 32-bit, 32-bit float,
// or G.711 µ-law/A-law, mono or up to 8 channels, 8 to 192 kHz — and returns
// it as 8 kHz mono linear samples: channels are averaged, and other rates
// are low-passed below 4 kHz and resampled (a windowed-sinc filter, so
// nothing above what 8 kHz can carry folds back as noise). Chunks other
// than fmt and data (LIST, fact, bext, cue…) are skipped, and so is a
// missing pad byte after an odd-sized chunk. Files longer than
// MaxWAVDuration, empty, truncated or compressed are refused with a
// *WAVError.
func DecodeWAV(r io.Reader) ([]int16, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head := make([]byte, 12)
	n, err := io.ReadFull(br, head)
	if n == 0 {
		return nil, wavErr("the file is empty")
	}
	if err != nil {
		if kind := wavSniff(head[:n]); kind != "" {
			return nil, wavErr("this is %s, not a WAV; export the recording as WAV (PCM)", kind)
		}
		return nil, wavErr("the file is only %d bytes long, too short for a WAV header", n)
	}
	switch {
	case string(head[0:4]) == "RF64" || string(head[0:4]) == "RIFX":
		return nil, wavErr("%s WAV files are not supported; export the recording as a plain RIFF WAV (PCM, 16-bit)", head[0:4])
	case string(head[0:4]) != "RIFF" || string(head[8:12]) != "WAVE":
		if kind := wavSniff(head); kind != "" {
			return nil, wavErr("this is %s, not a WAV; export the recording as WAV (PCM)", kind)
		}
		return nil, wavErr("no RIFF/WAVE header: this is not a WAV file")
	}

	var format *wavFormat
	for {
		var ch [8]byte
		n, err := io.ReadFull(br, ch[:])
		if n == 0 && errors.Is(err, io.EOF) {
			if format == nil {
				return nil, wavErr("no fmt chunk: the file ends before saying what its audio is")
			}
			return nil, wavErr("no data chunk: the file holds no audio")
		}
		if err != nil {
			return nil, wavErr("truncated: the file ends inside a chunk header")
		}
		id, size := string(ch[0:4]), binary.LittleEndian.Uint32(ch[4:8])
		switch id {
		case "fmt ":
			if format != nil {
				return nil, wavErr("two fmt chunks")
			}
			if format, err = wavReadFmt(br, size); err != nil {
				return nil, err
			}
		case "data":
			if format == nil {
				return nil, wavErr("the data chunk comes before the fmt chunk, so its format is unknown")
			}
			return wavReadData(br, format, size)
		default:
			if _, err := br.Discard(int(size)); err != nil {
				return nil, wavErr("truncated: the file ends inside its %q chunk", id)
			}
		}
		wavSkipPad(br, size)
	}
}

// skipPad consumes the pad byte that follows an odd-sized chunk, when the
// writer put one there (a chunk id never starts with a zero byte, so a zero
// here is the pad; some writers leave it out).
func wavSkipPad(br *bufio.Reader, size uint32) {
	if size%2 == 0 {
		return
	}
	if b, err := br.Peek(1); err == nil && b[0] == 0 {
		_, _ = br.Discard(1)
	}
}

// sniffAudio names a common non-WAV audio file by its first bytes.
func wavSniff(b []byte) string {
	has := func(p string) bool { return len(b) >= len(p) && string(b[:len(p)]) == p }
	switch {
	case has("ID3"), len(b) >= 2 && b[0] == 0xFF && b[1]&0xE0 == 0xE0:
		return "an MP3 file"
	case has("OggS"):
		return "an Ogg file"
	case has("fLaC"):
		return "a FLAC file"
	case has("FORM"):
		return "an AIFF file"
	case len(b) >= 8 && string(b[4:8]) == "ftyp":
		return "an MP4/M4A file"
	case has("\x1aE\xdf\xa3"):
		return "a WebM/Matroska file"
	}
	return ""
}

func wavReadFmt(br *bufio.Reader, size uint32) (*wavFormat, error) {
	if size < 16 {
		return nil, wavErr("the fmt chunk is %d bytes, a valid one has at least 16", size)
	}
	if size > 1024 {
		return nil, wavErr("the fmt chunk is %d bytes, more than any WAV format needs", size)
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(br, b); err != nil {
		return nil, wavErr("truncated: the file ends inside its fmt chunk")
	}
	tag := binary.LittleEndian.Uint16(b[0:2])
	f := &wavFormat{
		tag:      tag,
		channels: int(binary.LittleEndian.Uint16(b[2:4])),
		rate:     int(binary.LittleEndian.Uint32(b[4:8])),
		bits:     int(binary.LittleEndian.Uint16(b[14:16])),
	}
	if tag == waveExtensible {
		// cbSize(2) validBits(2) channelMask(4) then the sub-format GUID,
		// whose first two bytes are the format tag it stands for.
		if size < 40 {
			return nil, wavErr("the extensible fmt chunk is %d bytes, a valid one has 40", size)
		}
		f.tag = binary.LittleEndian.Uint16(b[24:26])
	}
	switch f.tag {
	case wavePCM, waveFloat, waveALaw, waveMuLaw:
	default:
		name := compressedFormats[f.tag]
		if name == "" {
			name = "an unknown format"
		}
		return nil, wavErr("the audio is compressed (format 0x%04X, %s); export it as uncompressed PCM WAV (16-bit)", f.tag, name)
	}
	if f.channels < 1 || f.channels > 8 {
		return nil, wavErr("%d channels; mono, stereo or up to 8 channels are accepted", f.channels)
	}
	if f.rate < minWAVRate || f.rate > maxWAVRate {
		return nil, wavErr("sample rate %d Hz; %d to %d Hz are accepted", f.rate, minWAVRate, maxWAVRate)
	}
	switch {
	case f.tag == wavePCM && (f.bits == 8 || f.bits == 16 || f.bits == 24 || f.bits == 32):
	case f.tag == waveFloat && (f.bits == 32 || f.bits == 64):
	case (f.tag == waveALaw || f.tag == waveMuLaw) && f.bits == 8:
	default:
		return nil, wavErr("%d-bit samples are not supported for this format; 8, 16 or 24-bit PCM is", f.bits)
	}
	f.frame = f.channels * f.bits / 8
	return f, nil
}

// unknownSize is what streaming writers (a pipe cannot seek back to fill in
// the length) put in the data chunk's size: read to the end of the file.
const unknownSize = 0x7FFFF000

func wavReadData(br *bufio.Reader, f *wavFormat, size uint32) ([]int16, error) {
	maxFrames := int64(MaxWAVDuration.Seconds()) * int64(f.rate)
	toEOF := size >= unknownSize
	if !toEOF {
		if size < uint32(f.frame) {
			return nil, wavErr("the data chunk is empty: the file holds no audio")
		}
		if frames := int64(size) / int64(f.frame); frames > maxFrames {
			return nil, wavErr("the recording is %s long; at most %s is accepted",
				wavDuration(frames, f.rate), MaxWAVDuration)
		}
	}
	// The header's size is not trusted for the allocation: a few bytes
	// claiming minutes of audio must not cost that much memory.
	mono := make([]float32, 0, min(int64(size)/int64(f.frame), 1<<20))
	buf := make([]byte, f.frame*4096)
	remaining := int64(size)
	for toEOF || remaining >= int64(f.frame) {
		want := len(buf)
		if !toEOF && int64(want) > remaining {
			want = int(remaining / int64(f.frame) * int64(f.frame))
		}
		n, err := io.ReadFull(br, buf[:want])
		n -= n % f.frame
		mono = wavAppendMono(mono, buf[:n], f)
		remaining -= int64(n)
		if int64(len(mono)) > maxFrames {
			return nil, wavErr("the recording is longer than %s", MaxWAVDuration)
		}
		if err != nil {
			if toEOF && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) {
				break
			}
			return nil, wavErr("truncated: the data chunk says %d bytes of audio but the file ends after %d",
				size, int64(size)-remaining)
		}
	}
	if len(mono) == 0 {
		return nil, wavErr("the data chunk is empty: the file holds no audio")
	}
	out := wavResample(mono, f.rate)
	if len(out) == 0 {
		return nil, wavErr("the recording is shorter than one sample at 8 kHz")
	}
	return out, nil
}

func wavDuration(frames int64, rate int) time.Duration {
	return (time.Duration(frames) * time.Second / time.Duration(rate)).Round(time.Second)
}

// appendMono decodes whole frames to samples in [-1, 1), averaging channels.
func wavAppendMono(dst []float32, b []byte, f *wavFormat) []float32 {
	bps := f.bits / 8
	scale := 1 / float32(f.channels)
	for off := 0; off+f.frame <= len(b); off += f.frame {
		var sum float32
		for c := range f.channels {
			sum += wavSampleAt(b[off+c*bps:off+(c+1)*bps], f.tag, f.bits)
		}
		dst = append(dst, sum*scale)
	}
	return dst
}

func wavSampleAt(b []byte, tag uint16, bits int) float32 {
	switch tag {
	case waveMuLaw:
		return float32(ulawToLinear[b[0]]) / 32768
	case waveALaw:
		return float32(alawToLinear[b[0]]) / 32768
	case waveFloat:
		var v float64
		if bits == 32 {
			v = float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
		} else {
			v = math.Float64frombits(binary.LittleEndian.Uint64(b))
		}
		if math.IsNaN(v) {
			return 0
		}
		return float32(max(-1, min(1, v)))
	}
	switch bits {
	case 8: // unsigned, centred on 128
		return (float32(b[0]) - 128) / 128
	case 16:
		return float32(int16(binary.LittleEndian.Uint16(b))) / 32768
	case 24:
		v := int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24) >> 8
		return float32(v) / (1 << 23)
	default: // 32
		return float32(float64(int32(binary.LittleEndian.Uint32(b))) / (1 << 31))
	}
}

// Resampling: each output sample is the input convolved with a windowed sinc
// low-pass centred on the output instant. The cutoff sits below 4 kHz (the
// Nyquist frequency of 8 kHz), so energy the output cannot represent is
// removed rather than folded back into the telephone band.
const (
	resampleCutoffHz = 3700 // telephone band ends at 3.4 kHz; stop band from 4 kHz
	resampleZeros    = 16   // zero crossings of the sinc on each side
)

func wavResample(in []float32, rate int) []int16 {
	if rate == wavOutRate {
		out := make([]int16, len(in))
		for i, v := range in {
			out[i] = wavInt16(float64(v))
		}
		return out
	}
	fc := 2 * float64(resampleCutoffHz) / float64(rate) // cutoff, as a fraction of the input's Nyquist frequency
	half := float64(resampleZeros) / fc                 // kernel half-width in input samples
	h := func(x float64) float64 {
		if x < 0 {
			x = -x
		}
		if x >= half {
			return 0
		}
		return fc * wavSinc(fc*x) * wavBlackman(x/half)
	}
	// Output sample n sits at input position n·rate/8000 = (n·M)/L in
	// lowest terms: its fractional part takes only L values (80 for 44.1
	// kHz, 1 for 48 kHz), so each phase's taps are computed once.
	g := wavGCD(rate, wavOutRate)
	L, M := wavOutRate/g, rate/g
	W := int(math.Ceil(half))
	outLen := int(int64(len(in)) * int64(L) / int64(M))
	out := make([]int16, outLen)
	if L*(2*W+1) > 1<<20 {
		// An unusual rate with too many phases to keep: compute each tap.
		for n := range out {
			centre := float64(n) * float64(M) / float64(L)
			lo := max(0, int(math.Ceil(centre-half)))
			hi := min(len(in)-1, int(math.Floor(centre+half)))
			var acc float64
			for k := lo; k <= hi; k++ {
				acc += float64(in[k]) * h(centre-float64(k))
			}
			out[n] = wavInt16(acc)
		}
		return out
	}
	taps := make([][]float32, L)
	for p := range taps {
		frac := float64(p) / float64(L)
		taps[p] = make([]float32, 2*W+1)
		for j := -W; j <= W; j++ {
			taps[p][j+W] = float32(h(frac - float64(j)))
		}
	}
	for n := range out {
		pos := int64(n) * int64(M)
		i, p := int(pos/int64(L)), int(pos%int64(L))
		t := taps[p]
		lo, hi := i-W, i+W
		var acc float32
		if lo >= 0 && hi < len(in) {
			for j, v := range in[lo : hi+1] {
				acc += v * t[j]
			}
		} else {
			for k := max(0, lo); k <= min(len(in)-1, hi); k++ {
				acc += in[k] * t[k-lo]
			}
		}
		out[n] = wavInt16(float64(acc))
	}
	return out
}

func wavGCD(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func wavSinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// blackman is the Blackman window over [-1, 1] (t is |position| / half-width).
func wavBlackman(t float64) float64 {
	if t >= 1 {
		return 0
	}
	return 0.42 + 0.5*math.Cos(math.Pi*t) + 0.08*math.Cos(2*math.Pi*t)
}

func wavInt16(v float64) int16 {
	v = math.Round(v * 32768)
	return int16(max(-32768, min(32767, v)))
}

// EncodeWAV writes 8 kHz mono samples as a 16-bit PCM WAV file, the form
// every browser's <audio> plays (a G.711 WAV is not played by all of them).
func EncodeWAV(samples []int16) []byte {
	data := len(samples) * 2
	b := make([]byte, 44+data)
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+data))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], wavePCM)
	binary.LittleEndian.PutUint16(b[22:], 1)
	binary.LittleEndian.PutUint32(b[24:], wavOutRate)
	binary.LittleEndian.PutUint32(b[28:], wavOutRate*2)
	binary.LittleEndian.PutUint16(b[32:], 2)
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(data))
	for i, s := range samples {
		binary.LittleEndian.PutUint16(b[44+2*i:], uint16(s))
	}
	return b
}
