package agents

import "time"

// Config holds per-agent settings that change where transitions lead.
type Config struct {
	// RejectPauses sends an agent who rejects or lets an offer time out to
	// PAUSED with code DND instead of back to READY, so a walked-away agent
	// stops receiving offers.
	RejectPauses bool
}

// Session accumulates time over one login, split by what the agent was doing.
type Session struct {
	LoginAt time.Time
	Wait    time.Duration // READY, and DIALING (the agent's own call not answered yet)
	Ring    time.Duration // RINGING (an offer waiting for accept/reject)
	Talk    time.Duration // INCALL, not on hold
	Hold    time.Duration // INCALL, on hold
	Dispo   time.Duration // DISPO: call end until disposition saved
	Pause   map[string]time.Duration
	Calls   int // calls whose dispo closed in this session
}

// LoggedIn is the session's total accounted time.
func (s Session) LoggedIn() time.Duration {
	d := s.Wait + s.Ring + s.Talk + s.Hold + s.Dispo
	for _, p := range s.Pause {
		d += p
	}
	return d
}

// PauseTotal sums pause time over all codes.
func (s Session) PauseTotal() time.Duration {
	var d time.Duration
	for _, p := range s.Pause {
		d += p
	}
	return d
}

// CallTimes is the accounting of one call from the agent's side.
type CallTimes struct {
	Start     time.Time // connect or accept
	TalkEnd   time.Time // call end (zero if the session ended first)
	End       time.Time // disposition saved, wrap-up timeout or logout
	Talk      time.Duration
	Hold      time.Duration
	Dispo     time.Duration
	AutoDispo bool // closed by the wrap-up limit rather than by the agent
}

// Agent is one agent's state machine and accounting. Not safe for concurrent
// use: exactly one goroutine owns it.
type Agent struct {
	id    ID
	cfg   Config
	clock Clock
	sink  Sink

	state        State
	pauseCode    string
	pendingPause string // set while INCALL/DISPO: go PAUSED(code) after DISPO
	// beforeDND and beforeDNDCode are where DND off returns the agent.
	beforeDND     State
	beforeDNDCode string
	held          bool
	since         time.Time // entered current state
	mark          time.Time // last time accounted

	session Session
	call    CallTimes
	inCall  bool
}

// New returns a logged-out agent. sink may be nil.
func New(id ID, cfg Config, clock Clock, sink Sink) *Agent {
	return &Agent{id: id, cfg: cfg, clock: clock, sink: sink, state: LoggedOut, since: clock.Now()}
}

func (a *Agent) ID() ID                { return a.id }
func (a *Agent) State() State          { return a.state }
func (a *Agent) PauseCode() string     { return a.pauseCode }
func (a *Agent) PausePending() string  { return a.pendingPause }
func (a *Agent) OnHold() bool          { return a.held }
func (a *Agent) StateSince() time.Time { return a.since }

// CallStart is when the open call began (zero when none is open).
func (a *Agent) CallStart() time.Time {
	if !a.inCall {
		return time.Time{}
	}
	return a.call.Start
}

// Session returns the current session's accounting up to now, including the
// time spent so far in the current state.
func (a *Agent) Session() Session {
	s := a.session
	s.Pause = make(map[string]time.Duration, len(a.session.Pause))
	for k, v := range a.session.Pause {
		s.Pause[k] = v
	}
	if a.state != LoggedOut {
		d := a.clock.Now().Sub(a.mark)
		switch a.state {
		case Ready, Dialing:
			s.Wait += d
		case Ringing:
			s.Ring += d
		case InCall:
			if a.held {
				s.Hold += d
			} else {
				s.Talk += d
			}
		case Dispo:
			s.Dispo += d
		case Paused:
			s.Pause[a.pauseCode] += d
		case DND:
			s.Pause[PauseCodeDND] += d
		}
	}
	return s
}

// OpenCall returns the accounting of the open call up to now, as closing it
// at now would record it; ok is false when no call is open.
func (a *Agent) OpenCall(now time.Time) (c CallTimes, ok bool) {
	if !a.inCall {
		return CallTimes{}, false
	}
	c = a.call
	if d := now.Sub(a.mark); d > 0 {
		switch {
		case a.state == InCall && a.held:
			c.Hold += d
		case a.state == InCall:
			c.Talk += d
		case a.state == Dispo:
			c.Dispo += d
		}
	}
	return c, true
}

// Peek returns the transition Apply(ev) would make now, changing nothing:
// a caller that must record a transition before it happens (in a
// transaction that may fail) records exactly what Apply will then produce.
func (a *Agent) Peek(ev Event) (Transition, error) {
	c := *a
	c.sink = nil
	c.session.Pause = make(map[string]time.Duration, len(a.session.Pause))
	for k, v := range a.session.Pause {
		c.session.Pause[k] = v
	}
	return c.Apply(ev)
}

// Apply feeds one event through the table. On success it returns the
// transition (also handed to the sink); on refusal it returns an
// *IllegalTransitionError and changes nothing.
func (a *Agent) Apply(ev Event) (Transition, error) {
	if ev.Kind >= numEvents || a.state >= numStates {
		return Transition{}, &IllegalTransitionError{Agent: a.id, State: a.state, Event: ev.Kind, Reason: "unknown event"}
	}
	r := table[a.state][ev.Kind]
	if r.act == actIllegal {
		return Transition{}, &IllegalTransitionError{Agent: a.id, State: a.state, Event: ev.Kind}
	}
	switch {
	case r.act == actHold && a.held:
		return Transition{}, &IllegalTransitionError{Agent: a.id, State: a.state, Event: ev.Kind, Reason: "already on hold"}
	case r.act == actResume && !a.held:
		return Transition{}, &IllegalTransitionError{Agent: a.id, State: a.state, Event: ev.Kind, Reason: "not on hold"}
	case r.act == actCancelPause && a.pendingPause == "":
		return Transition{}, &IllegalTransitionError{Agent: a.id, State: a.state, Event: ev.Kind, Reason: "no pause was asked for after this call"}
	}

	now := a.clock.Now()
	if !ev.At.IsZero() && ev.At.Before(now) {
		now = ev.At
		if now.Before(a.mark) {
			now = a.mark
		}
	}
	a.account(now)
	from := a.state
	to := r.to
	var closed *CallTimes

	switch r.act {
	case actLogin:
		a.session = Session{LoginAt: now, Pause: make(map[string]time.Duration, 2)}
		a.pauseCode = PauseCodeLogin
	case actPause:
		a.pauseCode = pauseCode(ev.PauseCode)
	case actReady:
		a.pauseCode = ""
	case actRequestPause:
		a.pendingPause = pauseCode(ev.PauseCode)
	case actCancelPause:
		a.pendingPause = ""
	case actStartCall:
		a.inCall = true
		a.held = false
		a.call = CallTimes{Start: now}
	case actRingEnded:
		if ev.DND {
			to = DND
			a.beforeDND, a.beforeDNDCode = Ready, ""
		} else if a.cfg.RejectPauses {
			to = Paused
			a.pauseCode = PauseCodeDND
		}
	case actDND:
		a.beforeDND, a.beforeDNDCode = from, a.pauseCode
		a.pauseCode = ""
	case actDNDOff:
		to = a.beforeDND
		a.pauseCode = a.beforeDNDCode
	case actHold:
		a.held = true
	case actResume:
		a.held = false
	case actCallEnd:
		a.held = false
		a.call.TalkEnd = now
	case actDispoDone:
		a.call.End = now
		a.call.AutoDispo = ev.Kind == EvWrapupTimeout
		closed = a.closeCall()
		switch {
		case a.pendingPause != "":
			to = Paused
			a.pauseCode = a.pendingPause
			a.pendingPause = ""
		case ev.Kind == EvWrapupTimeout && ev.PauseCode != "":
			to = Paused
			a.pauseCode = ev.PauseCode
		}
	case actDialEnded:
		if a.pendingPause != "" {
			to = Paused
			a.pauseCode = a.pendingPause
			a.pendingPause = ""
		}
	case actLogout:
		if a.inCall {
			if a.call.TalkEnd.IsZero() {
				a.call.TalkEnd = now
			}
			a.call.End = now
			closed = a.closeCall()
		}
		a.held = false
		a.pendingPause = ""
		a.pauseCode = ""
	}

	a.state = to
	if from != to {
		a.since = now
	}
	t := Transition{Agent: a.id, At: now, Event: ev.Kind, From: from, To: to, Call: closed}
	if to == Paused {
		t.PauseCode = a.pauseCode
	}
	if a.sink != nil {
		a.sink.AppendTransition(t)
	}
	return t, nil
}

func (a *Agent) closeCall() *CallTimes {
	c := a.call
	a.inCall = false
	a.call = CallTimes{}
	a.session.Calls++
	return &c
}

// account credits the time since the last event to the bucket of the state
// the agent was in, so every second of a session lands in exactly one bucket.
func (a *Agent) account(now time.Time) {
	d := now.Sub(a.mark)
	a.mark = now
	if d <= 0 {
		return
	}
	switch a.state {
	case Ready, Dialing:
		a.session.Wait += d
	case Ringing:
		a.session.Ring += d
	case InCall:
		if a.held {
			a.session.Hold += d
			a.call.Hold += d
		} else {
			a.session.Talk += d
			a.call.Talk += d
		}
	case Dispo:
		a.session.Dispo += d
		a.call.Dispo += d
	case Paused:
		a.session.Pause[a.pauseCode] += d
	case DND:
		a.session.Pause[PauseCodeDND] += d
	}
}

func pauseCode(c string) string {
	if c == "" {
		return PauseCodeDefault
	}
	return c
}
