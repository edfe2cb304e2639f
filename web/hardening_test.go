package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/internal/testwait"
)

// lockedBuffer collects a server's log lines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startLoggedServer runs a Server on db with cfg, logging into the buffer
// it returns.
func startLoggedServer(t *testing.T, db *pgxpool.Pool, cfg Config) (*Server, *lockedBuffer) {
	t.Helper()
	logs := &lockedBuffer{}
	cfg.Addr, cfg.BcryptCost, cfg.ShutdownTimeout = "127.0.0.1:0", bcrypt.MinCost, time.Second
	s, err := New(cfg, Deps{DB: db}, slog.New(slog.NewJSONHandler(logs, nil)))
	require.NoError(t, err)
	require.NoError(t, s.Start(context.Background()))
	t.Cleanup(s.Stop)
	return s, logs
}

// browserSession is a logged-in user's cookie and CSRF token.
type browserSession struct {
	t      *testing.T
	base   string
	cookie string
	csrf   string
}

func logIn(t *testing.T, s *Server, name string) *browserSession {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": name, "password": "password-" + name})
	resp, err := http.Post("http://"+s.Addr()+"/api/v1/login", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	var me struct {
		CSRF string `json:"csrf_token"`
	}
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&me))
	bs := &browserSession{t: t, base: "http://" + s.Addr(), csrf: me.CSRF}
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			bs.cookie = c.Name + "=" + c.Value
		}
	}
	require.NotEmpty(t, bs.cookie)
	return bs
}

// send makes a request with the session's cookie; header is name, value
// pairs (add X-CSRF-Token yourself: some tests leave it out).
func (bs *browserSession) send(method, path, contentType, body string, header ...string) (*http.Response, string) {
	bs.t.Helper()
	req, err := http.NewRequest(method, bs.base+path, strings.NewReader(body))
	require.NoError(bs.t, err)
	req.Header.Set("Cookie", bs.cookie)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(bs.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// postJSON sends body with the CSRF header.
func (bs *browserSession) postJSON(method, path, body string) (int, string) {
	resp, b := bs.send(method, path, "application/json", body, "X-CSRF-Token", bs.csrf)
	return resp.StatusCode, b
}

// serverAs starts a server on a new database with one user logged in.
func serverAs(t *testing.T, name string, role Role) (*Server, *browserSession) {
	t.Helper()
	db := testdb.NewPool(t)
	s := startServer(t, db, "n1")
	addUser(t, db, name, role)
	return s, logIn(t, s, name)
}

// A rule the database holds, broken through the API, is answered in words:
// no SQLSTATE or constraint name reaches the client; the answer carries a
// request id, and the log line with the details carries the same one.
func TestDatabaseRefusalsAreExplained(t *testing.T) {
	t.Parallel()
	db := testdb.NewPool(t)
	s, logs := startLoggedServer(t, db, Config{})
	addUser(t, db, "max", RoleManager)
	max := logIn(t, s, "max")

	resp, body := max.send("POST", "/api/v1/users", "application/json",
		`{"username":"zed","role":"agent","password":"password-zed","display_name":"`+strings.Repeat("z", 101)+`"}`,
		"X-CSRF-Token", max.csrf)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
	var answer struct {
		Error     string `json:"error"`
		RequestID string `json:"request_id"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &answer), body)
	require.Equal(t, "a display name may be at most 100 characters", answer.Error)
	require.NotContains(t, body, "SQLSTATE")
	require.NotContains(t, body, "users_display_name_check")
	require.NotEmpty(t, answer.RequestID)
	require.Equal(t, answer.RequestID, resp.Header.Get("X-Request-Id"))
	testwait.Until(t, func() bool { return strings.Contains(logs.String(), answer.RequestID) })
	var line map[string]any
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, answer.RequestID) {
			require.NoError(t, json.Unmarshal([]byte(l), &line))
		}
	}
	require.Equal(t, "23514", line["sqlstate"], "the log has the detail")
	require.Equal(t, "users_display_name_check", line["constraint"])

	// Every answer has an id, errors or not.
	resp, _ = max.send("GET", "/api/v1/me", "", "")
	require.Regexp(t, `^[0-9a-f]{16}$`, resp.Header.Get("X-Request-Id"))
}

// The CSRF token counts in the X-CSRF-Token header or a form body, never in
// the URL (which ends up in logs, history and Referer headers).
func TestCSRFTokenNotFromTheURL(t *testing.T) {
	t.Parallel()
	s, ann := serverAs(t, "ann", RoleAgent)
	resp, body := ann.send("POST", "/api/v1/logout?_csrf="+ann.csrf, "", "")
	require.Equal(t, http.StatusForbidden, resp.StatusCode, body)
	resp, body = ann.send("POST", "/api/v1/logout?_csrf="+ann.csrf, "application/x-www-form-urlencoded", "")
	require.Equal(t, http.StatusForbidden, resp.StatusCode, body)

	resp, body = ann.send("POST", "/api/v1/logout", "application/x-www-form-urlencoded", "_csrf="+ann.csrf)
	require.Equal(t, http.StatusNoContent, resp.StatusCode, body)

	ann = logIn(t, s, "ann")
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	require.NoError(t, mw.WriteField("_csrf", ann.csrf))
	require.NoError(t, mw.Close())
	resp, body = ann.send("POST", "/api/v1/logout", mw.FormDataContentType(), form.String())
	require.Equal(t, http.StatusNoContent, resp.StatusCode, body)

	ann = logIn(t, s, "ann")
	resp, body = ann.send("POST", "/api/v1/logout", "", "", "X-CSRF-Token", ann.csrf)
	require.Equal(t, http.StatusNoContent, resp.StatusCode, body)
}

func scrape(t *testing.T, url string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// /metrics is not open: on its own address the main port has none; with a
// token a scrape must bring it; with neither only supervisors, managers and
// admins who are logged in may read it.
func TestMetricsAreNotOpen(t *testing.T) {
	t.Parallel()
	db := testdb.NewPool(t)
	addUser(t, db, "ann", RoleAgent)
	addUser(t, db, "sue", RoleSupervisor)
	const metric = "pacer_websocket_clients "

	t.Run("own address", func(t *testing.T) {
		s, _ := startLoggedServer(t, db, Config{MetricsAddr: "127.0.0.1:0"})
		code, _ := scrape(t, "http://"+s.Addr()+"/metrics")
		require.Equal(t, http.StatusNotFound, code)
		sue := logIn(t, s, "sue")
		resp, _ := sue.send("GET", "/metrics", "", "")
		require.Equal(t, http.StatusNotFound, resp.StatusCode, "not even for a supervisor")
		require.NotEmpty(t, s.MetricsAddr())
		code, body := scrape(t, "http://"+s.MetricsAddr()+"/metrics")
		require.Equal(t, http.StatusOK, code)
		require.Contains(t, body, metric)
		code, _ = scrape(t, "http://"+s.MetricsAddr()+"/api/v1/me")
		require.Equal(t, http.StatusNotFound, code, "the metrics address serves metrics only")
	})

	t.Run("token", func(t *testing.T) {
		s, _ := startLoggedServer(t, db, Config{MetricsToken: "s3cret-scrape-token"})
		code, _ := scrape(t, "http://"+s.Addr()+"/metrics")
		require.Equal(t, http.StatusUnauthorized, code)
		code, _ = scrape(t, "http://"+s.Addr()+"/metrics", "Authorization", "Bearer wrong")
		require.Equal(t, http.StatusUnauthorized, code)
		code, body := scrape(t, "http://"+s.Addr()+"/metrics", "Authorization", "Bearer s3cret-scrape-token")
		require.Equal(t, http.StatusOK, code)
		require.Contains(t, body, metric)
	})

	t.Run("token on its own address", func(t *testing.T) {
		s, _ := startLoggedServer(t, db, Config{MetricsAddr: "127.0.0.1:0", MetricsToken: "s3cret-scrape-token"})
		code, _ := scrape(t, "http://"+s.MetricsAddr()+"/metrics")
		require.Equal(t, http.StatusUnauthorized, code)
		code, _ = scrape(t, "http://"+s.MetricsAddr()+"/metrics", "Authorization", "Bearer s3cret-scrape-token")
		require.Equal(t, http.StatusOK, code)
	})

	t.Run("neither", func(t *testing.T) {
		s, _ := startLoggedServer(t, db, Config{})
		code, _ := scrape(t, "http://"+s.Addr()+"/metrics")
		require.Equal(t, http.StatusUnauthorized, code)
		resp, _ := logIn(t, s, "ann").send("GET", "/metrics", "", "")
		require.Equal(t, http.StatusForbidden, resp.StatusCode, "agents do not read metrics")
		resp, body := logIn(t, s, "sue").send("GET", "/metrics", "", "")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Contains(t, body, metric)
	})
}

// One user may hold only so many live-event sockets on a node; one more is
// closed at once with a reason a page can show, and a freed place can be
// taken again.
func TestWebSocketsPerUserAreLimited(t *testing.T) {
	t.Parallel()
	db := testdb.NewPool(t)
	s, _ := startLoggedServer(t, db, Config{SocketsPerUser: 2})
	addUser(t, db, "ann", RoleAgent)
	addUser(t, db, "bob", RoleAgent)
	ann, bob := loginCookie(t, s, "ann"), loginCookie(t, s, "bob")

	var open []*websocket.Conn
	for range 2 {
		c, _, err := dialEvents(t, s, ann, "")
		require.NoError(t, err)
		_, ok := next(t, c, "hello", testwait.HangGuard)
		require.True(t, ok)
		open = append(open, c)
	}
	third, _, err := dialEvents(t, s, ann, "")
	require.NoError(t, err)
	_ = third.SetReadDeadline(time.Now().Add(testwait.HangGuard))
	_, _, err = third.ReadMessage()
	var ce *websocket.CloseError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, websocket.ClosePolicyViolation, ce.Code)
	require.Contains(t, ce.Text, "too many live connections for this user (at most 2)")
	third.Close()

	other, _, err := dialEvents(t, s, bob, "")
	require.NoError(t, err)
	_, ok := next(t, other, "hello", testwait.HangGuard)
	require.True(t, ok, "other users are not affected")
	other.Close()

	open[0].Close()
	testwait.Until(t, func() bool {
		c, _, err := dialEvents(t, s, ann, "")
		if err != nil {
			return false
		}
		defer c.Close()
		_, ok := next(t, c, "hello", testwait.HangGuard)
		return ok
	})
	open[1].Close()
}

// The rejected rows of a lead file download as CSV whose cells cannot run
// as formulas in a spreadsheet.
func TestRejectedRowsCSVQuotesFormulas(t *testing.T) {
	t.Parallel()
	_, max := serverAs(t, "max", RoleManager)
	code, body := max.postJSON("POST", "/api/v1/campaigns", `{"name":"Formulas"}`)
	require.Equal(t, http.StatusCreated, code, body)
	var camp struct {
		ID int64 `json:"id"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &camp))

	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, _ := mw.CreateFormFile("file", "evil.csv")
	io.WriteString(fw, "phone,first_name\n2025550101,Ann\n=HYPERLINK(\"http://x\"),Eve\n @SUM(1+1),Sp\n-1+2,Neg\n\"\t=1+1\",Tab\n"+
		// Rows too broken to read are kept as they came, leading space and all.
		" =HYPERLINK(1),a,b,c\n＝1+1,a,b,c\n")
	require.NoError(t, mw.Close())
	resp, body := max.send("POST", fmt.Sprintf("/api/v1/campaigns/%d/lists", camp.ID), mw.FormDataContentType(), form.String(),
		"X-CSRF-Token", max.csrf)
	require.Equal(t, http.StatusAccepted, resp.StatusCode, body)
	var up struct {
		List int64 `json:"list_id"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &up))
	testwait.Until(t, func() bool {
		_, body := max.send("GET", fmt.Sprintf("/api/v1/lists/%d", up.List), "", "")
		return strings.Contains(body, `"status":"ready"`)
	})
	resp, body = max.send("GET", fmt.Sprintf("/api/v1/lists/%d/errors", up.List), "", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	require.NoError(t, err, body)
	require.Len(t, rows, 7, "a header and six rejected rows: %s", body)
	for _, row := range rows {
		for _, cell := range row {
			trimmed := strings.TrimLeft(cell, " ")
			require.False(t, trimmed != "" && (strings.ContainsRune("=+-@\t\r", rune(trimmed[0])) || strings.HasPrefix(trimmed, "＝")),
				"cell %q can run as a formula", cell)
		}
	}
}

// A JSON body is read strictly: text given as true or a number, a field the
// endpoint does not have, or anything after the value is a 400 that names
// it, and nothing is created.
func TestJSONBodiesAreStrict(t *testing.T) {
	t.Parallel()
	_, max := serverAs(t, "max", RoleManager)

	for _, tt := range []struct{ path, body, says string }{
		{"/api/v1/campaigns", `{"name": true}`, `field "name" must be a string`},
		{"/api/v1/campaigns", `{"name": 42}`, `field "name" must be a string`},
		{"/api/v1/campaigns", `{"name": "Ok", "ring_timeout_s": false}`, `field "ring_timeout_s"`},
		{"/api/v1/campaigns", `{"name": "Ok"} {"name": "Again"}`, "more after its JSON value"},
		{"/api/v1/campaigns", `{"name": "Ok"`, "cut short"},
		{"/api/v1/users", `{"username": true, "role": "agent", "password": "password-x"}`, `field "username" must be a string, not bool`},
		{"/api/v1/users", `{"username": "zed", "role": "agent", "password": 12345678}`, `field "password" must be a string, not number`},
		{"/api/v1/users", `{"username": "zed", "role": "agent", "password": "password-zed", "admin": true}`, `unknown field "admin"`},
		{"/api/v1/users", `{"username": "zed", "role": "agent", "password": "password-zed"} garbage`, "more after its JSON value"},
		{"/api/v1/users", `["zed"]`, "must be an object, not array"},
		{"/api/v1/users", ``, "empty"},
	} {
		code, body := max.postJSON("POST", tt.path, tt.body)
		require.Equal(t, http.StatusBadRequest, code, "%s %s: %s", tt.path, tt.body, body)
		var answer struct{ Error string }
		require.NoError(t, json.Unmarshal([]byte(body), &answer))
		require.Contains(t, answer.Error, tt.says, "%s %s", tt.path, tt.body)
	}
	_, body := max.send("GET", "/api/v1/campaigns", "", "")
	require.Equal(t, `{"campaigns":[]}`, body, "nothing was created")

	code, body := max.postJSON("POST", "/api/v1/users", `{"username": "zed", "role": "agent", "password": "password-zed"}`)
	require.Equal(t, http.StatusCreated, code, body)
	code, body = max.postJSON("POST", "/api/v1/campaigns", `{"name": "Spring", "ring_timeout_s": 20, "mode": "power"}`)
	require.Equal(t, http.StatusCreated, code, body)
}
