package agents

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time          { return c.t }
func (c *fakeClock) Advance(d time.Duration) { c.t = c.t.Add(d) }

func newClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)} }

type memSink struct{ got []Transition }

func (m *memSink) AppendTransition(t Transition) { m.got = append(m.got, t) }

// pathTo lists the events that bring a fresh agent into s.
func pathTo(s State) []EventKind {
	switch s {
	case LoggedOut:
		return nil
	case Paused:
		return []EventKind{EvLogin}
	case Ready:
		return []EventKind{EvLogin, EvReady}
	case Ringing:
		return []EventKind{EvLogin, EvReady, EvOffer}
	case InCall:
		return []EventKind{EvLogin, EvReady, EvConnect}
	case Dispo:
		return []EventKind{EvLogin, EvReady, EvConnect, EvCallEnd}
	case Dialing:
		return []EventKind{EvLogin, EvReady, EvDial}
	case DND:
		return []EventKind{EvLogin, EvReady, EvDND}
	}
	panic(fmt.Sprintf("no path to %s", s))
}

func agentIn(t *testing.T, s State, cfg Config) (*Agent, *fakeClock) {
	t.Helper()
	clk := newClock()
	a := New(7, cfg, clk, nil)
	for _, ev := range pathTo(s) {
		clk.Advance(time.Second)
		_, err := a.Apply(Event{Kind: ev})
		require.NoError(t, err)
	}
	require.Equal(t, s, a.State())
	return a, clk
}

// TestTransitionTableExhaustive checks every state × every event against the
// table written out independently here from DESIGN.md §3.
func TestTransitionTableExhaustive(t *testing.T) {
	t.Parallel()
	type key struct {
		s  State
		ev EventKind
	}
	want := map[key]State{
		{LoggedOut, EvLogin}:     Paused,
		{Paused, EvReady}:        Ready,
		{Paused, EvPause}:        Paused,
		{Ready, EvPause}:         Paused,
		{Ready, EvOffer}:         Ringing,
		{Ready, EvConnect}:       InCall,
		{Ringing, EvAccept}:      InCall,
		{Ringing, EvReject}:      Ready,
		{Ringing, EvRingTimeout}: Ready,
		{Ringing, EvCallEnd}:     Ready,
		{InCall, EvPause}:        InCall,
		{InCall, EvHold}:         InCall,
		{InCall, EvCallEnd}:      Dispo,
		{Dispo, EvPause}:         Dispo,
		{Dispo, EvDispoSaved}:    Ready,
		{Dispo, EvWrapupTimeout}: Ready,
		{Ready, EvDial}:          Dialing,
		{Ringing, EvDial}:        Dialing,
		{Dialing, EvPause}:       Dialing,
		{Dialing, EvAnswer}:      InCall,
		{Dialing, EvUnanswered}:  Ready,
		{Ready, EvDND}:           DND,
		{Paused, EvDND}:          DND,
		{DND, EvDNDOff}:          Ready, // where the path came from
		{DND, EvReady}:           Ready,
		{DND, EvPause}:           Paused,
	}
	for _, s := range []State{Paused, Ready, Ringing, InCall, Dispo, Dialing, DND} {
		want[key{s, EvLogout}] = LoggedOut
		want[key{s, EvSessionLost}] = LoggedOut
	}
	// resume is legal in the table but refused unless on hold, and ready
	// during a call unless a pause was asked for after it; tested below.

	for _, s := range States() {
		for _, ev := range EventKinds() {
			t.Run(s.String()+"/"+ev.String(), func(t *testing.T) {
				t.Parallel()
				a, _ := agentIn(t, s, Config{})
				to, legal := want[key{s, ev}]
				tr, err := a.Apply(Event{Kind: ev})
				if !legal {
					require.Error(t, err)
					var ite *IllegalTransitionError
					require.True(t, errors.As(err, &ite))
					require.Contains(t, err.Error(), s.String())
					require.Contains(t, err.Error(), ev.String())
					require.Equal(t, s, a.State(), "refused event must not change state")
					return
				}
				require.NoError(t, err)
				require.Equal(t, to, a.State())
				require.Equal(t, s, tr.From)
				require.Equal(t, to, tr.To)
				require.True(t, Legal(s, ev))
			})
		}
	}
}

// TestPendingPauseCanBeCancelled: an agent who asked to pause after the
// call and changed their mind presses Ready (during the call or its
// disposition) and goes back to READY when the disposition is saved.
func TestPendingPauseCanBeCancelled(t *testing.T) {
	t.Parallel()
	for _, s := range []State{InCall, Dispo} {
		t.Run(s.String(), func(t *testing.T) {
			t.Parallel()
			a, _ := agentIn(t, s, Config{})
			_, err := a.Apply(Event{Kind: EvReady})
			require.ErrorContains(t, err, "no pause was asked for")
			_, err = a.Apply(Event{Kind: EvPause, PauseCode: "LUNCH"})
			require.NoError(t, err)
			require.Equal(t, "LUNCH", a.PausePending())
			tr, err := a.Apply(Event{Kind: EvReady})
			require.NoError(t, err)
			require.Equal(t, s, tr.To, "cancelling the pause leaves the call alone")
			require.Empty(t, a.PausePending())
			if s == InCall {
				_, err = a.Apply(Event{Kind: EvCallEnd})
				require.NoError(t, err)
			}
			_, err = a.Apply(Event{Kind: EvDispoSaved})
			require.NoError(t, err)
			require.Equal(t, Ready, a.State())
		})
	}
}

// An agent's own dial counts talk from the answer, not from the dial: the
// seconds it rang are wait. An unanswered one closes no call, counts no
// dispo time and puts the agent back to READY, or PAUSED when they asked
// for a pause while it rang.
func TestOwnDialTalkStartsAtAnswerAndAnUnansweredOneHasNoWrapUp(t *testing.T) {
	t.Parallel()
	a, clk := agentIn(t, Ready, Config{})
	before := a.Session()
	_, err := a.Apply(Event{Kind: EvDial})
	require.NoError(t, err)
	clk.Advance(25 * time.Second)
	tr, err := a.Apply(Event{Kind: EvUnanswered})
	require.NoError(t, err)
	require.Equal(t, Ready, tr.To)
	require.Nil(t, tr.Call, "an unanswered dial closes no call")
	s := a.Session()
	require.Zero(t, s.Talk)
	require.Zero(t, s.Dispo)
	require.Zero(t, s.Calls)
	require.Equal(t, before.Wait+25*time.Second, s.Wait, "the ringing was wait")

	_, err = a.Apply(Event{Kind: EvDial})
	require.NoError(t, err)
	clk.Advance(10 * time.Second)
	_, err = a.Apply(Event{Kind: EvAnswer})
	require.NoError(t, err)
	require.Equal(t, clk.Now(), a.CallStart(), "the call starts at the answer")
	clk.Advance(30 * time.Second)
	_, err = a.Apply(Event{Kind: EvCallEnd})
	require.NoError(t, err)
	clk.Advance(5 * time.Second)
	tr, err = a.Apply(Event{Kind: EvDispoSaved})
	require.NoError(t, err)
	require.Equal(t, 30*time.Second, tr.Call.Talk)
	require.Equal(t, 5*time.Second, tr.Call.Dispo)

	_, err = a.Apply(Event{Kind: EvDial})
	require.NoError(t, err)
	_, err = a.Apply(Event{Kind: EvPause, PauseCode: "LUNCH"})
	require.NoError(t, err)
	tr, err = a.Apply(Event{Kind: EvUnanswered})
	require.NoError(t, err)
	require.Equal(t, Paused, tr.To)
	require.Equal(t, "LUNCH", tr.PauseCode)
}

func TestHoldResumeAccounting(t *testing.T) {
	t.Parallel()
	a, clk := agentIn(t, InCall, Config{})
	_, err := a.Apply(Event{Kind: EvResume})
	require.ErrorContains(t, err, "not on hold")

	clk.Advance(30 * time.Second)
	_, err = a.Apply(Event{Kind: EvHold})
	require.NoError(t, err)
	_, err = a.Apply(Event{Kind: EvHold})
	require.ErrorContains(t, err, "already on hold")
	clk.Advance(20 * time.Second)
	_, err = a.Apply(Event{Kind: EvResume})
	require.NoError(t, err)
	clk.Advance(10 * time.Second)
	_, err = a.Apply(Event{Kind: EvCallEnd})
	require.NoError(t, err)
	clk.Advance(15 * time.Second)
	tr, err := a.Apply(Event{Kind: EvDispoSaved})
	require.NoError(t, err)

	require.NotNil(t, tr.Call)
	require.Equal(t, 40*time.Second, tr.Call.Talk, "talk excludes hold")
	require.Equal(t, 20*time.Second, tr.Call.Hold)
	require.Equal(t, 15*time.Second, tr.Call.Dispo)
	require.False(t, tr.Call.AutoDispo)

	s := a.Session()
	require.Equal(t, 40*time.Second, s.Talk)
	require.Equal(t, 20*time.Second, s.Hold)
	require.Equal(t, 15*time.Second, s.Dispo)
	require.Equal(t, 1, s.Calls)
}

func TestDispoAndPauseAccounting(t *testing.T) {
	t.Parallel()
	clk := newClock()
	sink := &memSink{}
	a := New(1, Config{}, clk, sink)
	step := func(d time.Duration, ev Event) Transition {
		t.Helper()
		clk.Advance(d)
		tr, err := a.Apply(ev)
		require.NoError(t, err)
		return tr
	}
	step(0, Event{Kind: EvLogin})                                   // PAUSED(LOGIN)
	step(5*time.Second, Event{Kind: EvReady})                       // 5s LOGIN pause
	step(12*time.Second, Event{Kind: EvConnect})                    // 12s wait
	step(100*time.Second, Event{Kind: EvPause, PauseCode: "LUNCH"}) // request during call
	require.Equal(t, "LUNCH", a.PausePending())
	step(20*time.Second, Event{Kind: EvCallEnd}) // 120s talk
	tr := step(30*time.Second, Event{Kind: EvWrapupTimeout})
	require.Equal(t, Paused, tr.To, "a pause requested during the call takes effect after DISPO")
	require.Equal(t, "LUNCH", tr.PauseCode)
	require.True(t, tr.Call.AutoDispo)
	require.Equal(t, 30*time.Second, tr.Call.Dispo)
	step(600*time.Second, Event{Kind: EvPause, PauseCode: "BREAK"})
	step(60*time.Second, Event{Kind: EvReady})
	clk.Advance(8 * time.Second) // open READY segment counted by Session()

	s := a.Session()
	require.Equal(t, 20*time.Second, s.Wait)
	require.Equal(t, 120*time.Second, s.Talk)
	require.Equal(t, 30*time.Second, s.Dispo)
	require.Equal(t, map[string]time.Duration{PauseCodeLogin: 5 * time.Second, "LUNCH": 600 * time.Second, "BREAK": 60 * time.Second}, s.Pause)
	require.Equal(t, 5*time.Second+12*time.Second+120*time.Second+30*time.Second+660*time.Second+8*time.Second, s.LoggedIn())
	require.Len(t, sink.got, 8)
	require.Equal(t, EvLogin, sink.got[0].Event)
}

func TestRejectSetting(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		cfg      Config
		ev       EventKind
		want     State
		wantCode string
	}{
		{"reject back to ready", Config{}, EvReject, Ready, ""},
		{"timeout back to ready", Config{}, EvRingTimeout, Ready, ""},
		{"reject to DND", Config{RejectPauses: true}, EvReject, Paused, PauseCodeDND},
		{"timeout to DND", Config{RejectPauses: true}, EvRingTimeout, Paused, PauseCodeDND},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, _ := agentIn(t, Ringing, tc.cfg)
			tr, err := a.Apply(Event{Kind: tc.ev})
			require.NoError(t, err)
			require.Equal(t, tc.want, a.State())
			require.Equal(t, tc.wantCode, tr.PauseCode)
		})
	}
}

func TestLogoutClosesOpenCall(t *testing.T) {
	t.Parallel()
	a, clk := agentIn(t, InCall, Config{})
	clk.Advance(45 * time.Second)
	tr, err := a.Apply(Event{Kind: EvSessionLost})
	require.NoError(t, err)
	require.Equal(t, LoggedOut, a.State())
	require.NotNil(t, tr.Call, "an open call is finished first")
	require.Equal(t, 45*time.Second, tr.Call.Talk)
	require.Equal(t, 1, a.Session().Calls)
}
