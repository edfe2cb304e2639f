package reports

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pacer-dialer/pacer/campaigns"
)

// Querier is what a report reads through: a pool, a connection or a
// transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Column is one column of a report: Key names it in CSV headers and JSON
// objects, Label for people.
type Column struct {
	Key   string `json:"key"`
	Label string `json:"label"`
}

// A row's values are nil, string, int64 or float64 (seconds, rates), in the
// order of the columns.
type (
	header func(cols []Column) error
	emit   func(row []any) error
)

// Report is one report: what it is called, what it counts and how.
type Report struct {
	Name  string `json:"name"`
	Title string `json:"title"`
	// Note says what the figures mean: which calls count, on which day.
	Note string `json:"note"`
	run  func(ctx context.Context, db Querier, p Params, head header, row emit) error
}

// All is every report, in the order the page offers them.
var All = []*Report{cdrReport, agentTimeReport, dispositionsReport, abandonReport, penetrationReport}

// Find returns the report called name.
func Find(name string) (*Report, error) {
	for _, r := range All {
		if r.Name == name {
			return r, nil
		}
	}
	return nil, invalid("no report called %q", name)
}

// errLimit stops a report at Params.Limit rows.
var errLimit = errors.New("row limit reached")

// Run calls head once with the columns, then row for each row in order.
func (r *Report) Run(ctx context.Context, db Querier, p Params, head func([]Column) error, row func([]any) error) error {
	n := 0
	err := r.run(ctx, db, p, head, func(v []any) error {
		if p.Limit > 0 && n >= p.Limit {
			return errLimit
		}
		n++
		return row(v)
	})
	if err != nil && !errors.Is(err, errLimit) {
		return fmt.Errorf("report %s: %w", r.Name, err)
	}
	return nil
}

// WriteCSV writes the report as CSV with a header row of column keys. Every
// text cell goes through campaigns.CSVSafe, so a lead's name cannot run as a
// spreadsheet formula. It flushes every 1,000 rows, so a long report reaches
// the client as it is read.
func (r *Report) WriteCSV(ctx context.Context, db Querier, p Params, out io.Writer) error {
	w := csv.NewWriter(out)
	n := 0
	err := r.Run(ctx, db, p, func(cols []Column) error {
		keys := make([]string, len(cols))
		for i, c := range cols {
			keys[i] = c.Key
		}
		return w.Write(keys)
	}, func(row []any) error {
		cells := make([]string, len(row))
		for i, v := range row {
			cells[i] = csvCell(v)
		}
		if err := w.Write(cells); err != nil {
			return err
		}
		if n++; n%1000 == 0 {
			w.Flush()
			return flush(out, w.Error())
		}
		return nil
	})
	w.Flush()
	if err != nil {
		return err
	}
	return flush(out, w.Error())
}

func flush(out io.Writer, err error) error {
	if err != nil {
		return err
	}
	if b, ok := out.(*bufio.Writer); ok {
		return b.Flush()
	}
	return nil
}

func csvCell(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return campaigns.CSVSafe(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	panic(fmt.Sprintf("report cell of type %T", v))
}

// WriteJSON writes the report as one JSON object: what it is and covers,
// its columns, and its rows as objects keyed by column, streamed.
func (r *Report) WriteJSON(ctx context.Context, db Querier, p Params, out io.Writer) error {
	var keys []string
	n := 0
	err := r.Run(ctx, db, p, func(cols []Column) error {
		for _, c := range cols {
			keys = append(keys, c.Key)
		}
		head, err := json.Marshal(map[string]any{
			"report": r.Name, "title": r.Title, "note": r.Note,
			"from": p.From.Format(time.DateOnly), "to": p.To.Format(time.DateOnly), "tz": p.Zone.String(),
			"campaign": p.Campaign, "limit": p.Limit, "columns": cols,
		})
		if err != nil {
			return err
		}
		// The head object stays open for the rows.
		_, err = io.WriteString(out, string(head[:len(head)-1])+`,"rows":[`)
		return err
	}, func(row []any) error {
		obj := make([]byte, 0, 256)
		if n > 0 {
			obj = append(obj, ',')
		}
		obj = append(obj, '{')
		for i, v := range row {
			if i > 0 {
				obj = append(obj, ',')
			}
			k, _ := json.Marshal(keys[i])
			b, err := json.Marshal(v)
			if err != nil {
				return err
			}
			obj = append(append(append(obj, k...), ':'), b...)
		}
		obj = append(obj, '}', '\n')
		if _, err := out.Write(obj); err != nil {
			return err
		}
		if n++; n%1000 == 0 {
			return flush(out, nil)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if _, err := io.WriteString(out, "]}\n"); err != nil {
		return err
	}
	return flush(out, nil)
}

// seconds turns a nullable interval in seconds into a cell rounded to the
// millisecond the database keeps.
func seconds(v *float64) any {
	if v == nil {
		return nil
	}
	return round3(*v)
}

func round3(v float64) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', 3, 64), 64)
	return r
}

func text(v *string) any {
	if v == nil {
		return nil
	}
	return *v
}

func num(v *int64) any {
	if v == nil {
		return nil
	}
	return *v
}

// localTime formats an instant in the report's zone with its offset.
func localTime(t *time.Time, loc *time.Location) any {
	if t == nil {
		return nil
	}
	return t.In(loc).Format("2006-01-02T15:04:05.000-07:00")
}

// round4 keeps a share or rate to four places (0.0312 is 3.12%).
func round4(v float64) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', 4, 64), 64)
	return r
}
