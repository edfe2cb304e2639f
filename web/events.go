package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"

	"github.com/pacer-dialer/pacer/agents"
)

// Event is one live update. Type is "agent" (a state change), "call" (a
// call reached or left an agent's screen), "seat" (another workspace took
// the agent's seat; Data names it), "stats" (a campaign's figures) or "list"
// (lead import progress). Agent and call events go to that agent
// and to supervisors, managers and admins; stats and list events to
// supervisors, managers and admins.
type Event struct {
	Type     string    `json:"type"`
	Campaign int64     `json:"campaign_id,omitempty"`
	Agent    int64     `json:"agent_id,omitempty"`
	At       time.Time `json:"at"`
	Data     any       `json:"data,omitempty"`
}

// visibleTo reports whether a user of role with id may see ev.
func (ev *Event) visibleTo(role Role, id int64) bool {
	if role != RoleAgent {
		return true
	}
	return ev.Agent == id && (ev.Type == "agent" || ev.Type == "call" || ev.Type == "seat" || ev.Type == "unassigned")
}

// Hub fans events out to the WebSocket clients of this process. Broadcast
// never blocks on a client: each has a buffered queue, and a client that
// falls that far behind is disconnected (its page reconnects and resyncs).
type Hub struct {
	mu      sync.RWMutex
	clients map[*hubClient]struct{}
	perUser map[int64]int
	closed  bool
	count   atomic.Int64
	dropped atomic.Int64
	// live counts connected clients' handlers, so Wait can see them out.
	live sync.WaitGroup
}

type hubClient struct {
	role Role
	user int64
	q    chan []byte
	once sync.Once
	done chan struct{}
}

func (c *hubClient) close() { c.once.Do(func() { close(c.done) }) }

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{clients: map[*hubClient]struct{}{}, perUser: map[int64]int{}} }

// Why add refuses a client.
var (
	errHubClosed      = errors.New("the server is shutting down")
	errTooManySockets = errors.New("too many live connections")
)

// Clients is the number of connected clients.
func (h *Hub) Clients() int64 { return h.count.Load() }

// add registers a client of user, who may have at most limit (0: any
// number) at once.
func (h *Hub) add(role Role, user int64, buf, limit int) (*hubClient, error) {
	c := &hubClient{role: role, user: user, q: make(chan []byte, buf), done: make(chan struct{})}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, errHubClosed
	}
	if limit > 0 && h.perUser[user] >= limit {
		return nil, errTooManySockets
	}
	h.perUser[user]++
	h.clients[c] = struct{}{}
	h.count.Add(1)
	h.live.Add(1)
	return c, nil
}

func (h *Hub) remove(c *hubClient) {
	h.mu.Lock()
	_, ok := h.clients[c]
	if ok {
		delete(h.clients, c)
		h.count.Add(-1)
		if h.perUser[c.user]--; h.perUser[c.user] <= 0 {
			delete(h.perUser, c.user)
		}
	}
	h.mu.Unlock()
	c.close()
	if ok {
		h.live.Done()
	}
}

// Broadcast delivers ev to every client allowed to see it.
func (h *Hub) Broadcast(ev Event) {
	b, err := json.Marshal(ev)
	if err != nil {
		return
	}
	h.broadcastRaw(&ev, b)
}

func (h *Hub) broadcastRaw(ev *Event, b []byte) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for c := range h.clients {
		if !ev.visibleTo(c.role, c.user) {
			continue
		}
		select {
		case c.q <- b:
		default:
			h.dropped.Add(1)
			c.close()
		}
	}
}

// Wait returns when every client's handler has finished (after Close).
func (h *Hub) Wait() { h.live.Wait() }

// Close disconnects every client and refuses new ones.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	cs := make([]*hubClient, 0, len(h.clients))
	for c := range h.clients {
		cs = append(cs, c)
	}
	h.mu.Unlock()
	for _, c := range cs {
		c.close()
	}
}

// eventsUpgrade checks the handshake before the WebSocket upgrade: a
// session (401), a same-origin browser (403).
func (s *Server) eventsUpgrade(c *fiber.Ctx) error {
	if !websocket.IsWebSocketUpgrade(c) {
		return apiError(fiber.StatusUpgradeRequired, "GET /api/v1/events is a WebSocket")
	}
	if !sameOrigin(c) {
		return apiError(fiber.StatusForbidden, "cross-origin WebSocket refused")
	}
	ss := sessionOf(c)
	c.Locals("ws_role", string(ss.User.Role))
	c.Locals("ws_user", ss.User.ID)
	return c.Next()
}

// eventsSocket streams events to one client until it disconnects, falls
// behind, or the server stops. The first message is a "hello" with the
// user's scope.
func (s *Server) eventsSocket(conn *websocket.Conn) {
	role := Role(conn.Locals("ws_role").(string))
	user := conn.Locals("ws_user").(int64)
	cl, err := s.hub.add(role, user, 256, s.cfg.SocketsPerUser)
	if err != nil {
		// A browser's WebSocket shows the close reason, not an HTTP status.
		reason, code := "the server is shutting down", websocket.CloseGoingAway
		if errors.Is(err, errTooManySockets) {
			reason = fmt.Sprintf("too many live connections for this user (at most %d): close another Pacer tab",
				s.cfg.SocketsPerUser)
			code = websocket.ClosePolicyViolation
		}
		_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
		conn.Close()
		return
	}
	defer s.hub.remove(cl)
	if role == RoleAgent && s.presence != nil {
		s.presence.Connect(agents.ID(user))
		defer s.presence.Disconnect(agents.ID(user))
	}
	// Reader: notices the client going away (and answers pings).
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				return
			}
		}
	}()
	// The reader must be done before this handler returns: the connection
	// is recycled then. Closing a hijacked connection does not wake its
	// reader; an expired deadline does.
	defer func() {
		_ = conn.SetReadDeadline(time.Now())
		conn.Close()
		<-gone
	}()
	hello, _ := json.Marshal(Event{Type: "hello", Agent: user, At: s.clock.Now(), Data: map[string]any{"role": role}})
	if err := conn.WriteMessage(websocket.TextMessage, hello); err != nil {
		return
	}
	ping := time.NewTicker(30 * time.Second)
	defer ping.Stop()
	for {
		select {
		case b := <-cl.q:
			_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if err := conn.WriteMessage(websocket.TextMessage, b); err != nil {
				return
			}
		case <-ping.C:
			_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if err := conn.WriteMessage(websocket.PingMessage, nil); err != nil {
				return
			}
		case <-cl.done:
			_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, ""),
				time.Now().Add(time.Second))
			return
		case <-gone:
			return
		}
	}
}
