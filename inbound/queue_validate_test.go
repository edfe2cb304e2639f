package inbound

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestANewQueueGetsTheUsualServiceLevelRingTimeAndHours(t *testing.T) {
	t.Parallel()
	q := Queue{Name: "  Support  "}.WithDefaults()
	require.Equal(t, "Support", q.Name)
	require.Equal(t, 20*time.Second, q.SLThreshold)
	require.Equal(t, 0.8, q.SLTarget)
	require.Equal(t, 30*time.Second, q.RingTime)
	require.Equal(t, LongestIdle, q.Method)
	require.True(t, q.Hours.Always, "no hours given: open always")
	require.Equal(t, time.UTC, q.Hours.Zone)
	require.Equal(t, Fallback{Action: ActionHangup}, q.Overflow)
	require.Equal(t, Callbacks{Attempts: 3, RetryAfter: 5 * time.Minute, ExpireAfter: 8 * time.Hour}, q.Callbacks,
		"callbacks: not offered to callers, three tries five minutes apart within eight hours")
	require.NoError(t, q.Validate())

	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	set := Queue{Name: "Sales", SLThreshold: 30 * time.Second, SLTarget: 0.9, RingTime: time.Minute, Method: Rank,
		Hours: Hours{Zone: ny}, Callbacks: Callbacks{Allow: true, Attempts: 2, RetryAfter: 10 * time.Minute,
			ExpireAfter: time.Hour}}
	set.Hours.Days[time.Monday].Open, set.Hours.Days[time.Monday].Close = 9*time.Hour, 17*time.Hour
	got := set.WithDefaults()
	require.Equal(t, set, got, "what is set is kept")
	require.False(t, got.Hours.Always, "hours given: open only then")
	require.NoError(t, got.Validate())

	closed := Queue{Name: "Closed", Hours: Hours{Zone: ny}}.WithDefaults()
	require.False(t, closed.Hours.Always, "a zone without days is a queue closed all week, on purpose")
}

func TestQueueSettingsAManagerMustFixAreRefusedWithTheField(t *testing.T) {
	t.Parallel()
	base := Queue{ID: 7, Name: "Support"}.WithDefaults()
	hours := func(d time.Weekday, open, close time.Duration) func(*Queue) {
		return func(q *Queue) {
			q.Hours.Always = false
			q.Hours.Days[d].Open, q.Hours.Days[d].Close = open, close
		}
	}
	for _, tc := range []struct {
		name  string
		edit  func(*Queue)
		field string
		msg   string // "" when valid
	}{
		{"defaults", func(*Queue) {}, "", ""},
		{"no name", func(q *Queue) { q.Name = " " }, "name", "a queue needs a name"},
		{"padded name", func(q *Queue) { q.Name = "Support " }, "name", "starts or ends with a space"},
		{"name of 64 characters, 65 bytes", func(q *Queue) { q.Name = "é" + strings.Repeat("x", 63) }, "", ""},
		{"name of 65", func(q *Queue) { q.Name = strings.Repeat("x", 65) }, "name", "65 characters long; at most 64"},
		{"control in name", func(q *Queue) { q.Name = "Sup\tport" }, "name", "control characters"},
		{"priority 100", func(q *Queue) { q.Priority = 100 }, "", ""},
		{"priority 101", func(q *Queue) { q.Priority = 101 }, "priority", "priority 101 is out of range: 0 (lowest) to 100"},
		{"negative priority", func(q *Queue) { q.Priority = -1 }, "priority", "out of range"},
		{"threshold negative", func(q *Queue) { q.SLThreshold = -time.Second }, "sl_threshold", "threshold -1s is out of range"},
		{"threshold of 2 h", func(q *Queue) { q.SLThreshold = 2 * time.Hour }, "sl_threshold", "at most 1h0m0s"},
		{"target 1", func(q *Queue) { q.SLTarget = 1 }, "", ""},
		{"target above 1", func(q *Queue) { q.SLTarget = 80 }, "sl_target", "target 80 is out of range: a share above 0 and at most 1 (0.8 is 80%)"},
		{"negative target", func(q *Queue) { q.SLTarget = -0.5 }, "sl_target", "out of range"},
		{"unknown method", func(q *Queue) { q.Method = numMethods }, "method", "unknown method 5"},
		{"ring 15 s", func(q *Queue) { q.RingTime = 15 * time.Second }, "", ""},
		{"ring 180 s", func(q *Queue) { q.RingTime = 180 * time.Second }, "", ""},
		{"ring 14 s", func(q *Queue) { q.RingTime = 14 * time.Second }, "ring_time", "ring time 14s is out of range: 15s to 3m0s"},
		{"ring 181 s", func(q *Queue) { q.RingTime = 181 * time.Second }, "ring_time", "out of range"},
		{"11 callback attempts", func(q *Queue) { q.Callbacks.Attempts = 11 }, "callback_attempts", "callback attempts 11 is out of range: 1 to 10"},
		{"callback retry 30 s", func(q *Queue) { q.Callbacks.RetryAfter = 30 * time.Second }, "callback_retry", "callback retry time 30s is out of range"},
		{"callback expiry 8 days", func(q *Queue) { q.Callbacks.ExpireAfter = 8 * 24 * time.Hour }, "callback_expire", "callback expiry 192h0m0s is out of range"},
		{"comfort off", func(q *Queue) { q.ComfortEvery = 0 }, "", ""},
		{"comfort every 15 s", func(q *Queue) { q.ComfortEvery = 15 * time.Second }, "", ""},
		{"comfort every 10 min", func(q *Queue) { q.ComfortEvery = 10 * time.Minute }, "", ""},
		{"comfort every 14 s", func(q *Queue) { q.ComfortEvery = 14 * time.Second }, "comfort_every",
			"comfort message interval 14s is out of range: 0 (off) or 15s to 10m0s"},
		{"comfort every 11 min", func(q *Queue) { q.ComfortEvery = 11 * time.Minute }, "comfort_every", "out of range"},
		{"negative max wait", func(q *Queue) { q.MaxWait = -time.Second }, "max_wait", "maximum wait -1s is out of range"},
		{"negative depth", func(q *Queue) { q.MaxDepth = -1 }, "max_depth", "maximum depth -1 is out of range"},
		{"widen after 2 days", func(q *Queue) { q.WidenAfter = 48 * time.Hour }, "widen_after", "widening delay"},
		{"negative sticky", func(q *Queue) { q.StickyFor = -time.Second }, "sticky_for", "sticky agent time"},
		{"overflow to queue 9", func(q *Queue) { q.Overflow = Fallback{Action: ActionQueue, Target: 9} }, "", ""},
		{"overflow to no queue", func(q *Queue) { q.Overflow = Fallback{Action: ActionQueue} }, "overflow",
			"past the maximum wait or depth: choose the queue to move callers to"},
		{"overflow to itself", func(q *Queue) { q.Overflow = Fallback{Action: ActionQueue, Target: 7} }, "overflow",
			"a queue cannot send callers to itself"},
		{"hang up with a target", func(q *Queue) { q.Overflow = Fallback{Action: ActionHangup, Target: 9} }, "overflow",
			"only the queue action moves callers to another queue; hangup takes no target queue"},
		{"overflow to wait", func(q *Queue) { q.Overflow = Fallback{Action: ActionWait} }, "overflow",
			"callers cannot be kept waiting"},
		{"after hours to wait", func(q *Queue) { q.AfterHours = Fallback{Action: ActionWait} }, "after_hours",
			"after hours: callers cannot be kept waiting"},
		{"after hours callback", func(q *Queue) { q.AfterHours = Fallback{Action: ActionCallback} }, "", ""},
		{"after hours to itself", func(q *Queue) { q.AfterHours = Fallback{Action: ActionQueue, Target: 7} }, "after_hours",
			"itself"},
		{"at close wait", func(q *Queue) { q.AtClose = Fallback{Action: ActionWait} }, "", ""},
		{"at close to itself", func(q *Queue) { q.AtClose = Fallback{Action: ActionQueue, Target: 7} }, "at_close", "itself"},
		{"no agents wait", func(q *Queue) { q.NoAgents = Fallback{Action: ActionWait} }, "", ""},
		{"no agents to no queue", func(q *Queue) { q.NoAgents = Fallback{Action: ActionQueue} }, "no_agents",
			"with no agents: choose the queue"},
		{"unknown action", func(q *Queue) { q.NoAgents = Fallback{Action: numActions} }, "no_agents", "unknown action 4"},
		{"weekday hours", hours(time.Monday, 9*time.Hour, 17*time.Hour+30*time.Minute), "", ""},
		{"till midnight", hours(time.Friday, 18*time.Hour, 24*time.Hour), "", ""},
		{"closes before it opens", hours(time.Monday, 18*time.Hour, 9*time.Hour), "hours",
			"Monday opens at 18:00 and closes at 09:00: a day's hours must open before they close (split a night across two days)"},
		{"past midnight", hours(time.Sunday, 20*time.Hour, 25*time.Hour), "hours", "Sunday: hours run from 00:00 to 24:00"},
		{"seconds", hours(time.Tuesday, 9*time.Hour+time.Second, 10*time.Hour), "hours", "Tuesday: opening hours are given to the minute"},
		{"local zone", func(q *Queue) { q.Hours.Zone = time.Local }, "time_zone", "IANA name"},
		{"made-up zone", func(q *Queue) { q.Hours.Zone = time.FixedZone("Moon/Base", 3600) }, "time_zone",
			`time zone "Moon/Base" is not an IANA name`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := base
			tc.edit(&q)
			err := q.Validate()
			if tc.field == "" {
				require.NoError(t, err)
				return
			}
			var qe *QueueError
			require.ErrorAs(t, err, &qe)
			require.ErrorIs(t, err, ErrInvalid)
			require.Equal(t, tc.field, qe.Field)
			require.Contains(t, qe.Message, tc.msg)
		})
	}
}

func TestRingAllIsOnlyForSmallQueues(t *testing.T) {
	t.Parallel()
	q := Queue{Name: "Desk", Method: RingAll}.WithDefaults()
	require.NoError(t, q.ValidateMembers(MaxRingAll))
	err := q.ValidateMembers(MaxRingAll + 1)
	require.EqualError(t, err, `ring_all rings every free member at once and is only for queues of at most 10 members; "Desk" has 11: choose another method or remove members`)
	q.Method = Rank
	require.NoError(t, q.ValidateMembers(500))
}

func TestMemberLevelAndRankRanges(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		m   Member
		msg string
	}{
		{Member{Queue: 1, Agent: 5, Level: 1}, ""},
		{Member{Queue: 1, Agent: 5, Level: 9, Rank: 9999}, ""},
		{Member{Queue: 1, Agent: 5, Level: 10}, "level 10 is out of range: 1 (first line) to 9"},
		{Member{Queue: 1, Agent: 5, Level: 1, Rank: -1}, "rank -1 is out of range"},
		{Member{Queue: 0, Agent: 5, Level: 1}, "choose the queue"},
		{Member{Queue: 1, Agent: 0, Level: 1}, "choose the agent"},
	} {
		err := tc.m.validate()
		if tc.msg == "" {
			require.NoError(t, err)
			continue
		}
		require.ErrorContains(t, err, tc.msg)
		require.True(t, errors.Is(err, ErrInvalid))
	}
}

func TestMethodAndActionNamesReadBack(t *testing.T) {
	t.Parallel()
	for m := range numMethods {
		got, err := ParseMethod(m.String())
		require.NoError(t, err)
		require.Equal(t, m, got)
	}
	for a := range numActions {
		got, err := ParseAction(a.String())
		require.NoError(t, err)
		require.Equal(t, a, got)
	}
	_, err := ParseMethod("random")
	require.EqualError(t, err, `unknown method "random": choose one of longest_idle, fewest_calls, rank, round_robin, ring_all`)
	_, err = ParseAction("voicemail")
	require.EqualError(t, err, `unknown action "voicemail": choose one of hangup, queue, callback, wait`)
}
