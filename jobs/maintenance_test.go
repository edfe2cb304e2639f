package jobs

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/internal/testwait"
)

// Import reports are purged after the retention period, not before; leads
// held for a callback that no longer exists are released; finished leads
// are recycled by disposition, never past DNC.
func TestMaintenanceJobs(t *testing.T) {
	db := testdb.NewPool(t)
	ctx := context.Background()
	c := newCampaign(t, db, 3, nil)
	res, err := campaigns.Import(ctx, db, strings.NewReader("phone\n12\nnot a number\n2125550999\n"),
		campaigns.ImportOptions{Campaign: c.ID, Name: "bad.csv"})
	require.NoError(t, err)
	require.Equal(t, 2, count(t, db, `SELECT count(*) FROM lead_import_rejects WHERE list_id = $1`, res.List))
	now := time.Now()

	got, err := campaigns.PurgeScratch(ctx, db, now.Add(-30*24*time.Hour))
	require.NoError(t, err)
	require.Zero(t, got.Rejects, "a fresh report is kept")
	_, err = db.Exec(ctx, `UPDATE lead_lists SET finished_at = now() - interval '31 days' WHERE id = $1`, res.List)
	require.NoError(t, err)
	got, err = campaigns.PurgeScratch(ctx, db, now.Add(-30*24*time.Hour))
	require.NoError(t, err)
	require.EqualValues(t, 2, got.Rejects)
	require.Zero(t, count(t, db, `SELECT count(*) FROM lead_import_rejects`))

	lead := firstLead(t, db, c)
	_, err = db.Exec(ctx, `UPDATE leads SET status = 'callback' WHERE id = $1`, lead)
	require.NoError(t, err)
	n, err := campaigns.ReleaseOrphanedLeads(ctx, db, now)
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	require.Equal(t, "new", leadStatus(t, db, lead))

	_, err = db.Exec(ctx, `UPDATE leads SET status = 'done', last_disposition = 'NI', attempts = 3, last_attempt_at = now() - interval '2 days'
WHERE campaign_id = $1`, c.ID)
	require.NoError(t, err)
	var dncPhone string
	require.NoError(t, db.QueryRow(ctx, `SELECT phone FROM leads WHERE id = $1`, lead).Scan(&dncPhone))
	_, err = campaigns.AddDNC(ctx, db, campaigns.DNCScope{Campaign: c.ID}, []string{dncPhone}, campaigns.DNCChange{How: campaigns.DNCViaAPI, By: "test"})
	require.NoError(t, err)
	n, err = campaigns.Recycle(ctx, db, campaigns.RecycleLeads{Campaign: c.ID, Codes: []string{"NI"}, Before: now.Add(-24 * time.Hour), Now: now})
	require.NoError(t, err)
	require.EqualValues(t, 3, n, "every NI but the DNC'd number")
	require.Equal(t, "done", leadStatus(t, db, lead))
}

// The stuck-lead sweep also fails a lead import whose process died, so its
// list does not say "importing" forever.
func TestRecoverySweepFailsAbandonedImports(t *testing.T) {
	db := testdb.NewPool(t)
	ctx := context.Background()
	c := newCampaign(t, db, 1, nil)
	var list int64
	require.NoError(t, db.QueryRow(ctx, `INSERT INTO lead_lists (campaign_id, name, format) VALUES ($1, 'dead.csv', 'csv') RETURNING id`,
		c.ID).Scan(&list))
	r, err := New(db, Config{FetchPoll: 50 * time.Millisecond, StopTimeout: 2 * time.Second, RecoveryEvery: 100 * time.Millisecond},
		wallClock{}, quietLog())
	require.NoError(t, err)
	require.NoError(t, r.Start(ctx))
	t.Cleanup(r.Stop)
	testwait.Until(t, func() bool {
		l, err := campaigns.GetList(ctx, db, campaigns.ListID(list))
		return err == nil && l.Status == "failed"
	})
}
