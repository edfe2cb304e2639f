package migrations_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/migrations"
)

// migrateBelow brings an empty database to the version before version,
// ledger included, as an older release left it.
func migrateBelow(t *testing.T, db *pgxpool.Pool, version int) {
	ctx := context.Background()
	migrator, err := rivermigrate.New(riverpgxv5.New(db), nil)
	require.NoError(t, err)
	_, err = migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
	require.NoError(t, err)
	_, err = db.Exec(ctx, `CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`)
	require.NoError(t, err)
	all, err := migrations.All()
	require.NoError(t, err)
	for _, m := range all {
		if m.Version < version {
			_, err = db.Exec(ctx, m.SQL)
			require.NoError(t, err, m.Name)
			_, err = db.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name)
			require.NoError(t, err)
		}
	}
}

// Migration 6 turns leads into a partitioned table under a database that
// already has leads, calls and callbacks: they survive, keep their ids, and
// the foreign keys follow the new table.
func TestLeadPartitioningKeepsExistingLeads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := pgxpool.New(ctx, testdb.Empty(t))
	require.NoError(t, err)
	t.Cleanup(db.Close)

	migrateBelow(t, db, 6)

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

// Migration 16 moves the leads of small lists, each of which had a partition
// of its own, into the shared partition: the partitions go, the leads keep
// every field, and the calls, actions and callbacks that named them follow
// their new ids. A large list keeps its partition and its ids.
func TestSmallListPartitionsMoveIntoTheSharedOne(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := pgxpool.New(ctx, testdb.Empty(t))
	require.NoError(t, err)
	t.Cleanup(db.Close)
	migrateBelow(t, db, 16)

	var campaign int64
	require.NoError(t, db.QueryRow(ctx, `INSERT INTO campaigns (name) VALUES ('before') RETURNING id`).Scan(&campaign))
	_, err = db.Exec(ctx, `INSERT INTO tz_groups (zones) VALUES ('{America/New_York}')`)
	require.NoError(t, err)
	// Lists as an import before migration 16 left them: a partition each.
	addList := func(n int) int64 {
		var list int64
		require.NoError(t, db.QueryRow(ctx, `INSERT INTO lead_lists (campaign_id, name, format, status, finished_at)
			VALUES ($1, 'old', 'csv', 'ready', now()) RETURNING id`, campaign).Scan(&list))
		lo, hi := list<<28, (list+1)<<28
		_, err := db.Exec(ctx, fmt.Sprintf(`CREATE TABLE leads_list_%[1]d_0 (LIKE leads INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
	CHECK (id >= %[2]d AND id < %[3]d));
INSERT INTO leads_list_%[1]d_0 (id, campaign_id, list_id, line, phone, first_name, tz_group, attempts, status)
SELECT %[2]d + i, %[4]d, %[1]d, i + 2, '+1212' || lpad((%[1]d * 100000 + i)::text, 7, '0'), 'Ann ' || i,
	(SELECT min(id) FROM tz_groups), i %% 3, CASE WHEN i %% 2 = 0 THEN 'new' ELSE 'retry' END
FROM generate_series(0, %[5]d - 1) i;
ALTER TABLE leads ATTACH PARTITION leads_list_%[1]d_0 FOR VALUES FROM (%[2]d) TO (%[3]d)`, list, lo, hi, campaign, n))
		require.NoError(t, err)
		return list
	}
	small, large := addList(10), addList(60_000)
	var lead int64
	require.NoError(t, db.QueryRow(ctx, `SELECT id FROM leads WHERE list_id = $1 AND line = 5`, small).Scan(&lead))
	_, err = db.Exec(ctx, `INSERT INTO calls (run_id, seq, campaign_id, lead_id, phone, node, state, outcome, queued_at, dialed_at, ended_at)
		SELECT gen_random_uuid(), 1, campaign_id, id, phone, 'n', 'ended', 'no_answer', now(), now(), now() FROM leads WHERE id = $1`, lead)
	require.NoError(t, err)
	_, err = db.Exec(ctx, `INSERT INTO callbacks (campaign_id, lead_id, scope, due_at, requested_at, created_at, updated_at)
		SELECT campaign_id, id, 'anyone', now() + interval '1 day', now() + interval '1 day', now(), now() FROM leads WHERE id = $1`, lead)
	require.NoError(t, err)

	_, err = migrations.Migrate(ctx, db, nil)
	require.NoError(t, err)

	var parts []string
	rows, err := db.Query(ctx, `SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'leads'::regclass ORDER BY 1`)
	require.NoError(t, err)
	for rows.Next() {
		var p string
		require.NoError(t, rows.Scan(&p))
		parts = append(parts, p)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{fmt.Sprintf("leads_list_%d_0", large), "leads_shared", "leads_single"}, parts)

	var n, shared, attempts int
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE id >= 1::bigint << 52), sum(attempts)
		FROM leads WHERE list_id = $1`, small).Scan(&n, &shared, &attempts))
	require.Equal(t, 10, n)
	require.Equal(t, 10, shared)
	require.Equal(t, 9, attempts, "every field came along")
	var callLead, callbackLead int64
	var line int
	var name string
	require.NoError(t, db.QueryRow(ctx, `SELECT c.lead_id, l.line, l.first_name FROM calls c JOIN leads l ON l.id = c.lead_id`).Scan(&callLead, &line, &name))
	require.Equal(t, 5, line, "the call names the same lead under its new id")
	require.Equal(t, "Ann 3", name)
	require.NoError(t, db.QueryRow(ctx, `SELECT lead_id FROM callbacks`).Scan(&callbackLead))
	require.Equal(t, callLead, callbackLead)
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM leads WHERE list_id = $1 AND id >> 28 = $1`, large).Scan(&n))
	require.Equal(t, 60_000, n, "a large list keeps its partition and ids")

	// Deleting either list takes its leads.
	_, err = db.Exec(ctx, `DELETE FROM lead_lists WHERE id = ANY($1)`, []int64{small, large})
	require.NoError(t, err)
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM leads`).Scan(&n))
	require.Zero(t, n)
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM callbacks`).Scan(&n))
	require.Zero(t, n)
}
