// Package rtpgen is the sending half of the RTP load generators that the
// relay benchmarks (media's BenchmarkRelay, dialer/sip's
// BenchmarkAnswerToFirstPacket) run in a second process: loopback sockets
// with large buffers, and one goroutine pacing every endpoint's 20 ms G.711
// stream, staggered in 20 slots of 1 ms as independent phones are. What a
// packet carries, what counts and how the generator talks to its parent
// stay with each benchmark.
//
// Test code only: it imports the standard library; nothing outside
// _test.go files imports it.
package rtpgen
