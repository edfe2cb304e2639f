package jobs

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/internal/testdb"
)

// The jobs page lists jobs by kind and state, page by page, counts them, and
// cancels and retries them.
func TestJobsAdmin(t *testing.T) {
	db := testdb.NewPool(t)
	c := newCampaign(t, db, 2, nil)
	r := newRunner(t, db) // not started: the jobs stay where the test puts them
	ctx := context.Background()
	var leads []campaigns.LeadID
	rows, err := db.Query(ctx, `SELECT id FROM leads ORDER BY id`)
	require.NoError(t, err)
	for rows.Next() {
		var id campaigns.LeadID
		require.NoError(t, rows.Scan(&id))
		leads = append(leads, id)
	}
	require.NoError(t, rows.Err())
	a := schedule(t, db, r, c, leads[0], campaigns.ScopeMe, time.Hour)
	b := schedule(t, db, r, c, leads[1], campaigns.ScopeAnyone, 2*time.Hour)

	page, err := r.ListJobs(ctx, JobFilter{Kinds: []string{"callback_due"}, States: []string{"scheduled"}, Limit: 1})
	require.NoError(t, err)
	require.Len(t, page.Jobs, 1)
	require.Equal(t, b.JobID, page.Jobs[0].ID, "newest first")
	require.NotEmpty(t, page.Next)
	page, err = r.ListJobs(ctx, JobFilter{Kinds: []string{"callback_due"}, Limit: 1, Cursor: page.Next})
	require.NoError(t, err)
	require.Len(t, page.Jobs, 1)
	require.Equal(t, a.JobID, page.Jobs[0].ID)
	require.JSONEq(t, `{"callback":`+itoa(int64(a.ID))+`,"version":1}`, string(page.Jobs[0].Args))
	_, err = r.ListJobs(ctx, JobFilter{States: []string{"stuck"}})
	require.Error(t, err)

	j, err := r.CancelJob(ctx, a.JobID)
	require.NoError(t, err)
	require.Equal(t, "cancelled", j.State)
	j, err = r.RetryJob(ctx, a.JobID)
	require.NoError(t, err)
	require.Equal(t, "available", j.State)
	counts, err := r.CountJobs(ctx)
	require.NoError(t, err)
	require.Contains(t, counts, JobCount{Kind: "callback_due", State: "available", Count: 1})
	require.Contains(t, counts, JobCount{Kind: "callback_due", State: "scheduled", Count: 1})
	_, err = r.GetJob(ctx, 987654321)
	require.ErrorIs(t, err, ErrJobNotFound)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
