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
//   - LeadPlace derives every time zone and state a lead may be in, from
//     its address (ZIP, state) and its number together, and Window decides
//     when it may be called (DESIGN.md §6): only while its hours hold in all
//     of them (AllowedIn for the hopper, NextAllowed for callbacks and
//     retries). Leads point to append-only calling-window groups of zones
//     and states; CompleteLeadGroups moves leads out of the address-only
//     groups made before migration 0012.
//
// Import loads a file into a list of its own: leads is partitioned by id
// range (migration 0006) and a large list's leads, with ids list<<28 + n,
// live in partitions the import builds whole (COPY on two connections at
// once, one sorted build per index, then ATTACH), which is several times
// faster than inserting into one big indexed table. Each list partition
// carries CHECK (campaign_id = c), so a campaign's queries plan only its own
// lists. A small list (under sharedListMaxLeads) is built the same way, then
// moved into leads_shared (migration 0016), so that small lists loaded daily
// do not each add a partition to the hopper's query. One lead per number per
// campaign is kept by the import (a per-campaign lock and an anti-join when
// it attaches), not by a unique index, which a partitioned table cannot have
// across partitions. Imports queue behind a cluster-wide limit
// (import_queue.go) and keep their files in an ImportSpool.
// FailAbandonedImports and SweepImportSpools clean up after an importing
// process that died.
//
// A list's administration (list_admin.go): ListsWithCounts counts its leads
// by class (new, dialling, callable, retry_later, callback, finished, dnc),
// by the rules the hopper's claim applies; RecycleList makes leads callable
// again by last disposition; ExportList streams them; DeleteList removes
// them (never from under a claim or an open callback) and keeps the list's
// row, marked deleted (migrations/0020_console.sql), and the calls.
//
// Settings (settings.go) each carry the rule that checks them, which also
// describes them to the console (FieldSpecs: label, group, unit, range);
// a refused setting is a *SettingError or *FloorError naming it (FieldOf).
//
// The law's floors (compliance.go: abandon target, calling window, ring
// timeout, connect deadline, caller ID and information message before a
// predictive or power campaign starts, the UK lock-out) are checked in Go
// with a message naming the rule and range, and held again by CHECKs; a
// simulated campaign is exempt from those the simulated carrier makes moot,
// and CheckRealCarrier refuses it a real trunk.
//
// Nothing here reads the clock: callers pass the instant, so the simulator's
// virtual time and tests work unchanged. Time zones are loaded from the
// system tzdata unless the binary embeds it (import _ "time/tzdata" in cmd);
// a zone that cannot be loaded makes a lead uncallable, never callable.
//
// Callbacks (callback*.go) are promises to call a lead back: the callbacks
// table and its append-only callback_events log, one state machine
// (callback_state.go), and the store functions the web layer calls
// (ScheduleCallback, Reschedule, CancelCallback, CompleteCallback,
// ListCallbacks, CallbackHistory) and the job runner calls (FallDue,
// GraceExpired, Overdue) and a campaign loop calls (DueForAgents,
// OfferCallback, DeclineCallback, DialCallback). Their jobs are queued
// through CallbackJobs, which package jobs implements, in the same
// transaction. A lead waiting for its callback has status callback and is
// never claimed by the hopper. DisposeLead (disposition_flow.go) is the lead's
// side of a saved disposition, with the typed errors the web layer maps to
// 4xx (IsDispositionInputError). Callers' requests to be called back are
// package inbound's (callback_request.go there). maintenance.go holds the
// sweeps and purges the job runner schedules. A callback dial that does not
// reach the person keeps its callback for the lead's next try (retry event).
//
// Agents work only the campaigns they are assigned to (assign.go, table
// campaign_agents); an agent's manual dial obeys the hopper's rules and a
// refusal names the rule (manual_dial.go). A number dialled by hand that is
// no lead becomes one of the campaign's own "Manual dials" list (format
// manual, one per campaign, made on first use, its leads in leads_shared),
// one lead per number under the list's row lock (ManualLead). A preview the
// agent skips goes back behind the leads due with its skip counted on the
// lead and in preview_skips, which the campaign's per-agent hourly cap
// counts (preview_skip.go, migration 0017).
//
// An inbound caller is matched to leads by number (caller_match.go):
// CallerLeads finds every lead with the caller's number in any campaign,
// most recently talked to first, with the agent of each one's last
// connected call (read from package dialer's calls table: the sticky agent,
// LastAgent); InboundLead makes a caller no lead has a lead of the
// campaign's manual list, with the name the agent took down.
// The disposition of an inbound call settles the lead attached to it
// without counting an attempt, in the lead's own campaign
// (disposition_inbound.go, DisposeInboundLead); a lead claimed for an
// outbound attempt at that moment keeps the caller's code in
// leads.inbound_disposition until the claim ends (migration 0034's trigger).
//
// Two append-only logs keep what a manager may be asked about later:
// EditDisposition logs each change to a disposition (disposition_changes),
// and the dnc table records its own adds and removes in dnc_events by
// trigger, with who, how and why taken from the writer's DNCChange (dnc.go),
// so no writer can leave a change unrecorded; DNCHistory reads it.
//
// The agent workspace's own tables (migration 0018): pause_codes
// (pause_code.go), the reasons an agent may give for a pause, per campaign
// or for all, with billable and a time limit; lead_edits (lead_edit.go), an
// append-only log of every field an agent changed on a lead, written in the
// same transaction as the change (EditLead, which also moves a lead whose
// address moved to its new calling-window group); transfer_numbers
// (transfer_number.go), the external numbers of the transfer directory.
// LeadLocalTimes (lead_local.go) is the time at the lead in each of its zones.
//
// Real carriers (migration 0022): trunks (trunk.go, trunk_store.go) are
// SIP carrier accounts — URI, digest credentials (the password in clear,
// since Pacer answers the carrier's challenge, and never serialized),
// channel and calls-per-second limits, the caller ID header; a campaign
// dials through its trunks in priority order (campaign_trunks,
// SetCampaignTrunks, CampaignTrunks), none meaning the simulated carrier,
// and a trunk in use cannot be removed (TrunkInUseError). CheckCarrier,
// run by every settings change, status change and trunk change, holds a
// campaign on a real trunk to CheckRealCarrier and an active predictive or
// power one to a recorded information message. Recordings (audio.go,
// campaign_audio) are stored converted to 8 kHz µ-law by the caller
// (campaigns does not import media); InfoMessage and HoldMusic read them.
// CheckRecording and RecordingFileName are the rules every stored
// recording follows, a queue's too (package inbound uses them).
//
// Only Import starts goroutines (its copy streams and progress reporter),
// and it waits for them before returning; a queued import waits without
// goroutines or connections of its own.
//
// Imports: the standard library, pgx, shopspring/decimal, nyaruka/phonenumbers
// and golang.org/x/text only. Never dialer, inbound, web, jobs or agents: they
// depend on campaigns, not the other way round.
package campaigns
