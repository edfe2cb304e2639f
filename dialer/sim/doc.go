// Package sim runs the real dialer engine against a simulated carrier and
// simulated agents in virtual time (`pacer sim`). It owns the scenario file
// format (see the scenarios README), the seeded distributions, the
// virtual-clock driver (a priority queue of timed events processed as fast
// as the CPU allows, on the caller's goroutine; no goroutines are started),
// and the report.
//
// The simulated carrier is also meant to be the embedded default trunk of
// `pacer serve`: it only needs something that delivers its events at a time,
// which a real-time driver can do as well as the virtual one.
//
// sim imports dialer and agents; nothing in the engine imports sim.
package sim
