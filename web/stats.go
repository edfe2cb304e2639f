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
	// ReadyAgents is how many agents wait for a call; DialLevel (in
	// CampaignStatus, from the engine) is Lines over it.
	ReadyAgents int `json:"ready_agents"`
	// WrapupLimitS is the campaign's wrap-up limit (0: none).
	WrapupLimitS int `json:"wrapup_limit_s"`
	// PauseLimitsMin is each of the campaign's pause codes' time limit in
	// minutes (codes without one are absent).
	PauseLimitsMin map[string]int `json:"pause_limits_min"`
	// LastDialAt is when this node last saw the campaign's dial count move
	// (or first saw it).
	LastDialAt time.Time `json:"last_dial_at,omitzero"`
	// DispositionLabels names the campaign's disposition codes.
	DispositionLabels map[string]string `json:"disposition_labels"`
	Alerts            []Alert           `json:"alerts"`
	History           []ChartPoint      `json:"history,omitempty"`
}

// buildStats gathers a campaign's live and stored figures. A campaign not
// running on this node has only stored figures.
func (s *Server) buildStats(ctx context.Context, id int64) (CampaignStats, error) {
	camp, err := campaigns.Get(ctx, s.db, campaigns.ID(id))
	if err != nil {
		return CampaignStats{}, err
	}
	st := CampaignStats{Name: camp.Name, Status: string(camp.Status), Mode: string(camp.Mode), Rules: string(camp.Rules),
		AgentsByState: map[string]int{}, WrapupLimitS: camp.WrapupLimitS}
	st.Campaign = campaigns.ID(id)
	st.Target = camp.AbandonTarget
	codes, err := campaigns.CampaignPauseCodes(ctx, s.db, campaigns.ID(id))
	if err != nil {
		return st, err
	}
	st.PauseLimitsMin = map[string]int{}
	for _, pc := range codes {
		if pc.LimitMin != nil && *pc.LimitMin > 0 {
			st.PauseLimitsMin[pc.Code] = *pc.LimitMin
		}
	}
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
	st.ReadyAgents = st.AgentsByState[agents.Ready.String()]
	names, err := s.userNames(ctx, ids)
	if err != nil {
		return st, err
	}
	for i := range st.Agents {
		st.Agents[i].Name = names[int64(st.Agents[i].Agent)]
	}
	fig, err := s.storedFigures(ctx, id)
	if err != nil {
		return st, err
	}
	st.HopperDepth, st.Today, st.DispositionLabels = fig.hopper, fig.today, fig.labels
	if s.engine != nil {
		if st.Today.LiveAnswers > 0 {
			st.TodayAbandon = float64(st.Today.Abandons) / float64(st.Today.LiveAnswers)
		}
		if st.Today.Dials > 0 {
			st.TodayAnswer = float64(st.Today.LiveAnswers) / float64(st.Today.Dials)
		}
	}
	for i := range st.Agents {
		d := st.Today.Agents[int64(st.Agents[i].Agent)]
		st.Agents[i].Calls, st.Agents[i].TalkS, st.Agents[i].Sales = d.Calls, d.TalkS, d.Sales
	}
	now := s.clock.Now()
	if st.Running {
		st.LastDialAt = s.dialSeen(id, st.Dials, now)
	}
	st.Alerts = campaignAlerts(&st, now)
	return st, nil
}

type dialMark struct {
	dials int64
	at    time.Time
}

// dialSeen records the campaign's dial count and returns when it last
// moved (the first sighting counts as a move), for the not-dialling alert.
func (s *Server) dialSeen(id, dials int64, now time.Time) time.Time {
	s.figMu.Lock()
	defer s.figMu.Unlock()
	m, ok := s.dialMarks[id]
	if !ok || m.dials != dials {
		m = dialMark{dials: dials, at: now}
		s.dialMarks[id] = m
	}
	return m.at
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
	now := s.clock.Now()
	if st.History, err = chartSamples(c.UserContext(), s.db, int64(id), now.Add(-time.Hour), now); err != nil {
		return err
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
	labels map[string]string
}

// storedFigures returns the hopper depth, today's call figures and the
// disposition labels, cached for storedFiguresTTL per campaign.
func (s *Server) storedFigures(ctx context.Context, id int64) (storedFigures, error) {
	now := s.clock.Now()
	s.figMu.Lock()
	f, ok := s.figures[id]
	s.figMu.Unlock()
	if ok && now.Sub(f.at) < storedFiguresTTL {
		return f, nil
	}
	f = storedFigures{at: now, labels: map[string]string{}}
	var err error
	if f.hopper, err = campaigns.HopperDepth(ctx, s.db, campaigns.ID(id)); err != nil {
		return f, err
	}
	dispos, err := campaigns.Dispositions(ctx, s.db, campaigns.ID(id))
	if err != nil {
		return f, err
	}
	var sales []string
	for _, d := range dispos {
		f.labels[d.Code] = d.Label
		if d.Category == campaigns.CategorySale {
			sales = append(sales, d.Code)
		}
	}
	if s.engine != nil {
		midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
		if f.today, err = s.engine.DayStats(ctx, campaigns.ID(id), midnight, sales); err != nil {
			return f, err
		}
	}
	if f.today.Agents == nil {
		f.today.Agents = map[int64]AgentDay{}
	}
	s.figMu.Lock()
	s.figures[id] = f
	s.figMu.Unlock()
	return f, nil
}
