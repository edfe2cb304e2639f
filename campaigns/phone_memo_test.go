package campaigns

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// The memo must be in use (the metadata's patterns were proven to depend
// only on a prefix) and must agree with the patterns everywhere.
func TestNANPMemoAgreesWithThePatterns(t *testing.T) {
	nanpValidMemo("2124365000")
	if nanpMemo.cells == nil {
		t.Fatalf("NANP memo disabled: could not prove the patterns depend only on a prefix (k = %d)", nanpPrefixDigits())
	}
	t.Logf("NANP validity is decided by the first %d digits", nanpMemo.k)
	r := rand.New(rand.NewPCG(1, 2))
	valid := 0
	for i := range 300_000 {
		var national string
		if i%3 == 0 {
			// Many numbers sharing few prefixes, so the memo answers them.
			national = fmt.Sprintf("%03d%03d%04d", 200+r.IntN(20), 200+r.IntN(5), r.IntN(10000))
		} else {
			national = fmt.Sprintf("%010d", r.Int64N(10_000_000_000))
		}
		want := nanpValid(national)
		if got := nanpValidMemo(national); got != want {
			t.Fatalf("%s: memo says %v, the patterns %v", national, got, want)
		}
		if want {
			valid++
		}
	}
	if valid == 0 {
		t.Fatal("no valid numbers generated: the test proves nothing")
	}
}
