package inbound

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits of a queue's settings (the CHECKs of migrations/0026_inbound.sql
// hold the same).
const (
	// DefaultRingTime is how long an offer rings one agent when the queue
	// does not say.
	DefaultRingTime = 30 * time.Second
	MinRingTime     = 15 * time.Second
	MaxRingTime     = 180 * time.Second
	// MaxPriority is the highest queue priority (0 is the lowest).
	MaxPriority = 100
	// MaxSLThreshold bounds the service-level threshold.
	MaxSLThreshold = time.Hour
	// MaxQueueWait bounds the maximum wait, the widening delay and the
	// sticky time.
	MaxQueueWait = 24 * time.Hour
	// MaxQueueDepth bounds the maximum number of callers waiting.
	MaxQueueDepth = 100000
	// MaxQueueName is the longest queue name, in characters.
	MaxQueueName = 64
	// MaxLevel is the lowest member level (1 is the first line); MaxRank
	// the highest rank.
	MaxLevel = 9
	MaxRank  = 9999
)

// ErrInvalid is wrapped by every refusal of a queue, member or number
// setting.
var ErrInvalid = errors.New("invalid queue setting")

// QueueError is a setting the queue store refuses. Field names it as the
// API's JSON and the console do; Message says what to change.
type QueueError struct {
	Field   string
	Message string
}

func (e *QueueError) Error() string { return e.Message }

// Unwrap makes a QueueError an ErrInvalid.
func (e *QueueError) Unwrap() error { return ErrInvalid }

func queueError(field, format string, args ...any) error {
	return &QueueError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// ParseMethod reads a method's name (Method.String).
func ParseMethod(s string) (Method, error) {
	for m := range numMethods {
		if methodNames[m] == s {
			return m, nil
		}
	}
	return 0, queueError("method", "unknown method %q: choose one of %s", s, strings.Join(methodNames[:], ", "))
}

// ParseAction reads an action's name (Action.String).
func ParseAction(s string) (Action, error) {
	for a := range numActions {
		if actionNames[a] == s {
			return a, nil
		}
	}
	return 0, queueError("action", "unknown action %q: choose one of %s", s, strings.Join(actionNames[:], ", "))
}

// WithDefaults fills what q leaves unset: the service level (20 s, 80%),
// the ring time (30 s), opening hours (always open, when no day has hours
// and no zone is given), the zone (UTC), and trims the name. The method's
// zero value is already the default, longest idle; every fallback's zero
// value is hang up.
func (q Queue) WithDefaults() Queue {
	q.Name = strings.TrimSpace(q.Name)
	if q.SLThreshold == 0 {
		q.SLThreshold = DefaultSLThreshold
	}
	if q.SLTarget == 0 {
		q.SLTarget = DefaultSLTarget
	}
	if q.RingTime == 0 {
		q.RingTime = DefaultRingTime
	}
	if q.Hours == (Hours{}) {
		q.Hours.Always = true
	}
	if q.Hours.Zone == nil {
		q.Hours.Zone = time.UTC
	}
	q.Callbacks = q.Callbacks.withDefaults()
	return q
}

// Validate checks q's settings on their own; ValidateMembers checks them
// against the queue's members. The first problem found is returned as a
// *QueueError.
func (q Queue) Validate() error {
	switch n := utf8.RuneCountInString(q.Name); {
	case strings.TrimSpace(q.Name) == "":
		return queueError("name", "a queue needs a name")
	case q.Name != strings.TrimSpace(q.Name):
		return queueError("name", "queue name %q starts or ends with a space", q.Name)
	case n > MaxQueueName:
		return queueError("name", "queue name is %d characters long; at most %d", n, MaxQueueName)
	case strings.IndexFunc(q.Name, unicode.IsControl) >= 0 || !utf8.ValidString(q.Name):
		return queueError("name", "queue name %q holds control characters", q.Name)
	}
	if q.Priority < 0 || q.Priority > MaxPriority {
		return queueError("priority", "priority %d is out of range: 0 (lowest) to %d (served first)", q.Priority, MaxPriority)
	}
	if q.SLThreshold <= 0 || q.SLThreshold > MaxSLThreshold {
		return queueError("sl_threshold", "service-level threshold %v is out of range: more than 0 s, at most %v",
			q.SLThreshold, MaxSLThreshold)
	}
	if !(q.SLTarget > 0 && q.SLTarget <= 1) {
		return queueError("sl_target", "service-level target %v is out of range: a share above 0 and at most 1 (0.8 is 80%%)",
			q.SLTarget)
	}
	if q.Method >= numMethods {
		return queueError("method", "unknown method %d: choose one of %s", q.Method, strings.Join(methodNames[:], ", "))
	}
	if q.RingTime < MinRingTime || q.RingTime > MaxRingTime {
		return queueError("ring_time", "ring time %v is out of range: %v to %v", q.RingTime, MinRingTime, MaxRingTime)
	}
	for _, d := range []struct {
		field, label string
		v            time.Duration
	}{
		{"max_wait", "maximum wait", q.MaxWait},
		{"widen_after", "widening delay", q.WidenAfter},
		{"sticky_for", "sticky agent time", q.StickyFor},
	} {
		if d.v < 0 || d.v > MaxQueueWait {
			return queueError(d.field, "%s %v is out of range: 0 (none) to %v", d.label, d.v, MaxQueueWait)
		}
	}
	if q.MaxDepth < 0 || q.MaxDepth > MaxQueueDepth {
		return queueError("max_depth", "maximum depth %d is out of range: 0 (none) to %d callers", q.MaxDepth, MaxQueueDepth)
	}
	for _, f := range []struct {
		field, label string
		fb           Fallback
		wait         bool
	}{
		{"overflow", "past the maximum wait or depth", q.Overflow, false},
		{"after_hours", "after hours", q.AfterHours, false},
		{"at_close", "at closing time", q.AtClose, true},
		{"no_agents", "with no agents", q.NoAgents, true},
	} {
		if err := q.checkFallback(f.field, f.label, f.fb, f.wait); err != nil {
			return err
		}
	}
	if err := q.Callbacks.validate(); err != nil {
		return err
	}
	if q.ComfortEvery != 0 && (q.ComfortEvery < MinComfortEvery || q.ComfortEvery > MaxComfortEvery) {
		return queueError("comfort_every", "comfort message interval %v is out of range: 0 (off) or %v to %v",
			q.ComfortEvery, MinComfortEvery, MaxComfortEvery)
	}
	return q.Hours.validate()
}

// Comfort message interval: the default for new queues and the bounds
// (the CHECK of migrations/0035_queue_audio.sql holds the same).
const (
	DefaultComfortEvery = 45 * time.Second
	MinComfortEvery     = 15 * time.Second
	MaxComfortEvery     = 10 * time.Minute
)

// Callback limits (the CHECKs of migrations/0033_queue_callbacks.sql hold
// the same).
const (
	MaxCallbackAttempts = 10
	MinCallbackRetry    = time.Minute
	MaxCallbackRetry    = 24 * time.Hour
	MinCallbackExpire   = 10 * time.Minute
	MaxCallbackExpire   = 7 * 24 * time.Hour
)

func (c Callbacks) validate() error {
	switch {
	case c.Attempts < 1 || c.Attempts > MaxCallbackAttempts:
		return queueError("callback_attempts", "callback attempts %d is out of range: 1 to %d", c.Attempts,
			MaxCallbackAttempts)
	case c.RetryAfter < MinCallbackRetry || c.RetryAfter > MaxCallbackRetry:
		return queueError("callback_retry", "callback retry time %v is out of range: %v to %v", c.RetryAfter,
			MinCallbackRetry, MaxCallbackRetry)
	case c.ExpireAfter < MinCallbackExpire || c.ExpireAfter > MaxCallbackExpire:
		return queueError("callback_expire", "callback expiry %v is out of range: %v to %v", c.ExpireAfter,
			MinCallbackExpire, MaxCallbackExpire)
	}
	return nil
}

func (q Queue) checkFallback(field, label string, f Fallback, waitAllowed bool) error {
	switch {
	case f.Action >= numActions:
		return queueError(field, "%s: unknown action %d: choose one of %s", label, f.Action, strings.Join(actionNames[:], ", "))
	case f.Action == ActionWait && !waitAllowed:
		return queueError(field, "%s: callers cannot be kept waiting; choose hangup, queue or callback", label)
	case f.Action == ActionQueue && f.Target <= 0:
		return queueError(field, "%s: choose the queue to move callers to", label)
	case f.Action != ActionQueue && f.Target != 0:
		return queueError(field, "%s: only the queue action moves callers to another queue; %s takes no target queue",
			label, f.Action)
	case f.Action == ActionQueue && q.ID != 0 && f.Target == q.ID:
		return queueError(field, "%s: a queue cannot send callers to itself; choose another queue", label)
	}
	return nil
}

func (h Hours) validate() error {
	if h.Zone != nil {
		name := h.Zone.String()
		if name == "Local" || name == "" {
			return queueError("time_zone", "give the queue's time zone by its IANA name, e.g. America/New_York")
		}
		if _, err := time.LoadLocation(name); err != nil {
			return queueError("time_zone", "time zone %q is not an IANA name (e.g. America/New_York, Europe/London)", name)
		}
	}
	if h.Always {
		return nil
	}
	for d, day := range h.Days {
		wd := time.Weekday(d)
		switch {
		case day.Open == 0 && day.Close == 0:
		case day.Open%time.Minute != 0 || day.Close%time.Minute != 0:
			return queueError("hours", "%s: opening hours are given to the minute", wd)
		case day.Open < 0 || day.Close > 24*time.Hour:
			return queueError("hours", "%s: hours run from 00:00 to 24:00", wd)
		case day.Open >= day.Close:
			return queueError("hours", "%s opens at %s and closes at %s: a day's hours must open before they close "+
				"(split a night across two days)", wd, clock(day.Open), clock(day.Close))
		}
	}
	return nil
}

func clock(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// ValidateMembers checks q against the number of agents serving it: ring
// all rings every free member at once and is only for small queues.
func (q Queue) ValidateMembers(members int) error {
	if q.Method == RingAll && members > MaxRingAll {
		return queueError("method", "ring_all rings every free member at once and is only for queues of at most %d "+
			"members; %q has %d: choose another method or remove members", MaxRingAll, q.Name, members)
	}
	return nil
}

// validate checks a member's level and rank.
func (m Member) validate() error {
	switch {
	case m.Queue <= 0:
		return queueError("queue", "choose the queue the agent serves")
	case m.Agent <= 0:
		return queueError("agent", "choose the agent who serves the queue")
	case m.Level < 1 || m.Level > MaxLevel:
		return queueError("level", "level %d is out of range: 1 (first line) to %d", m.Level, MaxLevel)
	case m.Rank < 0 || m.Rank > MaxRank:
		return queueError("rank", "rank %d is out of range: 0 (first) to %d", m.Rank, MaxRank)
	}
	return nil
}
