package web

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
)

// The wallboard's alerts, decided in one place: each condition a
// supervisor must act on raises its alert, and a healthy floor raises none.
func TestWallboardAlertsFireOnTheConditionsASupervisorMustSee(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	healthy := func() CampaignStats {
		st := CampaignStats{Running: true, Mode: "predictive", HopperDepth: 5000, WrapupLimitS: 120, LastDialAt: ago(time.Second),
			PauseLimitsMin: map[string]int{"BREAK": 15}}
		st.Target, st.WindowLive, st.WindowRate = 0.03, 1000, 0.01
		st.Agents = []AgentStatus{
			{Agent: 1, Name: "ann", State: agents.Ready, Since: ago(10 * time.Second)},
			{Agent: 2, Name: "bo", State: agents.Dispo, Since: ago(90 * time.Second)},
			{Agent: 3, Name: "cy", State: agents.Paused, PauseCode: "BREAK", Since: ago(10 * time.Minute)},
			{Agent: 4, Name: "di", State: agents.LoggedOut, Since: ago(5 * time.Hour)},
		}
		return st
	}
	kinds := func(as []Alert) []AlertKind {
		out := []AlertKind{}
		for _, a := range as {
			out = append(out, a.Kind)
		}
		return out
	}
	cases := []struct {
		name   string
		change func(*CampaignStats)
		want   []AlertKind
		agent  agents.ID
	}{
		{"healthy floor", func(*CampaignStats) {}, []AlertKind{}, 0},
		{"abandon rate at 80% of the target", func(s *CampaignStats) { s.WindowRate = 0.024 }, []AlertKind{AlertAbandonNear}, 0},
		{"abandon rate just under 80%", func(s *CampaignStats) { s.WindowRate = 0.0239 }, []AlertKind{}, 0},
		{"abandon rate over the target", func(s *CampaignStats) { s.WindowRate = 0.031 }, []AlertKind{AlertAbandonOver}, 0},
		{"no live answer yet is no rate", func(s *CampaignStats) { s.WindowLive, s.WindowRate = 0, 0.5 }, []AlertKind{}, 0},
		{"hopper below 100 leads", func(s *CampaignStats) { s.HopperDepth = 99 }, []AlertKind{AlertHopperLow}, 0},
		{"hopper below 20 per agent logged in", func(s *CampaignStats) {
			for i := range 10 {
				s.Agents = append(s.Agents, AgentStatus{Agent: agents.ID(10 + i), State: agents.InCall, Since: ago(time.Second)})
			}
			s.HopperDepth = 259 // 13 agents logged in × 20
		}, []AlertKind{AlertHopperLow}, 0},
		{"wrap-up over the campaign's limit", func(s *CampaignStats) { s.Agents[1].Since = ago(121 * time.Second) }, []AlertKind{AlertWrapupOver}, 2},
		{"no wrap-up limit, no overrun", func(s *CampaignStats) { s.WrapupLimitS, s.Agents[1].Since = 0, ago(time.Hour) }, []AlertKind{}, 0},
		{"pause over its code's limit", func(s *CampaignStats) { s.Agents[2].Since = ago(15*time.Minute + time.Second) }, []AlertKind{AlertPauseOver}, 3},
		{"a code without a limit is never over", func(s *CampaignStats) {
			s.Agents[2].PauseCode, s.Agents[2].Since = "MEETING", ago(5*time.Hour)
		}, []AlertKind{}, 0},
		{"a logged-out agent is never over", func(s *CampaignStats) { s.Agents[3].State = agents.LoggedOut }, []AlertKind{}, 0},
		{"no dial for a minute with READY agents", func(s *CampaignStats) { s.LastDialAt = ago(NotDiallingAfter) }, []AlertKind{AlertNotDialling}, 0},
		{"no dial but nobody READY", func(s *CampaignStats) {
			s.LastDialAt = ago(time.Hour)
			s.Agents[0].State = agents.Paused
		}, []AlertKind{}, 0},
		{"a manual campaign waits for its agents", func(s *CampaignStats) { s.Mode, s.LastDialAt = "manual", ago(time.Hour) }, []AlertKind{}, 0},
		{"not running: no hopper or dialling alert", func(s *CampaignStats) {
			s.Running, s.HopperDepth, s.LastDialAt = false, 0, ago(time.Hour)
		}, []AlertKind{}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := healthy()
			c.change(&st)
			got := campaignAlerts(&st, now)
			require.Equal(t, c.want, kinds(got))
			for _, a := range st.Agents {
				if a.Agent == c.agent {
					require.NotEmpty(t, a.Overrun, "agent %d's row is marked over the limit", a.Agent)
					require.Equal(t, c.agent, got[0].Agent)
				} else {
					require.Empty(t, a.Overrun, "agent %d is not over a limit", a.Agent)
				}
			}
		})
	}
}
