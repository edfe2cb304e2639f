package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/inbound"
)

// The wallboard's live part in a cluster. Each node's router holds the
// callers waiting on that node, the agents of the campaigns it runs and
// the callback requests it holds, and computes the reserve of those
// campaigns; so the board asks every live node for its part
// (/internal/v1/inbound/now) and adds them up, whichever node the
// supervisor's browser reaches. A queue's callers, ringing, callback
// requests, agents available and logged in add up; its longest wait is the
// longest anywhere; its members are configured once for the cluster (each
// node knows them all). A campaign's reserve is its owner's. A node that
// does not answer is left out and counted in nodes_unreached, so the board
// says its figures are partial rather than showing them as whole.

// inboundNowJSON is one node's live part.
type inboundNowJSON struct {
	Queues []inbound.QueueNow `json:"queues"`
	// Loads are the reserves of the campaigns this node runs.
	Loads map[campaigns.ID]inbound.Load `json:"loads"`
}

// inboundNowHere is this node's live part.
func (s *Server) inboundNowHere(ctx context.Context, now time.Time) (inboundNowJSON, error) {
	out := inboundNowJSON{Queues: s.inbound.Now(now), Loads: map[campaigns.ID]inbound.Load{}}
	if s.local == nil {
		return out, nil
	}
	running, err := s.local.Running(ctx)
	if err != nil {
		return out, err
	}
	for _, id := range running {
		out.Loads[id] = s.inbound.Load(id, now)
	}
	return out, nil
}

// apiInternalInboundNow answers another node's board with this node's live
// part. Only nodes that know the cluster secret may call it.
func (s *Server) apiInternalInboundNow(c *fiber.Ctx) error {
	if !s.fromCluster(c) {
		return apiError(fiber.StatusForbidden, "internal calls need the cluster secret")
	}
	if s.inbound == nil {
		return apiError(fiber.StatusServiceUnavailable, "this node runs no inbound router")
	}
	out, err := s.inboundNowHere(c.UserContext(), s.clock.Now())
	if err != nil {
		return err
	}
	return c.JSON(out)
}

// inboundNow is the cluster's live part: every live node's, added up
// (this node's alone without a cluster router), and how many nodes did not
// answer.
func (s *Server) inboundNow(ctx context.Context, now time.Time) (map[inbound.QueueID]inbound.QueueNow, map[campaigns.ID]inbound.Load, int, error) {
	queues, loads := map[inbound.QueueID]inbound.QueueNow{}, map[campaigns.ID]inbound.Load{}
	add := func(part inboundNowJSON) {
		for _, q := range part.Queues {
			queues[q.Queue] = addQueueNow(queues[q.Queue], q)
		}
		for id, l := range part.Loads {
			loads[id] = l
		}
	}
	if s.router == nil {
		part, err := s.inboundNowHere(ctx, now)
		add(part)
		return queues, loads, 0, err
	}
	nodes, err := s.router.Nodes(ctx)
	if err != nil {
		return nil, nil, 0, err
	}
	// Every node at once: one that hangs costs the board its timeout once.
	parts := make([]inboundNowJSON, len(nodes))
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		if n.Local {
			parts[i], errs[i] = s.inboundNowHere(ctx, now)
			continue
		}
		wg.Go(func() { parts[i], errs[i] = s.remoteInboundNow(ctx, n) })
	}
	wg.Wait()
	unreached := 0
	for i, n := range nodes {
		switch {
		case errs[i] != nil && n.Local:
			return nil, nil, 0, errs[i]
		case errs[i] != nil:
			s.log.Warn("the queues' wallboard leaves out a node that did not answer", "node", n.ID, "err", errs[i])
			unreached++
		default:
			add(parts[i])
		}
	}
	return queues, loads, unreached, nil
}

// boardNodeTimeout bounds one node's answer to the board.
const boardNodeTimeout = 3 * time.Second

func (s *Server) remoteInboundNow(ctx context.Context, n Node) (inboundNowJSON, error) {
	ctx, cancel := context.WithTimeout(ctx, boardNodeTimeout)
	defer cancel()
	var part inboundNowJSON
	status, raw, err := postInternal(ctx, s.internalClient, s.secret, n.Addr, "/internal/v1/inbound/now", struct{}{}, 4<<20)
	switch {
	case err != nil:
		return part, err
	case status == http.StatusServiceUnavailable:
		return part, nil // runs no router: nothing of its own to add
	case status != http.StatusOK:
		return part, fmt.Errorf("node %s answered %d: %s", n.ID, status, raw)
	}
	return part, json.Unmarshal(raw, &part)
}

// addQueueNow adds one node's view of a queue to the sum so far.
func addQueueNow(sum, q inbound.QueueNow) inbound.QueueNow {
	sum.Queue = q.Queue
	sum.Waiting += q.Waiting
	sum.Ringing += q.Ringing
	sum.Callbacks += q.Callbacks
	sum.CallbacksDue += q.CallbacksDue
	sum.Available += q.Available
	sum.LoggedIn += q.LoggedIn
	sum.Members = max(sum.Members, q.Members)
	if !q.Oldest.IsZero() && (sum.Oldest.IsZero() || q.Oldest.Before(sum.Oldest)) {
		sum.Oldest = q.Oldest
	}
	sum.LongestWait = max(sum.LongestWait, q.LongestWait)
	return sum
}
