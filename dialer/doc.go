// Package dialer is the outbound engine: for one campaign it owns the calls in
// flight (their state machine and timestamps), the routing of answered calls
// to the READY agent who has waited longest, abandonment at the connect
// deadline, the abandon budget, and the pacing policies (manual, preview,
// power, predictive, and the simulator baselines) that decide how many calls
// to place.
//
// The Engine is a deterministic core with no goroutines and no locks: one
// driver goroutine feeds it trunk events, agent events, timer firings and
// pacing ticks, and it talks back through the Trunk, Scheduler and store
// interfaces. In production a per-campaign goroutine drives it in real time;
// in the simulator (package dialer/sim) a virtual-clock driver drives it as
// fast as the CPU allows. Time only ever comes from the Scheduler.
//
// dialer may import agents (and campaigns when it lands); it never imports
// web, jobs or inbound. PostgreSQL implementations of LeadSource, CallSink and
// BudgetHistory live with their tables; the in-memory ones here serve the
// simulator and tests.
package dialer
