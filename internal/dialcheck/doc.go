// Package dialcheck states, as SQL over the calls, leads, dispositions and
// DNC tables, the promises a dialer makes to the people it calls, and lists
// every row that breaks one: a lead in two calls at once, a lead dialled
// again sooner than the retry delay of its last outcome, a number dialled
// after it went on a DNC list, a lead called outside the calling window in
// any zone or state it may be in, an agent on two calls at once, a call left
// open. An inbound caller's call is no dial: the dialling promises skip it,
// even with the caller's lead attached. Tests that crash, kill, split and restart nodes run it over the whole
// history they made. Test helper only; never imported by non-test code.
package dialcheck
