// Package web is Pacer's HTTP face, on Fiber v2: health and readiness probes
// now, and later the agent workspace, manager console, supervisor wallboard,
// JSON API and live-event WebSocket.
//
// It owns one Fiber app and its listener. Start binds the listener (so a port
// already in use is reported at once) and serves in one goroutine; Stop drains
// in-flight requests and returns when that goroutine has exited.
//
// web talks to the rest of Pacer only through interfaces and functions it
// declares itself (readiness checks, engine controls); it never imports
// dialer, inbound or jobs. Fiber's context is not a context.Context and its
// request strings die with the handler: copy what outlives a request.
package web
