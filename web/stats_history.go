package web

import (
	"context"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
)

// The wallboard's charts read persisted samples (stats_samples), written by
// the publisher every historyEvery for each campaign running on this node,
// so a chart can span a shift and survive a restart.

// sampleRetention is how long samples are kept.
const sampleRetention = 48 * time.Hour

// chartPoints bounds the points one chart answer holds: samples are
// averaged into buckets of range/chartPoints (at least historyEvery).
const chartPoints = 240

// chartRanges are the ranges a chart may show; "today" is since local
// midnight.
var chartRanges = map[string]time.Duration{"15m": 15 * time.Minute, "1h": time.Hour, "8h": 8 * time.Hour, "today": 0}

// ChartPoint is one (averaged) sample of the wallboard's charts.
type ChartPoint struct {
	At          time.Time `json:"at"`
	DialLevel   float64   `json:"dial_level"`
	Lines       float64   `json:"lines"`
	AbandonRate float64   `json:"abandon_rate"`
	AnswerRate  float64   `json:"answer_rate"`
	Ready       float64   `json:"ready"`
	InCall      float64   `json:"incall"`
	Dispo       float64   `json:"dispo"`
	Paused      float64   `json:"paused"`
}

// saveSample persists one chart sample of a running campaign and, once in
// a while, forgets samples older than sampleRetention.
func saveSample(ctx context.Context, db campaigns.DB, id int64, at time.Time, st CampaignStats) error {
	by := st.AgentsByState
	_, err := db.Exec(ctx, `INSERT INTO stats_samples (campaign_id, at, dial_level, lines, abandon_rate, answer_rate,
		ready, incall, dispo, paused) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
		id, at, st.DialLevel, st.Lines, min(max(st.WindowRate, 0), 1), min(max(st.TodayAnswer, 0), 1),
		by[agents.Ready.String()], by[agents.InCall.String()]+by[agents.Ringing.String()], by[agents.Dispo.String()],
		by[agents.Paused.String()]+by[agents.DND.String()]) // DND is paused for the chart, as on the overview
	if err != nil {
		return fmt.Errorf("save stats sample of campaign %d: %w", id, err)
	}
	if at.Minute() == 0 && at.Second() < int(historyEvery/time.Second) {
		if _, err := db.Exec(ctx, `DELETE FROM stats_samples WHERE at < $1`, at.Add(-sampleRetention)); err != nil {
			return fmt.Errorf("forget old stats samples: %w", err)
		}
	}
	return nil
}

// chartSamples averages a campaign's samples from from to to into buckets.
func chartSamples(ctx context.Context, db campaigns.DB, id int64, from, to time.Time) ([]ChartPoint, error) {
	bucket := max(to.Sub(from)/chartPoints, historyEvery)
	rows, err := db.Query(ctx, `SELECT date_bin($4::interval, at, $2) AS b, avg(dial_level), avg(lines), avg(abandon_rate),
		avg(answer_rate), avg(ready), avg(incall), avg(dispo), avg(paused)
		FROM stats_samples WHERE campaign_id = $1 AND at >= $2 AND at <= $3 GROUP BY b ORDER BY b`,
		id, from, to, bucket)
	if err != nil {
		return nil, fmt.Errorf("stats samples of campaign %d: %w", id, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ChartPoint, error) {
		var p ChartPoint
		err := r.Scan(&p.At, &p.DialLevel, &p.Lines, &p.AbandonRate, &p.AnswerRate, &p.Ready, &p.InCall, &p.Dispo, &p.Paused)
		return p, err
	})
	if out == nil {
		out = []ChartPoint{}
	}
	return out, err
}

// apiStatsHistory is a campaign's chart samples over range (15m, 1h, 8h
// or today; default 1h).
func (s *Server) apiStatsHistory(c *fiber.Ctx) error {
	id, err := campaignParam(c)
	if err != nil {
		return err
	}
	name := c.Query("range", "1h")
	span, ok := chartRanges[name]
	if !ok {
		return apiError(fiber.StatusBadRequest, "range %q is not one of 15m, 1h, 8h, today", name)
	}
	if _, err := campaigns.Get(c.UserContext(), s.db, id); err != nil {
		return storeError(err)
	}
	to := s.clock.Now()
	from := to.Add(-span)
	if name == "today" {
		from = time.Date(to.Year(), to.Month(), to.Day(), 0, 0, 0, 0, to.Location())
	}
	pts, err := chartSamples(c.UserContext(), s.db, int64(id), from, to)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"range": name, "from": from, "to": to, "points": pts})
}
