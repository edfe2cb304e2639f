package dialer_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/internal/dialcheck"
	"github.com/pacer-dialer/pacer/internal/testdb"
)

// twoAgentsOneCustomer runs a power campaign of one lead: agent 1 gets the
// customer, agent 2 is READY beside them with nothing to dial.
func twoAgentsOneCustomer(t *testing.T, db *pgxpool.Pool) (campaigns.Campaign, *dispoNode, *dialer.Loop, dialer.CallID) {
	t.Helper()
	ctx := context.Background()
	c := powerCampaign(t, db, 1, nil)
	n, l := runDispoNode(t, db, c)
	require.NoError(t, l.Login(ctx, 1, agents.Config{}))
	require.NoError(t, l.AgentEvent(ctx, 1, agents.Event{Kind: agents.EvReady}))
	call := waitAgent(t, l, 1, agents.InCall).Call
	require.NoError(t, l.Login(ctx, 2, agents.Config{}))
	require.NoError(t, l.AgentEvent(ctx, 2, agents.Event{Kind: agents.EvReady}))
	return c, n, l, call
}

// leadOf reads the campaign's one lead's status, last disposition and
// attempts.
func leadOf(t *testing.T, db *pgxpool.Pool, c campaigns.Campaign) (status, last string, attempts int) {
	t.Helper()
	var lastp *string
	require.NoError(t, db.QueryRow(context.Background(), `SELECT l.status, l.last_disposition, l.attempts
		FROM leads l JOIN lead_lists ll ON ll.id = l.list_id WHERE ll.campaign_id = $1`, c.ID).Scan(&status, &lastp, &attempts))
	if lastp != nil {
		last = *lastp
	}
	return status, last, attempts
}

// A customer transferred from one agent to another is one dial and one
// attempt: each agent's part is a call row of its own with their
// disposition, the second names the first, and only the disposition of the
// agent who had the customer last settles the lead. Reports count one dial
// and one live answer, and the compliance checks find nothing wrong.
func TestTransferToAnAgentOnTheDatabase(t *testing.T) {
	db := testdb.NewPool(t)
	ctx := context.Background()
	c, n, l, call := twoAgentsOneCustomer(t, db)

	require.NoError(t, l.Transfer(ctx, 1, call, dialer.AgentTarget(2)))
	require.Equal(t, agents.Dispo, agentStatus(t, l, 1).State)
	second := waitAgent(t, l, 2, agents.InCall).Call
	require.NotEqual(t, call, second)

	_, err := l.Disposition(ctx, 1, call, campaigns.DispositionInput{Code: "NI"})
	require.NoError(t, err)
	status, _, attempts := leadOf(t, db, c)
	require.Equal(t, "dialing", status, "the first agent's disposition does not settle the lead: the customer is still talking")
	require.Zero(t, attempts)

	require.NoError(t, l.Hangup(ctx, 2))
	_, err = l.Disposition(ctx, 2, second, campaigns.DispositionInput{Code: "SALE"})
	require.NoError(t, err)
	status, last, attempts := leadOf(t, db, c)
	require.Equal(t, "done", status)
	require.Equal(t, "SALE", last, "the last agent's disposition settles the lead")
	require.Equal(t, 1, attempts, "one attempt")

	require.NoError(t, n.calls.Flush(ctx))
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM calls WHERE campaign_id = $1 AND seq = $2 AND agent_id = 1
		AND without_lead AND disposition = 'NI' AND transferred_from_seq IS NULL`, c.ID, int64(call)))
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM calls WHERE campaign_id = $1 AND seq = $2 AND agent_id = 2
		AND NOT without_lead AND disposition = 'SALE' AND transferred_from_seq = $3 AND outcome = 'completed'`,
		c.ID, int64(second), int64(call)))
	stats, err := dialer.CampaignDayStats(ctx, db, dialer.CampaignID(c.ID), time.Now().Add(-time.Hour), nil)
	require.NoError(t, err)
	require.EqualValues(t, 1, stats.Dials, "one dial")
	require.EqualValues(t, 1, stats.LiveAnswers, "one live answer")
	buckets, err := n.calls.BudgetHistory(ctx, dialer.CampaignID(c.ID), time.Now().Add(-time.Hour))
	require.NoError(t, err)
	var live int64
	for _, b := range buckets {
		live += b.Live
	}
	require.EqualValues(t, 1, live, "the abandon budget counts the customer once")
	v, err := dialcheck.Violations(ctx, db, false)
	require.NoError(t, err)
	require.Empty(t, v)
}

// When the customer hangs up during a conference of two agents, the host's
// disposition settles the lead and the guest's is recorded on their own
// call; one dial, one attempt.
func TestConferenceOfTwoAgentsOnTheDatabase(t *testing.T) {
	db := testdb.NewPool(t)
	ctx := context.Background()
	c, n, l, call := twoAgentsOneCustomer(t, db)

	require.NoError(t, l.AddParty(ctx, 1, call, dialer.AgentTarget(2)))
	guest := waitAgent(t, l, 2, agents.InCall).Call
	_, err := l.Disposition(ctx, 2, guest, campaigns.DispositionInput{Code: "NI"})
	require.ErrorIs(t, err, campaigns.ErrNoCallToDisposition, "not while the conference goes on")
	require.NoError(t, l.Hangup(ctx, 1))
	require.Equal(t, agents.Dispo, agentStatus(t, l, 2).State, "the host's hangup ends the guest's part")

	_, err = l.Disposition(ctx, 2, guest, campaigns.DispositionInput{Code: "NI"})
	require.NoError(t, err)
	status, _, _ := leadOf(t, db, c)
	require.Equal(t, "dialing", status, "the guest's disposition does not settle the lead")
	_, err = l.Disposition(ctx, 1, call, campaigns.DispositionInput{Code: "SALE"})
	require.NoError(t, err)
	status, last, attempts := leadOf(t, db, c)
	require.Equal(t, "done", status)
	require.Equal(t, "SALE", last)
	require.Equal(t, 1, attempts)

	require.NoError(t, n.calls.Flush(ctx))
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM calls WHERE campaign_id = $1 AND seq = $2 AND agent_id = 2
		AND without_lead AND disposition = 'NI' AND transferred_from_seq = $3`, c.ID, int64(guest), int64(call)))
	v, err := dialcheck.Violations(ctx, db, false)
	require.NoError(t, err)
	require.Empty(t, v)
}
