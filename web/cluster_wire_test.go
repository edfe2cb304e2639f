package web

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
)

// The typed ids, agent actions and states cross the cluster's wire, and
// reach the browser, in the JSON they always had: numbers for ids, names
// for actions ("pause") and states ("READY"); a node reads back exactly
// what another sent.
func TestEngineCallsKeepTheirWireFormat(t *testing.T) {
	t.Parallel()
	call := engineCall{Campaign: 7, Agent: 42, Action: ActPause, Pause: "LUNCH", Lead: 9, Call: 1<<26 + 3}
	b, err := json.Marshal(call)
	require.NoError(t, err)
	require.JSONEq(t, `{"campaign_id":7,"agent_id":42,"action":"pause","pause_code":"LUNCH","lead_id":9,
		"call_id":67108867,"input":{"code":"","notes":""},"control":{"Kind":0,"Digits":"","Target":{"Kind":0,"Agent":0,"Queue":"","Number":""}}}`,
		string(b))
	var back engineCall
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, call, back)

	b, err = json.Marshal(engineCall{Campaign: 7, Agent: 42})
	require.NoError(t, err)
	require.NotContains(t, string(b), `"action"`, "a call without an action sends none")

	for a := ActReady; a < numAgentActions; a++ {
		b, err := json.Marshal(a)
		require.NoError(t, err)
		var got AgentAction
		require.NoError(t, json.Unmarshal(b, &got))
		require.Equal(t, a, got, "%s", a)
	}
	require.Error(t, json.Unmarshal([]byte(`"dance"`), new(AgentAction)))

	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	view := AgentView{Agent: 42, State: agents.InCall, Since: at,
		Call: &CallView{ID: 1<<26 + 3, Lead: 9, Number: "+12025550100", State: "connected", Start: at}}
	b, err = json.Marshal(view)
	require.NoError(t, err)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(b, &raw))
	require.Equal(t, "INCALL", raw["state"])
	require.EqualValues(t, 42, raw["agent_id"])
	require.EqualValues(t, 1<<26+3, raw["call"].(map[string]any)["id"])
	require.EqualValues(t, 9, raw["call"].(map[string]any)["lead_id"])
	var viewBack AgentView
	require.NoError(t, json.Unmarshal(b, &viewBack))
	require.Equal(t, view, viewBack)

	tr := Transition{Campaign: 7, Agent: 42, At: at, Event: "connect", From: agents.Ready, To: agents.InCall}
	b, err = json.Marshal(tr)
	require.NoError(t, err)
	require.JSONEq(t, `{"campaign_id":7,"agent_id":42,"at":"2026-11-20T09:00:00Z","event":"connect","from":"READY",
		"state":"INCALL"}`, string(b))

	cc := connectedCall{Call: 1<<26 + 3, Lead: campaigns.LeadID(9)}
	b, err = json.Marshal(cc)
	require.NoError(t, err)
	require.JSONEq(t, `[67108867,9]`, string(b))
	var ccBack connectedCall
	require.NoError(t, json.Unmarshal(b, &ccBack))
	require.Equal(t, cc, ccBack)
}
