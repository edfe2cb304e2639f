package jobs

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/internal/testwait"
)

func TestMain(m *testing.M) { testdb.Main(m) }

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newRunner(t *testing.T, db *pgxpool.Pool) *Runner {
	t.Helper()
	r, err := New(db, Config{FetchPoll: 50 * time.Millisecond, StopTimeout: 2 * time.Second}, wallClock{}, quietLog())
	require.NoError(t, err)
	return r
}

func startRunner(t *testing.T, db *pgxpool.Pool) *Runner {
	t.Helper()
	r := newRunner(t, db)
	require.NoError(t, r.Start(context.Background()))
	return r
}

// newCampaign makes an active campaign with n New York leads, callable at any
// hour unless settings say otherwise.
func newCampaign(t *testing.T, db *pgxpool.Pool, n int, settings map[string]string) campaigns.Campaign {
	t.Helper()
	ctx := context.Background()
	s := map[string]string{"window_start": "00:00", "window_end": "24:00", "simulated": "true"}
	for k, v := range settings {
		s[k] = v
	}
	c, err := campaigns.Create(ctx, db, "c-"+t.Name(), s)
	require.NoError(t, err)
	lines := []string{"phone,first_name,state"}
	for i := range n {
		lines = append(lines, fmt.Sprintf("212555%04d,Lead%d,NY", i, i))
	}
	_, err = campaigns.Import(ctx, db, strings.NewReader(strings.Join(lines, "\n")+"\n"),
		campaigns.ImportOptions{Campaign: c.ID, Name: "t.csv"})
	require.NoError(t, err)
	c, err = campaigns.SetStatus(ctx, db, c.ID, campaigns.StatusActive)
	require.NoError(t, err)
	return c
}

func firstLead(t *testing.T, db *pgxpool.Pool, c campaigns.Campaign) campaigns.LeadID {
	t.Helper()
	var id campaigns.LeadID
	require.NoError(t, db.QueryRow(context.Background(), `SELECT min(id) FROM leads WHERE campaign_id = $1`, c.ID).Scan(&id))
	return id
}

func count(t *testing.T, db *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, db.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

func schedule(t *testing.T, db *pgxpool.Pool, r *Runner, c campaigns.Campaign, lead campaigns.LeadID, scope campaigns.CallbackScope, in time.Duration) campaigns.Callback {
	t.Helper()
	now := time.Now()
	cb, err := campaigns.ScheduleCallback(context.Background(), db, r, campaigns.NewCallback{
		Campaign: &c, Lead: lead, Agent: 7, Scope: scope, At: now.Add(in), Notes: "call about the renewal", Now: now})
	require.NoError(t, err)
	require.Equal(t, campaigns.CallbackScheduled, cb.Status)
	require.NotZero(t, cb.JobID)
	return cb
}

// fellDueAt waits for the callback's fall_due event and returns its time.
func fellDueAt(t *testing.T, db *pgxpool.Pool, id campaigns.CallbackID) time.Time {
	t.Helper()
	var at time.Time
	testwait.Until(t, func() bool {
		err := db.QueryRow(context.Background(), `SELECT at FROM callback_events WHERE callback_id = $1 AND event = 'fall_due'`, id).Scan(&at)
		return err == nil
	}, "callback %d falls due", id)
	return at
}

// A callback fires at its time, both when its job is queued for the
// scheduler (more than River's 5 s scheduler interval ahead) and when it is
// close; an `anyone` callback puts its lead at the top of the hopper.
func TestCallbackFiresAtItsTime(t *testing.T) {
	db := testdb.NewPool(t)
	c := newCampaign(t, db, 3, nil)
	defer testwait.NoLeaks(t, goleak.IgnoreCurrent())
	r := startRunner(t, db)
	defer r.Stop()

	var ids []campaigns.LeadID
	rows, err := db.Query(context.Background(), `SELECT id FROM leads WHERE campaign_id = $1 ORDER BY id`, c.ID)
	require.NoError(t, err)
	for rows.Next() {
		var id campaigns.LeadID
		require.NoError(t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(t, rows.Err())

	near := schedule(t, db, r, c, ids[0], campaigns.ScopeAnyone, 1500*time.Millisecond)
	far := schedule(t, db, r, c, ids[1], campaigns.ScopeAnyone, 7*time.Second)
	require.Equal(t, "callback", leadStatus(t, db, ids[0]), "the lead waits for its callback")

	for _, cb := range []campaigns.Callback{near, far} {
		at := fellDueAt(t, db, cb.ID)
		require.WithinDuration(t, cb.DueAt, at, time.Second, "callback %d fires at its time", cb.ID)
		require.False(t, at.Before(cb.DueAt), "never early")
		got, err := campaigns.GetCallback(context.Background(), db, cb.ID)
		require.NoError(t, err)
		require.Equal(t, campaigns.CallbackDue, got.Status)
		require.Equal(t, "retry", leadStatus(t, db, cb.Lead))
		require.Equal(t, campaigns.CallbackPriority, count(t, db, `SELECT priority FROM leads WHERE id = $1`, cb.Lead))
	}

	// The hopper hands out the callback's lead first.
	h := campaigns.NewHopper("n1")
	c, err = campaigns.Get(context.Background(), db, c.ID)
	require.NoError(t, err)
	got, err := h.Claim(context.Background(), db, &c, 1, time.Now())
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Contains(t, []campaigns.LeadID{ids[0], ids[1]}, got[0].ID)

	// An attempt nobody answered keeps the callback for the lead's next try
	// and gives the lead its priority back until then.
	require.NoError(t, campaigns.Complete(context.Background(), db, &c, campaigns.Attempt{Lead: got[0].ID,
		Outcome: campaigns.OutcomeNoAnswer, At: time.Now(), Callbacks: r}))
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM callbacks WHERE lead_id = $1 AND status = 'scheduled' AND version = 2`, got[0].ID))
	require.Equal(t, "callback", leadStatus(t, db, got[0].ID))
	require.Zero(t, count(t, db, `SELECT priority FROM leads WHERE id = $1`, got[0].ID))
}

func leadStatus(t *testing.T, db *pgxpool.Pool, id campaigns.LeadID) string {
	t.Helper()
	var s string
	require.NoError(t, db.QueryRow(context.Background(), `SELECT status FROM leads WHERE id = $1`, id).Scan(&s))
	return s
}

// A callback survives a restart: the node that scheduled it stops, another
// client starts and delivers it on time.
func TestCallbackSurvivesRestart(t *testing.T) {
	db := testdb.NewPool(t)
	c := newCampaign(t, db, 1, nil)
	defer testwait.NoLeaks(t, goleak.IgnoreCurrent())
	r1 := newRunner(t, db)
	require.NoError(t, r1.Start(context.Background()))
	cb := schedule(t, db, r1, c, firstLead(t, db, c), campaigns.ScopeAnyone, 2*time.Second)
	testwait.Until(t, func() bool { // r1 picks the job up and snoozes it
		j, err := r1.client.JobGet(context.Background(), cb.JobID)
		require.NoError(t, err)
		return j.AttemptedAt != nil
	}, "the first runner works the callback's job")
	r1.Stop()

	defer startRunner(t, db).Stop()
	at := fellDueAt(t, db, cb.ID)
	require.WithinDuration(t, cb.DueAt, at, time.Second)
}

// A kill between insert and delivery loses nothing: the callback and its job
// were committed by a client that never worked a job (it died), and a new
// client delivers it.
func TestCallbackSurvivesKillBetweenInsertAndDelivery(t *testing.T) {
	db := testdb.NewPool(t)
	c := newCampaign(t, db, 1, nil)
	defer testwait.NoLeaks(t, goleak.IgnoreCurrent())
	dead := newRunner(t, db) // never started: inserts only, like a process killed right after its commit
	cb := schedule(t, db, dead, c, firstLead(t, db, c), campaigns.ScopeAnyone, 1500*time.Millisecond)

	defer startRunner(t, db).Stop()
	at := fellDueAt(t, db, cb.ID)
	require.WithinDuration(t, cb.DueAt, at, time.Second)
}

// A job that runs twice delivers the callback once: a second job for the
// same version (as River's rescuer or a lost acknowledgement would run) and a
// direct second run both find it already due.
func TestCallbackDeliveredOnceWhenItsJobRunsTwice(t *testing.T) {
	db := testdb.NewPool(t)
	c := newCampaign(t, db, 1, nil)
	defer testwait.NoLeaks(t, goleak.IgnoreCurrent())
	r := startRunner(t, db)
	defer r.Stop()
	cb := schedule(t, db, r, c, firstLead(t, db, c), campaigns.ScopeMe, 500*time.Millisecond)
	fellDueAt(t, db, cb.ID)
	testwait.Until(t, func() bool {
		j, err := r.client.JobGet(context.Background(), cb.JobID)
		return err == nil && j.FinalizedAt != nil
	})

	res, err := r.client.Insert(context.Background(), CallbackDueArgs{Callback: int64(cb.ID), Version: cb.Version}, nil)
	require.NoError(t, err)
	require.False(t, res.UniqueSkippedAsDuplicate, "the first job finished, so a second one is queued")
	testwait.Until(t, func() bool {
		j, err := r.client.JobGet(context.Background(), res.Job.ID)
		return err == nil && j.FinalizedAt != nil
	})
	again, err := r.fallDue(context.Background(), cb.ID, cb.Version)
	require.NoError(t, err)
	require.False(t, again.Acted)

	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM callback_events WHERE callback_id = $1 AND event = 'fall_due'`, cb.ID))
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM river_job WHERE kind = 'callback_grace'`), "one grace period")
}

// Rescheduling twice within an hour works (River's uniqueness over completed
// jobs never refuses a version), only the last time fires, and a cancelled
// callback never fires and gives its lead back.
func TestCallbackRescheduleTwiceAndCancel(t *testing.T) {
	db := testdb.NewPool(t)
	c := newCampaign(t, db, 2, nil)
	defer testwait.NoLeaks(t, goleak.IgnoreCurrent())
	r := startRunner(t, db)
	defer r.Stop()
	ctx := context.Background()
	lead := firstLead(t, db, c)
	cb := schedule(t, db, r, c, lead, campaigns.ScopeAnyone, time.Hour)

	now := time.Now()
	cb1, err := campaigns.Reschedule(ctx, db, r, campaigns.RescheduleCallback{ID: cb.ID, At: now.Add(30 * time.Minute), By: 7, Now: now})
	require.NoError(t, err)
	require.Equal(t, 2, cb1.Version)
	cb2, err := campaigns.Reschedule(ctx, db, r, campaigns.RescheduleCallback{ID: cb.ID, At: now.Add(1500 * time.Millisecond), By: 7, Now: now})
	require.NoError(t, err)
	require.Equal(t, 3, cb2.Version)
	require.NotEqual(t, cb1.JobID, cb2.JobID)

	at := fellDueAt(t, db, cb.ID)
	require.WithinDuration(t, cb2.DueAt, at, time.Second)
	for _, job := range []int64{cb.JobID, cb1.JobID} {
		j, err := r.client.JobGet(ctx, job)
		require.NoError(t, err)
		require.Equal(t, "cancelled", string(j.State), "old versions' jobs are cancelled")
	}
	require.Equal(t, 2, count(t, db, `SELECT count(*) FROM callback_events WHERE callback_id = $1 AND event = 'reschedule'`, cb.ID))

	// Cancel another one before it is due.
	var other campaigns.LeadID
	require.NoError(t, db.QueryRow(ctx, `SELECT max(id) FROM leads WHERE campaign_id = $1`, c.ID).Scan(&other))
	cb3 := schedule(t, db, r, c, other, campaigns.ScopeMe, time.Second)
	got, err := campaigns.CancelCallback(ctx, db, r, campaigns.CloseCallback{ID: cb3.ID, By: 7, Reason: "customer emailed", Now: time.Now()})
	require.NoError(t, err)
	require.Equal(t, campaigns.CallbackCancelled, got.Status)
	require.Contains(t, []string{"new", "retry"}, leadStatus(t, db, other), "the lead is dialable again")
	// Its job may already be running (it snoozes until the due time), so
	// what is checked is what any run of it would do once the time comes.
	time.Sleep(time.Until(cb3.DueAt))
	res, err := r.fallDue(ctx, cb3.ID, cb3.Version)
	require.NoError(t, err)
	require.False(t, res.Acted, "a cancelled callback does not fall due")
	require.Zero(t, count(t, db, `SELECT count(*) FROM callback_events WHERE callback_id = $1 AND event = 'fall_due'`, cb3.ID))
	_, err = campaigns.Reschedule(ctx, db, r, campaigns.RescheduleCallback{ID: cb3.ID, At: time.Now().Add(time.Hour), Now: time.Now()})
	require.ErrorIs(t, err, campaigns.ErrCallbackTransition)
}

// A `me` callback its agent does not take within the grace period goes to
// anyone, or is marked missed, as the campaign says.
func TestCallbackGracePeriod(t *testing.T) {
	for _, then := range []string{"anyone", "missed"} {
		t.Run(then, func(t *testing.T) {
			db := testdb.NewPool(t)
			c := newCampaign(t, db, 1, map[string]string{"callback_grace_s": "1", "callback_grace_then": then})
			defer testwait.NoLeaks(t, goleak.IgnoreCurrent())
			r := startRunner(t, db)
			defer r.Stop()
			defer r.Stop()
			cb := schedule(t, db, r, c, firstLead(t, db, c), campaigns.ScopeMe, 500*time.Millisecond)
			fellDueAt(t, db, cb.ID)
			testwait.Until(t, func() bool {
				got, err := campaigns.GetCallback(context.Background(), db, cb.ID)
				require.NoError(t, err)
				if then == "anyone" {
					return got.Scope == campaigns.ScopeAnyone && got.Status == campaigns.CallbackDue
				}
				return got.Status == campaigns.CallbackMissed
			})
			if then == "anyone" {
				require.Equal(t, "retry", leadStatus(t, db, cb.Lead), "the lead goes to the hopper")
			} else {
				require.Equal(t, "callback", leadStatus(t, db, cb.Lead), "a missed callback holds its lead for a supervisor")
				list, err := campaigns.ListCallbacks(context.Background(), db, campaigns.CallbackFilter{Campaign: c.ID,
					Statuses: []campaigns.CallbackStatus{campaigns.CallbackMissed}})
				require.NoError(t, err)
				require.Len(t, list, 1)
			}
		})
	}
}

// The sweep delivers a callback whose job vanished.
func TestCallbackSweepDeliversALostJob(t *testing.T) {
	db := testdb.NewPool(t)
	c := newCampaign(t, db, 1, nil)
	defer testwait.NoLeaks(t, goleak.IgnoreCurrent())
	dead := newRunner(t, db)
	cb := schedule(t, db, dead, c, firstLead(t, db, c), campaigns.ScopeAnyone, 200*time.Millisecond)
	_, err := db.Exec(context.Background(), `DELETE FROM river_job WHERE id = $1`, cb.JobID)
	require.NoError(t, err)
	time.Sleep(time.Until(cb.DueAt))

	n, err := dead.SweepCallbacks(context.Background(), 0)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	n, err = dead.SweepCallbacks(context.Background(), 0)
	require.NoError(t, err)
	require.Zero(t, n, "a swept callback is not swept again")
	got, err := campaigns.GetCallback(context.Background(), db, cb.ID)
	require.NoError(t, err)
	require.Equal(t, campaigns.CallbackDue, got.Status)
}

// A callback asked for outside the lead's calling window is moved to the
// next instant inside it (and says so); one in the past is refused.
func TestCallbackTimeAndTheCallingWindow(t *testing.T) {
	db := testdb.NewPool(t)
	c := newCampaign(t, db, 1, map[string]string{"window_start": "09:00", "window_end": "17:00"})
	r := newRunner(t, db) // inserts only
	ctx := context.Background()
	lead := firstLead(t, db, c)
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	now := time.Now()
	tomorrow := now.In(ny).AddDate(0, 0, 1)
	early := time.Date(tomorrow.Year(), tomorrow.Month(), tomorrow.Day(), 6, 30, 0, 0, ny)

	cb, err := campaigns.ScheduleCallback(ctx, db, r, campaigns.NewCallback{Campaign: &c, Lead: lead, Agent: 3,
		Scope: campaigns.ScopeMe, At: early, Now: now})
	require.NoError(t, err)
	require.True(t, cb.Moved)
	require.Equal(t, time.Date(tomorrow.Year(), tomorrow.Month(), tomorrow.Day(), 9, 0, 0, 0, ny).UTC(), cb.DueAt)
	require.Equal(t, early.UTC(), cb.RequestedAt)
	require.Equal(t, "America/New_York", cb.LeadZone, "for showing the time in the lead's zone")
	hist, err := campaigns.CallbackHistory(ctx, db, cb.ID)
	require.NoError(t, err)
	require.Contains(t, hist[0].Detail, "moved into the calling window")
	var scheduled time.Time
	require.NoError(t, db.QueryRow(ctx, `SELECT scheduled_at FROM river_job WHERE id = $1`, cb.JobID).Scan(&scheduled))
	require.WithinDuration(t, cb.DueAt.Add(-schedulerLead), scheduled, time.Millisecond, "queued for River's scheduler")

	_, err = campaigns.CancelCallback(ctx, db, r, campaigns.CloseCallback{ID: cb.ID, Now: now})
	require.NoError(t, err)
	_, err = campaigns.ScheduleCallback(ctx, db, r, campaigns.NewCallback{Campaign: &c, Lead: lead, Agent: 3,
		Scope: campaigns.ScopeMe, At: now.Add(-time.Second), Now: now})
	require.ErrorIs(t, err, campaigns.ErrCallbackInPast)
	require.True(t, campaigns.IsDispositionInputError(err))
	_, err = campaigns.ScheduleCallback(ctx, db, r, campaigns.NewCallback{Campaign: &c, Lead: lead,
		Scope: campaigns.ScopeMe, At: now.Add(time.Hour), Now: now})
	require.ErrorIs(t, err, campaigns.ErrCallbackScope, "scope me needs an agent")
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM callbacks`), "refused callbacks leave nothing behind")
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM river_job WHERE kind = 'callback_due'`))
}

// A callback offered by a node that died is due again when the node (or the
// stuck-lead sweep) recovers its claims, and its lead waits for it rather
// than going back to ordinary dialling.
func TestCallbackOfferedByADeadNodeIsRecovered(t *testing.T) {
	db := testdb.NewPool(t)
	c := newCampaign(t, db, 1, nil)
	ctx := context.Background()
	r := newRunner(t, db)
	cb := schedule(t, db, r, c, firstLead(t, db, c), campaigns.ScopeMe, 50*time.Millisecond)
	time.Sleep(time.Until(cb.DueAt))
	res, err := r.fallDue(ctx, cb.ID, cb.Version)
	require.NoError(t, err)
	require.True(t, res.Acted)
	offered, err := campaigns.OfferCallback(ctx, db, &c, cb.ID, 7, time.Now(), "dead-node")
	require.NoError(t, err)
	require.Equal(t, campaigns.CallbackOffered, offered.Status)
	require.Equal(t, "dialing", leadStatus(t, db, cb.Lead))

	n, err := campaigns.RecoverStuck(ctx, db, time.Time{}, "dead-node")
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	got, err := campaigns.GetCallback(ctx, db, cb.ID)
	require.NoError(t, err)
	require.Equal(t, campaigns.CallbackDue, got.Status)
	require.Equal(t, "callback", leadStatus(t, db, cb.Lead))
	hist, err := campaigns.CallbackHistory(ctx, db, cb.ID)
	require.NoError(t, err)
	require.Equal(t, campaigns.CbRecover, hist[len(hist)-1].Event)
}

// A new callback for a lead replaces the one it still had.
func TestNewCallbackReplacesTheOpenOne(t *testing.T) {
	db := testdb.NewPool(t)
	c := newCampaign(t, db, 1, nil)
	r := newRunner(t, db)
	lead := firstLead(t, db, c)
	old := schedule(t, db, r, c, lead, campaigns.ScopeMe, time.Hour)
	cb := schedule(t, db, r, c, lead, campaigns.ScopeAnyone, 2*time.Hour)
	got, err := campaigns.GetCallback(context.Background(), db, old.ID)
	require.NoError(t, err)
	require.Equal(t, campaigns.CallbackCancelled, got.Status)
	j, err := r.client.JobGet(context.Background(), old.JobID)
	require.NoError(t, err)
	require.Equal(t, "cancelled", string(j.State))
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM callbacks WHERE lead_id = $1 AND status = 'scheduled'`, lead))
	require.Equal(t, campaigns.CallbackScheduled, cb.Status)
}

// A callback more than a year ahead is refused, however it is set: a
// schedule, a reschedule or a disposition; a year exactly is fine.
func TestCallbackMoreThanAYearAheadIsRefused(t *testing.T) {
	db := testdb.NewPool(t)
	c := newCampaign(t, db, 2, map[string]string{"window_start": "00:00", "window_end": "24:00"})
	r := newRunner(t, db)
	ctx := context.Background()
	lead := firstLead(t, db, c)
	now := time.Now()
	tooFar := now.Add(campaigns.MaxCallbackAhead + time.Minute)

	_, err := campaigns.ScheduleCallback(ctx, db, r, campaigns.NewCallback{Campaign: &c, Lead: lead, Agent: 7,
		Scope: campaigns.ScopeMe, At: tooFar, Now: now})
	require.ErrorIs(t, err, campaigns.ErrCallbackTooFar)
	require.ErrorContains(t, err, "more than a year ahead")
	require.True(t, campaigns.IsDispositionInputError(err), "the caller's mistake: a 400, not a 500")
	require.Equal(t, 0, count(t, db, `SELECT count(*) FROM callbacks WHERE lead_id = $1`, lead))

	cb := schedule(t, db, r, c, lead, campaigns.ScopeMe, campaigns.MaxCallbackAhead-time.Minute)
	_, err = campaigns.Reschedule(ctx, db, r, campaigns.RescheduleCallback{ID: cb.ID, At: tooFar, By: 7, Now: now})
	require.ErrorIs(t, err, campaigns.ErrCallbackTooFar)
	got, err := campaigns.GetCallback(ctx, db, cb.ID)
	require.NoError(t, err)
	require.Equal(t, cb.DueAt, got.DueAt, "the refused reschedule changed nothing")

	_, err = campaigns.CheckDisposition(ctx, db, c.ID, campaigns.DispositionInput{Code: "CALLBK",
		Callback: &campaigns.CallbackInput{At: tooFar, Scope: campaigns.ScopeAnyone}}, now, false)
	require.ErrorIs(t, err, campaigns.ErrCallbackTooFar)
}
