package dialer_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/dialer"
	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/internal/testwait"
)

// addNode writes a node row as a node that last heartbeat at beat would
// have left it, with ttl.
func addNode(t *testing.T, db *pgxpool.Pool, id string, beat time.Duration, ttl time.Duration) {
	t.Helper()
	_, err := db.Exec(context.Background(), `INSERT INTO nodes (id, incarnation, started_at, heartbeat_at, expires_at)
		VALUES ($1, gen_random_uuid(), now() - interval '1 hour', now() + $2::interval, now() + $2::interval + $3::interval)`,
		id, beat.String(), ttl.String())
	require.NoError(t, err)
}

// A node that died mid-call is recovered by another: every call it left open
// ends with the honest outcome, every attempt is counted and its lead waits
// the retry delay of that outcome; a connected call awaits its agent's
// disposition and gets AUTO when none comes; a claimed lead with no call on
// record counts a failed attempt. A live node is never recovered.
func TestRecoveryClosesWhatADeadNodeLeftOpen(t *testing.T) {
	ctx := context.Background()
	db := testdb.NewPool(t)
	c := newCampaign(t, db, 6, map[string]string{"retry_failed_s": "600", "retry_abandoned_s": "3600",
		"retry_machine_s": "7200", "wrapup_limit_s": "30"})
	defer testwait.NoLeaks(t, goleak.IgnoreCurrent())
	t0 := time.Now().Add(-time.Minute).Truncate(time.Microsecond)
	addNode(t, db, "dead", -time.Minute, 15*time.Second)
	addNode(t, db, "alive", 0, time.Hour)

	leads, err := campaigns.NewHopper("dead").Claim(ctx, db, &c, 6, time.Now())
	require.NoError(t, err)
	require.Len(t, leads, 6)

	// Each call's progress up to where the node died; the sixth lead was
	// claimed and its call never reached the database.
	const (
		dialing = dialer.CallDialing
		ringing = dialer.CallRinging
		human   = dialer.CallAnsweredHuman
		machine = dialer.CallAnsweredMachine
	)
	s := dialer.NewCallStore(db, dialer.CallStoreConfig{Node: "dead"})
	require.NoError(t, s.Start(ctx))
	j := s.Journal(dialer.CampaignID(c.ID))
	for i, steps := range [][]dialer.CallState{{dialing}, {dialing, ringing}, {dialing, ringing, human},
		{dialing, ringing, machine}, {dialing, ringing, human, dialer.CallConnected}} {
		for k, st := range steps {
			j.CallProgress(&dialer.CallProgress{Call: dialer.CallID(i + 1), Lead: dialer.LeadID(leads[i].ID),
				Number: leads[i].Phone, State: st, Agent: 7, At: t0.Add(time.Duration(k) * time.Second)})
		}
	}
	s.Stop()
	events := agents.NewEventStore(db, agents.EventStoreConfig{Node: "dead"})
	require.NoError(t, events.Start(ctx))
	sink := events.Sink(int64(c.ID))
	sink.AppendTransition(agents.Transition{Agent: 7, At: t0, Event: agents.EvLogin, From: agents.LoggedOut, To: agents.Paused, PauseCode: "LOGIN"})
	sink.AppendTransition(agents.Transition{Agent: 7, At: t0.Add(time.Second), Event: agents.EvReady, From: agents.Paused, To: agents.Ready})
	events.Stop()
	lease, err := dialer.AcquireLease(ctx, db, dialer.CampaignID(c.ID), "dead", 15*time.Second)
	require.NoError(t, err)

	rec, err := dialer.RecoverNode(ctx, db, wallClock{}, "alive")
	require.NoError(t, err)
	require.Empty(t, rec.Node, "a live node is never recovered")
	_, err = dialer.AcquireLease(ctx, db, dialer.CampaignID(c.ID), "alive", 15*time.Second)
	require.ErrorIs(t, err, dialer.ErrLeaseHeld, "a dead node's campaign is not taken before it is recovered")

	before := time.Now()
	rec, err = dialer.RecoverNode(ctx, db, wallClock{}, "dead")
	require.NoError(t, err)
	require.Equal(t, dialer.Recovered{Node: "dead", Calls: 5, AwaitingDispo: 1, Attempts: 4, UnrecordedLeads: 1,
		Sessions: 1, Leases: 1}, rec)
	again, err := dialer.RecoverNode(ctx, db, wallClock{}, "dead")
	require.NoError(t, err)
	require.Empty(t, again.Node, "recovery runs once")

	type callRow struct {
		outcome, dispo, cause string
		abandoned             bool
	}
	rows, err := db.Query(ctx, `SELECT outcome, coalesce(disposition, ''), end_cause, abandoned FROM calls WHERE node = 'dead' ORDER BY seq`)
	require.NoError(t, err)
	var got []string
	for rows.Next() {
		var r callRow
		require.NoError(t, rows.Scan(&r.outcome, &r.dispo, &r.cause, &r.abandoned))
		got = append(got, fmt.Sprintf("%s %s %s %v", r.outcome, r.dispo, r.cause, r.abandoned))
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{"failed FAIL node_lost false", "failed FAIL node_lost false",
		"abandoned DROP node_lost true", "machine AA node_lost false", "completed  node_lost false"}, got)

	// Each lead waits at least its outcome's retry delay from the recovery.
	waits := []time.Duration{600 * time.Second, 600 * time.Second, 3600 * time.Second, 7200 * time.Second, 0, 600 * time.Second}
	for i, l := range leads {
		var status string
		var attempts int
		var next time.Time
		require.NoError(t, db.QueryRow(ctx, `SELECT status, attempts, next_attempt_at FROM leads WHERE id = $1`, l.ID).
			Scan(&status, &attempts, &next))
		if i == 4 {
			require.Equal(t, "dialing", status, "the connected call's lead is held for its agent's disposition")
			continue
		}
		require.Equal(t, "retry", status, "lead %d", i)
		require.Equal(t, 1, attempts, "lead %d: the attempt is counted", i)
		require.False(t, next.Before(before.Add(waits[i])), "lead %d waits its retry delay: next %s", i, next)
	}
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM agent_sessions WHERE end_cause = 'node_lost' AND logout_at = $1`,
		t0.Add(time.Second)))
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM leads WHERE locked_until IS NOT NULL OR last_outcome = 'abandoned'`))

	// The campaign is free: a live node takes it with a newer epoch.
	taken, err := dialer.AcquireLease(ctx, db, dialer.CampaignID(c.ID), "alive", 15*time.Second)
	require.NoError(t, err)
	require.Greater(t, taken.Epoch, lease.Epoch)

	// The agent does not come back within the wrap-up limit: AUTO.
	n, err := dialer.DisposeOrphans(ctx, db, wallClock{}, nil)
	require.NoError(t, err)
	require.Zero(t, n, "the agent still has the wrap-up limit to disposition it")
	_, err = db.Exec(ctx, `UPDATE nodes SET recovered_at = now() - interval '31 seconds' WHERE id = 'dead'`)
	require.NoError(t, err)
	n, err = dialer.DisposeOrphans(ctx, db, wallClock{}, nil)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	var status, last string
	require.NoError(t, db.QueryRow(ctx, `SELECT status, last_disposition FROM leads WHERE id = $1`, leads[4].ID).Scan(&status, &last))
	require.Equal(t, campaigns.DispoAuto, last)
	require.NotEqual(t, "dialing", status)
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM calls WHERE disposition = 'AUTO' AND auto_disposition`))
	require.Zero(t, count(t, db, `SELECT count(*) FROM leads WHERE status = 'dialing'`))

	// The recovered abandon counts in the campaign's budget.
	h, err := dialer.NewCallStore(db, dialer.CallStoreConfig{Node: "x"}).BudgetHistory(ctx, dialer.CampaignID(c.ID), t0.Add(-time.Hour))
	require.NoError(t, err)
	var live, ab int64
	for _, b := range h {
		live, ab = live+b.Live, ab+b.Abandons
	}
	require.EqualValues(t, 2, live)
	require.EqualValues(t, 1, ab)
}

// A node name held by a live node is refused before anything changes; the
// name of a node that died is taken after its work is recovered.
func TestANodeNameHeldByALiveNodeIsRefused(t *testing.T) {
	ctx := context.Background()
	db := testdb.NewPool(t)
	c := newCampaign(t, db, 2, nil)
	first, err := dialer.RegisterNode(ctx, db, wallClock{}, dialer.NodeConfig{ID: "n1", HTTPAddr: "127.0.0.1:1"})
	require.NoError(t, err)
	leads, err := campaigns.NewHopper("n1").Claim(ctx, db, &c, 1, time.Now())
	require.NoError(t, err)
	require.Len(t, leads, 1)

	_, err = dialer.RegisterNode(ctx, db, wallClock{}, dialer.NodeConfig{ID: "n1"})
	require.ErrorIs(t, err, dialer.ErrNodeAlive)
	require.Contains(t, err.Error(), "127.0.0.1:1")
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM leads WHERE status = 'dialing' AND claimed_by = 'n1'`),
		"the live node's claim is untouched")

	// It stops cleanly: the name is free at once and nothing is recovered.
	require.NoError(t, campaigns.Release(ctx, db, leads[0].ID))
	require.NoError(t, first.MarkStopped(ctx))
	second, err := dialer.RegisterNode(ctx, db, wallClock{}, dialer.NodeConfig{ID: "n1"})
	require.NoError(t, err)

	// It dies holding a claim: the next life recovers it before taking the name.
	leads, err = campaigns.NewHopper("n1").Claim(ctx, db, &c, 1, time.Now())
	require.NoError(t, err)
	require.Len(t, leads, 1)
	_, err = db.Exec(ctx, `UPDATE nodes SET started_at = now() - interval '2 minutes', heartbeat_at = now() - interval '1 minute', expires_at = now() - interval '1 second'`)
	require.NoError(t, err)
	_, err = dialer.RegisterNode(ctx, db, wallClock{}, dialer.NodeConfig{ID: "n1"})
	require.NoError(t, err)
	require.Equal(t, 1, count(t, db, `SELECT attempts FROM leads WHERE id = $1`, leads[0].ID),
		"the dead life's claim counts an attempt: it may have been dialled")
	require.NoError(t, second.MarkStopped(ctx), "a stale incarnation marking itself stopped changes nothing")
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM nodes WHERE stopped_at IS NULL`))
}

// Claims are fenced by the campaign lease: a forged or stale epoch, a lease
// taken over or edited by hand, claims nothing; leases are judged by the
// database's clock, not the node's.
func TestLeaseFencesClaims(t *testing.T) {
	ctx := context.Background()
	db := testdb.NewPool(t)
	c := newCampaign(t, db, 20, nil)
	id := dialer.CampaignID(c.ID)
	addNode(t, db, "a", 0, time.Hour)
	addNode(t, db, "b", 0, time.Hour)
	// The node's own clock is an hour off: only the database's counts.
	skewed := time.Now().Add(time.Hour)

	la, err := dialer.AcquireLease(ctx, db, id, "a", 15*time.Second)
	require.NoError(t, err)
	_, err = dialer.AcquireLease(ctx, db, id, "b", 15*time.Second)
	require.ErrorIs(t, err, dialer.ErrLeaseHeld)

	claim := func(node string, epoch int64) int {
		h := campaigns.NewHopper(node)
		h.SetEpoch(epoch)
		got, err := h.Claim(ctx, db, &c, 1, skewed)
		require.NoError(t, err)
		for _, l := range got {
			require.NoError(t, campaigns.Release(ctx, db, l.ID))
		}
		return len(got)
	}
	require.Equal(t, 1, claim("a", la.Epoch), "the owner claims")
	require.Zero(t, claim("a", la.Epoch+1000), "a forged epoch claims nothing")
	require.Zero(t, claim("b", la.Epoch), "another node with the owner's epoch claims nothing")

	// The lease expires by the database's clock (the owner stopped renewing).
	_, err = db.Exec(ctx, `UPDATE campaign_leases SET acquired_at = now() - interval '1 minute', renewed_at = now() - interval '1 minute', expires_at = now() - interval '1 second'`)
	require.NoError(t, err)
	require.Zero(t, claim("a", la.Epoch), "an expired lease claims nothing")
	_, err = dialer.AcquireLease(ctx, db, id, "b", 15*time.Second)
	require.ErrorIs(t, err, dialer.ErrLeaseHeld, "a live owner's lapsed lease is still its own")
	la, err = dialer.RenewLease(ctx, db, la, 15*time.Second)
	require.NoError(t, err, "the owner renews after a lapse nobody used")
	require.Equal(t, 1, claim("a", la.Epoch))

	// The owner dies and is recovered: b takes over with a newer epoch and
	// the old owner, if it wakes up, can neither claim nor renew.
	_, err = db.Exec(ctx, `UPDATE nodes SET heartbeat_at = now() - interval '1 minute', expires_at = now() - interval '1 second' WHERE id = 'a'`)
	require.NoError(t, err)
	_, err = dialer.RecoverNode(ctx, db, wallClock{}, "a")
	require.NoError(t, err)
	lb, err := dialer.AcquireLease(ctx, db, id, "b", 15*time.Second)
	require.NoError(t, err)
	require.Greater(t, lb.Epoch, la.Epoch)
	require.Zero(t, claim("a", la.Epoch), "the stale owner claims nothing")
	_, err = dialer.RenewLease(ctx, db, la, 15*time.Second)
	require.ErrorIs(t, err, dialer.ErrLeaseLost)
	require.Equal(t, 1, claim("b", lb.Epoch))

	// A lease row edited by hand is not the owner's any more.
	_, err = db.Exec(ctx, `UPDATE campaign_leases SET epoch = 1`)
	require.NoError(t, err)
	require.Zero(t, claim("b", lb.Epoch))
	_, err = dialer.RenewLease(ctx, db, lb, 15*time.Second)
	require.ErrorIs(t, err, dialer.ErrLeaseLost)
	owner, _, err := dialer.OwnerNode(ctx, db, id)
	require.NoError(t, err)
	require.Equal(t, "b", owner)
}

// A node that wakes up after it was declared dead cannot settle a lead its
// recovery already settled and another node has claimed since.
func TestAStaleNodeCannotCompleteALeadClaimedAgain(t *testing.T) {
	ctx := context.Background()
	db := testdb.NewPool(t)
	c := newCampaign(t, db, 1, nil) // retries at once
	addNode(t, db, "a", -time.Minute, 15*time.Second)
	addNode(t, db, "b", 0, time.Hour)
	leads, err := campaigns.NewHopper("a").Claim(ctx, db, &c, 1, time.Now())
	require.NoError(t, err)
	require.Len(t, leads, 1)
	_, err = dialer.RecoverNode(ctx, db, wallClock{}, "a")
	require.NoError(t, err)
	again, err := campaigns.NewHopper("b").Claim(ctx, db, &c, 1, time.Now().Add(time.Second))
	require.NoError(t, err)
	require.Len(t, again, 1)
	require.Equal(t, leads[0].ID, again[0].ID)

	err = campaigns.Complete(ctx, db, &c, campaigns.Attempt{Lead: leads[0].ID, Outcome: campaigns.OutcomeNoAnswer,
		At: time.Now(), Node: "a"})
	require.ErrorIs(t, err, campaigns.ErrNotClaimed)
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM leads WHERE status = 'dialing' AND claimed_by = 'b' AND attempts = 1`),
		"b's claim stands, with only the recovery's attempt counted")
	require.NoError(t, campaigns.Complete(ctx, db, &c, campaigns.Attempt{Lead: leads[0].ID, Outcome: campaigns.OutcomeNoAnswer,
		At: time.Now(), Node: "b"}))
}

// A clean stop leaves nothing claimed: a lead whose attempt could not be
// written before the stop counts a failed attempt, so it is not dialled
// again before its retry delay.
func TestACleanStopCountsTheAttemptsItCouldNotWrite(t *testing.T) {
	ctx := context.Background()
	db := testdb.NewPool(t)
	c := newCampaign(t, db, 2, map[string]string{"retry_failed_s": "600"})
	n, err := dialer.RegisterNode(ctx, db, wallClock{}, dialer.NodeConfig{ID: "n1"})
	require.NoError(t, err)
	leads, err := campaigns.NewHopper("n1").Claim(ctx, db, &c, 1, time.Now())
	require.NoError(t, err)
	require.Len(t, leads, 1)
	before := time.Now()
	require.NoError(t, n.MarkStopped(ctx))
	var status string
	var attempts int
	var next time.Time
	require.NoError(t, db.QueryRow(ctx, `SELECT status, attempts, next_attempt_at FROM leads WHERE id = $1`, leads[0].ID).
		Scan(&status, &attempts, &next))
	require.Equal(t, "retry", status)
	require.Equal(t, 1, attempts)
	require.False(t, next.Before(before.Add(600*time.Second)))
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM nodes WHERE id = 'n1' AND stopped_at IS NOT NULL`))
}
