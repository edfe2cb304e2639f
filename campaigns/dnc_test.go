package campaigns_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/internal/testdb"
)

// The dnc table records its own changes, so one made outside Pacer's store
// functions is in the history too, a removal without a reason is refused
// even there, and a deleted campaign's list goes with a reason that says so.
func TestDNCChangesOutsidePacerAreRecordedToo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	c := newCampaign(t, db, nil)
	at := time.Date(2026, 3, 2, 15, 4, 5, 0, time.UTC)
	_, err := campaigns.AddDNC(ctx, db, campaigns.DNCScope{Campaign: c.ID}, []string{"+12025550170"},
		campaigns.DNCChange{How: campaigns.DNCViaAPI, ByUser: 1000001, By: "max", At: at})
	require.NoError(t, err)
	_, err = campaigns.RemoveDNC(ctx, db, campaigns.DNCScope{Campaign: c.ID}, []string{"+12025550170"},
		campaigns.DNCChange{How: campaigns.DNCViaAPI, By: "max", Reason: " "})
	require.ErrorIs(t, err, campaigns.ErrDNCReasonRequired)
	_, err = db.Exec(ctx, `INSERT INTO dnc (phone) VALUES ('+12025550171')`)
	require.NoError(t, err)
	_, err = db.Exec(ctx, `DELETE FROM dnc WHERE phone = '+12025550171'`)
	require.ErrorContains(t, err, "dnc_events_check", "no reason, no removal")
	_, err = db.Exec(ctx, `DELETE FROM campaigns WHERE id = $1`, c.ID)
	require.NoError(t, err)

	var user string
	require.NoError(t, db.QueryRow(ctx, `SELECT session_user`).Scan(&user))
	var got []campaigns.DNCEvent
	require.NoError(t, campaigns.DNCHistory(ctx, db, campaigns.DNCHistoryFilter{}, func(e campaigns.DNCEvent) error {
		require.NotZero(t, e.ID)
		require.False(t, e.At.IsZero())
		e.ID = 0
		if e.At.Equal(at) {
			e.At = at
		} else {
			e.At = time.Time{}
		}
		got = append(got, e)
		return nil
	}))
	require.Equal(t, []campaigns.DNCEvent{
		{Action: "remove", Campaign: c.ID, Phone: "+12025550170", How: "sql", By: user, Reason: "campaign deleted"},
		{Action: "add", Phone: "+12025550171", How: "sql", By: user},
		{Action: "add", At: at, Campaign: c.ID, Phone: "+12025550170", How: "api", ByUser: 1000001, By: "max"},
	}, got)

	// Settings made for one change end with its transaction.
	conn, err := db.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	_, err = campaigns.AddDNC(ctx, conn.Conn(), campaigns.Global, []string{"+12025550172"},
		campaigns.DNCChange{How: campaigns.DNCViaCLI, By: "carol"})
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `INSERT INTO dnc (phone) VALUES ('+12025550173')`)
	require.NoError(t, err)
	rows, err := conn.Query(ctx, `SELECT how || ' ' || by_name FROM dnc_events WHERE phone IN ('+12025550172', '+12025550173') ORDER BY id`)
	require.NoError(t, err)
	hows, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Equal(t, []string{"cli carol", "sql " + user}, hows)
}
