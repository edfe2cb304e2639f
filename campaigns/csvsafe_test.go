package campaigns

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// A cell a spreadsheet would run as a formula is quoted; any other is left
// as it is.
func TestCSVSafeQuotesFormulas(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"=HYPERLINK(\"http://x\")": "'=HYPERLINK(\"http://x\")",
		"+1+1":                     "'+1+1",
		"-2+3":                     "'-2+3",
		"@SUM(A1:A2)":              "'@SUM(A1:A2)",
		"\t=1+1":                   "'\t=1+1",
		"\r=1+1":                   "'\r=1+1",
		"\n=1+1":                   "'\n=1+1",
		"\x00=1":                   "'\x00=1",
		"  =cmd|' /C calc'!A0":     "'  =cmd|' /C calc'!A0",
		"＝1+1":                     "'＝1+1",
		"＠SUM(A1)":                 "'＠SUM(A1)",
		"Ann":                      "Ann",
		"2025550101,Ann":           "2025550101,Ann",
		"a=b":                      "a=b",
		"":                         "",
		"   ":                      "   ",
		"'=already":                "'=already",
	} {
		require.Equal(t, want, CSVSafe(in), "%q", in)
	}
}
