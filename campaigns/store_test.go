package campaigns_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// newCampaign creates an active campaign with the given settings.
func newCampaign(t *testing.T, db *pgxpool.Pool, settings map[string]string) campaigns.Campaign {
	t.Helper()
	if settings == nil {
		settings = map[string]string{}
	}
	for k, v := range map[string]string{"status": "active", "caller_id": "+12025550143",
		"info_message": "This was Pacer Test calling; dial +1 202 555 0143 to call back or opt out."} {
		if _, ok := settings[k]; !ok {
			settings[k] = v
		}
	}
	c, err := campaigns.Create(context.Background(), db, fmt.Sprintf("c-%s-%d", t.Name(), time.Now().UnixNano()), settings)
	require.NoError(t, err)
	return c
}

// importCSV loads a CSV given as lines into the campaign.
func importCSV(t *testing.T, db *pgxpool.Pool, c campaigns.Campaign, lines ...string) campaigns.ImportResult {
	t.Helper()
	res, err := campaigns.Import(context.Background(), db, strings.NewReader(strings.Join(lines, "\n")+"\n"),
		campaigns.ImportOptions{Campaign: c.ID, Name: "test.csv"})
	require.NoError(t, err)
	return res
}

func TestCreateCampaignDefaultsAndDispositions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	c, err := campaigns.Create(ctx, db, "Spring renewals", map[string]string{"mode": "power", "ratio": "1.5"})
	require.NoError(t, err)
	require.Equal(t, campaigns.ModePower, c.Mode)
	require.Equal(t, 1.5, c.PowerRatio)
	require.Equal(t, 0.03, c.AbandonTarget)
	require.Equal(t, 25, c.RingTimeoutS)
	require.Equal(t, 2000, c.ConnectDeadlineMS)
	require.Equal(t, "08:00", c.WindowStart)
	require.Equal(t, "21:00", c.WindowEnd)
	require.Equal(t, campaigns.StatusDraft, c.Status)
	require.Equal(t, campaigns.RulesUS, c.Rules)

	ds, err := campaigns.Dispositions(ctx, db, c.ID)
	require.NoError(t, err)
	var codes []string
	for _, d := range ds {
		codes = append(codes, d.Code)
	}
	require.Equal(t, []string{"SALE", "NI", "CALLBK", "DNC", "WN", "AM", "NA", "B", "AA", "DROP", "FAIL", "AUTO"}, codes)

	_, err = campaigns.Create(ctx, db, "Spring renewals", nil)
	require.ErrorContains(t, err, "already exists")
}

func TestCampaignSettingsAreChecked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	c := newCampaign(t, db, nil)
	for _, tc := range []struct {
		key, value, want string
	}{
		{"ring_timeout_s", "10", "ring_timeout_s: 10 s refused: US rules (TCPA) need at least 15 s of ringing (allowed 15..600 s)"},
		{"connect_deadline_ms", "2500", "2500 ms refused: US rules (TCPA) allow at most 2000 ms (2 s) before a live answer counts as abandoned (allowed 100..2000 ms)"},
		{"abandon_target", "0.08", "outside the allowed range"},
		{"mode", "robocall", `"robocall" is not one of predictive, power, preview, manual`},
		{"window_start", "25:00", "past midnight"},
		{"state_windows", "ZZ=08:00-20:00", "unknown state"},
		{"favourite_colour", "blue", `unknown campaign setting "favourite_colour"`},
		{"abandon_lockout_s", "3600", ""}, // fine under US rules
	} {
		_, err := campaigns.Update(ctx, db, c.ID, map[string]string{tc.key: tc.value})
		if tc.want == "" {
			require.NoError(t, err, tc.key)
		} else {
			require.ErrorContains(t, err, tc.want, tc.key)
		}
	}
	_, err := campaigns.Update(ctx, db, c.ID, map[string]string{"window_start": "21:00", "window_end": "08:00"})
	require.ErrorContains(t, err, "calling window 21:00-08:00 refused: US rules (TCPA) allow calls only inside 08:00-21:00")

	uk, err := campaigns.Update(ctx, db, c.ID, map[string]string{"rules": "uk"})
	require.NoError(t, err)
	require.Equal(t, 72*3600, uk.AbandonLockoutS, "UK rules bring the 72 h lock-out")
	require.Equal(t, 24*time.Hour, uk.AbandonWindow())
	_, err = campaigns.Update(ctx, db, c.ID, map[string]string{"abandon_lockout_s": "3600"})
	require.ErrorContains(t, err, "72 h")

	st, err := campaigns.Update(ctx, db, c.ID, map[string]string{"state_windows": `{"florida":"08:00-20:00"}`, "rate_per_minute": "0.0125"})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"FL": "08:00-20:00"}, st.StateWindows)
	require.Equal(t, "0.0125", st.RatePerMinute.String())
}
