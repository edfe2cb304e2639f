package dialer_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/dialer/sim"
)

// carrierDesk is one agent working a manual campaign on the simulated
// carrier, in virtual time: every dial is answered by a person after a
// second, who stays on the line for ten minutes.
type carrierDesk struct {
	t       *testing.T
	ctx     context.Context
	drv     *sim.Driver
	carrier *sim.Carrier
	eng     *dialer.Engine
	log     *dialer.MemoryCallLog
	lead    int64
}

const deskAgent agents.ID = 1

func newCarrierDesk(t *testing.T) *carrierDesk {
	t.Helper()
	d := &carrierDesk{t: t, ctx: context.Background(), drv: sim.NewDriver(t0), log: &dialer.MemoryCallLog{}}
	d.carrier = sim.NewCarrier(d.drv, 1, []sim.Outcome{{Kind: "human", P: 1, After: sim.Dist{Value: 1}}},
		sim.Dist{Value: 600})
	eng, err := dialer.NewEngine(dialer.Config{Mode: dialer.ModeManual}, dialer.Deps{Scheduler: d.drv, Trunk: d.carrier,
		Leads: dialer.NewMemoryHopper(), Calls: d.log})
	require.NoError(t, err)
	d.eng = eng
	d.drv.Attach(eng)
	require.NoError(t, eng.Start(d.ctx))
	require.NoError(t, eng.AddAgent(deskAgent, agents.Config{}))
	require.NoError(t, eng.HandleAgent(d.ctx, deskAgent, agents.Event{Kind: agents.EvLogin}))
	return d
}

// dial puts the READY agent on a new call; answered says whether to let the
// customer answer.
func (d *carrierDesk) dial(answered bool) dialer.CallID {
	d.t.Helper()
	if d.eng.Agent(deskAgent).State() != agents.Ready {
		require.NoError(d.t, d.eng.HandleAgent(d.ctx, deskAgent, agents.Event{Kind: agents.EvReady}))
	}
	d.lead++
	id, err := d.eng.ManualDial(d.ctx, deskAgent, dialer.Lead{ID: dialer.LeadID(d.lead), Number: "+12025550100"})
	require.NoError(d.t, err)
	if answered {
		d.advance(2 * time.Second)
		require.Equal(d.t, dialer.CallConnected, d.call().State)
	}
	return id
}

func (d *carrierDesk) advance(dt time.Duration) {
	d.t.Helper()
	require.NoError(d.t, d.drv.RunUntil(d.ctx, d.drv.Now().Add(dt)))
}

func (d *carrierDesk) call() dialer.Call {
	d.t.Helper()
	c, ok := d.eng.AgentCall(deskAgent)
	require.True(d.t, ok, "the agent has a call")
	return c
}

// lastAction is what the carrier did last.
func (d *carrierDesk) lastAction() sim.Action {
	d.t.Helper()
	as := d.carrier.Actions()
	require.NotEmpty(d.t, as)
	return as[len(as)-1]
}

// Each control reaches the carrier and changes the call the engine owns:
// mute then unmute, hold then resume (with the agent's hold time), DTMF with
// its digits, a third party added then left, the customer staying with them.
func TestEachCallControlReachesTheCarrierAndChangesTheCall(t *testing.T) {
	t.Parallel()
	d := newCarrierDesk(t)
	call := d.dial(true)
	ctx := d.ctx

	require.NoError(t, d.eng.Mute(ctx, deskAgent, call))
	require.Equal(t, sim.Action{At: d.drv.Now(), Call: call, Op: sim.OpMute}, d.lastAction())
	require.True(t, d.call().Muted)
	require.NoError(t, d.eng.Unmute(ctx, deskAgent, 0))
	require.Equal(t, sim.OpUnmute, d.lastAction().Op)
	require.False(t, d.call().Muted)

	require.NoError(t, d.eng.Hold(ctx, deskAgent, call))
	require.Equal(t, sim.OpHold, d.lastAction().Op)
	require.Equal(t, dialer.CallHeld, d.call().State)
	require.True(t, d.eng.Agent(deskAgent).OnHold())
	d.advance(15 * time.Second)
	require.NoError(t, d.eng.Resume(ctx, deskAgent, call))
	require.Equal(t, sim.OpResume, d.lastAction().Op)
	require.Equal(t, dialer.CallConnected, d.call().State)
	require.False(t, d.eng.Agent(deskAgent).OnHold())
	require.Equal(t, 15*time.Second, d.eng.Agent(deskAgent).Session().Hold)

	require.NoError(t, d.eng.SendDTMF(ctx, deskAgent, call, "12#A"))
	require.Equal(t, sim.Action{At: d.drv.Now(), Call: call, Op: sim.OpDTMF, Digits: "12#A"}, d.lastAction())

	party := dialer.NumberTarget("+12025550199")
	require.NoError(t, d.eng.AddParty(ctx, deskAgent, call, party))
	require.Equal(t, sim.Action{At: d.drv.Now(), Call: call, Op: sim.OpAddParty, Target: party}, d.lastAction())
	require.Equal(t, dialer.CallConference, d.call().State)
	require.Equal(t, party, d.call().Party)
	require.NoError(t, d.eng.Mute(ctx, deskAgent, call), "the agent can mute in a conference too")
	require.NoError(t, d.eng.Leave(ctx, deskAgent, call))
	require.Equal(t, sim.Action{At: d.drv.Now(), Call: call, Op: sim.OpLeave, Target: party}, d.lastAction(),
		"the customer stays with the third party")
	_, open := d.eng.AgentCall(deskAgent)
	require.False(t, open, "the agent's part of the call is over")
	require.Equal(t, agents.Dispo, d.eng.Agent(deskAgent).State())
	rec := d.log.Records()[0]
	require.Equal(t, dialer.OutcomeCompleted, rec.Outcome)
	require.Equal(t, dialer.CauseLeftConference, rec.Cause)
	require.False(t, rec.Stamps[dialer.CallConference].IsZero(), "the conference is on the call record")
	require.Len(t, d.carrier.Actions(), 8)
}

// A blind transfer (here from hold, as agents do) hands the customer leg to
// the target and ends the agent's part: the call is theirs to disposition.
func TestBlindTransferEndsTheAgentsPartAndSendsTheCustomerToTheTarget(t *testing.T) {
	t.Parallel()
	d := newCarrierDesk(t)
	for i, to := range []dialer.Target{dialer.QueueTarget("sales"), dialer.NumberTarget("+442079460000")} {
		call := d.dial(true)
		require.NoError(t, d.eng.Hold(d.ctx, deskAgent, call))
		require.NoError(t, d.eng.Transfer(d.ctx, deskAgent, call, to))
		require.Equal(t, sim.Action{At: d.drv.Now(), Call: call, Op: sim.OpTransfer, Target: to}, d.lastAction())
		_, open := d.eng.AgentCall(deskAgent)
		require.False(t, open)
		require.Equal(t, agents.Dispo, d.eng.Agent(deskAgent).State())
		require.False(t, d.eng.Agent(deskAgent).OnHold(), "the hold ends with the agent's part")
		rec := d.log.Records()[i]
		require.Equal(t, dialer.OutcomeCompleted, rec.Outcome)
		require.Equal(t, "transferred to "+to.String(), rec.Cause.Reason)
		require.NoError(t, d.eng.HandleAgent(d.ctx, deskAgent, agents.Event{Kind: agents.EvDispoSaved}))
		// The customer leg is the target's now: the agent cannot reach it.
		require.ErrorIs(t, d.carrier.SendDTMF(d.ctx, call, "1"), dialer.ErrTrunkRefused)
	}
}

// Every control is refused in a state where it makes no sense, with an
// error naming the call's state and the control, and changes nothing at the
// carrier or on the call.
func TestCallControlsAreRefusedInTheWrongState(t *testing.T) {
	t.Parallel()
	party := dialer.NumberTarget("+12025550199")
	controls := map[string]func(d *carrierDesk, call dialer.CallID) error{
		"hold":      func(d *carrierDesk, c dialer.CallID) error { return d.eng.Hold(d.ctx, deskAgent, c) },
		"resume":    func(d *carrierDesk, c dialer.CallID) error { return d.eng.Resume(d.ctx, deskAgent, c) },
		"mute":      func(d *carrierDesk, c dialer.CallID) error { return d.eng.Mute(d.ctx, deskAgent, c) },
		"unmute":    func(d *carrierDesk, c dialer.CallID) error { return d.eng.Unmute(d.ctx, deskAgent, c) },
		"dtmf":      func(d *carrierDesk, c dialer.CallID) error { return d.eng.SendDTMF(d.ctx, deskAgent, c, "5") },
		"transfer":  func(d *carrierDesk, c dialer.CallID) error { return d.eng.Transfer(d.ctx, deskAgent, c, party) },
		"add_party": func(d *carrierDesk, c dialer.CallID) error { return d.eng.AddParty(d.ctx, deskAgent, c, party) },
		"leave":     func(d *carrierDesk, c dialer.CallID) error { return d.eng.Leave(d.ctx, deskAgent, c) },
	}
	// Each case brings the call to a state, then expects these controls to
	// be refused there.
	cases := []struct {
		state   dialer.CallState
		setup   func(d *carrierDesk, c dialer.CallID)
		refused []string
	}{
		{dialer.CallDialing, func(*carrierDesk, dialer.CallID) {},
			[]string{"hold", "resume", "mute", "unmute", "dtmf", "transfer", "add_party", "leave"}},
		{dialer.CallRinging, func(d *carrierDesk, c dialer.CallID) {
			d.drv.DeliverTrunk(d.drv.Now(), dialer.TrunkEvent{Call: c, Kind: dialer.TrunkRinging})
			d.advance(100 * time.Millisecond)
		}, []string{"hold", "resume", "mute", "unmute", "dtmf", "transfer", "add_party", "leave"}},
		{dialer.CallConnected, func(d *carrierDesk, _ dialer.CallID) { d.advance(2 * time.Second) },
			[]string{"resume", "unmute", "leave"}},
		{dialer.CallHeld, func(d *carrierDesk, c dialer.CallID) {
			d.advance(2 * time.Second)
			require.NoError(d.t, d.eng.Hold(d.ctx, deskAgent, c))
		}, []string{"hold", "dtmf", "add_party", "leave"}},
		{dialer.CallConference, func(d *carrierDesk, c dialer.CallID) {
			d.advance(2 * time.Second)
			require.NoError(d.t, d.eng.AddParty(d.ctx, deskAgent, c, party))
		}, []string{"hold", "resume", "transfer", "add_party"}},
	}
	for _, tc := range cases {
		for _, name := range tc.refused {
			t.Run(tc.state.String()+"/"+name, func(t *testing.T) {
				t.Parallel()
				d := newCarrierDesk(t)
				call := d.dial(false)
				tc.setup(d, call)
				require.Equal(t, tc.state, d.call().State)
				before, actions := d.call(), len(d.carrier.Actions())
				err := controls[name](d, call)
				require.Error(t, err)
				require.ErrorContains(t, err, tc.state.String())
				require.ErrorContains(t, err, name)
				require.Equal(t, before, d.call(), "a refused control changes nothing on the call")
				require.Len(t, d.carrier.Actions(), actions, "nor at the carrier")
			})
		}
	}

	t.Run("no call", func(t *testing.T) {
		t.Parallel()
		d := newCarrierDesk(t)
		require.ErrorIs(t, d.eng.Mute(d.ctx, deskAgent, 0), dialer.ErrNoCall)
		call := d.dial(true)
		require.ErrorIs(t, d.eng.Mute(d.ctx, deskAgent, call+1), dialer.ErrNoCall, "another call's id is no call of the agent's")
		require.ErrorIs(t, d.eng.Mute(d.ctx, 99, 0), dialer.ErrAgentNotInCampaign)
	})
	t.Run("bad arguments", func(t *testing.T) {
		t.Parallel()
		d := newCarrierDesk(t)
		call := d.dial(true)
		for _, err := range []error{
			d.eng.SendDTMF(d.ctx, deskAgent, call, ""),
			d.eng.SendDTMF(d.ctx, deskAgent, call, "12x"),
			d.eng.Transfer(d.ctx, deskAgent, call, dialer.Target{}),
			d.eng.Transfer(d.ctx, deskAgent, call, dialer.NumberTarget("12025550199")),
			d.eng.Transfer(d.ctx, deskAgent, call, dialer.QueueTarget("sales\r\nX-Evil: 1")),
			d.eng.Transfer(d.ctx, deskAgent, call, dialer.AgentTarget(deskAgent)),
			d.eng.AddParty(d.ctx, deskAgent, call, dialer.AgentTarget(0)),
		} {
			require.ErrorIs(t, err, dialer.ErrBadControl)
		}
		require.Empty(t, d.carrier.Actions())
		require.Equal(t, dialer.CallConnected, d.call().State)
	})
}

// The simulated carrier refuses, as a real trunk would, what the engine
// would never ask of it: it is a trunk in its own right.
func TestSimulatedCarrierRefusesWhatARealTrunkWould(t *testing.T) {
	t.Parallel()
	d := newCarrierDesk(t)
	ringing := d.dial(false)
	ctx := d.ctx
	require.ErrorIs(t, d.carrier.SendDTMF(ctx, ringing, "1"), dialer.ErrTrunkRefused, "DTMF on a call not connected")
	require.NoError(t, d.eng.HangupCall(ctx, deskAgent))
	require.Equal(t, agents.Ready, d.eng.Agent(deskAgent).State(), "a dial given up while it rang has nothing to disposition")
	call := d.dial(true)
	for name, err := range map[string]error{
		"leave without a conference":   d.carrier.Leave(ctx, call),
		"transfer to an empty target":  d.carrier.Transfer(ctx, call, dialer.Target{}),
		"conference an empty target":   d.carrier.AddParty(ctx, call, dialer.QueueTarget("")),
		"resume a call not on hold":    d.carrier.Resume(ctx, call),
		"unmute a call not muted":      d.carrier.Unmute(ctx, call),
		"digits outside the keypad":    d.carrier.SendDTMF(ctx, call, "9E"),
		"control a call never dialled": d.carrier.Hold(ctx, call+100),
	} {
		require.ErrorIs(t, err, dialer.ErrTrunkRefused, name)
	}
	require.NoError(t, d.carrier.Hold(ctx, call))
	require.ErrorIs(t, d.carrier.Hold(ctx, call), dialer.ErrTrunkRefused, "hold twice")
	require.ErrorIs(t, d.carrier.SendDTMF(ctx, call, "1"), dialer.ErrTrunkRefused, "DTMF to a customer on hold")
	d.advance(time.Hour)
	require.ErrorIs(t, d.carrier.Resume(ctx, call), dialer.ErrTrunkRefused, "the customer has hung up")
	require.Len(t, d.carrier.Actions(), 1, "only the hold was carried out")
}
