// Package inbound routes inbound calls: DIDs to queues, queues to agents by
// priority and wait, offers that ring one agent at a time and pass to the next
// on reject or timeout, and the blending rules that let pacing count agents
// inbound is about to take as not free.
//
// It may import agents, campaigns and media; never dialer, web or jobs (cmd
// wires inbound and dialer together through interfaces they declare).
package inbound
