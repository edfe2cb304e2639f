package campaigns_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/internal/leadgen"
	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/internal/testwait"
)

// rangeFile is a one-column lead file of n numbers +1 212 5xx xxxx from
// first on.
func rangeFile(first, n int) string {
	var b strings.Builder
	b.WriteString("phone\n")
	for k := first; k < first+n; k++ {
		fmt.Fprintf(&b, "%d\n", 2125000000+k)
	}
	return b.String()
}

// stalledFile feeds an import its first part (past the delimiter sniffing),
// then waits for release before the rest.
func stalledFile(file string, release <-chan struct{}) io.Reader {
	pr, pw := io.Pipe()
	cut := strings.Index(file[80<<10:], "\n") + 80<<10 + 1
	go func() {
		if _, err := io.WriteString(pw, file[:cut]); err != nil {
			return
		}
		<-release
		_, _ = io.WriteString(pw, file[cut:])
		pw.Close()
	}()
	return pr
}

// limitedPool connects as a role of its own that may hold only conns
// connections at once (a small server's max_connections, which today's
// imports, three connections each, exhausted), with a pool of 4 of them.
func limitedPool(t *testing.T, conns int) *pgxpool.Pool {
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, testdb.ServerURL(t))
	require.NoError(t, err)
	t.Cleanup(func() { admin.Close(context.Background()) })
	role := fmt.Sprintf("importer_%d", os.Getpid()) + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "_"))
	// Registered before the database's own cleanup, so it runs after it:
	// the role owns tables in that database until it is dropped.
	t.Cleanup(func() {
		_, _ = admin.Exec(context.Background(), "DROP ROLE IF EXISTS "+pgx.Identifier{role}.Sanitize())
	})
	url := testdb.New(t)
	var owner string
	require.NoError(t, admin.QueryRow(ctx, `SELECT current_user`).Scan(&owner))
	_, err = admin.Exec(ctx, fmt.Sprintf("CREATE ROLE %s LOGIN CONNECTION LIMIT %d IN ROLE %s",
		pgx.Identifier{role}.Sanitize(), conns, pgx.Identifier{owner}.Sanitize()))
	require.NoError(t, err)
	cfg, err := pgxpool.ParseConfig(url)
	require.NoError(t, err)
	cfg.ConnConfig.User = role
	cfg.MaxConns = 4
	db, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(db.Close)
	return db
}

// Sixteen uploads at once on a server with ten connections to give: two
// import, the rest wait their turn with their place in the queue showing
// in the list's status, and every one of them finishes.
func TestImportsBeyondTheLimitQueueAndAllSucceed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := limitedPool(t, 10)
	c := newCampaign(t, db, nil)
	const uploads, limit, rows = 16, 2, 10_000
	release := make(chan struct{})
	type result struct {
		res campaigns.ImportResult
		err error
	}
	results := make(chan result, uploads)
	for i := range uploads {
		in := stalledFile(rangeFile(i*rows, rows), release)
		go func() {
			res, err := campaigns.Import(ctx, db, in, campaigns.ImportOptions{Campaign: c.ID, Name: fmt.Sprint("upload-", i),
				Concurrency: limit})
			results <- result{res, err}
		}()
	}
	count := func(status string) int {
		var n int
		require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM lead_lists WHERE campaign_id = $1 AND status = $2`,
			c.ID, status).Scan(&n))
		return n
	}
	testwait.Until(t, func() bool { return count("importing") == limit && count("queued") == uploads-limit })

	lists, err := campaigns.Lists(ctx, db, c.ID)
	require.NoError(t, err)
	var places []int64
	for _, l := range lists {
		got, err := campaigns.GetList(ctx, db, l.ID)
		require.NoError(t, err)
		require.Equal(t, l.QueuePosition, got.QueuePosition)
		if l.Status == "queued" {
			places = append(places, got.QueuePosition)
		} else {
			require.Zero(t, got.QueuePosition, "a running import has no place in the queue")
		}
	}
	slices.Sort(places)
	want := make([]int64, uploads-limit)
	for i := range want {
		want[i] = int64(i + 1)
	}
	require.Equal(t, want, places)

	close(release)
	for range uploads {
		r := <-results
		require.NoError(t, r.err)
		require.EqualValues(t, rows, r.res.Imported)
	}
	require.Equal(t, uploads, count("ready"))
}

// A queued import whose process died (it stopped beating) is failed by the
// recovery sweep and stops holding its place.
func TestAbandonedQueueEntryIsFailed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	c := newCampaign(t, db, nil)
	var dead, alive campaigns.ListID
	require.NoError(t, db.QueryRow(ctx, `INSERT INTO lead_lists (campaign_id, name, format, status, queue_beat_at)
		VALUES ($1, 'dead.csv', 'csv', 'queued', now() - interval '1 minute') RETURNING id`, c.ID).Scan(&dead))
	require.NoError(t, db.QueryRow(ctx, `INSERT INTO lead_lists (campaign_id, name, format, status, queue_beat_at)
		VALUES ($1, 'alive.csv', 'csv', 'queued', now()) RETURNING id`, c.ID).Scan(&alive))
	l, err := campaigns.GetList(ctx, db, alive)
	require.NoError(t, err)
	require.EqualValues(t, 1, l.QueuePosition, "a dead entry holds no place")
	n, err := campaigns.FailAbandonedImports(ctx, db)
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	l, err = campaigns.GetList(ctx, db, dead)
	require.NoError(t, err)
	require.Equal(t, "failed", l.Status)
	require.Contains(t, l.Error, "before its turn")
	l, err = campaigns.GetList(ctx, db, alive)
	require.NoError(t, err)
	require.Equal(t, "queued", l.Status)
}

// A process killed (SIGKILL) mid-import leaves its spool behind: the upload's
// copy and the reject files. The recovery sweep fails its list and removes
// its spool; a live import's spool, in the same directory, is kept.
func TestSweepRemovesAKilledImportsFilesAndKeepsALiveOnes(t *testing.T) {
	if os.Getenv("PACER_CRASH_CHILD_DB") != "" {
		crashChild()
		return
	}
	t.Parallel()
	ctx := context.Background()
	tmp := t.TempDir()
	url := testdb.New(t)
	db, err := pgxpool.New(ctx, url)
	require.NoError(t, err)
	t.Cleanup(db.Close)
	c := newCampaign(t, db, nil)

	child := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$")
	child.Env = append(os.Environ(), "PACER_CRASH_CHILD_DB="+url, "PACER_CRASH_CHILD_TMP="+tmp,
		"PACER_CRASH_CHILD_CAMPAIGN="+strconv.FormatInt(int64(c.ID), 10))
	out, err := child.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, child.Start())
	t.Cleanup(func() { _ = child.Process.Kill(); _ = child.Wait() })
	var deadList int64
	var deadSpool string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if _, err := fmt.Sscanf(sc.Text(), "importing %d %s", &deadList, &deadSpool); err == nil {
			break
		}
	}
	require.NotEmpty(t, deadSpool, "the child reports its import")

	// A live import in this process, stalled half way.
	live, err := campaigns.NewImportSpool(tmp)
	require.NoError(t, err)
	upload, err := live.Create("upload-*")
	require.NoError(t, err)
	upload.Close()
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := campaigns.Import(ctx, db, stalledFile(rangeFile(0, 10_000), release),
			campaigns.ImportOptions{Campaign: c.ID, Name: "live.csv", Spool: live})
		done <- err
	}()
	testwait.Until(t, func() bool {
		var n int
		return db.QueryRow(ctx, `SELECT count(*) FROM lead_lists WHERE name = 'live.csv' AND status = 'importing'`).Scan(&n) == nil && n == 1
	})

	require.NoError(t, child.Process.Signal(syscall.SIGKILL))
	_ = child.Wait()
	deadFiles, err := os.ReadDir(deadSpool)
	require.NoError(t, err)
	require.NotEmpty(t, deadFiles, "the killed import left its files")

	testwait.Until(t, func() bool {
		n, err := campaigns.FailAbandonedImports(ctx, db)
		require.NoError(t, err)
		return n == 1 // once the server has seen the child's connection go
	})
	l, err := campaigns.GetList(ctx, db, campaigns.ListID(deadList))
	require.NoError(t, err)
	require.Equal(t, "failed", l.Status)
	n, err := campaigns.SweepImportSpools(tmp)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.NoDirExists(t, deadSpool)
	require.FileExists(t, upload.Name(), "a live import's files are kept")

	close(release)
	require.NoError(t, <-done)
	require.NoError(t, live.Close())
	require.NoDirExists(t, live.Dir())
}

// crashChild runs an import that stalls half way, with a copy of its upload
// in its spool, and says so; the test kills it there.
func crashChild() {
	ctx := context.Background()
	db, err := pgxpool.New(ctx, os.Getenv("PACER_CRASH_CHILD_DB"))
	if err != nil {
		panic(err)
	}
	campaign, _ := strconv.ParseInt(os.Getenv("PACER_CRASH_CHILD_CAMPAIGN"), 10, 64)
	spool, err := campaigns.NewImportSpool(os.Getenv("PACER_CRASH_CHILD_TMP"))
	if err != nil {
		panic(err)
	}
	file := rangeFile(100_000, 10_000) + "not a number\n"
	upload, err := spool.Create("upload-*")
	if err != nil {
		panic(err)
	}
	_, _ = upload.WriteString(file)
	upload.Close()
	never := make(chan struct{})
	go func() {
		_, err := campaigns.Import(ctx, db, stalledFile(file, never), campaigns.ImportOptions{
			Campaign: campaigns.ID(campaign), Name: "killed.csv", Spool: spool,
			Progress: func(p campaigns.ImportProgress) {
				fmt.Printf("importing %d %s\n", p.List, spool.Dir())
			}})
		panic(fmt.Sprint("the stalled import ended: ", err))
	}()
	select {}
}

// A campaign sent many small lists and a few large ones has partitions for
// the large ones only: small lists share one, which keeps the hopper's
// order query as fast as for a few lists. Claims span both kinds.
func TestSmallListsDoNotEachAddAPartition(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	c := newCampaign(t, db, nil)
	partitions := func() int {
		var n int
		require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhrelid
			WHERE i.inhparent = 'leads'::regclass
			  AND substring(p.relname FROM '^leads_list_([0-9]+)_')::bigint IN (SELECT id FROM lead_lists WHERE campaign_id = $1)`,
			c.ID).Scan(&n))
		return n
	}
	const small = 40
	for i := range small {
		_, err := campaigns.Import(ctx, db, strings.NewReader(rangeFile(i*50, 10+i)), campaigns.ImportOptions{Campaign: c.ID})
		require.NoError(t, err)
	}
	require.Zero(t, partitions(), "small lists add no partition")

	var big strings.Builder
	require.NoError(t, leadgen.Write(&big, leadgen.Options{Rows: 60_000, Seed: 3}))
	res, err := campaigns.Import(ctx, db, strings.NewReader(big.String()), campaigns.ImportOptions{Campaign: c.ID, Streams: 2})
	require.NoError(t, err)
	require.Greater(t, res.Imported, int64(50_000))
	require.Equal(t, 2, partitions(), "a large list keeps its own")

	var leads int64
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM leads WHERE campaign_id = $1`, c.ID).Scan(&leads))
	require.EqualValues(t, small*10+small*(small-1)/2+int(res.Imported), leads)

	// Deleting the large list drops its partitions.
	_, err = db.Exec(ctx, `DELETE FROM lead_lists WHERE id = $1`, res.List)
	require.NoError(t, err)
	require.Zero(t, partitions())
}
