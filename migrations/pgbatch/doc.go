// Package pgbatch is the write-behind queue of the engine's stores: callers on
// a latency-sensitive goroutine (a campaign loop) enqueue statements and go on;
// one writer goroutine sends whatever has queued up as a single pgx.Batch per
// round trip, in enqueue order.
//
// The queue is bounded. When it is full Enqueue blocks: the records are the
// call detail and agent state logs that compliance depends on, so a database
// that cannot keep up slows the caller rather than losing rows.
//
// A batch runs as one implicit transaction; when it fails, its statements are
// retried one by one so a single bad row (a violated CHECK) loses only itself.
// Statements that still fail are logged and dropped.
//
// Start launches the writer goroutine; Stop writes everything queued, then
// returns once the goroutine has exited. It imports pgx only.
package pgbatch
