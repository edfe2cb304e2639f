package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/internal/testdb"
)

// A manager gives an agent a SIP phone through the API: a fixed URI
// (validated, CR/LF refused with the field named) or a SIP password (given
// or generated and answered once; only its HA1 stored); the phone view says
// where Pacer calls it, a live registration first. Agents and supervisors
// cannot; non-agents have no phone.
func TestUserPhoneAPI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	s := startServer(t, db, "phones")
	max := loginAPI(t, s, db, "max", RoleManager)
	ann := loginAPI(t, s, db, "ann", RoleAgent)
	sue := addUser(t, db, "sue", RoleSupervisor)
	annID := addUserID(t, db, "ann")
	base := fmt.Sprintf("/api/v1/users/%d/phone", annID)

	phone := func() phoneView {
		t.Helper()
		status, body := max.do("GET", base, nil)
		require.Equal(t, http.StatusOK, status, body)
		var v phoneView
		require.NoError(t, json.Unmarshal([]byte(body), &v))
		return v
	}
	require.Equal(t, "none", phone().Status)

	status, body := max.do("PUT", base+"/uri", map[string]any{"uri": "sip:ann@10.0.0.5:5060\r\nX-Evil: 1"})
	require.Equal(t, http.StatusBadRequest, status, body)
	require.Equal(t, "uri", decodeError(t, body).Field)
	require.Contains(t, decodeError(t, body).Error, "control characters")
	status, body = max.do("PUT", base+"/uri", map[string]any{"uri": "tel:+15551234567"})
	require.Equal(t, http.StatusBadRequest, status, body)
	require.Contains(t, body, "must start with sip or sips")
	status, body = max.do("PUT", base+"/uri", map[string]any{"url": "sip:ann@10.0.0.5"})
	require.Equal(t, http.StatusBadRequest, status, "unknown fields are refused: %s", body)
	status, body = max.do("PUT", base+"/uri", map[string]any{"uri": "sip:ann@10.0.0.5:5060"})
	require.Equal(t, http.StatusOK, status, body)
	v := phone()
	require.Equal(t, "fixed", v.Status)
	require.Equal(t, "sip:ann@10.0.0.5:5060", v.Contact)

	status, body = max.do("PUT", base+"/sip-password", map[string]any{"password": "short"})
	require.Equal(t, http.StatusBadRequest, status, body)
	require.Equal(t, "password", decodeError(t, body).Field)
	status, body = max.do("PUT", base+"/sip-password", map[string]any{"generate": true})
	require.Equal(t, http.StatusOK, status, body)
	var gen struct {
		Password    string    `json:"password"`
		SIPUsername string    `json:"sip_username"`
		Phone       phoneView `json:"phone"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &gen))
	require.Len(t, gen.Password, generatedPasswordLen)
	require.Equal(t, "ann", gen.SIPUsername)
	require.True(t, gen.Phone.SIPPasswordSet)
	var ha1 string
	require.NoError(t, db.QueryRow(ctx, `SELECT sip_ha1 FROM agent_phones WHERE agent_id = $1`, annID).Scan(&ha1))
	require.Equal(t, agents.HA1("ann", "pacer", gen.Password), ha1, "only the HA1 is stored")
	status, body = max.do("GET", base, nil)
	require.Equal(t, http.StatusOK, status)
	require.NotContains(t, body, gen.Password, "a generated password is answered once")

	now := time.Now()
	require.NoError(t, agents.SaveRegistration(ctx, db, agents.Registration{Agent: agents.ID(annID), Contact: "sip:ann@192.168.1.9:5062",
		Source: netip.MustParseAddrPort("203.0.113.4:40000"), Transport: "udp", ExpiresAt: now.Add(time.Hour), Node: "n1",
		UserAgent: "Linphone", RegisteredAt: now}))
	v = phone()
	require.Equal(t, "registered", v.Status, "a live registration wins over the fixed URI")
	require.Equal(t, "sip:ann@192.168.1.9:5062", v.Contact)
	require.Len(t, v.Registrations, 1)
	require.Equal(t, "203.0.113.4:40000", v.Registrations[0].Source)

	status, body = max.do("GET", "/api/v1/phones", nil)
	require.Equal(t, http.StatusOK, status, body)
	var all struct {
		Phones []phoneView `json:"phones"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &all))
	require.Len(t, all.Phones, 1, "agents only")
	require.Equal(t, "registered", all.Phones[0].Status)

	status, body = max.do("DELETE", base+"/sip-password", nil)
	require.Equal(t, http.StatusOK, status, body)
	v = phone()
	require.Equal(t, "fixed", v.Status, "the registrations went with the password")
	require.False(t, v.SIPPasswordSet)
	status, body = max.do("DELETE", base+"/uri", nil)
	require.Equal(t, http.StatusOK, status, body)
	require.Equal(t, "none", phone().Status)

	status, body = max.do("GET", fmt.Sprintf("/api/v1/users/%d/events", annID), nil)
	require.Equal(t, http.StatusOK, status, body)
	var evs struct {
		Events []UserEvent `json:"events"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &evs))
	var actions []string
	for _, e := range evs.Events {
		require.Equal(t, "max", e.By)
		actions = append(actions, e.Action)
	}
	require.Equal(t, []string{"phone_uri_clear", "sip_password_clear", "sip_password_set", "phone_uri_set"}, actions,
		"each change recorded with who made it, newest first")

	status, body = max.do("GET", fmt.Sprintf("/api/v1/users/%d/phone", sue.ID), nil)
	require.Equal(t, http.StatusConflict, status, body)
	require.Contains(t, body, "only agents have SIP phones")
	status, body = max.do("GET", "/api/v1/users/999999999/phone", nil)
	require.Equal(t, http.StatusNotFound, status, body)
	status, body = ann.do("PUT", base+"/uri", map[string]any{"uri": "sip:ann@10.0.0.6"})
	require.Equal(t, http.StatusForbidden, status, "an agent does not set phones: %s", body)
}

func addUserID(t *testing.T, db *pgxpool.Pool, name string) int64 {
	t.Helper()
	var id int64
	require.NoError(t, db.QueryRow(context.Background(), `SELECT id FROM users WHERE username = $1`, name).Scan(&id))
	return id
}
