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
// (the lead's last agent) when that agent is a member of the queue and
// working; else a live node drawn in proportion to the queue's members
// working there (holding a seat on it, their last state in agent_events
// neither a pause nor do not disturb), so each node's callers of a queue
// per agent of it are alike and no node's share of them outruns its
// agents; when every member logged in is on a pause, in proportion to them
// all (callers wait where agents will come back). With no member logged in
// anywhere the caller stays: its queue's no-agents action applies as on
// one node. A caller already sent on once is never sent again (the SIP
// callers see the marker on their Request-URI, the internal route for
// simulated callers does not place), so two nodes whose members log in and
// out at that moment cannot pass a caller back and forth.

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
	// working are the members not on a pause nor in do not disturb.
	working []int64
	sticky  bool // the caller's last agent is among them
}

// placeSQL lists, per live node not draining, how many members of the
// queue answering $1 hold a seat on it, and those of them working (their
// last state in their seat's campaign is no pause).
const placeSQL = `
SELECT n.id, n.http_addr, n.sip_addr, count(*),
	coalesce(array_agg(m.agent_id) FILTER (WHERE ` + workingSQL + `), '{}')
FROM queue_dids d
JOIN queue_members m ON m.queue_id = d.queue_id
JOIN agent_seats s ON s.agent_id = m.agent_id
JOIN nodes n ON n.id = s.node_id
LEFT JOIN LATERAL (SELECT e.to_state FROM agent_events e WHERE e.agent_id = m.agent_id AND e.campaign_id = s.campaign_id
	ORDER BY e.at DESC, e.id DESC LIMIT 1) last ON true
WHERE d.number = $1 AND n.stopped_at IS NULL AND n.recovered_at IS NULL AND n.expires_at > now() AND NOT n.draining
GROUP BY n.id, n.http_addr, n.sip_addr
ORDER BY n.id`

// Place reports the node a caller dialling did is to wait on, when it is
// not this one. sticky names their sticky agent (0: none); it is asked
// only when another node has members of the queue, so a lone node looks
// up nothing more than one query. sip restricts the choice to nodes
// taking SIP callers. An unknown number stays here (this node refuses it
// as it would alone).
func (p *Placer) Place(ctx context.Context, did string, sticky func(context.Context) agents.ID, sip bool) (Placement, bool, error) {
	rows, err := p.pool.Query(ctx, placeSQL, did)
	if err != nil {
		return Placement{}, false, fmt.Errorf("nodes serving %s: %w", did, err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (nodeMembers, error) {
		var n nodeMembers
		err := r.Scan(&n.Node, &n.HTTPAddr, &n.SIPAddr, &n.members, &n.working)
		return n, err
	})
	if err != nil {
		return Placement{}, false, fmt.Errorf("nodes serving %s: %w", did, err)
	}
	if sip {
		list = slices.DeleteFunc(list, func(n nodeMembers) bool { return n.SIPAddr == "" && n.Node != p.node })
	}
	if !slices.ContainsFunc(list, func(n nodeMembers) bool { return n.Node != p.node }) {
		return Placement{}, false, nil // members here or nowhere: the caller stays
	}
	if sticky != nil {
		if a := sticky(ctx); a != 0 {
			for i := range list {
				list[i].sticky = slices.Contains(list[i].working, int64(a))
			}
		}
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

// workingSQL is true for a member whose last state is no pause (none
// written yet counts as working: the log is written behind the engine).
const workingSQL = `(last.to_state IS NULL OR last.to_state NOT IN ('PAUSED', 'DND', 'LOGGED_OUT'))`

// choose picks the sticky agent's node, else one in proportion to its
// working members (to all its members when none works anywhere) by u in
// [0, 1); false when no node has members.
func choose(list []nodeMembers, u float64) (nodeMembers, bool) {
	working := 0
	for _, n := range list {
		if n.sticky {
			return n, true
		}
		working += len(n.working)
	}
	weight := func(n nodeMembers) int {
		if working > 0 {
			return len(n.working)
		}
		return n.members
	}
	total := 0
	for _, n := range list {
		total += weight(n)
	}
	if total == 0 {
		return nodeMembers{}, false
	}
	at := int(u * float64(total))
	for _, n := range list {
		if at < weight(n) {
			return n, true
		}
		at -= weight(n)
	}
	return list[len(list)-1], true
}
