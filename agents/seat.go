package agents

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Seats (DESIGN.md §7): an agent works one campaign at a time in the whole
// cluster, from one workspace (a browser tab). The seat is a row per agent in
// agent_seats (migrations/0009_seats.sql); whoever logs the agent in takes it
// under LockSeat, after logging the agent out of the seat's previous campaign,
// so no agent is ever in two campaigns, or on two calls, at once.

// ErrNoSeat is returned by GetSeat for an agent who holds none.
var ErrNoSeat = errors.New("agent holds no seat")

// Seat is where an agent works.
type Seat struct {
	Agent    ID
	Campaign int64
	// Tab names the workspace holding the seat ("" for an API client that
	// does not name one).
	Tab string
	// Node runs the campaign loop the agent is logged in to ("" unknown).
	Node string
	// WebNode serves the workspace holding the seat: its presence says
	// when that workspace is gone.
	WebNode string
	TakenAt time.Time
}

// SeatDB is what seat queries need: a pool or a transaction.
type SeatDB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// seatLockClass is the first key of the advisory lock on an agent's seat.
const seatLockClass = 0x5ea7

// LockSeat serialises changes to the agent's seat until tx ends.
func LockSeat(ctx context.Context, tx pgx.Tx, agent ID) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, seatLockClass, int32(agent)); err != nil {
		return fmt.Errorf("lock agent %d's seat: %w", agent, err)
	}
	return nil
}

// GetSeat is the agent's seat, or ErrNoSeat.
func GetSeat(ctx context.Context, db SeatDB, agent ID) (Seat, error) {
	s := Seat{Agent: agent}
	err := db.QueryRow(ctx, `SELECT campaign_id, tab, node_id, web_node, taken_at FROM agent_seats WHERE agent_id = $1`,
		int64(agent)).Scan(&s.Campaign, &s.Tab, &s.Node, &s.WebNode, &s.TakenAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Seat{}, fmt.Errorf("agent %d: %w", agent, ErrNoSeat)
	}
	if err != nil {
		return Seat{}, fmt.Errorf("agent %d's seat: %w", agent, err)
	}
	return s, nil
}

// TakeSeat gives the agent the seat in campaign from tab.
func TakeSeat(ctx context.Context, db SeatDB, s Seat) error {
	if s.Campaign <= 0 {
		return fmt.Errorf("agent %d's seat needs a campaign", s.Agent)
	}
	if len(s.Tab) > 64 {
		return fmt.Errorf("agent %d's workspace id is longer than 64 characters", s.Agent)
	}
	_, err := db.Exec(ctx, `INSERT INTO agent_seats (agent_id, campaign_id, tab, node_id, web_node, taken_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (agent_id) DO UPDATE SET campaign_id = EXCLUDED.campaign_id, tab = EXCLUDED.tab,
			node_id = EXCLUDED.node_id, web_node = EXCLUDED.web_node, taken_at = EXCLUDED.taken_at`,
		int64(s.Agent), s.Campaign, s.Tab, s.Node, s.WebNode, s.TakenAt)
	if err != nil {
		return fmt.Errorf("take agent %d's seat: %w", s.Agent, err)
	}
	return nil
}

// LeaveSeat frees the agent's seat in campaign (logout); a seat since taken
// in another campaign is left alone.
func LeaveSeat(ctx context.Context, db SeatDB, agent ID, campaign int64) error {
	if _, err := db.Exec(ctx, `DELETE FROM agent_seats WHERE agent_id = $1 AND campaign_id = $2`, int64(agent), campaign); err != nil {
		return fmt.Errorf("leave agent %d's seat: %w", agent, err)
	}
	return nil
}
