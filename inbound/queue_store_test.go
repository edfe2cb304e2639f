package inbound

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/internal/testdb"
)

func newQueueStore(t *testing.T) (*QueueStore, context.Context) {
	return NewQueueStore(testdb.NewPool(t)), context.Background()
}

func requireQueueError(t *testing.T, err error, field, msg string) {
	t.Helper()
	var qe *QueueError
	require.ErrorAs(t, err, &qe)
	require.ErrorIs(t, err, ErrInvalid)
	require.Equal(t, field, qe.Field)
	require.Contains(t, qe.Message, msg)
}

func TestAQueueReadsBackWithEverySetting(t *testing.T) {
	t.Parallel()
	s, ctx := newQueueStore(t)
	general, err := s.CreateQueue(ctx, Queue{ID: 99, Name: "General"})
	require.NoError(t, err)
	require.NotZero(t, general.ID)
	require.NotEqual(t, QueueID(99), general.ID, "the store picks the id")
	require.Equal(t, Queue{ID: general.ID, Name: "General"}.WithDefaults(), general)

	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	in := Queue{Name: "Billing", Priority: 40, SLThreshold: 15 * time.Second, SLTarget: 0.9, Method: Rank,
		RingTime: 45 * time.Second, RejectToDND: true, MaxWait: 5 * time.Minute, MaxDepth: 12,
		Overflow:   Fallback{Action: ActionQueue, Target: general.ID},
		Hours:      Hours{Zone: ny},
		AfterHours: Fallback{Action: ActionCallback},
		AtClose:    Fallback{Action: ActionQueue, Target: general.ID},
		NoAgents:   Fallback{Action: ActionWait},
		WidenAfter: 40 * time.Second, StickyFor: 90 * time.Second, AllowTake: true,
		Callbacks:    Callbacks{Allow: true, Attempts: 5, RetryAfter: 10 * time.Minute, ExpireAfter: 2 * time.Hour},
		ComfortEvery: 90 * time.Second}
	for d := time.Monday; d <= time.Friday; d++ {
		in.Hours.Days[d].Open, in.Hours.Days[d].Close = 8*time.Hour+30*time.Minute, 18*time.Hour
	}
	in.Hours.Days[time.Saturday].Open, in.Hours.Days[time.Saturday].Close = 10*time.Hour, 24*time.Hour
	billing, err := s.CreateQueue(ctx, in)
	require.NoError(t, err)
	in.ID = billing.ID
	require.Equal(t, in, billing)
	got, err := s.Queue(ctx, billing.ID)
	require.NoError(t, err)
	require.Equal(t, in, got)

	// Always open keeps the week, so switching it off brings it back.
	in.Hours.Always = true
	always, err := s.UpdateQueue(ctx, in)
	require.NoError(t, err)
	require.Equal(t, in, always)

	_, err = s.Queue(ctx, 12345)
	require.ErrorIs(t, err, ErrNotFound)
}

func TestQueueNamesAndTargetsMustBeReal(t *testing.T) {
	t.Parallel()
	s, ctx := newQueueStore(t)
	a, err := s.CreateQueue(ctx, Queue{Name: "Sales"})
	require.NoError(t, err)

	_, err = s.CreateQueue(ctx, Queue{Name: "Sales"})
	requireQueueError(t, err, "name", `a queue named "Sales" already exists`)
	_, err = s.CreateQueue(ctx, Queue{Name: "Spill", Overflow: Fallback{Action: ActionQueue, Target: 4242}})
	requireQueueError(t, err, "overflow", "the queue to move callers to does not exist")
	_, err = s.CreateQueue(ctx, Queue{Name: "Night", NoAgents: Fallback{Action: ActionQueue, Target: 4242}})
	requireQueueError(t, err, "no_agents", "does not exist")
	_, err = s.CreateQueue(ctx, Queue{Name: "Slow", RingTime: 5 * time.Second})
	requireQueueError(t, err, "ring_time", "ring time 5s is out of range")

	a.Overflow = Fallback{Action: ActionQueue, Target: a.ID}
	_, err = s.UpdateQueue(ctx, a)
	requireQueueError(t, err, "overflow", "cannot send callers to itself")

	b, err := s.CreateQueue(ctx, Queue{Name: "Support"})
	require.NoError(t, err)
	b.Name = "Sales"
	_, err = s.UpdateQueue(ctx, b)
	requireQueueError(t, err, "name", `a queue named "Sales" already exists`)

	_, err = s.UpdateQueue(ctx, Queue{ID: 4242, Name: "Ghost"})
	require.ErrorIs(t, err, ErrNotFound)
	got, err := s.Queue(ctx, a.ID)
	require.NoError(t, err)
	require.Equal(t, "Sales", got.Name, "a refused update changes nothing")
	require.Equal(t, ActionHangup, got.Overflow.Action)
}

// The database holds the invariants even against a writer that skips the
// Go checks.
func TestTheQueueTablesRefuseImpossibleRows(t *testing.T) {
	t.Parallel()
	pool := testdb.NewPool(t)
	ctx := context.Background()
	var id int64
	require.NoError(t, pool.QueryRow(ctx, "INSERT INTO queues (name) VALUES ('Q') RETURNING id").Scan(&id))
	for _, sql := range []string{
		"UPDATE queues SET overflow_action = 'queue', overflow_queue = id",
		"UPDATE queues SET overflow_action = 'queue'",
		"UPDATE queues SET overflow_action = 'wait'",
		"UPDATE queues SET after_hours_action = 'hangup', after_hours_queue = id",
		"UPDATE queues SET ring_ms = 10000",
		"UPDATE queues SET sl_target = 1.5",
		"UPDATE queues SET method = 'random'",
		"UPDATE queues SET hours = '[[0,0]]'",
		"UPDATE queues SET name = ' Q'",
		"UPDATE queues SET comfort_every_ms = 5000",
		"INSERT INTO queue_audio (queue_id, kind, pcmu, file_name, uploaded_by) VALUES ((SELECT id FROM queues), 'music', '\\x00', 'a.wav', 'm')",
		"INSERT INTO queue_audio (queue_id, kind, pcmu, file_name, uploaded_by) VALUES ((SELECT id FROM queues), 'welcome', '', 'a.wav', 'm')",
		"INSERT INTO queue_audio (queue_id, kind, pcmu, file_name, uploaded_by) VALUES (424242, 'welcome', '\\x00', 'a.wav', 'm')",
		"INSERT INTO queue_dids (number, queue_id) VALUES ('2025550143', (SELECT id FROM queues))",
		"INSERT INTO queue_members (queue_id, agent_id, level) VALUES ((SELECT id FROM queues), 5, 0)",
		"INSERT INTO queue_events (queue_id, call_key, kind, at) VALUES (1, 1, 'ring', now())",
		"INSERT INTO queue_events (queue_id, call_key, kind, at) VALUES (1, 1, 'offer', now())",
	} {
		_, err := pool.Exec(ctx, sql)
		var pe *pgconn.PgError
		require.ErrorAs(t, err, &pe, sql)
		require.Equal(t, "23", pe.Code[:2], "%s: refused by a constraint, not %v", sql, err)
	}
}

func TestNumbersReachTheirQueueInE164(t *testing.T) {
	t.Parallel()
	s, ctx := newQueueStore(t)
	sales, err := s.CreateQueue(ctx, Queue{Name: "Sales"})
	require.NoError(t, err)
	support, err := s.CreateQueue(ctx, Queue{Name: "Support"})
	require.NoError(t, err)

	d, err := s.SetDID(ctx, "+1 (202) 555-0143", sales.ID)
	require.NoError(t, err)
	require.Equal(t, DID{Number: "+12025550143", Queue: sales.ID}, d)
	_, err = s.SetDID(ctx, "+44 20 7946 0000", support.ID)
	require.NoError(t, err)

	q, err := s.QueueByDID(ctx, "+12025550143")
	require.NoError(t, err)
	require.Equal(t, sales, q)

	// Moving a number to another queue.
	_, err = s.SetDID(ctx, "+12025550143", support.ID)
	require.NoError(t, err)
	q, err = s.QueueByDID(ctx, "+1 202 555 0143")
	require.NoError(t, err)
	require.Equal(t, support.ID, q.ID)

	dids, err := s.DIDs(ctx)
	require.NoError(t, err)
	require.Equal(t, []DID{{Number: "+12025550143", Queue: support.ID}, {Number: "+442079460000", Queue: support.ID}}, dids)

	_, err = s.SetDID(ctx, "2025550143", sales.ID)
	requireQueueError(t, err, "number", `"2025550143" is not a number callers can dial (no country code and no default region): give it in E.164 form`)
	_, err = s.SetDID(ctx, "+1 999 555 0143", sales.ID)
	requireQueueError(t, err, "number", "not a valid number")
	_, err = s.SetDID(ctx, "+12025550144", 4242)
	require.ErrorIs(t, err, ErrNotFound)

	_, err = s.QueueByDID(ctx, "+12025550199")
	require.ErrorIs(t, err, ErrNotFound)
	require.NoError(t, s.RemoveDID(ctx, "+44 20 7946 0000"))
	require.ErrorIs(t, s.RemoveDID(ctx, "+442079460000"), ErrNotFound)
	_, err = s.QueueByDID(ctx, "+442079460000")
	require.ErrorIs(t, err, ErrNotFound)
}

func TestAgentsServeQueuesAtALevel(t *testing.T) {
	t.Parallel()
	s, ctx := newQueueStore(t)
	sales, err := s.CreateQueue(ctx, Queue{Name: "Sales", Method: Rank})
	require.NoError(t, err)
	support, err := s.CreateQueue(ctx, Queue{Name: "Support"})
	require.NoError(t, err)

	none, err := s.Members(ctx, sales.ID)
	require.NoError(t, err)
	require.Equal(t, []Member{}, none)

	m, err := s.SetMember(ctx, Member{Queue: sales.ID, Agent: 1000002})
	require.NoError(t, err)
	require.Equal(t, 1, m.Level, "level 1 when not given")
	_, err = s.SetMember(ctx, Member{Queue: sales.ID, Agent: 1000001, Level: 2, Rank: 5})
	require.NoError(t, err)
	_, err = s.SetMember(ctx, Member{Queue: sales.ID, Agent: 3, Level: 1, Rank: 7})
	require.NoError(t, err)
	_, err = s.SetMember(ctx, Member{Queue: support.ID, Agent: 1000001, Level: 1})
	require.NoError(t, err)
	// Changing a member's level and rank.
	_, err = s.SetMember(ctx, Member{Queue: sales.ID, Agent: 3, Level: 1, Rank: 0})
	require.NoError(t, err)

	got, err := s.Members(ctx, sales.ID)
	require.NoError(t, err)
	require.Equal(t, []Member{
		{Queue: sales.ID, Agent: 3, Level: 1, Rank: 0},
		{Queue: sales.ID, Agent: 1000002, Level: 1, Rank: 0},
		{Queue: sales.ID, Agent: 1000001, Level: 2, Rank: 5},
	}, got, "by level, then rank, then agent")

	of, err := s.MembersOf(ctx, 1000001)
	require.NoError(t, err)
	require.Equal(t, []Member{
		{Queue: sales.ID, Agent: 1000001, Level: 2, Rank: 5},
		{Queue: support.ID, Agent: 1000001, Level: 1},
	}, of)
	of, err = s.MembersOf(ctx, 4)
	require.NoError(t, err)
	require.Empty(t, of)

	_, err = s.SetMember(ctx, Member{Queue: sales.ID, Agent: 3, Level: 12})
	requireQueueError(t, err, "level", "level 12 is out of range")
	_, err = s.SetMember(ctx, Member{Queue: 4242, Agent: 3})
	require.ErrorIs(t, err, ErrNotFound)
	_, err = s.Members(ctx, 4242)
	require.ErrorIs(t, err, ErrNotFound)

	require.NoError(t, s.RemoveMember(ctx, sales.ID, 1000002))
	require.ErrorIs(t, s.RemoveMember(ctx, sales.ID, 1000002), ErrNotFound)
	got, err = s.Members(ctx, sales.ID)
	require.NoError(t, err)
	require.Len(t, got, 2)

	all, err := s.Queues(ctx)
	require.NoError(t, err)
	require.Len(t, all, 2)
	require.Equal(t, "Sales", all[0].Name)
	require.Equal(t, got, all[0].Members)
	require.Equal(t, []Member{{Queue: support.ID, Agent: 1000001, Level: 1}}, all[1].Members)
}

func TestARingAllQueueKeepsToTenMembers(t *testing.T) {
	t.Parallel()
	s, ctx := newQueueStore(t)
	desk, err := s.CreateQueue(ctx, Queue{Name: "Desk", Method: RingAll})
	require.NoError(t, err)
	for a := range agents.ID(MaxRingAll) {
		_, err := s.SetMember(ctx, Member{Queue: desk.ID, Agent: a + 1})
		require.NoError(t, err)
	}
	_, err = s.SetMember(ctx, Member{Queue: desk.ID, Agent: 5, Level: 2})
	require.NoError(t, err, "changing a member's level does not add one")
	_, err = s.SetMember(ctx, Member{Queue: desk.ID, Agent: 11})
	requireQueueError(t, err, "method", `"Desk" has 11`)

	desk.Method = LongestIdle
	desk, err = s.UpdateQueue(ctx, desk)
	require.NoError(t, err)
	_, err = s.SetMember(ctx, Member{Queue: desk.ID, Agent: 11})
	require.NoError(t, err)
	desk.Method = RingAll
	_, err = s.UpdateQueue(ctx, desk)
	requireQueueError(t, err, "method", "at most 10 members")
}

func TestAQueueStillInUseIsNotDeleted(t *testing.T) {
	t.Parallel()
	pool := testdb.NewPool(t)
	s, ctx := NewQueueStore(pool), context.Background()
	general, err := s.CreateQueue(ctx, Queue{Name: "General"})
	require.NoError(t, err)
	sales, err := s.CreateQueue(ctx, Queue{Name: "Sales", Overflow: Fallback{Action: ActionQueue, Target: general.ID}})
	require.NoError(t, err)
	_, err = s.CreateQueue(ctx, Queue{Name: "Night", AfterHours: Fallback{Action: ActionQueue, Target: general.ID}})
	require.NoError(t, err)
	_, err = s.SetDID(ctx, "+12025550143", general.ID)
	require.NoError(t, err)
	_, err = s.SetMember(ctx, Member{Queue: general.ID, Agent: 7})
	require.NoError(t, err)
	require.NoError(t, NewEventStore(pool).Append(ctx, []Event{{Queue: general.ID, Call: 1, Kind: EvEnter, At: t0}}))

	err = s.DeleteQueue(ctx, general.ID)
	require.ErrorIs(t, err, ErrInUse)
	require.EqualError(t, err, `queue "General" is in use: numbers +12025550143 reach it; queues Night, Sales send callers to it; move them to another queue first`)

	require.NoError(t, s.RemoveDID(ctx, "+12025550143"))
	sales.Overflow = Fallback{Action: ActionCallback}
	_, err = s.UpdateQueue(ctx, sales)
	require.NoError(t, err)
	var inUse *QueueInUseError
	require.ErrorAs(t, s.DeleteQueue(ctx, general.ID), &inUse)
	require.Empty(t, inUse.DIDs)
	require.Equal(t, []string{"Night"}, inUse.Queues)

	require.NoError(t, s.DeleteQueue(ctx, sales.ID))
	night, err := s.Queues(ctx)
	require.NoError(t, err)
	require.Equal(t, "Night", night[1].Name)
	require.NoError(t, s.DeleteQueue(ctx, night[1].ID))
	require.NoError(t, s.DeleteQueue(ctx, general.ID))
	require.ErrorIs(t, s.DeleteQueue(ctx, general.ID), ErrNotFound)
	of, err := s.MembersOf(ctx, 7)
	require.NoError(t, err)
	require.Empty(t, of, "members go with their queue")
	evs, err := NewEventStore(pool).Since(ctx, 0)
	require.NoError(t, err)
	require.Len(t, evs, 1, "the log outlives the queue")
}
