package campaigns_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/internal/benchout"
	"github.com/pacer-dialer/pacer/internal/leadgen"
	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/migrations"
	"github.com/pacer-dialer/pacer/migrations/pgcluster"
)

// BenchmarkImport1M imports a 1,000,000-row CSV (1% duplicates, 0.5% invalid)
// and, on the same server in the same run, COPYs the same file into a bare
// table: the ratio is what normalisation, dedupe, DNC and the indexes cost.
// The server is the private test cluster (wal_level minimal, fsync off).
func BenchmarkImport1M(b *testing.B) {
	importBench(b, testdb.NewPool(b), "import_1m", "private cluster, wal_level=minimal, fsync off")
}

// BenchmarkImport1MStockServer is BenchmarkImport1M on a server with
// PostgreSQL's own WAL and durability settings (wal_level replica, fsync
// on), as most production servers run: every row and index page of the
// import then also goes through the WAL.
func BenchmarkImport1MStockServer(b *testing.B) {
	ctx := context.Background()
	cl, err := pgcluster.Open(ctx, pgcluster.Config{StockWAL: true, Database: "postgres",
		Dir: filepath.Join(os.TempDir(), fmt.Sprintf("pacer-bench-stock-pg-%d", os.Getuid()))})
	require.NoError(b, err)
	b.Cleanup(func() { _ = cl.Stop() })
	admin, err := pgx.Connect(ctx, cl.URL())
	require.NoError(b, err)
	b.Cleanup(func() { admin.Close(context.Background()) })
	var wal, fsync string
	require.NoError(b, admin.QueryRow(ctx, `SELECT current_setting('wal_level'), current_setting('fsync')`).Scan(&wal, &fsync))
	require.Equal(b, "replica", wal)
	require.Equal(b, "on", fsync)
	_, err = admin.Exec(ctx, `DROP DATABASE IF EXISTS pacer_bench_stock WITH (FORCE)`)
	require.NoError(b, err)
	_, err = admin.Exec(ctx, `CREATE DATABASE pacer_bench_stock`)
	require.NoError(b, err)
	b.Cleanup(func() {
		_, _ = admin.Exec(context.Background(), `DROP DATABASE IF EXISTS pacer_bench_stock WITH (FORCE)`)
	})
	cfg, err := pgxpool.ParseConfig(cl.URL())
	require.NoError(b, err)
	cfg.ConnConfig.Database = "pacer_bench_stock"
	db, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(b, err)
	b.Cleanup(db.Close)
	_, err = migrations.Migrate(ctx, db, nil)
	require.NoError(b, err)
	importBench(b, db, "import_1m_stock", "stock server, wal_level=replica, fsync on")
}

func importBench(b *testing.B, db *pgxpool.Pool, name, server string) {
	const rows = 1_000_000
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "leads-1m.csv")
	f, err := os.Create(path)
	require.NoError(b, err)
	require.NoError(b, leadgen.Write(f, leadgen.Options{Rows: rows, Seed: 1, DuplicateEvery: 100, InvalidEvery: 200}))
	require.NoError(b, f.Close())
	fi, _ := os.Stat(path)

	_, err = campaigns.AddDNC(ctx, db, campaigns.Global, []string{"+12122000000", "+13122000000"}, campaigns.DNCChange{How: campaigns.DNCViaAPI, By: "test"})
	require.NoError(b, err)
	_, err = db.Exec(ctx, `CREATE TABLE bare (phone_number text, first_name text, last_name text, address1 text,
		city text, state text, postal_code text, email text, segment text)`)
	require.NoError(b, err)

	var copySecs, importSecs []float64
	var last campaigns.ImportResult
	b.ResetTimer()
	for i := range b.N {
		_, err := db.Exec(ctx, "TRUNCATE bare")
		require.NoError(b, err)
		in, err := os.Open(path)
		require.NoError(b, err)
		conn, err := db.Acquire(ctx)
		require.NoError(b, err)
		t0 := time.Now()
		_, err = conn.Conn().PgConn().CopyFrom(ctx, in, "COPY bare FROM STDIN (FORMAT csv, HEADER true)")
		copySecs = append(copySecs, time.Since(t0).Seconds())
		conn.Release()
		in.Close()
		require.NoError(b, err)

		c, err := campaigns.Create(ctx, db, fmt.Sprintf("bench-%d", i), nil)
		require.NoError(b, err)
		in, err = os.Open(path)
		require.NoError(b, err)
		t0 = time.Now()
		last, err = campaigns.Import(ctx, db, in, campaigns.ImportOptions{Campaign: c.ID, Name: "leads-1m.csv", Size: fi.Size()})
		importSecs = append(importSecs, time.Since(t0).Seconds())
		in.Close()
		require.NoError(b, err)
	}
	b.StopTimer()
	cp, im := median(copySecs), median(importSecs)
	ratio := cp / im
	b.ReportMetric(float64(rows)/im, "rows/s")
	b.ReportMetric(ratio, "x_raw_copy")
	met := ratio >= 0.4
	require.NoError(b, benchout.Write(benchout.Result{
		Name: name,
		Summary: fmt.Sprintf("import 1M-row CSV (%.0f MB), %s: %.1f s, %.0f rows/s, %.2f× raw COPY (%.0f rows/s)",
			float64(fi.Size())/1e6, server, im, float64(rows)/im, ratio, float64(rows)/cp),
		Figures: map[string]float64{"rows": rows, "import_s": im, "raw_copy_s": cp, "import_rows_per_s": float64(rows) / im,
			"raw_copy_rows_per_s": float64(rows) / cp, "ratio_to_raw_copy": ratio, "imported": float64(last.Imported),
			"duplicates": float64(last.Duplicates), "invalid": float64(last.Invalid)},
		Goal: ">= 0.4× raw COPY", Met: &met,
	}))
}

// BenchmarkClaim2M measures claim latency for batches of 50 from a campaign
// of 2,000,000 leads in 20 lists of 100,000, spread over several time zones,
// with other campaigns' lists beside them.
// benchActive starts a predictive campaign with what the law asks of one.
var benchActive = map[string]string{"status": "active", "caller_id": "+12025550143",
	"info_message": "This was Pacer calling; dial 202 555 0143 to call back or opt out."}

func BenchmarkClaim2M(b *testing.B) {
	ctx := context.Background()
	db := testdb.NewPool(b)
	c, err := campaigns.Create(ctx, db, "claim-bench", benchActive)
	require.NoError(b, err)
	benchZones(b, db)
	// The lists are built the way an import builds them (a partition each),
	// in SQL: what is measured is the claim, and importing two million
	// generated rows would only slow the setup.
	for i := range 20 {
		syntheticList(b, db, c.ID, i*100_000, 100_000)
	}
	for i := range 5 {
		other, err := campaigns.Create(ctx, db, fmt.Sprint("other-", i), benchActive)
		require.NoError(b, err)
		syntheticList(b, db, other.ID, 0, 10_000)
	}
	_, err = db.Exec(ctx, "VACUUM ANALYZE leads")
	require.NoError(b, err)

	p50, p99 := claimLatency(b, db, &c)
	met := p99 < 20
	require.NoError(b, benchout.Write(benchout.Result{
		Name:    "claim_2m",
		Summary: fmt.Sprintf("claim 50 leads from a 2M-lead campaign (20 lists): p50 %.2f ms, p99 %.2f ms (%d claims)", p50, p99, claims),
		Figures: map[string]float64{"leads": 2_000_000, "lists": 20, "batch": 50, "claims": claims, "p50_ms": p50, "p99_ms": p99},
		Goal:    "p99 < 20 ms", Met: &met,
	}))
}

// BenchmarkClaim1000Lists measures claim latency for batches of 50 from a
// campaign of 1,000 lists of mixed sizes, as a contact center that loads
// small lists daily ends up with: 10 lists of 100,000 leads and 990 of 100
// to 2,000, about two million leads in all.
func BenchmarkClaim1000Lists(b *testing.B) {
	ctx := context.Background()
	db := testdb.NewPool(b)
	c, err := campaigns.Create(ctx, db, "claim-lists-bench", benchActive)
	require.NoError(b, err)
	benchZones(b, db)
	for i := range 10 {
		syntheticList(b, db, c.ID, i*100_000, 100_000)
	}
	const small = 990
	leads := 10*100_000 + syntheticSmallLists(b, db, c.ID, 1_000_000, small)
	var parts int
	require.NoError(b, db.QueryRow(ctx, `SELECT count(*) FROM pg_inherits WHERE inhparent = 'leads'::regclass`).Scan(&parts))
	_, err = db.Exec(ctx, "VACUUM ANALYZE leads")
	require.NoError(b, err)

	p50, p99 := claimLatency(b, db, &c)
	met := p99 < 20
	require.NoError(b, benchout.Write(benchout.Result{
		Name: "claim_1000_lists",
		Summary: fmt.Sprintf("claim 50 leads from a campaign of 1,000 lists (10 of 100k, 990 of 100-2,000; %d leads, %d partitions of leads): p50 %.2f ms, p99 %.2f ms (%d claims)",
			leads, parts, p50, p99, claims),
		Figures: map[string]float64{"leads": float64(leads), "lists": 10 + small, "partitions": float64(parts), "batch": 50,
			"claims": claims, "p50_ms": p50, "p99_ms": p99},
		Goal: "p99 < 20 ms", Met: &met,
	}))
}

const claims = 2000

// claimLatency claims 50 leads at a time, claims times, and returns the
// p50 and p99 latency in milliseconds.
func claimLatency(b *testing.B, db *pgxpool.Pool, c *campaigns.Campaign) (p50, p99 float64) {
	ctx := context.Background()
	_, err := campaigns.AddDNC(ctx, db, campaigns.Global, []string{"+12002000010"}, campaigns.DNCChange{How: campaigns.DNCViaAPI, By: "test"})
	require.NoError(b, err)
	h := campaigns.NewHopper("bench")
	at := time.Date(2026, 7, 1, 18, 0, 0, 0, time.UTC) // every zone but Honolulu is open
	lat := make([]float64, 0, claims)
	b.ResetTimer()
	for range b.N {
		lat = lat[:0]
		for range claims {
			t0 := time.Now()
			leads, err := h.Claim(ctx, db, c, 50, at)
			lat = append(lat, float64(time.Since(t0).Microseconds())/1000)
			if err != nil || len(leads) != 50 {
				b.Fatalf("claim: %v (%d leads)", err, len(leads))
			}
		}
		b.StopTimer()
		_, err := db.Exec(ctx, "UPDATE leads SET status = 'new', claimed_at = NULL, claimed_by = '' WHERE status = 'dialing'")
		require.NoError(b, err)
		b.StartTimer()
	}
	b.StopTimer()
	sort.Float64s(lat)
	p50, p99 = lat[len(lat)/2], lat[len(lat)*99/100]
	b.ReportMetric(p50, "p50_ms")
	b.ReportMetric(p99, "p99_ms")
	return p50, p99
}

func benchZones(b *testing.B, db *pgxpool.Pool) {
	_, err := db.Exec(context.Background(), `
INSERT INTO tz_groups (zones, state) VALUES
	('{America/New_York}', ''), ('{America/Chicago}', ''), ('{America/Denver}', ''),
	('{America/Los_Angeles}', ''), ('{America/Chicago,America/Denver}', 'TX'), ('{Pacific/Honolulu}', '')
ON CONFLICT DO NOTHING`)
	require.NoError(b, err)
}

// syntheticSmallLists adds n ready lists of 100 to 2,000 leads, numbered
// from first on, as campaigns.Import leaves a small list: its leads in the
// shared partition. It returns how many leads it added.
func syntheticSmallLists(b *testing.B, db *pgxpool.Pool, campaign campaigns.ID, first, n int) int {
	ctx := context.Background()
	var leads int
	require.NoError(b, db.QueryRow(ctx, `
WITH lists AS (
	INSERT INTO lead_lists (campaign_id, name, format, status, finished_at)
	SELECT $1, 'small-' || k, 'csv', 'ready', now() FROM generate_series(1, $3) k
	RETURNING id
), sized AS (
	SELECT id, 100 + (id * 7919) % 1901 AS size, sum(100 + (id * 7919) % 1901) OVER (ORDER BY id) - (100 + (id * 7919) % 1901) AS base
	FROM lists
), ins AS (
	INSERT INTO leads (id, campaign_id, list_id, line, phone, tz_group, priority, next_attempt_at, attempts, status)
	SELECT nextval('leads_shared_id_seq'), $1, s.id, i + 2,
		'+1' || (200 + (s.base + i) % 700)::text || lpad((2000000 + $2 + s.base + i)::text, 7, '0'),
		(SELECT id FROM tz_groups ORDER BY id OFFSET ((s.base + i) % 6) LIMIT 1),
		CASE WHEN i % 10 = 0 THEN 1 ELSE 0 END,
		'2026-07-01 00:00:00+00'::timestamptz - ((s.base + i) % 1000) * interval '1 minute',
		i % 3, CASE WHEN i % 3 = 0 THEN 'new' ELSE 'retry' END
	FROM sized s, generate_series(0, s.size - 1) AS i
	RETURNING 1
)
SELECT count(*) FROM ins`, campaign, first, n).Scan(&leads))
	return leads
}

// syntheticList adds a ready list of n leads numbered from first to a
// campaign: a partition table filled in SQL, indexed and attached as
// campaigns.Import does.
func syntheticList(b *testing.B, db *pgxpool.Pool, campaign campaigns.ID, first, n int) {
	ctx := context.Background()
	var list int64
	require.NoError(b, db.QueryRow(ctx, `INSERT INTO lead_lists (campaign_id, name, format, status, finished_at)
		VALUES ($1, 'synthetic', 'csv', 'ready', now()) RETURNING id`, campaign).Scan(&list))
	lo, hi := list<<campaigns.ListIDShift, (list+1)<<campaigns.ListIDShift
	part := fmt.Sprintf("leads_list_%d_0", list)
	_, err := db.Exec(ctx, campaigns.CreatePartitionSQL(part, lo, hi, int64(campaign), list)+fmt.Sprintf(`;
INSERT INTO %[1]s (id, campaign_id, list_id, line, phone, tz_group, priority, next_attempt_at, attempts, status)
SELECT %[2]d + i, %[3]d, %[4]d, i + 2, '+1' || (200 + i %% 700)::text || lpad((2000000 + %[5]d + i)::text, 7, '0'),
	(SELECT id FROM tz_groups ORDER BY id OFFSET (i %% 6) LIMIT 1),
	CASE WHEN i %% 10 = 0 THEN 1 ELSE 0 END,
	'2026-07-01 00:00:00+00'::timestamptz - (i %% 1000) * interval '1 minute',
	i %% 3, CASE WHEN i %% 3 = 0 THEN 'new' ELSE 'retry' END
FROM generate_series(0, %[6]d - 1) AS i;
`, part, lo, campaign, list, first, n)+campaigns.IndexPartitionSQL(part)+";\n"+campaigns.AttachPartitionSQL(part, lo, hi))
	require.NoError(b, err)
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}
