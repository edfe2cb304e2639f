package campaigns_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/jobs"
)

type inboundClock struct{}

func (inboundClock) Now() time.Time { return time.Now() }

// disposeInbound saves an inbound call's disposition of lead as agent 7 of
// campaign c, in its own transaction.
func disposeInbound(t *testing.T, db *pgxpool.Pool, cbs campaigns.CallbackJobs, c *campaigns.Campaign, lead campaigns.LeadID,
	in campaigns.DispositionInput, at time.Time) (campaigns.InboundLeadResult, error) {
	t.Helper()
	var res campaigns.InboundLeadResult
	err := pgx.BeginFunc(context.Background(), db, func(tx pgx.Tx) error {
		var err error
		res, err = campaigns.DisposeInboundLead(context.Background(), tx, cbs, campaigns.InboundLeadDisposition{
			Campaign: c, Lead: lead, Agent: 7, Input: in, At: at})
		return err
	})
	return res, err
}

type inboundLead struct {
	status, last string
	attempts     int
	dnc          bool
	next         time.Time
}

func readInboundLead(t *testing.T, db *pgxpool.Pool, id campaigns.LeadID) inboundLead {
	t.Helper()
	var l inboundLead
	require.NoError(t, db.QueryRow(context.Background(), `SELECT status, last_disposition, attempts, dnc, next_attempt_at
		FROM leads WHERE id = $1`, id).Scan(&l.status, &l.last, &l.attempts, &l.dnc, &l.next))
	return l
}

// The lead's side of an inbound disposition, case by case: a code that does
// not finish the lead keeps it from being dialled before the campaign's
// retry delay without counting an attempt; a finished lead stays finished; a
// lead of another campaign is settled there, under that campaign's own
// definition of the code (DNC onto that campaign's list), and left alone
// when that campaign has no such code; a callback the lead had waiting is
// completed, the customer having called in; a lead claimed for an outbound
// attempt keeps its claim and refuses a callback.
func TestInboundDispositionOfTheCallersLead(t *testing.T) {
	db, err := pgxpool.New(context.Background(), testdb.New(t))
	require.NoError(t, err)
	t.Cleanup(db.Close)
	ctx := context.Background()
	runner, err := jobs.New(db, jobs.Config{}, inboundClock{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	window := map[string]string{"window_start": "00:00", "window_end": "24:00", "simulated": "true", "retry_no_answer_s": "7200"}
	agentCamp := newCampaign(t, db, window)
	importCSV(t, db, agentCamp, "phone,first_name,state", "2125550101,Ada,NY", "2125550102,Alan,NY", "2125550103,Grace,NY",
		"2125550104,Edsger,NY")
	otherCamp := newCampaign(t, db, window)
	importCSV(t, db, otherCamp, "phone,first_name,state", "2125550201,Augusta,NY", "2125550202,Barbara,NY")
	lead := func(c campaigns.Campaign, phone string) campaigns.LeadID {
		t.Helper()
		id, err := campaigns.LeadByPhone(ctx, db, c.ID, phone)
		require.NoError(t, err)
		return id
	}
	now := time.Now()

	t.Run("a code that does not finish the lead waits the retry delay, no attempt", func(t *testing.T) {
		id := lead(agentCamp, "+12125550101")
		_, err := disposeInbound(t, db, runner, &agentCamp, id, campaigns.DispositionInput{Code: "AM"}, now)
		require.NoError(t, err)
		got := readInboundLead(t, db, id)
		require.Equal(t, "retry", got.status)
		require.Equal(t, "AM", got.last)
		require.Zero(t, got.attempts)
		require.False(t, got.next.Before(now.Add(2*time.Hour).Truncate(time.Microsecond)), "not before the retry delay: %s", got.next)
	})

	t.Run("a finished lead stays finished", func(t *testing.T) {
		id := lead(agentCamp, "+12125550102")
		_, err := disposeInbound(t, db, runner, &agentCamp, id, campaigns.DispositionInput{Code: "SALE"}, now)
		require.NoError(t, err)
		_, err = disposeInbound(t, db, runner, &agentCamp, id, campaigns.DispositionInput{Code: "AM"}, now.Add(time.Minute))
		require.NoError(t, err)
		got := readInboundLead(t, db, id)
		require.Equal(t, "done", got.status)
		require.Equal(t, "AM", got.last)
		require.Zero(t, got.attempts)
	})

	t.Run("a lead of another campaign is settled there", func(t *testing.T) {
		id := lead(otherCamp, "+12125550201")
		res, err := disposeInbound(t, db, runner, &agentCamp, id, campaigns.DispositionInput{Code: "DNC"}, now)
		require.NoError(t, err)
		require.False(t, res.Unknown)
		got := readInboundLead(t, db, id)
		require.Equal(t, "done", got.status)
		require.True(t, got.dnc)
		var list campaigns.ID
		require.NoError(t, db.QueryRow(ctx, `SELECT campaign_id FROM dnc WHERE phone = '+12125550201'`).Scan(&list))
		require.Equal(t, otherCamp.ID, list, "on the list of the campaign that would call the lead")

		// A code the lead's campaign does not have leaves its lead alone.
		_, err = campaigns.EditDisposition(ctx, db, agentCamp.ID, "INFO", campaigns.DispositionPatch{Label: ptrTo("Asked for information"),
			Final: ptrTo(true)}, campaigns.Editor{Name: "test"})
		require.NoError(t, err)
		id = lead(otherCamp, "+12125550202")
		res, err = disposeInbound(t, db, runner, &agentCamp, id, campaigns.DispositionInput{Code: "INFO"}, now)
		require.NoError(t, err)
		require.True(t, res.Unknown)
		got = readInboundLead(t, db, id)
		require.Equal(t, "new", got.status)
		require.Empty(t, got.last)
	})

	t.Run("a callback waiting for the lead is completed: the customer called in", func(t *testing.T) {
		id := lead(agentCamp, "+12125550103")
		cb, err := campaigns.ScheduleCallback(ctx, db, runner, campaigns.NewCallback{Campaign: &agentCamp, Lead: id, Agent: 7,
			Scope: campaigns.ScopeMe, At: now.Add(24 * time.Hour), Now: now})
		require.NoError(t, err)
		require.Equal(t, "callback", readInboundLead(t, db, id).status)
		_, err = disposeInbound(t, db, runner, &agentCamp, id, campaigns.DispositionInput{Code: "NI"}, now)
		require.NoError(t, err)
		got, err := campaigns.GetCallback(ctx, db, cb.ID)
		require.NoError(t, err)
		require.Equal(t, campaigns.CallbackCompleted, got.Status)
		require.Equal(t, "done", readInboundLead(t, db, id).status)
	})

	t.Run("a claimed lead keeps its claim; the caller's code applies when it ends", func(t *testing.T) {
		id := lead(agentCamp, "+12125550104")
		_, err := campaigns.ClaimLead(ctx, db, &agentCamp, id, now, "node-a")
		require.NoError(t, err)
		_, err = disposeInbound(t, db, runner, &agentCamp, id, campaigns.DispositionInput{Code: "CALLBK",
			Callback: &campaigns.CallbackInput{At: now.Add(time.Hour), Scope: campaigns.ScopeAnyone}}, now)
		require.ErrorIs(t, err, campaigns.ErrLeadClaimed)
		require.True(t, campaigns.IsDispositionInputError(err))
		res, err := disposeInbound(t, db, runner, &agentCamp, id, campaigns.DispositionInput{Code: "NI"}, now)
		require.NoError(t, err)
		require.True(t, res.Claimed)
		got := readInboundLead(t, db, id)
		require.Equal(t, "dialing", got.status, "the claim is the attempt's")
		require.Empty(t, got.last)
		// The attempt rang busy (the customer was on the line with us): it
		// counts, and the caller's "not interested" finishes the lead.
		require.NoError(t, campaigns.Complete(ctx, db, &agentCamp, campaigns.Attempt{Lead: id, Outcome: campaigns.OutcomeBusy,
			At: now, Node: "node-a"}), "the claim is intact")
		got = readInboundLead(t, db, id)
		require.Equal(t, inboundLead{status: "done", last: "NI", attempts: 1, next: got.next}, got)

		// A claim that ends without an attempt (a preview skipped, a lead
		// released) applies the caller's code too; a code that does not
		// finish the lead keeps it until its retry time.
		id = lead(otherCamp, "+12125550202")
		_, err = campaigns.ClaimLead(ctx, db, &otherCamp, id, now, "node-a")
		require.NoError(t, err)
		_, err = disposeInbound(t, db, runner, &agentCamp, id, campaigns.DispositionInput{Code: "AM"}, now)
		require.NoError(t, err)
		require.NoError(t, campaigns.Release(ctx, db, id))
		got = readInboundLead(t, db, id)
		require.Equal(t, "new", got.status)
		require.Equal(t, "AM", got.last)
		require.Zero(t, got.attempts)
		require.False(t, got.next.Before(now.Add(2*time.Hour).Truncate(time.Microsecond)), "not before the retry delay: %s", got.next)
	})
}

func ptrTo[T any](v T) *T { return &v }
