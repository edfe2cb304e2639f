package campaigns

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// setting is one editable campaign setting: its key (as in Campaign's JSON),
// its column, how the console presents it, and the rule that turns a text
// value into a column value (which also gives the range the console shows).
type setting struct {
	key    string
	column string
	help   string
	label  string
	group  string
	unit   string
	rule   rule
}

// rule checks a setting's text value; kind and the bounds describe it to
// the console (FieldSpecs), from the same numbers the check uses.
type rule struct {
	kind     string
	min, max *float64
	minOpen  bool
	choices  []string
	maxLen   int
	parse    func(string) (any, error)
}

func num(f float64) *float64 { return &f }

func intIn(lo, hi int, unit string) rule {
	return rule{kind: "integer", min: num(float64(lo)), max: num(float64(hi)), parse: func(s string) (any, error) {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("%q is not a whole number", s)
		}
		if n < lo || n > hi {
			return nil, fmt.Errorf("%d%s is outside %d..%d%s", n, unit, lo, hi, unit)
		}
		return n, nil
	}}
}

func floatIn(lo, hi float64, loOpen bool) rule {
	return rule{kind: "number", min: num(lo), max: num(hi), minOpen: loOpen, parse: func(s string) (any, error) {
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", s)
		}
		if f > hi || f < lo || (loOpen && f == lo) {
			return nil, fmt.Errorf("%g is outside the allowed range (%g..%g)", f, lo, hi)
		}
		return f, nil
	}}
}

func oneOf(values ...string) rule {
	return rule{kind: "choice", choices: values, parse: func(s string) (any, error) {
		v := strings.ToLower(strings.TrimSpace(s))
		if !slices.Contains(values, v) {
			return nil, fmt.Errorf("%q is not one of %s", s, strings.Join(values, ", "))
		}
		return v, nil
	}}
}

// lawIntIn is intIn for a limit the law sets: the refusal names the rule.
func lawIntIn(lo, hi int, unit, law string) rule {
	within := intIn(lo, hi, unit)
	r := within
	r.parse = func(s string) (any, error) {
		v, err := within.parse(s)
		if err != nil {
			if n, convErr := strconv.Atoi(strings.TrimSpace(s)); convErr == nil {
				return nil, fmt.Errorf("%d%s refused: %s (allowed %d..%d%s)", n, unit, law, lo, hi, unit)
			}
		}
		return v, err
	}
	return r
}

var boolean = rule{kind: "boolean", choices: []string{"false", "true"}, parse: func(s string) (any, error) {
	b, err := strconv.ParseBool(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("%q is not true or false", s)
	}
	return b, nil
}}

func text(max int) rule {
	return rule{kind: "text", maxLen: max, parse: func(s string) (any, error) {
		if len(s) > max {
			return nil, fmt.Errorf("longer than %d characters", max)
		}
		return s, nil
	}}
}

func clock(isEnd bool) rule {
	return rule{kind: "time", parse: func(s string) (any, error) {
		m, err := parseClock(strings.TrimSpace(s), isEnd)
		if err != nil {
			return nil, err
		}
		return fmt.Sprintf("%02d:%02d", m/60, m%60), nil
	}}
}

var callerIDSeparators = strings.NewReplacer(" ", "", "-", "", ".", "", "(", "", ")", "")

// Setting groups, in the console's order.
const (
	GroupGeneral    = "general"
	GroupDialling   = "dialling"
	GroupCompliance = "compliance"
	GroupRetries    = "retries"
	GroupAgents     = "agents"
	GroupScript     = "script"
	GroupCost       = "cost"
)

const maxDelayS = 365 * 86400

// settings is every setting a manager can change, in display order.
var settings = []setting{
	{key: "name", column: "name", label: "Name", group: GroupGeneral, help: "campaign name",
		rule: rule{kind: "text", maxLen: 100, parse: func(s string) (any, error) {
			s = strings.TrimSpace(s)
			if s == "" || len(s) > 100 {
				return nil, fmt.Errorf("must be 1 to 100 characters")
			}
			return s, nil
		}}},
	{key: "mode", column: "dial_mode", label: "Mode", group: GroupDialling, help: "predictive, power, preview or manual",
		rule: oneOf("predictive", "power", "preview", "manual")},
	{key: "power_ratio", column: "power_ratio", label: "Power ratio", unit: "lines per ready agent", group: GroupDialling,
		help: "lines per ready agent in power mode (1-5)", rule: floatIn(1, 5, false)},
	{key: "ring_timeout_s", column: "ring_timeout_s", label: "Ring timeout", unit: "s", group: GroupDialling,
		help: "seconds an unanswered call rings (at least 15, the US minimum)",
		rule: lawIntIn(MinRingTimeoutS, 600, " s", "US rules (TCPA) need at least 15 s of ringing")},
	{key: "connect_deadline_ms", column: "connect_deadline_ms", label: "Connect deadline", unit: "ms", group: GroupDialling,
		help: "milliseconds a live answer may wait for an agent (at most 2000, the US maximum)",
		rule: lawIntIn(100, MaxConnectDeadlineMS, " ms", "US rules (TCPA) allow at most 2000 ms (2 s) before a live answer counts as abandoned")},
	{key: "lead_order", column: "lead_order", label: "Lead order", group: GroupDialling,
		help: "priority (then oldest next attempt) or random", rule: oneOf("priority", "random")},
	{key: "default_region", column: "default_region", label: "Default country", group: GroupDialling,
		help: "country assumed for numbers without a country code (ISO code, e.g. US, GB)",
		rule: rule{kind: "text", maxLen: 2, parse: func(s string) (any, error) {
			s = strings.ToUpper(strings.TrimSpace(s))
			if len(s) != 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' {
				return nil, fmt.Errorf("%q is not a two-letter country code", s)
			}
			return s, nil
		}}},
	{key: "simulated", column: "simulated", label: "Simulated carrier only", group: GroupDialling,
		help: "true: the campaign dials only the simulated carrier and is exempt from the legal floors; false only when they hold",
		rule: boolean},
	{key: "status", column: "status", label: "Status", group: GroupGeneral,
		help: "draft, active, paused or archived", rule: oneOf("draft", "active", "paused", "archived")},
	{key: "abandon_target", column: "abandon_target", label: "Abandon target", unit: "%", group: GroupCompliance,
		help: "abandon-rate target as a share of live answers (at most 3%, the US and UK limit; 5% for a simulated campaign)",
		rule: floatIn(0, 0.05, true)},
	{key: "rules", column: "rule_set", label: "Rule set", group: GroupCompliance,
		help: "us (30-day rolling) or uk (per day, AMD false positives counted, 72 h lock-out)", rule: oneOf("us", "uk")},
	{key: "amd_false_positive", column: "amd_false_positive", label: "AMD false positives", unit: "%", group: GroupCompliance,
		help: "UK: estimated share of machine detections that were people", rule: floatIn(0, 0.99, false)},
	{key: "abandon_lockout_s", column: "abandon_lockout_s", label: "Abandon lock-out", unit: "s", group: GroupCompliance,
		help: "seconds before an abandoned number may be called again (UK: at least 259200, 72 h)", rule: intIn(0, 30*86400, " s")},
	{key: "window_start", column: "window_start", label: "Calling window start", unit: "lead's local time", group: GroupCompliance,
		help: "calling window start, lead's local time (HH:MM; US: 08:00 or later)", rule: clock(false)},
	{key: "window_end", column: "window_end", label: "Calling window end", unit: "lead's local time", group: GroupCompliance,
		help: "calling window end, lead's local time (HH:MM; US: 21:00 or earlier; 24:00 for midnight, simulated only)", rule: clock(true)},
	{key: "window_note", column: "window_note", label: "Why this window", group: GroupCompliance,
		help: "why the window is what it is", rule: text(500)},
	{key: "state_windows", column: "state_windows", label: "Per-state windows", group: GroupCompliance,
		help: `per-state windows, inside 08:00-21:00 in the US: FL=08:00-20:00,TX=09:00-20:00`,
		rule: rule{kind: "states", parse: parseStateWindows}},
	{key: "caller_id", column: "caller_id", label: "Caller ID", unit: "E.164", group: GroupCompliance,
		help: "number presented to the called party, E.164 (+12025550143); one that can be called back is required before a predictive or power campaign starts",
		rule: rule{kind: "phone", parse: func(s string) (any, error) {
			id := callerIDSeparators.Replace(strings.TrimSpace(s))
			if id != "" && !callerIDE164.MatchString(id) {
				return nil, fmt.Errorf("%q is not an E.164 number that can be called back (e.g. +12025550143)", s)
			}
			return id, nil
		}}},
	{key: "info_message", column: "info_message", label: "Information message", group: GroupCompliance,
		help: "message played when a call is abandoned (who called, how to call back or opt out); required before a predictive or power campaign starts",
		rule: text(2000)},
	{key: "max_attempts", column: "max_attempts", label: "Attempts per lead", unit: "lifetime", group: GroupRetries,
		help: "dial attempts per lead, lifetime", rule: intIn(1, 1000, "")},
	{key: "max_attempts_per_day", column: "max_attempts_per_day", label: "Attempts per lead per day", unit: "per local day", group: GroupRetries,
		help: "dial attempts per lead per local day", rule: intIn(1, 100, "")},
	{key: "retry_no_answer_s", column: "retry_no_answer_s", label: "Retry after no answer", unit: "s", group: GroupRetries,
		help: "seconds before retrying a no-answer", rule: intIn(0, maxDelayS, " s")},
	{key: "retry_busy_s", column: "retry_busy_s", label: "Retry after busy", unit: "s", group: GroupRetries,
		help: "seconds before retrying a busy", rule: intIn(0, maxDelayS, " s")},
	{key: "retry_machine_s", column: "retry_machine_s", label: "Retry after answering machine", unit: "s", group: GroupRetries,
		help: "seconds before retrying an answering machine", rule: intIn(0, maxDelayS, " s")},
	{key: "retry_abandoned_s", column: "retry_abandoned_s", label: "Retry after abandoned call", unit: "s", group: GroupRetries,
		help: "seconds before retrying an abandoned call", rule: intIn(0, maxDelayS, " s")},
	{key: "retry_failed_s", column: "retry_failed_s", label: "Retry after failed call", unit: "s", group: GroupRetries,
		help: "seconds before retrying a failed call", rule: intIn(0, maxDelayS, " s")},
	{key: "wrapup_limit_s", column: "wrapup_limit_s", label: "Wrap-up limit", unit: "s", group: GroupAgents,
		help: "seconds an agent may stay in DISPO before the call is auto-dispositioned (0: no limit)", rule: intIn(0, 3600, " s")},
	{key: "wrapup_then", column: "wrapup_then", label: "After an automatic disposition", group: GroupAgents,
		help: "after an automatic disposition the agent goes ready or paused", rule: oneOf("ready", "paused")},
	{key: "callback_grace_s", column: "callback_grace_s", label: "Callback grace", unit: "s", group: GroupAgents,
		help: "seconds a due callback for one agent waits for them before callback_grace_then applies", rule: intIn(0, 7*86400, " s")},
	{key: "callback_grace_then", column: "callback_grace_then", label: "Callback not taken in time", group: GroupAgents,
		help: "a callback its agent did not take in time goes to anyone (the hopper) or is marked missed", rule: oneOf("anyone", "missed")},
	{key: "preview_skip_limit_per_hour", column: "preview_skip_limit_per_hour", label: "Preview skips per agent", unit: "per hour", group: GroupAgents,
		help: "preview skips an agent may make per hour (0: no limit)", rule: intIn(0, 1000, "")},
	{key: "preview_skip_hold_s", column: "preview_skip_hold_s", label: "Skipped lead held from its skipper", unit: "s", group: GroupAgents,
		help: "seconds a skipped preview lead is not offered again to the agent who skipped it (it goes behind every lead due meanwhile)", rule: intIn(0, 86400, " s")},
	{key: "script", column: "script", label: "Script", group: GroupScript, help: "script shown to agents", rule: text(20000)},
	{key: "rate_per_minute", column: "rate_per_minute", label: "Trunk rate", unit: "per minute", group: GroupCost,
		help: "trunk cost per minute", rule: rule{kind: "number", min: num(0), parse: func(s string) (any, error) {
			d, err := decimal.NewFromString(strings.TrimSpace(s))
			if err != nil || d.IsNegative() {
				return nil, fmt.Errorf("%q is not a non-negative amount", s)
			}
			return d, nil
		}}},
}

// FieldSpec describes one campaign setting to the console: its label, group
// and unit, and the range the store checks it against (Min/Max in the
// setting's own units: abandon_target 0.03, not 3). Law is what the legal
// floors add for a campaign that is not simulated.
type FieldSpec struct {
	Key          string   `json:"key"`
	Label        string   `json:"label"`
	Group        string   `json:"group"`
	Help         string   `json:"help"`
	Kind         string   `json:"kind"`
	Unit         string   `json:"unit,omitempty"`
	Min          *float64 `json:"min,omitempty"`
	Max          *float64 `json:"max,omitempty"`
	MinExclusive bool     `json:"min_exclusive,omitempty"`
	Choices      []string `json:"choices,omitempty"`
	MaxLength    int      `json:"max_length,omitempty"`
	Law          string   `json:"law,omitempty"`
	LawMin       *float64 `json:"law_min,omitempty"`
	LawMax       *float64 `json:"law_max,omitempty"`
}

// lawOf is what the legal floors (compliance.go) ask of a setting beyond its
// range, for a campaign that is not simulated.
func lawOf(key string) (string, *float64, *float64) {
	switch key {
	case "abandon_target":
		return fmt.Sprintf("US (TCPA) and UK (Ofcom) rules: at most %g%% unless simulated", MaxAbandonTarget*100), nil, num(MaxAbandonTarget)
	case "ring_timeout_s":
		return fmt.Sprintf("US rules (TCPA): at least %d s", MinRingTimeoutS), num(MinRingTimeoutS), nil
	case "connect_deadline_ms":
		return fmt.Sprintf("US rules (TCPA): at most %d ms", MaxConnectDeadlineMS), nil, num(MaxConnectDeadlineMS)
	case "abandon_lockout_s":
		return fmt.Sprintf("UK rules (Ofcom): at least %d s (72 h)", int(UKLockout.Seconds())), nil, nil
	case "window_start", "window_end", "state_windows":
		return fmt.Sprintf("US rules (TCPA): inside %s local time unless simulated", LawfulHours), nil, nil
	case "caller_id":
		return "needed (E.164, can be called back) before a predictive or power campaign starts, unless simulated", nil, nil
	case "info_message":
		return "needed before a predictive or power campaign starts, unless simulated", nil, nil
	}
	return "", nil, nil
}

// FieldSpecs lists every editable setting with its range, in display order.
func FieldSpecs() []FieldSpec {
	out := make([]FieldSpec, len(settings))
	for i, s := range settings {
		law, lawMin, lawMax := lawOf(s.key)
		out[i] = FieldSpec{Key: s.key, Label: s.label, Group: s.group, Help: s.help, Kind: s.rule.kind, Unit: s.unit,
			Min: s.rule.min, Max: s.rule.max, MinExclusive: s.rule.minOpen, Choices: s.rule.choices,
			MaxLength: s.rule.maxLen, Law: law, LawMin: lawMin, LawMax: lawMax}
	}
	return out
}

// SettingError is a setting value refused by its own rule; Setting is its
// canonical key.
type SettingError struct {
	Setting string
	Message string
	Err     error
}

func (e *SettingError) Error() string { return e.Message }

// settingMessage is a SettingError whose message says it all (a CHECK's
// sentence; the database error itself stays out of it).
func settingMessage(key, msg string) error {
	return &SettingError{Setting: key, Message: msg, Err: errors.New(msg)}
}

func settingError(key string, err error) error {
	return &SettingError{Setting: key, Message: key + ": " + err.Error(), Err: err}
}

func (e *SettingError) Unwrap() error { return e.Err }

// FieldOf names the setting an error from Create, Update or SetStatus is
// about ("" when it is about none in particular).
func FieldOf(err error) string {
	var se *SettingError
	if errors.As(err, &se) {
		return se.Setting
	}
	var fe *FloorError
	if errors.As(err, &fe) {
		return fe.Setting
	}
	return ""
}

// aliases are the short flag names the CLI accepts.
var aliases = map[string]string{"ratio": "power_ratio", "dial_mode": "mode", "rule_set": "rules"}

// Settings lists the editable setting keys with a line of help each.
func Settings() [][2]string {
	out := make([][2]string, len(settings))
	for i, s := range settings {
		out[i] = [2]string{s.key, s.help}
	}
	return out
}

func findSetting(key string) (setting, bool) {
	key = strings.ReplaceAll(strings.ToLower(strings.TrimLeft(key, "-")), "-", "_")
	if a, ok := aliases[key]; ok {
		key = a
	}
	for _, s := range settings {
		if s.key == key {
			return s, true
		}
	}
	return setting{}, false
}

// parseSettings checks every value and returns them by canonical key.
func parseSettings(in map[string]string) (map[string]any, error) {
	out := make(map[string]any, len(in))
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range in {
			if !yield(k) {
				return
			}
		}
	}) {
		s, ok := findSetting(k)
		if !ok {
			err := fmt.Errorf("unknown campaign setting %q", k)
			return nil, &SettingError{Setting: k, Message: err.Error(), Err: err}
		}
		v, err := s.rule.parse(in[k])
		if err != nil {
			return nil, settingError(s.key, err)
		}
		out[s.key] = v
	}
	return out, nil
}

func parseStateWindows(s string) (any, error) {
	m := map[string]string{}
	s = strings.TrimSpace(s)
	switch {
	case s == "":
	case strings.HasPrefix(s, "{"):
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			return nil, fmt.Errorf("not a JSON object of state to HH:MM-HH:MM: %v", err)
		}
	default:
		for _, part := range strings.Split(s, ",") {
			k, v, ok := strings.Cut(part, "=")
			if !ok {
				return nil, fmt.Errorf("%q is not STATE=HH:MM-HH:MM", part)
			}
			m[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	w, err := ParseWindow("", m)
	if err != nil {
		return nil, err
	}
	canon := map[string]string{}
	for st, h := range w.States {
		canon[st] = h.String()
	}
	b, _ := json.Marshal(canon)
	return string(b), nil
}

// applySettings writes parsed settings in one UPDATE. Column names come from
// the settings table above, never from the caller.
func applySettings(ctx context.Context, db DB, id ID, changes map[string]any) error {
	if len(changes) == 0 {
		return nil
	}
	var set []string
	args := []any{id}
	for _, s := range settings {
		v, ok := changes[s.key]
		if !ok {
			continue
		}
		args = append(args, v)
		cast := ""
		if s.column == "state_windows" {
			cast = "::jsonb"
		}
		set = append(set, fmt.Sprintf("%s = $%d%s", s.column, len(args), cast))
	}
	sql := "UPDATE campaigns SET " + strings.Join(set, ", ") + ", updated_at = now() WHERE id = $1"
	tag, err := db.Exec(ctx, sql, args...)
	if err != nil {
		return constraintError(err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("campaign %d: %w", id, ErrNotFound)
	}
	return nil
}
