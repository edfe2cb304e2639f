package web

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
)

// CampaignStats is everything the wallboard shows for a campaign.
type CampaignStats struct {
	CampaignStatus
	Name    string `json:"name"`
	Status  string `json:"status"`
	Running bool   `json:"running"`
	Mode    string `json:"mode"`
	// Rules names the legal window of WindowRate (us: 30 days; uk: 24 h).
	Rules       string `json:"rules"`
	HopperDepth int64  `json:"hopper_depth"`
	// Today counts calls dialled since local midnight.
	Today         DayStats       `json:"today"`
	TodayAbandon  float64        `json:"today_abandon_rate"`
	TodayAnswer   float64        `json:"today_answer_rate"`
	AgentsByState map[string]int `json:"agents_by_state"`
	History       []StatsPoint   `json:"history,omitempty"`
}

// StatsPoint is one sample of the wallboard's charts.
type StatsPoint struct {
	At          time.Time      `json:"at"`
	DialLevel   float64        `json:"dial_level"`
	AbandonRate float64        `json:"abandon_rate"`
	Agents      map[string]int `json:"agents"`
}

// buildStats gathers a campaign's live and stored figures. A campaign not
// running on this node has only stored figures.
func (s *Server) buildStats(ctx context.Context, id int64) (CampaignStats, error) {
	camp, err := campaigns.Get(ctx, s.db, campaigns.ID(id))
	if err != nil {
		return CampaignStats{}, err
	}
	st := CampaignStats{Name: camp.Name, Status: string(camp.Status), Mode: string(camp.Mode), Rules: string(camp.Rules),
		AgentsByState: map[string]int{}}
	st.Campaign = campaigns.ID(id)
	st.Target = camp.AbandonTarget
	if s.engine != nil {
		start := time.Now()
		live, err := s.engine.Status(ctx, campaigns.ID(id))
		s.metrics.loopLatency.Observe(time.Since(start).Seconds())
		switch {
		case err == nil:
			st.CampaignStatus = live
			st.Target = camp.AbandonTarget
			st.Running = true
		case errors.Is(err, ErrNotRunning):
		default:
			return st, err
		}
	}
	if st.Agents == nil {
		st.Agents = []AgentStatus{}
	}
	ids := make([]int64, 0, len(st.Agents))
	for _, a := range st.Agents {
		ids = append(ids, int64(a.Agent))
		if a.State != agents.LoggedOut {
			st.AgentsByState[a.State.String()]++
		}
	}
	names, err := s.userNames(ctx, ids)
	if err != nil {
		return st, err
	}
	for i := range st.Agents {
		st.Agents[i].Name = names[int64(st.Agents[i].Agent)]
	}
	if st.HopperDepth, st.Today, err = s.storedFigures(ctx, id); err != nil {
		return st, err
	}
	if s.engine != nil {
		if st.Today.LiveAnswers > 0 {
			st.TodayAbandon = float64(st.Today.Abandons) / float64(st.Today.LiveAnswers)
		}
		if st.Today.Dials > 0 {
			st.TodayAnswer = float64(st.Today.LiveAnswers) / float64(st.Today.Dials)
		}
	}
	return st, nil
}

// userNames maps agent ids to usernames; simulated agents (ids up to
// 1,000,000) are "sim-N".
func (s *Server) userNames(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := make(map[int64]string, len(ids))
	var lookup []int64
	for _, id := range ids {
		if id <= 1000000 {
			out[id] = fmt.Sprintf("sim-%d", id)
		} else {
			lookup = append(lookup, id)
		}
	}
	if len(lookup) == 0 {
		return out, nil
	}
	rows, err := s.db.Query(ctx, "SELECT id, username FROM users WHERE id = ANY($1)", lookup)
	if err != nil {
		return nil, fmt.Errorf("agent names: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		out[id] = name
	}
	return out, rows.Err()
}

// apiCampaignStats is the wallboard's figures for one campaign, with the
// last hour's chart samples.
func (s *Server) apiCampaignStats(c *fiber.Ctx) error {
	id, err := campaignParam(c)
	if err != nil {
		return err
	}
	st, err := s.buildStats(c.UserContext(), int64(id))
	if err != nil {
		return storeError(err)
	}
	if s.pub != nil {
		st.History = s.pub.history(int64(id))
	}
	return c.JSON(st)
}

// storedFiguresTTL bounds how often the wallboard's figures that come from
// the database (a count over the campaign's leads, today's calls) are
// recomputed: the live figures are pushed every second, these need not be.
const storedFiguresTTL = 5 * time.Second

type storedFigures struct {
	at     time.Time
	hopper int64
	today  DayStats
}

// storedFigures returns the hopper depth and today's call figures, cached
// for storedFiguresTTL per campaign.
func (s *Server) storedFigures(ctx context.Context, id int64) (int64, DayStats, error) {
	now := s.clock.Now()
	s.figMu.Lock()
	f, ok := s.figures[id]
	s.figMu.Unlock()
	if ok && now.Sub(f.at) < storedFiguresTTL {
		return f.hopper, f.today, nil
	}
	hopper, err := campaigns.HopperDepth(ctx, s.db, campaigns.ID(id))
	if err != nil {
		return 0, DayStats{}, err
	}
	var today DayStats
	if s.engine != nil {
		midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
		if today, err = s.engine.DayStats(ctx, campaigns.ID(id), midnight); err != nil {
			return 0, DayStats{}, err
		}
	}
	s.figMu.Lock()
	s.figures[id] = storedFigures{at: now, hopper: hopper, today: today}
	s.figMu.Unlock()
	return hopper, today, nil
}
