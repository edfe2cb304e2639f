package inbound

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// LogWriter is the router's EventLog on the database: Append never blocks;
// a goroutine writes what has queued up in batches (EventStore.Append), and
// retries a batch the database refused until it is written, so no event is
// lost to an outage. Stop writes what is left (for as long as ctx allows).
type LogWriter struct {
	store *EventStore
	node  string
	log   *slog.Logger

	mu      sync.Mutex
	pending []Event
	wake    chan struct{}
	done    chan struct{}
	stop    chan struct{}
	once    sync.Once
}

// NewLogWriter starts a writer on store; it stamps each event with node.
func NewLogWriter(store *EventStore, node string, log *slog.Logger) *LogWriter {
	w := &LogWriter{store: store, node: node, log: log, wake: make(chan struct{}, 1), done: make(chan struct{}),
		stop: make(chan struct{})}
	go w.run()
	return w
}

// Append queues one event.
func (w *LogWriter) Append(ev Event) {
	ev.Node = w.node
	w.mu.Lock()
	w.pending = append(w.pending, ev)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *LogWriter) run() {
	defer close(w.done)
	backoff := 100 * time.Millisecond
	for {
		w.mu.Lock()
		batch := w.pending
		w.pending = nil
		w.mu.Unlock()
		if len(batch) > 0 {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err := w.store.Append(ctx, batch)
			cancel()
			if err != nil {
				w.log.Error("write queue events; will retry", "events", len(batch), "err", err)
				w.mu.Lock()
				w.pending = append(batch, w.pending...)
				w.mu.Unlock()
				select {
				case <-time.After(backoff):
				case <-w.stop:
					return
				}
				backoff = min(2*backoff, 5*time.Second)
				continue
			}
			backoff = 100 * time.Millisecond
		}
		select {
		case <-w.wake:
		case <-w.stop:
			w.mu.Lock()
			left := len(w.pending)
			w.mu.Unlock()
			if left == 0 {
				return
			}
		}
	}
}

// Pending counts events not yet written.
func (w *LogWriter) Pending() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.pending)
}

// Stop writes what is queued and stops; it returns when done or when ctx
// ends (what is left then is reported in the log).
func (w *LogWriter) Stop(ctx context.Context) {
	w.once.Do(func() {
		select {
		case w.wake <- struct{}{}:
		default:
		}
		// Let the writer drain while the context allows.
		for w.Pending() > 0 {
			select {
			case <-ctx.Done():
				w.log.Error("queue events not written at stop", "events", w.Pending())
				close(w.stop)
				<-w.done
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
		close(w.stop)
		<-w.done
	})
}
