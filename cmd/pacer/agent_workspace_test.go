package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/web"
)

// agentStateJSON is what the workspace reads of GET /agent/state.
type agentStateJSON struct {
	State         string `json:"state"`
	PauseCode     string `json:"pause_code"`
	PausePending  string `json:"pause_pending"`
	PauseLabel    string `json:"pause_label"`
	PauseBillable bool   `json:"pause_billable"`
	PauseLimitMin *int   `json:"pause_limit_min"`
	WrapupLimitS  int    `json:"wrapup_limit_s"`
}

func (c *client) agentState() agentStateJSON {
	c.t.Helper()
	code, body := c.do("GET", "/api/v1/agent/state", nil, false)
	require.Equal(c.t, http.StatusOK, code, body)
	var s agentStateJSON
	mustJSON(c.t, body, &s)
	return s
}

// The agent workspace's APIs on the real server and database: pause codes
// come from the database per campaign (a manager adds, changes and removes
// them; an agent pausing with a code their campaign lacks is refused, with
// one it has sees its limit), a pause asked for during a call can be taken
// back, the agent edits the lead on their screen and every change is logged
// with who and when (bad edits refused with a 4xx that says why), and the
// transfer directory lists the other agents and the saved numbers.
func TestAgentWorkspaceAPIs(t *testing.T) {
	dbURL := testdb.New(t)
	db, err := pgxpool.New(context.Background(), dbURL)
	require.NoError(t, err)
	t.Cleanup(db.Close)
	ctx := context.Background()
	for _, u := range []struct{ name, role string }{{"alice", "agent"}, {"bob", "agent"}, {"max", "manager"}, {"sue", "supervisor"}} {
		_, err := web.CreateUser(ctx, db, web.NewUser{Username: u.name, Role: web.Role(u.role), Password: "password-" + u.name,
			Cost: bcrypt.MinCost})
		require.NoError(t, err)
	}
	var csv strings.Builder
	csv.WriteString("phone,first_name,last_name,state,postal_code,plan\n")
	for i := range 30 {
		fmt.Fprintf(&csv, "+1202555%04d,Ann%d,Lee,DC,20001,gold\n", 2000+i, i)
	}
	camp := activeCampaign(t, db, "Workspace", "predictive", csv.String())
	other := activeCampaign(t, db, "Other", "predictive", "phone\n+13125550100\n")
	_, err = campaigns.Update(ctx, db, camp.ID, map[string]string{"wrapup_limit_s": "90"})
	require.NoError(t, err)

	base, _ := serveWeb(t, serveOptions{db: dbOptions{url: dbURL}, httpAddr: "127.0.0.1:0", nodeID: "workspace-test",
		engine: engineOptions{noDemo: true, sim: webSim(), poll: 100 * time.Millisecond, summary: -1},
		web:    webOptions{bcryptCost: bcrypt.MinCost, sessionTTL: time.Hour, agentGone: time.Minute}})
	alice, bob, max, sue := newClient(t, base), newClient(t, base), newClient(t, base), newClient(t, base)
	for _, c := range []struct {
		c    *client
		name string
	}{{alice, "alice"}, {bob, "bob"}, {max, "max"}, {sue, "sue"}} {
		require.Equal(t, http.StatusOK, c.c.login(c.name, "password-"+c.name))
	}

	t.Run("pause codes", func(t *testing.T) {
		code, body := max.do("POST", "/api/v1/pause-codes", map[string]any{"campaign_id": camp.ID, "code": "coach",
			"label": "Coaching", "billable": true, "limit_min": 10}, true)
		require.Equal(t, http.StatusCreated, code, body)
		var coach campaigns.PauseCode
		mustJSON(t, body, &coach)
		require.Equal(t, "COACH", coach.Code, "codes are upper case")
		code, body = max.do("POST", "/api/v1/pause-codes", map[string]any{"campaign_id": camp.ID, "code": "COACH", "label": "Again"}, true)
		require.Equal(t, http.StatusConflict, code, body)
		code, body = max.do("POST", "/api/v1/pause-codes", map[string]any{"campaign_id": other.ID, "code": "OTHERONLY", "label": "Other"}, true)
		require.Equal(t, http.StatusCreated, code, body)
		for _, bad := range []map[string]any{
			{"code": "no spaces", "label": "x"}, {"code": "WRAPUP", "label": "x"}, {"code": "OK", "label": ""},
			{"code": "OK", "label": "x", "limit_min": 0}, {"code": "OK", "label": "x", "campaign_id": 999999},
			{"code": "OK", "label": "x", "colour": "red"},
		} {
			code, body := max.do("POST", "/api/v1/pause-codes", bad, true)
			require.Equal(t, http.StatusBadRequest, code, "%v: %s", bad, body)
			require.Contains(t, body, `"error"`)
		}
		code, _ = alice.do("GET", "/api/v1/pause-codes", nil, false)
		require.Equal(t, http.StatusForbidden, code, "agents do not manage pause codes")
		code, _ = sue.do("POST", "/api/v1/pause-codes", map[string]any{"code": "X", "label": "x"}, true)
		require.Equal(t, http.StatusForbidden, code, "nor do supervisors")
		code, body = sue.do("GET", "/api/v1/pause-codes", nil, false)
		require.Equal(t, http.StatusOK, code, "supervisors read the limits their wallboard holds pauses to")
		require.Contains(t, body, `"code":"COACH"`)

		// The agent's list: the seeded global codes and the campaign's own.
		code, body = alice.do("GET", fmt.Sprintf("/api/v1/agent/pause-codes?campaign_id=%d", camp.ID), nil, false)
		require.Equal(t, http.StatusOK, code, body)
		var mine struct {
			PauseCodes []campaigns.PauseCode `json:"pause_codes"`
		}
		mustJSON(t, body, &mine)
		var codes []string
		for _, p := range mine.PauseCodes {
			codes = append(codes, p.Code)
		}
		require.ElementsMatch(t, []string{"BREAK", "COACH", "LUNCH", "MEETING", "TRAINING"}, codes)

		// A code the campaign does not have is refused, and the agent is
		// not paused with it.
		for _, c := range []string{"OTHERONLY", "NOPE", "LOGIN"} {
			code, body = alice.do("POST", "/api/v1/agent/state", map[string]any{"state": "PAUSED", "pause_code": c, "campaign_id": camp.ID}, true)
			require.Equal(t, http.StatusBadRequest, code, "%s: %s", c, body)
			require.Contains(t, body, "not a pause code of this campaign")
		}
		require.NotEqual(t, "OTHERONLY", alice.agentState().PauseCode)
		code, body = alice.do("POST", "/api/v1/agent/state", map[string]any{"state": "PAUSED", "pause_code": "COACH", "campaign_id": camp.ID}, true)
		require.Equal(t, http.StatusOK, code, body)
		st := alice.agentState()
		require.Equal(t, "PAUSED", st.State)
		require.Equal(t, "COACH", st.PauseCode)
		require.Equal(t, "Coaching", st.PauseLabel)
		require.True(t, st.PauseBillable)
		require.NotNil(t, st.PauseLimitMin)
		require.Equal(t, 10, *st.PauseLimitMin, "the limit the wallboard holds the pause to")
		require.Equal(t, 90, st.WrapupLimitS)

		// A manager changes the limit; the agent sees it.
		code, body = max.do("PUT", fmt.Sprintf("/api/v1/pause-codes/%d", coach.ID), map[string]any{"campaign_id": camp.ID,
			"code": "COACH", "label": "Coaching session", "billable": true, "limit_min": nil}, true)
		require.Equal(t, http.StatusOK, code, body)
		st = alice.agentState()
		require.Nil(t, st.PauseLimitMin)
		require.Equal(t, "Coaching session", st.PauseLabel)

		// Removed, it may no longer be chosen.
		code, _ = max.do("DELETE", fmt.Sprintf("/api/v1/pause-codes/%d", coach.ID), nil, true)
		require.Equal(t, http.StatusNoContent, code)
		code, _ = max.do("DELETE", fmt.Sprintf("/api/v1/pause-codes/%d", coach.ID), nil, true)
		require.Equal(t, http.StatusNotFound, code)
		code, body = alice.do("POST", "/api/v1/agent/state", map[string]any{"state": "PAUSED", "pause_code": "COACH"}, true)
		require.Equal(t, http.StatusBadRequest, code, body)
	})

	t.Run("transfer numbers", func(t *testing.T) {
		code, body := max.do("POST", "/api/v1/transfer-numbers", map[string]any{"label": "Billing", "number": "+1 (202) 555-0199"}, true)
		require.Equal(t, http.StatusCreated, code, body)
		require.Contains(t, body, `"number":"+12025550199"`)
		code, body = max.do("POST", "/api/v1/transfer-numbers", map[string]any{"label": "Billing again", "number": "+12025550199"}, true)
		require.Equal(t, http.StatusConflict, code, body)
		code, body = max.do("POST", "/api/v1/transfer-numbers", map[string]any{"campaign_id": other.ID, "label": "Other desk", "number": "3125550111"}, true)
		require.Equal(t, http.StatusCreated, code, "a campaign's number may be national in its region: %s", body)
		for _, bad := range []map[string]any{{"label": "x", "number": "12"}, {"label": "", "number": "+12025550198"},
			{"label": "x", "number": "+12025550198", "extra": 1}} {
			code, body := max.do("POST", "/api/v1/transfer-numbers", bad, true)
			require.Equal(t, http.StatusBadRequest, code, "%v: %s", bad, body)
		}
		code, _ = alice.do("POST", "/api/v1/transfer-numbers", map[string]any{"label": "x", "number": "+12025550198"}, true)
		require.Equal(t, http.StatusForbidden, code)

		code, body = bob.do("POST", "/api/v1/agent/state", map[string]any{"state": "PAUSED", "pause_code": "LUNCH", "campaign_id": camp.ID}, true)
		require.Equal(t, http.StatusOK, code, body)
		code, body = alice.do("GET", "/api/v1/agent/transfer-directory", nil, false)
		require.Equal(t, http.StatusOK, code, body)
		var dir struct {
			Agents []struct {
				Username, State, Target string
			} `json:"agents"`
			Queues  []string                   `json:"queues"`
			Numbers []campaigns.TransferNumber `json:"numbers"`
		}
		mustJSON(t, body, &dir)
		require.Len(t, dir.Agents, 1, "the other agent of the campaign, not alice herself: %s", body)
		require.Equal(t, "bob", dir.Agents[0].Username)
		require.Equal(t, "PAUSED", dir.Agents[0].State)
		require.Equal(t, "agent:bob", dir.Agents[0].Target)
		require.Empty(t, dir.Queues, "no inbound queues exist yet")
		require.Len(t, dir.Numbers, 1, "the global number, not the other campaign's: %s", body)
		require.Equal(t, "Billing", dir.Numbers[0].Label)
	})

	t.Run("pause after the call, taken back", func(t *testing.T) {
		code, body := alice.do("POST", "/api/v1/agent/state", map[string]any{"state": "READY", "campaign_id": camp.ID}, true)
		require.Equal(t, http.StatusOK, code, body)
		alice.waitCall("connected")
		code, body = alice.do("POST", "/api/v1/agent/state", map[string]any{"state": "PAUSED", "pause_code": "NOPE"}, true)
		require.Equal(t, http.StatusBadRequest, code, "a pause after the call needs a valid code too: %s", body)
		code, body = alice.do("POST", "/api/v1/agent/state", map[string]any{"state": "PAUSED", "pause_code": "LUNCH"}, true)
		require.Equal(t, http.StatusOK, code, body)
		st := alice.agentState()
		require.Equal(t, "INCALL", st.State)
		require.Equal(t, "LUNCH", st.PausePending)
		code, body = alice.do("POST", "/api/v1/agent/state", map[string]any{"state": "READY"}, true)
		require.Equal(t, http.StatusOK, code, body)
		st = alice.agentState()
		require.Equal(t, "INCALL", st.State, "taking the pause back leaves the call alone")
		require.Empty(t, st.PausePending)
	})

	t.Run("lead edits", func(t *testing.T) {
		call := alice.waitCall("connected")
		lead := call.Lead.ID
		code, body := alice.do("GET", "/api/v1/agent/call", nil, false)
		require.Equal(t, http.StatusOK, code)
		var view struct {
			Lead struct {
				Attempts int `json:"attempts"`
			} `json:"lead"`
			LeadLocal []campaigns.LocalTime `json:"lead_local"`
		}
		mustJSON(t, body, &view)
		require.Equal(t, 0, view.Lead.Attempts, "attempts count finished tries: this call is the lead's first")
		require.Len(t, view.LeadLocal, 1, body)
		require.Equal(t, "America/New_York", view.LeadLocal[0].Zone)

		patch := func(c *client, body any) (int, string) { return c.do("PATCH", "/api/v1/agent/lead", body, true) }
		for _, bad := range []struct {
			body any
			want int
			says string
		}{
			{map[string]any{"lead_id": lead, "fields": map[string]string{"phone": "+12025550000"}}, 400, "not a field you can edit"},
			{map[string]any{"lead_id": lead, "fields": map[string]string{"email": "not an address"}}, 400, "email"},
			{map[string]any{"lead_id": lead, "fields": map[string]string{"city": "two\nlines"}}, 400, "one line"},
			{map[string]any{"lead_id": lead, "fields": map[string]string{"custom.bad\nkey": "x"}}, 400, "custom field name"},
			{map[string]any{"lead_id": lead, "fields": map[string]string{}}, 400, "no fields"},
			{map[string]any{"lead_id": lead, "fields": map[string]string{"city": "x"}, "user_id": 1}, 400, "user_id"},
			{map[string]any{"fields": map[string]string{"city": "x"}}, 400, "lead_id"},
			{map[string]any{"lead_id": lead + 1, "fields": map[string]string{"city": "x"}}, 404, "not on your screen"},
		} {
			code, body := patch(alice, bad.body)
			require.Equal(t, bad.want, code, "%v: %s", bad.body, body)
			require.Contains(t, body, bad.says)
		}
		code, body = patch(bob, map[string]any{"lead_id": lead, "fields": map[string]string{"city": "x"}})
		require.Equal(t, http.StatusNotFound, code, "another agent's lead: %s", body)

		code, body = patch(alice, map[string]any{"lead_id": lead, "fields": map[string]string{"first_name": "Anne",
			"email": "anne@example.com", "custom.plan": "platinum", "last_name": "Lee"}})
		require.Equal(t, http.StatusOK, code, body)
		var res struct {
			Lead  campaigns.Lead       `json:"lead"`
			Edits []campaigns.LeadEdit `json:"edits"`
		}
		mustJSON(t, body, &res)
		require.Equal(t, "Anne", res.Lead.FirstName)
		require.Equal(t, "platinum", res.Lead.Custom["plan"])
		require.Len(t, res.Edits, 3, "last_name did not change, so it is not logged")

		aliceUser, err := web.GetUserByName(ctx, db, "alice")
		require.NoError(t, err)
		edits, err := campaigns.LeadEdits(ctx, db, campaigns.LeadID(lead))
		require.NoError(t, err)
		got := map[string][2]string{}
		for _, e := range edits {
			require.Equal(t, aliceUser.ID, e.User)
			require.Equal(t, int64(call.ID), e.Call)
			require.Equal(t, camp.ID, e.Campaign)
			require.False(t, e.At.IsZero())
			got[e.Field] = [2]string{e.Before, e.After}
		}
		require.Len(t, got, 3, "%v", got)
		require.Equal(t, [2]string{"gold", "platinum"}, got["custom.plan"])
		require.Equal(t, [2]string{"", "anne@example.com"}, got["email"])
		require.Regexp(t, `^Ann[0-9]+$`, got["first_name"][0])
		require.Equal(t, "Anne", got["first_name"][1])

		// The log is append-only.
		_, err = db.Exec(ctx, `UPDATE lead_edits SET after = 'forged' WHERE lead_id = $1`, lead)
		require.ErrorContains(t, err, "append-only")
		_, err = db.Exec(ctx, `DELETE FROM lead_edits WHERE lead_id = $1`, lead)
		require.ErrorContains(t, err, "append-only")

		// A new address moves the lead's time zone with it.
		code, body = patch(alice, map[string]any{"lead_id": lead, "fields": map[string]string{"state": "CA", "postal_code": "94103"}})
		require.Equal(t, http.StatusOK, code, body)
		var moved struct {
			Local []campaigns.LocalTime `json:"local"`
		}
		mustJSON(t, body, &moved)
		var zones []string
		for _, l := range moved.Local {
			zones = append(zones, l.Zone)
		}
		require.Contains(t, zones, "America/Los_Angeles")
		code, body = alice.do("GET", fmt.Sprintf("/api/v1/agent/leads/%d/edits", lead), nil, false)
		require.Equal(t, http.StatusOK, code, body)
		require.Contains(t, body, `"field":"postal_code"`)
	})
}
