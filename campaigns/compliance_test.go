package campaigns_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/internal/testdb"
)

// The law's floors cannot be configured away on a campaign that calls real
// people; each refusal names the setting, the rule and the allowed range.
func TestLawFloorsRefuseUnlawfulSettings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	us := newCampaign(t, db, map[string]string{"status": "draft"})
	uk := newCampaign(t, db, map[string]string{"status": "draft", "rules": "uk"})
	for _, tc := range []struct {
		name     string
		c        campaigns.Campaign
		settings map[string]string
		want     string
	}{
		{"US abandon target", us, map[string]string{"abandon_target": "0.05"},
			"abandon_target 0.05 refused: US rules (TCPA) allow at most 0.03"},
		{"UK abandon target", uk, map[string]string{"abandon_target": "0.04"},
			"abandon_target 0.04 refused: UK rules (Ofcom) allow at most 0.03"},
		{"all-day window", us, map[string]string{"window_start": "00:00", "window_end": "24:00"},
			"calling window 00:00-24:00 refused: US rules (TCPA) allow calls only inside 08:00-21:00 local time"},
		{"late window end", us, map[string]string{"window_end": "21:30"},
			"calling window 08:00-21:30 refused: US rules (TCPA) allow calls only inside 08:00-21:00"},
		{"overnight state window", us, map[string]string{"state_windows": "FL=22:00-06:00"},
			"calling window for FL 22:00-06:00 refused: US rules (TCPA) allow calls only inside 08:00-21:00"},
		{"early state window", us, map[string]string{"state_windows": "TX=07:00-20:00"},
			"calling window for TX 07:00-20:00 refused"},
		{"ring timeout", us, map[string]string{"ring_timeout_s": "10"},
			"ring_timeout_s: 10 s refused: US rules (TCPA) need at least 15 s of ringing (allowed 15..600 s)"},
		{"connect deadline", us, map[string]string{"connect_deadline_ms": "2500"},
			"connect_deadline_ms: 2500 ms refused: US rules (TCPA) allow at most 2000 ms"},
		{"UK lock-out", uk, map[string]string{"abandon_lockout_s": "3600"},
			"abandon_lockout_s 3600 refused: UK rules (Ofcom) need at least 259200 s (72 h)"},
		{"withheld caller ID", us, map[string]string{"caller_id": "anonymous"},
			`caller_id: "anonymous" is not an E.164 number that can be called back (e.g. +12025550143)`},
		{"start without caller ID", us, map[string]string{"caller_id": "", "status": "active"},
			`caller_id "" refused: US rules (TCPA) need a caller ID that can be called back (E.164, e.g. +12025550143) before a predictive campaign may start`},
		{"start without message", us, map[string]string{"info_message": " ", "status": "active"},
			"empty info_message refused: US rules (TCPA) need the information message played on an abandoned call before a predictive campaign may start"},
		{"UK power start without caller ID", uk, map[string]string{"mode": "power", "caller_id": "", "status": "active"},
			`caller_id "" refused: UK rules (Ofcom) need a caller ID that can be called back`},
	} {
		_, err := campaigns.Update(ctx, db, tc.c.ID, tc.settings)
		require.ErrorContains(t, err, tc.want, tc.name)
	}
	// Tighter than the law is fine, and so is an all-day preview campaign's
	// missing caller ID.
	_, err := campaigns.Update(ctx, db, us.ID, map[string]string{"window_start": "09:00", "window_end": "20:00",
		"state_windows": "FL=08:00-20:00,WA=08:00-20:00", "abandon_target": "0.02"})
	require.NoError(t, err)
	_, err = campaigns.Update(ctx, db, us.ID, map[string]string{"mode": "preview", "caller_id": "", "status": "active"})
	require.NoError(t, err)

	// Starting checks the stored settings too.
	bare, err := campaigns.Create(ctx, db, "bare", map[string]string{"mode": "predictive"})
	require.NoError(t, err)
	_, err = campaigns.SetStatus(ctx, db, bare.ID, campaigns.StatusActive)
	require.ErrorContains(t, err, "before a predictive campaign may start")
	var floor *campaigns.FloorError
	require.ErrorAs(t, err, &floor)
	require.Equal(t, "caller_id", floor.Setting)
	got, err := campaigns.Get(ctx, db, bare.ID)
	require.NoError(t, err)
	require.Equal(t, campaigns.StatusDraft, got.Status, "a refused start changes nothing")
}

// A simulated campaign (the demo, on the simulated carrier) may keep its
// all-day window and dial without caller ID, but cannot stop being
// simulated, nor pass the real-carrier check, until the floors hold.
func TestSimulatedCampaignIsExemptOnlyWhileSimulated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	c, err := campaigns.Create(ctx, db, "sim", map[string]string{"simulated": "true", "window_start": "00:00",
		"window_end": "24:00", "abandon_target": "0.05", "mode": "predictive", "status": "active"})
	require.NoError(t, err)
	require.True(t, c.Simulated)
	require.ErrorContains(t, c.CheckRealCarrier(), `campaign "sim" is simulated: it may dial only the simulated carrier`)

	_, err = campaigns.Update(ctx, db, c.ID, map[string]string{"simulated": "false"})
	require.ErrorContains(t, err, "abandon_target 0.05 refused: US rules (TCPA) allow at most 0.03")
	_, err = campaigns.Update(ctx, db, c.ID, map[string]string{"simulated": "false", "abandon_target": "0.03"})
	require.ErrorContains(t, err, "calling window 00:00-24:00 refused")
	_, err = campaigns.Update(ctx, db, c.ID, map[string]string{"simulated": "false", "abandon_target": "0.03",
		"window_start": "08:00", "window_end": "21:00"})
	require.ErrorContains(t, err, "caller_id")
	real, err := campaigns.Update(ctx, db, c.ID, map[string]string{"simulated": "false", "abandon_target": "0.03",
		"window_start": "08:00", "window_end": "21:00", "caller_id": "+1 202 555 0143",
		"info_message": "This was Sim calling; dial +1 202 555 0143 to call back or opt out."})
	require.NoError(t, err)
	require.False(t, real.Simulated)
	require.Equal(t, "+12025550143", real.CallerID)
	require.NoError(t, real.CheckRealCarrier())
}

// The database holds the same floors: a raw statement that breaks one is
// refused by a CHECK, whatever code path sends it.
func TestDatabaseRefusesUnlawfulCampaigns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	c := newCampaign(t, db, map[string]string{"status": "draft"})
	for _, tc := range []struct{ sql, constraint string }{
		{`UPDATE campaigns SET abandon_target = 0.05 WHERE id = $1`, "campaigns_abandon_floor"},
		{`UPDATE campaigns SET window_start = '00:00', window_end = '24:00' WHERE id = $1`, "campaigns_us_window_floor"},
		{`UPDATE campaigns SET window_end = '21:01' WHERE id = $1`, "campaigns_us_window_floor"},
		{`UPDATE campaigns SET state_windows = '{"FL":"22:00-06:00"}' WHERE id = $1`, "campaigns_us_state_window_floor"},
		{`UPDATE campaigns SET state_windows = '{"WA":"08:00-21:30"}' WHERE id = $1`, "campaigns_us_state_window_floor"},
		{`UPDATE campaigns SET ring_timeout_s = 14 WHERE id = $1`, "campaigns_ring_timeout_s_check"},
		{`UPDATE campaigns SET connect_deadline_ms = 2001 WHERE id = $1`, "campaigns_connect_deadline_ms_check"},
		{`UPDATE campaigns SET rule_set = 'uk', abandon_lockout_s = 3600 WHERE id = $1`, "campaigns_check1"},
		{`UPDATE campaigns SET status = 'active', caller_id = '' WHERE id = $1`, "campaigns_start_floor"},
		{`UPDATE campaigns SET status = 'active', caller_id = '2025550143' WHERE id = $1`, "campaigns_start_floor"},
		{`UPDATE campaigns SET status = 'active', dial_mode = 'power', info_message = '' WHERE id = $1`, "campaigns_start_floor"},
		{`INSERT INTO campaigns (name, window_end) SELECT 'late', '22:00' WHERE $1::bigint > 0`, "campaigns_us_window_floor"},
		{`INSERT INTO campaigns (name, status) SELECT 'silent', 'active' WHERE $1::bigint > 0`, "campaigns_start_floor"},
	} {
		_, err := db.Exec(ctx, tc.sql, c.ID)
		var pgErr *pgconn.PgError
		require.True(t, errors.As(err, &pgErr), "%s: %v", tc.sql, err)
		require.Equal(t, "23514", pgErr.Code, tc.sql)
		require.Equal(t, tc.constraint, pgErr.ConstraintName, tc.sql)
	}
	// Simulated lifts the floors the simulated carrier makes moot, not the
	// ones every campaign keeps.
	_, err := db.Exec(ctx, `UPDATE campaigns SET simulated = true, abandon_target = 0.05, window_start = '00:00',
		window_end = '24:00', status = 'active', caller_id = '' WHERE id = $1`, c.ID)
	require.NoError(t, err)
	_, err = db.Exec(ctx, `UPDATE campaigns SET ring_timeout_s = 14 WHERE id = $1`, c.ID)
	require.Error(t, err)
	_, err = db.Exec(ctx, `UPDATE campaigns SET simulated = false WHERE id = $1`, c.ID)
	require.Error(t, err)
}
