package main

import (
	"bytes"
	"context"
	"log/slog"
	"os/exec"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/web"
)

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// assignAgents assigns the named agents to the campaign, as a manager
// would before they can join it.
func assignAgents(t testing.TB, db *pgxpool.Pool, campaign campaigns.ID, usernames ...string) {
	t.Helper()
	ctx := context.Background()
	var ids []int64
	for _, n := range usernames {
		u, err := web.GetUserByName(ctx, db, n)
		require.NoError(t, err, n)
		ids = append(ids, u.ID)
	}
	_, err := campaigns.AssignAgents(ctx, db, campaign, ids)
	require.NoError(t, err)
}

// activeCampaign creates a campaign whose window is open all day (tests run
// at any hour), loads the CSV into it and starts it. Every agent user there
// already is gets assigned to it.
func activeCampaign(t testing.TB, db *pgxpool.Pool, name, mode, csv string) campaigns.Campaign {
	t.Helper()
	return activeCampaignWith(t, db, name, mode, csv, nil)
}

// activeCampaignWith is activeCampaign with settings of its own, in force
// before it starts.
func activeCampaignWith(t testing.TB, db *pgxpool.Pool, name, mode, csv string, settings map[string]string) campaigns.Campaign {
	t.Helper()
	ctx := context.Background()
	s := map[string]string{"mode": mode, "window_start": "00:00", "window_end": "24:00", "simulated": "true"}
	for k, v := range settings {
		s[k] = v
	}
	c, err := campaigns.Create(ctx, db, name, s)
	require.NoError(t, err)
	_, err = campaigns.Import(ctx, db, strings.NewReader(csv),
		campaigns.ImportOptions{Campaign: c.ID, Name: name + ".csv", Format: campaigns.FormatCSV})
	require.NoError(t, err)
	c, err = campaigns.SetStatus(ctx, db, c.ID, campaigns.StatusActive)
	require.NoError(t, err)
	users, err := web.ListUsers(ctx, db)
	require.NoError(t, err)
	for _, u := range users {
		if u.Role == web.RoleAgent {
			assignAgents(t, db, c.ID, u.Username)
		}
	}
	return c
}

// runPacer runs the pacer binary against dbURL with input on stdin and
// returns its output and exit code.
func runPacer(t *testing.T, dbURL, input string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(pacerBin, args...)
	cmd.Env = cleanEnv("DATABASE_URL=" + dbURL)
	cmd.Stdin = strings.NewReader(input)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if exit, ok := err.(*exec.ExitError); ok {
		return out.String(), errOut.String(), exit.ExitCode()
	}
	require.NoError(t, err)
	return out.String(), errOut.String(), 0
}
