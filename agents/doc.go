// Package agents owns the agent state machine: the single transition table
// that moves an agent through LOGGED_OUT, PAUSED, READY, RINGING, INCALL and
// DISPO, and the per-session and per-call time accounting (wait, ring, talk,
// hold, dispo, pause by code) derived from it.
//
// It holds no goroutines and no locks: an Agent is owned by exactly one
// goroutine (in production the campaign engine that routes calls to it, in
// the simulator the virtual-clock driver), which feeds it events. Time comes
// from an injected Clock so the same code runs in real and virtual time.
// Every accepted transition is handed to an optional Sink, the seam through
// which a PostgreSQL agent_events store will later append the state log.
//
// agents imports nothing from this module; dialer, inbound and web import it.
package agents
