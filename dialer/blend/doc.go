// Package blend joins the inbound router (package inbound) to the dialer's
// engines, which never import each other (DESIGN.md §2). Both composition
// roots, cmd/pacer and the simulator, wire the two through it.
//
// What it owns:
//   - Engines: the dialer.Inbound (and dialer.InboundTaker) an engine sees,
//     translating the router's offers, calls and loads into the dialer's
//     types. It holds no state of its own.
//   - Loops: the router's Notifier in `pacer serve`: it remembers the
//     campaign each agent was last reported in (a sync.Map, written by
//     Engines.AgentChanged) and posts pokes and withdrawals to that
//     campaign's loop without waiting; a request for an agent whose campaign
//     does not run on this node is dropped (the router offers the caller
//     elsewhere once its poke goes unanswered).
//   - The numbering of inbound legs: from LegBase, above every call id an
//     engine gives its own dials, so a trunk tells a caller's leg from a
//     dialled one by its number (Leg, Key, IsInbound).
//
// No goroutines.
package blend
