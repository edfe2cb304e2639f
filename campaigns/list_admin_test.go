package campaigns_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/internal/testdb"
)

// listStates builds a list with a lead in every class, through the hopper's
// own claim and completion (and a callback hold and a DNC entry), and
// returns the campaign, the list and the leads by class.
func listStates(t *testing.T, db *pgxpool.Pool, own bool) (campaigns.Campaign, campaigns.ListID, map[string]campaigns.LeadID, time.Time) {
	t.Helper()
	ctx := context.Background()
	c := newCampaign(t, db, map[string]string{"simulated": "true", "window_start": "00:00", "window_end": "24:00",
		"max_attempts": "3", "retry_no_answer_s": "3600", "retry_busy_s": "600"})
	opts := campaigns.ImportOptions{Campaign: c.ID, Name: "states.csv"}
	if own {
		opts = campaigns.OwnPartitions(opts)
	}
	var nums []int
	for i := range 10 {
		nums = append(nums, 100+i)
	}
	res, err := campaigns.Import(ctx, db, strings.NewReader(numbersFile(nums)), opts)
	require.NoError(t, err)
	require.EqualValues(t, 10, res.Imported)

	now := time.Now()
	h := campaigns.NewHopper("test-node")
	claim := func() campaigns.ClaimedLead {
		t.Helper()
		ls, err := h.Claim(ctx, db, &c, 1, now)
		require.NoError(t, err)
		require.Len(t, ls, 1)
		return ls[0]
	}
	complete := func(l campaigns.ClaimedLead, o campaigns.Outcome, code string, at time.Time) {
		t.Helper()
		require.NoError(t, campaigns.Complete(ctx, db, &c, campaigns.Attempt{Lead: l.ID, Outcome: o, Disposition: code, At: at}))
	}
	leads := map[string]campaigns.LeadID{}
	// No answer an hour ago, busy retry after 10 min: callable now.
	l := claim()
	complete(l, campaigns.OutcomeBusy, "", now.Add(-time.Hour))
	leads[campaigns.ClassCallable] = l.ID
	// No answer just now: retry in an hour.
	l = claim()
	complete(l, campaigns.OutcomeNoAnswer, "", now)
	leads[campaigns.ClassRetryLater] = l.ID
	// Not interested: final.
	l = claim()
	complete(l, campaigns.OutcomeCompleted, "NI", now)
	leads[campaigns.ClassFinished] = l.ID
	// Three no answers: out of attempts.
	l = claim()
	complete(l, campaigns.OutcomeNoAnswer, "", now.Add(-3*time.Hour))
	complete(claimAgain(t, db, l.ID), campaigns.OutcomeNoAnswer, "", now.Add(-2*time.Hour))
	complete(claimAgain(t, db, l.ID), campaigns.OutcomeNoAnswer, "", now.Add(-time.Hour))
	leads["finished_by_attempts"] = l.ID
	// Held for a callback.
	l = claim()
	complete(l, campaigns.OutcomeNoAnswer, "", now.Add(-2*time.Hour))
	_, err = db.Exec(ctx, `UPDATE leads SET status = 'callback' WHERE id = $1`, l.ID)
	require.NoError(t, err)
	leads[campaigns.ClassCallback] = l.ID
	// Being dialled.
	l = claim()
	leads[campaigns.ClassDialling] = l.ID
	// Put on DNC after import (new, never tried).
	var phone string
	require.NoError(t, db.QueryRow(ctx, `SELECT phone FROM leads WHERE campaign_id = $1 AND status = 'new' ORDER BY line LIMIT 1`, c.ID).Scan(&phone))
	_, err = campaigns.AddDNC(ctx, db, campaigns.DNCScope{Campaign: c.ID}, []string{phone}, campaigns.DNCChange{How: campaigns.DNCViaAPI, By: "test"})
	require.NoError(t, err)
	return c, res.List, leads, now
}

// claimAgain makes a lead due and claims it (the out-of-attempts lead above
// needs three tries in a row).
func claimAgain(t *testing.T, db *pgxpool.Pool, id campaigns.LeadID) campaigns.ClaimedLead {
	t.Helper()
	_, err := db.Exec(context.Background(), `UPDATE leads SET status = 'dialing', claimed_at = now(), claimed_by = 'test-node'
		WHERE id = $1 AND status = 'retry'`, id)
	require.NoError(t, err)
	return campaigns.ClaimedLead{ID: id}
}

func countsOf(t *testing.T, db *pgxpool.Pool, c campaigns.Campaign, list campaigns.ListID, now time.Time) campaigns.ListCounts {
	t.Helper()
	ls, err := campaigns.ListsWithCounts(context.Background(), db, c.ID, now)
	require.NoError(t, err)
	for _, l := range ls {
		if l.ID == list {
			return l
		}
	}
	t.Fatalf("list %d not among %v", list, ls)
	return campaigns.ListCounts{}
}

// Every lead is counted once, in the class the hopper would treat it by, on
// a shared-partition list and on one with partitions of its own; the
// download says the same per lead.
func TestListCountsByClass(t *testing.T) {
	t.Parallel()
	db := testdb.NewPool(t)
	for _, own := range []bool{false, true} {
		t.Run(fmt.Sprintf("own_partitions=%v", own), func(t *testing.T) {
			c, list, leads, now := listStates(t, db, own)
			got := countsOf(t, db, c, list, now)
			require.Equal(t, map[string]int64{"new": 3, "dialling": 1, "callable": 1, "retry_later": 1, "callback": 1,
				"finished": 2, "dnc": 1}, got.Counts)
			require.EqualValues(t, 10, got.Total)

			classes := map[campaigns.LeadID]string{}
			n := 0
			require.NoError(t, campaigns.ExportList(context.Background(), db, list, now, func(e campaigns.ExportedLead) error {
				n++
				classes[e.ID] = e.Class
				return nil
			}))
			require.Equal(t, 10, n)
			for class, id := range leads {
				if class == "finished_by_attempts" {
					class = campaigns.ClassFinished
				}
				require.Equal(t, class, classes[id], "lead %d", id)
			}
		})
	}
}

// Recycling by disposition counts first, changes only matching leads that
// are not dialling, held or on DNC, keeps attempts unless told, and never
// shortens a lock-out.
func TestRecycleListByDisposition(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	c, list, leads, now := listStates(t, db, false)

	_, err := campaigns.PreviewListRecycle(ctx, db, campaigns.ListRecycle{List: list})
	require.ErrorContains(t, err, "at least one disposition")
	p, err := campaigns.PreviewListRecycle(ctx, db, campaigns.ListRecycle{List: list, Dispositions: []string{"na", "B"}})
	require.NoError(t, err)
	// NA: the retry-later lead and the one out of attempts (the callback
	// hold's NA is left alone); B: the callable one.
	require.Equal(t, campaigns.RecyclePreview{Matched: 3, AtLimit: 1, Callable: 2}, p)
	require.Equal(t, countsOf(t, db, c, list, now).Counts["retry_later"], int64(1), "a preview changes nothing")

	p, err = campaigns.RecycleList(ctx, db, campaigns.ListRecycle{List: list, Dispositions: []string{"NA", "B"}, At: now})
	require.NoError(t, err)
	require.Equal(t, campaigns.RecyclePreview{Matched: 3, AtLimit: 1, Callable: 2}, p)
	got := countsOf(t, db, c, list, now)
	require.EqualValues(t, 2, got.Counts["callable"], "the retry-later lead is due now")
	require.EqualValues(t, 0, got.Counts["retry_later"])
	require.EqualValues(t, 2, got.Counts["finished"], "attempts kept: the lead out of attempts stays finished")
	var attempts int
	require.NoError(t, db.QueryRow(ctx, `SELECT attempts FROM leads WHERE id = $1`, leads["finished_by_attempts"]).Scan(&attempts))
	require.Equal(t, 3, attempts)

	p, err = campaigns.RecycleList(ctx, db, campaigns.ListRecycle{List: list, Dispositions: []string{"NA", "NI"}, ResetAttempts: true, At: now})
	require.NoError(t, err)
	require.Equal(t, campaigns.RecyclePreview{Matched: 3, AtLimit: 0, Callable: 3}, p)
	got = countsOf(t, db, c, list, now)
	require.Equal(t, map[string]int64{"new": 6, "dialling": 1, "callable": 1, "retry_later": 0, "callback": 1,
		"finished": 0, "dnc": 1}, got.Counts, "reset: NI and the exhausted lead count as new")

	// An abandoned call's lock-out is not shortened by a recycle.
	var drop campaigns.LeadID
	require.NoError(t, db.QueryRow(ctx, `UPDATE leads SET status = 'done', last_disposition = 'DROP', locked_until = $2
		WHERE id = (SELECT id FROM leads WHERE campaign_id = $1 AND status = 'new' ORDER BY line LIMIT 1) RETURNING id`,
		c.ID, now.Add(72*time.Hour)).Scan(&drop))
	_, err = campaigns.RecycleList(ctx, db, campaigns.ListRecycle{List: list, Dispositions: []string{"DROP"}, At: now})
	require.NoError(t, err)
	var next time.Time
	require.NoError(t, db.QueryRow(ctx, `SELECT next_attempt_at FROM leads WHERE id = $1`, drop).Scan(&next))
	require.WithinDuration(t, now.Add(72*time.Hour), next, time.Millisecond)
	require.EqualValues(t, 1, countsOf(t, db, c, list, now).Counts["retry_later"])
}

// A list is not deleted from under a call or a callback; once they are
// over it is, its partitions with it, while its calls stay in the records
// and the campaign's other list keeps dialling.
func TestDeleteListIsSafe(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	for _, own := range []bool{false, true} {
		t.Run(fmt.Sprintf("own_partitions=%v", own), func(t *testing.T) {
			c, list, leads, now := listStates(t, db, own)
			other, err := campaigns.Import(ctx, db, strings.NewReader(numbersFile([]int{900, 901})),
				campaigns.ImportOptions{Campaign: c.ID, Name: "other.csv"})
			require.NoError(t, err)
			callPhone := "+12124360100"
			_, err = db.Exec(ctx, `INSERT INTO calls (run_id, seq, campaign_id, lead_id, phone, node, state, outcome, disposition, queued_at, dialed_at, ended_at, dispositioned_at)
				VALUES (gen_random_uuid(), 1, $1, $2, $3, 'test-node', 'ended', 'busy', 'B', now(), now(), now(), now())`, c.ID, leads[campaigns.ClassCallable], callPhone)
			require.NoError(t, err)

			// The callback hold: an open callback refuses the delete.
			_, err = db.Exec(ctx, `INSERT INTO callbacks (campaign_id, lead_id, due_at, requested_at, scope, created_at, updated_at)
				VALUES ($1, $2, now() + interval '1 day', now() + interval '1 day', 'anyone', now(), now())`,
				c.ID, leads[campaigns.ClassCallback])
			require.NoError(t, err)
			_, err = campaigns.DeleteList(ctx, db, list, "max")
			require.ErrorIs(t, err, campaigns.ErrListBusy)
			require.ErrorContains(t, err, "1 open callback")
			_, err = db.Exec(ctx, `UPDATE callbacks SET status = 'cancelled' WHERE lead_id = $1`, leads[campaigns.ClassCallback])
			require.NoError(t, err)

			// The call in progress refuses it, and nothing is deleted.
			_, err = campaigns.DeleteList(ctx, db, list, "max")
			require.ErrorIs(t, err, campaigns.ErrListBusy)
			require.ErrorContains(t, err, "1 call(s) in progress")
			require.EqualValues(t, 10, countsOf(t, db, c, list, now).Total)

			require.NoError(t, campaigns.Complete(ctx, db, &c, campaigns.Attempt{Lead: leads[campaigns.ClassDialling],
				Outcome: campaigns.OutcomeNoAnswer, At: now}))
			res, err := campaigns.DeleteList(ctx, db, list, "max")
			require.NoError(t, err)
			require.EqualValues(t, 10, res.Deleted)
			_, err = campaigns.DeleteList(ctx, db, list, "max")
			require.ErrorIs(t, err, campaigns.ErrListDeleted)

			l, err := campaigns.GetList(ctx, db, list)
			require.NoError(t, err)
			require.NotNil(t, l.DeletedAt)
			require.Equal(t, "max", l.DeletedBy)
			require.EqualValues(t, 10, l.Imported, "the list's import record stays")
			got := countsOf(t, db, c, list, now)
			require.Zero(t, got.Total)

			var parts int
			require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM pg_inherits i JOIN pg_class k ON k.oid = i.inhrelid
				WHERE i.inhparent = 'leads'::regclass AND k.relname LIKE $1`, fmt.Sprintf("leads\\_list\\_%d\\_%%", list)).Scan(&parts))
			require.Zero(t, parts, "the list's partitions are dropped")

			var leadID *int64
			var phone, dispo string
			require.NoError(t, db.QueryRow(ctx, `SELECT lead_id, phone, disposition FROM calls WHERE campaign_id = $1`, c.ID).
				Scan(&leadID, &phone, &dispo))
			require.Nil(t, leadID, "the call stays, without its lead")
			require.Equal(t, callPhone, phone)
			require.Equal(t, "B", dispo)

			claimed, err := campaigns.NewHopper("test-node").Claim(ctx, db, &c, 5, now)
			require.NoError(t, err)
			require.Len(t, claimed, 2, "the other list still dials")
			require.EqualValues(t, 2, countsOf(t, db, c, other.List, now).Counts["dialling"])
		})
	}
}
