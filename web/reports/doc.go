// Package reports answers the questions a manager asks about a date range:
// the call detail records, agent time, dispositions, the abandon rate per
// legal window and list penetration (report.go lists them). Each report is a
// header of columns and a stream of rows, so one definition feeds both the
// CSV download and the JSON API and they cannot disagree; the call detail
// records stream from the database row by row and are never held whole.
//
// A range is whole days from and to (inclusive) in one time zone
// (params.go); days are that zone's calendar days, so a day of 23 or 25
// hours across a DST change is what it is.
//
// An agent is named by their username; a simulated agent (ids 1..N, which
// name no user) as sim-N, as the wallboard names them.
//
// It owns no tables and writes nothing. It is the one reader across owners:
// calls (package dialer), agent_sessions and agent_events (agents), campaigns,
// lead_lists, leads and dispositions (campaigns) and users (web), read with
// the same definitions their owners use (the abandon rate as dialer's Budget
// counts it, agent time as agents' roll-up splits the state log).
//
// It lives under web because only web serves it. It imports pgx and
// campaigns (CSVSafe) only; web imports it. It starts no
// goroutines and reads no clock: the caller passes now.
package reports
