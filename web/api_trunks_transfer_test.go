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

// transfer_method: bridge by default, refer when asked; any other value is
// a 400 naming the field and saying what it may be.
func TestTrunksAPITransferMethod(t *testing.T) {
	t.Parallel()
	db := testdb.NewPool(t)
	s := startServer(t, db, "trunks-transfer")
	max := loginAPI(t, s, db, "max", RoleManager)

	status, body := max.do("POST", "/api/v1/trunks", map[string]any{"name": "carrier-a", "uri": "sip:127.0.0.1:5070"})
	require.Equal(t, http.StatusCreated, status, body)
	var tr campaigns.Trunk
	require.NoError(t, json.Unmarshal([]byte(body), &tr))
	require.Equal(t, campaigns.TransferBridge, tr.TransferMethod)

	status, body = max.do("POST", "/api/v1/trunks", map[string]any{"name": "carrier-b", "uri": "sip:127.0.0.1:5080", "transfer_method": "refer"})
	require.Equal(t, http.StatusCreated, status, body)
	require.Contains(t, body, `"transfer_method":"refer"`)

	for _, bad := range []any{"blind", ""} {
		status, body = max.do("POST", "/api/v1/trunks", map[string]any{"name": "c", "uri": "sip:x.example", "transfer_method": bad})
		require.Equal(t, http.StatusBadRequest, status, body)
		e := decodeError(t, body)
		require.Equal(t, "transfer_method", e.Field, body)
		require.Contains(t, e.Error, "bridge (a new call bridged to the customer) or refer")
	}
	status, body = max.do("POST", "/api/v1/trunks", map[string]any{"name": "c", "uri": "sip:x.example", "transfer_method": 1})
	require.Equal(t, http.StatusBadRequest, status, body)

	path := fmt.Sprintf("/api/v1/trunks/%d", tr.ID)
	status, body = max.do("PATCH", path, map[string]any{"transfer_method": "refer"})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `"transfer_method":"refer"`)
	status, body = max.do("PATCH", path, map[string]any{"transfer_method": "refer\r\nX-Evil: 1"})
	require.Equal(t, http.StatusBadRequest, status, body)
	status, body = max.do("GET", path, nil)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `"transfer_method":"refer"`, "the refused change left it as it was")
}
