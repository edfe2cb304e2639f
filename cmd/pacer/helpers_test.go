package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/campaigns"
)

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// activeCampaign creates a campaign whose window is open all day (tests run
// at any hour), loads the CSV into it and starts it.
func activeCampaign(t testing.TB, db *pgxpool.Pool, name, mode, csv string) campaigns.Campaign {
	t.Helper()
	ctx := context.Background()
	c, err := campaigns.Create(ctx, db, name, map[string]string{"mode": mode, "window_start": "00:00", "window_end": "24:00",
		"simulated": "true"})
	require.NoError(t, err)
	_, err = campaigns.Import(ctx, db, strings.NewReader(csv),
		campaigns.ImportOptions{Campaign: c.ID, Name: name + ".csv", Format: campaigns.FormatCSV})
	require.NoError(t, err)
	c, err = campaigns.SetStatus(ctx, db, c.ID, campaigns.StatusActive)
	require.NoError(t, err)
	return c
}
