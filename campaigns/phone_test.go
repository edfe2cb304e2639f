package campaigns

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
	"github.com/stretchr/testify/require"
)

func TestNormalizePhone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw, region string
		want        string
		reason      string // substring of the rejection reason
	}{
		{raw: "(415) 555-2671", region: "US", want: "+14155552671"},
		{raw: "415.555.2671", region: "US", want: "+14155552671"},
		{raw: "415-555-2671", region: "US", want: "+14155552671"},
		{raw: "+1 415 555 2671", region: "US", want: "+14155552671"},
		{raw: "+1 (415) 555-2671", region: "GB", want: "+14155552671"},
		{raw: "14155552671", region: "US", want: "+14155552671"},
		{raw: "1-415-555-2671", region: "US", want: "+14155552671"},
		{raw: "001 415 555 2671", region: "US", want: "+14155552671"},
		{raw: "011 44 20 7946 0958", region: "US", want: "+442079460958"},
		{raw: "  4155552671  ", region: "us", want: "+14155552671"},
		{raw: "4155552671 x123", region: "US", want: "+14155552671"},
		{raw: "416-555-0123", region: "CA", want: "+14165550123"},
		{raw: "(416) 555-0123", region: "US", want: "+14165550123"},
		{raw: "787 555 1234", region: "US", want: "+17875551234"},
		{raw: "+44 20 7946 0958", region: "US", want: "+442079460958"},
		{raw: "020 7946 0958", region: "GB", want: "+442079460958"},
		{raw: "07911 123456", region: "GB", want: "+447911123456"},
		{raw: "0044 7911 123456", region: "GB", want: "+447911123456"},
		{raw: "00 1 415 555 2671", region: "GB", want: "+14155552671"},
		{raw: "0014155552671", region: "", want: "+14155552671"},
		{raw: "00 21 1 415 555 2671", region: "BR", want: "+14155552671"},
		{raw: "+14155552671", region: "", want: "+14155552671"},

		{raw: "", region: "US", reason: "empty"},
		{raw: "   ", region: "US", reason: "empty"},
		{raw: "555-2671", region: "US", reason: "not a valid number"},
		{raw: "415 555 267", region: "US", reason: "too short"},
		{raw: "999 555 1234", region: "US", reason: "not a valid number for region US"},
		{raw: "123 456 7890", region: "US", reason: "not a valid number for region US"},
		{raw: "4", region: "US", reason: "not a phone number"},
		{raw: "not a number", region: "US", reason: "not a phone number"},
		{raw: "+999 1234 5678", region: "US", reason: "invalid country code"},
		{raw: "4155552671", region: "", reason: "no country code"},
		{raw: "4155552671", region: "XX", reason: "unknown default region XX"},
		{raw: strings.Repeat("4", 200), region: "US", reason: "too long"},
		{raw: "+44 20 7946 095", region: "US", reason: "country code +44"},
	}
	for _, tt := range tests {
		t.Run(tt.raw+"/"+tt.region, func(t *testing.T) {
			t.Parallel()
			got, err := NormalizePhone(tt.raw, tt.region)
			if tt.reason == "" {
				require.NoError(t, err)
				require.Equal(t, tt.want, got)
				return
			}
			require.ErrorIs(t, err, ErrInvalidPhone)
			var pe *PhoneError
			require.True(t, errors.As(err, &pe))
			require.Contains(t, pe.Reason, tt.reason)
			require.Empty(t, got)
		})
	}
}

// The fast path must agree with the library on every plain NANP number it
// accepts, or the import would keep numbers the dialer's other checks reject.
func TestFastNANPMatchesLibrary(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	check := func(national string) {
		lib, err := phonenumbers.Parse("+1"+national, "US")
		require.NoError(t, err)
		want := phonenumbers.IsValidNumber(lib)
		require.Equal(t, want, nanpValid(national), "national number %s", national)
	}
	n := 10000
	if testing.Short() {
		n = 1000
	}
	for range n {
		check(fmt.Sprintf("%010d", rng.Int64N(10_000_000_000)))
	}
	// Every area code with a realistic exchange, and the personal-number
	// ranges whose validity depends on the 7th digit.
	for npa := 200; npa < 1000; npa++ {
		check(fmt.Sprintf("%03d%03d%04d", npa, 200+rng.IntN(800), rng.IntN(10000)))
	}
	for line := range 1000 {
		check(fmt.Sprintf("5235%d%05d", line%10, line*7))
		check(fmt.Sprintf("5245%03d%03d", line, line))
	}
}

func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{
		"(415) 555-2671", "+1 415 555 2671", "001 415 555 2671", "+44 20 7946 0958",
		"07911 123456", "", "+", "00", "1", "x", "4155552671 ext. 12", "+1-800-FLOWERS",
		"++1415", "tel:+1-415-555-2671", "+7 (495) 123-45-67", "+49 30 123456",
	} {
		f.Add(s, "US")
		f.Add(s, "GB")
	}
	f.Fuzz(func(t *testing.T, raw, region string) {
		got, err := NormalizePhone(raw, region)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidPhone)
			require.Empty(t, got)
			return
		}
		require.True(t, len(got) > 1 && got[0] == '+', "not E.164: %q", got)
		for _, c := range got[1:] {
			require.True(t, c >= '0' && c <= '9', "not E.164: %q", got)
		}
		again, err := NormalizePhone(got, region)
		require.NoError(t, err, "E.164 output %q from %q does not re-normalise", got, raw)
		require.Equal(t, got, again)
	})
}

var benchPhones = func() []string {
	rng := rand.New(rand.NewPCG(3, 4))
	formats := []string{"(%s) %s-%s", "%s.%s.%s", "+1 %s %s %s", "1%s%s%s", "%s-%s-%s"}
	npas := []string{"212", "312", "415", "512", "617", "702", "808", "907", "305", "416"}
	out := make([]string, 4096)
	for i := range out {
		out[i] = fmt.Sprintf(formats[i%len(formats)], npas[rng.IntN(len(npas))],
			fmt.Sprintf("%03d", 200+rng.IntN(800)), fmt.Sprintf("%04d", rng.IntN(10000)))
	}
	out[7] = "+44 20 7946 0958"
	out[99] = "555-2671"
	return out
}()

func BenchmarkNormalizePhone(b *testing.B) {
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_, _ = NormalizePhone(benchPhones[i%len(benchPhones)], "US")
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkNormalizePhoneLibrary(b *testing.B) {
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_, _ = slowNormalize(benchPhones[i%len(benchPhones)], "US")
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
