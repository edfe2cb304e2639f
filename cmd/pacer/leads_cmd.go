package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/pacer-dialer/pacer/campaigns"
)

func leadsCommand() func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return subcommands("leads", map[string]command{
		"import": {"load a lead file into a campaign: --campaign NAME --file PATH [--format csv|tsv|vicidial] [--map col=field,...] [--json] [--errors PATH]", leadsImport},
	})
}

func leadsImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := newDBCommand("leads import", "pacer leads import --campaign NAME --file PATH [flags]", stdout)
	campaign := c.fs.String("campaign", "", "campaign name (required)")
	file := c.fs.String("file", "", "lead file, CSV or TSV with a header, or VICIdial's standard layout (required)")
	format := c.fs.String("format", "", "csv, tsv or vicidial; empty sniffs the delimiter")
	mapping := c.fs.String("map", "", "explicit column mapping, e.g. Mobile=phone,3=first_name")
	asJSON := c.fs.Bool("json", false, "print the result as one JSON line (the last line of stdout)")
	errorsPath := c.fs.String("errors", "", "write the rejected-rows report (line,reason,raw) as CSV to this path")
	for _, n := range []string{"campaign", "file", "format", "map", "json", "errors"} {
		c.fs.noEnv[n] = true
	}
	if err := c.fs.parse(args); err != nil {
		return err
	}
	if *campaign == "" || *file == "" {
		return usageError{"--campaign and --file are required"}
	}
	ff, err := campaigns.ParseFileFormat(*format)
	if err != nil {
		return usageError{err.Error()}
	}
	m, err := campaigns.ParseMapping(*mapping)
	if err != nil {
		return usageError{err.Error()}
	}
	f, err := os.Open(*file)
	if err != nil {
		return err
	}
	defer f.Close()
	var size int64
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}

	d, camp, err := c.openCampaign(ctx, stderr, *campaign)
	if err != nil {
		return err
	}
	defer d.Close()
	bar := progressBar(stderr)
	res, err := campaigns.Import(ctx, d.pool, f, campaigns.ImportOptions{
		Campaign: camp.ID, Name: *file, Format: ff, Mapping: m, Size: size,
		Progress: func(p campaigns.ImportProgress) { bar(p.RowsRead, p.BytesRead, p.Size, false) },
	})
	bar(res.Rows, size, size, true)
	if err != nil {
		return err
	}
	if *errorsPath != "" {
		if err := writeErrorReport(ctx, d, res.List, *errorsPath); err != nil {
			return err
		}
	}
	if *asJSON {
		return printJSON(stdout, res)
	}
	fmt.Fprintf(stdout, "list %d: %d rows, %d imported (%d on DNC, kept and never dialled), %d duplicates, %d invalid, in %.1f s\n",
		res.List, res.Rows, res.Imported, res.DNC, res.Duplicates, res.Invalid, res.Seconds)
	return nil
}

// progressBar draws on a terminal and stays silent otherwise, so logs and
// pipes get no carriage-return noise.
func progressBar(w io.Writer) func(rows, read, size int64, final bool) {
	f, ok := w.(*os.File)
	if !ok || !isatty.IsTerminal(f.Fd()) {
		return func(int64, int64, int64, bool) {}
	}
	start := time.Now()
	return func(rows, read, size int64, final bool) {
		const width = 30
		filled := 0
		pct := ""
		if size > 0 {
			filled = int(float64(width) * float64(min(read, size)) / float64(size))
			pct = fmt.Sprintf("%3.0f%%", 100*float64(min(read, size))/float64(size))
		}
		bar := make([]byte, width)
		for i := range bar {
			bar[i] = ' '
			if i < filled {
				bar[i] = '='
			}
		}
		fmt.Fprintf(f, "\r[%s] %s %d rows  %.0f rows/s", bar, pct, rows, float64(rows)/max(time.Since(start).Seconds(), 0.001))
		if final {
			fmt.Fprintln(f)
		}
	}
}

func writeErrorReport(ctx context.Context, d *database, list campaigns.ListID, path string) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(out)
	_ = w.Write([]string{"line", "reason", "raw"})
	err = campaigns.ImportErrors(ctx, d.pool, list, func(r campaigns.RejectedRow) error {
		return w.Write([]string{strconv.Itoa(r.Line), r.Reason, r.Raw})
	})
	w.Flush()
	if err == nil {
		err = w.Error()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write error report %s: %w", path, err)
	}
	return nil
}
