package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/internal/testdb"
)

type errorJSON struct {
	Error string `json:"error"`
	Field string `json:"field"`
}

func decodeError(t *testing.T, body string) errorJSON {
	t.Helper()
	var e errorJSON
	require.NoError(t, json.Unmarshal([]byte(body), &e), body)
	return e
}

// A refused campaign setting is answered with the setting's key, whether
// its own range, the law's floors, a CHECK or the start rule refused it;
// the field specs give the same ranges the server checks.
func TestCampaignFieldErrors(t *testing.T) {
	t.Parallel()
	db := testdb.NewPool(t)
	s := startServer(t, db, "fields")
	max := loginAPI(t, s, db, "max", RoleManager)

	status, body := max.do("GET", "/api/v1/campaign-fields", nil)
	require.Equal(t, http.StatusOK, status, body)
	var specs struct {
		Fields []campaigns.FieldSpec `json:"fields"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &specs))
	byKey := map[string]campaigns.FieldSpec{}
	for _, f := range specs.Fields {
		byKey[f.Key] = f
		require.NotEmpty(t, f.Label, f.Key)
		require.NotEmpty(t, f.Group, f.Key)
	}
	require.Len(t, byKey, len(campaigns.Settings()), "every setting is described")
	at := byKey["abandon_target"]
	require.Equal(t, 0.05, *at.Max)
	require.True(t, at.MinExclusive)
	require.Equal(t, campaigns.MaxAbandonTarget, *at.LawMax)
	require.Equal(t, "%", at.Unit)
	require.EqualValues(t, campaigns.MinRingTimeoutS, *byKey["ring_timeout_s"].Min)
	require.EqualValues(t, campaigns.MaxConnectDeadlineMS, *byKey["connect_deadline_ms"].Max)

	status, body = max.do("POST", "/api/v1/campaigns", map[string]any{"name": "Lawful", "mode": "power"})
	require.Equal(t, http.StatusCreated, status, body)
	var camp campaigns.Campaign
	require.NoError(t, json.Unmarshal([]byte(body), &camp))
	path := fmt.Sprintf("/api/v1/campaigns/%d", camp.ID)

	for _, tc := range []struct {
		body          map[string]any
		field, errors string
	}{
		{map[string]any{"abandon_target": 0.05}, "abandon_target", "abandon_target 0.05 refused: US rules (TCPA) allow at most 0.03"},
		{map[string]any{"abandon_target": 0.2}, "abandon_target", "abandon_target: 0.2 is outside the allowed range"},
		{map[string]any{"ring_timeout_s": 5}, "ring_timeout_s", "refused: US rules (TCPA) need at least 15 s"},
		{map[string]any{"max_attempts": "many"}, "max_attempts", `"many" is not a whole number`},
		{map[string]any{"window_start": "07:00"}, "window_start", "allow calls only inside 08:00-21:00"},
		{map[string]any{"rules": "uk", "abandon_lockout_s": 3600}, "abandon_lockout_s", "need at least 259200 s (72 h)"},
		{map[string]any{"name": 7}, "name", `field "name" must be a string`},
		{map[string]any{"favourite_colour": "blue"}, "favourite_colour", `unknown campaign setting "favourite_colour"`},
	} {
		status, body := max.do("PATCH", path, tc.body)
		require.Equal(t, http.StatusBadRequest, status, "%v: %s", tc.body, body)
		e := decodeError(t, body)
		require.Equal(t, tc.field, e.Field, "%v: %s", tc.body, body)
		require.Contains(t, e.Error, tc.errors, "%v", tc.body)
	}
	status, body = max.do("POST", path+"/start", nil)
	require.Equal(t, http.StatusBadRequest, status, body)
	require.Equal(t, "caller_id", decodeError(t, body).Field, body)

	status, body = max.do("POST", "/api/v1/campaigns", map[string]any{"mode": "power"})
	require.Equal(t, http.StatusBadRequest, status, body)
	require.Equal(t, errorJSON{Error: "name is required", Field: "name"}, decodeError(t, body))
	status, body = max.do("POST", "/api/v1/campaigns", map[string]any{"name": "Lawful"})
	require.Equal(t, http.StatusBadRequest, status, body)
	require.Equal(t, errorJSON{Error: "a campaign with that name already exists", Field: "name"}, decodeError(t, body))

	status, body = max.do("PATCH", path, map[string]any{"abandon_target": 0.025, "caller_id": "+12025550143"})
	require.Equal(t, http.StatusOK, status, body)
	status, body = max.do("DELETE", "/api/v1/lists/1", nil)
	require.Equal(t, http.StatusNotFound, status, body)
	require.Empty(t, decodeError(t, body).Field, "an error about no field names none")
}

// The lists API: counts by class, a download whose cells cannot be
// formulas, recycle with a dry run, and delete refused while a call is in
// progress.
func TestListsAPI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	s := startServer(t, db, "lists")
	max := loginAPI(t, s, db, "max", RoleManager)
	c, err := campaigns.Create(ctx, db, "Lists", map[string]string{"simulated": "true", "window_start": "00:00",
		"window_end": "24:00", "status": "active"})
	require.NoError(t, err)
	file := "phone,first_name,last_name\n" +
		"(212) 436-0001,=HYPERLINK(\"http://evil.example\"),Ada\n" +
		"(212) 436-0002,Bob,@SUM(A1)\n" +
		"(212) 436-0003,Cy,Doe\n"
	res, err := campaigns.Import(ctx, db, strings.NewReader(file), campaigns.ImportOptions{Campaign: c.ID, Name: "people.csv"})
	require.NoError(t, err)
	now := time.Now()
	h := campaigns.NewHopper(s.cfg.Node)
	claimed, err := h.Claim(ctx, db, &c, 2, now)
	require.NoError(t, err)
	require.Len(t, claimed, 2)
	require.NoError(t, campaigns.Complete(ctx, db, &c, campaigns.Attempt{Lead: claimed[0].ID, Outcome: campaigns.OutcomeNoAnswer, At: now}))

	type listJSON struct {
		ID        int64            `json:"id"`
		Name      string           `json:"name"`
		Counts    map[string]int64 `json:"counts"`
		Total     int64            `json:"total"`
		DeletedAt *time.Time       `json:"deleted_at"`
	}
	lists := func() []listJSON {
		t.Helper()
		status, body := max.do("GET", fmt.Sprintf("/api/v1/campaigns/%d/lists", c.ID), nil)
		require.Equal(t, http.StatusOK, status, body)
		var r struct {
			Lists []listJSON `json:"lists"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &r))
		return r.Lists
	}
	ls := lists()
	require.Len(t, ls, 1)
	require.Equal(t, "people.csv", ls[0].Name)
	require.Equal(t, map[string]int64{"new": 1, "dialling": 1, "callable": 0, "retry_later": 1, "callback": 0, "finished": 0, "dnc": 0},
		ls[0].Counts)

	status, body := max.do("GET", fmt.Sprintf("/api/v1/lists/%d/leads.csv", res.List), nil)
	require.Equal(t, http.StatusOK, status, body)
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 4)
	require.Equal(t, []string{"id", "line", "phone", "first_name", "last_name", "state", "postal_code", "email", "status",
		"attempts", "last_outcome", "last_disposition", "last_attempt_at", "next_attempt_at"}, rows[0])
	require.Equal(t, "'+12124360001", rows[1][2], "a leading + is quoted too (CSVSafe)")
	require.Equal(t, `'=HYPERLINK("http://evil.example")`, rows[1][3], "a formula is quoted")
	require.Equal(t, "'@SUM(A1)", rows[2][4])
	require.Equal(t, []string{"retry_later", "1", "no_answer", "NA"}, rows[1][8:12])
	require.Equal(t, "dialling", rows[2][8])
	require.Equal(t, "new", rows[3][8])

	status, body = max.do("POST", fmt.Sprintf("/api/v1/lists/%d/recycle", res.List), map[string]any{"dispositions": []string{"NA"}, "dry_run": true})
	require.Equal(t, http.StatusOK, status, body)
	require.JSONEq(t, `{"dry_run":true,"matched":1,"at_limit":0,"callable":1}`, body)
	require.EqualValues(t, 1, lists()[0].Counts["retry_later"], "a dry run changes nothing")
	status, body = max.do("POST", fmt.Sprintf("/api/v1/lists/%d/recycle", res.List), map[string]any{"dispositions": []string{}})
	require.Equal(t, http.StatusBadRequest, status, body)
	require.Equal(t, "dispositions", decodeError(t, body).Field)
	status, body = max.do("POST", fmt.Sprintf("/api/v1/lists/%d/recycle", res.List), map[string]any{"dispositions": []string{"NA"}})
	require.Equal(t, http.StatusOK, status, body)
	require.EqualValues(t, 1, lists()[0].Counts["callable"])

	status, body = max.do("DELETE", fmt.Sprintf("/api/v1/lists/%d", res.List), nil)
	require.Equal(t, http.StatusConflict, status, body)
	require.Contains(t, body, "1 call(s) in progress")
	require.EqualValues(t, 3, lists()[0].Total)
	require.NoError(t, campaigns.Complete(ctx, db, &c, campaigns.Attempt{Lead: claimed[1].ID, Outcome: campaigns.OutcomeBusy, At: now}))
	status, body = max.do("DELETE", fmt.Sprintf("/api/v1/lists/%d", res.List), nil)
	require.Equal(t, http.StatusOK, status, body)
	require.JSONEq(t, fmt.Sprintf(`{"list_id":%d,"deleted":3}`, res.List), body)
	ls = lists()
	require.NotNil(t, ls[0].DeletedAt, "the list stays, marked deleted")
	require.Zero(t, ls[0].Total)
	status, body = max.do("DELETE", fmt.Sprintf("/api/v1/lists/%d", res.List), nil)
	require.Equal(t, http.StatusConflict, status, body)
	require.Contains(t, body, "list was deleted")
}

// Logging in records the time; a password reset by a manager ends the
// user's sessions, is recorded, and the new password (given, or generated
// and answered once) is the one that works.
func TestPasswordResetAndLastLogin(t *testing.T) {
	t.Parallel()
	db := testdb.NewPool(t)
	s := startServer(t, db, "users")
	max := loginAPI(t, s, db, "max", RoleManager)
	ann := loginAPI(t, s, db, "ann", RoleAgent)
	bo := addUser(t, db, "bo", RoleAgent)
	other := addUser(t, db, "mia", RoleManager)

	type userJSON struct {
		ID          int64      `json:"id"`
		Username    string     `json:"username"`
		LastLoginAt *time.Time `json:"last_login_at"`
		Campaigns   []int64    `json:"campaigns"`
	}
	users := func() map[string]userJSON {
		status, body := max.do("GET", "/api/v1/users", nil)
		require.Equal(t, http.StatusOK, status, body)
		var r struct {
			Users []userJSON `json:"users"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &r))
		out := map[string]userJSON{}
		for _, u := range r.Users {
			out[u.Username] = u
		}
		return out
	}
	us := users()
	require.NotNil(t, us["ann"].LastLoginAt, "ann logged in")
	require.Nil(t, us["bo"].LastLoginAt, "bo never did")
	require.NotNil(t, us["ann"].Campaigns)

	status, body := ann.do("GET", "/api/v1/me", nil)
	require.Equal(t, http.StatusOK, status, body)
	annID := us["ann"].ID

	status, body = max.do("POST", fmt.Sprintf("/api/v1/users/%d/password", annID), map[string]any{"password": "short"})
	require.Equal(t, http.StatusBadRequest, status, body)
	require.Equal(t, "password", decodeError(t, body).Field)
	status, body = max.do("POST", fmt.Sprintf("/api/v1/users/%d/password", other.ID), map[string]any{"password": "long-enough-pass"})
	require.Equal(t, http.StatusForbidden, status, "a manager does not reset another manager's password: %s", body)

	status, body = max.do("POST", fmt.Sprintf("/api/v1/users/%d/password", annID), map[string]any{"generate": true})
	require.Equal(t, http.StatusOK, status, body)
	var r struct {
		Password string `json:"password"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &r))
	require.Len(t, r.Password, generatedPasswordLen)

	status, _ = ann.do("GET", "/api/v1/me", nil)
	require.Equal(t, http.StatusUnauthorized, status, "the reset ended ann's session")
	login := func(name, password string) int {
		b, _ := json.Marshal(map[string]string{"username": name, "password": password})
		resp, err := http.Post("http://"+s.Addr()+"/api/v1/login", "application/json", bytes.NewReader(b))
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusUnauthorized, login("ann", "password-ann"), "the old password no longer works")
	require.Equal(t, http.StatusOK, login("ann", r.Password))

	status, body = max.do("POST", fmt.Sprintf("/api/v1/users/%d/password", bo.ID), map[string]any{"password": "chosen-by-max"})
	require.Equal(t, http.StatusOK, status, body)
	require.NotContains(t, body, "chosen-by-max", "a given password is not echoed")
	require.Equal(t, http.StatusOK, login("bo", "chosen-by-max"))

	status, body = max.do("GET", fmt.Sprintf("/api/v1/users/%d/events", annID), nil)
	require.Equal(t, http.StatusOK, status, body)
	var ev struct {
		Events []UserEvent `json:"events"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &ev))
	require.Len(t, ev.Events, 1)
	require.Equal(t, "password_reset", ev.Events[0].Action)
	require.Equal(t, "max", ev.Events[0].By)
	var hashes int
	require.NoError(t, db.QueryRow(context.Background(), `SELECT count(*) FROM user_events WHERE by_name LIKE '%' || $1 || '%'`, r.Password).Scan(&hashes))
	require.Zero(t, hashes)
}
