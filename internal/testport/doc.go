// Package testport picks loopback ports for a test's child processes
// (pacer serve, sipp) outside the kernel's ephemeral range. A port the
// kernel hands out for a connect() or a bind to port 0 cannot then take the
// one a test chose and is about to give a child: on a busy machine
// (thousands of database and HTTP connections, two suites at once) that
// race is real. It owns only the choice of ports; it starts nothing.
package testport
