package campaigns

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

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
	// Streams is how many connections copy the list in parallel (at most
	// 4); 0 picks 2, or 1 for a file known to be under 8 MB.
	Streams int
	// Concurrency is how many imports run at once across every process
	// sharing the database (import_queue.go); the rest wait, queued. 0
	// means DefaultImportConcurrency. Processes sharing a database should
	// agree on it: each counts the first Concurrency slots.
	Concurrency int
	// Listed, when set, is called once the list exists (queued), before
	// its turn comes.
	Listed func(ListID)
	// Spool holds the import's scratch files; nil makes one in the
	// temporary directory for the import's duration.
	Spool *ImportSpool

	// sharedBelow overrides sharedListMaxLeads (tests of the partition
	// path with small files).
	sharedBelow int64
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

// Import loads a lead file into a new list of a campaign.
//
// Records are streamed from r (memory stays flat for any size), normalised
// (E.164, time zones, state codes) and copied with COPY into the list's own
// partition tables, one per stream, each on its own connection so that
// PostgreSQL works on both halves at once. A number always goes to the same
// stream, so each stream drops its own in-file duplicates; then it builds its
// indexes in one sorted pass each and marks DNC numbers. Finally, under the
// campaign's import lock, numbers the campaign already has are dropped, the
// partitions are attached to leads and the list becomes ready, in one
// transaction. Every rejected record is kept with its line number and reason
// (ImportErrors).
//
// A list that keeps fewer than sharedListMaxLeads leads does not keep its
// partition: its leads move into leads_shared (migration 0016), so that
// small lists do not each cost the hopper a partition.
//
// The list exists from the start, queued until one of the import slots is
// free (import_queue.go); while waiting the import holds no connection.
//
// A failed import leaves the list marked failed with its error and no leads;
// an import whose process died is cleaned up by FailAbandonedImports and its
// files by SweepImportSpools. Progress (rows and bytes read) is written to
// the list row while the import runs, so another process can watch it.
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
	if err := pool.QueryRow(ctx, `INSERT INTO lead_lists (campaign_id, name, format, bytes_total, status, queue_beat_at)
		VALUES ($1, $2, $3, $4, 'queued', now()) RETURNING id`, c.ID, opts.Name, string(format), opts.Size).Scan(&list); err != nil {
		return ImportResult{}, fmt.Errorf("create list: %w", err)
	}
	if opts.Listed != nil {
		opts.Listed(list)
	}
	concurrency := opts.Concurrency
	if concurrency <= 0 {
		concurrency = DefaultImportConcurrency
	}
	// The coordinating connection holds an import slot and the list's
	// import lock for the whole import: FailAbandonedImports treats an
	// importing list whose lock is free as abandoned. Every connection an
	// import holds for long is its own, not the pool's: imports holding
	// pooled connections while waiting for more could starve each other
	// and everything else.
	coord, err := waitTurn(ctx, pool, list, concurrency)
	if err != nil {
		ferr := failImport(context.WithoutCancel(ctx), pool, list, nil, err.Error())
		return ImportResult{List: list}, errors.Join(err, ferr)
	}
	// Closing the connection releases the slot and the list's lock.
	defer coord.Close(context.WithoutCancel(ctx))

	spool := opts.Spool
	if spool == nil {
		if spool, err = NewImportSpool(""); err != nil {
			return ImportResult{List: list}, err
		}
		defer spool.Close()
	}
	imp := &importer{pool: pool, coord: coord, lr: lr, c: &c, list: list, opts: opts, spool: spool}
	res, err := imp.run(ctx)
	res.List = list
	res.Seconds = time.Since(start).Seconds()
	if err != nil {
		// The import's own context may be what failed; the failure must
		// still be recorded.
		ferr := failImport(context.WithoutCancel(ctx), pool, list, imp.parts, err.Error())
		return res, errors.Join(err, ferr)
	}
	return res, nil
}

// importListLockKey is the advisory lock class of running imports (the
// second key is the list id).
const importListLockKey = 1885430630

// failImport drops what an unfinished import built and marks its list failed.
func failImport(ctx context.Context, db DB, list ListID, parts []*leadPart, reason string) error {
	for _, p := range parts {
		if _, err := db.Exec(ctx, `DROP TABLE IF EXISTS `+p.name); err != nil {
			return fmt.Errorf("drop %s: %w", p.name, err)
		}
	}
	if _, err := db.Exec(ctx, `DELETE FROM lead_import_rejects WHERE list_id = $1`, list); err != nil {
		return err
	}
	_, err := db.Exec(ctx, `UPDATE lead_lists SET status = 'failed', error = $2, finished_at = now(), queue_beat_at = NULL
		WHERE id = $1 AND status IN ('queued', 'importing')`,
		list, reason)
	return err
}

// Lead ids of list L are L<<listIDShift + n: a list holds fewer than 2^28
// leads, and ids below 2^28 belong to leads inserted one by one.
const listIDShift = 28

// leadPart is one stream of an import and the partition table it fills.
type leadPart struct {
	name   string
	lo, hi int64 // id range [lo, hi)
	nextID int64
	buf    *bytes.Buffer
	ch     chan *bytes.Buffer
	// suspects spools numbers the reader may have seen before in this
	// stream (seenFilter); nil while there are none.
	suspects  *os.File
	suspectsW *bufio.Writer

	copied, duplicates, dnc int64
}

type importer struct {
	pool  *pgxpool.Pool
	coord *pgx.Conn
	lr    *LeadReader
	c     *Campaign
	list  ListID
	opts  ImportOptions
	spool *ImportSpool
	parts []*leadPart

	rows    atomic.Int64
	free    chan *bytes.Buffer
	rejects *os.File
	nReject int64
	groups  map[string]int32
	places  map[placeKey]place
	located map[locatedKey]int32
	seen    seenFilter
	random  *rand.Rand
	scratch []byte
}

const copyChunk = 256 << 10

func (imp *importer) streams() int {
	switch {
	case imp.opts.Streams > 0:
		return min(imp.opts.Streams, 4)
	case imp.opts.Size > 0 && imp.opts.Size < 8<<20:
		// Small lists are one partition: two would double the tables for
		// no gain.
		return 1
	default:
		return 2
	}
}

func (imp *importer) run(ctx context.Context) (ImportResult, error) {
	var res ImportResult
	n := imp.streams()
	base := int64(imp.list) << listIDShift
	width := int64(1<<listIDShift) / int64(n)
	imp.free = make(chan *bytes.Buffer, 4*n)
	for k := range n {
		lo := base + int64(k)*width
		imp.parts = append(imp.parts, &leadPart{
			name: fmt.Sprintf("leads_list_%d_%d", imp.list, k), lo: lo, hi: lo + width, nextID: lo,
			ch: make(chan *bytes.Buffer, 2),
		})
	}
	imp.groups = map[string]int32{}
	imp.places = map[placeKey]place{}
	imp.located = map[locatedKey]int32{}
	if imp.c.LeadOrder == "random" {
		imp.random = rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(imp.list)))
	}
	var err error
	if imp.rejects, err = imp.spool.Create("rejects-*"); err != nil {
		return res, fmt.Errorf("rejected-rows spool: %w", err)
	}
	defer func() {
		imp.rejects.Close()
		os.Remove(imp.rejects.Name())
		for _, p := range imp.parts {
			if p.suspects != nil {
				p.suspects.Close()
				os.Remove(p.suspects.Name())
			}
		}
	}()
	imp.seen = newSeenFilter()

	stopProgress := watchProgress(ctx, imp.pool, imp.list, &imp.rows, imp.lr, imp.opts)
	defer stopProgress()

	// Streams first, so the reader never waits for a table to exist.
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	streamErr := make([]error, n)
	for k, p := range imp.parts {
		wg.Go(func() {
			if err := imp.stream(sctx, p); err != nil {
				streamErr[k] = err
				cancel(err)
			}
		})
	}
	readErr := imp.feed(sctx)
	if readErr != nil {
		cancel(readErr) // the streams abandon their COPY rather than commit half a list
	}
	for _, p := range imp.parts {
		close(p.ch)
	}
	wg.Wait()
	stopProgress()
	if err := errors.Join(append([]error{readErr}, streamErr...)...); err != nil {
		if readErr != nil {
			return res, readErr // a stream's error is then only the cancellation
		}
		return res, err
	}
	res.Rows = imp.rows.Load()
	res.Invalid = imp.nReject
	if err := imp.finish(ctx, &res); err != nil {
		return res, err
	}
	return res, nil
}

// feed reads and normalises the records on this goroutine while route
// encodes them for their streams on another, so that Go uses both cores
// when PostgreSQL is waiting for input. Rejected records go to the spool.
func (imp *importer) feed(ctx context.Context) error {
	fctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	batches := make(chan *leadBatch, 4)
	free := make(chan *leadBatch, 6)
	routed := make(chan error, 1)
	go func() {
		err := imp.route(fctx, batches, free)
		if err != nil {
			cancel(err)
			for range batches { // until read sees the cancellation
			}
		}
		routed <- err
	}()
	err := imp.read(fctx, batches, free)
	close(batches)
	if rerr := <-routed; rerr != nil {
		return rerr // read's error is then only the cancellation
	}
	return err
}

// leadBatch carries normalised leads from read to route; custom fields are
// JSON in arena.
type leadBatch struct {
	leads []normLead
	arena []byte
}

const leadBatchSize = 512

func (imp *importer) read(ctx context.Context, batches, free chan *leadBatch) error {
	rw := bufio.NewWriterSize(imp.rejects, 64<<10)
	var batch *leadBatch
	flush := func() error {
		if batch == nil || len(batch.leads) == 0 {
			return nil
		}
		select {
		case batches <- batch:
			batch = nil
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	var row LeadRow
	var rejectLine []byte // route's encode has imp.scratch
	for {
		err := imp.lr.next(&row, true)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read lead file: %w", err)
		}
		imp.rows.Add(1)
		lead, reason, err := imp.normalize(ctx, row)
		if err != nil {
			return err
		}
		if reason != "" {
			imp.nReject++
			raw := row.Raw
			if row.Err == nil {
				raw = rawOf(row)
			}
			b := rejectLine[:0]
			b = strconv.AppendInt(b, int64(imp.list), 10)
			b = append(b, '\t')
			b = strconv.AppendInt(b, int64(row.Line), 10)
			b = append(b, '\t')
			b = appendCopyText(b, reason)
			b = append(b, '\t')
			b = appendCopyText(b, clip(raw, 2000))
			b = append(b, '\n')
			rejectLine = b
			if _, err := rw.Write(b); err != nil {
				return fmt.Errorf("rejected-rows spool: %w", err)
			}
			continue
		}
		if batch == nil {
			select {
			case batch = <-free:
				batch.leads, batch.arena = batch.leads[:0], batch.arena[:0]
			default:
				batch = &leadBatch{leads: make([]normLead, 0, leadBatchSize)}
			}
		}
		lead.row = row
		lead.row.Custom = nil
		lo := len(batch.arena)
		batch.arena = appendJSONObject(batch.arena, row.Custom)
		lead.custom = [2]int{lo, len(batch.arena)}
		batch.leads = append(batch.leads, lead)
		if len(batch.leads) == leadBatchSize {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if err := rw.Flush(); err != nil {
		return fmt.Errorf("rejected-rows spool: %w", err)
	}
	return nil
}

// route sends each lead to its stream (by number, so a number's every line
// is in one stream), encoded for COPY, and notes possible duplicates.
func (imp *importer) route(ctx context.Context, batches, free chan *leadBatch) error {
	for batch := range batches {
		for i := range batch.leads {
			lead := &batch.leads[i]
			h := phoneHash(lead.phone)
			p := imp.parts[uint32(h)%uint32(len(imp.parts))]
			if imp.seen.testAndSet(h) {
				if err := p.suspect(imp.spool, lead.phone); err != nil {
					return err
				}
			}
			if p.nextID == p.hi {
				return fmt.Errorf("a list holds at most %d leads: split the file", int64(len(imp.parts))*(p.hi-p.lo))
			}
			if p.buf == nil {
				select {
				case p.buf = <-imp.free:
					p.buf.Reset()
				default:
					p.buf = bytes.NewBuffer(make([]byte, 0, copyChunk+8<<10))
				}
			}
			p.buf.Write(imp.encode(p, lead, batch.arena[lead.custom[0]:lead.custom[1]]))
			if p.buf.Len() >= copyChunk {
				if err := imp.send(ctx, p); err != nil {
					return err
				}
			}
		}
		select {
		case free <- batch:
		default:
		}
	}
	for _, p := range imp.parts {
		if p.buf != nil && p.buf.Len() > 0 {
			if err := imp.send(ctx, p); err != nil {
				return err
			}
		}
		if p.suspectsW != nil {
			if err := p.suspectsW.Flush(); err != nil {
				return fmt.Errorf("duplicate-suspects spool: %w", err)
			}
		}
	}
	return nil
}

func (p *leadPart) suspect(spool *ImportSpool, phone string) error {
	if p.suspects == nil {
		f, err := spool.Create("suspects-*")
		if err != nil {
			return fmt.Errorf("duplicate-suspects spool: %w", err)
		}
		p.suspects, p.suspectsW = f, bufio.NewWriterSize(f, 64<<10)
	}
	p.suspectsW.WriteString(phone)
	return p.suspectsW.WriteByte('\n')
}

// seenFilter is a fixed-size Bloom filter of the numbers read so far (4 MB,
// whatever the file's size). A number it has not seen is certainly not a
// duplicate within the file; the few it may have seen are checked in the
// database, so in-file deduplication costs a lookup per suspect instead of
// grouping every lead.
type seenFilter []uint64

const seenFilterBits = 1 << 25

func newSeenFilter() seenFilter { return make(seenFilter, seenFilterBits/64) }

// testAndSet reports whether h's bits were all set already, and sets them.
func (f seenFilter) testAndSet(h uint64) bool {
	a, b := h&(seenFilterBits-1), (h>>32)&(seenFilterBits-1)
	wa, ma := a/64, uint64(1)<<(a%64)
	wb, mb := b/64, uint64(1)<<(b%64)
	seen := f[wa]&ma != 0 && f[wb]&mb != 0
	f[wa] |= ma
	f[wb] |= mb
	return seen
}

func (imp *importer) send(ctx context.Context, p *leadPart) error {
	select {
	case p.ch <- p.buf:
		p.buf = nil
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// phoneHash is 64-bit FNV-1a, finished with a multiply-xorshift so every
// bit depends on every digit.
func phoneHash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	h ^= h >> 29
	h *= 0xbf58476d1ce4e5b9
	return h ^ h>>32
}

// normLead is a record ready to be copied.
type normLead struct {
	row          LeadRow // without Custom: see custom
	phone, state string
	group        int32
	custom       [2]int // the custom fields' JSON in its batch's arena
}

// normalize returns the lead a record makes, or why it is rejected; err is
// for failures that stop the import.
func (imp *importer) normalize(ctx context.Context, row LeadRow) (normLead, string, error) {
	if row.Err != nil {
		return normLead{}, row.Err.Error(), nil
	}
	raw := row.Phone
	if row.PhoneCode != "" && !strings.HasPrefix(strings.TrimSpace(raw), "+") {
		raw = "+" + strings.Trim(row.PhoneCode, "+ ") + " " + raw
	}
	phone, err := NormalizePhone(raw, imp.c.DefaultRegion)
	if err != nil {
		var pe *PhoneError
		if errors.As(err, &pe) {
			return normLead{}, "invalid phone number " + quote(row.Phone) + ": " + pe.Reason, nil
		}
		return normLead{}, err.Error(), nil
	}
	nanp := strings.HasPrefix(phone, "+1")
	key := placeKey{state: row.State, postal: row.PostalCode, country: row.Country, nanp: nanp}
	pl, ok := imp.places[key]
	if !ok {
		pl.state = NormalizeState(row.State)
		if pl.state == "" {
			pl.state = strings.TrimSpace(row.State)
		}
		pl.zones, pl.states = addressPlace(nanp, pl.state, row.PostalCode, row.Country)
		if len(imp.places) < maxPlaces {
			imp.places[key] = pl
		}
	}
	// The window must hold wherever the address and the number put the
	// lead (LeadPlace): the number's part depends only on its time-zone
	// table entry and, in North America, its area code.
	lk := locatedKey{place: key, numberZones: zoneTableEntry(phone)}
	if nanp {
		lk.areaCode = phone[:min(len(phone), 5)]
	}
	if group, ok := imp.located[lk]; ok {
		return normLead{phone: phone, state: pl.state, group: group}, "", nil
	}
	numZones, numState := numberPlace(phone)
	zones, states := pl.zones, pl.states
	if zones == nil {
		zones = phoneZones(phone)
	} else {
		zones = append(slices.Clip(zones), numZones...)
	}
	if numState != "" {
		states = append(slices.Clip(states), numState)
	}
	group, err := imp.group(ctx, canonicalZones(slices.Clone(zones)), canonicalZones(slices.Clone(states)))
	if err != nil {
		return normLead{}, "", err
	}
	if lk.numberZones != nil && len(imp.located) < maxPlaces {
		imp.located[lk] = group
	}
	return normLead{phone: phone, state: pl.state, group: group}, "", nil
}

// locatedKey is everything a lead's calling-window group depends on: its
// address and what its number says (numberPlace).
type locatedKey struct {
	place       placeKey
	numberZones *string // zoneTableEntry
	areaCode    string  // "+1NPA" for a North American number
}

// placeKey is what the address part of a lead's calling-window group
// depends on; place is the answer, remembered per import (up to maxPlaces
// of them, so memory stays bounded).
type placeKey struct {
	state, postal, country string
	nanp                   bool
}

type place struct {
	state         string
	zones, states []string // zones nil: the address says nothing; the number decides
}

const maxPlaces = 200_000

// encode appends a lead's COPY text line to the scratch buffer and returns it.
func (imp *importer) encode(p *leadPart, l *normLead, custom []byte) []byte {
	row := &l.row
	b := imp.scratch[:0]
	b = strconv.AppendInt(b, p.nextID, 10)
	p.nextID++
	b = append(b, '\t')
	b = strconv.AppendInt(b, int64(imp.c.ID), 10)
	b = append(b, '\t')
	b = strconv.AppendInt(b, int64(imp.list), 10)
	b = append(b, '\t')
	b = strconv.AppendInt(b, int64(row.Line), 10)
	for _, s := range [...]string{l.phone, row.AltPhone, row.FirstName, row.LastName, row.Address1, row.Address2,
		row.Address3, row.City, l.state, row.PostalCode, row.Country, row.Email, row.VendorLeadCode} {
		b = append(b, '\t')
		b = appendCopyText(b, s)
	}
	b = append(b, '\t')
	b = appendCopyBytes(b, custom)
	b = append(b, '\t')
	b = strconv.AppendInt(b, int64(l.group), 10)
	if imp.random != nil {
		// Random lead order: new leads are due from the epoch anyway, and
		// the hopper takes them by next attempt time, so a random instant
		// in the epoch's first second shuffles them.
		b = append(b, "\t1970-01-01 00:00:00."...)
		b = fmt.Appendf(b, "%06d", imp.random.IntN(1_000_000))
		b = append(b, "+00"...)
	}
	b = append(b, '\n')
	imp.scratch = b
	return b
}

// copyColumns are the columns encode writes (then next_attempt_at for a
// random-order campaign); the rest take their defaults.
const copyColumns = "id, campaign_id, list_id, line, phone, alt_phone, first_name, last_name, address1, address2, " +
	"address3, city, state, postal_code, country, email, vendor_code, custom, tz_group"

// appendCopyText appends s escaped for COPY's text format. Invalid UTF-8 is
// replaced and NUL bytes (which text cannot hold) dropped, so one odd cell
// never fails a whole import.
func appendCopyText(b []byte, s string) []byte {
	if plainASCII(s, &copyEscapes) {
		return append(b, s...)
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b = append(b, '\\', '\\')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case 0:
		default:
			b = append(b, c)
		}
	}
	return b
}

// appendCopyBytes is appendCopyText for bytes already valid UTF-8.
func appendCopyBytes(b, s []byte) []byte {
	for _, c := range s {
		if copyEscapes[c] {
			return appendCopyText(b, string(s))
		}
	}
	return append(b, s...)
}

// Bytes that need escaping: for COPY text, backslash, the separators and
// NUL; for JSON, quote, backslash and control characters. Both tables also
// send non-ASCII to the careful path, which checks the UTF-8.
var copyEscapes, jsonEscapes = func() (c, j [256]bool) {
	for i := range 256 {
		c[i] = i >= 0x80 || i == '\\' || i == '\n' || i == '\r' || i == '\t' || i == 0
		j[i] = i >= 0x80 || i == '"' || i == '\\' || i < 0x20
	}
	return c, j
}()

func plainASCII(s string, escapes *[256]bool) bool {
	for i := 0; i < len(s); i++ {
		if escapes[s[i]] {
			return false
		}
	}
	return true
}

// appendJSONObject appends m as a JSON object (keys in any order: jsonb
// orders them itself).
func appendJSONObject(b []byte, m map[string]string) []byte {
	b = append(b, '{')
	first := true
	for k, v := range m {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = appendJSONString(b, v)
	}
	return append(b, '}')
}

func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	if plainASCII(s, &jsonEscapes) {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == 0:
			// jsonb cannot hold U+0000; the cell loses it.
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// createPartitionSQL creates a list partition of leads, not yet attached.
// Its CHECKs let ATTACH skip its scan and the planner leave the list out of
// other campaigns' queries.
func createPartitionSQL(name string, lo, hi, campaign, list int64) string {
	return fmt.Sprintf(`CREATE TABLE %[1]s (LIKE leads INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
	CONSTRAINT %[1]s_range CHECK (id >= %[2]d AND id < %[3]d),
	CONSTRAINT %[1]s_campaign CHECK (campaign_id = %[4]d AND list_id = %[5]d))`, name, lo, hi, campaign, list)
}

// indexPartitionSQL builds, once the rows are in, the indexes leads has
// (migration 0006), so that ATTACH adopts them instead of building its own.
func indexPartitionSQL(name string) string {
	return fmt.Sprintf(`ALTER TABLE %[1]s ADD CONSTRAINT %[1]s_pkey PRIMARY KEY (id);
CREATE INDEX %[1]s_phone ON %[1]s USING hash (phone);
CREATE INDEX %[1]s_hopper ON %[1]s (campaign_id, priority DESC, next_attempt_at, list_id, line, id)
	WHERE status IN ('new', 'retry') AND NOT dnc;
CREATE INDEX %[1]s_dialing ON %[1]s (claimed_at) WHERE status = 'dialing'`, name)
}

// sharedListMaxLeads: a list that keeps fewer leads goes into leads_shared
// rather than keeping partitions of its own (migration 0016 moved the
// lists it found by the same rule). Below it, inserting into the shared
// partition's indexes costs less than a second; the hopper would pay for
// a partition on every claim for as long as the list exists.
const sharedListMaxLeads = 50_000

// moveToSharedSQL moves a built partition's leads into leads_shared, with
// ids of the shared range, and drops it.
func moveToSharedSQL(name string) string {
	cols := strings.TrimPrefix(copyColumns, "id, ") + ", dnc, next_attempt_at"
	return fmt.Sprintf(`INSERT INTO leads (id, %[2]s) SELECT nextval('leads_shared_id_seq'), %[2]s FROM %[1]s ORDER BY line;
DROP TABLE %[1]s`, name, cols)
}

// attachPartitionSQL makes a built partition part of leads.
func attachPartitionSQL(name string, lo, hi int64) string {
	return fmt.Sprintf(`ALTER TABLE leads ATTACH PARTITION %s FOR VALUES FROM (%d) TO (%d)`, name, lo, hi)
}

// stream creates one partition table, COPYs its leads into it, drops in-file
// duplicates, builds the indexes leads has and marks DNC numbers, all in one
// transaction of its own connection; the table is attached in finish.
func (imp *importer) stream(ctx context.Context, p *leadPart) error {
	drain := func() {
		for b := range p.ch {
			imp.recycle(b)
		}
	}
	defer drain()
	conn, err := connectImport(ctx, imp.pool)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		campaign, list := int64(imp.c.ID), int64(imp.list)
		// Sorting a million index keys wants memory, not temp files.
		if _, err := tx.Exec(ctx, `SET LOCAL maintenance_work_mem = '256MB'; SET LOCAL work_mem = '64MB'; `+
			createPartitionSQL(p.name, p.lo, p.hi, campaign, list)); err != nil {
			return fmt.Errorf("create %s: %w", p.name, err)
		}
		columns := copyColumns
		if imp.random != nil {
			columns += ", next_attempt_at"
		}
		tag, err := tx.Conn().PgConn().CopyFrom(ctx, &chunkReader{ctx: ctx, ch: p.ch, imp: imp},
			fmt.Sprintf(`COPY %s (%s) FROM STDIN`, p.name, columns))
		if err != nil {
			return fmt.Errorf("copy leads: %w", err)
		}
		p.copied = tag.RowsAffected()
		if _, err := tx.Exec(ctx, indexPartitionSQL(p.name)); err != nil {
			return fmt.Errorf("index %s: %w", p.name, err)
		}
		if p.duplicates, err = dropInFileDuplicates(ctx, tx, p, list); err != nil {
			return fmt.Errorf("drop duplicates: %w", err)
		}
		// After the phone index: a short DNC list is then a few index
		// probes rather than a scan of the list.
		if tag, err = tx.Exec(ctx, fmt.Sprintf(`
UPDATE %[1]s p SET dnc = true
FROM (SELECT DISTINCT phone FROM dnc WHERE campaign_id IS NULL OR campaign_id = $1) d
WHERE p.phone = d.phone AND p.campaign_id = $1`, p.name), campaign); err != nil {
			return fmt.Errorf("mark DNC numbers: %w", err)
		}
		p.dnc = tag.RowsAffected()
		return nil
	})
}

// dropInFileDuplicates deletes every line of a number but its first and
// reports them, looking only at the numbers the reader suspected.
func dropInFileDuplicates(ctx context.Context, tx pgx.Tx, p *leadPart, list int64) (int64, error) {
	if p.suspects == nil {
		return 0, nil
	}
	if _, err := p.suspects.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE import_suspects (phone text NOT NULL) ON COMMIT DROP`); err != nil {
		return 0, err
	}
	if _, err := tx.Conn().PgConn().CopyFrom(ctx, p.suspects, `COPY import_suspects FROM STDIN`); err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, `ANALYZE import_suspects`); err != nil {
		return 0, err
	}
	tag, err := tx.Exec(ctx, fmt.Sprintf(`
WITH firsts AS (
	SELECT p.phone, min(p.line) AS line FROM %[1]s p
	WHERE p.phone IN (SELECT phone FROM import_suspects)
	GROUP BY p.phone HAVING count(*) > 1
), dups AS (
	DELETE FROM %[1]s p USING firsts f WHERE p.phone = f.phone AND p.line <> f.line RETURNING p.line, f.line AS first, p.phone
)
INSERT INTO lead_import_rejects (list_id, line, reason, raw)
SELECT $1, line, 'duplicate of line ' || first, phone FROM dups`, p.name), list)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (imp *importer) recycle(b *bytes.Buffer) {
	select {
	case imp.free <- b:
	default:
	}
}

// chunkReader hands COPY the buffers the reader fills for one stream.
type chunkReader struct {
	ctx context.Context
	ch  chan *bytes.Buffer
	imp *importer
	cur *bytes.Buffer
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for r.cur == nil || r.cur.Len() == 0 {
		if r.cur != nil {
			r.imp.recycle(r.cur)
		}
		r.cur = nil
		select {
		case b, ok := <-r.ch:
			if !ok {
				return 0, io.EOF
			}
			r.cur = b
		case <-r.ctx.Done():
			return 0, context.Cause(r.ctx)
		}
	}
	return r.cur.Read(p)
}

// finish drops numbers the campaign already has, attaches the partitions and
// marks the list ready, in one transaction under the campaign's import lock.
func (imp *importer) finish(ctx context.Context, res *ImportResult) error {
	campaign := int64(imp.c.ID)
	return pgx.BeginFunc(ctx, imp.coord, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, importLockSQL, campaign); err != nil {
			return fmt.Errorf("wait for other imports into the campaign: %w", err)
		}
		// Only a ready list of the campaign can hold its leads (an importing
		// one is not attached yet and checks against this one when it ends).
		var others bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM lead_lists WHERE campaign_id = $1 AND status = 'ready')`,
			campaign).Scan(&others); err != nil {
			return err
		}
		for _, p := range imp.parts {
			if others {
				if err := dropCampaignDuplicates(ctx, tx, p, int64(imp.list), campaign); err != nil {
					return fmt.Errorf("drop numbers the campaign has: %w", err)
				}
			}
			res.Imported += p.copied - p.duplicates
			res.Duplicates += p.duplicates
			res.DNC += p.dnc
		}
		for _, p := range imp.parts {
			sql := attachPartitionSQL(p.name, p.lo, p.hi)
			if res.Imported < cmp.Or(imp.opts.sharedBelow, sharedListMaxLeads) {
				sql = moveToSharedSQL(p.name)
			}
			if _, err := tx.Exec(ctx, sql); err != nil {
				return fmt.Errorf("add the leads of %s: %w", p.name, err)
			}
		}
		if _, err := imp.rejects.Seek(0, io.SeekStart); err != nil {
			return err
		}
		if _, err := tx.Conn().PgConn().CopyFrom(ctx, imp.rejects,
			`COPY lead_import_rejects (list_id, line, reason, raw) FROM STDIN`); err != nil {
			return fmt.Errorf("record rejected rows: %w", err)
		}
		if res.Rows != res.Imported+res.Duplicates+res.Invalid {
			return fmt.Errorf("import accounting is off: %d rows read, %d imported + %d duplicates + %d invalid",
				res.Rows, res.Imported, res.Duplicates, res.Invalid)
		}
		_, err := tx.Exec(ctx, importFinishSQL, imp.list, res.Rows, res.Imported, res.Duplicates, res.Invalid, res.DNC)
		return err
	})
}

// dropCampaignDuplicates deletes from a partition not yet attached the
// numbers its campaign already has, and reports them.
func dropCampaignDuplicates(ctx context.Context, tx pgx.Tx, p *leadPart, list, campaign int64) error {
	var n, dnc int64
	if err := tx.QueryRow(ctx, fmt.Sprintf(`
WITH dups AS (
	DELETE FROM %[1]s p USING leads l WHERE l.campaign_id = $2 AND l.phone = p.phone
	RETURNING p.line, p.phone, p.dnc, l.list_id, l.line AS first
), rep AS (
	INSERT INTO lead_import_rejects (list_id, line, reason, raw)
	SELECT $1, line, 'number already in this campaign (list ' || list_id || ', line ' || first || ')', phone FROM dups
)
SELECT count(*), count(*) FILTER (WHERE dnc) FROM dups`, p.name), list, campaign).Scan(&n, &dnc); err != nil {
		return err
	}
	p.duplicates += n
	p.dnc -= dnc
	return nil
}

// watchProgress writes rows/bytes read to the list row and calls the progress
// callback until the returned stop function is called (idempotent).
func watchProgress(ctx context.Context, pool *pgxpool.Pool, list ListID, rows *atomic.Int64, lr *LeadReader, opts ImportOptions) func() {
	every := opts.ProgressEvery
	if every <= 0 {
		every = 250 * time.Millisecond
	}
	done := make(chan struct{})
	exited := make(chan struct{})
	report := func() {
		p := ImportProgress{List: list, RowsRead: rows.Load(), BytesRead: lr.BytesRead(), Size: opts.Size}
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

// group returns the calling-window group of a zone set and state set,
// creating it on first sight.
func (imp *importer) group(ctx context.Context, zones, states []string) (int32, error) {
	key := groupKey(zones, states)
	if id, ok := imp.groups[key]; ok {
		return id, nil
	}
	id, err := ensureTZGroup(ctx, imp.pool, zones, states)
	if err != nil {
		return 0, err
	}
	imp.groups[key] = id
	return id, nil
}

// ensureTZGroup returns the id of the complete calling-window group of zones and
// states, creating it on first sight. Groups are shared, append-only
// metadata: one created by an import that later fails is harmless.
func ensureTZGroup(ctx context.Context, db DB, zones, states []string) (int32, error) {
	if states == nil {
		states = []string{} // the column is NOT NULL
	}
	var id int32
	err := pgx.ErrNoRows
	// No row at all means another import inserted the group after this
	// statement's snapshot was taken (ON CONFLICT waited for it, the SELECT
	// cannot see it): the next try sees it.
	for try := 0; try < 3 && errors.Is(err, pgx.ErrNoRows); try++ {
		err = db.QueryRow(ctx, `
WITH ins AS (
	INSERT INTO tz_groups (zones, states) VALUES ($1, $2)
	ON CONFLICT (zones, states, state, complete) DO NOTHING RETURNING id
)
SELECT id FROM ins UNION ALL
SELECT id FROM tz_groups WHERE zones = $1 AND states = $2 AND state = '' AND complete
LIMIT 1`, zones, states).Scan(&id)
	}
	if err != nil {
		return 0, fmt.Errorf("calling-window group %v %v: %w", zones, states, err)
	}
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

const (
	// Imports into one campaign take turns here: each drops the numbers the
	// campaign already has before attaching its own, which is what keeps
	// one lead per number per campaign.
	importLockSQL = `SELECT pg_advisory_xact_lock(1885430629, ($1 % 2147483647)::int)`

	importFinishSQL = `
UPDATE lead_lists SET status = 'ready', rows_read = $2, imported = $3, duplicates = $4, invalid = $5, dnc = $6,
	finished_at = now()
WHERE id = $1`
)

// LeadList is a lead list's status and counts.
type LeadList struct {
	ID       ListID `json:"id"`
	Campaign ID     `json:"campaign_id"`
	Name     string `json:"name"`
	Format   string `json:"format"`
	Status   string `json:"status"`
	// QueuePosition is a queued list's place in the import queue (1: next).
	QueuePosition int64      `json:"queue_position,omitempty"`
	BytesTotal    int64      `json:"bytes_total"`
	BytesRead     int64      `json:"bytes_read"`
	RowsRead      int64      `json:"rows_read"`
	Imported      int64      `json:"imported"`
	Duplicates    int64      `json:"duplicates"`
	Invalid       int64      `json:"invalid"`
	DNC           int64      `json:"dnc"`
	Error         string     `json:"error,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	FinishedAt    *time.Time `json:"finished_at,omitempty"`
	// DeletedAt is set once the list is deleted (DeleteList): its row
	// stays for reports, its leads are gone.
	DeletedAt *time.Time `json:"deleted_at,omitempty"`
	DeletedBy string     `json:"deleted_by,omitempty"`
}

// GetList returns a list's status and counts (progress while importing).
func GetList(ctx context.Context, db DB, id ListID) (LeadList, error) {
	var l LeadList
	err := db.QueryRow(ctx, `SELECT `+leadListColumns+` FROM lead_lists WHERE id = $1`, id).Scan(l.fields()...)
	if errors.Is(err, pgx.ErrNoRows) {
		return l, fmt.Errorf("list %d: %w", id, ErrNotFound)
	}
	return l, err
}

// leadListColumns are LeadList's, in fields' order.
const leadListColumns = `id, campaign_id, name, format, status, bytes_total, bytes_read, rows_read,
	imported, duplicates, invalid, dnc, error, created_at, finished_at, deleted_at, deleted_by,
	CASE WHEN status = 'queued' THEN ` + queuedAheadSQL + ` ELSE 0 END`

func (l *LeadList) fields() []any {
	return []any{&l.ID, &l.Campaign, &l.Name, &l.Format, &l.Status, &l.BytesTotal, &l.BytesRead, &l.RowsRead,
		&l.Imported, &l.Duplicates, &l.Invalid, &l.DNC, &l.Error, &l.CreatedAt, &l.FinishedAt, &l.DeletedAt, &l.DeletedBy, &l.QueuePosition}
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
