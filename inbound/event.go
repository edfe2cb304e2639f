package inbound

import (
	"fmt"
	"time"

	"github.com/pacer-dialer/pacer/agents"
)

// QueueID identifies a queue.
type QueueID int64

// CallKey identifies one inbound call for its whole stay, across queues it
// overflows to: durable and unique across nodes and restarts.
type CallKey int64

// EventKind is one thing that happens to a call in a queue. Queue statistics
// are computed from these events alone (stats.go), never from counters.
type EventKind uint8

const (
	// EvEnter: the call joined the queue (first arrival, or an overflow
	// from another queue, which keeps its first entry time).
	EvEnter EventKind = iota + 1
	// EvOffer: the call rings an agent (Agent).
	EvOffer
	// EvConnect: the agent accepted; the caller is talking to them. The
	// call's wait in this queue ends.
	EvConnect
	// EvReject: the agent refused the offer; the call waits on.
	EvReject
	// EvTimeout: the agent let the offer ring out; the call waits on.
	EvTimeout
	// EvAbandon: the caller hung up while waiting (or while an offer rang).
	EvAbandon
	// EvOverflow: the call left this queue for another (Detail names it),
	// or for the queue's fallback (a callback, a message and hang up).
	EvOverflow
	// EvExit: the call left the queue for any other reason than connect,
	// abandon or overflow (closing time, no agents, maximum wait or depth
	// with a hang-up action); Detail says why.
	EvExit
	numEventKinds
)

var eventKindNames = [numEventKinds]string{"", "enter", "offer", "connect", "reject", "timeout", "abandon",
	"overflow", "exit"}

func (k EventKind) String() string {
	if k > 0 && k < numEventKinds {
		return eventKindNames[k]
	}
	return fmt.Sprintf("EventKind(%d)", uint8(k))
}

// ParseEventKind reads an event kind's name.
func ParseEventKind(s string) (EventKind, error) {
	for i := EvEnter; i < numEventKinds; i++ {
		if eventKindNames[i] == s {
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown queue event %q", s)
}

// Event is one entry of the append-only queue event log.
type Event struct {
	Seq   int64 // assigned by the store, increasing; 0 before it is stored
	Queue QueueID
	Call  CallKey
	Kind  EventKind
	At    time.Time
	// Entered is the call's first entry time in any queue: its place. The
	// wait of a connect or an abandon is At − Entered.
	Entered time.Time
	Agent   agents.ID // set on offer, connect, reject and timeout
	From    string    // the caller's number (E.164 when known)
	DID     string    // the number the caller dialled
	Detail  string    // overflow target or exit reason
	// Node is the node that logged the event (the one holding the caller's
	// leg); set by LogWriter.
	Node string
}

// Wait is how long the call had waited when the event happened.
func (e Event) Wait() time.Duration { return e.At.Sub(e.Entered) }
