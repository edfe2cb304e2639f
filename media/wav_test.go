package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// wavSpec describes a test file; the bytes are written by makeWAV, so the
// tests need no audio tools.
type wavSpec struct {
	tag        uint16 // format tag written in fmt (waveExtensible wraps sub)
	sub        uint16 // sub-format of an extensible file
	channels   int
	rate       int
	bits       int
	before     [][2]string // chunks (id, body) written between fmt and data
	noPad      bool        // leave out the pad byte after odd chunks (a common writer bug)
	dataSize   int         // if not 0, the size the data chunk claims
	truncateTo int         // if not 0, cut the file to this many bytes
}

// tone is a sine of freq Hz and amplitude amp (0..1) for dur, per channel
// (chans[c] scales channel c).
func makeWAV(t testing.TB, s wavSpec, freq, amp float64, dur time.Duration, chans ...float64) []byte {
	if len(chans) == 0 {
		chans = []float64{1}
	}
	if s.channels == 0 {
		s.channels = len(chans)
	}
	frames := int(dur.Seconds() * float64(s.rate))
	var data bytes.Buffer
	tag := s.tag
	if tag == waveExtensible {
		tag = s.sub
	}
	for i := range frames {
		v := amp * math.Sin(2*math.Pi*freq*float64(i)/float64(s.rate))
		for c := range s.channels {
			x := v * chans[c%len(chans)]
			writeSample(&data, tag, s.bits, x)
		}
	}
	var fmtChunk bytes.Buffer
	le := func(v any) { _ = binary.Write(&fmtChunk, binary.LittleEndian, v) }
	le(s.tag)
	le(uint16(s.channels))
	le(uint32(s.rate))
	le(uint32(s.rate * s.channels * s.bits / 8))
	le(uint16(s.channels * s.bits / 8))
	le(uint16(s.bits))
	if s.tag == waveExtensible {
		le(uint16(22))
		le(uint16(s.bits))
		le(uint32(3))
		le(s.sub)
		fmtChunk.Write([]byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71})
	}
	var body bytes.Buffer
	body.WriteString("WAVE")
	chunk := func(id string, b []byte, size int) {
		body.WriteString(id)
		_ = binary.Write(&body, binary.LittleEndian, uint32(size))
		body.Write(b)
		if len(b)%2 == 1 && !s.noPad {
			body.WriteByte(0)
		}
	}
	chunk("fmt ", fmtChunk.Bytes(), fmtChunk.Len())
	for _, c := range s.before {
		chunk(c[0], []byte(c[1]), len(c[1]))
	}
	size := data.Len()
	if s.dataSize != 0 {
		size = s.dataSize
	}
	chunk("data", data.Bytes(), size)
	var out bytes.Buffer
	out.WriteString("RIFF")
	_ = binary.Write(&out, binary.LittleEndian, uint32(body.Len()))
	out.Write(body.Bytes())
	b := out.Bytes()
	if s.truncateTo != 0 {
		b = b[:s.truncateTo]
	}
	return b
}

func writeSample(w *bytes.Buffer, tag uint16, bits int, x float64) {
	switch tag {
	case waveMuLaw:
		w.WriteByte(EncodeUlaw(int16(x * 32767)))
	case waveALaw:
		w.WriteByte(EncodeAlaw(int16(x * 32767)))
	case waveFloat:
		_ = binary.Write(w, binary.LittleEndian, float32(x))
	default:
		switch bits {
		case 8:
			w.WriteByte(byte(int(math.Round(x*127)) + 128))
		case 16:
			_ = binary.Write(w, binary.LittleEndian, int16(math.Round(x*32767)))
		case 24:
			v := int32(math.Round(x * (1<<23 - 1)))
			w.Write([]byte{byte(v), byte(v >> 8), byte(v >> 16)})
		case 32:
			_ = binary.Write(w, binary.LittleEndian, int32(math.Round(x*(1<<31-1))))
		}
	}
}

// level is the amplitude (0..1) of the freq Hz component of 8 kHz samples
// (a single-bin DFT over whole periods of the middle of the signal, away
// from the filter's edges).
func level(samples []int16, freq float64) float64 {
	s := samples[len(samples)/8 : len(samples)*7/8]
	var re, im float64
	for i, v := range s {
		ph := 2 * math.Pi * freq * float64(i) / wavOutRate
		re += float64(v) / 32768 * math.Cos(ph)
		im += float64(v) / 32768 * math.Sin(ph)
	}
	return 2 * math.Hypot(re, im) / float64(len(s))
}

// rms is the root mean square (0..1) of the middle of the signal.
func rms(samples []int16) float64 {
	s := samples[len(samples)/8 : len(samples)*7/8]
	var sum float64
	for _, v := range s {
		f := float64(v) / 32768
		sum += f * f
	}
	return math.Sqrt(sum / float64(len(s)))
}

// Whatever a manager's editor exported — 8, 16, 24, 32-bit, float, G.711,
// extensible, mono or stereo, at any common rate — comes out as 8 kHz mono
// with the same length and the same 1 kHz tone at the same level.
func TestDecodeWAVFormatsAndRates(t *testing.T) {
	t.Parallel()
	type tc struct {
		name string
		spec wavSpec
		tol  float64 // level tolerance
	}
	var cases []tc
	for _, rate := range []int{8000, 11025, 16000, 22050, 32000, 44100, 48000} {
		cases = append(cases, tc{"pcm16 mono", wavSpec{tag: wavePCM, rate: rate, bits: 16}, 0.01})
	}
	cases = append(cases,
		tc{"pcm8 mono", wavSpec{tag: wavePCM, rate: 8000, bits: 8}, 0.02},
		tc{"pcm24 stereo 48k", wavSpec{tag: wavePCM, rate: 48000, bits: 24, channels: 2}, 0.01},
		tc{"pcm32 mono 44.1k", wavSpec{tag: wavePCM, rate: 44100, bits: 32}, 0.01},
		tc{"float32 stereo 44.1k", wavSpec{tag: waveFloat, rate: 44100, bits: 32, channels: 2}, 0.01},
		tc{"mulaw 8k", wavSpec{tag: waveMuLaw, rate: 8000, bits: 8}, 0.02},
		tc{"alaw 8k", wavSpec{tag: waveALaw, rate: 8000, bits: 8}, 0.02},
		tc{"extensible pcm16 stereo 16k", wavSpec{tag: waveExtensible, sub: wavePCM, rate: 16000, bits: 16, channels: 2}, 0.01},
		tc{"extensible pcm24 mono 96k", wavSpec{tag: waveExtensible, sub: wavePCM, rate: 96000, bits: 24}, 0.01},
	)
	for _, c := range cases {
		t.Run(c.name+"@"+strconv.Itoa(c.spec.rate), func(t *testing.T) {
			t.Parallel()
			b := makeWAV(t, c.spec, 1000, 0.5, 1500*time.Millisecond)
			got, err := DecodeWAV(bytes.NewReader(b))
			require.NoError(t, err)
			require.InDelta(t, 12000, len(got), 2, "1.5 s at 8 kHz")
			require.InDelta(t, 0.5, level(got, 1000), c.tol, "the tone keeps its level")
			require.InDelta(t, 0.5/math.Sqrt2, rms(got), c.tol, "and nothing else is added")
		})
	}
}

// A rate no editor offers (a misclocked recorder's 22051 Hz, a 96001 Hz
// one that takes the filter's slow path) still comes out at 8 kHz with its
// tone intact.
func TestDecodeWAVUnusualRates(t *testing.T) {
	t.Parallel()
	for _, rate := range []int{22051, 96001} {
		got, err := DecodeWAV(bytes.NewReader(makeWAV(t, wavSpec{tag: wavePCM, rate: rate, bits: 16}, 1000, 0.5, 800*time.Millisecond)))
		require.NoError(t, err)
		require.InDelta(t, 6400, len(got), 2, "%d Hz", rate)
		require.InDelta(t, 0.5, level(got, 1000), 0.01, "%d Hz", rate)
	}
}

// Resampling filters before it decimates: a 6 kHz tone in a 44.1 kHz file
// cannot be carried at 8 kHz and must vanish, not fold back to 2 kHz as it
// would if samples were merely dropped; 3 kHz (inside the telephone band)
// passes unchanged.
func TestDecodeWAVLowPassBeforeResampling(t *testing.T) {
	t.Parallel()
	for _, rate := range []int{44100, 48000, 22050, 16000} {
		high, err := DecodeWAV(bytes.NewReader(makeWAV(t, wavSpec{tag: wavePCM, rate: rate, bits: 16}, 6000, 0.8, time.Second)))
		require.NoError(t, err)
		require.Less(t, rms(high), 0.003, "%d Hz: a 6 kHz tone is filtered out (-48 dB or better)", rate)
		require.Less(t, level(high, 2000), 0.001, "%d Hz: no alias at 2 kHz", rate)

		band, err := DecodeWAV(bytes.NewReader(makeWAV(t, wavSpec{tag: wavePCM, rate: rate, bits: 16}, 3000, 0.8, time.Second)))
		require.NoError(t, err)
		require.InDelta(t, 0.8, level(band, 3000), 0.02, "%d Hz: 3 kHz passes", rate)
	}
}

// Channels are averaged: a tone only on the left is heard at half level, and
// opposite-phase channels cancel.
func TestDecodeWAVMixesChannels(t *testing.T) {
	t.Parallel()
	left, err := DecodeWAV(bytes.NewReader(makeWAV(t, wavSpec{tag: wavePCM, rate: 8000, bits: 16}, 1000, 0.6, time.Second, 1, 0)))
	require.NoError(t, err)
	require.InDelta(t, 0.3, level(left, 1000), 0.01)
	opposed, err := DecodeWAV(bytes.NewReader(makeWAV(t, wavSpec{tag: wavePCM, rate: 8000, bits: 16}, 1000, 0.6, time.Second, 1, -1)))
	require.NoError(t, err)
	require.Less(t, rms(opposed), 0.001)
}

// Editors add chunks of their own (LIST/INFO with the title, fact, bext) and
// some leave out the pad byte after an odd-sized one; the audio is found.
func TestDecodeWAVSkipsOtherChunks(t *testing.T) {
	t.Parallel()
	extra := [][2]string{{"LIST", "INFOINAM\x05\x00\x00\x00Hello"}, {"fact", "\x40\x1f\x00\x00"}, {"junk", "odd"}}
	for _, noPad := range []bool{false, true} {
		b := makeWAV(t, wavSpec{tag: wavePCM, rate: 8000, bits: 16, before: extra, noPad: noPad}, 1000, 0.5, time.Second)
		got, err := DecodeWAV(bytes.NewReader(b))
		require.NoError(t, err, "pad byte left out: %v", noPad)
		require.Len(t, got, 8000)
		require.InDelta(t, 0.5, level(got, 1000), 0.01)
	}
	// A writer that could not seek back leaves the data size unknown: read
	// to the end of the file.
	b := makeWAV(t, wavSpec{tag: wavePCM, rate: 16000, bits: 16, dataSize: 0xFFFFFFFF}, 1000, 0.5, time.Second)
	got, err := DecodeWAV(bytes.NewReader(b))
	require.NoError(t, err)
	require.InDelta(t, 8000, len(got), 1)
}

// Files that cannot become a prompt are refused with a reason the uploader
// can act on.
func TestDecodeWAVRefusals(t *testing.T) {
	t.Parallel()
	ok := wavSpec{tag: wavePCM, rate: 8000, bits: 16}
	good := makeWAV(t, ok, 1000, 0.5, time.Second)
	with := func(f func(*wavSpec)) []byte {
		s := ok
		f(&s)
		return makeWAV(t, s, 1000, 0.5, time.Second)
	}
	tooLong := makeWAV(t, wavSpec{tag: wavePCM, rate: 8000, bits: 16, dataSize: 8000 * 2 * 301}, 1000, 0.5, 10*time.Millisecond)
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "the file is empty"},
		{"text", []byte("hello, this is a text file and not audio"), "no RIFF/WAVE header"},
		{"mp3", append([]byte("ID3\x03\x00\x00\x00\x00\x00\x00"), make([]byte, 100)...), "this is an MP3 file, not a WAV"},
		{"ogg", append([]byte("OggS"), make([]byte, 100)...), "this is an Ogg file"},
		{"adpcm", with(func(s *wavSpec) { s.tag = 0x0002; s.bits = 16 }), "compressed (format 0x0002, Microsoft ADPCM)"},
		{"mp3 in wav", with(func(s *wavSpec) { s.tag = 0x0055 }), "compressed (format 0x0055, MP3)"},
		{"no data", good[:44-8], "no data chunk"},
		{"empty data", with(func(s *wavSpec) { s.dataSize = 1 }), "holds no audio"},
		{"truncated data", good[:2000], "truncated: the data chunk says 16000 bytes of audio but the file ends after 1956"},
		{"truncated fmt", good[:30], "truncated: the file ends inside its fmt chunk"},
		{"too long", tooLong, "the recording is 5m1s long; at most 5m0s is accepted"},
		{"low rate", with(func(s *wavSpec) { s.rate = 4000 }), "sample rate 4000 Hz"},
		{"12-bit", with(func(s *wavSpec) { s.bits = 12 }), "12-bit samples are not supported"},
		{"nine channels", with(func(s *wavSpec) { s.channels = 9 }), "9 channels; mono, stereo or up to 8"},
		{"rf64", append([]byte("RF64"), good[4:]...), "RF64 WAV files are not supported"},
	}
	for _, c := range cases {
		_, err := DecodeWAV(bytes.NewReader(c.file))
		require.Error(t, err, c.name)
		var we *WAVError
		require.True(t, errors.As(err, &we), "%s: %v is a *WAVError", c.name, err)
		require.Contains(t, err.Error(), c.want, c.name)
	}
}

// What EncodeWAV writes for listening decodes back to the same samples.
func TestEncodeWAVRoundTrip(t *testing.T) {
	t.Parallel()
	in := make([]int16, 8001)
	for i := range in {
		in[i] = int16(i*37 - 16000)
	}
	out, err := DecodeWAV(bytes.NewReader(EncodeWAV(in)))
	require.NoError(t, err)
	require.Equal(t, in, out)
}

// When sox is installed, a file it wrote (44.1 kHz stereo, with its own
// header layout) decodes too; the test above covers the same formats with
// bytes written here, so this is only an extra check against a real writer.
func TestDecodeWAVFromSox(t *testing.T) {
	t.Parallel()
	sox, err := exec.LookPath("sox")
	if err != nil {
		t.Skip("sox is not installed: the WAV files written by this test's own code cover the formats")
	}
	path := filepath.Join(t.TempDir(), "tone.wav")
	out, err := exec.Command(sox, "-n", "-r", "44100", "-c", "2", "-b", "16", path, "synth", "1", "sine", "1000", "vol", "0.5").CombinedOutput()
	require.NoError(t, err, string(out))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	got, err := DecodeWAV(f)
	require.NoError(t, err)
	require.InDelta(t, 8000, len(got), 2)
	require.InDelta(t, 0.5, level(got, 1000), 0.02)
}

// Any bytes: no panic, no hang, and either 8 kHz audio within the length cap
// or a *WAVError.
func FuzzDecodeWAV(f *testing.F) {
	for _, s := range []wavSpec{
		{tag: wavePCM, rate: 8000, bits: 16},
		{tag: wavePCM, rate: 44100, bits: 24, channels: 2},
		{tag: waveMuLaw, rate: 8000, bits: 8},
		{tag: waveExtensible, sub: wavePCM, rate: 16000, bits: 16, before: [][2]string{{"LIST", "abc"}}},
		{tag: waveFloat, rate: 22050, bits: 32, noPad: true, before: [][2]string{{"junk", "x"}}},
	} {
		f.Add(makeWAV(f, s, 440, 0.5, 20*time.Millisecond))
	}
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVE"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := DecodeWAV(bytes.NewReader(b))
		if err != nil {
			var we *WAVError
			require.True(t, errors.As(err, &we), "%v", err)
			return
		}
		require.NotEmpty(t, got)
		require.LessOrEqual(t, len(got), int(MaxWAVDuration.Seconds())*wavOutRate)
	})
}

// Converting the longest upload from the commonest high rate: five minutes
// of 48 kHz 16-bit stereo.
func BenchmarkDecodeWAV5MinStereo48k(b *testing.B) {
	file := makeWAV(b, wavSpec{tag: wavePCM, rate: 48000, bits: 16, channels: 2}, 440, 0.5, 5*time.Minute-time.Second)
	b.SetBytes(int64(len(file)))
	b.ResetTimer()
	for range b.N {
		if _, err := DecodeWAV(bytes.NewReader(file)); err != nil {
			b.Fatal(err)
		}
	}
}
