package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
)

// Cluster routing (DESIGN.md §7). A campaign's loop runs on the one node that
// owns its lease; an agent's browser may talk to any node. The web layer keeps
// the user's session, pages, presence and live events (which reach every node
// through LISTEN/NOTIFY) on the node the browser talks to, and sends each
// engine call for a campaign to the node that owns it: locally when that is
// this node, otherwise as an internal HTTP call to the owner's address from
// the nodes table (POST /internal/v1/engine/{method}, authenticated with the
// cluster's shared secret, which every node reads from the database). The
// owner runs it on its own engine and answers with the result or the error's
// kind, so the caller's handlers answer exactly as the owner's would.

// Router says where campaigns' loops run.
type Router interface {
	// Owner is the node owning campaign now. An error wrapping
	// ErrNotRunning: no live node owns it.
	Owner(ctx context.Context, campaign campaigns.ID) (Node, error)
	// Node is a live node by id; an error wrapping ErrNotRunning when it is
	// not alive.
	Node(ctx context.Context, id string) (Node, error)
	// Running lists the campaigns some live node runs.
	Running(ctx context.Context) ([]campaigns.ID, error)
	// Nodes lists the live nodes, this one among them.
	Nodes(ctx context.Context) ([]Node, error)
}

// Node is where a Router sends a call.
type Node struct {
	ID   string
	Addr string // host:port of its HTTP API
	// Local is this node.
	Local bool
}

// clusterSecretHeader carries the cluster secret on internal calls.
const clusterSecretHeader = "X-Pacer-Cluster"

// loadClusterSecret reads the cluster's shared secret, creating it on the
// first start of the first node.
func loadClusterSecret(ctx context.Context, db *pgxpool.Pool) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	if _, err := db.Exec(ctx, `INSERT INTO cluster_secret (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING`,
		hex.EncodeToString(b[:])); err != nil {
		return "", fmt.Errorf("cluster secret: %w", err)
	}
	var secret string
	if err := db.QueryRow(ctx, `SELECT secret FROM cluster_secret WHERE id = 1`).Scan(&secret); err != nil {
		return "", fmt.Errorf("cluster secret: %w", err)
	}
	return secret, nil
}

// errorKinds name the errors that cross the wire, so the caller wraps the
// same sentinel the owner returned.
var errorKinds = []struct {
	kind string
	err  error
}{
	{"not_running", ErrNotRunning}, {"not_logged_in", ErrNotLoggedIn}, {"no_call", ErrNoCall},
	{"conflict", ErrConflict}, {"invalid", ErrInvalid}, {"busy", ErrBusy},
	{"caller_gone", ErrCallerGone}, {"not_ready", ErrNotReady}, {"not_waiting", ErrNotWaiting},
	{"unknown_disposition", campaigns.ErrUnknownDisposition}, {"system_disposition", campaigns.ErrSystemDisposition},
	{"not_agents_call", campaigns.ErrNotAgentsCall}, {"already_dispositioned", campaigns.ErrAlreadyDispositioned},
	{"no_call_to_disposition", campaigns.ErrNoCallToDisposition}, {"callback_required", campaigns.ErrCallbackRequired},
	{"callback_not_allowed", campaigns.ErrCallbackNotAllowed}, {"callback_in_past", campaigns.ErrCallbackInPast},
	{"callback_too_far", campaigns.ErrCallbackTooFar},
	{"callback_outside_window", campaigns.ErrCallbackOutsideWindow}, {"callback_scope", campaigns.ErrCallbackScope},
	{"notes_too_long", campaigns.ErrNotesTooLong}, {"callback_transition", campaigns.ErrCallbackTransition},
	{"window_closed", campaigns.ErrWindowClosed}, {"on_dnc", campaigns.ErrOnDNC}, {"not_found", campaigns.ErrNotFound},
}

type remoteError struct {
	Kind    string `json:"kind,omitempty"`
	Message string `json:"message"`
}

func encodeError(err error) *remoteError {
	if err == nil {
		return nil
	}
	for _, k := range errorKinds {
		if errors.Is(err, k.err) {
			return &remoteError{Kind: k.kind, Message: err.Error()}
		}
	}
	return &remoteError{Message: err.Error()}
}

// decode turns a remote error back into one that wraps its sentinel.
func (e *remoteError) decode(addr string) error {
	for _, k := range errorKinds {
		if k.kind == e.Kind {
			return fmt.Errorf("%w (on %s): %s", k.err, addr, e.Message)
		}
	}
	return fmt.Errorf("engine on %s: %s", addr, e.Message)
}

// engineCall is one internal call's body and answer.
type engineCall struct {
	Campaign campaigns.ID               `json:"campaign_id"`
	Agent    agents.ID                  `json:"agent_id"`
	Action   AgentAction                `json:"action,omitzero"`
	Pause    string                     `json:"pause_code,omitempty"`
	Lead     campaigns.LeadID           `json:"lead_id,omitempty"`
	Call     CallID                     `json:"call_id,omitempty"`
	Callback campaigns.CallbackID       `json:"callback_id,omitempty"`
	Input    campaigns.DispositionInput `json:"input"`
	Control  CallControl                `json:"control"`
}

type engineAnswer struct {
	Result json.RawMessage `json:"result,omitempty"`
	Error  *remoteError    `json:"error,omitempty"`
}

// connectedCall is ConnectedCall's answer on the wire: [call, lead].
type connectedCall struct {
	Call CallID
	Lead campaigns.LeadID
}

func (c connectedCall) MarshalJSON() ([]byte, error) {
	return json.Marshal([2]int64{int64(c.Call), int64(c.Lead)})
}

func (c *connectedCall) UnmarshalJSON(b []byte) error {
	var v [2]int64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	c.Call, c.Lead = CallID(v[0]), campaigns.LeadID(v[1])
	return nil
}

// engineMethods run an internal call on this node's own engine.
var engineMethods = map[string]func(ctx context.Context, e Engine, c engineCall) (any, error){
	"login": func(ctx context.Context, e Engine, c engineCall) (any, error) {
		return nil, e.Login(ctx, c.Campaign, c.Agent)
	},
	"act": func(ctx context.Context, e Engine, c engineCall) (any, error) {
		return nil, e.Act(ctx, c.Campaign, c.Agent, c.Action, c.Pause)
	},
	"control": func(ctx context.Context, e Engine, c engineCall) (any, error) {
		return nil, e.Control(ctx, c.Campaign, c.Agent, c.Call, c.Control)
	},
	"manual_dial": func(ctx context.Context, e Engine, c engineCall) (any, error) {
		return e.ManualDial(ctx, c.Campaign, c.Agent, c.Lead)
	},
	"disposition": func(ctx context.Context, e Engine, c engineCall) (any, error) {
		return e.Disposition(ctx, c.Campaign, c.Agent, c.Call, c.Input)
	},
	"dial_callback": func(ctx context.Context, e Engine, c engineCall) (any, error) {
		return e.DialCallback(ctx, c.Campaign, c.Agent, c.Callback)
	},
	"agent": func(ctx context.Context, e Engine, c engineCall) (any, error) {
		return e.Agent(ctx, c.Campaign, c.Agent)
	},
	"connected_call": func(ctx context.Context, e Engine, c engineCall) (any, error) {
		call, lead, err := e.ConnectedCall(ctx, c.Campaign, c.Agent)
		return connectedCall{call, lead}, err
	},
	"status": func(ctx context.Context, e Engine, c engineCall) (any, error) {
		return e.Status(ctx, c.Campaign)
	},
	"waiting": func(ctx context.Context, e Engine, c engineCall) (any, error) {
		return e.Waiting(ctx, c.Campaign, c.Agent)
	},
	"attach_lead": func(ctx context.Context, e Engine, c engineCall) (any, error) {
		return nil, e.AttachLead(ctx, c.Campaign, c.Agent, c.Call, c.Lead)
	},
	"take_inbound": func(ctx context.Context, e Engine, c engineCall) (any, error) {
		return nil, e.TakeInbound(ctx, c.Campaign, c.Agent, c.Call)
	},
}

// fromCluster reports whether the request carries the cluster secret.
func (s *Server) fromCluster(c *fiber.Ctx) bool {
	got := []byte(c.Get(clusterSecretHeader))
	return s.secret != "" && subtle.ConstantTimeCompare(got, []byte(s.secret)) == 1
}

// apiInternalEngine serves another node's engine call on this node's own
// engine. Only nodes that know the cluster secret may call it.
func (s *Server) apiInternalEngine(c *fiber.Ctx) error {
	if !s.fromCluster(c) {
		return apiError(fiber.StatusForbidden, "internal engine calls need the cluster secret")
	}
	method := engineMethods[c.Params("method")]
	if method == nil {
		return apiError(fiber.StatusNotFound, "unknown engine method %q", c.Params("method"))
	}
	if s.local == nil {
		return apiError(fiber.StatusServiceUnavailable, "the dialer engine is not running on this node")
	}
	var call engineCall
	if err := json.Unmarshal(c.Body(), &call); err != nil {
		return apiError(fiber.StatusBadRequest, "engine call: %v", err)
	}
	res, err := method(c.UserContext(), s.local, call)
	var ans engineAnswer
	if err != nil {
		ans.Error = encodeError(err)
	} else if ans.Result, err = json.Marshal(res); err != nil {
		return err
	}
	return c.JSON(ans)
}

// postInternal posts v as JSON to path on the node at addr, with the
// cluster secret, and returns its status and body (at most limit bytes).
func postInternal(ctx context.Context, client *http.Client, secret, addr, path string, v any, limit int64) (int, []byte, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(clusterSecretHeader, secret)
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("reach %s: %w", addr, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return 0, nil, fmt.Errorf("read from %s: %w", addr, err)
	}
	return resp.StatusCode, raw, nil
}

// routedEngine is the Engine the handlers use in a cluster: each call about
// a campaign goes to the engine of the node that runs it for the agent. A
// login goes to the campaign's owner, which the agent's seat then names; the
// agent's later calls go to the seat's node while it lives, so calls in
// progress on a node that drains after handing the campaign on still reach
// it; without a seat there, to the owner.
type routedEngine struct {
	local  Engine
	router Router
	db     agents.SeatDB
	secret string
	client *http.Client
}

func newRoutedEngine(local Engine, router Router, db agents.SeatDB, secret string) *routedEngine {
	return &routedEngine{local: local, router: router, db: db, secret: secret,
		client: &http.Client{Timeout: 30 * time.Second}}
}

// target is the node a call goes to.
func (r *routedEngine) target(ctx context.Context, method string, call engineCall) (Node, error) {
	if method != "login" && call.Agent != 0 {
		seat, err := agents.GetSeat(ctx, r.db, call.Agent)
		if err == nil && seat.Campaign == int64(call.Campaign) && seat.Node != "" {
			if n, err := r.router.Node(ctx, seat.Node); err == nil {
				return n, nil
			}
		}
	}
	return r.router.Owner(ctx, call.Campaign)
}

// route runs local on this node's engine when the call is this node's,
// else sends it to the node that runs it and decodes its answer into out.
func (r *routedEngine) route(ctx context.Context, method string, call engineCall, out any, local func() error) error {
	node, err := r.target(ctx, method, call)
	if err != nil {
		return err
	}
	if node.Local {
		return local()
	}
	addr := node.Addr
	status, raw, err := postInternal(ctx, r.client, r.secret, addr, "/internal/v1/engine/"+method, call, 4<<20)
	if err != nil {
		return fmt.Errorf("campaign %d's node: %w", call.Campaign, err)
	}
	if status != http.StatusOK {
		return fmt.Errorf("campaign %d's node %s answered %d: %s", call.Campaign, addr, status, raw)
	}
	var ans engineAnswer
	if err := json.Unmarshal(raw, &ans); err != nil {
		return fmt.Errorf("answer of campaign %d's node %s: %w", call.Campaign, addr, err)
	}
	if ans.Error != nil {
		return ans.Error.decode(addr)
	}
	if out != nil && len(ans.Result) > 0 {
		return json.Unmarshal(ans.Result, out)
	}
	return nil
}

// Running lists the campaigns running anywhere in the cluster: an agent
// may join any of them from any node.
func (r *routedEngine) Running(ctx context.Context) ([]campaigns.ID, error) {
	return r.router.Running(ctx)
}

func (r *routedEngine) Login(ctx context.Context, campaign campaigns.ID, agent agents.ID) error {
	return r.route(ctx, "login", engineCall{Campaign: campaign, Agent: agent}, nil,
		func() error { return r.local.Login(ctx, campaign, agent) })
}

func (r *routedEngine) Act(ctx context.Context, campaign campaigns.ID, agent agents.ID, action AgentAction, pauseCode string) error {
	return r.route(ctx, "act", engineCall{Campaign: campaign, Agent: agent, Action: action, Pause: pauseCode}, nil,
		func() error { return r.local.Act(ctx, campaign, agent, action, pauseCode) })
}

func (r *routedEngine) Control(ctx context.Context, campaign campaigns.ID, agent agents.ID, call CallID, c CallControl) error {
	return r.route(ctx, "control", engineCall{Campaign: campaign, Agent: agent, Call: call, Control: c}, nil,
		func() error { return r.local.Control(ctx, campaign, agent, call, c) })
}

func (r *routedEngine) ManualDial(ctx context.Context, campaign campaigns.ID, agent agents.ID, lead campaigns.LeadID) (CallID, error) {
	var call CallID
	err := r.route(ctx, "manual_dial", engineCall{Campaign: campaign, Agent: agent, Lead: lead}, &call,
		func() (err error) { call, err = r.local.ManualDial(ctx, campaign, agent, lead); return err })
	return call, err
}

func (r *routedEngine) Disposition(ctx context.Context, campaign campaigns.ID, agent agents.ID, call CallID, in campaigns.DispositionInput) (campaigns.DispositionResult, error) {
	var res campaigns.DispositionResult
	err := r.route(ctx, "disposition", engineCall{Campaign: campaign, Agent: agent, Call: call, Input: in}, &res,
		func() (err error) { res, err = r.local.Disposition(ctx, campaign, agent, call, in); return err })
	return res, err
}

func (r *routedEngine) DialCallback(ctx context.Context, campaign campaigns.ID, agent agents.ID, id campaigns.CallbackID) (CallID, error) {
	var call CallID
	err := r.route(ctx, "dial_callback", engineCall{Campaign: campaign, Agent: agent, Callback: id}, &call,
		func() (err error) { call, err = r.local.DialCallback(ctx, campaign, agent, id); return err })
	return call, err
}

func (r *routedEngine) Agent(ctx context.Context, campaign campaigns.ID, agent agents.ID) (AgentView, error) {
	var v AgentView
	err := r.route(ctx, "agent", engineCall{Campaign: campaign, Agent: agent}, &v,
		func() (err error) { v, err = r.local.Agent(ctx, campaign, agent); return err })
	return v, err
}

func (r *routedEngine) ConnectedCall(ctx context.Context, campaign campaigns.ID, agent agents.ID) (CallID, campaigns.LeadID, error) {
	var got connectedCall
	err := r.route(ctx, "connected_call", engineCall{Campaign: campaign, Agent: agent}, &got, func() (err error) {
		got.Call, got.Lead, err = r.local.ConnectedCall(ctx, campaign, agent)
		return err
	})
	return got.Call, got.Lead, err
}

func (r *routedEngine) Status(ctx context.Context, campaign campaigns.ID) (CampaignStatus, error) {
	var st CampaignStatus
	err := r.route(ctx, "status", engineCall{Campaign: campaign}, &st,
		func() (err error) { st, err = r.local.Status(ctx, campaign); return err })
	return st, err
}

// Subscribe follows a loop of this node (the publisher follows only its own;
// other nodes' events arrive through LISTEN/NOTIFY).
func (r *routedEngine) Subscribe(ctx context.Context, campaign campaigns.ID) (<-chan Transition, func(), error) {
	return r.local.Subscribe(ctx, campaign)
}

func (r *routedEngine) History(ctx context.Context, agent agents.ID, limit int) ([]HistoryCall, error) {
	return r.local.History(ctx, agent, limit)
}

func (r *routedEngine) LeadHistory(ctx context.Context, lead campaigns.LeadID, limit int) ([]HistoryCall, error) {
	return r.local.LeadHistory(ctx, lead, limit)
}

func (r *routedEngine) DayStats(ctx context.Context, campaign campaigns.ID, since time.Time, saleCodes []string) (DayStats, error) {
	return r.local.DayStats(ctx, campaign, since, saleCodes)
}

// Waiting and TakeInbound go to the node running the agent's campaign: its
// router holds the callers that node's engine can bridge to the agent.
func (r *routedEngine) Waiting(ctx context.Context, campaign campaigns.ID, agent agents.ID) ([]WaitingCaller, error) {
	var out []WaitingCaller
	err := r.route(ctx, "waiting", engineCall{Campaign: campaign, Agent: agent}, &out,
		func() (err error) { out, err = r.local.Waiting(ctx, campaign, agent); return err })
	return out, err
}

func (r *routedEngine) TakeInbound(ctx context.Context, campaign campaigns.ID, agent agents.ID, call CallID) error {
	return r.route(ctx, "take_inbound", engineCall{Campaign: campaign, Agent: agent, Call: call}, nil,
		func() error { return r.local.TakeInbound(ctx, campaign, agent, call) })
}

func (r *routedEngine) AttachLead(ctx context.Context, campaign campaigns.ID, agent agents.ID, call CallID, lead campaigns.LeadID) error {
	return r.route(ctx, "attach_lead", engineCall{Campaign: campaign, Agent: agent, Call: call, Lead: lead}, nil,
		func() error { return r.local.AttachLead(ctx, campaign, agent, call, lead) })
}

var _ Engine = (*routedEngine)(nil)
