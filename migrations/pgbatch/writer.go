package pgbatch

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DB is what the writer needs: a pool or a connection.
type DB interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Config tunes a Writer.
type Config struct {
	// Name says whose statements these are in logs ("calls", "agent_events").
	Name string
	// Queue is how many statements may wait (default 4096).
	Queue int
	// MaxBatch caps the statements per round trip (default 256).
	MaxBatch int
	// Retries is how often a batch that failed for a connection reason is
	// sent again before falling back to one by one (default 3, 200 ms apart
	// and doubling).
	Retries int
	Logger  *slog.Logger
}

// WithDefaults fills unset fields.
func (c Config) WithDefaults() Config {
	if c.Queue == 0 {
		c.Queue = 4096
	}
	if c.MaxBatch == 0 {
		c.MaxBatch = 256
	}
	if c.Retries == 0 {
		c.Retries = 3
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return c
}

type op struct {
	sql   string
	args  []any
	flush chan struct{} // a flush marker when set
}

// Writer is a bounded write-behind queue with one writer goroutine.
type Writer struct {
	db  DB
	cfg Config
	log *slog.Logger
	q   chan op

	mu       sync.Mutex
	started  bool
	stopping chan struct{}
	exited   chan struct{}
	// Failed counts statements dropped after every retry.
	failed int64
	fullAt time.Time // last "queue full" warning
}

// New returns a stopped writer.
func New(db DB, cfg Config) *Writer {
	cfg = cfg.WithDefaults()
	return &Writer{db: db, cfg: cfg, log: cfg.Logger.With("writer", cfg.Name), q: make(chan op, cfg.Queue),
		stopping: make(chan struct{}), exited: make(chan struct{})}
}

// Start launches the writer goroutine. It runs until Stop; ctx only bounds
// the start itself (the writer must outlive the request that started it to
// write the last records of a shutdown).
func (w *Writer) Start(context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.started {
		return errors.New("pgbatch: writer already started")
	}
	w.started = true
	go w.run()
	return nil
}

// Stop writes everything queued so far and returns when the writer goroutine
// has exited. Idempotent; statements enqueued after Stop are dropped.
func (w *Writer) Stop() {
	w.mu.Lock()
	if !w.started {
		w.mu.Unlock()
		return
	}
	select {
	case <-w.stopping:
	default:
		close(w.stopping)
	}
	w.mu.Unlock()
	<-w.exited
}

// Enqueue queues one statement. It blocks while the queue is full.
func (w *Writer) Enqueue(sql string, args ...any) {
	select {
	case <-w.stopping:
		w.log.Error("statement after stop dropped", "sql", firstLine(sql))
		return
	default:
	}
	select {
	case w.q <- op{sql: sql, args: args}:
	default:
		w.mu.Lock()
		if now := time.Now(); now.Sub(w.fullAt) > 10*time.Second {
			w.fullAt = now
			w.log.Warn("write queue full; callers wait for the database", "queue", cap(w.q))
		}
		w.mu.Unlock()
		select {
		case w.q <- op{sql: sql, args: args}:
		case <-w.stopping:
		}
	}
}

// Flush waits until everything enqueued before it is written (or ctx ends).
func (w *Writer) Flush(ctx context.Context) error {
	done := make(chan struct{})
	select {
	case w.q <- op{flush: done}:
	case <-w.exited:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-w.exited:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Failed is how many statements were dropped after every retry.
func (w *Writer) Failed() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.failed
}

func (w *Writer) run() {
	defer close(w.exited)
	// The writer's own context: statements queued before Stop are written
	// even though whoever started the store is gone.
	ctx := context.Background()
	batch := make([]op, 0, w.cfg.MaxBatch)
	for {
		select {
		case o := <-w.q:
			batch = w.collect(append(batch[:0], o))
			w.write(ctx, batch)
		case <-w.stopping:
			for {
				select {
				case o := <-w.q:
					batch = w.collect(append(batch[:0], o))
					w.write(ctx, batch)
				default:
					return
				}
			}
		}
	}
}

// collect adds whatever else is queued, up to MaxBatch, stopping at a flush
// marker so the marker is released right after what precedes it is written.
func (w *Writer) collect(batch []op) []op {
	for len(batch) < w.cfg.MaxBatch && batch[len(batch)-1].flush == nil {
		select {
		case o := <-w.q:
			batch = append(batch, o)
		default:
			return batch
		}
	}
	return batch
}

func (w *Writer) write(ctx context.Context, ops []op) {
	var stmts []op
	var marker chan struct{}
	for _, o := range ops {
		if o.flush != nil {
			marker = o.flush
			continue
		}
		stmts = append(stmts, o)
	}
	if len(stmts) > 0 {
		w.send(ctx, stmts)
	}
	if marker != nil {
		close(marker)
	}
}

func (w *Writer) send(ctx context.Context, stmts []op) {
	wait := 200 * time.Millisecond
	var err error
	for attempt := 0; attempt <= w.cfg.Retries; attempt++ {
		if err = w.sendBatch(ctx, stmts); err == nil {
			return
		}
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) {
			break // the server refused a statement; resending the same batch will not help
		}
		if attempt < w.cfg.Retries {
			time.Sleep(wait)
			wait *= 2
		}
	}
	if len(stmts) == 1 {
		w.drop(stmts[0], err)
		return
	}
	w.log.Warn("batch failed; writing its statements one by one", "statements", len(stmts), "err", err)
	for _, s := range stmts {
		if _, err := w.db.Exec(ctx, s.sql, s.args...); err != nil {
			w.drop(s, err)
		}
	}
}

func (w *Writer) sendBatch(ctx context.Context, stmts []op) error {
	if len(stmts) == 1 {
		_, err := w.db.Exec(ctx, stmts[0].sql, stmts[0].args...)
		return err
	}
	b := &pgx.Batch{}
	for _, s := range stmts {
		b.Queue(s.sql, s.args...)
	}
	return w.db.SendBatch(ctx, b).Close()
}

func (w *Writer) drop(s op, err error) {
	w.mu.Lock()
	w.failed++
	w.mu.Unlock()
	w.log.Error("record not written", "sql", firstLine(s.sql), "err", err)
}

func firstLine(sql string) string {
	sql = strings.TrimSpace(sql)
	if i := strings.IndexByte(sql, '\n'); i >= 0 {
		return sql[:i]
	}
	return sql
}
