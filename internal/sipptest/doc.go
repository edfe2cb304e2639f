// Package sipptest runs sipp (Debian package sip-tester), a real and
// independent SIP implementation, as the far end of SIP tests: it starts one
// sipp process per scenario on loopback with ports chosen free at run time,
// waits for it to exit, and reads its exit code and -trace_stat counters.
// A test that needs sipp skips loudly when the binary is not on PATH.
//
// Test code only: it imports the standard library and testify; nothing
// outside _test.go files imports it. Every process it starts is killed in
// the test's Cleanup if it has not exited by then.
package sipptest
