package campaigns_test

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/internal/testwait"
)

// numbersFile is a one-column lead file of +1 212 436 NNNN numbers.
func numbersFile(nums []int) string {
	var b strings.Builder
	b.WriteString("phone\n")
	for _, n := range nums {
		fmt.Fprintf(&b, "(212) 436-%04d\n", n)
	}
	return b.String()
}

// However many streams an import copies with, and whether the list keeps
// its partitions or moves into the shared one, the leads and the report are
// the same; a list with partitions of its own has its leads carry their
// list in their ids.
func TestImportStreamsGiveTheSameResult(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	_, err := campaigns.AddDNC(ctx, db, campaigns.Global, []string{"+12124360007"}, campaigns.DNCChange{How: campaigns.DNCViaAPI, By: "test"})
	require.NoError(t, err)
	var nums []int
	for i := range 3000 {
		nums = append(nums, i%2500) // lines 2502.. repeat earlier numbers
	}
	file := numbersFile(nums) + "12345\nnot a number\n"
	type outcome struct {
		res     campaigns.ImportResult
		phones  []string
		rejects map[int]string
	}
	var outcomes []outcome
	for _, streams := range []int{1, 2, 4, -1, -2} {
		c := newCampaign(t, db, nil)
		opts := campaigns.ImportOptions{Campaign: c.ID, Name: "s.csv", Streams: streams}
		if streams > 0 {
			opts = campaigns.OwnPartitions(opts)
		} else {
			opts.Streams = -streams
		}
		res, err := campaigns.Import(ctx, db, strings.NewReader(file), opts)
		require.NoError(t, err)
		var phones []string
		var lists []int64
		rows, err := db.Query(ctx, `SELECT phone, id >> 28 FROM leads WHERE campaign_id = $1 ORDER BY line`, c.ID)
		require.NoError(t, err)
		for rows.Next() {
			var phone string
			var list int64
			require.NoError(t, rows.Scan(&phone, &list))
			lists = append(lists, list)
			phones = append(phones, phone)
		}
		require.NoError(t, rows.Err())
		for _, list := range lists {
			if streams > 0 {
				require.EqualValues(t, res.List, list, "a lead's id names its list")
			} else {
				require.EqualValues(t, 1<<24, list, "a small list's leads are in the shared range")
			}
		}
		var parts int
		require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM pg_inherits WHERE inhparent = 'leads'::regclass
			AND inhrelid::regclass::text LIKE 'leads\_list\_' || $1::bigint || '\_%'`, res.List).Scan(&parts))
		require.Equal(t, max(streams, 0), parts)
		report := rejects(t, db, res.List)
		res.List, res.Seconds = 0, 0
		outcomes = append(outcomes, outcome{res, phones, report})
	}
	want := campaigns.ImportResult{Rows: 3002, Imported: 2500, Duplicates: 500, Invalid: 2, DNC: 1}
	for _, o := range outcomes {
		require.Equal(t, want, o.res)
		require.Len(t, o.phones, 2500)
		require.Equal(t, outcomes[0].phones, o.phones)
		require.Equal(t, outcomes[0].rejects, o.rejects)
	}
	require.Equal(t, "duplicate of line 2", outcomes[0].rejects[2502])
}

// Imports into one campaign running at once still leave one lead per
// number: each drops what the campaign has when it attaches its list.
func TestConcurrentImportsKeepOneLeadPerNumber(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	c := newCampaign(t, db, nil)
	const files = 4
	var wg sync.WaitGroup
	results := make([]campaigns.ImportResult, files)
	errs := make([]error, files)
	for f := range files {
		var nums []int
		for i := range 3000 {
			nums = append(nums, f*1000+i) // each file overlaps the next by 2000 numbers
		}
		wg.Go(func() {
			results[f], errs[f] = campaigns.Import(ctx, db, strings.NewReader(numbersFile(nums)),
				campaigns.ImportOptions{Campaign: c.ID, Name: fmt.Sprint("f", f), Streams: 2})
		})
	}
	wg.Wait()
	var imported, dups int64
	for f := range files {
		require.NoError(t, errs[f])
		imported += results[f].Imported
		dups += results[f].Duplicates
	}
	require.EqualValues(t, 6000, imported, "numbers 0..5999, each once")
	require.EqualValues(t, files*3000-6000, dups)
	var leads, distinct int
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*), count(DISTINCT phone) FROM leads WHERE campaign_id = $1`, c.ID).Scan(&leads, &distinct))
	require.Equal(t, 6000, leads)
	require.Equal(t, 6000, distinct)
	// The same numbers in another campaign are that campaign's own leads.
	other := newCampaign(t, db, nil)
	res, err := campaigns.Import(ctx, db, strings.NewReader(numbersFile([]int{1, 2, 3})), campaigns.ImportOptions{Campaign: other.ID})
	require.NoError(t, err)
	require.EqualValues(t, 3, res.Imported)
}

// An import whose process died leaves an importing list and perhaps some
// partition tables; the maintenance step fails the list and drops them, and
// leaves running imports alone.
func TestAbandonedImportIsCleanedUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	c := newCampaign(t, db, nil)

	// A running import, stalled half way through its file.
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := campaigns.Import(ctx, db, pr, campaigns.ImportOptions{Campaign: c.ID, Name: "running.csv", Streams: 2})
		done <- err
	}()
	var first []int
	for i := range 5000 {
		first = append(first, i)
	}
	_, err := io.WriteString(pw, numbersFile(first)) // past the delimiter sniffing
	require.NoError(t, err)
	testwait.Until(t, func() bool {
		var n int
		return db.QueryRow(ctx, `SELECT count(*) FROM lead_lists WHERE status = 'importing'`).Scan(&n) == nil && n == 1
	})

	// A dead one: its list row and a table it had committed, no lock held.
	var dead int64
	require.NoError(t, db.QueryRow(ctx, `INSERT INTO lead_lists (campaign_id, name, format) VALUES ($1, 'dead.csv', 'csv') RETURNING id`,
		c.ID).Scan(&dead))
	_, err = db.Exec(ctx, fmt.Sprintf(`CREATE TABLE leads_list_%d_0 (LIKE leads INCLUDING DEFAULTS)`, dead))
	require.NoError(t, err)
	_, err = db.Exec(ctx, `INSERT INTO lead_import_rejects (list_id, line, reason) VALUES ($1, 2, 'x')`, dead)
	require.NoError(t, err)

	n, err := campaigns.FailAbandonedImports(ctx, db)
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	l, err := campaigns.GetList(ctx, db, campaigns.ListID(dead))
	require.NoError(t, err)
	require.Equal(t, "failed", l.Status)
	require.Contains(t, l.Error, "interrupted")
	var tables, reports int
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM pg_class WHERE relname = $1`, fmt.Sprintf("leads_list_%d_0", dead)).Scan(&tables))
	require.Zero(t, tables)
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM lead_import_rejects WHERE list_id = $1`, dead).Scan(&reports))
	require.Zero(t, reports)

	// The running import was not touched and finishes normally.
	require.NoError(t, pw.Close())
	require.NoError(t, <-done)
	var status string
	require.NoError(t, db.QueryRow(ctx, `SELECT status FROM lead_lists WHERE name = 'running.csv'`).Scan(&status))
	require.Equal(t, "ready", status)
	n, err = campaigns.FailAbandonedImports(ctx, db)
	require.NoError(t, err)
	require.Zero(t, n)
}

// Deleting a list drops its partitions and its leads, or its leads in the
// shared partition; other lists stay.
func TestDeletingAListDropsItsPartitions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	c := newCampaign(t, db, nil)
	a, err := campaigns.Import(ctx, db, strings.NewReader(numbersFile([]int{1, 2, 3})),
		campaigns.OwnPartitions(campaigns.ImportOptions{Campaign: c.ID, Streams: 2}))
	require.NoError(t, err)
	b, err := campaigns.Import(ctx, db, strings.NewReader(numbersFile([]int{4, 5})), campaigns.ImportOptions{Campaign: c.ID})
	require.NoError(t, err)
	d, err := campaigns.Import(ctx, db, strings.NewReader(numbersFile([]int{6, 7, 8, 9})), campaigns.ImportOptions{Campaign: c.ID})
	require.NoError(t, err)
	_, err = db.Exec(ctx, `DELETE FROM lead_lists WHERE id = $1`, a.List)
	require.NoError(t, err)
	var parts, leads int
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM pg_class WHERE relname LIKE 'leads\_list\_' || $1::bigint || '\_%'`, a.List).Scan(&parts))
	require.Zero(t, parts)
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM leads WHERE campaign_id = $1`, c.ID).Scan(&leads))
	require.Equal(t, 6, leads)
	_, err = db.Exec(ctx, `DELETE FROM lead_lists WHERE id = $1`, d.List)
	require.NoError(t, err)
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM leads WHERE campaign_id = $1`, c.ID).Scan(&leads))
	require.Equal(t, 2, leads)
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM leads WHERE list_id = $1`, b.List).Scan(&leads))
	require.Equal(t, 2, leads)
}

// The hopper takes a campaign's leads across all its lists, in lead order,
// and never another campaign's; a random-order campaign gets its leads
// shuffled.
func TestClaimsSpanListsAndKeepCampaignsApart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	at := time.Date(2026, 7, 1, 16, 0, 0, 0, time.UTC) // noon in New York
	a := newCampaign(t, db, nil)
	b := newCampaign(t, db, nil)
	for i := range 4 {
		var nums []int
		for j := range 50 {
			nums = append(nums, i*100+j)
		}
		// Lists of both kinds: their own partitions, and the shared one.
		opts := campaigns.ImportOptions{Campaign: a.ID, Streams: 1 + i%2}
		if i%2 == 1 {
			opts = campaigns.OwnPartitions(opts)
		}
		_, err := campaigns.Import(ctx, db, strings.NewReader(numbersFile(nums)), opts)
		require.NoError(t, err)
		_, err = campaigns.Import(ctx, db, strings.NewReader(numbersFile(nums)), campaigns.ImportOptions{Campaign: b.ID})
		require.NoError(t, err)
	}
	h := campaigns.NewHopper("t")
	var got []campaigns.LeadID
	for {
		leads, err := h.Claim(ctx, db, &a, 30, at)
		require.NoError(t, err)
		if len(leads) == 0 {
			break
		}
		for _, l := range leads {
			got = append(got, l.ID)
		}
	}
	require.Len(t, got, 200)
	// Oldest list first, each in file order, two-stream lists included
	// (their streams split the lines by number, so ids alone would not do).
	var order []string
	for _, id := range got {
		var list, line int64
		require.NoError(t, db.QueryRow(ctx, `SELECT list_id, line FROM leads WHERE id = $1`, id).Scan(&list, &line))
		order = append(order, fmt.Sprintf("%08d/%08d", list, line))
	}
	require.True(t, slices.IsSorted(order), "claim order %v", order)
	var foreign int
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM leads WHERE id = ANY($1) AND campaign_id <> $2`, got, a.ID).Scan(&foreign))
	require.Zero(t, foreign)
	var dialing int
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM leads WHERE campaign_id = $1 AND status = 'dialing'`, b.ID).Scan(&dialing))
	require.Zero(t, dialing)

	r := newCampaign(t, db, map[string]string{"lead_order": "random"})
	var nums []int
	for j := range 200 {
		nums = append(nums, j)
	}
	_, err := campaigns.Import(ctx, db, strings.NewReader(numbersFile(nums)), campaigns.ImportOptions{Campaign: r.ID})
	require.NoError(t, err)
	leads, err := h.Claim(ctx, db, &r, 200, at)
	require.NoError(t, err)
	require.Len(t, leads, 200)
	ids := make([]campaigns.LeadID, len(leads))
	for i, l := range leads {
		ids[i] = l.ID
	}
	require.False(t, slices.IsSorted(ids), "a random-order campaign does not dial in file order")
}

// What COPY's text format and JSON must escape arrives intact: backslashes,
// tabs, line breaks and quotes, in lead fields and custom fields alike.
func TestImportKeepsCharactersCopyMustEscape(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	c := newCampaign(t, db, nil)
	file := "phone,first_name,last_name,address1,notes\n" +
		"2124365000,\"Back\\slash\",\"Tab\there\",\"Line one\nline two\",\"say \"\"hi\"\" \\n \\\\ \x01 done\"\n"
	res, err := campaigns.Import(ctx, db, strings.NewReader(file), campaigns.ImportOptions{Campaign: c.ID, Streams: 2})
	require.NoError(t, err)
	require.EqualValues(t, 1, res.Imported)
	var first, last, addr, notes string
	require.NoError(t, db.QueryRow(ctx, `SELECT first_name, last_name, address1, custom->>'notes' FROM leads WHERE campaign_id = $1`,
		c.ID).Scan(&first, &last, &addr, &notes))
	require.Equal(t, `Back\slash`, first)
	require.Equal(t, "Tab\there", last)
	require.Equal(t, "Line one\nline two", addr)
	require.Equal(t, "say \"hi\" \\n \\\\ \x01 done", notes)
}
