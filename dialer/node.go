package dialer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/pacer-dialer/pacer/campaigns"
)

// Node identity (DESIGN.md §7). Every `pacer serve` process registers a node
// name in the nodes table with a fresh incarnation, its HTTP address and a
// heartbeat judged by the database's clock. A name held by a live node is
// refused before anything changes; a name whose previous life died is taken
// only after that life's open work has been recovered (recovery.go). While it
// runs, the node heartbeats; a node that finds it has been declared dead
// (another node recovered it after it stopped heartbeating) must stop at once:
// its calls have been closed and its leases given to others.

// ErrNodeAlive is returned by RegisterNode when a live node holds the name.
var ErrNodeAlive = errors.New("node id is held by a live node")

// ErrNodeLost is reported by a node that finds it was declared dead.
var ErrNodeLost = errors.New("this node was declared dead and recovered by another node")

// NodeConfig configures a node's registration and heartbeat.
type NodeConfig struct {
	// ID is the node's name; unique among live nodes.
	ID string
	// HTTPAddr is where other nodes reach this node's API.
	HTTPAddr string
	// SIPAddr is where this node's SIP user agent listens (host:port; ""
	// with SIP off): another node sends callers it cannot serve here.
	SIPAddr string
	// TTL is how long a heartbeat keeps the node alive, and a campaign lease
	// its owner (default 15 s). A node silent for longer is recovered by
	// another node, which then takes its campaigns.
	TTL time.Duration
	// Heartbeat is how often the node heartbeats (default TTL/5).
	Heartbeat time.Duration
	Logger    *slog.Logger
}

// WithDefaults fills unset fields.
func (c NodeConfig) WithDefaults() NodeConfig {
	if c.TTL == 0 {
		c.TTL = 15 * time.Second
	}
	if c.Heartbeat == 0 {
		c.Heartbeat = c.TTL / 5
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return c
}

// Validate checks the configuration.
func (c NodeConfig) Validate() error {
	switch {
	case c.ID == "":
		return errors.New("node id must not be empty")
	case len(c.ID) > 128:
		return errors.New("node id must be at most 128 characters")
	case c.TTL < time.Second:
		return fmt.Errorf("lease TTL %s is below 1s", c.TTL)
	case c.Heartbeat <= 0 || c.Heartbeat > c.TTL/2:
		return fmt.Errorf("heartbeat every %s must be positive and at most half the lease TTL %s", c.Heartbeat, c.TTL)
	}
	return nil
}

// NodeDB is what the node registry needs: a pool satisfies it.
type NodeDB interface {
	campaigns.TxDB
}

const (
	selectNodeSQL = `
SELECT incarnation, http_addr, pid, heartbeat_at, expires_at > now(), stopped_at IS NOT NULL, recovered_at IS NOT NULL,
	extract(epoch FROM now() - heartbeat_at)
FROM nodes WHERE id = $1 FOR UPDATE`

	upsertNodeSQL = `
INSERT INTO nodes (id, incarnation, http_addr, pid, started_at, heartbeat_at, expires_at, sip_addr)
VALUES ($1, $2, $3, $4, now(), now(), now() + make_interval(secs => $5), $6)
ON CONFLICT (id) DO UPDATE SET incarnation = EXCLUDED.incarnation, http_addr = EXCLUDED.http_addr, sip_addr = EXCLUDED.sip_addr,
	pid = EXCLUDED.pid, started_at = now(), heartbeat_at = now(), expires_at = EXCLUDED.expires_at,
	stopped_at = NULL, recovered_at = NULL, draining = false`

	heartbeatSQL = `
UPDATE nodes SET heartbeat_at = now(), expires_at = now() + make_interval(secs => $3)
WHERE id = $1 AND incarnation = $2 AND recovered_at IS NULL AND stopped_at IS NULL`

	stopNodeSQL = `
UPDATE nodes SET stopped_at = now(), expires_at = greatest(now(), heartbeat_at + interval '1 microsecond')
WHERE id = $1 AND incarnation = $2 AND recovered_at IS NULL`

	drainNodeSQL = `UPDATE nodes SET draining = true WHERE id = $1 AND incarnation = $2`

	// A node is dead when its heartbeat expired and it neither stopped
	// cleanly nor was recovered yet.
	deadNodesSQL = `
SELECT id FROM nodes WHERE stopped_at IS NULL AND recovered_at IS NULL AND expires_at < now() ORDER BY id`

	liveNodesSQL = `
SELECT count(*) FROM nodes WHERE stopped_at IS NULL AND recovered_at IS NULL AND expires_at > now() AND NOT draining`

	nodeAddrSQL = `
SELECT http_addr FROM nodes WHERE id = $1 AND stopped_at IS NULL AND recovered_at IS NULL AND expires_at > now()`
)

// Node is this process's registration. Start launches its heartbeat
// goroutine; Stop ends it and, when the node's work is done, marks it
// stopped so no one recovers it. Lost is closed if the node finds it was
// declared dead.
type Node struct {
	cfg         NodeConfig
	db          NodeDB
	clock       Clock
	log         *slog.Logger
	incarnation uuid.UUID

	mu       sync.Mutex
	started  bool
	stopOnce sync.Once
	stopCh   chan struct{}
	exited   chan struct{}
	lost     chan struct{}
	lostOnce sync.Once

	// upSince is when heartbeats last started succeeding without a gap
	// longer than the TTL (zero while failing). Only a node that has been
	// up for a whole TTL judges others dead, so after a database outage
	// every node has had the time to heartbeat again before anyone is
	// declared dead.
	hbMu     sync.Mutex
	upSince  time.Time
	lastBeat time.Time
	healthy  bool
}

// RegisterNode claims the node name for this process. It fails with
// ErrNodeAlive, changing nothing, when a live node holds the name. When the
// name's previous life died without stopping, its open work is recovered
// (RecoverNode) in the same transaction before the name is taken.
func RegisterNode(ctx context.Context, db NodeDB, clock Clock, cfg NodeConfig) (*Node, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg, db: db, clock: clock, log: cfg.Logger, incarnation: uuid.New(),
		stopCh: make(chan struct{}), exited: make(chan struct{}), lost: make(chan struct{})}
	var rec Recovered
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		var (
			inc                       uuid.UUID
			addr                      string
			pid                       int
			beat                      time.Time
			alive, stopped, recovered bool
			age                       float64
		)
		err := tx.QueryRow(ctx, selectNodeSQL, cfg.ID).Scan(&inc, &addr, &pid, &beat, &alive, &stopped, &recovered, &age)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return fmt.Errorf("look up node %q: %w", cfg.ID, err)
		case alive && !stopped && !recovered:
			where := addr
			if where == "" {
				where = "no HTTP address"
			}
			return fmt.Errorf("%w: %q (pid %d, %s) heartbeat %.1fs ago; stop it or choose another --node-id",
				ErrNodeAlive, cfg.ID, pid, where, age)
		case !stopped && !recovered:
			// The name's previous life died: close what it left open first.
			if rec, err = recoverNodeTx(ctx, tx, clock, cfg.ID); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, upsertNodeSQL, cfg.ID, n.incarnation, cfg.HTTPAddr, os.Getpid(), cfg.TTL.Seconds(), cfg.SIPAddr)
		if err != nil {
			return fmt.Errorf("register node %q: %w", cfg.ID, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !rec.Empty() {
		n.log.Warn("recovered what this node's previous life left open", rec.attrs()...)
	}
	now := time.Now()
	n.upSince, n.lastBeat, n.healthy = now, now, true
	return n, nil
}

// ID is the node's name.
func (n *Node) ID() string { return n.cfg.ID }

// Lost is closed when the node finds it was declared dead.
func (n *Node) Lost() <-chan struct{} { return n.lost }

// Start launches the heartbeat goroutine, which also recovers dead nodes.
func (n *Node) Start(context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.started {
		return errors.New("node already started")
	}
	n.started = true
	go n.run()
	return nil
}

// Stop ends the heartbeat goroutine. Idempotent.
func (n *Node) Stop() {
	n.mu.Lock()
	started := n.started
	n.mu.Unlock()
	n.stopOnce.Do(func() { close(n.stopCh) })
	if started {
		<-n.exited
	}
}

// MarkStopped records a clean exit: nothing of this node's is left open,
// so nobody recovers it and its name is free at once. Call after every
// campaign has stopped and released its lease. A lead still claimed by this
// node then is one whose attempt could not be written (the database went
// away during the stop): it counts a failed attempt here, as recovery would
// count it, so a stopped node never leaves a lead to be dialled again early.
func (n *Node) MarkStopped(ctx context.Context) error {
	err := pgx.BeginFunc(ctx, n.db, func(tx pgx.Tx) error {
		left, err := settleLeftLeads(ctx, tx, n.cfg.ID, n.clock.Now())
		if err != nil {
			return err
		}
		if left > 0 {
			n.log.Warn("leads this node still had claimed at its stop count a failed attempt", "leads", left)
		}
		_, err = tx.Exec(ctx, stopNodeSQL, n.cfg.ID, n.incarnation)
		return err
	})
	if err != nil {
		return fmt.Errorf("mark node %q stopped: %w", n.cfg.ID, err)
	}
	return nil
}

// MarkDraining tells other nodes this one is shutting down: it no longer
// counts in the campaigns' fair share, so others take its campaigns.
func (n *Node) MarkDraining(ctx context.Context) error {
	if _, err := n.db.Exec(ctx, drainNodeSQL, n.cfg.ID, n.incarnation); err != nil {
		return fmt.Errorf("mark node %q draining: %w", n.cfg.ID, err)
	}
	return nil
}

func (n *Node) run() {
	defer close(n.exited)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-n.stopCh:
			cancel()
		case <-n.exited:
		}
	}()
	t := time.NewTicker(n.cfg.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-n.stopCh:
			return
		case <-t.C:
		}
		if err := n.beat(ctx); err != nil {
			if errors.Is(err, ErrNodeLost) {
				n.log.Error("this node was declared dead by another node; stopping", "node", n.cfg.ID)
				n.lostOnce.Do(func() { close(n.lost) })
				return
			}
			if ctx.Err() == nil {
				n.log.Warn("node heartbeat failed", "err", err)
			}
			continue
		}
		if n.judges() {
			n.recoverDead(ctx)
			if k, err := DisposeOrphans(ctx, n.db, n.clock, nil); err != nil {
				n.log.Warn("automatic dispositions of dead nodes' calls", "err", err)
			} else if k > 0 {
				n.log.Info("gave dead nodes' connected calls their automatic disposition", "calls", k)
			}
		}
	}
}

// beat renews the node's heartbeat; ErrNodeLost if the row is no longer
// this incarnation's.
func (n *Node) beat(ctx context.Context) error {
	bctx, cancel := context.WithTimeout(ctx, n.cfg.Heartbeat)
	defer cancel()
	tag, err := n.db.Exec(bctx, heartbeatSQL, n.cfg.ID, n.incarnation, n.cfg.TTL.Seconds())
	n.hbMu.Lock()
	defer n.hbMu.Unlock()
	now := time.Now()
	if err != nil {
		n.healthy = false
		return err
	}
	if tag.RowsAffected() == 0 {
		n.healthy = false
		return ErrNodeLost
	}
	if !n.healthy || now.Sub(n.lastBeat) > n.cfg.TTL {
		n.upSince = now
	}
	n.healthy, n.lastBeat = true, now
	return nil
}

// judges reports whether this node has been up for a whole TTL, the
// condition for declaring others dead.
func (n *Node) judges() bool {
	n.hbMu.Lock()
	defer n.hbMu.Unlock()
	return n.healthy && time.Since(n.upSince) >= n.cfg.TTL
}

// recoverDead recovers every node whose heartbeat expired.
func (n *Node) recoverDead(ctx context.Context) {
	rows, err := n.db.Query(ctx, deadNodesSQL)
	if err != nil {
		n.log.Warn("look for dead nodes", "err", err)
		return
	}
	dead, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		n.log.Warn("look for dead nodes", "err", err)
		return
	}
	for _, id := range dead {
		rec, err := RecoverNode(ctx, n.db, n.clock, id)
		if err != nil {
			n.log.Error("recover dead node", "dead_node", id, "err", err)
			continue
		}
		if rec.Node == "" {
			continue // another node got there first
		}
		n.log.Warn("recovered a dead node: its calls are closed and its campaigns free", rec.attrs()...)
	}
}

// LiveNodes counts the nodes alive and not draining.
func LiveNodes(ctx context.Context, db campaigns.DB) (int, error) {
	var c int
	if err := db.QueryRow(ctx, liveNodesSQL).Scan(&c); err != nil {
		return 0, fmt.Errorf("count live nodes: %w", err)
	}
	return c, nil
}

// NodeAddr is the HTTP address of a live node, or campaigns.ErrNotFound.
func NodeAddr(ctx context.Context, db campaigns.DB, id string) (string, error) {
	var addr string
	err := db.QueryRow(ctx, nodeAddrSQL, id).Scan(&addr)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("node %q is not alive: %w", id, campaigns.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("address of node %q: %w", id, err)
	}
	return addr, nil
}

// NodeInfo is a live node and where its API listens.
type NodeInfo struct {
	ID       string
	HTTPAddr string
}

// AliveNodes lists the nodes alive now, draining or not, by id.
func AliveNodes(ctx context.Context, db campaigns.DB) ([]NodeInfo, error) {
	rows, err := db.Query(ctx, `SELECT id, http_addr FROM nodes
		WHERE stopped_at IS NULL AND recovered_at IS NULL AND expires_at > now() ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("live nodes: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[NodeInfo])
}
