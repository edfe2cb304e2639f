package campaigns_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/internal/testdb"
)

// A number an agent dials that is no lead becomes one of the campaign's
// "Manual dials" list, made on first use and then reused; a number already a
// lead (imported or dialled by hand before) is that lead; DNC and the
// calling window refuse with the reason and make no lead; and many agents
// dialling the same new number at once get one lead between them.
func TestManualLeadJoinsTheCampaignsManualListOnce(t *testing.T) {
	t.Parallel()
	db := testdb.NewPool(t)
	ctx := context.Background()
	c := newCampaign(t, db, map[string]string{"window_start": "00:00", "window_end": "24:00", "simulated": "true"})
	importCSV(t, db, c, "phone,first_name", "+12025557001,Imported")
	now := time.Now()

	imported, err := campaigns.ManualLead(ctx, db, &c, "+12025557001", now)
	require.NoError(t, err)
	byPhone, err := campaigns.LeadByPhone(ctx, db, c.ID, "+12025557001")
	require.NoError(t, err)
	require.Equal(t, byPhone, imported, "an imported number is its lead")

	const agents = 8
	got := make([]campaigns.LeadID, agents)
	errs := make([]error, agents)
	var wg sync.WaitGroup
	for i := range agents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = campaigns.ManualLead(ctx, db, &c, "+12025557002", now)
		}()
	}
	wg.Wait()
	for i := range agents {
		require.NoError(t, errs[i])
		require.Equal(t, got[0], got[i], "one lead for one number")
	}
	var n int
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM leads WHERE campaign_id = $1 AND phone = '+12025557002'`, c.ID).Scan(&n))
	require.Equal(t, 1, n)
	lead, err := campaigns.GetLead(ctx, db, got[0])
	require.NoError(t, err)
	require.Equal(t, "new", lead.Status)
	var list string
	var imports int
	require.NoError(t, db.QueryRow(ctx, `SELECT ll.name, ll.imported FROM leads l JOIN lead_lists ll ON ll.id = l.list_id
WHERE l.id = $1`, got[0]).Scan(&list, &imports))
	require.Equal(t, campaigns.ManualListName, list)
	require.Equal(t, 1, imports)

	again, err := campaigns.ManualLead(ctx, db, &c, "+12025557003", now)
	require.NoError(t, err)
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM lead_lists WHERE campaign_id = $1 AND format = 'manual'`, c.ID).Scan(&n))
	require.Equal(t, 1, n, "one manual list per campaign")
	require.NotEqual(t, got[0], again)

	_, err = campaigns.AddDNC(ctx, db, campaigns.DNCScope{Campaign: c.ID}, []string{"+12025557004"},
		campaigns.DNCChange{How: campaigns.DNCViaAPI, By: "test"})
	require.NoError(t, err)
	_, err = campaigns.ManualLead(ctx, db, &c, "+12025557004", now)
	require.ErrorIs(t, err, campaigns.ErrNotDialable)
	require.ErrorContains(t, err, "do-not-call")

	shut := newCampaign(t, db, map[string]string{"window_start": "09:00", "window_end": "09:01", "simulated": "true"})
	night := time.Date(2026, 3, 2, 5, 0, 0, 0, time.UTC) // midnight in Washington
	_, err = campaigns.ManualLead(ctx, db, &shut, "+12025557005", night)
	require.ErrorIs(t, err, campaigns.ErrNotDialable)
	require.ErrorContains(t, err, "outside the calling window")
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM leads WHERE phone IN ('+12025557004', '+12025557005')`).Scan(&n))
	require.Zero(t, n, "a refused number becomes no lead")
}
