// Package inbound routes inbound calls: DIDs to queues, queues to agents by
// priority and wait, offers that ring one agent at a time and pass to the
// next on reject or timeout, and the blending rules that let pacing count
// agents inbound is about to take as not free.
//
// What it owns:
//   - The router (router.go, router_config.go, router_take.go): the callers
//     waiting in every queue with one sort key each (first entry minus
//     priority × aging step, never later than before, so priority ages and
//     a caller's place never gets worse), the choice of agent by the
//     queue's method, the fallbacks (after hours, maximum wait and depth,
//     closing time, no agents or every member passed), sticky agents,
//     widening to lower levels, ring-all, taking a caller from the panel,
//     and Load: the reserve of free agents pacing must leave to inbound
//     (reserve.go's model fed with the live arrival rate and handle time).
//     It holds no goroutine; one mutex guards it, and it calls its
//     Notifier, CallerLine and EventLog only after releasing it. The
//     engines own the agents: the router asks them (Notifier.Poke) and they
//     claim, report accept or pass, and tell it every agent transition.
//   - The tables (migrations/0026_inbound.sql): queues, queue_dids,
//     queue_members (QueueStore, queue_validate.go) and the append-only
//     queue_events (EventStore; LogWriter writes the router's events behind,
//     in batches, retrying through outages).
//   - Queue recordings (queue_audio.go, table queue_audio): the welcome,
//     comfort message and hold music of each queue, stored as campaigns'
//     are (campaigns.CheckRecording), and Sounds (queue_sounds.go), the
//     node's decoded copy that SIP callers play (WaitSounds, by number),
//     refreshed from the table by whoever reloads the queues.
//   - The figures: stats.go is the only definition of the queue figures
//     (offered, answered, abandoned, both service levels, ASA, waiting),
//     computed from the event log alone, per interval and over a span.
//   - Callback requests (callback_request.go, callback_queue.go,
//     router_callback.go; table callback_requests and its append-only
//     callback_request_events): their state machine as a (status, event)
//     table, the manual requests' automatic assignment, and queue requests
//     that keep a caller's place in the router, are claimed for one dial at
//     a time, and are settled from their call's outcome (retried a bounded
//     number of times, expired, adopted when their node dies).
//   - The models: Erlang C (erlang.go), the live reserve (reserve.go) and
//     the idealised blending bound the simulator reports (ideal.go).
//
// It may import agents, campaigns and media; never dialer, web or jobs (cmd
// wires inbound and dialer together through dialer/blend).
package inbound
