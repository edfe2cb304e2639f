package media

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// Reference values from ITU-T G.711's tables: silence, the largest positive
// and negative codes, and a few points on each segment.
func TestG711KnownCodes(t *testing.T) {
	t.Parallel()
	require.Equal(t, byte(0xff), EncodeUlaw(0))
	require.Equal(t, byte(0x80), EncodeUlaw(32767))
	require.Equal(t, byte(0x00), EncodeUlaw(-32768))
	require.Equal(t, int16(0), ulawToLinear[0xff])
	require.Equal(t, int16(32124), ulawToLinear[0x80])
	require.Equal(t, int16(-32124), ulawToLinear[0x00])

	require.Equal(t, byte(0xd5), EncodeAlaw(0))
	require.Equal(t, byte(0xaa), EncodeAlaw(32767))
	require.Equal(t, byte(0x2a), EncodeAlaw(-32768))
	require.Equal(t, int16(8), alawToLinear[0xd5])
	require.Equal(t, int16(32256), alawToLinear[0xaa])
	require.Equal(t, int16(-32256), alawToLinear[0x2a])
}

// Every code decodes to a value that encodes back to the same code, and the
// error of a round trip through either law stays within its segment's step.
func TestG711RoundTrip(t *testing.T) {
	t.Parallel()
	for _, c := range []Codec{PCMU, PCMA} {
		for i := range 256 {
			b := byte(i)
			if c == PCMU && b == 0x7f { // µ-law's negative zero encodes as positive zero
				continue
			}
			got := c.Encode(nil, c.Decode(nil, []byte{b}))
			require.Equal(t, b, got[0], "%s code %#02x", c, b)
		}
		for s := -32768; s <= 32767; s += 7 {
			back := c.Decode(nil, c.Encode(nil, []int16{int16(s)}))[0]
			err := math.Abs(float64(int(back) - s))
			require.LessOrEqual(t, err, math.Max(16, math.Abs(float64(s))/16+32), "%s sample %d came back %d", c, s, back)
		}
	}
}

// Transcoding by table lands on the code the other law gives the same
// sample, so a PCMA carrier reaches a PCMU phone without decoding.
func TestTranscode(t *testing.T) {
	t.Parallel()
	for s := -32000; s <= 32000; s += 101 {
		a := PCMA.Encode(nil, []int16{int16(s)})
		u := PCMU.Encode(nil, []int16{int16(s)})
		b := []byte{a[0]}
		Transcode(b, PCMA, PCMU)
		da, du := PCMU.Decode(nil, b)[0], PCMU.Decode(nil, u)[0]
		require.LessOrEqual(t, math.Abs(float64(da-du)), math.Max(64, math.Abs(float64(s))/8), "sample %d", s)
	}
	b := []byte{1, 2, 3}
	Transcode(b, PCMU, PCMU)
	require.Equal(t, []byte{1, 2, 3}, b)
}
