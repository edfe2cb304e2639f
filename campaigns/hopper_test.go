package campaigns_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/internal/testdb"
)

func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04:05", s)
	if err != nil {
		panic(err)
	}
	return t
}

func claimPhones(t *testing.T, db *pgxpool.Pool, h *campaigns.Hopper, c campaigns.Campaign, at time.Time) []string {
	t.Helper()
	leads, err := h.Claim(context.Background(), db, &c, 100, at)
	require.NoError(t, err)
	var phones []string
	for _, l := range leads {
		phones = append(phones, l.Phone)
		require.NoError(t, campaigns.Release(context.Background(), db, l.ID))
	}
	sort.Strings(phones)
	return phones
}

func TestClaimHonoursTheCallingWindowInTheLeadsLocalTime(t *testing.T) {
	t.Parallel()
	db := testdb.NewPool(t)
	c := newCampaign(t, db, map[string]string{"state_windows": "CT=09:00-20:00"})
	importCSV(t, db, c,
		"phone,state",
		"+1 212 436 5000,",   // New York, no state: federal 08:00-21:00
		"+1 212 436 5001,CT", // a Connecticut address: its 09:00-20:00 override
		"+1 415 555 1234,",   // Los Angeles
		"+1 808 555 1234,",   // Honolulu
		"+1 212 555 1234,TX", // a New York number, the state says Texas: New York, Chicago and Denver must all be open
	)
	h := campaigns.NewHopper("node-a")
	const ny, ct, la, hi, tx = "+12124365000", "+12124365001", "+14155551234", "+18085551234", "+12125551234"
	for _, tc := range []struct {
		at   string
		want []string
	}{
		// July: New York EDT (UTC-4), Chicago CDT (-5), Denver MDT (-6), LA PDT (-7), Honolulu (-10).
		{"2026-07-01 11:59:59", nil},                      // NY 07:59:59
		{"2026-07-01 12:00:00", []string{ny}},             // NY 08:00 exactly
		{"2026-07-01 13:00:00", []string{ny, ct}},         // NY 09:00, Chicago 08:00, Denver 07:00
		{"2026-07-01 14:00:00", []string{ny, ct, tx}},     // Denver 08:00
		{"2026-07-01 15:00:00", []string{ny, ct, la, tx}}, // LA 08:00
		{"2026-07-01 18:00:00", []string{ny, ct, hi, la, tx}},
		{"2026-07-02 00:00:00", []string{ny, hi, la, tx}}, // NY 20:00: the NY-state window has closed
		{"2026-07-02 00:59:59", []string{ny, hi, la, tx}}, // NY 20:59:59
		{"2026-07-02 01:00:00", []string{hi, la}},         // NY 21:00: closed, the Texas address too (its number is in New York)
		{"2026-07-02 02:00:00", []string{hi, la}},         // Chicago 21:00
		{"2026-07-02 04:00:00", []string{hi}},             // LA 21:00
		{"2026-07-02 07:00:00", nil},                      // Honolulu 21:00
		// January: standard time everywhere (NY UTC-5).
		{"2026-01-15 12:59:59", nil},
		{"2026-01-15 13:00:00", []string{ny}},
	} {
		got := claimPhones(t, db, h, c, utc(tc.at))
		want := append([]string(nil), tc.want...)
		sort.Strings(want)
		if len(want) == 0 {
			want = nil
		}
		require.Equal(t, want, got, "at %s UTC", tc.at)
	}
}

// Across the spring-forward change the window follows the wall clock, not
// a fixed UTC offset.
func TestClaimAcrossDaylightSavingChange(t *testing.T) {
	t.Parallel()
	db := testdb.NewPool(t)
	c := newCampaign(t, db, nil)
	importCSV(t, db, c, "phone", "+1 212 436 5000")
	h := campaigns.NewHopper("n")
	// 2026-03-08 is the US change: 08:00 EST on the 7th is 13:00 UTC,
	// 08:00 EDT on the 9th is 12:00 UTC.
	require.Empty(t, claimPhones(t, db, h, c, utc("2026-03-07 12:30:00")))
	require.Len(t, claimPhones(t, db, h, c, utc("2026-03-07 13:00:00")), 1)
	require.Len(t, claimPhones(t, db, h, c, utc("2026-03-09 12:30:00")), 1)
	require.Empty(t, claimPhones(t, db, h, c, utc("2026-03-09 11:59:00")))
}

func TestDNCAddedAfterImportIsNeverClaimed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	c := newCampaign(t, db, nil)
	other := newCampaign(t, db, nil)
	importCSV(t, db, c, "phone", "+1 212 436 5000", "+1 212 436 5001", "+1 212 436 5002")
	importCSV(t, db, other, "phone", "+1 212 436 5001")
	h := campaigns.NewHopper("n")
	at := utc("2026-07-01 16:00:00")
	require.Len(t, claimPhones(t, db, h, c, at), 3)

	_, err := campaigns.AddDNC(ctx, db, campaigns.Global, []string{"+12124365000"}, campaigns.DNCChange{How: campaigns.DNCViaAPI, By: "test"})
	require.NoError(t, err)
	_, err = campaigns.AddDNC(ctx, db, campaigns.DNCScope{Campaign: c.ID}, []string{"+12124365001"}, campaigns.DNCChange{How: campaigns.DNCViaAPI, By: "test"})
	require.NoError(t, err)
	require.Equal(t, []string{"+12124365002"}, claimPhones(t, db, h, c, at))
	require.Equal(t, []string{"+12124365001"}, claimPhones(t, db, h, other, at), "a campaign's list binds only that campaign")

	// The claim checks the lists themselves, not only the lead's flag: a
	// number on a list is never claimed even if its lead was not marked.
	_, err = db.Exec(ctx, "UPDATE leads SET dnc = false")
	require.NoError(t, err)
	require.Equal(t, []string{"+12124365002"}, claimPhones(t, db, h, c, at))

	_, err = campaigns.RemoveDNC(ctx, db, campaigns.Global, []string{"+12124365000"}, campaigns.DNCChange{How: campaigns.DNCViaAPI, By: "test", Reason: "test"})
	require.NoError(t, err)
	require.Equal(t, []string{"+12124365000", "+12124365002"}, claimPhones(t, db, h, c, at))
}

func TestAttemptLimitsRetryDelaysAndUKLockout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	c := newCampaign(t, db, map[string]string{
		"max_attempts": "4", "max_attempts_per_day": "2",
		"retry_no_answer_s": "600", "retry_busy_s": "60", "retry_machine_s": "7200",
		"retry_abandoned_s": "3600", "retry_failed_s": "86400",
	})
	importCSV(t, db, c, "phone", "+1 212 436 5000")
	h := campaigns.NewHopper("n")

	dial := func(at time.Time) campaigns.ClaimedLead {
		t.Helper()
		leads, err := h.Claim(ctx, db, &c, 1, at)
		require.NoError(t, err)
		require.Len(t, leads, 1, "dialable at %s", at)
		return leads[0]
	}
	none := func(at time.Time, why string) {
		t.Helper()
		leads, err := h.Claim(ctx, db, &c, 1, at)
		require.NoError(t, err)
		require.Empty(t, leads, why)
	}
	finish := func(l campaigns.ClaimedLead, o campaigns.Outcome, at time.Time) {
		t.Helper()
		require.NoError(t, campaigns.Complete(ctx, db, &c, campaigns.Attempt{Lead: l.ID, Outcome: o, At: at}))
	}

	t0 := utc("2026-07-01 14:00:00") // 10:00 in New York
	l := dial(t0)
	none(t0, "a claimed lead is not handed out twice")
	finish(l, campaigns.OutcomeBusy, t0)
	none(t0.Add(59*time.Second), "busy retries after 60 s")
	l = dial(t0.Add(60 * time.Second))
	finish(l, campaigns.OutcomeNoAnswer, t0.Add(60*time.Second))
	none(t0.Add(3*time.Hour), "two attempts today: the per-day limit holds until local midnight")
	l = dial(utc("2026-07-02 12:00:00")) // 08:00 next day in New York
	finish(l, campaigns.OutcomeNoAnswer, utc("2026-07-02 12:00:00"))
	none(utc("2026-07-02 12:09:59"), "no-answer retries after 600 s")
	l = dial(utc("2026-07-02 12:10:00"))
	finish(l, campaigns.OutcomeBusy, utc("2026-07-02 12:10:00"))
	none(utc("2026-07-09 15:00:00"), "four attempts: lifetime limit reached")

	var status string
	var attempts int
	require.NoError(t, db.QueryRow(ctx, "SELECT status, attempts FROM leads WHERE id = $1", l.ID).Scan(&status, &attempts))
	require.Equal(t, "done", status)
	require.Equal(t, 4, attempts)

	// Per-outcome delays and the UK lock-out on one lead each.
	uk := newCampaign(t, db, map[string]string{"rules": "uk", "retry_abandoned_s": "60", "max_attempts_per_day": "10"})
	importCSV(t, db, uk, "phone", "+44 20 7946 0000")
	ukAt := utc("2026-07-01 10:00:00") // 11:00 in London
	leads, err := h.Claim(ctx, db, &uk, 1, ukAt)
	require.NoError(t, err)
	require.Len(t, leads, 1)
	require.NoError(t, campaigns.Complete(ctx, db, &uk, campaigns.Attempt{Lead: leads[0].ID, Outcome: campaigns.OutcomeAbandoned, At: ukAt}))
	for _, after := range []time.Duration{time.Minute, 24 * time.Hour, 71*time.Hour + 59*time.Minute} {
		leads, err := h.Claim(ctx, db, &uk, 1, ukAt.Add(after))
		require.NoError(t, err)
		require.Empty(t, leads, "an abandoned number is locked out for 72 h under UK rules (%s after)", after)
	}
	leads, err = h.Claim(ctx, db, &uk, 1, ukAt.Add(72*time.Hour))
	require.NoError(t, err)
	require.Len(t, leads, 1, "after 72 h the number may be called again")
	var disp string
	require.NoError(t, db.QueryRow(ctx, "SELECT last_disposition FROM leads WHERE id = $1", leads[0].ID).Scan(&disp))
	require.Equal(t, "DROP", disp)
}

func TestDispositionRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	c := newCampaign(t, db, map[string]string{"retry_machine_s": "7200"})
	importCSV(t, db, c, "phone", "+1 212 436 5000", "+1 212 436 5001", "+1 212 436 5002")
	h := campaigns.NewHopper("n")
	at := utc("2026-07-01 16:00:00")
	leads, err := h.Claim(ctx, db, &c, 3, at)
	require.NoError(t, err)
	require.Len(t, leads, 3)
	require.NoError(t, campaigns.Complete(ctx, db, &c, campaigns.Attempt{Lead: leads[0].ID, Outcome: campaigns.OutcomeCompleted, Disposition: "SALE", At: at}))
	require.NoError(t, campaigns.Complete(ctx, db, &c, campaigns.Attempt{Lead: leads[1].ID, Outcome: campaigns.OutcomeCompleted, Disposition: "DNC", At: at}))
	require.NoError(t, campaigns.Complete(ctx, db, &c, campaigns.Attempt{Lead: leads[2].ID, Outcome: campaigns.OutcomeCompleted, Disposition: "AM", At: at}))
	require.ErrorIs(t, campaigns.Complete(ctx, db, &c, campaigns.Attempt{Lead: leads[2].ID, Outcome: campaigns.OutcomeBusy, At: at}),
		campaigns.ErrNotClaimed, "an attempt is recorded once")

	on, err := campaigns.OnDNC(ctx, db, c.ID, leads[1].Phone)
	require.NoError(t, err)
	require.True(t, on, "a DNC disposition puts the number on the campaign's list at once")

	require.Empty(t, claimPhones(t, db, h, c, at.Add(7199*time.Second)), "SALE and DNC are final; AM waits the machine delay")
	require.Equal(t, []string{leads[2].Phone}, claimPhones(t, db, h, c, at.Add(7200*time.Second)))
}

func TestConcurrentClaimersNeverShareALead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	c := newCampaign(t, db, map[string]string{"window_start": "00:00", "window_end": "24:00", "simulated": "true"})
	lines := []string{"phone"}
	for i := range 10000 {
		lines = append(lines, fmt.Sprintf("+1 212 4%02d %04d", i/10000, i%10000))
	}
	res := importCSV(t, db, c, lines...)
	require.EqualValues(t, 10000, res.Imported)

	const claimers = 8
	var mu sync.Mutex
	seen := map[campaigns.LeadID]int{}
	var wg sync.WaitGroup
	errs := make(chan error, claimers)
	for i := range claimers {
		h := campaigns.NewHopper(fmt.Sprintf("node-%d", i))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				leads, err := h.Claim(ctx, db, &c, 50, utc("2026-07-01 16:00:00"))
				if err != nil {
					errs <- err
					return
				}
				if len(leads) == 0 {
					return
				}
				mu.Lock()
				for _, l := range leads {
					seen[l.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Len(t, seen, 10000, "every lead claimed")
	for id, n := range seen {
		require.Equal(t, 1, n, "lead %d claimed %d times", id, n)
	}
}

func TestRecoveryReturnsStuckLeads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	c := newCampaign(t, db, nil)
	importCSV(t, db, c, "phone", "+1 212 436 5000", "+1 212 436 5001", "+1 212 436 5002")
	at := utc("2026-07-01 16:00:00")
	dead := campaigns.NewHopper("dead-node")
	alive := campaigns.NewHopper("live-node")
	l1, err := dead.Claim(ctx, db, &c, 1, at)
	require.NoError(t, err)
	l2, err := alive.Claim(ctx, db, &c, 1, at.Add(3*time.Hour))
	require.NoError(t, err)
	require.Len(t, append(l1, l2...), 2)

	// The sweep returns what was claimed long ago, not a call in progress.
	n, err := campaigns.RecoverStuck(ctx, db, at.Add(time.Hour), "")
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	// A node that restarts takes back everything it had claimed.
	n, err = campaigns.RecoverStuck(ctx, db, time.Time{}, "live-node")
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	require.Len(t, claimPhones(t, db, alive, c, at.Add(4*time.Hour)), 3)

	var attempts int
	require.NoError(t, db.QueryRow(ctx, "SELECT attempts FROM leads WHERE id = $1", l1[0].ID).Scan(&attempts))
	require.Zero(t, attempts, "a claim that never completed is not an attempt")
}

func TestClaimOnlyFromActiveCampaigns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	c := newCampaign(t, db, map[string]string{"status": "paused"})
	importCSV(t, db, c, "phone", "+1 212 436 5000")
	h := campaigns.NewHopper("n")
	require.Empty(t, claimPhones(t, db, h, c, utc("2026-07-01 16:00:00")))
	_, err := campaigns.SetStatus(ctx, db, c.ID, campaigns.StatusActive)
	require.NoError(t, err)
	require.Len(t, claimPhones(t, db, h, c, utc("2026-07-01 16:00:00")), 1)
}

// Each outcome waits its own campaign delay before the lead is dialled again.
func TestRetryDelayPerOutcome(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	c := newCampaign(t, db, map[string]string{
		"retry_no_answer_s": "600", "retry_busy_s": "60", "retry_machine_s": "7200",
		"retry_abandoned_s": "3600", "retry_failed_s": "1800", "max_attempts_per_day": "10",
	})
	h := campaigns.NewHopper("n")
	at := utc("2026-07-01 14:00:00") // 10:00 in New York
	for i, tc := range []struct {
		outcome campaigns.Outcome
		wait    time.Duration
	}{
		{campaigns.OutcomeNoAnswer, 600 * time.Second},
		{campaigns.OutcomeBusy, 60 * time.Second},
		{campaigns.OutcomeMachine, 7200 * time.Second},
		{campaigns.OutcomeAbandoned, 3600 * time.Second},
		{campaigns.OutcomeFailed, 1800 * time.Second},
	} {
		phone := fmt.Sprintf("+1 212 436 51%02d", i)
		importCSV(t, db, c, "phone", phone)
		leads, err := h.Claim(ctx, db, &c, 1, at)
		require.NoError(t, err)
		require.Len(t, leads, 1)
		require.NoError(t, campaigns.Complete(ctx, db, &c, campaigns.Attempt{Lead: leads[0].ID, Outcome: tc.outcome, At: at}))
		early, err := h.Claim(ctx, db, &c, 1, at.Add(tc.wait-time.Second))
		require.NoError(t, err)
		require.Empty(t, early, "%s: not before %s", tc.outcome, tc.wait)
		due, err := h.Claim(ctx, db, &c, 1, at.Add(tc.wait))
		require.NoError(t, err)
		require.Len(t, due, 1, "%s: due after %s", tc.outcome, tc.wait)
		require.NoError(t, campaigns.Complete(ctx, db, &c, campaigns.Attempt{Lead: due[0].ID, Outcome: campaigns.OutcomeCompleted, Disposition: "SALE", At: at}))
	}
	// A number the carrier says does not exist is never tried again.
	importCSV(t, db, c, "phone", "+1 212 436 5199")
	leads, err := h.Claim(ctx, db, &c, 1, at)
	require.NoError(t, err)
	require.NoError(t, campaigns.Complete(ctx, db, &c, campaigns.Attempt{Lead: leads[0].ID, Outcome: campaigns.OutcomeInvalid, At: at}))
	none, err := h.Claim(ctx, db, &c, 1, at.Add(365*24*time.Hour))
	require.NoError(t, err)
	require.Empty(t, none)
}

// A Miami number with a Seattle address is in Florida or in Washington:
// the hopper claims it only while both states' hours hold in both Eastern
// and Pacific time, not until 20:00 Seattle time (23:00 in Miami).
func TestClaimHoldsTheWindowWhereverAddressOrNumberPutsTheLead(t *testing.T) {
	t.Parallel()
	db := testdb.NewPool(t)
	c := newCampaign(t, db, map[string]string{"state_windows": "FL=08:00-20:00,WA=08:00-20:00"})
	importCSV(t, db, c, "phone,state,postal_code", "+1 305 555 0100,WA,98101")
	h := campaigns.NewHopper("node-a")
	// June: Miami EDT (UTC-4), Seattle PDT (UTC-7).
	require.Empty(t, claimPhones(t, db, h, c, utc("2026-06-10 14:59:00")), "Seattle 07:59")
	require.Empty(t, claimPhones(t, db, h, c, utc("2026-06-11 00:30:00")), "Miami 20:30, Seattle 17:30")
	require.Empty(t, claimPhones(t, db, h, c, utc("2026-06-11 02:30:00")), "Seattle 19:30 is 22:30 in Miami")
	require.Equal(t, []string{"+13055550100"}, claimPhones(t, db, h, c, utc("2026-06-10 23:30:00")), "Miami 19:30, Seattle 16:30")
}

// Leads imported before their groups held the number's zones are never
// claimed until CompleteLeadGroups has moved them to a complete group; then
// the window holds in every zone.
func TestLeadsInOldGroupsWaitUntilCompleted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	c := newCampaign(t, db, nil)
	importCSV(t, db, c, "phone,state,postal_code", "+1 305 555 0100,WA,98101")
	// What an import before migration 0012 made: the address's zone only.
	_, err := db.Exec(ctx, `WITH g AS (INSERT INTO tz_groups (zones, state, complete)
		VALUES ('{America/Los_Angeles}', 'WA', false) RETURNING id)
		UPDATE leads SET tz_group = (SELECT id FROM g) WHERE campaign_id = $1`, c.ID)
	require.NoError(t, err)
	h := campaigns.NewHopper("node-a")
	require.Empty(t, claimPhones(t, db, h, c, utc("2026-06-10 18:00:00")), "an old group never opens")

	n, err := campaigns.CompleteLeadGroups(ctx, db)
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	n, err = campaigns.CompleteLeadGroups(ctx, db)
	require.NoError(t, err)
	require.Zero(t, n, "nothing left to move")
	require.Empty(t, claimPhones(t, db, h, c, utc("2026-06-11 02:30:00")), "Seattle 19:30 is 22:30 in Miami")
	require.Equal(t, []string{"+13055550100"}, claimPhones(t, db, h, c, utc("2026-06-10 18:00:00")))
}
