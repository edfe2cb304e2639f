package web

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/web/reports"
)

// Reports (package reports) over a date range, as JSON or a CSV download.
// A report streams: its rows go from the database to the client through a
// pipe as they are read, so a day of 100,000 calls is never held here.

// reportTimeout bounds one report's read; a client that stops reading
// holds its database connection no longer than this.
const reportTimeout = 30 * time.Minute

// maxReportLimit is the most rows a limited report (the page's table) asks for.
const maxReportLimit = 10000

// serverZone is the default zone of a report's days.
var serverZone = sync.OnceValue(reports.ServerZone)

func (s *Server) apiReports(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"reports": reports.All, "default_tz": serverZone().String(), "max_days": reports.MaxDays})
}

func (s *Server) apiReport(c *fiber.Ctx) error {
	r, err := reports.Find(c.Params("name"))
	if err != nil {
		return apiError(fiber.StatusNotFound, "%v", err)
	}
	format := c.Query("format", "json")
	if format != "json" && format != "csv" {
		return apiError(fiber.StatusBadRequest, "format %q: use csv or json", format)
	}
	p, err := reports.ParseParams(c.Query("from"), c.Query("to"), c.Query("tz"), c.Query("campaign"), serverZone(),
		s.clock.Now())
	if err != nil {
		return apiError(fiber.StatusBadRequest, "%v", err)
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxReportLimit {
			return apiError(fiber.StatusBadRequest, "limit %q: a number of rows from 1 to %d, or none for all", v,
				maxReportLimit)
		}
		p.Limit = n
	}
	if p.Campaign != 0 {
		if _, err := campaigns.Get(c.UserContext(), s.db, campaigns.ID(p.Campaign)); err != nil {
			return storeError(err)
		}
	}
	write := r.WriteJSON
	if format == "csv" {
		write = r.WriteCSV
	}
	body, err := s.streamReport(func(ctx context.Context, w io.Writer) error { return write(ctx, s.db, p, w) })
	if err != nil {
		return err
	}
	if format == "csv" {
		c.Set(fiber.HeaderContentDisposition, `attachment; filename="pacer-`+r.Name+`-`+
			p.From.Format(time.DateOnly)+`-`+p.To.Format(time.DateOnly)+`.csv"`)
		c.Type("csv")
	} else {
		c.Type("json")
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Context().SetBodyStream(body, -1)
	return nil
}

// streamReport runs write in the background into a pipe and returns the
// pipe's reader once the first bytes are on their way (or write is done).
// An error before then is returned as the answer; one after it cuts the
// response short, which a client sees as a transfer that did not finish.
// The writer stops when the client goes (fasthttp closes the reader), the
// server stops, or reportTimeout passes.
func (s *Server) streamReport(write func(ctx context.Context, w io.Writer) error) (io.ReadCloser, error) {
	ctx, cancel := context.WithTimeout(s.bgContext(), reportTimeout)
	pr, pw := io.Pipe()
	stop := context.AfterFunc(ctx, func() { pr.CloseWithError(ctx.Err()) })
	started := make(chan struct{})
	done := make(chan error, 1)
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		defer cancel()
		defer stop()
		bw := bufio.NewWriterSize(&firstWrite{w: pw, started: started}, 64<<10)
		err := write(ctx, bw)
		if err == nil {
			err = bw.Flush()
		}
		if err != nil && !errors.Is(err, io.ErrClosedPipe) {
			s.log.Warn("report stopped", "err", err)
		}
		pw.CloseWithError(err)
		done <- err
	}()
	select {
	case <-started:
		return pr, nil
	case err := <-done:
		if err != nil {
			pr.Close()
			return nil, err
		}
		return pr, nil
	}
}

// firstWrite closes started before its first write goes through.
type firstWrite struct {
	w       io.Writer
	started chan struct{}
	once    sync.Once
}

func (f *firstWrite) Write(b []byte) (int, error) {
	f.once.Do(func() { close(f.started) })
	return f.w.Write(b)
}
