package dialer

import (
	"errors"
	"fmt"
	"time"
)

// Mode is how a campaign gets its calls placed.
type Mode uint8

const (
	// ModeAuto lets the Policy place calls (power, predictive, baselines).
	ModeAuto Mode = iota
	// ModePreview reserves a lead for each READY agent, who then dials or skips.
	ModePreview
	// ModeManual never dials by itself; agents dial through ManualDial.
	ModeManual
)

func (m Mode) String() string {
	switch m {
	case ModeAuto:
		return "auto"
	case ModePreview:
		return "preview"
	case ModeManual:
		return "manual"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// MinRingTimeout is the legal floor: a call must ring at least this long
// before the engine gives up on it.
const MinRingTimeout = 15 * time.Second

// Config is one campaign engine's settings.
type Config struct {
	Campaign CampaignID
	Mode     Mode
	// RingTimeout is how long an unanswered call rings before the engine
	// cancels it (default 25 s, at least MinRingTimeout).
	RingTimeout time.Duration
	// ConnectDeadline is how long a live answer may wait for an agent before
	// it is abandoned (default 2 s).
	ConnectDeadline time.Duration
	// Tick is the pacing interval in engine time (default 250 ms). Pacing
	// also runs on every agent, answer and hangup event.
	Tick time.Duration
	// AbandonTarget is the allowed abandoned ÷ live-answered fraction over
	// AbandonWindow (defaults 0.03 and 30 days).
	AbandonTarget float64
	AbandonWindow time.Duration
	// AMDFalsePositive is the estimated share of machine detections that
	// were people; under UK rules they count as live answers abandoned.
	AMDFalsePositive float64
	// InfoPrompt is played to a live answer before an abandon hangup.
	InfoPrompt string
	CallerID   string
	// MaxLinesPerAgent caps calls in flight at this many per logged-in agent
	// plus one, whatever the policy asks (default 4): a guard against a
	// runaway policy, not a pacing control.
	MaxLinesPerAgent float64
	// CallIDBase numbers this engine's calls from CallIDBase+1. The Manager
	// gives each run of a campaign's loop its lease epoch shifted left by
	// CallIDBits (CallIDBase), so a call id is unique across nodes and
	// restarts without asking the database; 0 (the simulator, tests) counts
	// from 1.
	CallIDBase CallID
	// PreviewSkipHold is how long a preview lead an agent skipped is not
	// offered to that agent again (0: it only goes behind the leads due).
	PreviewSkipHold time.Duration
}

// CallIDBits is how many low bits of a call id number the calls of one run;
// the bits above are its lease epoch. A run places at most 2^26 (67M) calls;
// ids stay below 2^53, exact in JSON, for 2^27 lease epochs.
const CallIDBits = 26

// CallIDBase is the first call id of the run holding lease epoch.
func CallIDBase(epoch int64) CallID { return CallID(epoch) << CallIDBits }

// WithDefaults fills unset fields.
func (c Config) WithDefaults() Config {
	if c.RingTimeout == 0 {
		c.RingTimeout = 25 * time.Second
	}
	if c.ConnectDeadline == 0 {
		c.ConnectDeadline = 2 * time.Second
	}
	if c.Tick == 0 {
		c.Tick = 250 * time.Millisecond
	}
	if c.AbandonTarget == 0 {
		c.AbandonTarget = 0.03
	}
	if c.AbandonWindow == 0 {
		c.AbandonWindow = 30 * 24 * time.Hour
	}
	if c.InfoPrompt == "" {
		c.InfoPrompt = "abandon-info"
	}
	if c.MaxLinesPerAgent == 0 {
		c.MaxLinesPerAgent = 4
	}
	return c
}

// callSettings is what a call dialled now takes from the configuration.
func (c Config) callSettings() CallSettings {
	return CallSettings{CallerID: c.CallerID, RingTimeout: c.RingTimeout, ConnectDeadline: c.ConnectDeadline, InfoPrompt: c.InfoPrompt}
}

// Validate rejects settings that are illegal or meaningless.
func (c Config) Validate() error {
	var errs []error
	if c.RingTimeout < MinRingTimeout {
		errs = append(errs, fmt.Errorf("ring timeout %s is below the legal minimum %s", c.RingTimeout, MinRingTimeout))
	}
	if c.ConnectDeadline <= 0 {
		errs = append(errs, fmt.Errorf("connect deadline %s must be positive", c.ConnectDeadline))
	}
	if c.Tick <= 0 {
		errs = append(errs, fmt.Errorf("tick %s must be positive", c.Tick))
	}
	if c.AbandonTarget <= 0 || c.AbandonTarget >= 1 {
		errs = append(errs, fmt.Errorf("abandon target %g must be in (0, 1)", c.AbandonTarget))
	}
	if c.AbandonWindow < time.Hour {
		errs = append(errs, fmt.Errorf("abandon window %s must be at least an hour", c.AbandonWindow))
	}
	if c.MaxLinesPerAgent < 1 {
		errs = append(errs, fmt.Errorf("max lines per agent %g must be at least 1", c.MaxLinesPerAgent))
	}
	if c.Mode > ModeManual {
		errs = append(errs, fmt.Errorf("unknown mode %d", c.Mode))
	}
	return errors.Join(errs...)
}
