package web

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/inbound"
)

// A queue's numbers (DIDs) and members, for managers; like its settings,
// each change reaches the router at once.

// apiQueueNumberAdd makes calls to a number reach the queue:
// {"number": "+12025550143"}. A number that reaches another queue is
// refused (409 naming it) unless "move": true.
func (s *Server) apiQueueNumberAdd(c *fiber.Ctx) error {
	id, err := queueParam(c)
	if err != nil {
		return err
	}
	var req struct {
		Number string `json:"number"`
		Move   bool   `json:"move"`
	}
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	n, err := inbound.NormalizeDID(req.Number)
	if err != nil {
		return queueStoreError(err)
	}
	ctx := c.UserContext()
	store := s.queueStore()
	if _, err := store.Queue(ctx, id); err != nil {
		return queueStoreError(err)
	}
	if cur, err := store.QueueByDID(ctx, n); err == nil && cur.ID != id && !req.Move {
		return fieldError(fiber.StatusConflict, "number", "%s already reaches queue %q: remove it there first, or send \"move\": true to move it here",
			n, cur.Name)
	} else if err != nil && !errors.Is(err, inbound.ErrNotFound) {
		return err
	}
	d, err := store.SetDID(ctx, n, id)
	if err != nil {
		return queueStoreError(err)
	}
	s.log.Info("queue number set", "queue", int64(id), "number", d.Number, "by", sessionOf(c).User.Username)
	s.reloadInbound(c, "number "+d.Number)
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"number": d.Number, "queue_id": d.Queue})
}

// numberParam is the :number of a path, URL-decoded ("%2B1202..." or
// "+1202...").
func numberParam(c *fiber.Ctx) (string, error) {
	n, err := url.PathUnescape(c.Params("number"))
	if err != nil || n == "" {
		return "", apiError(fiber.StatusBadRequest, "bad number %q", c.Params("number"))
	}
	return n, nil
}

func (s *Server) apiQueueNumberRemove(c *fiber.Ctx) error {
	id, err := queueParam(c)
	if err != nil {
		return err
	}
	raw, err := numberParam(c)
	if err != nil {
		return err
	}
	n, err := inbound.NormalizeDID(raw)
	if err != nil {
		return queueStoreError(err)
	}
	ctx := c.UserContext()
	store := s.queueStore()
	cur, err := store.QueueByDID(ctx, n)
	if err == nil && cur.ID != id {
		err = fmt.Errorf("number %s reaches queue %q, not queue %d: %w", n, cur.Name, id, inbound.ErrNotFound)
	}
	if err == nil {
		err = store.RemoveDID(ctx, n)
	}
	if err != nil {
		return queueStoreError(err)
	}
	s.log.Info("queue number removed", "queue", int64(id), "number", n, "by", sessionOf(c).User.Username)
	s.reloadInbound(c, "remove number "+n)
	return c.SendStatus(fiber.StatusNoContent)
}

// memberParams are the queue and agent of a members path.
func memberParams(c *fiber.Ctx) (inbound.QueueID, agents.ID, error) {
	id, err := queueParam(c)
	if err != nil {
		return 0, 0, err
	}
	a, err := strconv.ParseInt(c.Params("agent"), 10, 64)
	if err != nil || a <= 0 {
		return 0, 0, apiError(fiber.StatusBadRequest, "bad agent id %q", c.Params("agent"))
	}
	return id, agents.ID(a), nil
}

// apiQueueMemberSet makes an agent serve the queue at a level and rank
// ({"level": 1, "rank": 0}; level 1 when left out), or changes them.
// Members are agent users (or the simulated agents of a demo).
func (s *Server) apiQueueMemberSet(c *fiber.Ctx) error {
	id, agent, err := memberParams(c)
	if err != nil {
		return err
	}
	var req struct {
		Level *int `json:"level"`
		Rank  *int `json:"rank"`
	}
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	ctx := c.UserContext()
	if int64(agent) >= firstUserID {
		u, err := GetUser(ctx, s.db, int64(agent))
		if errors.Is(err, ErrUserNotFound) || err == nil && u.Role != RoleAgent {
			return fieldError(fiber.StatusBadRequest, "agent_id", "user %d is not an agent: only agents serve queues", agent)
		}
		if err != nil {
			return err
		}
	}
	m := inbound.Member{Queue: id, Agent: agent, Level: 1}
	if req.Level != nil {
		m.Level = *req.Level
		if m.Level == 0 {
			return fieldError(fiber.StatusBadRequest, "level", "level 0 is out of range: 1 (first line) to %d", inbound.MaxLevel)
		}
	}
	if req.Rank != nil {
		m.Rank = *req.Rank
	}
	if m, err = s.queueStore().SetMember(ctx, m); err != nil {
		return queueStoreError(err)
	}
	s.log.Info("queue member set", "queue", int64(id), "agent", int64(agent), "level", m.Level, "rank", m.Rank,
		"by", sessionOf(c).User.Username)
	s.reloadInbound(c, fmt.Sprintf("member %d of queue %d", agent, id))
	return c.JSON(fiber.Map{"queue_id": m.Queue, "agent_id": m.Agent, "level": m.Level, "rank": m.Rank})
}

func (s *Server) apiQueueMemberRemove(c *fiber.Ctx) error {
	id, agent, err := memberParams(c)
	if err != nil {
		return err
	}
	if err := s.queueStore().RemoveMember(c.UserContext(), id, agent); err != nil {
		return queueStoreError(err)
	}
	s.log.Info("queue member removed", "queue", int64(id), "agent", int64(agent), "by", sessionOf(c).User.Username)
	s.reloadInbound(c, fmt.Sprintf("remove member %d of queue %d", agent, id))
	return c.SendStatus(fiber.StatusNoContent)
}
