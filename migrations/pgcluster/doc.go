// Package pgcluster finds the PostgreSQL server Pacer talks to, or starts a
// private one.
//
// When the operator names a server (DATABASE_URL), that server is used as is and
// nothing else is touched: pgcluster never probes or writes to a server nobody
// named, not even 127.0.0.1:5432. Otherwise it runs a private cluster from the
// installed PostgreSQL binaries in a directory it owns (./.pacer/pg for
// `pacer serve`, a temporary directory for tests). The cluster listens only on a
// unix socket inside its own data directory, so it can never clash with another
// server on the machine.
//
// Several processes may share one private cluster: each holds a shared flock on
// the directory's users file while it runs, and the last one to leave stops the
// server. A process killed with SIGKILL leaves the server running; the next
// process adopts it.
//
// It lives beside the migrations because both are about the database's
// lifecycle; it is used by cmd/pacer and by internal/testdb, and imports no
// Pacer package.
package pgcluster
