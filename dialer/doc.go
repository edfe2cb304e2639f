// Package dialer is the outbound engine: for one campaign it owns the calls in
// flight (their state machine and timestamps), the routing of answered calls
// to the READY agent who has waited longest, abandonment at the connect
// deadline, the abandon budget, and the pacing policies (manual, preview,
// power, predictive, and the simulator baselines) that decide how many calls
// to place.
//
// The Engine is the one owner of call state: a call an agent talked on stays
// with it in wrap-up (CallWrapUp), holding its lead, until the agent's
// disposition, the wrap-up limit's AUTO or the agent leaving settles it; the
// Loop writes progress, records and dispositions through as the engine moves
// calls (its CallSink and CallWatcher) and keeps no call state of its own.
//
// The Engine is a deterministic core with no goroutines and no locks: one
// driver goroutine feeds it trunk events, agent events, timer firings and
// pacing ticks, and it talks back through the Trunk, Scheduler and store
// interfaces. Time only ever comes from the Scheduler. In the simulator
// (package dialer/sim) a virtual-clock driver drives it as fast as the CPU
// allows; in `pacer serve` a Loop drives it in real time.
//
// Goroutines, all with Start(ctx) and an idempotent Stop that returns when
// they have exited:
//   - Loop: one per running campaign; owns the Engine, selects over its
//     time-ordered queue of timers and trunk events, commands from other
//     goroutines (agents, later the web workspace), a summary ticker and
//     stop. Other goroutines talk to it only through its command methods.
//   - Node (node.go): this process's registration in the nodes table; its
//     goroutine heartbeats, recovers nodes whose heartbeat expired
//     (recovery.go) and gives their agents' unsettled calls AUTO, and
//     reports through Lost when this node was declared dead.
//   - Manager: polls the campaigns table and runs a Loop for each active
//     campaign whose lease (lease.go) this node holds, taking campaigns up to
//     its fair share and renewing its leases; Drain hands them over for a
//     graceful shutdown while calls in progress end; changed settings reach a running Loop
//     live (Loop.Reconfigure), never by a restart: calls in flight keep the
//     settings they were dialled with (Call.Settings) and agents stay where
//     they are (engine_reconfigure.go).
//   - HopperLeads: a worker that records attempts (campaigns.Complete) off
//     the loop's goroutine.
//   - CallStore: the write-behind writer of the calls table.
//
// With a database (LoopDeps.DB, as the Manager builds loops) a Loop saves an
// agent's disposition in one transaction with the call record, the lead's
// rules, DNC and any callback and its job, applies the wrap-up limit's
// automatic disposition (AUTO), offers each agent their due callbacks as
// preview calls ahead of new calls (loop_dispo.go, engine_offer.go), and
// runs an agent's manual dial: claim the lead, dial it, give it back if the
// engine refuses (Loop.ManualDial).
//
// An agent's own dial (a preview, manual or callback dial) keeps the agent
// DIALING until the customer answers; one nobody answers ends with its
// outcome on the lead like any unanswered call and returns the agent to
// READY, or the next preview, with nothing to disposition
// (engine_agent_dial.go). Every change of a call that has an agent is told
// to Deps.Changes; the Loop fans them out to SubscribeCalls, which the
// workspace follows. A skipped preview goes back to the hopper behind the
// leads due, counted (LeadSource.Skip), and is kept from the agent who
// skipped it for Config.PreviewSkipHold.
//
// A database outage loses nothing and places nothing unrecorded
// (outage.go): the write-behind paths wait it out and block rather than drop,
// and while any of them holds records the loop claims no new leads.
//
// Ownership (DESIGN.md §7): the nodes and campaign_leases tables
// (migrations/0007_ownership.sql). A campaign's lead claims carry its lease
// epoch and the database refuses them for any lease but the current one, so
// only the owner dials; a dead node's work is recovered once, by another
// node, with honest outcomes and counted attempts.
//
// The Trunk (trunk.go) is shaped after a SIP B2BUA and carries the agent's
// call controls (trunk_control.go: hold, mute, DTMF, blind transfer to a
// typed Target, conference and leave). The engine checks each against the
// call table, asks the trunk, and only then changes the call
// (engine_control.go); the Loop offers them as commands (loop_control.go).
// A transfer or conference to another READY agent of the campaign hands
// the customer on: that agent gets a call of their own on the customer's
// trunk leg (Call.TransferredFrom), and whichever call has the customer
// holds the lead; a handed-on customer is one dial, one live answer and one
// attempt everywhere they are counted.
// Trunk events that end a call carry a Cause (cause.go: SIP status, Q.850
// cause, reason), kept on the call record.
//
// Tables: calls (migrations/0002_engine.sql), written through as each call
// moves and closed by RecoverNode (recovery.go) for a node that died; BudgetHistory over
// it restores a campaign's abandon window on start. campaign_daily_stats
// (migrations/0004_callbacks.sql), rebuilt per UTC day by RollupDay. The in-memory stores here
// serve the simulator and tests.
//
// dialer imports agents, campaigns (the hopper and attempts) and pgx; it never
// imports web, jobs or inbound.
package dialer
