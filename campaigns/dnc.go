package campaigns

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

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

// DNCHow is the way a number went on or came off a list, as dnc_events
// records it.
type DNCHow string

// Ways a list changes.
const (
	DNCViaAPI         DNCHow = "api"
	DNCViaConsole     DNCHow = "console"
	DNCViaCLI         DNCHow = "cli"
	DNCViaImport      DNCHow = "import"
	DNCViaDisposition DNCHow = "disposition"
)

// source is the dnc row's own note of how the number came on.
func (h DNCHow) source() DNCSource {
	switch h {
	case DNCViaImport:
		return DNCImport
	case DNCViaDisposition:
		return DNCDisposition
	}
	return DNCManual
}

// DNCChange says who changes a list, how, when and why. The dnc table
// records every added and removed row in dnc_events itself (migration 0013),
// taking these from settings local to the writing transaction, so no writer
// can leave a change unrecorded; a writer without them is recorded as how
// "sql" by the database user.
type DNCChange struct {
	How DNCHow
	// ByUser is the user (users.id) or agent who made the change, 0 none.
	ByUser int64
	// By names who made it: a username, the OS user of the CLI. Required.
	By string
	// Reason says why: required to remove a number, optional to add one.
	Reason string
	// Call is the calls row of the disposition that added the number.
	Call int64
	// At is when; zero takes the transaction's start.
	At time.Time
}

// A DNC change's reason that the caller must fix.
var (
	// ErrDNCReasonRequired: a number comes off a list only with a reason.
	ErrDNCReasonRequired = errors.New("removing a number from a DNC list needs a reason")
	// ErrDNCReasonTooLong: a reason over MaxDNCReason characters.
	ErrDNCReasonTooLong = errors.New("a DNC change's reason is too long")
)

// MaxDNCReason bounds a change's reason (characters).
const MaxDNCReason = 500

func (ch DNCChange) check(remove bool) error {
	switch {
	case ch.How == "":
		return errors.New("a DNC change needs to say how it is made")
	case strings.TrimSpace(ch.By) == "":
		return errors.New("a DNC change needs to say who makes it")
	case remove && strings.TrimSpace(ch.Reason) == "":
		return ErrDNCReasonRequired
	case utf8.RuneCountInString(ch.Reason) > MaxDNCReason:
		return fmt.Errorf("%w: at most %d characters", ErrDNCReasonTooLong, MaxDNCReason)
	}
	return nil
}

// record makes ch the context the dnc table's triggers record changes with,
// for the rest of tx.
func (ch DNCChange) record(ctx context.Context, tx DB) error {
	var user, call, at string
	if ch.ByUser != 0 {
		user = strconv.FormatInt(ch.ByUser, 10)
	}
	if ch.Call != 0 {
		call = strconv.FormatInt(ch.Call, 10)
	}
	if !ch.At.IsZero() {
		at = ch.At.UTC().Format(time.RFC3339Nano)
	}
	_, err := tx.Exec(ctx, `SELECT set_config('pacer.dnc_how', $1, true), set_config('pacer.dnc_by_user', $2, true),
	set_config('pacer.dnc_by', $3, true), set_config('pacer.dnc_reason', $4, true), set_config('pacer.dnc_call', $5, true),
	set_config('pacer.dnc_at', $6, true)`, string(ch.How), user, strings.TrimSpace(ch.By), strings.TrimSpace(ch.Reason), call, at)
	if err != nil {
		return fmt.Errorf("record DNC change by %s: %w", ch.By, err)
	}
	return nil
}

// AddDNC puts numbers (already E.164) on a list and marks matching leads so
// the hopper skips them at once; the claim query checks the lists again, so a
// number is never dialled even if marking races an import. Each number new
// to the list is recorded with ch. Returns how many numbers were new.
func AddDNC(ctx context.Context, db TxDB, scope DNCScope, phones []string, ch DNCChange) (int64, error) {
	if err := ch.check(false); err != nil {
		return 0, err
	}
	var added int64
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		if err := ch.record(ctx, tx); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `
INSERT INTO dnc (campaign_id, phone, source)
SELECT $1, p, $3 FROM unnest($2::text[]) AS p
ON CONFLICT DO NOTHING`, scope.campaignArg(), phones, string(ch.How.source()))
		if err != nil {
			return fmt.Errorf("add to DNC: %w", err)
		}
		added = tag.RowsAffected()
		_, err = tx.Exec(ctx, markDNCSQL, scope.campaignArg(), phones)
		return err
	})
	return added, err
}

// RemoveDNC takes numbers off a list, recording each with ch, which must
// give a reason; leads become dialable again only if no other list still
// holds the number.
func RemoveDNC(ctx context.Context, db TxDB, scope DNCScope, phones []string, ch DNCChange) (int64, error) {
	if err := ch.check(true); err != nil {
		return 0, err
	}
	var removed int64
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		if err := ch.record(ctx, tx); err != nil {
			return err
		}
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
// a header line that is not a number is skipped) and adds them in batches,
// each new number recorded as an import made by ch.By.
func ImportDNC(ctx context.Context, db TxDB, scope DNCScope, r io.Reader, region string, ch DNCChange) (DNCImportResult, error) {
	ch.How = DNCViaImport
	var res DNCImportResult
	if err := ch.check(false); err != nil {
		return res, err
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	batch := make([]string, 0, 5000)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		n, err := AddDNC(ctx, db, scope, batch, ch)
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
