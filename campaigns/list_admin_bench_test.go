package campaigns_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/internal/benchout"
	"github.com/pacer-dialer/pacer/internal/testdb"
)

// BenchmarkListAdmin1M measures what the console's lists page costs on a
// campaign with a 1,000,000-lead list and a 100,000-lead one: counting
// every lead by class (one pass over the campaign's partitions), the
// download of the large list (streamed, file order), and deleting it.
func BenchmarkListAdmin1M(b *testing.B) {
	ctx := context.Background()
	db := testdb.NewPool(b)
	c, err := campaigns.Create(ctx, db, "list-admin-bench", benchActive)
	require.NoError(b, err)
	benchZones(b, db)
	syntheticList(b, db, c.ID, 0, 1_000_000)
	syntheticList(b, db, c.ID, 1_000_000, 100_000)
	_, err = db.Exec(ctx, "VACUUM ANALYZE leads")
	require.NoError(b, err)

	var counts []float64
	var ls []campaigns.ListCounts
	for range 5 {
		start := time.Now()
		ls, err = campaigns.ListsWithCounts(ctx, db, c.ID, time.Now())
		require.NoError(b, err)
		counts = append(counts, float64(time.Since(start).Milliseconds()))
	}
	var big campaigns.ListCounts
	for _, l := range ls {
		if l.Total == 1_000_000 {
			big = l
		}
	}
	require.EqualValues(b, 1_000_000, big.Total)

	start := time.Now()
	n := 0
	require.NoError(b, campaigns.ExportList(ctx, db, big.ID, time.Now(), func(campaigns.ExportedLead) error { n++; return nil }))
	export := time.Since(start).Seconds()
	require.Equal(b, 1_000_000, n)

	start = time.Now()
	res, err := campaigns.DeleteList(ctx, db, big.ID, "bench")
	require.NoError(b, err)
	del := time.Since(start).Seconds()
	require.EqualValues(b, 1_000_000, res.Deleted)

	countMS := median(counts)
	require.NoError(b, benchout.Write(benchout.Result{
		Name: "list_admin_1m",
		Summary: fmt.Sprintf("lists page of a campaign with 1.1M leads (lists of 1M and 100k): counts by class %.0f ms (median of 5); "+
			"download of the 1M list %.1f s; delete of the 1M list %.1f s", countMS, export, del),
		Figures: map[string]float64{"leads": 1_100_000, "count_ms": countMS, "export_s": export, "delete_s": del},
	}))
	b.ReportMetric(countMS, "count-ms")
	b.ReportMetric(export, "export-s")
	b.ReportMetric(del, "delete-s")
}
