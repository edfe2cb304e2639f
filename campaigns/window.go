package campaigns

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Hours is a daily span of local wall-clock time, [Start, End) in minutes
// after midnight. End may be 1440 (midnight at the end of the day). A span
// with Start > End runs over midnight: "22:00-02:00" is 22:00 to 02:00 the
// next morning.
type Hours struct {
	Start int
	End   int
}

// DefaultHours is the US FCC/FTC calling window (DESIGN.md §6).
var DefaultHours = Hours{Start: 8 * 60, End: 21 * 60}

const minutesPerDay = 24 * 60

// ParseHours parses "HH:MM-HH:MM" (24-hour clock; "24:00" allowed as an end).
// A span whose start equals its end is rejected rather than read as "all
// day" or "never": write "00:00-24:00" for all day.
func ParseHours(s string) (Hours, error) {
	startS, endS, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return Hours{}, fmt.Errorf("calling hours %q: want HH:MM-HH:MM", s)
	}
	start, err := parseClock(strings.TrimSpace(startS), false)
	if err != nil {
		return Hours{}, fmt.Errorf("calling hours %q: start: %w", s, err)
	}
	end, err := parseClock(strings.TrimSpace(endS), true)
	if err != nil {
		return Hours{}, fmt.Errorf("calling hours %q: end: %w", s, err)
	}
	h := Hours{Start: start, End: end}
	if err := h.Validate(); err != nil {
		return Hours{}, fmt.Errorf("calling hours %q: %w", s, err)
	}
	return h, nil
}

func parseClock(s string, isEnd bool) (int, error) {
	hh, mm, ok := strings.Cut(s, ":")
	if !ok || len(hh) < 1 || len(hh) > 2 || len(mm) != 2 {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if err1 != nil || err2 != nil || h < 0 || m < 0 || m > 59 {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	if h > 23 && !(isEnd && h == 24 && m == 0) {
		return 0, fmt.Errorf("%q is past midnight", s)
	}
	return h*60 + m, nil
}

// Validate reports whether h is a usable span.
func (h Hours) Validate() error {
	switch {
	case h.Start < 0 || h.Start >= minutesPerDay:
		return fmt.Errorf("start %d is not a minute of the day", h.Start)
	case h.End <= 0 || h.End > minutesPerDay:
		return fmt.Errorf("end %d is not a minute of the day", h.End)
	case h.Start == h.End:
		return errors.New("start equals end: the window would be empty (use 00:00-24:00 for all day)")
	}
	return nil
}

func (h Hours) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", h.Start/60, h.Start%60, h.End/60, h.End%60)
}

// MarshalText stores Hours as "HH:MM-HH:MM", the form ParseHours reads, so a
// Window round-trips through a campaign's jsonb settings readably. The zero
// Hours (meaning "the default" in a Window) is stored as "".
func (h Hours) MarshalText() ([]byte, error) {
	if h == (Hours{}) {
		return []byte{}, nil
	}
	if err := h.Validate(); err != nil {
		return nil, fmt.Errorf("calling hours: %w", err)
	}
	return []byte(h.String()), nil
}

// UnmarshalText parses "HH:MM-HH:MM", or "" as the zero Hours.
func (h *Hours) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*h = Hours{}
		return nil
	}
	parsed, err := ParseHours(string(b))
	if err != nil {
		return err
	}
	*h = parsed
	return nil
}

// contains reports whether a wall-clock offset from local midnight is inside.
func (h Hours) contains(sinceMidnight time.Duration) bool {
	start := time.Duration(h.Start) * time.Minute
	end := time.Duration(h.End) * time.Minute
	if h.Start < h.End {
		return sinceMidnight >= start && sinceMidnight < end
	}
	return sinceMidnight >= start || sinceMidnight < end
}

func sinceLocalMidnight(t time.Time) time.Duration {
	hh, mm, ss := t.Clock()
	return time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute +
		time.Duration(ss)*time.Second + time.Duration(t.Nanosecond())
}

// nextIn returns the first instant >= t at which the wall clock in loc reads
// inside h, or false if there is none before limit. It steps through the
// zone's offset changes (ZoneBounds) so that a DST gap or repeated hour is
// judged by what the clock on the lead's wall actually shows: if the window
// opens at 02:30 on a night that skips from 02:00 to 03:00, it opens at 03:00.
func (h Hours) nextIn(t time.Time, loc *time.Location, limit time.Time) (time.Time, bool) {
	start := time.Duration(h.Start) * time.Minute
	for cur := t; !cur.After(limit); {
		local := cur.In(loc)
		since := sinceLocalMidnight(local)
		if h.contains(since) {
			return cur, true
		}
		// Wall time until the window next opens; equal to real time as long
		// as the offset does not change on the way.
		wait := (start - since + 24*time.Hour) % (24 * time.Hour)
		cand := cur.Add(wait)
		if _, end := local.ZoneBounds(); !end.IsZero() && !cand.Before(end) {
			cand = end
		}
		cur = cand
	}
	return time.Time{}, false
}

// Window is a campaign's calling window: daily Hours in the lead's local
// time, with per-state overrides (some states are stricter than the federal
// 08:00–21:00). The zero Window uses DefaultHours everywhere.
type Window struct {
	Default Hours `json:"default"`
	// States overrides Default for leads in a state, keyed by the codes
	// NormalizeState returns.
	States map[string]Hours `json:"states,omitempty"`
}

// ParseWindow builds a Window from "HH:MM-HH:MM" strings as a campaign form
// or config stores them; defaultHours "" means DefaultHours. perState keys
// may be codes or names ("FL", "Florida").
func ParseWindow(defaultHours string, perState map[string]string) (Window, error) {
	w := Window{Default: DefaultHours}
	if strings.TrimSpace(defaultHours) != "" {
		h, err := ParseHours(defaultHours)
		if err != nil {
			return Window{}, err
		}
		w.Default = h
	}
	for _, key := range slices.Sorted(maps.Keys(perState)) {
		st := NormalizeState(key)
		if st == "" {
			return Window{}, fmt.Errorf("calling hours for %q: unknown state", key)
		}
		h, err := ParseHours(perState[key])
		if err != nil {
			return Window{}, fmt.Errorf("calling hours for %s: %w", st, err)
		}
		if w.States == nil {
			w.States = map[string]Hours{}
		}
		w.States[st] = h
	}
	return w, nil
}

// HoursFor returns the hours that apply to a lead in state (code or name).
func (w Window) HoursFor(state string) Hours {
	if len(w.States) > 0 && state != "" {
		if h, ok := w.States[NormalizeState(state)]; ok {
			return h
		}
	}
	if w.Default == (Hours{}) {
		return DefaultHours
	}
	return w.Default
}

// hoursIn returns the distinct hours that apply to a lead that may be in
// any of states: each state's own, or the default for a lead with none.
func (w Window) hoursIn(states []string) []Hours {
	if len(states) == 0 {
		return []Hours{w.HoursFor("")}
	}
	out := make([]Hours, 0, 1)
	for _, st := range states {
		if h := w.HoursFor(st); !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

// AllowedIn reports whether a lead that may be in any of zones and any of
// states may be called at now: the wall clock in every zone must be inside
// the hours of every state (the most restrictive wins; a Miami number with a
// Seattle address is called only while both Florida's and Washington's
// hours hold in both Eastern and Pacific time). No zones, or a zone that
// cannot be loaded, means not allowed: an unknown local time is never
// assumed to be daytime.
func (w Window) AllowedIn(now time.Time, zones, states []string) bool {
	if len(zones) == 0 {
		return false
	}
	hours := w.hoursIn(states)
	for _, h := range hours {
		if h.Validate() != nil {
			return false
		}
	}
	for _, z := range zones {
		loc, err := loadLocation(z)
		if err != nil {
			return false
		}
		since := sinceLocalMidnight(now.In(loc))
		for _, h := range hours {
			if !h.contains(since) {
				return false
			}
		}
	}
	return true
}

// nextAllowedHorizon bounds the search in NextAllowedIn. Zones whose windows
// overlap only while their DST rules differ may overlap on some weeks of the
// year only, so the search covers a full year.
const nextAllowedHorizon = 370 * 24 * time.Hour

// NextAllowedIn returns the earliest instant >= now at which AllowedIn is
// true, for scheduling callbacks and retries. ok is false when there is none
// within a year (the zones' windows never overlap, e.g. New York and Berlin
// with 09:00–12:00) or the zones cannot be loaded.
func (w Window) NextAllowedIn(now time.Time, zones, states []string) (next time.Time, ok bool) {
	if len(zones) == 0 {
		return time.Time{}, false
	}
	hours := w.hoursIn(states)
	for _, h := range hours {
		if h.Validate() != nil {
			return time.Time{}, false
		}
	}
	locs := make([]*time.Location, 0, len(zones))
	for _, z := range zones {
		loc, err := loadLocation(z)
		if err != nil {
			return time.Time{}, false
		}
		locs = append(locs, loc)
	}
	limit := now.Add(nextAllowedHorizon)
	// Advance to where each (hours, zone) pair in turn opens until none
	// moves t: t never passes an instant allowed by all pairs, because each
	// step stops at the first instant allowed by the pair that moved it.
	t := now
	for {
		moved := false
		for _, h := range hours {
			for _, loc := range locs {
				nt, ok := h.nextIn(t, loc, limit)
				if !ok {
					return time.Time{}, false
				}
				if nt.After(t) {
					t, moved = nt, true
				}
			}
		}
		if !moved {
			return t, true
		}
	}
}

// locations caches time.LoadLocation, which reads and parses tzdata on every
// call. Failures are cached too: zone names come from a small fixed set, so
// the cache stays small, and a bad name should not cost a file read per lead.
var locations sync.Map // name → locationEntry

type locationEntry struct {
	loc *time.Location
	err error
}

func loadLocation(name string) (*time.Location, error) {
	if e, ok := locations.Load(name); ok {
		le := e.(locationEntry)
		return le.loc, le.err
	}
	loc, err := time.LoadLocation(name)
	if err == nil && name == "" {
		err = errors.New("empty time zone name") // LoadLocation("") is UTC
	}
	if err != nil {
		err = fmt.Errorf("load time zone %q: %w", name, err)
	}
	e, _ := locations.LoadOrStore(name, locationEntry{loc: loc, err: err})
	le := e.(locationEntry)
	return le.loc, le.err
}
