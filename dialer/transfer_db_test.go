package dialer_test

import (
	"context"
	"fmt"
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

// A dead node's call that had handed its customer on gets AUTO when its
// agent never dispositions it, but never settles the lead: here the lead
// has been claimed again since, and stays claimed.
func TestAnOrphanedHandedOnCallLeavesItsLeadAlone(t *testing.T) {
	db := testdb.NewPool(t)
	ctx := context.Background()
	c := newCampaign(t, db, 1, map[string]string{"wrapup_limit_s": "30"})
	addNode(t, db, "dead", -time.Minute, 15*time.Second)
	leads, err := campaigns.NewHopper("dead").Claim(ctx, db, &c, 1, time.Now())
	require.NoError(t, err)
	require.Len(t, leads, 1)
	s := dialer.NewCallStore(db, dialer.CallStoreConfig{Node: "dead"})
	require.NoError(t, s.Start(ctx))
	at := time.Now().Add(-time.Minute).Truncate(time.Microsecond)
	rec := &dialer.CallRecord{ID: 1, Campaign: dialer.CampaignID(c.ID), Lead: dialer.LeadID(leads[0].ID),
		Number: leads[0].Phone, Agent: 7, HasAgent: true, Outcome: dialer.OutcomeCompleted, WithoutLead: true}
	for i, st := range []dialer.CallState{dialer.CallQueued, dialer.CallDialing, dialer.CallAnsweredHuman,
		dialer.CallConnected, dialer.CallWrapUp, dialer.CallEnded} {
		rec.Stamps[st] = at.Add(time.Duration(i) * time.Second)
	}
	s.Journal(dialer.CampaignID(c.ID)).CallEnded(&dialer.CallEnd{Record: rec})
	s.Stop()
	// The customer's own call settled the lead, and it was claimed again.
	_, err = db.Exec(ctx, `UPDATE leads SET claimed_by = 'alive' WHERE id = $1`, leads[0].ID)
	require.NoError(t, err)

	recovered, err := dialer.RecoverNode(ctx, db, wallClock{}, "dead")
	require.NoError(t, err)
	require.Equal(t, "dead", recovered.Node)
	_, err = db.Exec(ctx, `UPDATE nodes SET recovered_at = now() - interval '31 seconds' WHERE id = 'dead'`)
	require.NoError(t, err)
	n, err := dialer.DisposeOrphans(ctx, db, wallClock{}, nil)
	require.NoError(t, err)
	require.Equal(t, 1, n, "the handed-on call gets its AUTO code")
	var status, claimedBy string
	var attempts int
	require.NoError(t, db.QueryRow(ctx, `SELECT status, claimed_by, attempts FROM leads WHERE id = $1`, leads[0].ID).
		Scan(&status, &claimedBy, &attempts))
	require.Equal(t, "dialing alive 0", fmt.Sprintf("%s %s %d", status, claimedBy, attempts), "the lead is left alone")
}

// A dead node's inbound call whose agent never dispositions it gets AUTO,
// and AUTO settles the lead the agent had attached to it as an inbound
// disposition does: by the code's rules, with no attempt counted.
func TestAnOrphanedInboundCallSettlesItsAttachedLead(t *testing.T) {
	db := testdb.NewPool(t)
	ctx := context.Background()
	c := newCampaign(t, db, 1, map[string]string{"wrapup_limit_s": "30"})
	addNode(t, db, "dead", -time.Minute, 15*time.Second)
	var lead campaigns.LeadID
	var phone string
	require.NoError(t, db.QueryRow(ctx, `SELECT id, phone FROM leads WHERE campaign_id = $1`, c.ID).Scan(&lead, &phone))
	s := dialer.NewCallStore(db, dialer.CallStoreConfig{Node: "dead"})
	require.NoError(t, s.Start(ctx))
	at := time.Now().Add(-time.Minute).Truncate(time.Microsecond)
	rec := &dialer.CallRecord{ID: 1, Campaign: dialer.CampaignID(c.ID), Lead: dialer.LeadID(lead), Number: phone,
		Agent: 7, HasAgent: true, Outcome: dialer.OutcomeCompleted, WithoutLead: true, Inbound: true, Queue: 3}
	for i, st := range []dialer.CallState{dialer.CallQueued, dialer.CallAnsweredHuman, dialer.CallConnected,
		dialer.CallWrapUp, dialer.CallEnded} {
		rec.Stamps[st] = at.Add(time.Duration(i) * time.Second)
	}
	s.Journal(dialer.CampaignID(c.ID)).CallEnded(&dialer.CallEnd{Record: rec})
	s.Stop()

	_, err := dialer.RecoverNode(ctx, db, wallClock{}, "dead")
	require.NoError(t, err)
	_, err = db.Exec(ctx, `UPDATE nodes SET recovered_at = now() - interval '31 seconds' WHERE id = 'dead'`)
	require.NoError(t, err)
	n, err := dialer.DisposeOrphans(ctx, db, wallClock{}, nil)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	var status, last string
	var attempts int
	require.NoError(t, db.QueryRow(ctx, `SELECT status, last_disposition, attempts FROM leads WHERE id = $1`, lead).
		Scan(&status, &last, &attempts))
	require.Equal(t, "retry AUTO 0", fmt.Sprintf("%s %s %d", status, last, attempts))
	var direction, disposition string
	require.NoError(t, db.QueryRow(ctx, `SELECT direction, disposition FROM calls WHERE lead_id = $1`, lead).Scan(&direction, &disposition))
	require.Equal(t, "inbound AUTO", direction+" "+disposition)
}
