package testwait

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// HangGuard is the longest one wait may take before the test fails. Nothing a
// test waits for takes a fraction of it, however loaded the machine; it is
// there so a condition that never holds fails the test with its message
// instead of hanging the package until `go test -timeout`.
const HangGuard = 5 * time.Minute

// cleanupGrace is left before `go test -timeout` so a failing wait still lets
// the test's cleanups run and its logs print.
const cleanupGrace = 30 * time.Second

// deadline is when a wait that starts now gives up.
func deadline(t testing.TB) time.Time {
	d := time.Now().Add(HangGuard)
	if td, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if end, ok := td.Deadline(); ok && end.Add(-cleanupGrace).Before(d) {
			d = end.Add(-cleanupGrace)
		}
	}
	return d
}

// Until calls cond on the test's goroutine (so cond may use require) until
// it returns true, polling every few milliseconds at first and every 100 ms
// later. It fails the test, with msgAndArgs as testify formats them, when
// the wait reaches HangGuard or the test's own deadline.
func Until(t testing.TB, cond func() bool, msgAndArgs ...any) {
	t.Helper()
	start := time.Now()
	end := deadline(t)
	for tick := 5 * time.Millisecond; ; tick = min(2*tick, 100*time.Millisecond) {
		if cond() {
			return
		}
		if time.Now().After(end) {
			require.Fail(t, fmt.Sprintf("condition not met after %s", time.Since(start).Round(time.Second)), msgAndArgs...)
		}
		time.Sleep(tick)
	}
}

// Expired is a channel for the other arm of a select on an event's own
// channel: it fires when a wait started now reaches HangGuard or the test's
// deadline.
func Expired(t testing.TB) <-chan time.Time {
	return time.After(time.Until(deadline(t)))
}

// NoLeaks fails the test if goroutines other than those goleak's options
// ignore are still running once they have had HangGuard to exit. Stopped
// components end some goroutines asynchronously (pgx's background reader
// exits when its socket read returns), which on a loaded machine takes
// longer than goleak.VerifyNone's half second of retries.
//
// pgx's background reader is ignored: the test's own pool (testdb, closed
// after the test) can keep one running on an idle connection, seen for the
// whole five minutes of HangGuard in CI. A pool left open by the code
// under test still shows by its own goroutines (the pool's health check).
func NoLeaks(t testing.TB, opts ...goleak.Option) {
	t.Helper()
	opts = append(opts, goleak.IgnoreAnyFunction("github.com/jackc/pgx/v5/pgconn/internal/bgreader.(*BGReader).bgRead"))
	end := deadline(t)
	for {
		err := goleak.Find(opts...) // itself retries for about half a second
		if err == nil {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("goroutines leaked: %v", err)
		}
	}
}
