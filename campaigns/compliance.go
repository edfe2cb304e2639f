package campaigns

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// The law's floors (DESIGN.md §6). A campaign that is not simulated holds
// them all; migration 0012 holds the same ones as CHECKs.
const (
	// MaxAbandonTarget is the abandon rate US (FCC/TCPA, 30 days) and UK
	// (Ofcom, per day) rules allow.
	MaxAbandonTarget = 0.03
	// MinRingTimeoutS is the shortest ring US rules allow before a call is
	// given up (the UK codes ask no less).
	MinRingTimeoutS = 15
	// MaxConnectDeadlineMS is how long a live answer may wait for an agent
	// before the call counts as abandoned.
	MaxConnectDeadlineMS = 2000
)

// LawfulHours is the US calling window: a campaign's window, and each state's,
// must lie inside it (a tighter one is fine).
var LawfulHours = Hours{Start: 8 * 60, End: 21 * 60}

// callerIDE164 is a caller ID that can be called back: a full E.164 number,
// not withheld, not a short or national form.
var callerIDE164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// FloorError is a setting the law's floors refuse. Its message names the
// setting, the rule and the allowed range.
type FloorError struct {
	Setting string
	Message string
}

func (e *FloorError) Error() string { return e.Message }

func floorError(setting, format string, args ...any) error {
	return &FloorError{Setting: setting, Message: fmt.Sprintf(format, args...)}
}

// law names the rule set for messages.
func (c *Campaign) law() string {
	if c.Rules == RulesUK {
		return "UK rules (Ofcom)"
	}
	return "US rules (TCPA)"
}

// inside reports whether h lies within outer on one day (no span over midnight).
func (h Hours) inside(outer Hours) bool {
	return h.Start < h.End && h.Start >= outer.Start && h.End <= outer.End
}

// CheckFloors returns the first of the law's floors c breaks, as a
// *FloorError, or nil. A simulated campaign calls no one and is exempt from
// all but the limits every campaign keeps (ring timeout, connect deadline,
// UK lock-out).
func (c *Campaign) CheckFloors() error {
	if c.RingTimeoutS < MinRingTimeoutS {
		return floorError("ring_timeout_s", "ring_timeout_s %d refused: %s need at least %d s of ringing",
			c.RingTimeoutS, c.law(), MinRingTimeoutS)
	}
	if c.ConnectDeadlineMS > MaxConnectDeadlineMS {
		return floorError("connect_deadline_ms", "connect_deadline_ms %d refused: %s allow at most %d ms (2 s) before a live answer counts as abandoned",
			c.ConnectDeadlineMS, c.law(), MaxConnectDeadlineMS)
	}
	if c.Rules == RulesUK && c.AbandonLockoutS < int(UKLockout.Seconds()) {
		return floorError("abandon_lockout_s", "abandon_lockout_s %d refused: UK rules (Ofcom) need at least %d s (72 h)",
			c.AbandonLockoutS, int(UKLockout.Seconds()))
	}
	if c.Simulated {
		return nil
	}
	if c.AbandonTarget > MaxAbandonTarget {
		return floorError("abandon_target", "abandon_target %g refused: %s allow at most %g", c.AbandonTarget, c.law(), MaxAbandonTarget)
	}
	if c.Rules == RulesUS {
		if err := c.checkWindowFloor(); err != nil {
			return err
		}
	}
	if c.Status == StatusActive && (c.Mode == ModePredictive || c.Mode == ModePower) {
		if !callerIDE164.MatchString(c.CallerID) {
			return floorError("caller_id", "caller_id %q refused: %s need a caller ID that can be called back (E.164, e.g. +12025550143) before a %s campaign may start",
				c.CallerID, c.law(), c.Mode)
		}
		if strings.TrimSpace(c.InfoMessage) == "" {
			return floorError("info_message", "empty info_message refused: %s need the information message played on an abandoned call before a %s campaign may start",
				c.law(), c.Mode)
		}
	}
	return nil
}

func (c *Campaign) checkWindowFloor() error {
	w, err := c.Window()
	if err != nil {
		return floorError("window_start", "calling window: %v", err)
	}
	if !w.Default.inside(LawfulHours) {
		return floorError("window_start", "calling window %s refused: %s allow calls only inside %s local time (tighter is fine)",
			w.Default, c.law(), LawfulHours)
	}
	for _, st := range slices.Sorted(maps.Keys(w.States)) {
		if h := w.States[st]; !h.inside(LawfulHours) {
			return floorError("state_windows", "calling window for %s %s refused: %s allow calls only inside %s local time (tighter is fine)",
				st, h, c.law(), LawfulHours)
		}
	}
	return nil
}

// CheckRealCarrier is the check a campaign passes before it may dial through
// a real carrier (a SIP trunk): it must not be simulated, and so must hold
// every floor.
func (c *Campaign) CheckRealCarrier() error {
	if c.Simulated {
		return floorError("simulated", "campaign %q is simulated: it may dial only the simulated carrier; set simulated to false (the legal floors must then hold) before pointing it at a real trunk", c.Name)
	}
	return c.CheckFloors()
}

// with returns c with parsed settings (as parseSettings returns them)
// applied, to check the result before it is stored.
func (c Campaign) with(changes map[string]any) (Campaign, error) {
	m := make(map[string]any, len(changes))
	for k, v := range changes {
		if s, ok := v.(string); ok && k == "state_windows" {
			v = json.RawMessage(s)
			c.StateWindows = nil // replaced, not merged
		}
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil {
		return c, fmt.Errorf("campaign %d settings: %w", c.ID, err)
	}
	return c, nil
}
