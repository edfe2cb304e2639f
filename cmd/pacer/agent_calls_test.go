package main

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/internal/testwait"
	"github.com/pacer-dialer/pacer/web"
)

// Past the campaign's hourly skip limit a Skip is refused with the reason,
// the preview stays on screen, and GET /agent/call says where the agent
// stands, so the workspace can say why its button is off.
func TestPreviewSkipPastTheLimitIsRefusedWithTheReason(t *testing.T) {
	t.Parallel()
	dbURL := testdb.New(t)
	db, err := pgxpool.New(context.Background(), dbURL)
	require.NoError(t, err)
	t.Cleanup(db.Close)
	_, err = web.CreateUser(context.Background(), db, web.NewUser{Username: "ann", Role: web.RoleAgent,
		Password: "password-ann", Cost: bcrypt.MinCost})
	require.NoError(t, err)
	c := activeCampaignWith(t, db, "Skips", "preview", "phone\n+12025554001\n+12025554002\n+12025554003\n",
		map[string]string{"preview_skip_limit_per_hour": "1"})
	base, _ := serveWeb(t, serveOptions{db: dbOptions{url: dbURL}, httpAddr: "127.0.0.1:0", nodeID: "skip-test",
		engine: engineOptions{noDemo: true, sim: webSim(), poll: 100 * time.Millisecond, summary: -1},
		web:    webOptions{bcryptCost: bcrypt.MinCost, sessionTTL: time.Hour}})
	ann := newClient(t, base)
	require.Equal(t, http.StatusOK, ann.login("ann", "password-ann"))
	ann.ready(c.ID)

	first := ann.waitCall("preview")
	code, body := ann.do("POST", "/api/v1/agent/call/skip", nil, true)
	require.Equal(t, http.StatusNoContent, code, body)
	var second agentCallJSON
	testwait.Until(t, func() bool {
		second = ann.waitCall("preview")
		return second.Lead.ID != first.Lead.ID
	}, "skip moves to another lead")
	var view struct {
		Skips struct {
			Limit    int `json:"limit"`
			LastHour int `json:"last_hour"`
		} `json:"skips"`
	}
	_, body = ann.do("GET", "/api/v1/agent/call", nil, false)
	mustJSON(t, body, &view)
	require.Equal(t, 1, view.Skips.Limit)
	require.Equal(t, 1, view.Skips.LastHour)

	code, body = ann.do("POST", "/api/v1/agent/call/skip", nil, true)
	require.Equal(t, http.StatusConflict, code, body)
	require.Contains(t, body, "skip limit reached: this campaign allows 1 preview skips an hour")
	require.Equal(t, second.Lead.ID, ann.waitCall("preview").Lead.ID, "the preview stays on screen")
}
