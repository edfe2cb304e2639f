// Package web is Pacer's HTTP face, on Fiber v2: the agent workspace
// (/agent: call, lead panel with edits, transfer directory, disposition,
// callbacks, history; its script is split by concern into agent_*.js
// modules over agent_core.js), supervisor wallboard (/supervise, with
// missed callbacks, and the inbound queues' figures and blending reserve:
// api_queue_board.go), manager console (/manage: campaigns, a campaign's
// settings with its SIP trunks and recordings, lists, dispositions and
// agents, DNC, users, pause codes, transfer numbers, SIP trunks and inbound
// queues with their numbers and members (api_queues.go);
// pages_console.go), reports (/reports) and admins' jobs page
// (/admin/jobs) as html/template pages with small vanilla JavaScript modules (embedded,
// no build step); the JSON API under /api/v1 (OpenAPI at
// /api/v1/openapi.json); live events on a WebSocket (/api/v1/events);
// Prometheus metrics (/metrics, or on their own address: metrics_serve.go);
// health and readiness probes.
//
// In a cluster (cluster.go) each engine call about a campaign goes to the
// node that runs it for the agent, over an internal endpoint authenticated by
// the cluster_secret table, which web owns too.
//
// It owns the users, user_sessions and call_actions tables
// (migrations/0003_users.sql): users with bcrypt password hashes and roles
// (agent, supervisor, manager, admin); server-side sessions named by a
// random cookie (HttpOnly, SameSite=Lax, Secure over TLS) of which only the
// SHA-256 is stored, each with its CSRF token; and the log of what agents did
// to their calls (hold, mute, transfer, keypad, notes). A user's id is their
// agent ID in the engine; ids start above 1,000,000 because simulated agents
// use 1..N. It owns login_failures too (migrations/0015_login_throttle.sql):
// failed logins per (username, client address), shared by every node, which
// throttle guessing with growing delays and never lock a user out
// (ratelimit.go); the client address comes from X-Forwarded-For only when
// the peer is a trusted proxy (client_addr.go). It owns user_events and
// users.last_login_at (migrations/0020_console.sql): who created, disabled,
// enabled or reset the password of a user, and each user's last login.
// The wallboard's tables are its too (migrations/0019_wallboard.sql): supervisor_actions audits every
// force pause and force logout (api_supervise.go), and stats_samples holds
// each running campaign's chart samples, one per 10 s for two days
// (stats_history.go). Its alerts are decided in one place (alerts.go).
//
// Errors answer as {"error", "request_id"}; a database error is put in
// words and its SQLSTATE and constraint go only to the log, under the same
// request id (errors.go). JSON bodies are decoded strictly (body.go).
//
// Goroutines: Start binds the listener and serves in one goroutine; it also
// starts the LISTEN/NOTIFY bridge (one connection that carries live events
// between nodes) and the publisher (follows this node's campaign loops,
// forwarding agent transitions at once and campaign figures every second,
// one goroutine per followed campaign); each WebSocket client has a handler
// goroutine and a reader (at most Config.SocketsPerUser per user); with a
// metrics address, one more goroutine serves it. Stop drains requests, closes every socket and
// returns when all of them have exited. Lead imports started by an upload
// run in the background and are waited for by Stop too.
//
// web talks to the engine only through the Engine interface it declares
// (cmd/pacer implements it over the campaign manager), in typed terms:
// campaigns.ID, agents.ID, campaigns.LeadID, its own CallID (the dialer's
// call id), agents.State and its AgentAction enum, whose JSON (numbers,
// "READY", "pause") is what the browser and other nodes read; the agent's call
// controls (hold, mute, keypad, transfer, conference, leave) are the
// engine's and its trunk's (Engine.Control), and whether a call is held,
// muted or a conference comes back in the AgentView, never kept here.
// Workspace sockets are reported to an agents.Presence, which decides when
// an agent has left. It reaches the job queue through Jobs and
// campaigns.CallbackJobs; it never imports dialer or jobs. It reads and
// writes queues, their numbers and members through package inbound's
// QueueStore and computes queue figures from the queue event log through
// its EventStore (the same inbound.Compute as the simulator); the live
// router (callers waiting, members READY, the blending reserve, reloading
// changed queues) it reaches only through the Inbound interface it declares
// (inbound.go), which cmd/pacer implements; the callers waiting in an
// agent's queues and taking one (the queue panel) go through the Engine, to
// the node running the agent's campaign, whose router holds the callers its
// engine can bridge to them. Dispositions go through the engine (one transaction with the
// call, lead and callback); callbacks are read and rescheduled or cancelled
// through package campaigns' store functions, which do not check who asks:
// the handlers do (an agent the callbacks they set, and may dial an anyone
// callback of a campaign they are assigned to). An agent joins only a
// campaign they are assigned to (api_assign.go). It reads campaigns (settings, leads, lists, DNC)
// through package campaigns' store functions. Fiber's context is not a
// context.Context and its request strings die with the handler: copy what
// outlives a request.
//
// Reports (/reports and /api/v1/reports/{name}, api_reports.go) come from
// package web/reports (its SQL, one reader across the owners' tables); a report streams to its client through a pipe written by
// one goroutine per download (counted in Stop's wait), which ends when the
// report is done, the client goes, the server stops or reportTimeout passes.
package web
