package campaigns

import (
	"context"
	"io"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/internal/leadgen"
	"github.com/pacer-dialer/pacer/internal/testdb"
)

// An import holds a fixed amount in memory however long its file: rows go
// to PostgreSQL in chunks, rejects and duplicate suspects to disk.
//
// Not parallel: the heap is the whole test process's, and Go runs serial
// tests before any parallel one resumes, so this one measures only itself.
func TestImportMemoryStaysFlat(t *testing.T) {
	const rows = 400_000 // about 35 MB; kept in memory they would take several times the limit
	ctx := context.Background()
	db := testdb.NewPool(t)
	c, err := Create(ctx, db, "memory", nil)
	require.NoError(t, err)
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(leadgen.Write(pw, leadgen.Options{Rows: rows, Seed: 3, DuplicateEvery: 100, InvalidEvery: 200}))
	}()
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		// The live heap as of the last collection, not HeapAlloc: on a busy
		// machine the collector runs late and HeapAlloc counts garbage not
		// yet collected, which says nothing of what the import holds.
		live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				metrics.Read(live)
				if v := live[0].Value.Uint64(); v > peak.Load() {
					peak.Store(v)
				}
			}
		}
	}()
	res, err := Import(ctx, db, pr, ImportOptions{Campaign: c.ID, Name: "big.csv"})
	close(stop)
	<-sampled
	require.NoError(t, err)
	require.EqualValues(t, rows, res.Rows)
	require.Greater(t, res.Imported, int64(rows*98/100))
	require.Less(t, peak.Load(), uint64(64<<20), "heap grew to %d MB importing %d rows", peak.Load()>>20, rows)
	t.Logf("%d rows imported with a peak heap of %.1f MB", res.Imported, float64(peak.Load())/(1<<20))
}
