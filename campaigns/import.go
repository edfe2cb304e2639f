package campaigns

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ListID identifies a lead list.
type ListID int64

// ImportOptions configure Import.
type ImportOptions struct {
	Campaign ID
	// Name of the list, shown to managers (usually the file name).
	Name    string
	Format  FileFormat
	Mapping Mapping
	// Size of the input in bytes when known, for progress; 0 if unknown.
	Size int64
	// Progress, when set, is called about every ProgressEvery with the
	// counts so far, from the importing goroutine.
	Progress      func(ImportProgress)
	ProgressEvery time.Duration
	// MaxRecordBytes caps one record; 0 means DefaultMaxRecordBytes.
	MaxRecordBytes int
}

// ImportProgress is how far an import has come.
type ImportProgress struct {
	List      ListID
	RowsRead  int64
	BytesRead int64
	Size      int64
}

// ImportResult is what an import did. Rows = Imported + Duplicates + Invalid;
// DNC counts imported leads that are on a DNC list (they are kept, marked,
// and never dialled).
type ImportResult struct {
	List       ListID  `json:"list_id"`
	Rows       int64   `json:"rows"`
	Imported   int64   `json:"imported"`
	Duplicates int64   `json:"duplicates"`
	Invalid    int64   `json:"invalid"`
	DNC        int64   `json:"dnc"`
	Seconds    float64 `json:"seconds"`
}

// Import loads a lead file into a new list of a campaign. Records are
// streamed from r (memory stays flat for any size), normalised (E.164, time
// zones, state codes) and copied into a per-import staging table with COPY;
// set-based statements then drop duplicates (within the file and against the
// campaign), mark DNC numbers and insert the leads. Everything after the list
// row is one transaction: a failed import leaves the list marked failed with
// its error and no leads. Every rejected record is kept with its line number
// and reason (ImportErrors).
//
// Progress (rows and bytes read) is written to the list row while the import
// runs, so another process can watch it.
func Import(ctx context.Context, pool *pgxpool.Pool, r io.Reader, opts ImportOptions) (ImportResult, error) {
	start := time.Now()
	c, err := Get(ctx, pool, opts.Campaign)
	if err != nil {
		return ImportResult{}, err
	}
	lr, err := NewLeadReader(r, ReadOptions{Format: opts.Format, Mapping: opts.Mapping, MaxRecordBytes: opts.MaxRecordBytes})
	if err != nil {
		return ImportResult{}, err
	}
	format := opts.Format
	if format == FormatAuto {
		format = FormatCSV
		if lr.Delimiter() == '\t' {
			format = FormatTSV
		}
	}
	var list ListID
	if err := pool.QueryRow(ctx, `INSERT INTO lead_lists (campaign_id, name, format, bytes_total) VALUES ($1, $2, $3, $4) RETURNING id`,
		c.ID, opts.Name, string(format), opts.Size).Scan(&list); err != nil {
		return ImportResult{}, fmt.Errorf("create list: %w", err)
	}
	res, err := importList(ctx, pool, lr, &c, list, opts)
	res.List = list
	res.Seconds = time.Since(start).Seconds()
	if err != nil {
		// The import's own context may be what failed; the failure must
		// still be recorded.
		_, ferr := pool.Exec(context.WithoutCancel(ctx), `UPDATE lead_lists SET status = 'failed', error = $2, finished_at = now() WHERE id = $1`,
			list, err.Error())
		return res, errors.Join(err, ferr)
	}
	return res, nil
}

func importList(ctx context.Context, pool *pgxpool.Pool, lr *LeadReader, c *Campaign, list ListID, opts ImportOptions) (ImportResult, error) {
	var res ImportResult
	src := &stagingSource{ctx: ctx, db: pool, lr: lr, list: list, region: c.DefaultRegion, groups: map[string]int32{}}

	stopProgress := watchProgress(ctx, pool, list, src, lr, opts)
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		// Sorting and hashing a million rows wants memory, not temp files;
		// the scan of the staging table must return rows in file order so
		// the first occurrence of a number is the one kept.
		if _, err := tx.Exec(ctx, `SET LOCAL work_mem = '256MB'; SET LOCAL synchronize_seqscans = off;
			CREATE TEMP TABLE import_staging (LIKE lead_import_staging INCLUDING DEFAULTS) ON COMMIT DROP`); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"import_staging"}, stagingColumns, src); err != nil {
			if src.err != nil {
				return src.err
			}
			return fmt.Errorf("copy leads: %w", err)
		}
		stopProgress()
		res.Rows = src.rows.Load()
		if _, err := tx.Exec(ctx, "ANALYZE import_staging"); err != nil {
			return err
		}
		return moveStaged(ctx, tx, c, list, &res)
	})
	stopProgress()
	return res, err
}

// watchProgress writes rows/bytes read to the list row and calls the progress
// callback until the returned stop function is called (idempotent).
func watchProgress(ctx context.Context, pool *pgxpool.Pool, list ListID, src *stagingSource, lr *LeadReader, opts ImportOptions) func() {
	every := opts.ProgressEvery
	if every <= 0 {
		every = 250 * time.Millisecond
	}
	done := make(chan struct{})
	exited := make(chan struct{})
	report := func() {
		p := ImportProgress{List: list, RowsRead: src.rows.Load(), BytesRead: lr.BytesRead(), Size: opts.Size}
		_, _ = pool.Exec(ctx, `UPDATE lead_lists SET rows_read = $2, bytes_read = $3 WHERE id = $1 AND status = 'importing'`,
			list, p.RowsRead, p.BytesRead)
		if opts.Progress != nil {
			opts.Progress(p)
		}
	}
	go func() {
		defer close(exited)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				report()
				return
			case <-ctx.Done():
				return
			case <-t.C:
				report()
			}
		}
	}()
	var stopped atomic.Bool
	return func() {
		if stopped.CompareAndSwap(false, true) {
			close(done)
			<-exited
		}
	}
}

var stagingColumns = []string{"list_id", "line", "reject", "raw", "phone", "alt_phone", "first_name", "last_name",
	"address1", "address2", "address3", "city", "state", "postal_code", "country", "email", "vendor_code",
	"custom", "tz_group"}

// stagingSource feeds COPY from the lead reader, normalising as it goes.
type stagingSource struct {
	ctx    context.Context
	db     DB // not the COPY's connection, which is busy
	groups map[string]int32
	lr     *LeadReader
	list   ListID
	region string
	rows   atomic.Int64
	values []any
	err    error
}

func (s *stagingSource) Next() bool {
	row, err := s.lr.Next()
	if errors.Is(err, io.EOF) {
		return false
	}
	if err != nil {
		s.err = fmt.Errorf("read lead file: %w", err)
		return false
	}
	s.rows.Add(1)
	s.values = s.stage(row)
	return s.err == nil
}

func (s *stagingSource) Values() ([]any, error) { return s.values, nil }
func (s *stagingSource) Err() error             { return s.err }

func (s *stagingSource) stage(row LeadRow) []any {
	reject := func(reason, raw string) []any {
		return []any{s.list, row.Line, reason, clip(raw, 2000), "", "", "", "", "", "", "", "", "", "", "", "", "", []byte("{}"), nil}
	}
	if row.Err != nil {
		return reject(row.Err.Error(), row.Raw)
	}
	raw := row.Phone
	if row.PhoneCode != "" && !strings.HasPrefix(strings.TrimSpace(raw), "+") {
		raw = "+" + strings.Trim(row.PhoneCode, "+ ") + " " + raw
	}
	phone, err := NormalizePhone(raw, s.region)
	if err != nil {
		reason := err.Error()
		var pe *PhoneError
		if errors.As(err, &pe) {
			reason = "invalid phone number " + quote(row.Phone) + ": " + pe.Reason
		}
		return reject(reason, rawOf(row))
	}
	state := NormalizeState(row.State)
	if state == "" {
		state = strings.TrimSpace(row.State)
	}
	country := row.Country
	group, err := s.group(LeadZones(phone, state, row.PostalCode, country), state)
	if err != nil {
		s.err = err
		return reject(err.Error(), "")
	}
	custom := []byte("{}")
	if len(row.Custom) > 0 {
		custom, _ = json.Marshal(row.Custom)
	}
	return []any{s.list, row.Line, nil, "", phone, row.AltPhone, row.FirstName, row.LastName,
		row.Address1, row.Address2, row.Address3, row.City, state, row.PostalCode, country, row.Email,
		row.VendorLeadCode, custom, group}
}

// group returns the calling-window group of a zone set and state, creating
// it on first sight. Groups are shared, append-only metadata: one created by
// an import that later fails is harmless.
func (s *stagingSource) group(zones []string, state string) (int32, error) {
	key := strings.Join(zones, ",") + "|" + state
	if id, ok := s.groups[key]; ok {
		return id, nil
	}
	var id int32
	err := s.db.QueryRow(s.ctx, `
WITH ins AS (
	INSERT INTO tz_groups (zones, state) VALUES ($1, $2) ON CONFLICT (zones, state) DO NOTHING RETURNING id
)
SELECT id FROM ins UNION ALL SELECT id FROM tz_groups WHERE zones = $1 AND state = $2
LIMIT 1`, zones, state).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("calling-window group %s: %w", key, err)
	}
	s.groups[key] = id
	return id, nil
}

func quote(s string) string { return fmt.Sprintf("%q", clip(s, 60)) }

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// rawOf rebuilds a readable record for the error report.
func rawOf(row LeadRow) string {
	parts := []string{row.Phone, row.FirstName, row.LastName, row.City, row.State, row.PostalCode}
	return clip(strings.Join(parts, ","), 2000)
}

// The set-based half of an import, in the import's transaction.
const (
	// Imports into one campaign take turns from here on: the leads insert
	// below finds duplicates itself instead of relying on ON CONFLICT, whose
	// speculative insertion costs a bulk insert about 40%.
	importLockSQL = `SELECT pg_advisory_xact_lock(1885430629, ($1 % 2147483647)::int)`

	// One lead per number: the first line of each number in the file, unless
	// the campaign already has it. A DNC number is imported but marked, so it
	// is never dialled and the manager sees it.
	importLeadsSQL = `
WITH firsts AS (
	SELECT min(line) AS line FROM import_staging WHERE reject IS NULL GROUP BY phone
), ins AS (
	INSERT INTO leads (campaign_id, list_id, line, phone, alt_phone, first_name, last_name, address1, address2,
		address3, city, state, postal_code, country, email, vendor_code, custom, tz_group, dnc)
	SELECT $2, $1, s.line, s.phone, s.alt_phone, s.first_name, s.last_name, s.address1, s.address2, s.address3,
		s.city, s.state, s.postal_code, s.country, s.email, s.vendor_code, s.custom, s.tz_group,
		s.phone IN (SELECT d.phone FROM dnc d WHERE d.campaign_id IS NULL OR d.campaign_id = $2)
	FROM import_staging s JOIN firsts f ON f.line = s.line
	WHERE NOT EXISTS (SELECT 1 FROM leads l WHERE l.campaign_id = $2 AND l.phone = s.phone)
	ORDER BY CASE WHEN $3 THEN random() ELSE 0 END
	RETURNING dnc
)
SELECT count(*), count(*) FILTER (WHERE dnc) FROM ins`

	importRejectsSQL = `
INSERT INTO lead_import_rejects (list_id, line, reason, raw)
SELECT $1, line, reject, raw FROM import_staging WHERE reject IS NOT NULL`

	// Valid rows that did not become leads are duplicates: name what they
	// duplicate, so the report is actionable.
	importDuplicatesSQL = `
INSERT INTO lead_import_rejects (list_id, line, reason, raw)
SELECT $1, s.line,
	CASE WHEN l.list_id = $1 THEN 'duplicate of line ' || l.line
	     ELSE 'number already in this campaign (list ' || l.list_id || ', line ' || l.line || ')' END,
	s.phone
FROM import_staging s JOIN leads l ON l.campaign_id = $2 AND l.phone = s.phone
WHERE s.reject IS NULL AND NOT (l.list_id = $1 AND l.line = s.line)`

	importFinishSQL = `
UPDATE lead_lists SET status = 'ready', rows_read = $2, imported = $3, duplicates = $4, invalid = $5, dnc = $6,
	finished_at = now()
WHERE id = $1`
)

func moveStaged(ctx context.Context, tx pgx.Tx, c *Campaign, list ListID, res *ImportResult) error {
	campaign := c.ID
	if _, err := tx.Exec(ctx, importLockSQL, int64(campaign)); err != nil {
		return fmt.Errorf("wait for other imports into the campaign: %w", err)
	}
	if err := tx.QueryRow(ctx, importLeadsSQL, list, campaign, c.LeadOrder == "random").Scan(&res.Imported, &res.DNC); err != nil {
		return fmt.Errorf("insert leads: %w", err)
	}
	tag, err := tx.Exec(ctx, importRejectsSQL, list)
	if err != nil {
		return fmt.Errorf("record rejected rows: %w", err)
	}
	res.Invalid = tag.RowsAffected()
	if tag, err = tx.Exec(ctx, importDuplicatesSQL, list, campaign); err != nil {
		return fmt.Errorf("record duplicates: %w", err)
	}
	res.Duplicates = tag.RowsAffected()
	if res.Rows != res.Imported+res.Duplicates+res.Invalid {
		return fmt.Errorf("import accounting is off: %d rows read, %d imported + %d duplicates + %d invalid",
			res.Rows, res.Imported, res.Duplicates, res.Invalid)
	}
	_, err = tx.Exec(ctx, importFinishSQL, list, res.Rows, res.Imported, res.Duplicates, res.Invalid, res.DNC)
	return err
}

// LeadList is a lead list's status and counts.
type LeadList struct {
	ID         ListID     `json:"id"`
	Campaign   ID         `json:"campaign_id"`
	Name       string     `json:"name"`
	Format     string     `json:"format"`
	Status     string     `json:"status"`
	BytesTotal int64      `json:"bytes_total"`
	BytesRead  int64      `json:"bytes_read"`
	RowsRead   int64      `json:"rows_read"`
	Imported   int64      `json:"imported"`
	Duplicates int64      `json:"duplicates"`
	Invalid    int64      `json:"invalid"`
	DNC        int64      `json:"dnc"`
	Error      string     `json:"error,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}

// GetList returns a list's status and counts (progress while importing).
func GetList(ctx context.Context, db DB, id ListID) (LeadList, error) {
	var l LeadList
	err := db.QueryRow(ctx, `SELECT id, campaign_id, name, format, status, bytes_total, bytes_read, rows_read,
		imported, duplicates, invalid, dnc, error, created_at, finished_at FROM lead_lists WHERE id = $1`, id).Scan(
		&l.ID, &l.Campaign, &l.Name, &l.Format, &l.Status, &l.BytesTotal, &l.BytesRead, &l.RowsRead,
		&l.Imported, &l.Duplicates, &l.Invalid, &l.DNC, &l.Error, &l.CreatedAt, &l.FinishedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return l, fmt.Errorf("list %d: %w", id, ErrNotFound)
	}
	return l, err
}

// RejectedRow is one line of an import's error report.
type RejectedRow struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
	Raw    string `json:"raw"`
}

// ImportErrors streams a list's rejected rows in line order to fn.
func ImportErrors(ctx context.Context, db DB, id ListID, fn func(RejectedRow) error) error {
	rows, err := db.Query(ctx, `SELECT line, reason, raw FROM lead_import_rejects WHERE list_id = $1 ORDER BY line`, id)
	if err != nil {
		return fmt.Errorf("rejected rows of list %d: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var r RejectedRow
		if err := rows.Scan(&r.Line, &r.Reason, &r.Raw); err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}
