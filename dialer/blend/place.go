package blend

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pacer-dialer/pacer/agents"
)

// Where a new caller waits in a cluster (DESIGN.md §7). Each node's router
// offers its callers to the agents of the campaigns that node runs, so a
// caller who reaches a node without any of their queue's agents (a SIP load
// balancer spreads callers over the nodes without knowing queues) is sent to
// a node with some before they are queued: a SIP caller by a 302, a
// simulated one by the receiving node's internal call to the chosen one.
//
// The chosen node is the one holding the seat of the caller's sticky agent
// (the lead's last agent) when that agent is a member of the queue; else a
// live node drawn in proportion to the queue's members logged in there
// (holding a seat on it), so each node's callers of a queue per agent of it
// are alike and no node's share of them outruns its agents. A node where no
// member is logged in anywhere keeps the caller: its queue's no-agents
// action applies as on one node. A caller who was already sent on once is
// never sent again (the caller of Place passes placed), so two nodes whose
// members log in and out at that moment cannot pass a caller back and forth.

// Placer chooses the node a new caller waits on. Safe for concurrent use.
type Placer struct {
	pool *pgxpool.Pool
	node string

	mu  sync.Mutex
	rng *rand.Rand
}

// NewPlacer places the callers reaching node.
func NewPlacer(pool *pgxpool.Pool, node string) *Placer {
	return &Placer{pool: pool, node: node, rng: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}
}

// Placement is a live node a caller is sent to.
type Placement struct {
	Node     string
	HTTPAddr string
	// SIPAddr is where the node takes SIP callers ("" with SIP off there).
	SIPAddr string
}

// nodeMembers is one live node's logged-in members of a queue.
type nodeMembers struct {
	Placement
	members int
	sticky  bool // the caller's last agent is among them
}

// placeSQL counts, per live node not draining, the members of the queue
// answering $1 who hold a seat on it, and whether $2 is one of them.
const placeSQL = `
SELECT n.id, n.http_addr, n.sip_addr, count(*), bool_or(m.agent_id = $2)
FROM queue_dids d
JOIN queue_members m ON m.queue_id = d.queue_id
JOIN agent_seats s ON s.agent_id = m.agent_id
JOIN nodes n ON n.id = s.node_id
WHERE d.number = $1 AND n.stopped_at IS NULL AND n.recovered_at IS NULL AND n.expires_at > now() AND NOT n.draining
GROUP BY n.id, n.http_addr, n.sip_addr
ORDER BY n.id`

// Place reports the node a caller dialling did is to wait on, when it is
// not this one; lastAgent is their sticky agent (0: none). sip restricts
// the choice to nodes taking SIP callers. An unknown number stays here
// (this node refuses it as it would alone).
func (p *Placer) Place(ctx context.Context, did string, lastAgent agents.ID, sip bool) (Placement, bool, error) {
	rows, err := p.pool.Query(ctx, placeSQL, did, int64(lastAgent))
	if err != nil {
		return Placement{}, false, fmt.Errorf("nodes serving %s: %w", did, err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (nodeMembers, error) {
		var n nodeMembers
		err := r.Scan(&n.Node, &n.HTTPAddr, &n.SIPAddr, &n.members, &n.sticky)
		return n, err
	})
	if err != nil {
		return Placement{}, false, fmt.Errorf("nodes serving %s: %w", did, err)
	}
	if sip {
		list = slices.DeleteFunc(list, func(n nodeMembers) bool { return n.SIPAddr == "" && n.Node != p.node })
	}
	p.mu.Lock()
	u := p.rng.Float64()
	p.mu.Unlock()
	n, ok := choose(list, u)
	if !ok || n.Node == p.node {
		return Placement{}, false, nil
	}
	return n.Placement, true, nil
}

// choose picks the sticky agent's node, else one in proportion to its
// members by u in [0, 1); false when no node has members.
func choose(list []nodeMembers, u float64) (nodeMembers, bool) {
	total := 0
	for _, n := range list {
		if n.sticky {
			return n, true
		}
		total += n.members
	}
	if total == 0 {
		return nodeMembers{}, false
	}
	at := int(u * float64(total))
	for _, n := range list {
		if at < n.members {
			return n, true
		}
		at -= n.members
	}
	return list[len(list)-1], true
}
