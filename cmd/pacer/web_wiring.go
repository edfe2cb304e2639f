package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/dialer/blend"
	"github.com/pacer-dialer/pacer/inbound"
	"github.com/pacer-dialer/pacer/jobs"
	"github.com/pacer-dialer/pacer/web"
)

// webOptions are serve's flags for the web workspace.
type webOptions struct {
	secureCookies     bool
	sessionTTL        time.Duration
	bcryptCost        int
	agentGone         time.Duration
	importConcurrency int
	noDemoUsers       bool
	// trustedProxies: see web.Config.TrustedProxies.
	trustedProxies []netip.Prefix
	metricsAddr    string
	metricsToken   string
	socketsPerUser int
}

func (o *webOptions) register(fs *flagSet) {
	fs.BoolVar(&o.secureCookies, "secure-cookies", false, "mark session cookies Secure (set when users reach Pacer over HTTPS through a proxy)")
	fs.DurationVar(&o.sessionTTL, "session-ttl", 12*time.Hour, "how long an idle login session lasts")
	fs.IntVar(&o.bcryptCost, "bcrypt-cost", web.DefaultBcryptCost, "bcrypt cost of new password hashes (4-14; below 10 only for tests)")
	fs.Func("trusted-proxies", "comma-separated CIDR prefixes or addresses of the reverse proxies whose X-Forwarded-For names the client (login throttling, logs); from any other peer the header is ignored",
		func(v string) (err error) {
			o.trustedProxies, err = web.ParseTrustedProxies(v)
			return err
		})
	fs.StringVar(&o.metricsAddr, "metrics-addr", "", "serve Prometheus /metrics on this address only (e.g. 127.0.0.1:9090), not on --http-addr")
	fs.StringVar(&o.metricsToken, "metrics-token", "", "require this bearer token (Authorization: Bearer <token>) to scrape /metrics; with neither this nor --metrics-addr, /metrics is for logged-in supervisors, managers and admins")
	fs.IntVar(&o.socketsPerUser, "sockets-per-user", 8, "live-event WebSockets one user may hold open on this node (tabs, wallboards)")
	fs.IntVar(&o.importConcurrency, "import-concurrency", campaigns.DefaultImportConcurrency, "lead imports that run at once across the cluster (each holds up to 5 database connections); later uploads queue")
	fs.DurationVar(&o.agentGone, "agent-gone-after", 30*time.Second, "log an agent out of their campaign (session lost) when no workspace of theirs has been connected for this long; negative: never")
}

func (o webOptions) config(addr, node string) web.Config {
	return web.Config{Addr: addr, ShutdownTimeout: 3 * time.Second, Node: node, SecureCookies: o.secureCookies,
		SessionTTL: o.sessionTTL, BcryptCost: o.bcryptCost, TrustedProxies: o.trustedProxies, MetricsAddr: o.metricsAddr,
		MetricsToken: o.metricsToken, SocketsPerUser: o.socketsPerUser, ImportConcurrency: o.importConcurrency}
}

// presence logs an agent out of this node's campaigns (session lost) when
// none of their workspaces has been connected for agentGone; the web server
// reports the connections.
func (o webOptions) presence(ctx context.Context, gone func(context.Context, agents.ID) (bool, error), logger *slog.Logger) *agents.Presence {
	return agents.NewPresence(agents.PresenceConfig{After: o.agentGone}, func(id agents.ID) {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if lost, err := gone(ctx, id); lost || err != nil {
			logger.Warn("agent's workspace gone; logged out of the campaign", "agent", int64(id), "after", o.agentGone,
				"err", err)
		}
	})
}

// ensureDemoUsers creates and prints the demo accounts on a database
// without users, unless demo mode is off.
func ensureDemoUsers(ctx context.Context, o serveOptions, pool *pgxpool.Pool, logger *slog.Logger) error {
	if o.engine.noDemo || o.web.noDemoUsers {
		return nil
	}
	created, err := web.EnsureDemoUsers(ctx, pool, o.web.bcryptCost)
	if err != nil {
		return fmt.Errorf("demo users: %w", err)
	}
	for _, u := range created {
		logger.Info("demo user (change or disable it before real use)", "username", u.Username, "password", u.Password,
			"role", string(u.Role))
	}
	return nil
}

// webEngine is web.Engine over the campaign manager: each call finds the
// campaign's loop on this node and sends it a command.
type webEngine struct {
	mgr *dialer.Manager
	db  *pgxpool.Pool
	// in is this node's inbound side (nil: none, so no caller waits here).
	in *inboundSide
}

func (e *webEngine) loop(ctx context.Context, campaign campaigns.ID) (*dialer.Loop, error) {
	l, err := e.mgr.Loop(ctx, dialer.CampaignID(campaign))
	if errors.Is(err, dialer.ErrLoopStopped) {
		return nil, fmt.Errorf("campaign %d: %w", campaign, web.ErrNotRunning)
	}
	return l, err
}

// mapErr turns engine refusals into the web's sentinels.
func mapErr(err error) error {
	var ite *agents.IllegalTransitionError
	var cte *dialer.CallTransitionError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, dialer.ErrLoopStopped):
		return fmt.Errorf("%w: %v", web.ErrNotRunning, err)
	case errors.Is(err, dialer.ErrCallerGone):
		return fmt.Errorf("%w: %v", web.ErrCallerGone, err)
	case errors.Is(err, dialer.ErrAgentNotInCampaign):
		return fmt.Errorf("%w: %v", web.ErrNotLoggedIn, err)
	case errors.Is(err, dialer.ErrNoCall):
		return fmt.Errorf("%w: %v", web.ErrNoCall, err)
	case errors.Is(err, dialer.ErrBadControl):
		return fmt.Errorf("%w: %v", web.ErrInvalid, err)
	case errors.Is(err, dialer.ErrAgentBusy):
		return fmt.Errorf("%w: %v", web.ErrBusy, err)
	case errors.Is(err, dialer.ErrNotReady):
		return fmt.Errorf("%w: %v", web.ErrNotReady, err)
	case errors.Is(err, inbound.ErrNotWaiting):
		return fmt.Errorf("%w: %v", web.ErrNotWaiting, err)
	case errors.Is(err, inbound.ErrNoTake), errors.Is(err, inbound.ErrNotMember), errors.Is(err, inbound.ErrRinging),
		errors.Is(err, inbound.ErrCannotCarry):
		return fmt.Errorf("%w: %v", web.ErrConflict, err)
	case errors.Is(err, dialer.ErrPhoneDown), errors.Is(err, dialer.ErrNoPhone), errors.Is(err, dialer.ErrTargetUnavailable):
		return fmt.Errorf("%w: %v", web.ErrConflict, err)
	case errors.As(err, &ite), errors.As(err, &cte), errors.Is(err, dialer.ErrTrunkRefused):
		return fmt.Errorf("%w: %v", web.ErrConflict, err)
	}
	return err
}

func (e *webEngine) Running(ctx context.Context) ([]campaigns.ID, error) {
	list, err := campaigns.List(ctx, e.db)
	if err != nil {
		return nil, err
	}
	var out []campaigns.ID
	for _, c := range list {
		if c.Status != campaigns.StatusActive {
			continue
		}
		if _, err := e.mgr.Loop(ctx, dialer.CampaignID(c.ID)); err == nil {
			out = append(out, c.ID)
		}
	}
	return out, nil
}

func (e *webEngine) Login(ctx context.Context, campaign campaigns.ID, agent agents.ID) error {
	l, err := e.loop(ctx, campaign)
	if err != nil {
		return err
	}
	return mapErr(l.Login(ctx, agent, agents.Config{}))
}

// agentEvents are the agent events the web's actions are.
var agentEvents = map[web.AgentAction]agents.EventKind{
	web.ActReady: agents.EvReady, web.ActPause: agents.EvPause, web.ActLogout: agents.EvLogout,
	web.ActSessionLost: agents.EvSessionLost, web.ActDial: agents.EvAccept, web.ActSkip: agents.EvReject,
	web.ActAccept: agents.EvAccept, web.ActReject: agents.EvReject,
}

func (e *webEngine) Act(ctx context.Context, campaign campaigns.ID, agent agents.ID, action web.AgentAction, pauseCode string) error {
	l, err := e.loop(ctx, campaign)
	if err != nil {
		return err
	}
	switch action {
	case web.ActLogoutIdle:
		return mapErr(l.LogoutIdle(ctx, agent))
	case web.ActDND, web.ActDNDOff:
		return mapErr(l.DND(ctx, agent, action == web.ActDND))
	}
	if action == web.ActAccept && e.in != nil {
		// A callback request is accepted by dialling it.
		off, ok, err := l.InboundOffer(ctx, agent)
		if err != nil {
			return mapErr(err)
		}
		if ok && off.Request != 0 {
			_, err := e.in.Requests.Dial(ctx, l, campaign, agent, off)
			return requestDialErr(err)
		}
	}
	kind, ok := agentEvents[action]
	if !ok {
		return fmt.Errorf("%w: unknown action %s", web.ErrInvalid, action)
	}
	ev := agents.Event{Kind: kind}
	if kind == agents.EvPause {
		ev.PauseCode = pauseCode
	}
	return mapErr(l.AgentEvent(ctx, agent, ev))
}

// requestDialErr maps the refusals of a callback request's dial to what
// the agent is told.
func requestDialErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, inbound.ErrRequestTaken), errors.Is(err, dialer.ErrNoOffer), errors.Is(err, dialer.ErrCallerGone):
		return fmt.Errorf("%w: the callback request was settled or taken just now; you are READY (%v)", web.ErrConflict, err)
	case errors.Is(err, blend.ErrRequestRefused), errors.Is(err, campaigns.ErrNotDialable),
		errors.Is(err, dialer.ErrDialRefused):
		return fmt.Errorf("%w: %v", web.ErrConflict, err)
	}
	return mapErr(err)
}

func (e *webEngine) Control(ctx context.Context, campaign campaigns.ID, agent agents.ID, call web.CallID, c web.CallControl) error {
	l, err := e.loop(ctx, campaign)
	if err != nil {
		return err
	}
	id, cid := agent, dialer.CallID(call)
	switch c.Kind {
	case web.ControlHangup:
		// Only a call the customer has answered: a dial still ringing is
		// the engine's to give up on.
		if got, _, err := l.ConnectedCall(ctx, id); err != nil || got != cid {
			return mapErr(notConnected(err, agent, call))
		}
		err = l.Hangup(ctx, id)
	case web.ControlHold:
		err = l.Hold(ctx, id, cid)
	case web.ControlResume:
		err = l.Resume(ctx, id, cid)
	case web.ControlMute:
		err = l.Mute(ctx, id, cid)
	case web.ControlUnmute:
		err = l.Unmute(ctx, id, cid)
	case web.ControlDTMF:
		err = l.SendDTMF(ctx, id, cid, dialer.Digits(c.Digits))
	case web.ControlTransfer:
		err = l.Transfer(ctx, id, cid, dialerTarget(c.Target))
	case web.ControlConference:
		err = l.AddParty(ctx, id, cid, dialerTarget(c.Target))
	case web.ControlLeave:
		err = l.Leave(ctx, id, cid)
	default:
		return fmt.Errorf("%w: unknown call control %s", web.ErrInvalid, c.Kind)
	}
	return mapErr(err)
}

// notConnected is the error for a hangup of a call that is not the agent's
// connected call.
func notConnected(err error, agent agents.ID, call web.CallID) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("agent %d, call %d: %w", agent, call, dialer.ErrNoCall)
}

func dialerTarget(t web.TransferTarget) dialer.Target {
	switch t.Kind {
	case web.TargetAgent:
		return dialer.AgentTarget(agents.ID(t.Agent))
	case web.TargetQueue:
		return dialer.QueueTarget(t.Queue)
	case web.TargetNumber:
		return dialer.NumberTarget(t.Number)
	}
	return dialer.Target{}
}

func webTarget(t dialer.Target) *web.TransferTarget {
	switch t.Kind {
	case dialer.TargetAgent:
		return &web.TransferTarget{Kind: web.TargetAgent, Agent: int64(t.Agent)}
	case dialer.TargetQueue:
		return &web.TransferTarget{Kind: web.TargetQueue, Queue: t.Queue}
	case dialer.TargetNumber:
		return &web.TransferTarget{Kind: web.TargetNumber, Number: t.Number}
	}
	return nil
}

func (e *webEngine) ManualDial(ctx context.Context, campaign campaigns.ID, agent agents.ID, lead campaigns.LeadID) (web.CallID, error) {
	l, err := e.loop(ctx, campaign)
	if err != nil {
		return 0, err
	}
	call, err := l.ManualDial(ctx, agent, lead)
	switch {
	case err == nil:
		return web.CallID(call), nil
	case errors.Is(err, dialer.ErrLoopStopped), errors.Is(err, dialer.ErrAgentNotInCampaign):
		return 0, mapErr(err)
	case errors.Is(err, campaigns.ErrNotDialable), errors.Is(err, dialer.ErrDialRefused):
		return 0, fmt.Errorf("%w: %v", web.ErrConflict, err)
	case errors.Is(err, campaigns.ErrNotFound):
		return 0, fmt.Errorf("%w: %v", web.ErrNoCall, err)
	}
	return 0, err
}

func (e *webEngine) Disposition(ctx context.Context, campaign campaigns.ID, agent agents.ID, call web.CallID, in campaigns.DispositionInput) (campaigns.DispositionResult, error) {
	l, err := e.loop(ctx, campaign)
	if err != nil {
		return campaigns.DispositionResult{}, err
	}
	res, err := l.Disposition(ctx, agent, dialer.CallID(call), in)
	return res, mapErr(err)
}

func (e *webEngine) DialCallback(ctx context.Context, campaign campaigns.ID, agent agents.ID, id campaigns.CallbackID) (web.CallID, error) {
	l, err := e.loop(ctx, campaign)
	if err != nil {
		return 0, err
	}
	call, err := l.DialCallback(ctx, agent, id)
	switch {
	case err == nil:
		return web.CallID(call), nil
	case errors.Is(err, campaigns.ErrWindowClosed), errors.Is(err, campaigns.ErrOnDNC),
		errors.Is(err, campaigns.ErrCallbackTransition):
		return 0, fmt.Errorf("%w: %v", web.ErrConflict, err)
	case errors.Is(err, campaigns.ErrNotFound):
		return 0, fmt.Errorf("%w: %v", web.ErrNoCall, err)
	}
	return 0, mapErr(err)
}

func (e *webEngine) Agent(ctx context.Context, campaign campaigns.ID, agent agents.ID) (web.AgentView, error) {
	l, err := e.loop(ctx, campaign)
	if err != nil {
		return web.AgentView{}, err
	}
	v, err := l.AgentView(ctx, agent)
	if err != nil {
		return web.AgentView{}, mapErr(err)
	}
	s := v.Session
	out := web.AgentView{Agent: agent, State: v.State, Since: v.Since, PauseCode: v.PauseCode,
		PausePending: v.PausePending, OnHold: v.OnHold, Session: web.Session{Calls: s.Calls, WaitS: s.Wait.Seconds(),
			TalkS: s.Talk.Seconds(), HoldS: s.Hold.Seconds(), DispoS: s.Dispo.Seconds(), PauseS: s.PauseTotal().Seconds()}}
	if s.Calls > 0 {
		out.Session.AvgDispoS = s.Dispo.Seconds() / float64(s.Calls)
	}
	if c := v.Call; c != nil {
		out.Call = &web.CallView{ID: web.CallID(c.ID), Lead: campaigns.LeadID(c.Lead), Number: c.Number, State: c.State, Start: c.Start,
			Muted: c.Muted, Party: webTarget(c.Party), Guest: c.Guest, Inbound: c.Inbound, Queue: c.Queue}
		if c.State == "preview" {
			// A callback's preview shows its notes.
			if o, ok, err := l.Offer(ctx, agent); err == nil && ok && o.Lead.ID == c.Lead {
				out.Call.Callback = o.Callback
			}
		}
	}
	if o := v.Inbound; o != nil {
		out.Inbound = &web.InboundOffer{Queue: o.Queue, QueueName: o.QueueName, DID: o.DID, From: o.From, Entered: o.Entered,
			RingS: o.RingTime.Seconds(), RejectToDND: o.RejectToDND, Leads: make([]web.CallerLead, len(o.Leads)),
			RequestID: o.Request, Name: o.Name}
		for i, m := range o.Leads {
			out.Inbound.Leads[i] = web.CallerLead{Lead: campaigns.LeadID(m.Lead), Campaign: int64(m.Campaign), Name: m.Name}
		}
	}
	return out, nil
}

func (e *webEngine) ConnectedCall(ctx context.Context, campaign campaigns.ID, agent agents.ID) (web.CallID, campaigns.LeadID, error) {
	l, err := e.loop(ctx, campaign)
	if err != nil {
		return 0, 0, err
	}
	call, lead, err := l.ConnectedCall(ctx, agent)
	return web.CallID(call), campaigns.LeadID(lead), mapErr(err)
}

func (e *webEngine) Status(ctx context.Context, campaign campaigns.ID) (web.CampaignStatus, error) {
	l, err := e.loop(ctx, campaign)
	if err != nil {
		return web.CampaignStatus{}, err
	}
	st, err := l.Status(ctx)
	if err != nil {
		return web.CampaignStatus{}, mapErr(err)
	}
	c := st.Counters
	out := web.CampaignStatus{Campaign: campaign, Dials: c.Dials, LiveAnswers: c.LiveAnswers, Abandons: c.Abandons,
		Connected: c.Connected, Machines: c.Machines, Busy: c.Busy, Failed: c.Failed, NoAnswer: c.NoAnswer,
		WindowLive: st.Budget.Live, WindowAbandons: st.Budget.Abandons, WindowRate: st.Budget.Rate(),
		Lines: st.Lines, Waiting: st.Waiting, InCall: st.Connected, DialLevel: st.DialLevel()}
	if w := st.Warmup; w != nil {
		out.Pacing = &web.Pacing{Learning: w.Learning, Dials: w.Dials, Talks: w.Talks, NeedDials: w.NeedDials, NeedTalks: w.NeedTalks}
	}
	for _, a := range st.Agents {
		out.Agents = append(out.Agents, web.AgentStatus{Agent: a.ID, State: a.State, Since: a.Since,
			PauseCode: a.PauseCode, PausePending: a.PausePending, Call: web.CallID(a.Call),
			Lead: campaigns.LeadID(a.Lead.ID), Number: a.Lead.Number})
	}
	return out, nil
}

func (e *webEngine) Subscribe(ctx context.Context, campaign campaigns.ID) (<-chan web.Transition, func(), error) {
	l, err := e.loop(ctx, campaign)
	if err != nil {
		return nil, nil, err
	}
	in, cancel, err := l.Subscribe(ctx, 1024)
	if err != nil {
		return nil, nil, mapErr(err)
	}
	calls, cancelCalls, err := l.SubscribeCalls(ctx, 1024)
	if err != nil {
		cancel()
		return nil, nil, mapErr(err)
	}
	out := make(chan web.Transition, 1024)
	go func() {
		defer close(out)
		for in != nil || calls != nil {
			var t web.Transition
			select {
			case a, ok := <-in:
				if !ok {
					in = nil
					continue
				}
				t = web.Transition{Campaign: campaign, Agent: a.Agent, At: a.At, Event: a.Event.String(),
					From: a.From, To: a.To, PauseCode: a.PauseCode}
			case c, ok := <-calls:
				if !ok {
					calls = nil
					continue
				}
				t = web.Transition{Campaign: campaign, Agent: c.Agent, At: c.At, Event: "call", Call: webCallChange(c)}
			}
			// Like the loop, never wait for a slow reader.
			select {
			case out <- t:
			default:
			}
		}
	}()
	return out, func() { cancel(); cancelCalls() }, nil
}

// webCallChange is a change of an agent's call as the workspace names it.
func webCallChange(c dialer.CallChange) *web.CallChange {
	out := &web.CallChange{Call: web.CallID(c.Call), Lead: campaigns.LeadID(c.Lead), Number: c.Number, Muted: c.Muted}
	if c.Digit != 0 {
		out.Digit = string(c.Digit)
	}
	out.Notice = c.Notice
	switch c.State {
	case dialer.CallQueued, dialer.CallDialing:
		out.State = "dialing"
	case dialer.CallRinging:
		out.State = "ringing"
	case dialer.CallHeld:
		out.State = "held"
	case dialer.CallConference:
		out.State = "conference"
	case dialer.CallWrapUp, dialer.CallEnded:
		out.State = "ended"
		out.Outcome = c.Outcome.String()
		out.Disposition = dialer.SystemDisposition(c.Outcome)
	default:
		out.State = "connected"
	}
	return out
}

func (e *webEngine) History(ctx context.Context, agent agents.ID, limit int) ([]web.HistoryCall, error) {
	h, err := dialer.AgentHistory(ctx, e.db, agent, limit)
	return convertHistory(h), err
}

func (e *webEngine) LeadHistory(ctx context.Context, lead campaigns.LeadID, limit int) ([]web.HistoryCall, error) {
	h, err := dialer.LeadHistory(ctx, e.db, dialer.LeadID(lead), limit)
	return convertHistory(h), err
}

func convertHistory(h []dialer.HistoryCall) []web.HistoryCall {
	out := make([]web.HistoryCall, len(h))
	for i := range h {
		out[i] = web.HistoryCall(h[i])
	}
	return out
}

func (e *webEngine) DayStats(ctx context.Context, campaign campaigns.ID, since time.Time, saleCodes []string) (web.DayStats, error) {
	s, err := dialer.CampaignDayStats(ctx, e.db, dialer.CampaignID(campaign), since, saleCodes)
	out := web.DayStats{Dials: s.Dials, LiveAnswers: s.LiveAnswers, Abandons: s.Abandons, Dispositions: s.Dispositions,
		AvgDispoS: s.AvgDispoS, AgentDispoS: s.AgentDispoS, Agents: make(map[int64]web.AgentDay, len(s.Agents))}
	for id, a := range s.Agents {
		out.Agents[id] = web.AgentDay(a)
	}
	return out, err
}

// webRouter is web.Router over the nodes and campaign_leases tables.
type webRouter struct {
	db   *pgxpool.Pool
	node string
}

func (r webRouter) Owner(ctx context.Context, campaign campaigns.ID) (web.Node, error) {
	id, addr, err := dialer.OwnerNode(ctx, r.db, dialer.CampaignID(campaign))
	if errors.Is(err, campaigns.ErrNotFound) {
		return web.Node{}, fmt.Errorf("%w: %v", web.ErrNotRunning, err)
	}
	return web.Node{ID: id, Addr: addr, Local: id == r.node}, err
}

func (r webRouter) Node(ctx context.Context, id string) (web.Node, error) {
	addr, err := dialer.NodeAddr(ctx, r.db, id)
	if errors.Is(err, campaigns.ErrNotFound) {
		return web.Node{}, fmt.Errorf("%w: %v", web.ErrNotRunning, err)
	}
	return web.Node{ID: id, Addr: addr, Local: id == r.node}, err
}

func (r webRouter) Nodes(ctx context.Context) ([]web.Node, error) {
	list, err := dialer.AliveNodes(ctx, r.db)
	out := make([]web.Node, len(list))
	for i, n := range list {
		out[i] = web.Node{ID: n.ID, Addr: n.HTTPAddr, Local: n.ID == r.node}
	}
	return out, err
}

func (r webRouter) Running(ctx context.Context) ([]campaigns.ID, error) {
	ids, err := dialer.OwnedCampaigns(ctx, r.db)
	out := make([]campaigns.ID, len(ids))
	for i, id := range ids {
		out[i] = campaigns.ID(id)
	}
	return out, err
}

// webJobs is web.Jobs over the River runner.
type webJobs struct{ r *jobs.Runner }

func (w webJobs) ListJobs(ctx context.Context, f web.JobFilter) (web.JobPage, error) {
	for _, s := range f.States {
		if !slices.Contains(jobs.JobStates(), s) {
			return web.JobPage{}, fmt.Errorf("%w: unknown job state %q (one of %v)", web.ErrInvalid, s, jobs.JobStates())
		}
	}
	p, err := w.r.ListJobs(ctx, jobs.JobFilter(f))
	if err != nil && strings.HasPrefix(err.Error(), "bad cursor") {
		return web.JobPage{}, fmt.Errorf("%w: %v", web.ErrInvalid, err)
	}
	if err != nil {
		return web.JobPage{}, err
	}
	out := web.JobPage{Next: p.Next, Jobs: make([]web.JobInfo, len(p.Jobs))}
	for i, j := range p.Jobs {
		out.Jobs[i] = web.JobInfo(j)
	}
	return out, nil
}

func (w webJobs) CountJobs(ctx context.Context) ([]web.JobCount, error) {
	c, err := w.r.CountJobs(ctx)
	out := make([]web.JobCount, len(c))
	for i := range c {
		out[i] = web.JobCount(c[i])
	}
	return out, err
}

func (w webJobs) RetryJob(ctx context.Context, id int64) (web.JobInfo, error) {
	j, err := w.r.RetryJob(ctx, id)
	return web.JobInfo(j), jobErr(err)
}

func (w webJobs) CancelJob(ctx context.Context, id int64) (web.JobInfo, error) {
	j, err := w.r.CancelJob(ctx, id)
	return web.JobInfo(j), jobErr(err)
}

func jobErr(err error) error {
	if errors.Is(err, jobs.ErrJobNotFound) {
		return fmt.Errorf("%w: %v", web.ErrJobNotFound, err)
	}
	return err
}

// Waiting lists the callers this node's router holds in the agent's
// queues: an agent is offered only callers of the node running their
// campaign, so those are the ones they can take.
func (e *webEngine) Waiting(ctx context.Context, campaign campaigns.ID, agent agents.ID) ([]web.WaitingCaller, error) {
	if _, err := e.loop(ctx, campaign); err != nil {
		return nil, err
	}
	if e.in == nil {
		return nil, nil
	}
	r := e.in.Router
	qs := r.QueuesOf(agent)
	if len(qs) == 0 {
		return nil, nil
	}
	ws := r.Waiting(qs...)
	out := make([]web.WaitingCaller, len(ws))
	for i, w := range ws {
		leads := make([]web.CallerLead, len(w.Leads))
		for j, l := range w.Leads {
			leads[j] = web.CallerLead{Lead: campaigns.LeadID(l.Lead), Campaign: l.Campaign, Name: l.Name}
		}
		out[i] = web.WaitingCaller{Call: web.CallID(blend.Leg(w.Call)), Queue: int64(w.Queue), QueueName: w.QueueName,
			AllowTake: w.AllowTake, From: w.From, DID: w.DID, Entered: w.Entered, Ringing: w.Ringing, Leads: leads,
			CannotCarry: w.Request == 0 && !e.in.canTake(agent, w.Call), RequestID: int64(w.Request), Name: w.Name}
	}
	return out, nil
}

func (e *webEngine) TakeInbound(ctx context.Context, campaign campaigns.ID, agent agents.ID, call web.CallID) error {
	l, err := e.loop(ctx, campaign)
	if err != nil {
		return err
	}
	return mapErr(l.TakeInbound(ctx, agent, dialer.CallID(call)))
}

func (e *webEngine) AttachLead(ctx context.Context, campaign campaigns.ID, agent agents.ID, call web.CallID, lead campaigns.LeadID) error {
	l, err := e.loop(ctx, campaign)
	if err != nil {
		return err
	}
	_, err = l.AttachLead(ctx, agent, dialer.CallID(call), dialer.LeadID(lead))
	if errors.Is(err, dialer.ErrNotInbound) {
		return fmt.Errorf("%w: %v", web.ErrNoCall, err)
	}
	return mapErr(err)
}
