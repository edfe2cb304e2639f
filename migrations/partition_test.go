package migrations_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/migrations"
)

// Migration 6 turns leads into a partitioned table under a database that
// already has leads, calls and callbacks: they survive, keep their ids, and
// the foreign keys follow the new table.
func TestLeadPartitioningKeepsExistingLeads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := pgxpool.New(ctx, testdb.Empty(t))
	require.NoError(t, err)
	t.Cleanup(db.Close)

	migrator, err := rivermigrate.New(riverpgxv5.New(db), nil)
	require.NoError(t, err)
	_, err = migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
	require.NoError(t, err)
	// The database as version 5 left it, ledger included.
	_, err = db.Exec(ctx, `CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`)
	require.NoError(t, err)
	all, err := migrations.All()
	require.NoError(t, err)
	for _, m := range all {
		if m.Version < 6 {
			_, err = db.Exec(ctx, m.SQL)
			require.NoError(t, err, m.Name)
			_, err = db.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name)
			require.NoError(t, err)
		}
	}

	var campaign, list, lead int64
	require.NoError(t, db.QueryRow(ctx, `INSERT INTO campaigns (name) VALUES ('before') RETURNING id`).Scan(&campaign))
	require.NoError(t, db.QueryRow(ctx, `INSERT INTO lead_lists (campaign_id, name, format, status, finished_at)
		VALUES ($1, 'old', 'csv', 'ready', now()) RETURNING id`, campaign).Scan(&list))
	_, err = db.Exec(ctx, `INSERT INTO tz_groups (zones) VALUES ('{America/New_York}')`)
	require.NoError(t, err)
	require.NoError(t, db.QueryRow(ctx, `INSERT INTO leads (campaign_id, list_id, phone, tz_group)
		SELECT $1, $2, '+1212436' || lpad(i::text, 4, '0'), (SELECT min(id) FROM tz_groups) FROM generate_series(1, 10) i
		RETURNING id`, campaign, list).Scan(&lead))
	_, err = db.Exec(ctx, `INSERT INTO calls (run_id, seq, campaign_id, lead_id, phone, node, state, outcome, queued_at, dialed_at, ended_at)
		SELECT gen_random_uuid(), 1, campaign_id, id, phone, 'n', 'ended', 'no_answer', now(), now(), now() FROM leads`)
	require.NoError(t, err)
	_, err = db.Exec(ctx, `INSERT INTO callbacks (campaign_id, lead_id, scope, due_at, requested_at, created_at, updated_at)
		SELECT campaign_id, id, 'anyone', now() + interval '1 day', now() + interval '1 day', now(), now() FROM leads`)
	require.NoError(t, err)

	res, err := migrations.Migrate(ctx, db, nil)
	require.NoError(t, err)
	require.Equal(t, []int{6}, res.Pacer[:1])

	var kind string
	require.NoError(t, db.QueryRow(ctx, `SELECT relkind::text FROM pg_class WHERE relname = 'leads'`).Scan(&kind))
	require.Equal(t, "p", kind, "leads is partitioned")
	var n int
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM leads WHERE campaign_id = $1`, campaign).Scan(&n))
	require.Equal(t, 10, n)

	// New single leads continue the old ids; bad numbers are still refused.
	var next int64
	require.NoError(t, db.QueryRow(ctx, `INSERT INTO leads (campaign_id, list_id, phone, tz_group)
		VALUES ($1, $2, '+12124369999', (SELECT min(id) FROM tz_groups)) RETURNING id`, campaign, list).Scan(&next))
	require.Greater(t, next, lead)
	for _, bad := range []string{"2124369998", "+0212436999", "+1212a369998", "+1", "++12124369998", "+12124369998 "} {
		_, err = db.Exec(ctx, `INSERT INTO leads (campaign_id, list_id, phone, tz_group)
			VALUES ($1, $2, $3, (SELECT min(id) FROM tz_groups))`, campaign, list, bad)
		require.ErrorContains(t, err, "leads_phone_check", bad)
	}

	// The foreign keys now point at the partitioned table.
	_, err = db.Exec(ctx, `DELETE FROM leads WHERE id = $1`, lead)
	require.NoError(t, err)
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM callbacks WHERE lead_id = $1`, lead).Scan(&n))
	require.Zero(t, n, "callbacks go with their lead")
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM calls WHERE lead_id IS NULL`).Scan(&n))
	require.Equal(t, 1, n, "calls keep their history without the lead")
	var refs int
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND confrelid = 'leads'::regclass`).Scan(&refs))
	require.Equal(t, 3, refs)

	// Deleting the list takes the rest with it.
	_, err = db.Exec(ctx, `DELETE FROM lead_lists WHERE id = $1`, list)
	require.NoError(t, err)
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM leads`).Scan(&n))
	require.Zero(t, n)
}
