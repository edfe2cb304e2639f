package web

import (
	"fmt"
	"time"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
)

// Alert is one condition the wallboard raises for a campaign.
type Alert struct {
	Kind AlertKind `json:"kind"`
	// Level is "warning" or "critical".
	Level   string    `json:"level"`
	Message string    `json:"message"`
	Agent   agents.ID `json:"agent_id,omitempty"`
}

// AlertKind names what an alert is about.
type AlertKind string

const (
	AlertAbandonNear AlertKind = "abandon_near_target" // at AbandonWarnShare of the target or more
	AlertAbandonOver AlertKind = "abandon_over_target"
	AlertHopperLow   AlertKind = "hopper_low"
	AlertWrapupOver  AlertKind = "wrapup_over"
	AlertPauseOver   AlertKind = "pause_over"
	AlertNotDialling AlertKind = "not_dialling"
)

const (
	// AbandonWarnShare is the share of the abandon target at which the
	// wallboard starts warning.
	AbandonWarnShare = 0.8
	// HopperLowPerAgent and HopperLowMin: the hopper is low below
	// max(HopperLowMin, HopperLowPerAgent × agents logged in) leads.
	HopperLowPerAgent = 20
	HopperLowMin      = 100
	// NotDiallingAfter is how long a running predictive or power campaign
	// with READY agents may go without a dial before the board says it
	// stopped dialling.
	NotDiallingAfter = time.Minute
)

// pauseLimit is how long an agent may stay paused under code: the
// campaign's pause code's limit (0: none, or not one of its codes, such as
// LOGIN or a supervisor's pause).
func pauseLimit(st *CampaignStats, code string) time.Duration {
	return time.Duration(st.PauseLimitsMin[code]) * time.Minute
}

// campaignAlerts computes the campaign's alerts at now and marks the agents
// past their wrap-up or pause limit (AgentStatus.Overrun). It is the only
// place alerts are decided; the overview and the campaign view show what it
// returns.
func campaignAlerts(st *CampaignStats, now time.Time) []Alert {
	out := []Alert{}
	if st.Target > 0 && st.WindowLive > 0 {
		switch rate := st.WindowRate; {
		case rate > st.Target:
			out = append(out, Alert{Kind: AlertAbandonOver, Level: "critical",
				Message: fmt.Sprintf("abandon rate %.1f%% is over the %.1f%% target", 100*rate, 100*st.Target)})
		case rate >= AbandonWarnShare*st.Target:
			out = append(out, Alert{Kind: AlertAbandonNear, Level: "warning",
				Message: fmt.Sprintf("abandon rate %.1f%% is near the %.1f%% target", 100*rate, 100*st.Target)})
		}
	}
	loggedIn, ready := 0, 0
	for i := range st.Agents {
		a := &st.Agents[i]
		a.Overrun = ""
		if a.State == agents.LoggedOut {
			continue
		}
		loggedIn++
		in := now.Sub(a.Since)
		name := a.Name
		if name == "" {
			name = fmt.Sprintf("agent %d", a.Agent)
		}
		switch a.State {
		case agents.Ready:
			ready++
		case agents.Dispo:
			if lim := time.Duration(st.WrapupLimitS) * time.Second; lim > 0 && in > lim {
				a.Overrun = "wrapup"
				out = append(out, Alert{Kind: AlertWrapupOver, Level: "warning", Agent: a.Agent,
					Message: fmt.Sprintf("%s is in wrap-up for %s, over the %s limit", name, roundS(in), roundS(lim))})
			}
		case agents.Paused:
			if lim := pauseLimit(st, a.PauseCode); lim > 0 && in > lim {
				a.Overrun = "pause"
				out = append(out, Alert{Kind: AlertPauseOver, Level: "warning", Agent: a.Agent,
					Message: fmt.Sprintf("%s is paused (%s) for %s, over the %s limit", name, a.PauseCode, roundS(in), roundS(lim))})
			}
		}
	}
	if st.Running {
		if low := max(int64(HopperLowMin), int64(HopperLowPerAgent*loggedIn)); st.HopperDepth < low {
			level := "warning"
			if st.HopperDepth == 0 {
				level = "critical"
			}
			out = append(out, Alert{Kind: AlertHopperLow, Level: level,
				Message: fmt.Sprintf("hopper running low: %d leads left (alert below %d)", st.HopperDepth, low)})
		}
		// Only the modes where the engine dials by itself; preview and
		// manual wait for the agent.
		auto := st.Mode == string(campaigns.ModePredictive) || st.Mode == string(campaigns.ModePower)
		if auto && ready > 0 && !st.LastDialAt.IsZero() && now.Sub(st.LastDialAt) >= NotDiallingAfter {
			out = append(out, Alert{Kind: AlertNotDialling, Level: "critical",
				Message: fmt.Sprintf("no dial for %s with %d agents READY", roundS(now.Sub(st.LastDialAt)), ready)})
		}
	}
	return out
}

func roundS(d time.Duration) time.Duration { return d.Round(time.Second) }
