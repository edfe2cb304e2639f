package campaigns

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5"
)

// DNCSource records how a number came onto a do-not-call list.
type DNCSource string

// DNC sources.
const (
	DNCManual      DNCSource = "manual"
	DNCImport      DNCSource = "import"
	DNCDisposition DNCSource = "disposition"
)

// DNCScope names a do-not-call list: the global one (Campaign 0) or a
// campaign's own.
type DNCScope struct {
	Campaign ID
}

// Global is the list every campaign honours.
var Global = DNCScope{}

func (s DNCScope) campaignArg() any {
	if s.Campaign == 0 {
		return nil
	}
	return s.Campaign
}

// The leads the list change affects: every campaign for the global list,
// one campaign otherwise. Going through (campaign_id, phone) uses the
// unique index instead of scanning every lead.
const markDNCSQL = `
UPDATE leads SET dnc = true
WHERE campaign_id IN (SELECT id FROM campaigns WHERE $1::bigint IS NULL OR id = $1)
  AND phone = ANY($2) AND NOT dnc`

const unmarkDNCSQL = `
UPDATE leads l SET dnc = false
WHERE l.campaign_id IN (SELECT id FROM campaigns WHERE $1::bigint IS NULL OR id = $1)
  AND l.phone = ANY($2) AND l.dnc
  AND NOT EXISTS (SELECT 1 FROM dnc d WHERE d.phone = l.phone AND (d.campaign_id IS NULL OR d.campaign_id = l.campaign_id))`

// AddDNC puts numbers (already E.164) on a list and marks matching leads so
// the hopper skips them at once; the claim query checks the lists again, so a
// number is never dialled even if marking races an import. Returns how many
// numbers were new to the list.
func AddDNC(ctx context.Context, db TxDB, scope DNCScope, phones []string, source DNCSource) (int64, error) {
	var added int64
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
INSERT INTO dnc (campaign_id, phone, source)
SELECT $1, p, $3 FROM unnest($2::text[]) AS p
ON CONFLICT DO NOTHING`, scope.campaignArg(), phones, string(source))
		if err != nil {
			return fmt.Errorf("add to DNC: %w", err)
		}
		added = tag.RowsAffected()
		_, err = tx.Exec(ctx, markDNCSQL, scope.campaignArg(), phones)
		return err
	})
	return added, err
}

// RemoveDNC takes numbers off a list; leads become dialable again only if no
// other list still holds the number.
func RemoveDNC(ctx context.Context, db TxDB, scope DNCScope, phones []string) (int64, error) {
	var removed int64
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
DELETE FROM dnc WHERE phone = ANY($2)
  AND (($1::bigint IS NULL AND campaign_id IS NULL) OR campaign_id = $1)`, scope.campaignArg(), phones)
		if err != nil {
			return fmt.Errorf("remove from DNC: %w", err)
		}
		removed = tag.RowsAffected()
		_, err = tx.Exec(ctx, unmarkDNCSQL, scope.campaignArg(), phones)
		return err
	})
	return removed, err
}

// OnDNC reports whether a number is on the global list or the campaign's.
func OnDNC(ctx context.Context, db DB, campaign ID, phone string) (bool, error) {
	var on bool
	err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM dnc WHERE phone = $1 AND (campaign_id IS NULL OR campaign_id = $2))`,
		phone, campaign).Scan(&on)
	return on, err
}

// DNCImportResult counts a bulk DNC import.
type DNCImportResult struct {
	Lines   int64       `json:"lines"`
	Added   int64       `json:"added"`
	Already int64       `json:"already"`
	Invalid int64       `json:"invalid"`
	Errors  []LineError `json:"errors,omitempty"`
}

// LineError is a rejected line of an input file.
type LineError struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// maxReportedDNCErrors bounds the per-line report kept in memory.
const maxReportedDNCErrors = 1000

// ImportDNC reads one number per line (the first comma/tab/semicolon field;
// a header line that is not a number is skipped) and adds them in batches.
func ImportDNC(ctx context.Context, db TxDB, scope DNCScope, r io.Reader, region string) (DNCImportResult, error) {
	var res DNCImportResult
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	batch := make([]string, 0, 5000)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		n, err := AddDNC(ctx, db, scope, batch, DNCImport)
		if err != nil {
			return err
		}
		res.Added += n
		res.Already += int64(len(batch)) - n
		batch = batch[:0]
		return nil
	}
	seen := 0
	for sc.Scan() {
		res.Lines++
		line := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\ufeff"))
		if i := strings.IndexAny(line, ",\t;|"); i >= 0 {
			line = line[:i]
		}
		line = strings.Trim(line, `" `)
		if line == "" {
			continue
		}
		e164, err := NormalizePhone(line, region)
		if err != nil {
			if res.Lines == 1 && !strings.ContainsAny(line, "0123456789") {
				continue // a header
			}
			res.Invalid++
			if seen < maxReportedDNCErrors {
				seen++
				var pe *PhoneError
				reason := err.Error()
				if errors.As(err, &pe) {
					reason = pe.Reason
				}
				res.Errors = append(res.Errors, LineError{Line: int(res.Lines), Reason: reason})
			}
			continue
		}
		batch = append(batch, e164)
		if len(batch) == cap(batch) {
			if err := flush(); err != nil {
				return res, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return res, fmt.Errorf("read DNC file line %d: %w", res.Lines+1, err)
	}
	return res, flush()
}
