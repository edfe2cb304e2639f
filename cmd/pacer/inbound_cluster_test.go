package main

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/inbound"
	"github.com/pacer-dialer/pacer/internal/testwait"
	"github.com/pacer-dialer/pacer/web"
)

// Two nodes, the campaign and its agent on one: a caller who reaches the
// other node (an admin's simulated caller there) waits on the agent's node
// and is offered to the agent; a callback request left on the other node
// moves to the agent's node, keeping its place, and is offered to them; an
// IVR's "press 1" for a caller waiting on the agent's node, sent to the
// other node, reaches the caller.
// The node without agents never queues either, and the wallboard read
// through it shows the other's caller and agent.
func TestCallersAndRequestsGoToTheNodeOfTheirQueuesAgents(t *testing.T) {
	t.Parallel()
	c := newClusterWith(t, 10, "manual", nil)
	c.agents = -1
	procs := map[string]*proc{}
	c.startNode(procs)
	c.startNode(procs)
	ownerID, owner := c.owner(procs)
	var other *proc
	var otherID string
	for id, p := range procs {
		if id != ownerID {
			otherID, other = id, p
		}
	}
	ctx := context.Background()
	var camp int64
	require.NoError(t, c.db.QueryRow(ctx, `SELECT id FROM campaigns WHERE name = $1`, c.campaign).Scan(&camp))
	ids := map[string]int64{}
	for _, u := range []struct{ name, role string }{{"ann", "agent"}, {"root", "admin"}} {
		created, err := web.CreateUser(ctx, c.db, web.NewUser{Username: u.name, Role: web.Role(u.role),
			Password: "password-" + u.name, Cost: bcrypt.MinCost})
		require.NoError(t, err)
		ids[u.name] = created.ID
	}
	assignAgents(t, c.db, campaigns.ID(camp), "ann")
	q := makeQueue(t, c.db, inbound.Queue{Name: "Sales", RejectToDND: true, Callbacks: inbound.Callbacks{Allow: true}},
		DemoDID, map[int64]int{ids["ann"]: 1})

	ann, root := newClient(t, "http://"+owner.addr), newClient(t, "http://"+other.addr)
	require.Equal(t, http.StatusOK, ann.login("ann", "password-ann"))
	require.Equal(t, http.StatusOK, root.login("root", "password-root"))
	code, body := ann.do("POST", "/api/v1/agent/state", map[string]any{"state": "READY", "campaign_id": camp}, true)
	require.Equal(t, http.StatusOK, code, body)

	// Both nodes read the queue within a poll; the caller is sent on
	// whatever the other node's router knows.
	code, body = root.do("POST", "/api/v1/sim/inbound", map[string]string{"did": DemoDID, "from": "+12025550177"}, true)
	require.Equal(t, http.StatusAccepted, code, body)
	off := ann.waitState("RINGING").Inbound
	require.NotNil(t, off)
	require.Equal(t, "Sales", off.Queue)
	require.Equal(t, "+12025550177", off.From)
	testwait.Until(t, func() bool {
		return c.count(`SELECT count(*) FROM queue_events WHERE kind = 'offer' AND node = $1`, ownerID) == 1
	}, "the caller waited on the agent's node (the log is written behind the router)")
	require.Zero(t, c.count(`SELECT count(*) FROM queue_events WHERE node = $1`, otherID),
		"the node without agents never queued them")

	// The wallboard read through the node without agents shows the
	// caller ringing on the other and the agent there.
	var board struct {
		Queues []struct {
			Name string
			Live *struct {
				Waiting  int `json:"waiting"`
				Ringing  int `json:"ringing"`
				LoggedIn int `json:"logged_in"`
				Members  int `json:"members"`
			}
		}
		Campaigns      []struct{ Name string }
		NodesUnreached *int `json:"nodes_unreached"`
	}
	code, body = root.do("GET", "/api/v1/wallboard/queues", nil, false)
	require.Equal(t, http.StatusOK, code, body)
	mustJSON(t, body, &board)
	require.Len(t, board.Queues, 1)
	require.NotNil(t, board.Queues[0].Live, body)
	require.Equal(t, 1, board.Queues[0].Live.Waiting, body)
	require.Equal(t, 1, board.Queues[0].Live.Ringing, body)
	require.Equal(t, 1, board.Queues[0].Live.LoggedIn, body)
	require.Equal(t, 1, board.Queues[0].Live.Members, "members are counted once: %s", body)
	require.Len(t, board.Campaigns, 1, body)
	require.Equal(t, c.campaign, board.Campaigns[0].Name, "its owner's reserve")
	require.NotNil(t, board.NodesUnreached)
	require.Zero(t, *board.NodesUnreached)

	code, body = ann.do("POST", "/api/v1/agent/call/accept", nil, true)
	require.Equal(t, http.StatusNoContent, code, body)
	call := ann.inboundCall()
	code, body = ann.do("POST", "/api/v1/agent/call/hangup", map[string]any{"call_id": call.ID}, true)
	require.Equal(t, http.StatusNoContent, code, body)
	code, body = ann.do("POST", "/api/v1/agent/disposition", map[string]any{"code": "SALE", "call_id": call.ID,
		"pause_after": true}, true)
	require.Equal(t, http.StatusOK, code, body)

	// An IVR asking, through the other node, to turn a caller waiting on
	// ann's node into a callback request reaches that node.
	code, body = root.do("POST", "/api/v1/sim/inbound", map[string]string{"did": DemoDID, "from": "+12025550179"}, true)
	require.Equal(t, http.StatusAccepted, code, body)
	var key int64
	testwait.Until(t, func() bool {
		return c.db.QueryRow(ctx, `SELECT call_key FROM queue_events WHERE kind = 'enter' AND from_number = '+12025550179'
			AND node = $1`, ownerID).Scan(&key) == nil
	}, "the second caller waits on ann's node")
	code, body = root.do("POST", "/api/v1/inbound/calls/"+strconv.FormatInt(key, 10)+"/callback", nil, true)
	require.Equal(t, http.StatusAccepted, code, body)
	testwait.Until(t, func() bool {
		return c.count(`SELECT count(*) FROM callback_requests WHERE phone = '+12025550179' AND status = 'pending'
			AND node = $1`, ownerID) == 1
	}, "the caller's request is held on ann's node")
	code, body = root.do("POST", "/api/v1/inbound/calls/"+strconv.FormatInt(key+1000, 10)+"/callback", nil, true)
	require.Equal(t, http.StatusNotFound, code, body)
	require.Contains(t, body, "not a caller waiting on any node")

	// A request left on the other node (by a supervisor there) is held
	// there first, then moves to the agent's node and reaches her.
	code, body = root.do("POST", "/api/v1/callback-requests", map[string]any{"queue_id": q.ID, "phone": "+12025550178",
		"name": "Grace Hopper"}, true)
	require.Equal(t, http.StatusCreated, code, body)
	var req struct{ ID int64 }
	mustJSON(t, body, &req)
	testwait.Until(t, func() bool {
		return c.count(`SELECT count(*) FROM callback_requests WHERE id = $1 AND node = $2`, req.ID, ownerID) == 1
	}, "the request moved to the agent's node")
	require.Equal(t, 1, c.count(`SELECT count(*) FROM callback_request_events WHERE request_id = $1 AND event = 'move'
		AND node = $2`, req.ID, ownerID))
	code, body = ann.do("POST", "/api/v1/agent/state", map[string]any{"state": "READY", "campaign_id": camp}, true)
	require.Equal(t, http.StatusOK, code, body)
	off = ann.waitState("RINGING").Inbound
	require.NotNil(t, off)
	require.Equal(t, "+12025550179", off.From, "the requests are offered to her, the caller's first: they kept their place")

	// A live node that does not answer is left out of the board, which
	// says so.
	_, err := c.db.Exec(ctx, `INSERT INTO nodes (id, incarnation, http_addr, started_at, heartbeat_at, expires_at)
		VALUES ('mute', gen_random_uuid(), $1, now(), now(), now() + interval '1 hour')`, closedAddr(t))
	require.NoError(t, err)
	code, body = root.do("GET", "/api/v1/wallboard/queues", nil, false)
	require.Equal(t, http.StatusOK, code, body)
	board.NodesUnreached = nil
	mustJSON(t, body, &board)
	require.NotNil(t, board.NodesUnreached)
	require.Equal(t, 1, *board.NodesUnreached, body)
	require.Equal(t, 1, board.Queues[0].Live.LoggedIn, "the nodes that answered are still counted: %s", body)
	_, err = c.db.Exec(ctx, `DELETE FROM nodes WHERE id = 'mute'`)
	require.NoError(t, err)
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// The simulated callers a node generates (--sim-inbound-per-hour) go, as
// injected ones do, to the node where their queue's agents work.
func TestGeneratedCallersGoToTheNodeOfTheirQueuesAgents(t *testing.T) {
	t.Parallel()
	c := newClusterWith(t, 10, "manual", nil)
	c.agents = -1
	procs := map[string]*proc{}
	c.startNode(procs)
	ownerID, owner := c.owner(procs)
	ctx := context.Background()
	var camp int64
	require.NoError(t, c.db.QueryRow(ctx, `SELECT id FROM campaigns WHERE name = $1`, c.campaign).Scan(&camp))
	created, err := web.CreateUser(ctx, c.db, web.NewUser{Username: "ann", Role: web.RoleAgent, Password: "password-ann",
		Cost: bcrypt.MinCost})
	require.NoError(t, err)
	assignAgents(t, c.db, campaigns.ID(camp), "ann")
	makeQueue(t, c.db, inbound.Queue{Name: "Sales"}, DemoDID, map[int64]int{created.ID: 1})
	ann := newClient(t, "http://"+owner.addr)
	require.Equal(t, http.StatusOK, ann.login("ann", "password-ann"))
	code, body := ann.do("POST", "/api/v1/agent/state", map[string]any{"state": "PAUSED", "pause_code": "BREAK",
		"campaign_id": camp}, true)
	require.Equal(t, http.StatusOK, code, body)

	other := c.start("--sim-inbound-per-hour", "36000")
	var otherID string
	require.NoError(t, c.db.QueryRow(ctx, `SELECT id FROM nodes WHERE http_addr = $1 AND stopped_at IS NULL`, other.addr).Scan(&otherID))
	testwait.Until(t, func() bool {
		return c.count(`SELECT count(*) FROM queue_events WHERE kind = 'enter' AND node = $1`, ownerID) >= 3
	}, "the other node's callers wait on ann's node")
	require.Zero(t, c.count(`SELECT count(*) FROM queue_events WHERE node = $1`, otherID), "none waits where they were made")
}
