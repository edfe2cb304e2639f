// Package jobs runs Pacer's durable background work on River: the River
// client, its workers and the periodic maintenance schedule, all configured in
// this one place. It is the only non-test package that imports River.
//
// It owns River's goroutines (producers, the leader's maintenance services and
// the periodic-job enqueuer); Start launches them and Stop returns only when
// they have exited. Workers call into the domain packages (campaigns, and
// later agents and dialer); those packages never import jobs.
package jobs
