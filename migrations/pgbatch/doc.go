// Package pgbatch is the write-behind queue of the engine's stores: callers on
// a latency-sensitive goroutine (a campaign loop) enqueue statements and go on;
// one writer goroutine sends whatever has queued up as a single pgx.Batch per
// round trip, in enqueue order.
//
// The queue is bounded. When it is full Enqueue blocks: the records are the
// call detail and agent state logs that compliance depends on, so a database
// that cannot keep up slows the caller rather than losing rows.
//
// A database outage loses nothing: a batch that fails because the server
// cannot be reached (IsConnectionError) is sent again, 200 ms apart doubling
// to 5 s, for as long as the writer runs, and meanwhile Healthy is false so
// the engine can stop placing calls it could not record. A batch the server
// itself refuses is retried one statement at a time so a single bad row (a
// violated CHECK) loses only itself; such a statement is logged and counted
// (Failed), never retried forever.
//
// Start first writes what an earlier Stop spooled (Config.SpoolDir), then
// launches the writer goroutine. Stop writes everything queued and returns
// once the goroutine has exited; if the database is still unreachable after
// Config.StopTimeout, what is left goes to a spool file instead of being
// dropped. It imports pgx only.
package pgbatch
