package pgbatch

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
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
	// Name says whose statements these are in logs ("calls",
	// "agent_events") and names their spool files.
	Name string
	// Queue is how many statements may wait (default 4096).
	Queue int
	// MaxBatch caps the statements per round trip (default 256).
	MaxBatch int
	// RetryMin and RetryMax bound the wait between tries while the database
	// is unreachable: RetryMin first, doubling up to RetryMax (defaults
	// 200 ms and 5 s). Such tries go on for as long as the writer runs.
	RetryMin, RetryMax time.Duration
	// StopTimeout is how long Stop keeps trying to write what is queued
	// while the database is unreachable (default 10 s). What is left then
	// goes to the spool.
	StopTimeout time.Duration
	// SpoolDir is where statements Stop could not write are kept, to be
	// written by Start before anything else. Empty: they are logged as lost.
	SpoolDir string
	Logger   *slog.Logger
}

// WithDefaults fills unset fields.
func (c Config) WithDefaults() Config {
	if c.Queue == 0 {
		c.Queue = 4096
	}
	if c.MaxBatch == 0 {
		c.MaxBatch = 256
	}
	if c.RetryMin == 0 {
		c.RetryMin = 200 * time.Millisecond
	}
	if c.RetryMax == 0 {
		c.RetryMax = 5 * time.Second
	}
	if c.StopTimeout == 0 {
		c.StopTimeout = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return c
}

// Validate reports settings that cannot work.
func (c Config) Validate() error {
	switch {
	case c.Name == "":
		return errors.New("pgbatch: a writer needs a name")
	case c.Queue < 1 || c.MaxBatch < 1:
		return errors.New("pgbatch: queue and batch sizes must be positive")
	case c.RetryMin <= 0 || c.RetryMax < c.RetryMin || c.StopTimeout < 0:
		return errors.New("pgbatch: retry waits must be positive and RetryMax at least RetryMin")
	}
	return nil
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

	healthy atomic.Bool
	failed  atomic.Int64

	// ctx is the writer's own: cancel ends it StopTimeout after Stop, which
	// is when the writer gives up and spools.
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	started  bool
	stopping chan struct{}
	exited   chan struct{}
	// late holds statements whose callers were waiting on a full queue
	// when Stop came; closed is set once the writer no longer takes any.
	late   []op
	closed bool
	fullAt time.Time // last "queue full" warning
}

// New returns a stopped writer.
func New(db DB, cfg Config) *Writer {
	cfg = cfg.WithDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	w := &Writer{db: db, cfg: cfg, log: cfg.Logger.With("writer", cfg.Name), q: make(chan op, cfg.Queue),
		ctx: ctx, cancel: cancel,
		stopping: make(chan struct{}), exited: make(chan struct{})}
	w.healthy.Store(true)
	return w
}

// Start writes what an earlier run spooled, then launches the writer
// goroutine, which runs until Stop. ctx bounds the replay only (the writer
// must outlive the request that started it to write the last records of a
// shutdown); if it ends first, the rest stays spooled and Start fails.
func (w *Writer) Start(ctx context.Context) error {
	if err := w.cfg.Validate(); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.started {
		return errors.New("pgbatch: writer already started")
	}
	if err := w.replay(ctx); err != nil {
		return err
	}
	w.started = true
	go w.run()
	return nil
}

// Stop writes everything queued so far and returns when the writer goroutine
// has exited. While the database is unreachable it keeps trying for
// StopTimeout, then spools what is left. Idempotent; statements enqueued
// after Stop returns are logged and dropped.
func (w *Writer) Stop() {
	w.mu.Lock()
	if !w.started {
		w.mu.Unlock()
		w.cancel()
		return
	}
	select {
	case <-w.stopping:
	default:
		close(w.stopping)
		t := time.AfterFunc(w.cfg.StopTimeout, w.cancel)
		defer t.Stop()
	}
	w.mu.Unlock()
	<-w.exited
	w.cancel()
}

// Healthy is false from the first failure to reach the database until a
// write succeeds again: records are waiting, not written. Cheap; safe from
// any goroutine.
func (w *Writer) Healthy() bool { return w.healthy.Load() }

// Enqueue queues one statement. It blocks while the queue is full.
func (w *Writer) Enqueue(sql string, args ...any) {
	o := op{sql: sql, args: args}
	select {
	case <-w.stopping:
		w.enqueueLate(o)
		return
	default:
	}
	select {
	case w.q <- o:
	default:
		w.mu.Lock()
		if now := time.Now(); now.Sub(w.fullAt) > 10*time.Second {
			w.fullAt = now
			w.log.Warn("write queue full; callers wait for the database", "queue", cap(w.q))
		}
		w.mu.Unlock()
		select {
		case w.q <- o:
		case <-w.stopping:
			w.enqueueLate(o)
		}
	}
}

// enqueueLate keeps a statement that arrived during Stop for the writer's
// last pass.
func (w *Writer) enqueueLate(o op) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		w.log.Error("statement after stop dropped", "sql", firstLine(o.sql))
		return
	}
	w.late = append(w.late, o)
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

// Failed is how many statements the database refused (and were dropped).
func (w *Writer) Failed() int64 { return w.failed.Load() }

func (w *Writer) run() {
	defer close(w.exited)
	batch := make([]op, 0, w.cfg.MaxBatch)
	for {
		select {
		case o := <-w.q:
			batch = w.collect(append(batch[:0], o))
			if left := w.write(batch); left != nil {
				// Only after Stop: the stop deadline passed mid-write.
				w.drain(nil, left)
				return
			}
		case <-w.stopping:
			w.drain(batch, nil)
			return
		}
	}
}

// drain writes what is queued at Stop, and spools what cannot be written
// before StopTimeout (left: what a write already gave up on).
func (w *Writer) drain(batch, left []op) {
	for {
		select {
		case o := <-w.q:
			if left != nil {
				left = append(left, o)
				continue
			}
			left = w.write(w.collect(append(batch[:0], o)))
			continue
		default:
		}
		w.mu.Lock()
		late := w.late
		w.late = nil
		if len(late) == 0 {
			w.closed = true
		}
		w.mu.Unlock()
		if len(late) == 0 {
			break
		}
		if left != nil {
			left = append(left, late...)
		} else {
			left = w.write(late)
		}
	}
	// An Enqueue that raced with the last check above.
	for {
		select {
		case o := <-w.q:
			left = append(left, o)
			continue
		default:
		}
		break
	}
	w.spool(left)
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

// write sends ops and releases their flush marker. It returns the
// statements it gave up on at the stop deadline (nil when none).
func (w *Writer) write(ops []op) []op {
	var stmts []op
	var marker chan struct{}
	for _, o := range ops {
		if o.flush != nil {
			marker = o.flush
			continue
		}
		stmts = append(stmts, o)
	}
	var left []op
	if len(stmts) > 0 {
		left = w.send(w.ctx, stmts)
	}
	if marker != nil {
		close(marker)
	}
	return left
}

// send writes stmts as one batch, waiting out an outage until ctx ends (then
// it returns what it did not write). If the server refuses the batch, its
// statements are written one by one so a single bad row (a violated CHECK)
// loses only itself.
func (w *Writer) send(ctx context.Context, stmts []op) []op {
	err, gaveUp := w.try(ctx, func(ctx context.Context) error { return w.sendBatch(ctx, stmts) })
	switch {
	case gaveUp:
		return stmts
	case err == nil:
		return nil
	case len(stmts) == 1:
		w.drop(stmts[0], err)
		return nil
	}
	w.log.Warn("batch refused; writing its statements one by one", "statements", len(stmts), "err", err)
	for i, s := range stmts {
		err, gaveUp := w.try(ctx, func(ctx context.Context) error {
			_, err := w.db.Exec(ctx, s.sql, s.args...)
			return err
		})
		if gaveUp {
			return stmts[i:]
		}
		if err != nil {
			w.drop(s, err)
		}
	}
	return nil
}

// try runs fn until it succeeds or fails for a reason other than reaching
// the database, waiting RetryMin doubling to RetryMax between tries. gaveUp
// is set when ctx ended first.
func (w *Writer) try(ctx context.Context, fn func(ctx context.Context) error) (err error, gaveUp bool) {
	wait := w.cfg.RetryMin
	for {
		if ctx.Err() != nil {
			return nil, true
		}
		err = fn(ctx)
		if err == nil {
			if !w.healthy.Swap(true) {
				w.log.Info("database reachable again; held records written")
			}
			return nil, false
		}
		if !IsConnectionError(err) && ctx.Err() == nil {
			// The server answered: it can take writes, only not this one.
			w.healthy.Store(true)
			return err, false
		}
		if w.healthy.Swap(false) {
			w.log.Error("database unreachable; records are held and retried until it is back", "err", err)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
		wait = min(2*wait, w.cfg.RetryMax)
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
	w.failed.Add(1)
	w.log.Error("record refused by the database; not written", "sql", firstLine(s.sql), "err", err,
		"refused_total", w.failed.Load())
}

func firstLine(sql string) string {
	sql = strings.TrimSpace(sql)
	if i := strings.IndexByte(sql, '\n'); i >= 0 {
		return sql[:i]
	}
	return sql
}
