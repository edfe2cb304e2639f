package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/fasthttp/websocket"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/dialer/sim"
	"github.com/pacer-dialer/pacer/internal/testwait"
	"github.com/pacer-dialer/pacer/web"
)

// events collects a workspace's live events.
type events struct {
	mu  sync.Mutex
	got []web.Event
}

func (e *events) has(match func(web.Event) bool) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ev := range e.got {
		if match(ev) {
			return true
		}
	}
	return false
}

// listen opens the client's live-event socket and collects what it gets.
func (c *client) listen() *events {
	c.t.Helper()
	h := http.Header{}
	u, _ := url.Parse(c.base)
	for _, ck := range c.http.Jar.Cookies(u) {
		h.Add("Cookie", ck.Name+"="+ck.Value)
	}
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(c.base, "http")+"/api/v1/events", h)
	require.NoError(c.t, err)
	c.t.Cleanup(func() { ws.Close() })
	e := &events{}
	go func() {
		for {
			_, msg, err := ws.ReadMessage()
			if err != nil {
				return
			}
			var ev web.Event
			if json.Unmarshal(msg, &ev) == nil {
				e.mu.Lock()
				e.got = append(e.got, ev)
				e.mu.Unlock()
			}
		}
	}()
	return e
}

// twoNodes is a cluster of two nodes without simulated agents; the
// campaign's customers talk until the agent hangs up.
func twoNodes(t *testing.T) (c *cluster, owner, other *proc, camp int64) {
	c = newClusterWith(t, 300, "predictive", func(rt *sim.Realtime) {
		rt.CustomerTalk = sim.Dist{Dist: "uniform", Min: 300, Max: 400}
	})
	c.agents = -1
	procs := map[string]*proc{}
	c.startNode(procs)
	c.startNode(procs)
	ownerID, owner := c.owner(procs)
	for id, p := range procs {
		if id != ownerID {
			other = p
		}
	}
	require.NoError(t, c.db.QueryRow(context.Background(), `SELECT id FROM campaigns WHERE name = $1`, c.campaign).Scan(&camp))
	_, err := web.CreateUser(context.Background(), c.db, web.NewUser{Username: "ann", Role: web.RoleAgent,
		Password: "password-ann", Cost: bcrypt.MinCost})
	require.NoError(t, err)
	assignAgents(t, c.db, campaigns.ID(camp), "ann")
	return c, owner, other, camp
}

// An agent whose browser talks to a node that does not own the campaign
// works fully: READY, a call, its controls, the disposition and live
// events; the call itself is placed and recorded by the owner.
func TestAnAgentWorksThroughANodeThatDoesNotOwnTheCampaign(t *testing.T) {
	t.Parallel()
	c, owner, other, camp := twoNodes(t)
	ann := newClient(t, "http://"+other.addr)
	require.Equal(t, http.StatusOK, ann.login("ann", "password-ann"))
	live := ann.listen()
	code, body := ann.do("GET", "/api/v1/agent/campaigns", nil, false)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, c.campaign, "the campaign owned elsewhere is offered")

	code, body = ann.do("POST", "/api/v1/agent/state", map[string]any{"state": "READY", "campaign_id": camp}, true)
	require.Equal(t, http.StatusOK, code, body)
	call := ann.waitCall("connected")
	for _, a := range []string{"hold", "resume"} {
		code, body = ann.do("POST", "/api/v1/agent/call/"+a, map[string]any{"call_id": call.ID}, true)
		require.Equal(t, http.StatusNoContent, code, "%s: %s", a, body)
	}
	code, body = ann.do("POST", "/api/v1/agent/call/hangup", map[string]any{"call_id": call.ID}, true)
	require.Equal(t, http.StatusNoContent, code, body)
	code, body = ann.do("POST", "/api/v1/agent/disposition", map[string]any{"code": "SALE", "call_id": call.ID,
		"pause_after": true}, true)
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"state":"PAUSED"`)
	code, body = ann.do("POST", "/api/v1/agent/disposition", map[string]any{"code": "SALE", "call_id": call.ID}, true)
	require.Equal(t, http.StatusConflict, code, "the owner's refusal crosses the wire with its status: %s", body)

	var ownerID string
	require.NoError(t, c.db.QueryRow(context.Background(), `SELECT id FROM nodes WHERE http_addr = $1`, owner.addr).Scan(&ownerID))
	require.Equal(t, 1, c.count(`SELECT count(*) FROM calls WHERE id = $1 AND seq = $1 AND disposition = 'SALE' AND node = $2`,
		int64(call.ID), ownerID), "the owner placed and recorded the call, under the id the agent saw")
	require.Equal(t, 2, c.count(`SELECT count(*) FROM call_actions WHERE call_seq = $1 AND action IN ('hold', 'resume')`,
		int64(call.ID)), "the actions carry the same call id")
	_, body = ann.do("GET", "/api/v1/agent/history", nil, false)
	require.Contains(t, body, `"id":`+jsonInt(int64(call.ID)), "history shows the same call id")
	testwait.Until(t, func() bool {
		return live.has(func(ev web.Event) bool { return ev.Type == "agent" && ev.Agent != 0 })
	}, "the other node's workspace gets the owner's live agent events")
	require.Equal(t, http.StatusOK, func() int {
		code, _ := ann.do("POST", "/api/v1/agent/state", map[string]any{"state": "LOGGED_OUT"}, true)
		if code == http.StatusNoContent {
			return http.StatusOK
		}
		return code
	}())
	c.promisesKept(false)
}

// One agent, one seat: a second tab (here on another node) takes the seat
// over and the first is told and refused; going READY in another campaign
// logs the agent out of the first, and is refused while on a call there.
func TestAnAgentHasOneSeatInTheCluster(t *testing.T) {
	t.Parallel()
	c, owner, other, camp := twoNodes(t)
	second := activeCampaign(t, c.db, "Second", "predictive", "phone,first_name\n+12125550101,Sam\n+12125550102,Sue\n")
	testwait.Until(t, func() bool {
		return c.count(`SELECT count(*) FROM campaign_leases WHERE campaign_id = $1 AND node_id <> ''`, second.ID) == 1
	}, "a node takes the second campaign")
	tab1 := newClient(t, "http://"+owner.addr)
	tab1.tab = "tab-one"
	require.Equal(t, http.StatusOK, tab1.login("ann", "password-ann"))
	live1 := tab1.listen()
	code, body := tab1.do("POST", "/api/v1/agent/state", map[string]any{"state": "READY", "campaign_id": camp}, true)
	require.Equal(t, http.StatusOK, code, body)
	call := tab1.waitCall("connected")

	tab2 := newClient(t, "http://"+other.addr)
	tab2.tab = "tab-two"
	require.Equal(t, http.StatusOK, tab2.login("ann", "password-ann"))
	code, body = tab2.do("POST", "/api/v1/agent/seat", nil, true)
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"state":"INCALL"`, "the call carries on in the new workspace")
	testwait.Until(t, func() bool {
		return live1.has(func(ev web.Event) bool {
			d, _ := ev.Data.(map[string]any)
			return ev.Type == "seat" && d["tab"] == "tab-two"
		})
	}, "the old workspace is told")
	code, body = tab1.do("POST", "/api/v1/agent/call/hold", map[string]any{"call_id": call.ID}, true)
	require.Equal(t, http.StatusConflict, code, body)
	require.Contains(t, body, "taken over by another tab")

	// On a call in the first campaign: the second is refused.
	code, body = tab2.do("POST", "/api/v1/agent/state", map[string]any{"state": "READY", "campaign_id": second.ID}, true)
	require.Equal(t, http.StatusConflict, code, body)
	require.Contains(t, body, "on a call in another campaign")

	code, body = tab2.do("POST", "/api/v1/agent/call/hangup", map[string]any{"call_id": call.ID}, true)
	require.Equal(t, http.StatusNoContent, code, body)
	code, body = tab2.do("POST", "/api/v1/agent/disposition", map[string]any{"code": "NI", "call_id": call.ID,
		"pause_after": true}, true)
	require.Equal(t, http.StatusOK, code, body)

	// Free of calls: the second campaign takes the agent, the first lets go.
	code, body = tab2.do("POST", "/api/v1/agent/state", map[string]any{"state": "PAUSED", "pause_code": "BREAK",
		"campaign_id": second.ID}, true)
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"campaign_id":`+jsonInt(int64(second.ID)))
	// Sessions are written behind: wait for the new one.
	testwait.Until(t, func() bool {
		return c.count(`SELECT count(*) FROM agent_sessions s JOIN users u ON u.id = s.agent_id
			WHERE u.username = 'ann' AND s.campaign_id = $1`, second.ID) == 1
	})
	testwait.Until(t, func() bool { // written behind by the first campaign's node
		return c.count(`SELECT count(*) FROM agent_sessions s JOIN users u ON u.id = s.agent_id
			WHERE u.username = 'ann' AND s.campaign_id = $1 AND s.end_cause = 'logout'`, camp) == 1
	}, "logged out of the first campaign")
	require.Equal(t, 1, c.count(`SELECT count(*) FROM agent_sessions s JOIN users u ON u.id = s.agent_id
		WHERE u.username = 'ann' AND s.logout_at IS NULL`), "one open session in the whole cluster")
	c.promisesKept(false)
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

// Two tabs racing to put the agent READY in two campaigns owned by two
// nodes: the seat takes them in turn, and the agent ends up in exactly one
// campaign, logged out of the other.
func TestTwoTabsRacingIntoTwoCampaignsLeaveOneSeat(t *testing.T) {
	t.Parallel()
	c, owner, other, _ := twoNodes(t)
	x := activeCampaign(t, c.db, "X", "manual", "phone,first_name\n+12125550111,Xa\n")
	y := activeCampaign(t, c.db, "Y", "manual", "phone,first_name\n+12125550112,Ya\n")
	testwait.Until(t, func() bool {
		return c.count(`SELECT count(*) FROM campaign_leases WHERE campaign_id IN ($1, $2) AND node_id <> ''`, x.ID, y.ID) == 2
	}, "both campaigns are owned")
	for round := range 5 {
		tabs := []*client{newClient(t, "http://"+owner.addr), newClient(t, "http://"+other.addr)}
		camps := []int64{int64(x.ID), int64(y.ID)}
		if round%2 == 1 {
			camps[0], camps[1] = camps[1], camps[0]
		}
		for i, tab := range tabs {
			tab.tab = "race-" + string(rune('a'+i))
			require.Equal(t, http.StatusOK, tab.login("ann", "password-ann"))
		}
		var wg sync.WaitGroup
		codes := make([]int, 2)
		for i, tab := range tabs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes[i], _ = tab.do("POST", "/api/v1/agent/state", map[string]any{"state": "READY", "campaign_id": camps[i]}, true)
			}()
		}
		wg.Wait()
		require.Contains(t, codes, http.StatusOK, "round %d: one of them wins", round)
		_, body := tabs[0].do("GET", "/api/v1/agent/state", nil, false)
		var st struct {
			Campaign int64  `json:"campaign_id"`
			State    string `json:"state"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &st))
		require.Equal(t, "READY", st.State, body)
		testwait.Until(t, func() bool {
			return c.count(`SELECT count(*) FROM agent_sessions s JOIN users u ON u.id = s.agent_id
				WHERE u.username = 'ann' AND s.logout_at IS NULL`) == 1 &&
				c.count(`SELECT count(*) FROM agent_sessions s JOIN users u ON u.id = s.agent_id
				WHERE u.username = 'ann' AND s.logout_at IS NULL AND s.campaign_id = $1`, st.Campaign) == 1
		}, "round %d: one open session, in the seat's campaign", round)
	}
}

// SIGTERM of the campaign's owner while an agent is on a call: the other node
// takes the campaign at once, the agent's call runs on at the draining node
// (their requests still reach it), they disposition it, the draining node
// exits, and their next READY logs them in where the campaign now runs.
func TestADrainingNodeHandsTheCampaignOverWhileItsCallsEnd(t *testing.T) {
	t.Parallel()
	c, owner, other, camp := twoNodes(t)
	var ownerID, otherID string
	require.NoError(t, c.db.QueryRow(context.Background(), `SELECT id FROM nodes WHERE http_addr = $1`, owner.addr).Scan(&ownerID))
	require.NoError(t, c.db.QueryRow(context.Background(), `SELECT id FROM nodes WHERE http_addr = $1`, other.addr).Scan(&otherID))
	ann := newClient(t, "http://"+other.addr)
	require.Equal(t, http.StatusOK, ann.login("ann", "password-ann"))
	code, body := ann.do("POST", "/api/v1/agent/state", map[string]any{"state": "READY", "campaign_id": camp}, true)
	require.Equal(t, http.StatusOK, code, body)
	call := ann.waitCall("connected")

	require.NoError(t, owner.cmd.Process.Signal(syscall.SIGTERM))
	testwait.Until(t, func() bool {
		return c.count(`SELECT count(*) FROM campaign_leases WHERE campaign_id = $1 AND node_id = $2`, camp, otherID) == 1
	}, "the other node takes the campaign while the call goes on")
	code, body = ann.do("POST", "/api/v1/agent/call/hold", map[string]any{"call_id": call.ID}, true)
	require.Equal(t, http.StatusNoContent, code, "the call's controls still reach the draining node: %s", body)
	code, body = ann.do("POST", "/api/v1/agent/call/hangup", map[string]any{"call_id": call.ID}, true)
	require.Equal(t, http.StatusNoContent, code, body)
	code, body = ann.do("POST", "/api/v1/agent/disposition", map[string]any{"code": "SALE", "call_id": call.ID}, true)
	require.Equal(t, http.StatusOK, code, body)
	select {
	case err := <-owner.done:
		require.NoError(t, err, "the draining node exits 0; logs:\n%s", owner.logs)
	case <-testwait.Expired(t):
		t.Fatalf("the draining node did not exit; logs:\n%s", owner.logs)
	}
	require.Contains(t, owner.logs.String(), "drained: every call ended and dispositioned")

	code, body = ann.do("POST", "/api/v1/agent/state", map[string]any{"state": "READY", "campaign_id": camp}, true)
	require.Equal(t, http.StatusOK, code, body)
	next := ann.waitCall("connected")
	require.NotEqual(t, call.ID, next.ID, "a call id is never reused, across nodes and runs")
	testwait.Until(t, func() bool { // the call's row is written behind
		return c.count(`SELECT count(*) FROM calls WHERE id = $1 AND node = $2`, int64(next.ID), otherID) == 1
	}, "the next call comes from the new owner")
	require.Zero(t, c.count(`SELECT count(*) FROM calls WHERE node = $1 AND state <> 'ended'`, ownerID))
	c.promisesKept(false)
}
