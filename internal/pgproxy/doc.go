// Package pgproxy is a TCP proxy between a test and its PostgreSQL server,
// for simulating a database outage as the client sees it: Cut closes every
// proxied connection and refuses new ones (each is accepted and closed at
// once, so a client sees the server hang up rather than wait for a connect
// timeout), Restore forwards again. The server keeps running, so other tests
// sharing it are not disturbed.
//
// The proxy listens on 127.0.0.1 at a random port and forwards to the server
// a PostgreSQL URL names: a unix socket (the private test cluster of
// internal/testdb) or a TCP address. URL rewrites such a URL to go through
// the proxy. Test code only.
package pgproxy
