package dialer_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/dialer"
)

// phoneBook is the engine's view of a trunk with agents' phones: it records
// who joined and left; agents in noPhone have none.
type phoneBook struct {
	joined, left []agents.ID
	noPhone      map[agents.ID]bool
}

var errNoPhone = errors.New("no SIP phone")

func (p *phoneBook) JoinAgent(_ context.Context, id agents.ID) error {
	if p.noPhone[id] {
		return errNoPhone
	}
	p.joined = append(p.joined, id)
	return nil
}

func (p *phoneBook) LeaveAgent(_ context.Context, id agents.ID) { p.left = append(p.left, id) }

func (h *harness) phone(id agents.ID, k dialer.TrunkEventKind) {
	h.drv.DeliverTrunk(h.drv.Now(), dialer.TrunkEvent{Kind: k, Agent: id, Cause: dialer.CauseNormalClearing})
	h.advance(0)
}

// An agent on a trunk with phones has their phone called at login, cannot
// be READY (nor dial) until it is up, and hangs it up at logout; an agent
// with no phone cannot log in.
func TestAgentIsReadyOnlyWithTheirPhoneUp(t *testing.T) {
	t.Parallel()
	book := &phoneBook{noPhone: map[agents.ID]bool{2: true}}
	h := newHarnessWith(t, dialer.Config{Mode: dialer.ModeManual}, dialer.Deps{Leads: dialer.NewMemoryHopper(), Phones: book})
	require.NoError(t, h.eng.AddAgent(1, agents.Config{}))
	require.NoError(t, h.eng.HandleAgent(h.ctx, 1, agents.Event{Kind: agents.EvLogin}))
	require.Equal(t, []agents.ID{1}, book.joined, "the phone is called at login")

	err := h.eng.HandleAgent(h.ctx, 1, agents.Event{Kind: agents.EvReady})
	require.ErrorIs(t, err, dialer.ErrPhoneDown)
	_, err = h.eng.ManualDial(h.ctx, 1, dialer.Lead{ID: 7, Number: "+15550107"})
	require.Error(t, err)
	require.Empty(t, h.trunk.dials, "nothing dialled for an agent with no phone up")
	require.Equal(t, agents.Paused, h.eng.Agent(1).State())

	h.phone(1, dialer.TrunkPhoneUp)
	require.Equal(t, agents.Ready, h.eng.Agent(1).State(), "the READY asked for while the phone rang comes true when it answers")
	h.agent(1, agents.EvPause)
	h.phone(1, dialer.TrunkPhoneDown)
	require.Error(t, h.eng.HandleAgent(h.ctx, 1, agents.Event{Kind: agents.EvReady}))
	require.NoError(t, h.eng.HandleAgent(h.ctx, 1, agents.Event{Kind: agents.EvPause, PauseCode: "LUNCH"}))
	h.phone(1, dialer.TrunkPhoneUp)
	require.Equal(t, agents.Paused, h.eng.Agent(1).State(), "a pause after the refused READY takes it back")
	h.agent(1, agents.EvReady)
	require.Equal(t, agents.Ready, h.eng.Agent(1).State())

	h.agent(1, agents.EvLogout)
	require.Equal(t, []agents.ID{1}, book.left, "the phone is hung up at logout")

	require.NoError(t, h.eng.AddAgent(2, agents.Config{}))
	err = h.eng.HandleAgent(h.ctx, 2, agents.Event{Kind: agents.EvLogin})
	require.ErrorIs(t, err, errNoPhone)
	require.Equal(t, agents.LoggedOut, h.eng.Agent(2).State())
}

// A phone that drops: a READY agent is paused (PHONE) and READY again when
// it is back; an agent on a call loses the call (the customer would talk to
// no one), wraps it up, and is paused after it; a pause of the agent's own
// is not ended by the phone coming back.
func TestPhoneDownPausesTheAgentAndEndsTheirCall(t *testing.T) {
	t.Parallel()
	book := &phoneBook{}
	h := newHarnessWith(t, dialer.Config{Mode: dialer.ModeManual}, dialer.Deps{Leads: dialer.NewMemoryHopper(), Phones: book})
	require.NoError(t, h.eng.AddAgent(1, agents.Config{}))
	h.agent(1, agents.EvLogin)
	h.phone(1, dialer.TrunkPhoneUp)
	h.agent(1, agents.EvReady)

	h.phone(1, dialer.TrunkPhoneDown)
	a := h.eng.Agent(1)
	require.Equal(t, agents.Paused, a.State())
	require.Equal(t, agents.PauseCodePhone, a.PauseCode())
	h.phone(1, dialer.TrunkPhoneUp)
	require.Equal(t, agents.Ready, a.State(), "back to READY with the phone")

	id, err := h.eng.ManualDial(h.ctx, 1, dialer.Lead{ID: 42, Number: "+15550142"})
	require.NoError(t, err)
	h.far(id, dialer.TrunkAnsweredHuman, time.Second)
	h.advance(5 * time.Second)
	require.Equal(t, agents.InCall, a.State())

	h.phone(1, dialer.TrunkPhoneDown)
	require.True(t, h.trunk.hungUp[id], "the customer is hung up")
	require.Equal(t, agents.Dispo, a.State(), "the call is wrapped up as any other")
	rec := h.log.Records()[0]
	require.Equal(t, dialer.CausePhoneDown, rec.Cause)
	require.NoError(t, h.eng.Dispose(h.ctx, 1, agents.Event{Kind: agents.EvDispoSaved}, dialer.Disposal{Code: "CALLBK"}))
	require.Equal(t, agents.Paused, a.State())
	require.Equal(t, agents.PauseCodePhone, a.PauseCode())
	h.phone(1, dialer.TrunkPhoneUp)
	require.Equal(t, agents.Ready, a.State())

	require.NoError(t, h.eng.HandleAgent(h.ctx, 1, agents.Event{Kind: agents.EvPause, PauseCode: "LUNCH"}))
	h.phone(1, dialer.TrunkPhoneDown)
	h.phone(1, dialer.TrunkPhoneUp)
	require.Equal(t, agents.Paused, a.State(), "the agent's own pause stands")
	require.Equal(t, "LUNCH", a.PauseCode())
}

// A phone that comes back while the agent is still on the call's wrap-up
// takes back the pause it caused: the agent is READY after disposing.
func TestPhoneBackBeforeTheDispositionTakesThePauseBack(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, dialer.Config{Mode: dialer.ModeManual}, dialer.Deps{Leads: dialer.NewMemoryHopper(), Phones: &phoneBook{}})
	require.NoError(t, h.eng.AddAgent(1, agents.Config{}))
	h.agent(1, agents.EvLogin)
	h.phone(1, dialer.TrunkPhoneUp)
	h.agent(1, agents.EvReady)
	id, err := h.eng.ManualDial(h.ctx, 1, dialer.Lead{ID: 42, Number: "+15550142"})
	require.NoError(t, err)
	h.far(id, dialer.TrunkAnsweredHuman, time.Second)
	h.advance(5 * time.Second)
	h.phone(1, dialer.TrunkPhoneDown)
	a := h.eng.Agent(1)
	require.Equal(t, agents.PauseCodePhone, a.PausePending())
	h.phone(1, dialer.TrunkPhoneUp)
	require.Empty(t, a.PausePending())
	require.NoError(t, h.eng.Dispose(h.ctx, 1, agents.Event{Kind: agents.EvDispoSaved}, dialer.Disposal{Code: "CALLBK"}))
	require.Equal(t, agents.Ready, a.State())
}

// A blind transfer to a number the trunk must first reach keeps the call
// the agent's until the number answers: not answered, the agent still has
// the customer and is told why; answered, the agent's part ends as any
// transfer's. A second transfer while one is under way is refused.
func TestTransferToANumberEndsTheAgentsPartOnlyWhenAnswered(t *testing.T) {
	t.Parallel()
	changes := &changeLog{}
	h := newHarnessWith(t, dialer.Config{Mode: dialer.ModeManual}, dialer.Deps{Leads: dialer.NewMemoryHopper(), Changes: changes})
	h.trunk.transferLater = true
	h.agentReady(1)
	id, err := h.eng.ManualDial(h.ctx, 1, dialer.Lead{ID: 42, Number: "+15550142"})
	require.NoError(t, err)
	h.far(id, dialer.TrunkAnsweredHuman, time.Second)
	h.advance(5 * time.Second)
	a := h.eng.Agent(1)
	require.Equal(t, agents.InCall, a.State())

	to := dialer.NumberTarget("+15550001111")
	require.NoError(t, h.eng.Transfer(h.ctx, 1, id, to))
	require.Equal(t, agents.InCall, a.State(), "the agent keeps the customer while the number rings")
	require.ErrorIs(t, h.eng.Transfer(h.ctx, 1, id, to), dialer.ErrTrunkRefused)
	h.drv.DeliverTrunk(h.drv.Now(), dialer.TrunkEvent{Call: id, Kind: dialer.TrunkTransferFailed, Cause: dialer.CauseBusy})
	h.advance(time.Second)
	require.Equal(t, agents.InCall, a.State(), "not answered: the agent still has the customer")
	last := changes.got[len(changes.got)-1]
	require.Contains(t, last.Notice, "Transfer to +15550001111 not answered (486 busy here")
	require.Equal(t, dialer.CallConnected, last.State)

	require.NoError(t, h.eng.Transfer(h.ctx, 1, id, to), "the agent may try again")
	h.drv.DeliverTrunk(h.drv.Now(), dialer.TrunkEvent{Call: id, Kind: dialer.TrunkTransferAnswered})
	h.advance(time.Second)
	require.Equal(t, agents.Dispo, a.State(), "answered: the agent's part ends")
	require.Equal(t, "transferred to +15550001111", h.log.Records()[0].Cause.Reason)
}
