package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/internal/testdb"
)

// Managers add, change and remove trunks over the API; the password is
// write-only; bad fields are 400s naming the field; a trunk in use is a
// 409 naming the campaigns; supervisors and agents may not touch trunks.
func TestTrunksAPI(t *testing.T) {
	t.Parallel()
	db := testdb.NewPool(t)
	s := startServer(t, db, "trunks")
	max := loginAPI(t, s, db, "max", RoleManager)

	status, body := max.do("POST", "/api/v1/trunks", map[string]any{"name": "carrier-a", "uri": "sip:127.0.0.1:5070",
		"username": "acct", "password": "digest-secret", "max_channels": 8, "cps": 1.5, "caller_id_header": "pai"})
	require.Equal(t, http.StatusCreated, status, body)
	require.NotContains(t, body, "digest-secret")
	var tr campaigns.Trunk
	require.NoError(t, json.Unmarshal([]byte(body), &tr))
	require.True(t, tr.PasswordSet)
	require.Equal(t, 8, tr.MaxChannels)
	require.Equal(t, 1.5, tr.CPS)

	for _, tc := range []struct {
		body  map[string]any
		field string
		msg   string
	}{
		{map[string]any{"name": "b", "uri": "http://x.example"}, "uri", "it must start with sip:"},
		{map[string]any{"name": "b", "uri": "sip:x.example", "cps": 0}, "cps", "cps 0 refused"},
		{map[string]any{"name": "b", "uri": "sip:x.example", "max_channels": -1}, "max_channels", "max_channels -1 refused"},
		{map[string]any{"name": "b", "uri": "sip:x.example", "caller_id_header": "rpid"}, "caller_id_header", "from or pai"},
		{map[string]any{"name": "b", "uri": "sip:x.example", "username": "a\r\nVia: evil"}, "username", "control characters"},
		{map[string]any{"name": "carrier-a", "uri": "sip:x.example"}, "name", "already exists"},
		{map[string]any{"name": "b", "uri": "sip:x.example", "max_channels": "ten"}, "", `field "max_channels" must be a number`},
		{map[string]any{"name": "b", "uri": "sip:x.example", "secret": "x"}, "", `unknown field "secret"`},
	} {
		status, body := max.do("POST", "/api/v1/trunks", tc.body)
		require.Equal(t, http.StatusBadRequest, status, body)
		e := decodeError(t, body)
		require.Equal(t, tc.field, e.Field, body)
		require.Contains(t, e.Error, tc.msg)
	}

	path := fmt.Sprintf("/api/v1/trunks/%d", tr.ID)
	status, body = max.do("PATCH", path, map[string]any{"max_channels": 4, "enabled": false})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `"max_channels":4`)
	require.Contains(t, body, `"password_set":true`, "a change that leaves the password out keeps it")
	status, body = max.do("PATCH", path, map[string]any{})
	require.Equal(t, http.StatusBadRequest, status, body)
	require.Contains(t, body, "nothing to change")
	status, _ = max.do("PATCH", "/api/v1/trunks/999999", map[string]any{"cps": 2})
	require.Equal(t, http.StatusNotFound, status)

	status, body = max.do("POST", "/api/v1/trunks", map[string]any{"name": "carrier-b", "uri": "sip:carrier-b.example;transport=tcp"})
	require.Equal(t, http.StatusCreated, status, body)

	// A campaign's trunks, in order.
	status, body = max.do("POST", "/api/v1/campaigns", map[string]any{"name": "Outbound", "mode": "preview"})
	require.Equal(t, http.StatusCreated, status, body)
	var camp campaigns.Campaign
	require.NoError(t, json.Unmarshal([]byte(body), &camp))
	ctPath := fmt.Sprintf("/api/v1/campaigns/%d/trunks", camp.ID)
	status, body = max.do("PUT", ctPath, map[string]any{"trunks": []string{"carrier-b", "carrier-a"}})
	require.Equal(t, http.StatusOK, status, body)
	status, body = max.do("GET", ctPath, nil)
	require.Equal(t, http.StatusOK, status, body)
	var got struct {
		Trunks []campaigns.Trunk `json:"trunks"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &got))
	require.Len(t, got.Trunks, 2)
	require.Equal(t, "carrier-b", got.Trunks[0].Name)
	require.Equal(t, "carrier-a", got.Trunks[1].Name)
	require.NotContains(t, body, "digest-secret")

	status, body = max.do("PUT", ctPath, map[string]any{"trunks": []string{"nope"}})
	require.Equal(t, http.StatusBadRequest, status, body)
	require.Equal(t, "trunks", decodeError(t, body).Field)
	status, body = max.do("PUT", ctPath, map[string]any{})
	require.Equal(t, http.StatusBadRequest, status, body)
	status, _ = max.do("PUT", "/api/v1/campaigns/999999/trunks", map[string]any{"trunks": []string{}})
	require.Equal(t, http.StatusNotFound, status)

	status, body = max.do("DELETE", path, nil)
	require.Equal(t, http.StatusConflict, status, body)
	require.Contains(t, decodeError(t, body).Error, `trunk "carrier-a" is in use by campaign(s) Outbound`)
	status, body = max.do("GET", "/api/v1/trunks", nil)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `"campaigns":["Outbound"]`)

	// A simulated campaign is refused a real trunk: 409 naming the setting.
	status, body = max.do("POST", "/api/v1/campaigns", map[string]any{"name": "Sim", "simulated": "true"})
	require.Equal(t, http.StatusCreated, status, body)
	var sim campaigns.Campaign
	require.NoError(t, json.Unmarshal([]byte(body), &sim))
	status, body = max.do("PUT", fmt.Sprintf("/api/v1/campaigns/%d/trunks", sim.ID), map[string]any{"trunks": []string{"carrier-a"}})
	require.Equal(t, http.StatusConflict, status, body)
	e := decodeError(t, body)
	require.Equal(t, "simulated", e.Field)
	require.Contains(t, e.Error, `campaign "Sim" is simulated`)

	status, body = max.do("PUT", ctPath, map[string]any{"trunks": []string{}})
	require.Equal(t, http.StatusOK, status, body)
	status, body = max.do("DELETE", path, nil)
	require.Equal(t, http.StatusNoContent, status, body)

	// Only managers (and admins).
	sup := loginAPI(t, s, db, "sue", RoleSupervisor)
	status, _ = sup.do("GET", "/api/v1/trunks", nil)
	require.Equal(t, http.StatusForbidden, status)
	status, _ = sup.do("POST", "/api/v1/trunks", map[string]any{"name": "x", "uri": "sip:x.example"})
	require.Equal(t, http.StatusForbidden, status)
}
