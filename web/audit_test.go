package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/internal/testwait"
)

// apiClient is one logged-in user of a test server.
type apiClient struct {
	t      *testing.T
	base   string
	cookie string
	csrf   string
}

func loginAPI(t *testing.T, s *Server, db *pgxpool.Pool, name string, role Role) *apiClient {
	t.Helper()
	addUser(t, db, name, role)
	body, _ := json.Marshal(map[string]string{"username": name, "password": "password-" + name})
	resp, err := http.Post("http://"+s.Addr()+"/api/v1/login", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	var r struct {
		CSRF string `json:"csrf_token"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&r))
	c := &apiClient{t: t, base: "http://" + s.Addr(), csrf: r.CSRF}
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie {
			c.cookie = ck.Name + "=" + ck.Value
		}
	}
	require.NotEmpty(t, c.cookie)
	return c
}

// send makes a request with the session and its CSRF token; body is JSON
// unless it is a multipart form (contentType given).
func (c *apiClient) send(method, path string, body io.Reader, contentType string) (int, string) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	require.NoError(c.t, err)
	req.Header.Set("Cookie", c.cookie)
	req.Header.Set("X-CSRF-Token", c.csrf)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := (&http.Client{Timeout: testwait.HangGuard}).Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (c *apiClient) do(method, path string, body any) (int, string) {
	c.t.Helper()
	if body == nil {
		return c.send(method, path, nil, "")
	}
	b, _ := json.Marshal(body)
	return c.send(method, path, bytes.NewReader(b), "application/json")
}

type dispositionJSON struct {
	Code              string `json:"code"`
	Label             string `json:"label"`
	Category          string `json:"category"`
	Final             bool   `json:"final"`
	RecycleAfterS     int    `json:"recycle_after_s"`
	SchedulesCallback bool   `json:"schedules_callback"`
	System            bool   `json:"system"`
}

func (c *apiClient) disposition(campaign int64, code string) dispositionJSON {
	c.t.Helper()
	status, body := c.do("GET", fmt.Sprintf("/api/v1/campaigns/%d", campaign), nil)
	require.Equal(c.t, http.StatusOK, status, body)
	var r struct {
		Dispositions []dispositionJSON `json:"dispositions"`
	}
	require.NoError(c.t, json.Unmarshal([]byte(body), &r))
	for _, d := range r.Dispositions {
		if d.Code == code {
			return d
		}
	}
	c.t.Fatalf("campaign %d has no disposition %s: %s", campaign, code, body)
	return dispositionJSON{}
}

// A manager's edit changes only the fields it names: renaming DNC keeps it
// a final dnc disposition, the engine's codes are not the manager's to
// change, a dnc disposition is always final (in the database too), and
// every change is logged with who made it and what it was before and after.
func TestDispositionEditsKeepTheirMeaning(t *testing.T) {
	t.Parallel()
	db := testdb.NewPool(t)
	s := startServer(t, db, "dispo")
	max := loginAPI(t, s, db, "max", RoleManager)
	camp, err := campaigns.Create(context.Background(), db, "Edits", nil)
	require.NoError(t, err)
	put := func(code string, body string) (int, string) {
		return max.send("PUT", fmt.Sprintf("/api/v1/campaigns/%d/dispositions/%s", camp.ID, code), strings.NewReader(body),
			"application/json")
	}

	status, body := put("DNC", `{"label":"Do not call us again"}`)
	require.Equal(t, http.StatusNoContent, status, body)
	require.Equal(t, dispositionJSON{Code: "DNC", Label: "Do not call us again", Category: "dnc", Final: true},
		max.disposition(int64(camp.ID), "DNC"), "a label-only edit changes the label only")

	for _, code := range []string{"NA", "B", "AA", "DROP", "FAIL", "AUTO", "drop"} {
		status, body := put(code, `{"label":"Anything"}`)
		require.Equal(t, http.StatusForbidden, status, "%s: %s", code, body)
		require.Contains(t, body, "engine disposition codes (NA, B, AA, DROP, FAIL, AUTO) cannot be edited", code)
	}
	require.Equal(t, dispositionJSON{Code: "DROP", Label: "Abandoned", Category: "no-contact", System: true},
		max.disposition(int64(camp.ID), "DROP"))

	status, body = put("OPTOUT", `{"label":"Opted out","category":"dnc"}`)
	require.Equal(t, http.StatusNoContent, status, body)
	require.Equal(t, dispositionJSON{Code: "OPTOUT", Label: "Opted out", Category: "dnc", Final: true},
		max.disposition(int64(camp.ID), "OPTOUT"), "a dnc disposition is final without being told")
	for _, bad := range []struct{ body, rule string }{
		{`{"final":false}`, "a dnc disposition puts the number on the DNC list and is always final"},
		{`{"schedules_callback":true}`, "a dnc disposition cannot schedule a callback"},
		{`{"label":null}`, "label cannot be null"},
		{`{"colour":"red"}`, `unknown disposition field "colour"`},
		{`{"system":true}`, "only engine codes are system dispositions"},
		{`{"category":"spam"}`, `unknown disposition category "spam"`},
	} {
		status, body := put("OPTOUT", bad.body)
		require.Equal(t, http.StatusBadRequest, status, "%s: %s", bad.body, body)
		var e struct {
			Error string `json:"error"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &e))
		require.Contains(t, e.Error, bad.rule, bad.body)
	}
	status, body = put("HOT", `{"label":"Hot lead","recycle_after_s":600}`)
	require.Equal(t, http.StatusNoContent, status, body)
	status, body = put("HOT", `{"recycle_after_s":null}`)
	require.Equal(t, http.StatusNoContent, status, body)
	require.Equal(t, dispositionJSON{Code: "HOT", Label: "Hot lead", Category: "contact"}, max.disposition(int64(camp.ID), "HOT"),
		"null clears the recycle time, absent fields stay")
	status, body = put("HOT", `{"label":"Hot lead"}`)
	require.Equal(t, http.StatusNoContent, status, body, "a change that changes nothing is fine, and not logged")

	_, err = db.Exec(context.Background(), `UPDATE dispositions SET final = false WHERE campaign_id = $1 AND code = 'DNC'`, camp.ID)
	require.ErrorContains(t, err, "dispositions_dnc_final", "the database holds the rule too")
	_, err = db.Exec(context.Background(), `UPDATE dispositions SET system = false WHERE campaign_id = $1 AND code = 'DROP'`, camp.ID)
	require.ErrorContains(t, err, "dispositions_engine_codes")

	status, body = max.do("GET", fmt.Sprintf("/api/v1/campaigns/%d/disposition-changes", camp.ID), nil)
	require.Equal(t, http.StatusOK, status, body)
	var r struct {
		Changes []struct {
			Code   string           `json:"code"`
			By     string           `json:"by"`
			ByUser int64            `json:"by_user"`
			At     string           `json:"at"`
			Before *dispositionJSON `json:"before"`
			After  dispositionJSON  `json:"after"`
		} `json:"changes"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &r))
	require.Len(t, r.Changes, 4, body)
	dnc := r.Changes[3]
	require.Equal(t, "DNC", dnc.Code)
	require.Equal(t, "max", dnc.By)
	require.NotZero(t, dnc.ByUser)
	require.NotEmpty(t, dnc.At)
	require.Equal(t, &dispositionJSON{Code: "DNC", Label: "Do not call", Category: "dnc", Final: true}, dnc.Before)
	require.Equal(t, "Do not call us again", dnc.After.Label)
	require.Nil(t, r.Changes[2].Before, "OPTOUT was created")
	require.Equal(t, 600, r.Changes[0].Before.RecycleAfterS)
	require.Zero(t, r.Changes[0].After.RecycleAfterS)
	_, err = db.Exec(context.Background(), `DELETE FROM disposition_changes`)
	require.ErrorContains(t, err, "append-only")
}

type dncEventJSON struct {
	Action   string `json:"action"`
	Campaign int64  `json:"campaign_id"`
	Phone    string `json:"phone"`
	How      string `json:"how"`
	By       string `json:"by"`
	ByUser   int64  `json:"by_user"`
	Reason   string `json:"reason"`
	At       string `json:"at"`
}

func (c *apiClient) dncHistory(query string) []dncEventJSON {
	c.t.Helper()
	status, body := c.do("GET", "/api/v1/dnc/history"+query, nil)
	require.Equal(c.t, http.StatusOK, status, body)
	var r struct {
		Events []dncEventJSON `json:"events"`
	}
	require.NoError(c.t, json.Unmarshal([]byte(body), &r))
	for i := range r.Events {
		require.NotEmpty(c.t, r.Events[i].At)
		r.Events[i].At = ""
	}
	return r.Events
}

// Every add and remove on a DNC list through the API, the console and a
// list import is recorded with who, how and why; a removal needs a reason;
// a manager reads the history, filtered by number, and exports it as CSV
// that a spreadsheet will not run.
func TestDNCChangesAreAudited(t *testing.T) {
	t.Parallel()
	db := testdb.NewPool(t)
	s := startServer(t, db, "dnc")
	max := loginAPI(t, s, db, "max", RoleManager)
	camp, err := campaigns.Create(context.Background(), db, "Audited", nil)
	require.NoError(t, err)

	status, body := max.do("POST", "/api/v1/dnc", map[string]any{"phones": []string{"(202) 555-0100"}, "reason": "asked on the phone"})
	require.Equal(t, http.StatusOK, status, body)
	status, body = max.do("POST", "/api/v1/dnc", map[string]any{"phones": []string{"202 555 0101"}, "campaign_id": camp.ID,
		"via": "console", "reason": "=HYPERLINK(\"http://evil.example\")"})
	require.Equal(t, http.StatusOK, status, body)
	for _, reason := range []string{"", "   "} {
		status, body = max.do("DELETE", "/api/v1/dnc", map[string]any{"phones": []string{"2025550100"}, "reason": reason})
		require.Equal(t, http.StatusBadRequest, status, body)
		require.Contains(t, body, "removing a number from a DNC list needs a reason")
	}
	status, body = max.do("DELETE", "/api/v1/dnc", map[string]any{"phones": []string{"2025550100"}, "reason": strings.Repeat("é", 501)})
	require.Equal(t, http.StatusBadRequest, status, body)
	require.Contains(t, body, "reason is too long: at most 500 characters")
	status, body = max.do("DELETE", "/api/v1/dnc", map[string]any{"phones": []string{"2025550100"}, "via": "console",
		"reason": "added by mistake"})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `"changed":1`)

	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, _ := mw.CreateFormFile("file", "complaints.csv")
	io.WriteString(fw, "phone\n2025550102\n2025550103\n")
	mw.Close()
	status, body = max.send("POST", "/api/v1/dnc/import", &form, mw.FormDataContentType())
	require.Equal(t, http.StatusOK, status, body)

	me := max.dncHistory("?number=2025550100")
	require.Len(t, me, 2)
	require.NotZero(t, me[0].ByUser)
	require.Equal(t, []dncEventJSON{
		{Action: "remove", Phone: "+12025550100", How: "console", By: "max", ByUser: me[0].ByUser, Reason: "added by mistake"},
		{Action: "add", Phone: "+12025550100", How: "api", By: "max", ByUser: me[0].ByUser, Reason: "asked on the phone"},
	}, me)
	require.Equal(t, []dncEventJSON{
		{Action: "add", Campaign: int64(camp.ID), Phone: "+12025550101", How: "console", By: "max", ByUser: me[0].ByUser,
			Reason: "=HYPERLINK(\"http://evil.example\")"},
	}, max.dncHistory(fmt.Sprintf("?campaign_id=%d", camp.ID)))
	global := max.dncHistory("?campaign_id=0")
	require.Len(t, global, 4)
	require.Equal(t, dncEventJSON{Action: "add", Phone: "+12025550103", How: "import", By: "max", ByUser: me[0].ByUser,
		Reason: "import of complaints.csv"}, global[0])
	require.Len(t, max.dncHistory(""), 5, "every list")
	require.Len(t, max.dncHistory("?number=555-01"), 5, "part of a number")
	status, body = max.do("GET", "/api/v1/dnc/history?number=abc", nil)
	require.Equal(t, http.StatusBadRequest, status, body)

	status, body = max.do("GET", fmt.Sprintf("/api/v1/dnc/history.csv?campaign_id=%d", camp.ID), nil)
	require.Equal(t, http.StatusOK, status, body)
	lines := strings.Split(strings.TrimSpace(body), "\n")
	require.Equal(t, "at,action,list,phone,how,by,by_user,call_id,reason", lines[0])
	require.Len(t, lines, 2)
	require.Contains(t, lines[1], `,add,Audited,'+12025550101,console,max,`)
	require.True(t, strings.HasSuffix(lines[1], `,"'=HYPERLINK(""http://evil.example"")"`), lines[1])

	_, err = db.Exec(context.Background(), `UPDATE dnc_events SET reason = 'nothing to see'`)
	require.ErrorContains(t, err, "dnc_events is append-only")
	_, err = db.Exec(context.Background(), `DELETE FROM dnc WHERE phone = '+12025550102'`)
	require.ErrorContains(t, err, "dnc_events", "a removal behind Pacer's back needs a reason too")
}
