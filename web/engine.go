package web

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
)

// CallID is a call as the dialer numbers it (dialer.CallID, calls.id); the
// web does not import the dialer, so it has its own.
type CallID uint64

// AgentAction is one of the agent's own actions the engine takes (Act).
// Its JSON, on the cluster's wire, is its name.
type AgentAction uint8

const (
	ActReady AgentAction = iota + 1
	ActPause
	ActLogout
	ActSessionLost
	ActDial // dial the lead offered as a preview
	ActSkip // skip it
	// ActLogoutIdle logs the agent out only while READY or PAUSED (a
	// supervisor's force logout): on a call, ringing or in wrap-up it is
	// refused with ErrBusy, checked in the campaign's loop so no call can
	// slip in between the check and the logout.
	ActLogoutIdle
	// ActAccept and ActReject answer the inbound call offered to the agent
	// (ErrCallerGone when the caller hung up meanwhile); ActDND and
	// ActDNDOff switch do-not-disturb on (from READY or PAUSED) and off.
	ActAccept
	ActReject
	ActDND
	ActDNDOff
	numAgentActions
)

var agentActionNames = [numAgentActions]string{"", "ready", "pause", "logout", "session_lost", "dial", "skip", "logout_idle",
	"accept", "reject", "dnd", "dnd_off"}

func (a AgentAction) String() string {
	if a < numAgentActions {
		return agentActionNames[a]
	}
	return fmt.Sprintf("AgentAction(%d)", uint8(a))
}

// MarshalText writes the action's name.
func (a AgentAction) MarshalText() ([]byte, error) {
	if a == 0 || a >= numAgentActions {
		return nil, fmt.Errorf("agent action %d is not an action", uint8(a))
	}
	return []byte(agentActionNames[a]), nil
}

// UnmarshalText reads an action's name.
func (a *AgentAction) UnmarshalText(b []byte) error {
	for k := ActReady; k < numAgentActions; k++ {
		if agentActionNames[k] == string(b) {
			*a = k
			return nil
		}
	}
	return fmt.Errorf("unknown agent action %q", b)
}

// Engine is the dialer as the web sees it: the campaign loops running on
// this node, addressed by campaign and agent (a user's id). cmd/pacer
// implements it over the campaign manager. Errors wrap the sentinels below
// so handlers can answer with the right status.
type Engine interface {
	// Running lists the campaigns whose loops run on this node.
	Running(ctx context.Context) ([]campaigns.ID, error)
	// Login puts the agent in the campaign (PAUSED, code LOGIN).
	Login(ctx context.Context, campaign campaigns.ID, agent agents.ID) error
	// Act feeds one of the agent's own actions: ready, pause (with a pause
	// code), logout, session lost, dial and skip (a preview).
	Act(ctx context.Context, campaign campaigns.ID, agent agents.ID, action AgentAction, pauseCode string) error
	// Control runs a control on the agent's call (call names it, so a call
	// that ended meanwhile is not mistaken for the next one): the engine
	// checks it against the call's state and has the trunk carry it out.
	// A wrong state wraps ErrConflict, a bad argument ErrInvalid, no such
	// call ErrNoCall.
	Control(ctx context.Context, campaign campaigns.ID, agent agents.ID, call CallID, c CallControl) error
	// ManualDial claims the campaign's lead (calling window, DNC, attempt
	// limits) and dials it for the READY agent.
	ManualDial(ctx context.Context, campaign campaigns.ID, agent agents.ID, lead campaigns.LeadID) (CallID, error)
	// Disposition saves the agent's disposition of the call awaiting it
	// (call 0: whichever that is; otherwise it must be that call), with its
	// notes and callback, in one transaction. Bad input wraps the campaigns
	// errors for which campaigns.IsDispositionInputError is true.
	Disposition(ctx context.Context, campaign campaigns.ID, agent agents.ID, call CallID, in campaigns.DispositionInput) (campaigns.DispositionResult, error)
	// DialCallback dials one of the READY agent's callbacks (or an anyone
	// callback of the campaign) at once: click to dial.
	DialCallback(ctx context.Context, campaign campaigns.ID, agent agents.ID, id campaigns.CallbackID) (CallID, error)
	// Agent reports the agent's state and the call on their screen.
	Agent(ctx context.Context, campaign campaigns.ID, agent agents.ID) (AgentView, error)
	// ConnectedCall is the call the agent is talking on, or ErrNoCall.
	ConnectedCall(ctx context.Context, campaign campaigns.ID, agent agents.ID) (CallID, campaigns.LeadID, error)
	// Status is the campaign's live figures.
	Status(ctx context.Context, campaign campaigns.ID) (CampaignStatus, error)
	// Subscribe streams the campaign's agent transitions until cancel.
	Subscribe(ctx context.Context, campaign campaigns.ID) (<-chan Transition, func(), error)
	// History lists the calls an agent handled; LeadHistory the calls to
	// a lead; DayStats a campaign's figures since a moment.
	History(ctx context.Context, agent agents.ID, limit int) ([]HistoryCall, error)
	LeadHistory(ctx context.Context, lead campaigns.LeadID, limit int) ([]HistoryCall, error)
	// saleCodes are the campaign's dispositions of the sale category.
	DayStats(ctx context.Context, campaign campaigns.ID, since time.Time, saleCodes []string) (DayStats, error)
	// Waiting lists the callers waiting in the queues the agent serves, as
	// the inbound router of the node running their campaign holds them (the
	// only callers that node can bridge to the agent), best place first.
	Waiting(ctx context.Context, campaign campaigns.ID, agent agents.ID) ([]WaitingCaller, error)
	// AttachLead makes lead the lead of the agent's inbound call (call
	// names it): the lead panel shows it and the agent's disposition
	// settles it, without counting an attempt. No such call wraps ErrNoCall.
	AttachLead(ctx context.Context, campaign campaigns.ID, agent agents.ID, call CallID, lead campaigns.LeadID) error
	// TakeInbound gives the READY agent the waiting caller they picked from
	// the queue panel: offered and accepted at once. Refusals wrap
	// ErrNotReady, ErrNotWaiting or ErrConflict (the queue does not allow
	// it, not the agent's queue, ringing another agent).
	TakeInbound(ctx context.Context, campaign campaigns.ID, agent agents.ID, call CallID) error
}

// WaitingCaller is a caller waiting in one of an agent's queues.
type WaitingCaller struct {
	// Call is the caller's leg (an inbound call key, above 2^62: JSON
	// carries it as a string).
	Call      CallID    `json:"call_id,string"`
	Queue     int64     `json:"queue_id"`
	QueueName string    `json:"queue"`
	AllowTake bool      `json:"allow_take"`
	From      string    `json:"from"`
	DID       string    `json:"did"`
	Entered   time.Time `json:"entered"`
	// Ringing are the agents the caller is being offered to now.
	Ringing []agents.ID  `json:"ringing"`
	Leads   []CallerLead `json:"leads"`
	// CannotCarry: the agent's campaign cannot bridge this caller (a SIP
	// caller, a campaign on the simulated carrier, or the reverse).
	CannotCarry bool `json:"cannot_carry,omitempty"`
	// RequestID is set for a callback request the caller left (nobody is
	// on the line; it is offered when its turn comes); Name is theirs.
	RequestID int64  `json:"request_id,omitempty"`
	Name      string `json:"name,omitempty"`
}

// Errors an Engine wraps.
var (
	// ErrNotRunning: the campaign has no loop on this node.
	ErrNotRunning = errors.New("campaign is not running")
	// ErrNotLoggedIn: the agent is not in the campaign.
	ErrNotLoggedIn = errors.New("agent is not logged in to the campaign")
	// ErrNoCall: the agent has no call the action applies to.
	ErrNoCall = errors.New("no call")
	// ErrConflict: the action is not possible in the agent's state.
	ErrConflict = errors.New("not possible now")
	// ErrInvalid: a bad argument (unknown disposition code).
	ErrInvalid = errors.New("invalid")
	// ErrBusy: the agent is on a call, ringing or in wrap-up.
	ErrBusy = errors.New("agent is busy with a call")
	// ErrCallerGone: the agent accepted an inbound call whose caller had
	// just hung up; the agent is READY again.
	ErrCallerGone = errors.New("the caller hung up")
	// ErrNotReady: the action needs the agent READY (taking a waiting
	// caller).
	ErrNotReady = errors.New("you are not READY")
	// ErrNotWaiting: the caller the agent picked is no longer waiting.
	ErrNotWaiting = errors.New("the caller is no longer waiting")
)

// AgentView is an agent's live state.
type AgentView struct {
	Agent        agents.ID    `json:"agent_id"`
	State        agents.State `json:"state"`
	Since        time.Time    `json:"since"`
	PauseCode    string       `json:"pause_code,omitempty"`
	PausePending string       `json:"pause_pending,omitempty"`
	OnHold       bool         `json:"on_hold"`
	Session      Session      `json:"session"`
	Call         *CallView    `json:"call,omitempty"`
	// Inbound is the inbound call ringing the agent (state RINGING; Call
	// is then nil), answered with ActAccept or ActReject.
	Inbound *InboundOffer `json:"inbound,omitempty"`
}

// InboundOffer is an inbound caller offered to an agent: the number they
// dialled and its queue, who they are, and how long the offer rings.
type InboundOffer struct {
	Queue     int64     `json:"queue_id"`
	QueueName string    `json:"queue"`
	DID       string    `json:"did"`
	From      string    `json:"from"`
	Entered   time.Time `json:"entered"`
	RingS     float64   `json:"ring_s"`
	// RejectToDND: rejecting (or letting it ring out) puts the agent in DND.
	RejectToDND bool `json:"reject_to_dnd"`
	// Leads are the leads whose number is the caller's.
	Leads []CallerLead `json:"leads"`
	// RequestID is set when the offer is a callback request the caller
	// left (From is the number to call; Name the caller's): accepting it
	// dials it.
	RequestID int64  `json:"request_id,omitempty"`
	Name      string `json:"name,omitempty"`
}

// CallerLead is a lead whose number matched an inbound caller's.
type CallerLead struct {
	Lead     campaigns.LeadID `json:"lead_id"`
	Campaign int64            `json:"campaign_id"`
	Name     string           `json:"name"`
}

// Session is an agent's accounting since login, in seconds.
type Session struct {
	Calls  int     `json:"calls"`
	WaitS  float64 `json:"wait_s"`
	TalkS  float64 `json:"talk_s"`
	HoldS  float64 `json:"hold_s"`
	DispoS float64 `json:"dispo_s"`
	PauseS float64 `json:"pause_s"`
	// AvgDispoS is DispoS over Calls.
	AvgDispoS float64 `json:"avg_dispo_s"`
}

// CallView is the call on an agent's screen.
type CallView struct {
	ID     CallID           `json:"id"`
	Lead   campaigns.LeadID `json:"lead_id"`
	Number string           `json:"number"`
	State  string           `json:"state"` // preview, dialing, ringing, connected, held, ended
	Start  time.Time        `json:"start"`
	// Muted: the agent's audio does not reach the customer.
	Muted bool `json:"muted"`
	// Party is the third party while the call is a conference.
	Party *TransferTarget `json:"party,omitempty"`
	// Guest: the conference is Party's, who can leave the customer to this
	// agent or end it.
	Guest bool `json:"guest,omitempty"`
	// Callback is set when a preview is one of the agent's callbacks.
	Callback *campaigns.Callback `json:"callback,omitempty"`
	// Inbound: the caller dialled in through Queue; Number is theirs, and
	// Lead is the lead the agent attached (AttachLead), 0 while none.
	Inbound bool  `json:"inbound,omitempty"`
	Queue   int64 `json:"queue_id,omitempty"`
}

// Transition is one agent state change.
type Transition struct {
	Campaign  campaigns.ID `json:"campaign_id"`
	Agent     agents.ID    `json:"agent_id"`
	At        time.Time    `json:"at"`
	Event     string       `json:"event"`
	From      agents.State `json:"from"`
	To        agents.State `json:"state"`
	PauseCode string       `json:"pause_code,omitempty"`
	Name      string       `json:"name,omitempty"`
	// Call, when set, makes this a change of the agent's call rather than
	// of the agent (From and To are then the agent's state, unchanged).
	Call *CallChange `json:"call,omitempty"`
}

// CallChange is a change of the call on an agent's screen: their own dial
// ringing, answered, on hold, muted, ended (with its outcome), or a call
// connected to them.
type CallChange struct {
	Call   CallID           `json:"call_id"`
	Lead   campaigns.LeadID `json:"lead_id"`
	Number string           `json:"number"`
	// State is the call's, as CallView names it: dialing, ringing,
	// connected, held, conference, ended.
	State string `json:"state"`
	// Outcome, once ended: completed (a person talked to the agent),
	// no_answer, busy, machine, failed, invalid, abandoned; Disposition
	// is the code an unanswered call got by itself (NA, B, AA, FAIL).
	Outcome     string `json:"outcome,omitempty"`
	Disposition string `json:"disposition,omitempty"`
	Muted       bool   `json:"muted"`
	// Digit is a key the customer pressed (the call is otherwise as it was).
	Digit string `json:"digit,omitempty"`
	// Notice is news about the call for the agent (a transfer not answered).
	Notice string `json:"notice,omitempty"`
}

// AgentStatus is one agent on the wallboard.
type AgentStatus struct {
	Agent     agents.ID    `json:"agent_id"`
	Name      string       `json:"name"`
	State     agents.State `json:"state"`
	Since     time.Time    `json:"since"`
	PauseCode string       `json:"pause_code,omitempty"`
	// PausePending is a pause asked for during the call, taken after it.
	PausePending string `json:"pause_pending,omitempty"`
	// Call is the call the agent is on or wrapping up (0: none), Lead and
	// Number its lead.
	Call   CallID           `json:"call_id,omitempty"`
	Lead   campaigns.LeadID `json:"lead_id,omitempty"`
	Number string           `json:"number,omitempty"`
	// Today's figures (the wallboard fills them from DayStats).
	Calls int64   `json:"calls"`
	TalkS float64 `json:"talk_s"`
	Sales int64   `json:"sales"`
	// Overrun is set when the agent is past their wrap-up or pause limit.
	Overrun string `json:"overrun,omitempty"`
}

// CampaignStatus is a campaign loop's live figures.
type CampaignStatus struct {
	Campaign campaigns.ID `json:"campaign_id"`
	// Totals since the loop started.
	Dials       int64 `json:"dials"`
	LiveAnswers int64 `json:"live_answers"`
	Abandons    int64 `json:"abandons"`
	Connected   int64 `json:"connected"`
	Machines    int64 `json:"machines"`
	Busy        int64 `json:"busy"`
	Failed      int64 `json:"failed"`
	NoAnswer    int64 `json:"no_answer"`
	// Abandon rate over the campaign's legal window.
	WindowLive     int64   `json:"window_live_answers"`
	WindowAbandons int64   `json:"window_abandons"`
	WindowRate     float64 `json:"window_abandon_rate"`
	Target         float64 `json:"abandon_target"`
	// Calls dialling or ringing, live answers waiting, calls connected.
	Lines   int           `json:"lines"`
	Waiting int           `json:"waiting"`
	InCall  int           `json:"connected_calls"`
	Agents  []AgentStatus `json:"agents"`
	// DialLevel is calls dialling or ringing per READY agent (0 with no
	// agent READY), as VICIdial users read it.
	DialLevel float64 `json:"dial_level"`
	// Pacing is how far predictive pacing is in learning the campaign
	// (nil for other policies).
	Pacing *Pacing `json:"pacing,omitempty"`
}

// Pacing is a learning policy's progress: while Learning it paces from
// conservative warm-up priors blended with what it has seen.
type Pacing struct {
	Learning  bool `json:"learning"`
	Dials     int  `json:"dials"`
	Talks     int  `json:"talks"`
	NeedDials int  `json:"need_dials"`
	NeedTalks int  `json:"need_talks"`
}

// HistoryCall is one finished call.
type HistoryCall struct {
	ID          int64      `json:"id"`
	Campaign    int64      `json:"campaign_id"`
	Lead        *int64     `json:"lead_id"`
	Phone       string     `json:"phone"`
	Agent       *int64     `json:"agent_id"`
	Outcome     string     `json:"outcome"`
	Disposition string     `json:"disposition"`
	DialedAt    time.Time  `json:"dialed_at"`
	ConnectedAt *time.Time `json:"connected_at"`
	EndedAt     *time.Time `json:"ended_at"`
	DurationS   float64    `json:"duration_s"`
	Notes       string     `json:"notes"`
	Direction   string     `json:"direction"`
}

// DayStats are a campaign's figures since a moment.
type DayStats struct {
	Dials        int64              `json:"dials"`
	LiveAnswers  int64              `json:"live_answers"`
	Abandons     int64              `json:"abandons"`
	Dispositions map[string]int64   `json:"dispositions"`
	AvgDispoS    float64            `json:"avg_dispo_s"`
	AgentDispoS  map[int64]float64  `json:"agent_dispo_s"`
	Agents       map[int64]AgentDay `json:"agents"`
}

// AgentDay is one agent's connected calls since a moment, their settled
// talk time and sales (dispositions of the sale category).
type AgentDay struct {
	Calls int64   `json:"calls"`
	TalkS float64 `json:"talk_s"`
	Sales int64   `json:"sales"`
}

// ControlKind is a control of the agent's call.
type ControlKind uint8

const (
	ControlHangup ControlKind = iota + 1
	ControlHold
	ControlResume
	ControlMute
	ControlUnmute
	ControlDTMF
	ControlTransfer   // blind, to Target
	ControlConference // a third party (Target) joins: warm transfer
	ControlLeave      // the agent leaves the conference
	numControls
)

// controlNames are the actions of POST /api/v1/agent/call/{action}.
var controlNames = [numControls]string{"", "hangup", "hold", "resume", "mute", "unmute", "dtmf", "transfer",
	"conference", "leave"}

func (k ControlKind) String() string {
	if k < numControls {
		return controlNames[k]
	}
	return fmt.Sprintf("ControlKind(%d)", uint8(k))
}

// controlOf is the control an API action names.
func controlOf(action string) (ControlKind, bool) {
	for k := ControlHangup; k < numControls; k++ {
		if controlNames[k] == action {
			return k, true
		}
	}
	return 0, false
}

// CallControl is one control with its argument.
type CallControl struct {
	Kind   ControlKind
	Digits string         // ControlDTMF: 1-32 of 0-9 * # A-D
	Target TransferTarget // ControlTransfer, ControlConference
}

// TargetKind is what a transfer or conference reaches.
type TargetKind uint8

const (
	TargetAgent TargetKind = iota + 1
	TargetQueue
	TargetNumber
)

// TransferTarget is where a transfer sends the customer, or who joins a
// conference: another agent (a user id), an inbound queue, or a number in
// E.164.
type TransferTarget struct {
	Kind   TargetKind
	Agent  int64
	Queue  string
	Number string
}

// String is how the workspace shows the target and call_actions records it:
// the number, "agent:<id>" or "queue:<name>".
func (t TransferTarget) String() string {
	switch t.Kind {
	case TargetAgent:
		return "agent:" + strconv.FormatInt(t.Agent, 10)
	case TargetQueue:
		return "queue:" + t.Queue
	case TargetNumber:
		return t.Number
	}
	return ""
}
