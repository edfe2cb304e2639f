package campaigns_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/internal/testdb"
)

// talked records that agent talked with lead at t (a completed call).
func talked(t *testing.T, db *pgxpool.Pool, c campaigns.Campaign, lead campaigns.LeadID, agent int64, at time.Time) {
	t.Helper()
	_, err := db.Exec(context.Background(), `INSERT INTO calls (run_id, seq, campaign_id, lead_id, phone, node, agent_id, state, outcome,
	answered_by, queued_at, dialed_at, answered_at, connected_at, ended_at)
	SELECT gen_random_uuid(), 1, $1, $2, phone, 'test-node', $3, 'ended', 'completed', 'human', $4::timestamptz, $4, $4, $4, $4::timestamptz + interval '1 minute'
	FROM leads WHERE id = $2`, c.ID, lead, agent, at)
	require.NoError(t, err)
}

// An inbound caller is matched to every lead with their number, in any
// campaign, however the carrier wrote the number: none, one or several
// (most recently talked to first), with the agent who last talked with
// them as the sticky agent; a number that is no phone number matches
// nothing.
func TestCallerLeadsMatchNoneOneOrSeveral(t *testing.T) {
	t.Parallel()
	db := testdb.NewPool(t)
	ctx := context.Background()
	a := newCampaign(t, db, map[string]string{"simulated": "true"})
	b := newCampaign(t, db, map[string]string{"simulated": "true"})
	importCSV(t, db, a, "phone,first_name,last_name", "+12025557101,Ada,Lovelace", "+12025557102,Alan,Turing")
	importCSV(t, db, b, "phone,first_name,last_name", "+12025557101,Augusta,King")

	none, err := campaigns.CallerLeads(ctx, db, "+12025557199")
	require.NoError(t, err)
	require.Empty(t, none)
	bad, err := campaigns.CallerLeads(ctx, db, "anonymous")
	require.NoError(t, err)
	require.Empty(t, bad, "a withheld number matches nothing")

	one, err := campaigns.CallerLeads(ctx, db, "(202) 555-7102")
	require.NoError(t, err)
	require.Len(t, one, 1)
	require.Equal(t, "Alan Turing", one[0].Name)
	require.Equal(t, a.ID, one[0].Campaign)
	require.Zero(t, campaigns.LastAgent(one), "nobody has talked with him")

	ada, err := campaigns.LeadByPhone(ctx, db, a.ID, "+12025557101")
	require.NoError(t, err)
	augusta, err := campaigns.LeadByPhone(ctx, db, b.ID, "+12025557101")
	require.NoError(t, err)
	now := time.Now().UTC().Truncate(time.Second)
	talked(t, db, a, ada, 41, now.Add(-48*time.Hour))
	talked(t, db, b, augusta, 42, now.Add(-2*time.Hour))
	talked(t, db, a, ada, 43, now.Add(-72*time.Hour))

	several, err := campaigns.CallerLeads(ctx, db, "2025557101")
	require.NoError(t, err)
	require.Len(t, several, 2)
	require.Equal(t, augusta, several[0].Lead, "the lead talked to last comes first")
	require.Equal(t, "Augusta King", several[0].Name)
	require.Equal(t, int64(42), several[0].LastAgent)
	require.Equal(t, ada, several[1].Lead)
	require.Equal(t, int64(41), several[1].LastAgent, "Ada's last call, not her first")
	require.Equal(t, int64(42), campaigns.LastAgent(several), "the sticky agent last talked with the caller")
}

// A caller no lead has becomes a lead of the campaign's manual list with the
// name the agent took down, at any hour (they rang in: the calling window
// is not theirs); a caller who is already a lead of the campaign is that
// lead; a bad number or an overlong name is refused.
func TestInboundLeadMadeFromTheCall(t *testing.T) {
	t.Parallel()
	db := testdb.NewPool(t)
	ctx := context.Background()
	c := newCampaign(t, db, map[string]string{"window_start": "09:00", "window_end": "09:01", "simulated": "true"})
	importCSV(t, db, c, "phone,first_name", "+12025557201,Known")
	night := time.Date(2026, 3, 2, 5, 0, 0, 0, time.UTC) // midnight in Washington

	id, err := campaigns.InboundLead(ctx, db, &c, "+12025557202", " Grace ", "Hopper", night)
	require.NoError(t, err)
	lead, err := campaigns.GetLead(ctx, db, id)
	require.NoError(t, err)
	require.Equal(t, "Grace", lead.FirstName)
	require.Equal(t, "Hopper", lead.LastName)
	require.Equal(t, "+12025557202", lead.Phone)
	var list string
	require.NoError(t, db.QueryRow(ctx, `SELECT name FROM lead_lists WHERE id = $1`, lead.List).Scan(&list))
	require.Equal(t, campaigns.ManualListName, list)
	matched, err := campaigns.CallerLeads(ctx, db, "+12025557202")
	require.NoError(t, err)
	require.Len(t, matched, 1, "the next call from this number is matched")

	known, err := campaigns.InboundLead(ctx, db, &c, "+12025557201", "Other", "Name", night)
	require.NoError(t, err)
	existing, err := campaigns.LeadByPhone(ctx, db, c.ID, "+12025557201")
	require.NoError(t, err)
	require.Equal(t, existing, known)
	lead, err = campaigns.GetLead(ctx, db, known)
	require.NoError(t, err)
	require.Equal(t, "Known", lead.FirstName, "an existing lead keeps its name")

	_, err = campaigns.InboundLead(ctx, db, &c, "12", "A", "B", night)
	require.ErrorIs(t, err, campaigns.ErrInvalidPhone)
	long := make([]byte, 201)
	for i := range long {
		long[i] = 'x'
	}
	_, err = campaigns.InboundLead(ctx, db, &c, "+12025557203", string(long), "", night)
	require.ErrorIs(t, err, campaigns.ErrNameTooLong)
}
