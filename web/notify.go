package web

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// notifyChannel carries live events between nodes.
const notifyChannel = "pacer_events"

// PostgreSQL refuses NOTIFY payloads of 8000 bytes or more.
const maxNotifyPayload = 7900

// notifyBridge carries events across processes with LISTEN/NOTIFY: events
// published here go to the local hub at once and to other nodes as a
// NOTIFY tagged with this node's name; notifications from other nodes go to
// the local hub. One goroutine holds the listening connection,
// reconnecting when it drops; Start launches it, Stop returns when it has
// exited.
type notifyBridge struct {
	pool *pgxpool.Pool
	node string
	hub  *Hub
	log  *slog.Logger

	cancel context.CancelFunc
	exited chan struct{}
	once   sync.Once
}

type envelope struct {
	Node  string          `json:"n"`
	Event json.RawMessage `json:"e"`
}

func newNotifyBridge(pool *pgxpool.Pool, node string, hub *Hub, log *slog.Logger) *notifyBridge {
	return &notifyBridge{pool: pool, node: node, hub: hub, log: log}
}

func (b *notifyBridge) Start(ctx context.Context) error {
	ctx, b.cancel = context.WithCancel(ctx)
	b.exited = make(chan struct{})
	ready := make(chan error, 1)
	go b.run(ctx, ready)
	select {
	case err := <-ready:
		return err
	case <-time.After(10 * time.Second):
		return errors.New("live events: LISTEN did not start within 10 s")
	}
}

func (b *notifyBridge) Stop() {
	b.once.Do(func() {
		if b.cancel != nil {
			b.cancel()
			<-b.exited
		}
	})
}

func (b *notifyBridge) run(ctx context.Context, ready chan<- error) {
	defer close(b.exited)
	first := true
	for ctx.Err() == nil {
		err := b.listen(ctx, func() {
			if first {
				first = false
				ready <- nil
			}
		})
		if first {
			first = false
			ready <- err
			return
		}
		if ctx.Err() != nil {
			return
		}
		b.log.Warn("live events: listening connection lost; reconnecting", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (b *notifyBridge) listen(ctx context.Context, started func()) error {
	conn, err := b.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return err
	}
	defer func() {
		_, _ = conn.Exec(context.Background(), "UNLISTEN *")
	}()
	started()
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			return err
		}
		var env envelope
		if json.Unmarshal([]byte(n.Payload), &env) != nil || env.Node == b.node {
			continue
		}
		var ev Event
		if json.Unmarshal(env.Event, &ev) != nil {
			continue
		}
		b.hub.broadcastRaw(&ev, env.Event)
	}
}

// publish sends ev to this node's clients and, through NOTIFY, to the
// other nodes'. An event too large for NOTIFY stays local.
func (b *notifyBridge) publish(ctx context.Context, ev Event) {
	raw, err := json.Marshal(ev)
	if err != nil {
		return
	}
	b.hub.broadcastRaw(&ev, raw)
	payload, _ := json.Marshal(envelope{Node: b.node, Event: raw})
	if len(payload) > maxNotifyPayload {
		return
	}
	if _, err := b.pool.Exec(ctx, "SELECT pg_notify($1, $2)", notifyChannel, string(payload)); err != nil && ctx.Err() == nil {
		b.log.Debug("live events: notify", "err", err)
	}
}

// publish sends an event to every client allowed to see it, on every node.
func (s *Server) publish(ev Event) {
	if ev.At.IsZero() {
		ev.At = s.clock.Now()
	}
	if s.bridge == nil {
		s.hub.Broadcast(ev)
		return
	}
	ctx, cancel := context.WithTimeout(s.bgContext(), 2*time.Second)
	defer cancel()
	s.bridge.publish(ctx, ev)
}

// bgContext is the server's background context (ended by Stop).
func (s *Server) bgContext() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bgCtx == nil {
		return context.Background()
	}
	return s.bgCtx
}
