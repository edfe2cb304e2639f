package migrations_test

import (
	"context"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/migrations"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func pool(t *testing.T, url string) *pgxpool.Pool {
	p, err := pgxpool.New(context.Background(), url)
	require.NoError(t, err)
	t.Cleanup(p.Close)
	return p
}

func TestMigrateAppliesEverythingOnceThenNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pool(t, testdb.Empty(t))
	all, err := migrations.All()
	require.NoError(t, err)
	require.NotEmpty(t, all)

	require.ErrorIs(t, migrations.Check(ctx, db), migrations.ErrPending)

	first, err := migrations.Migrate(ctx, db, nil)
	require.NoError(t, err)
	require.Len(t, first.Pacer, len(all))
	require.NotEmpty(t, first.River, "River's tables are migrated in the same step")
	require.Equal(t, all[len(all)-1].Version, first.Latest)
	require.NoError(t, migrations.Check(ctx, db))

	second, err := migrations.Migrate(ctx, db, nil)
	require.NoError(t, err)
	require.Empty(t, second.Pacer)
	require.Empty(t, second.River)
	require.Equal(t, first.Latest, second.Latest)

	var ledger int
	require.NoError(t, db.QueryRow(ctx, "SELECT count(*) FROM schema_migrations").Scan(&ledger))
	require.Equal(t, len(all), ledger)
}

// Several nodes starting at once each run the migrator on their own sessions;
// the advisory lock makes them take turns, so every version lands exactly once
// and nobody fails on a half-created table.
func TestConcurrentMigratorsDoNotCollide(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testdb.Empty(t)
	const n = 4
	var wg sync.WaitGroup
	results := make([]migrations.Result, n)
	errs := make([]error, n)
	for i := range n {
		p := pool(t, url)
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = migrations.Migrate(ctx, p, nil)
		}()
	}
	wg.Wait()
	applied := 0
	for i := range n {
		require.NoError(t, errs[i])
		applied += len(results[i].Pacer)
	}
	all, _ := migrations.All()
	require.Equal(t, len(all), applied, "each migration applied by exactly one migrator")
	require.NoError(t, migrations.Check(ctx, pool(t, url)))
}

func TestTemplateDatabasesAreCurrent(t *testing.T) {
	t.Parallel()
	require.NoError(t, migrations.Check(context.Background(), testdb.NewPool(t)))
}
