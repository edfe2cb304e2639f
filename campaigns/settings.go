package campaigns

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// setting is one editable campaign setting: its key (as in Campaign's JSON),
// its column and how a text value becomes a column value.
type setting struct {
	key    string
	column string
	help   string
	parse  func(string) (any, error)
}

func intIn(lo, hi int, unit string) func(string) (any, error) {
	return func(s string) (any, error) {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("%q is not a whole number", s)
		}
		if n < lo || n > hi {
			return nil, fmt.Errorf("%d%s is outside %d..%d%s", n, unit, lo, hi, unit)
		}
		return n, nil
	}
}

func floatIn(lo, hi float64, loOpen bool) func(string) (any, error) {
	return func(s string) (any, error) {
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", s)
		}
		if f > hi || f < lo || (loOpen && f == lo) {
			return nil, fmt.Errorf("%g is outside the allowed range (%g..%g)", f, lo, hi)
		}
		return f, nil
	}
}

func oneOf(values ...string) func(string) (any, error) {
	return func(s string) (any, error) {
		v := strings.ToLower(strings.TrimSpace(s))
		if !slices.Contains(values, v) {
			return nil, fmt.Errorf("%q is not one of %s", s, strings.Join(values, ", "))
		}
		return v, nil
	}
}

// lawIntIn is intIn for a limit the law sets: the refusal names the rule.
func lawIntIn(lo, hi int, unit, rule string) func(string) (any, error) {
	within := intIn(lo, hi, unit)
	return func(s string) (any, error) {
		v, err := within(s)
		if err != nil {
			if n, convErr := strconv.Atoi(strings.TrimSpace(s)); convErr == nil {
				return nil, fmt.Errorf("%d%s refused: %s (allowed %d..%d%s)", n, unit, rule, lo, hi, unit)
			}
		}
		return v, err
	}
}

func parseBool(s string) (any, error) {
	b, err := strconv.ParseBool(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("%q is not true or false", s)
	}
	return b, nil
}

func text(max int) func(string) (any, error) {
	return func(s string) (any, error) {
		if len(s) > max {
			return nil, fmt.Errorf("longer than %d characters", max)
		}
		return s, nil
	}
}

func clock(isEnd bool) func(string) (any, error) {
	return func(s string) (any, error) {
		m, err := parseClock(strings.TrimSpace(s), isEnd)
		if err != nil {
			return nil, err
		}
		return fmt.Sprintf("%02d:%02d", m/60, m%60), nil
	}
}

var callerIDSeparators = strings.NewReplacer(" ", "", "-", "", ".", "", "(", "", ")", "")

// settings is every setting a manager can change, in display order.
var settings = []setting{
	{"name", "name", "campaign name", func(s string) (any, error) {
		s = strings.TrimSpace(s)
		if s == "" || len(s) > 100 {
			return nil, fmt.Errorf("must be 1 to 100 characters")
		}
		return s, nil
	}},
	{"mode", "dial_mode", "predictive, power, preview or manual", oneOf("predictive", "power", "preview", "manual")},
	{"power_ratio", "power_ratio", "lines per ready agent in power mode (1-5)", floatIn(1, 5, false)},
	{"abandon_target", "abandon_target", "abandon-rate target as a fraction of live answers (at most 0.03, the US and UK limit; 0.05 for a simulated campaign)", floatIn(0, 0.05, true)},
	{"rules", "rule_set", "us (30-day rolling) or uk (per day, AMD false positives counted, 72 h lock-out)", oneOf("us", "uk")},
	{"amd_false_positive", "amd_false_positive", "UK: estimated share of machine detections that were people", floatIn(0, 0.99, false)},
	{"abandon_lockout_s", "abandon_lockout_s", "seconds before an abandoned number may be called again", intIn(0, 30*86400, " s")},
	{"ring_timeout_s", "ring_timeout_s", "seconds an unanswered call rings (at least 15, the US minimum)", lawIntIn(MinRingTimeoutS, 600, " s", "US rules (TCPA) need at least 15 s of ringing")},
	{"connect_deadline_ms", "connect_deadline_ms", "milliseconds a live answer may wait for an agent (at most 2000, the US maximum)", lawIntIn(100, MaxConnectDeadlineMS, " ms", "US rules (TCPA) allow at most 2000 ms (2 s) before a live answer counts as abandoned")},
	{"window_start", "window_start", "calling window start, lead's local time (HH:MM; US: 08:00 or later)", clock(false)},
	{"window_end", "window_end", "calling window end, lead's local time (HH:MM; US: 21:00 or earlier; 24:00 for midnight, simulated only)", clock(true)},
	{"window_note", "window_note", "why the window is what it is", text(500)},
	{"state_windows", "state_windows", `per-state windows, inside 08:00-21:00 in the US: {"FL":"08:00-20:00"} or FL=08:00-20:00,TX=09:00-20:00`, parseStateWindows},
	{"caller_id", "caller_id", "number presented to the called party, E.164 (+12025550143); one that can be called back is required before a predictive or power campaign starts", func(s string) (any, error) {
		id := callerIDSeparators.Replace(strings.TrimSpace(s))
		if id != "" && !callerIDE164.MatchString(id) {
			return nil, fmt.Errorf("%q is not an E.164 number that can be called back (e.g. +12025550143)", s)
		}
		return id, nil
	}},
	{"info_message", "info_message", "message played when a call is abandoned (who called, how to call back or opt out)", text(2000)},
	{"max_attempts", "max_attempts", "dial attempts per lead, lifetime", intIn(1, 1000, "")},
	{"max_attempts_per_day", "max_attempts_per_day", "dial attempts per lead per local day", intIn(1, 100, "")},
	{"retry_no_answer_s", "retry_no_answer_s", "seconds before retrying a no-answer", intIn(0, 365*86400, " s")},
	{"retry_busy_s", "retry_busy_s", "seconds before retrying a busy", intIn(0, 365*86400, " s")},
	{"retry_machine_s", "retry_machine_s", "seconds before retrying an answering machine", intIn(0, 365*86400, " s")},
	{"retry_abandoned_s", "retry_abandoned_s", "seconds before retrying an abandoned call", intIn(0, 365*86400, " s")},
	{"retry_failed_s", "retry_failed_s", "seconds before retrying a failed call", intIn(0, 365*86400, " s")},
	{"lead_order", "lead_order", "priority (then oldest next attempt) or random", oneOf("priority", "random")},
	{"status", "status", "draft, active, paused or archived", oneOf("draft", "active", "paused", "archived")},
	{"simulated", "simulated", "true: the campaign dials only the simulated carrier and is exempt from the legal floors; false only when they hold", parseBool},
	{"script", "script", "script shown to agents", text(20000)},
	{"rate_per_minute", "rate_per_minute", "trunk cost per minute", func(s string) (any, error) {
		d, err := decimal.NewFromString(strings.TrimSpace(s))
		if err != nil || d.IsNegative() {
			return nil, fmt.Errorf("%q is not a non-negative amount", s)
		}
		return d, nil
	}},
	{"default_region", "default_region", "country assumed for numbers without a country code (ISO code, e.g. US, GB)", func(s string) (any, error) {
		s = strings.ToUpper(strings.TrimSpace(s))
		if len(s) != 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' {
			return nil, fmt.Errorf("%q is not a two-letter country code", s)
		}
		return s, nil
	}},
	{"wrapup_limit_s", "wrapup_limit_s", "seconds an agent may stay in DISPO before the call is auto-dispositioned (0: no limit)", intIn(0, 3600, " s")},
	{"wrapup_then", "wrapup_then", "after an automatic disposition the agent goes ready or paused", oneOf("ready", "paused")},
	{"callback_grace_s", "callback_grace_s", "seconds a due callback for one agent waits for them before callback_grace_then applies", intIn(0, 7*86400, " s")},
	{"preview_skip_limit_per_hour", "preview_skip_limit_per_hour", "preview skips an agent may make per hour (0: no limit)", intIn(0, 1000, "")},
	{"preview_skip_hold_s", "preview_skip_hold_s", "seconds a skipped preview lead is not offered again to the agent who skipped it (it goes behind every lead due meanwhile)", intIn(0, 86400, " s")},
	{"callback_grace_then", "callback_grace_then", "a callback its agent did not take in time goes to anyone (the hopper) or is marked missed", oneOf("anyone", "missed")},
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
			return nil, fmt.Errorf("unknown campaign setting %q", k)
		}
		v, err := s.parse(in[k])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.key, err)
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
