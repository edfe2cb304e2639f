// Package campaigns owns what is dialled and when it may be: campaigns, lead
// lists, leads, lead import, dispositions, do-not-call lists, calling windows
// and the hopper query, and the tables behind them (nobody else queries
// them; store functions take a DB so callers can compose a transaction).
//
// Lead import is split into pure parts, usable and testable without a
// database, and the store code that loads their output:
//
//   - LeadReader streams a CSV/TSV/VICIdial lead file of any size in bounded
//     memory, sniffing delimiter and encoding, mapping columns to LeadFields
//     and keeping the rest as custom fields; a bad record becomes a LeadRow
//     with Err set, never a lost row or an aborted import.
//   - NormalizePhone turns a raw number into E.164 or a PhoneError whose
//     reason goes into the per-row error report.
//   - LeadZones derives the time zones a lead may be in (ZIP, state, then the
//     number), and Window decides when it may be called (DESIGN.md §6):
//     Allowed for the hopper, NextAllowed for callbacks and retries.
//
// Nothing here reads the clock: callers pass the instant, so the simulator's
// virtual time and tests work unchanged. Time zones are loaded from the
// system tzdata unless the binary embeds it (import _ "time/tzdata" in cmd);
// a zone that cannot be loaded makes a lead uncallable, never callable.
//
// No goroutines are started by this package.
//
// Imports: the standard library, pgx, shopspring/decimal, nyaruka/phonenumbers
// and golang.org/x/text only. Never dialer, inbound, web, jobs or agents: they
// depend on campaigns, not the other way round.
package campaigns
