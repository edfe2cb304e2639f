package main

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/pacer-dialer/pacer/internal/testwait"
	"github.com/pacer-dialer/pacer/web"
)

type boardAgent struct {
	Agent        int64   `json:"agent_id"`
	State        string  `json:"state"`
	PauseCode    string  `json:"pause_code"`
	PausePending string  `json:"pause_pending"`
	Number       string  `json:"number"`
	Calls        int64   `json:"calls"`
	TalkS        float64 `json:"talk_s"`
	Sales        int64   `json:"sales"`
}

type boardStats struct {
	Campaign     int64             `json:"campaign_id"`
	Name         string            `json:"name"`
	Running      bool              `json:"running"`
	Agents       []boardAgent      `json:"agents"`
	Labels       map[string]string `json:"disposition_labels"`
	ReadyAgents  int               `json:"ready_agents"`
	HopperDepth  int64             `json:"hopper_depth"`
	Alerts       []web.Alert       `json:"alerts"`
	Dispositions struct {
		Codes map[string]int64 `json:"dispositions"`
	} `json:"today"`
}

func (b boardStats) agent(id int64) boardAgent {
	for _, a := range b.Agents {
		if a.Agent == id {
			return a
		}
	}
	return boardAgent{}
}

// A supervisor's force pause and force logout do what the engine can do
// safely, and each is audited: a READY agent is paused at once; an agent on
// a call keeps the call and is paused once its disposition is saved; a
// logout of an agent with a call is refused with the reason (nobody cut
// off, no disposition lost) and works once they are PAUSED. Agents may not
// do it, a reason is required, and the audit lists who did what to whom,
// why and with what effect. The board's agent row shows today's calls,
// talk and sales and the lead's number while on the call; dispositions come
// with their labels.
func TestSupervisorForcePauseAndLogoutAreSafeAndAudited(t *testing.T) {
	t.Parallel()
	s := startAssignServer(t)
	_, err := web.CreateUser(context.Background(), s.db, web.NewUser{Username: "sue", Role: web.RoleSupervisor,
		Password: "password-sue", Cost: bcrypt.MinCost})
	require.NoError(t, err)
	ann, sue := s.login(t, "ann"), s.login(t, "sue")
	var annID int64
	require.NoError(t, s.db.QueryRow(context.Background(), `SELECT id FROM users WHERE username = 'ann'`).Scan(&annID))
	camp := s.mine.ID
	force := func(c *client, action, reason string) (int, string) {
		return c.do("POST", fmt.Sprintf("/api/v1/campaigns/%d/agents/%d/force-%s", camp, annID, action),
			map[string]string{"reason": reason}, true)
	}
	board := func() boardStats {
		code, body := sue.do("GET", fmt.Sprintf("/api/v1/campaigns/%d/stats", camp), nil, false)
		require.Equal(t, http.StatusOK, code, body)
		var st boardStats
		mustJSON(t, body, &st)
		return st
	}
	agentState := func() (state, code, pending string) {
		_, body := ann.do("GET", "/api/v1/agent/state", nil, false)
		var v struct {
			State        string `json:"state"`
			PauseCode    string `json:"pause_code"`
			PausePending string `json:"pause_pending"`
		}
		mustJSON(t, body, &v)
		return v.State, v.PauseCode, v.PausePending
	}

	ann.ready(camp)
	code, body := force(ann, "pause", "agents may not")
	require.Equal(t, http.StatusForbidden, code, body)
	code, body = force(sue, "pause", "  ")
	require.Equal(t, http.StatusBadRequest, code, body)
	require.Contains(t, body, "reason")

	// READY: paused at once.
	code, body = force(sue, "pause", "team meeting")
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"outcome":"paused"`)
	state, pcode, _ := agentState()
	require.Equal(t, "PAUSED", state)
	require.Equal(t, web.ForcedPauseCode, pcode)
	code, body = force(sue, "pause", "again")
	require.Equal(t, http.StatusConflict, code, body)

	// On a call: the call goes on, the pause waits for the disposition, and
	// a logout is refused.
	ann.ready(camp)
	code, body = ann.do("POST", "/api/v1/agent/call/dial", map[string]string{"number": "202 555 3003"}, true)
	require.Equal(t, http.StatusOK, code, body)
	ann.waitCall("connected")
	testwait.Until(t, func() bool { return board().agent(annID).Number == "+12025553003" }, "the board shows the lead's number")
	code, body = force(sue, "logout", "end of shift")
	require.Equal(t, http.StatusConflict, code, body)
	require.Contains(t, body, "force a pause")
	ann.waitCall("connected")
	code, body = force(sue, "pause", "coaching")
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"outcome":"pause_after_call"`)
	state, _, pending := agentState()
	require.Equal(t, "INCALL", state)
	require.Equal(t, web.ForcedPauseCode, pending)
	ann.waitCall("connected")
	require.Equal(t, web.ForcedPauseCode, board().agent(annID).PausePending)

	code, body = ann.do("POST", "/api/v1/agent/call/hangup", nil, true)
	require.Less(t, code, 300, body)
	code, body = ann.do("POST", "/api/v1/agent/disposition", map[string]string{"code": "SALE"}, true)
	require.Equal(t, http.StatusOK, code, body)
	state, pcode, _ = agentState()
	require.Equal(t, "PAUSED", state, "the pause is taken once the disposition is saved")
	require.Equal(t, web.ForcedPauseCode, pcode)

	// The board's row: today's call, its talk time and the sale.
	var row boardAgent
	var st boardStats
	testwait.Until(t, func() bool {
		st = board()
		row = st.agent(annID)
		return row.Sales == 1
	}, "the sale reaches the board")
	require.Equal(t, int64(1), row.Calls)
	require.Positive(t, row.TalkS)
	require.Equal(t, "PAUSED", row.State)
	require.Equal(t, "Sale", st.Labels["SALE"])
	require.Equal(t, int64(1), st.Dispositions.Codes["SALE"])

	// PAUSED: the logout goes through.
	code, body = force(sue, "logout", "end of shift")
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"outcome":"logged_out"`)
	state, _, _ = agentState()
	require.Equal(t, "LOGGED_OUT", state)
	code, body = force(sue, "logout", "twice")
	require.Equal(t, http.StatusConflict, code, body)

	code, body = sue.do("GET", fmt.Sprintf("/api/v1/campaigns/%d/supervisor-actions", camp), nil, false)
	require.Equal(t, http.StatusOK, code, body)
	var audit struct {
		Actions []web.SupervisorAction `json:"actions"`
	}
	mustJSON(t, body, &audit)
	type entry struct{ Actor, Action, Reason, State, Outcome string }
	var got []entry
	for _, a := range audit.Actions {
		require.Equal(t, int64(annID), int64(a.Agent))
		require.False(t, a.At.IsZero())
		got = append(got, entry{a.ActorName, a.Action, a.Reason, a.AgentState, a.Outcome})
	}
	require.Equal(t, []entry{
		{"sue", "force_logout", "end of shift", "PAUSED", "logged_out"},
		{"sue", "force_pause", "coaching", "INCALL", "pause_after_call"},
		{"sue", "force_pause", "team meeting", "READY", "paused"},
	}, got, "refused actions change nothing and are not recorded")
}

// The overview lists every campaign not archived with its figures, and a
// running campaign's alerts are there: the six-lead campaign's hopper is
// low. Chart samples are persisted and read back over a chosen range.
func TestWallboardOverviewAlertsAndChartRanges(t *testing.T) {
	t.Parallel()
	s := startAssignServer(t)
	_, err := web.CreateUser(context.Background(), s.db, web.NewUser{Username: "sue", Role: web.RoleSupervisor,
		Password: "password-sue", Cost: bcrypt.MinCost})
	require.NoError(t, err)
	sue := s.login(t, "sue")

	var mine boardStats
	testwait.Until(t, func() bool {
		code, body := sue.do("GET", "/api/v1/wallboard", nil, false)
		require.Equal(t, http.StatusOK, code, body)
		var ov struct {
			Campaigns []boardStats `json:"campaigns"`
		}
		mustJSON(t, body, &ov)
		names := map[string]bool{}
		for _, c := range ov.Campaigns {
			names[c.Name] = true
			if c.Name == "Mine" {
				mine = c
			}
		}
		require.True(t, names["Mine"] && names["Theirs"], body)
		return mine.Running
	}, "the overview shows Mine running")
	require.Equal(t, int64(6), mine.HopperDepth)
	var kinds []web.AlertKind
	for _, a := range mine.Alerts {
		kinds = append(kinds, a.Kind)
	}
	require.Equal(t, []web.AlertKind{web.AlertHopperLow}, kinds)
	require.Contains(t, mine.Alerts[0].Message, "6 leads left")

	for _, r := range []string{"15m", "1h", "8h", "today"} {
		testwait.Until(t, func() bool {
			code, body := sue.do("GET", fmt.Sprintf("/api/v1/campaigns/%d/stats/history?range=%s", s.mine.ID, r), nil, false)
			require.Equal(t, http.StatusOK, code, body)
			var h struct {
				Range  string `json:"range"`
				Points []struct {
					DialLevel *float64 `json:"dial_level"`
					Ready     *float64 `json:"ready"`
				} `json:"points"`
			}
			mustJSON(t, body, &h)
			require.Equal(t, r, h.Range)
			return len(h.Points) > 0 && h.Points[0].DialLevel != nil && h.Points[0].Ready != nil
		}, "a persisted sample in range %s", r)
	}
	code, body := sue.do("GET", fmt.Sprintf("/api/v1/campaigns/%d/stats/history?range=2d", s.mine.ID), nil, false)
	require.Equal(t, http.StatusBadRequest, code, body)
	require.Contains(t, body, "15m, 1h, 8h, today")
}
