// Package jobs runs Pacer's durable background work on River: the River
// client, its workers and the periodic maintenance schedule, all configured in
// this one place (New, periodicJobs). It is the only non-test package that
// imports River, and it reads River's own tables (river_job) for the jobs
// page; it owns no tables of its own.
//
// Jobs:
//   - callback_due, callback_grace (callbacks.go): a scheduled callback falls
//     due at its time; a `me` callback's grace period ends. Runner implements
//     campaigns.CallbackJobs, so a callback row and its job commit in one
//     transaction; every step is idempotent on the callback's status and
//     version, which is what makes a restart, a kill between insert and
//     delivery, a job run twice or a reschedule safe (see callbacks.go).
//   - callback_sweep: runs a callback step whose job vanished.
//   - recover_stuck_leads, recycle_sweep, recycle_leads: leads stranded in
//     dialing (and lead imports whose process died), leads held for
//     callbacks that are gone, recycle by disposition.
//   - daily_rollup: agent and campaign day roll-ups (agents.RollupDay,
//     dialer.RollupDay) nightly at RollupAt UTC.
//   - purge_scratch: import reports and closed callback requests past
//     Retention.
//   - callback_request_assign: pending callback requests to available agents
//     for their first two hours.
//
// admin.go is the jobs page's data: list by kind and state, counts, retry,
// cancel.
//
// It owns River's goroutines (producers, the leader's maintenance services and
// the periodic-job enqueuer); Start launches them and Stop returns only when
// they have exited. Workers call into the domain packages (campaigns, agents,
// dialer); those packages never import jobs. Who hears of a callback falling
// due (CallbackNotifier) and where available agents come from (AgentFinder)
// are set by cmd from the dialer's manager.
package jobs
