// Package sim runs the real dialer engine against a simulated carrier and
// simulated agents in virtual time (`pacer sim`). It owns the scenario file
// format (see the scenarios README), the seeded distributions, the
// virtual-clock driver (a priority queue of timed events processed as fast
// as the CPU allows, on the caller's goroutine; it starts no goroutines),
// and the report.
//
// The same carrier is the embedded default trunk of `pacer serve`
// (Realtime.Trunk), delivering its events through a dialer.Loop in real
// time, and Agents are simulated agents working a campaign through the
// loop's command API, as a browser would. Agents runs one goroutine
// (Start/Stop); the carrier runs on the loop's goroutine. Realtime.OnDial
// shows a test each dial as the carrier received it (caller ID, ring
// timeout).
//
// sim imports dialer and agents; nothing in the engine imports sim.
package sim
