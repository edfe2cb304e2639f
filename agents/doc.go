// Package agents owns the agent state machine: the single transition table
// that moves an agent through LOGGED_OUT, PAUSED, READY, RINGING, DIALING
// (the agent's own call not answered yet), INCALL and DISPO, and the
// per-session and per-call time accounting (wait, ring, talk, hold, dispo,
// pause by code) derived from it. DIALING is wait: talk starts when the
// customer answers, and a dial nobody answers returns to READY without DISPO.
//
// An Agent holds no goroutines and no locks: it is owned by exactly one
// goroutine (in production the campaign loop that routes calls to it, in
// the simulator the virtual-clock driver), which feeds it events. Time comes
// from an injected Clock so the same code runs in real and virtual time.
// Every accepted transition is handed to an optional Sink.
//
// EventStore is the PostgreSQL Sink: it owns the agent_sessions and
// append-only agent_events tables (migrations/0002_engine.sql) and writes them
// through one bounded write-behind queue drained by one writer goroutine
// (Start/Stop); RecoverSessions closes the sessions of a node that died.
// A transition that must commit with other records (the event closing a call
// at its disposition) is written by EventSink.AppendTx in the caller's
// transaction, predicted with Agent.Peek, and then skipped by the queue.
//
// seat.go owns agent_seats (migrations/0009_seats.sql): the one campaign and
// workspace (browser tab) an agent works in the whole cluster, and the node
// running that campaign's loop for them.
//
// Presence (presence.go) counts each agent's open workspace connections and
// reports an agent gone when the last has stayed closed for a grace period;
// it keeps timers (from an injected Timers clock), no goroutine of its own.
// web feeds it connects and disconnects; cmd/pacer wires the report to the
// engine's session-lost logout.
//
// rollup.go rebuilds agent_daily_stats (migrations/0004_callbacks.sql) from
// the state log for one UTC day at a time; package jobs runs it nightly.
//
// phone.go and phone_store.go own agent_phones and agent_registrations
// (migrations/0023_agent_phones.sql): each agent user's SIP phone, either a
// SIP password (only its digest HA1 and realm are stored) for REGISTER or a
// fixed contact URI, and the live REGISTER bindings that any node reads to
// call the phone. They read users (owned by web) for the SIP username.
//
// agents imports only pgx, uuid and migrations/pgbatch from outside the
// standard library; dialer, inbound and web import it.
package agents
