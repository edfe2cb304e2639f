package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/inbound"
	"github.com/pacer-dialer/pacer/internal/testdb"
)

// routerSide is Inbound over a real router, reloaded from the store as
// `pacer serve` does (cmd/pacer's webInbound); the router's engines are not
// there, so its pokes and dismissals are only counted.
type routerSide struct {
	router *inbound.Router
	store  *inbound.QueueStore
	db     *pgxpool.Pool
	mu     sync.Mutex
	pokes  []agents.ID
}

func (r *routerSide) Poke(a agents.ID)                    { r.mu.Lock(); r.pokes = append(r.pokes, a); r.mu.Unlock() }
func (r *routerSide) Withdraw(agents.ID, inbound.CallKey) {}
func (r *routerSide) Dismiss(inbound.CallKey, string)     {}

func (r *routerSide) Reload(ctx context.Context) error {
	qs, err := r.store.Queues(ctx)
	if err != nil {
		return err
	}
	return r.router.Replace(qs, time.Now())
}

func (r *routerSide) Now(now time.Time) []inbound.QueueNow { return r.router.Now(now) }

func (r *routerSide) Load(c campaigns.ID, now time.Time) inbound.Load {
	return r.router.Load(int64(c), now)
}

func (r *routerSide) LeaveForCallback(call inbound.CallKey, now time.Time) error {
	return r.router.LeaveForCallback(call, now)
}

func (r *routerSide) NewRequest(ctx context.Context, p inbound.LeftRequest) (inbound.CallbackRequest, error) {
	req, err := inbound.CreateQueueRequest(ctx, r.db, p)
	if err == nil {
		r.router.HoldRequest(inbound.HeldRequest{ID: req.ID, Queue: req.QueueID, Phone: req.Phone, Name: req.Name,
			Entered: *req.Entered, Expires: *req.Expires}, p.Now)
	}
	return req, err
}

func newRouterSide(t *testing.T, db *pgxpool.Pool, log inbound.EventLog) *routerSide {
	t.Helper()
	side := &routerSide{store: inbound.NewQueueStore(db), db: db}
	r, err := inbound.NewRouter(inbound.Config{}, inbound.Deps{Notify: side, Line: side, Log: log})
	require.NoError(t, err)
	side.router = r
	return side
}

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

// startQueueServer runs a server with the router side (nil: none) and clock
// (nil: the wall clock).
func startQueueServer(t *testing.T, db *pgxpool.Pool, side *routerSide, clock Clock) *Server {
	t.Helper()
	deps := Deps{DB: db, Clock: clock}
	if side != nil {
		deps.Inbound = side
	}
	s, err := New(Config{Addr: "127.0.0.1:0", BcryptCost: bcrypt.MinCost, ShutdownTimeout: time.Second, Node: "queues"}, deps, nil)
	require.NoError(t, err)
	require.NoError(t, s.Start(context.Background()))
	t.Cleanup(s.Stop)
	return s
}

func decodeQueue(t *testing.T, body string) queueJSON {
	t.Helper()
	var q queueJSON
	require.NoError(t, json.Unmarshal([]byte(body), &q), body)
	return q
}

// A manager creates a queue with every setting, changes some, gives it
// numbers and members; each change reaches the router at once (a caller to
// the new number queues, a READY member counts as available).
func TestQueuesAPIManagesQueuesLive(t *testing.T) {
	t.Parallel()
	db := testdb.NewPool(t)
	side := newRouterSide(t, db, nil)
	s := startQueueServer(t, db, side, nil)
	max := loginAPI(t, s, db, "max", RoleManager)
	ann := addUser(t, db, "ann", RoleAgent)

	status, body := max.do("POST", "/api/v1/queues", map[string]any{"name": "Sales"})
	require.Equal(t, http.StatusCreated, status, body)
	sales := decodeQueue(t, body)
	// Defaults are shown, not implied.
	require.Equal(t, int64(20), sales.SLThresholdS)
	require.Equal(t, 0.8, sales.SLTarget)
	require.Equal(t, int64(30), sales.RingTimeS)
	require.Equal(t, "longest_idle", sales.Method)
	require.True(t, sales.OpenAlways)
	require.Equal(t, "UTC", sales.TimeZone)
	require.Equal(t, "hangup", sales.NoAgents.Action)

	full := map[string]any{"name": "Support", "priority": 5, "sl_threshold_s": 30, "sl_target": 0.9, "method": "rank",
		"ring_time_s": 45, "reject_to_dnd": true, "max_wait_s": 600, "max_depth": 50,
		"overflow":      map[string]any{"action": "queue", "queue_id": sales.ID},
		"open_always":   false,
		"hours":         map[string]any{"mon": map[string]string{"open": "08:30", "close": "17:00"}, "sat": map[string]string{"open": "00:00", "close": "24:00"}},
		"time_zone":     "America/New_York",
		"after_hours":   map[string]any{"action": "queue", "queue_id": sales.ID},
		"at_close":      map[string]any{"action": "wait"},
		"no_agents":     map[string]any{"action": "wait"},
		"widen_after_s": 60, "sticky_for_s": 120, "allow_take": true,
		"allow_callback": true, "callback_attempts": 4, "callback_retry_s": 600, "callback_expire_s": 7200,
		"comfort_every_s": 60}
	status, body = max.do("POST", "/api/v1/queues", full)
	require.Equal(t, http.StatusCreated, status, body)
	sup := decodeQueue(t, body)
	require.Equal(t, queueJSON{ID: sup.ID, Name: "Support", Priority: 5, SLThresholdS: 30, SLTarget: 0.9, Method: "rank",
		RingTimeS: 45, RejectToDND: true, MaxWaitS: 600, MaxDepth: 50, Overflow: fallbackJSON{"queue", sales.ID},
		Hours: map[string]*dayJSON{"sun": nil, "mon": {"08:30", "17:00"}, "tue": nil, "wed": nil, "thu": nil, "fri": nil,
			"sat": {"00:00", "24:00"}}, TimeZone: "America/New_York", AfterHours: fallbackJSON{"queue", sales.ID},
		AtClose: fallbackJSON{Action: "wait"}, NoAgents: fallbackJSON{Action: "wait"}, WidenAfterS: 60, StickyForS: 120,
		AllowCallback: true, CallbackAttempts: 4, CallbackRetryS: 600, CallbackExpireS: 7200, ComfortEveryS: 60,
		AllowTake: true, Numbers: []string{}, Members: []memberJSON{}}, sup)

	// A change sends only what changes; the rest stays. (Open around the
	// clock, so that the caller below is not sent to Sales after hours.)
	path := fmt.Sprintf("/api/v1/queues/%d", sup.ID)
	status, body = max.do("PATCH", path, map[string]any{"ring_time_s": 20, "method": "longest_idle", "open_always": true})
	require.Equal(t, http.StatusOK, status, body)
	changed := decodeQueue(t, body)
	require.Equal(t, int64(20), changed.RingTimeS)
	require.Equal(t, "longest_idle", changed.Method)
	require.Equal(t, 5, changed.Priority)
	require.Equal(t, "America/New_York", changed.TimeZone)
	require.Equal(t, &dayJSON{"08:30", "17:00"}, changed.Hours["mon"], "the week's hours are kept for when it is not always open")

	// A number and a member reach the router at once.
	status, body = max.do("POST", path+"/numbers", map[string]any{"number": "+1 (202) 555-0177"})
	require.Equal(t, http.StatusCreated, status, body)
	require.Contains(t, body, `"number":"+12025550177"`)
	status, body = max.do("PUT", fmt.Sprintf("%s/members/%d", path, ann.ID), map[string]any{"level": 2, "rank": 3})
	require.Equal(t, http.StatusOK, status, body)
	now := time.Now()
	side.router.AgentChanged(agents.ID(ann.ID), 1, agents.Ready, now)
	require.NoError(t, side.router.Arrive(inbound.Arrival{Call: 1, DID: "+12025550177", From: "+12025550199"}, now))
	var live inbound.QueueNow
	for _, q := range side.router.Now(now) {
		if q.Queue == sup.ID {
			live = q
		}
	}
	require.Equal(t, 1, live.Waiting, "a caller to the number just added waits in the queue")
	require.Equal(t, 1, live.Members)
	require.Equal(t, 1, live.Available)

	status, body = max.do("GET", path, nil)
	require.Equal(t, http.StatusOK, status, body)
	got := decodeQueue(t, body)
	require.Equal(t, []string{"+12025550177"}, got.Numbers)
	require.Equal(t, []memberJSON{{Agent: agents.ID(ann.ID), Name: "ann", Level: 2, Rank: 3}}, got.Members)

	status, body = max.do("GET", "/api/v1/queues", nil)
	require.Equal(t, http.StatusOK, status, body)
	var list struct {
		Queues []queueJSON  `json:"queues"`
		Agents []queueAgent `json:"agents"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &list))
	require.Len(t, list.Queues, 2)
	require.Equal(t, []queueAgent{{ID: ann.ID, Name: "ann"}}, list.Agents, "only agents may be members")

	// The number reaches Support: adding it to Sales is refused unless moved.
	salesPath := fmt.Sprintf("/api/v1/queues/%d", sales.ID)
	status, body = max.do("POST", salesPath+"/numbers", map[string]any{"number": "+12025550177"})
	require.Equal(t, http.StatusConflict, status, body)
	e := decodeError(t, body)
	require.Equal(t, "number", e.Field)
	require.Contains(t, e.Error, `already reaches queue "Support"`)

	// Sales is in use: Support sends callers to it.
	status, body = max.do("DELETE", salesPath, nil)
	require.Equal(t, http.StatusConflict, status, body)
	require.Contains(t, decodeError(t, body).Error, "queues Support send callers to it")
	// Support is in use: its number reaches it.
	status, body = max.do("DELETE", path, nil)
	require.Equal(t, http.StatusConflict, status, body)
	require.Contains(t, decodeError(t, body).Error, "numbers +12025550177 reach it")

	status, body = max.do("POST", salesPath+"/numbers", map[string]any{"number": "+12025550177", "move": true})
	require.Equal(t, http.StatusCreated, status, body)
	status, body = max.do("DELETE", path+"/numbers/%2B12025550177", nil)
	require.Equal(t, http.StatusNotFound, status, body)
	require.Contains(t, decodeError(t, body).Error, `reaches queue "Sales", not queue`)
	status, body = max.do("DELETE", salesPath+"/numbers/%2B12025550177", nil)
	require.Equal(t, http.StatusNoContent, status, body)
	status, body = max.do("DELETE", salesPath+"/numbers/"+url.PathEscape("+12025550177"), nil)
	require.Equal(t, http.StatusNotFound, status, body)
	require.ErrorIs(t, side.router.Arrive(inbound.Arrival{Call: 2, DID: "+12025550177"}, now), inbound.ErrUnknownDID,
		"a removed number no longer reaches a queue")

	status, body = max.do("DELETE", fmt.Sprintf("%s/members/%d", path, ann.ID), nil)
	require.Equal(t, http.StatusNoContent, status, body)
	status, body = max.do("DELETE", fmt.Sprintf("%s/members/%d", path, ann.ID), nil)
	require.Equal(t, http.StatusNotFound, status, body)

	status, body = max.do("PATCH", path, map[string]any{"overflow": map[string]any{"action": "hangup"},
		"after_hours": map[string]any{"action": "hangup"}})
	require.Equal(t, http.StatusOK, status, body)
	status, body = max.do("DELETE", salesPath, nil)
	require.Equal(t, http.StatusNoContent, status, body)
	status, body = max.do("GET", salesPath, nil)
	require.Equal(t, http.StatusNotFound, status, body)
	for _, q := range side.router.Now(now) {
		require.NotEqual(t, sales.ID, q.Queue, "a removed queue leaves the router")
	}
}

// Bad settings are 400s naming the field, in the API's units.
func TestQueuesAPIRefusesBadSettings(t *testing.T) {
	t.Parallel()
	db := testdb.NewPool(t)
	s := startQueueServer(t, db, newRouterSide(t, db, nil), nil)
	max := loginAPI(t, s, db, "max", RoleManager)
	status, body := max.do("POST", "/api/v1/queues", map[string]any{"name": "Sales"})
	require.Equal(t, http.StatusCreated, status, body)
	sales := decodeQueue(t, body)
	sup := addUser(t, db, "sam", RoleSupervisor)

	for _, tc := range []struct {
		body  map[string]any
		field string
		msg   string
	}{
		{map[string]any{"priority": 1}, "name", "a queue needs a name"},
		{map[string]any{"name": "Sales"}, "name", `a queue named "Sales" already exists`},
		{map[string]any{"name": "Q", "ring_time_s": 5}, "ring_time_s", "ring time 5 s is out of range: 15 to 180 seconds"},
		{map[string]any{"name": "Q", "ring_time_s": 181}, "ring_time_s", "ring time 181 s is out of range"},
		{map[string]any{"name": "Q", "ring_time_s": 0}, "ring_time_s", "ring time 0 s is out of range"},
		{map[string]any{"name": "Q", "sl_threshold_s": 0}, "sl_threshold_s", "service-level threshold 0 s is out of range"},
		{map[string]any{"name": "Q", "sl_target": 1.5}, "sl_target", "service-level target 1.5 is out of range"},
		{map[string]any{"name": "Q", "sl_target": 0}, "sl_target", "out of range"},
		{map[string]any{"name": "Q", "priority": 101}, "priority", "priority 101 is out of range"},
		{map[string]any{"name": "Q", "method": "random"}, "method", `unknown method "random"`},
		{map[string]any{"name": "Q", "max_wait_s": -1}, "max_wait_s", "maximum wait -1 s is out of range"},
		{map[string]any{"name": "Q", "max_depth": -1}, "max_depth", "maximum depth -1 is out of range"},
		{map[string]any{"name": "Q", "sticky_for_s": 1 << 40}, "sticky_for_s", "sticky agent time"},
		{map[string]any{"name": "Q", "overflow": map[string]any{"action": "queue"}}, "overflow", "choose the queue to move callers to"},
		{map[string]any{"name": "Q", "overflow": map[string]any{"action": "queue", "queue_id": 999999}}, "overflow", "does not exist"},
		{map[string]any{"name": "Q", "after_hours": map[string]any{"action": "wait"}}, "after_hours", "cannot be kept waiting"},
		{map[string]any{"name": "Q", "callback_attempts": 0}, "callback_attempts", "callback attempts 0 is out of range: 1 to 10"},
		{map[string]any{"name": "Q", "callback_retry_s": 59}, "callback_retry_s", "callback retry time 59 s is out of range: 60 to 86400 seconds"},
		{map[string]any{"name": "Q", "callback_expire_s": 60}, "callback_expire_s", "callback expiry 60 s is out of range"},
		{map[string]any{"name": "Q", "at_close": map[string]any{"action": "voicemail"}}, "at_close", `unknown action "voicemail"`},
		{map[string]any{"name": "Q", "time_zone": "Mars/Olympus"}, "time_zone", `time zone "Mars/Olympus" is not an IANA name`},
		{map[string]any{"name": "Q", "time_zone": "Local"}, "time_zone", "not an IANA name"},
		{map[string]any{"name": "Q", "open_always": false, "hours": map[string]any{"mon": map[string]string{"open": "17:00", "close": "09:00"}}},
			"hours", "Monday opens at 17:00 and closes at 09:00"},
		{map[string]any{"name": "Q", "hours": map[string]any{"monday": map[string]string{"open": "09:00", "close": "17:00"}}}, "hours", `unknown day "monday"`},
		{map[string]any{"name": "Q", "hours": map[string]any{"tue": map[string]string{"open": "9am", "close": "17:00"}}}, "hours", `Tuesday: opening time "9am" is not a time of day`},
		{map[string]any{"name": "Q", "hours": map[string]any{"tue": map[string]string{"open": "09:00", "close": "24:30"}}}, "hours", "closing time"},
		{map[string]any{"name": "Q", "ring_time_s": "30"}, "", `field "ring_time_s" must be a number`},
		{map[string]any{"name": "Q", "voicemail": true}, "", `unknown field "voicemail"`},
	} {
		status, body := max.do("POST", "/api/v1/queues", tc.body)
		require.Equal(t, http.StatusBadRequest, status, "%v: %s", tc.body, body)
		e := decodeError(t, body)
		require.Equal(t, tc.field, e.Field, "%v: %s", tc.body, body)
		require.Contains(t, e.Error, tc.msg, "%v", tc.body)
	}

	path := fmt.Sprintf("/api/v1/queues/%d", sales.ID)
	status, body = max.do("PATCH", path, map[string]any{})
	require.Equal(t, http.StatusBadRequest, status, body)
	status, body = max.do("PATCH", path, map[string]any{"ring_time_s": 10})
	require.Equal(t, http.StatusBadRequest, status, body)
	require.Equal(t, "ring_time_s", decodeError(t, body).Field)
	status, body = max.do("PATCH", path, map[string]any{"overflow": map[string]any{"action": "queue", "queue_id": sales.ID}})
	require.Equal(t, http.StatusBadRequest, status, body)
	require.Contains(t, decodeError(t, body).Error, "cannot send callers to itself")
	status, body = max.do("PATCH", "/api/v1/queues/999999", map[string]any{"priority": 1})
	require.Equal(t, http.StatusNotFound, status, body)
	status, body = max.do("PATCH", "/api/v1/queues/abc", map[string]any{"priority": 1})
	require.Equal(t, http.StatusBadRequest, status, body)
	status, body = max.do("DELETE", "/api/v1/queues/999999", nil)
	require.Equal(t, http.StatusNotFound, status, body)

	for _, tc := range []struct {
		number string
		status int
		field  string
	}{
		{"12", http.StatusBadRequest, "number"},
		{"", http.StatusBadRequest, "number"},
	} {
		status, body := max.do("POST", path+"/numbers", map[string]any{"number": tc.number})
		require.Equal(t, tc.status, status, body)
		require.Equal(t, tc.field, decodeError(t, body).Field, body)
	}
	status, body = max.do("POST", "/api/v1/queues/999999/numbers", map[string]any{"number": "+12025550177"})
	require.Equal(t, http.StatusNotFound, status, body)

	status, body = max.do("PUT", fmt.Sprintf("%s/members/%d", path, sup.ID), map[string]any{"level": 1})
	require.Equal(t, http.StatusBadRequest, status, body)
	require.Equal(t, "agent_id", decodeError(t, body).Field)
	status, body = max.do("PUT", fmt.Sprintf("%s/members/%d", path, 5_000_000), map[string]any{})
	require.Equal(t, http.StatusBadRequest, status, body)
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"level": 0}, "level"},
		{map[string]any{"level": 10}, "level"},
		{map[string]any{"rank": -1}, "rank"},
	} {
		status, body := max.do("PUT", path+"/members/3", tc.body)
		require.Equal(t, http.StatusBadRequest, status, body)
		require.Equal(t, tc.field, decodeError(t, body).Field, body)
	}
	status, body = max.do("PUT", "/api/v1/queues/999999/members/3", map[string]any{})
	require.Equal(t, http.StatusNotFound, status, body)

	// Ring all is for small queues: eleven members refuse it.
	for a := 1; a <= 11; a++ {
		status, body := max.do("PUT", fmt.Sprintf("%s/members/%d", path, a), map[string]any{})
		require.Equal(t, http.StatusOK, status, body)
	}
	status, body = max.do("PATCH", path, map[string]any{"method": "ring_all"})
	require.Equal(t, http.StatusBadRequest, status, body)
	e := decodeError(t, body)
	require.Equal(t, "method", e.Field)
	require.Contains(t, e.Error, "at most 10 members")
}

// Only managers (and admins) administer queues; supervisors and managers
// read the queues' wallboard, agents neither.
func TestQueuesAPIRoles(t *testing.T) {
	t.Parallel()
	db := testdb.NewPool(t)
	s := startQueueServer(t, db, nil, nil)
	sam := loginAPI(t, s, db, "sam", RoleSupervisor)
	ann := loginAPI(t, s, db, "ann", RoleAgent)
	ada := loginAPI(t, s, db, "ada", RoleAdmin)
	for _, c := range []*apiClient{sam, ann} {
		for _, r := range [][2]string{{"GET", "/api/v1/queues"}, {"POST", "/api/v1/queues"}, {"GET", "/api/v1/queues/1"},
			{"PATCH", "/api/v1/queues/1"}, {"DELETE", "/api/v1/queues/1"}, {"POST", "/api/v1/queues/1/numbers"},
			{"DELETE", "/api/v1/queues/1/numbers/%2B12025550177"}, {"PUT", "/api/v1/queues/1/members/3"},
			{"DELETE", "/api/v1/queues/1/members/3"}} {
			status, body := c.do(r[0], r[1], map[string]any{"name": "X"})
			require.Equal(t, http.StatusForbidden, status, "%s %s: %s", r[0], r[1], body)
		}
	}
	status, body := ann.do("GET", "/api/v1/wallboard/queues", nil)
	require.Equal(t, http.StatusForbidden, status, body)
	status, body = sam.do("GET", "/api/v1/wallboard/queues", nil)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `"live":false`, "without a router the board says its live part is missing")
	status, body = ada.do("POST", "/api/v1/queues", map[string]any{"name": "Admins"})
	require.Equal(t, http.StatusCreated, status, body)
}

// The queues' wallboard shows exactly what inbound.Compute and Intervals
// give over the stored queue event log (read back on its own here), each
// queue's day from midnight in its own time zone; a queue without calls
// shows no service level or ASA (null, "—" on the page), not 0%.
func TestQueueBoardIsTheEventLog(t *testing.T) {
	t.Parallel()
	db := testdb.NewPool(t)
	ctx := context.Background()
	now := time.Date(2026, 3, 10, 15, 10, 0, 0, time.UTC) // New York is on summer time (UTC−4) since 8 March
	s := startQueueServer(t, db, nil, fixedClock{now})
	sam := loginAPI(t, s, db, "sam", RoleSupervisor)
	store := inbound.NewQueueStore(db)
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	a, err := store.CreateQueue(ctx, inbound.Queue{Name: "A"})
	require.NoError(t, err)
	b, err := store.CreateQueue(ctx, inbound.Queue{Name: "B", SLThreshold: 30 * time.Second, Hours: inbound.Hours{Always: true, Zone: ny}})
	require.NoError(t, err)
	c, err := store.CreateQueue(ctx, inbound.Queue{Name: "C"})
	require.NoError(t, err)

	at := func(h, m, sec int) time.Time { return time.Date(2026, 3, 10, h, m, sec, 0, time.UTC) }
	var evs []inbound.Event
	call := func(q inbound.QueueID, key inbound.CallKey, from string, enter time.Time, end inbound.EventKind, after time.Duration) {
		evs = append(evs, inbound.Event{Queue: q, Call: key, Kind: inbound.EvEnter, At: enter, Entered: enter, From: from, DID: "+12025550100"})
		if end != 0 {
			evs = append(evs, inbound.Event{Queue: q, Call: key, Kind: end, At: enter.Add(after), Entered: enter,
				From: from, DID: "+12025550100", Agent: map[bool]agents.ID{true: 7}[end == inbound.EvConnect]})
		}
	}
	call(a.ID, 1, "+15550001", at(14, 0, 0), inbound.EvConnect, 10*time.Second)             // answered within 20 s
	call(a.ID, 2, "+15550002", at(14, 5, 0), inbound.EvConnect, 40*time.Second)             // answered after
	call(a.ID, 3, "+15550003", at(14, 40, 0), inbound.EvAbandon, 5*time.Second)             // hung up quickly
	call(a.ID, 4, "+15550004", at(15, 0, 0), inbound.EvAbandon, time.Minute)                // gave up after 20 s
	call(a.ID, 5, "+15550005", at(15, 9, 0), 0, 0)                                          // still waiting
	call(a.ID, 8, "+15550008", at(0, 0, 0).Add(-time.Hour), inbound.EvConnect, time.Second) // yesterday
	call(b.ID, 6, "+15550006", at(3, 30, 0), inbound.EvConnect, time.Second)                // yesterday in New York
	call(b.ID, 7, "+15550007", at(5, 0, 0), inbound.EvConnect, 25*time.Second)
	require.NoError(t, inbound.NewEventStore(db).Append(ctx, evs))

	status, body := sam.do("GET", "/api/v1/wallboard/queues", nil)
	require.Equal(t, http.StatusOK, status, body)
	var board struct {
		Now    time.Time `json:"now"`
		Queues []struct {
			ID        inbound.QueueID   `json:"id"`
			Name      string            `json:"name"`
			DayStart  time.Time         `json:"day_start"`
			Today     json.RawMessage   `json:"today"`
			Intervals []json.RawMessage `json:"intervals"`
		} `json:"queues"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &board))
	require.True(t, board.Now.Equal(now))
	require.Len(t, board.Queues, 3)

	logged, err := inbound.NewEventStore(db).Between(ctx, now.Add(-48*time.Hour), now.Add(time.Second))
	require.NoError(t, err)
	thresholds := inbound.Thresholds(a, b, c)
	for _, q := range board.Queues {
		start := map[inbound.QueueID]time.Time{a.ID: at(0, 0, 0), b.ID: at(4, 0, 0), c.ID: at(0, 0, 0)}[q.ID]
		require.True(t, q.DayStart.Equal(start), "%s's day starts at midnight in its zone: %s", q.Name, q.DayStart)
		want, err := json.Marshal(inbound.Compute(logged, thresholds, start, now, now)[q.ID])
		require.NoError(t, err)
		require.JSONEq(t, string(want), string(q.Today), q.Name)
		ivs := inbound.Intervals(logged, thresholds, start, now, 30*time.Minute)[q.ID]
		require.Len(t, q.Intervals, len(ivs), q.Name)
		for i := range ivs {
			want, err := json.Marshal(ivs[i])
			require.NoError(t, err)
			require.JSONEq(t, string(want), string(q.Intervals[i]), "%s interval %d", q.Name, i)
		}
	}

	// And the figures are the ones a supervisor expects.
	var today struct {
		Offered    int      `json:"offered"`
		Answered   int      `json:"answered"`
		Abandoned  int      `json:"abandoned"`
		Waiting    int      `json:"waiting"`
		SLAnswered *float64 `json:"sl_answered"`
		SLOffered  *float64 `json:"sl_offered"`
		ASA        *float64 `json:"asa_s"`
		Abandons   []struct {
			From  string  `json:"from"`
			WaitS float64 `json:"wait_s"`
		} `json:"abandons"`
	}
	figures := func(id inbound.QueueID) {
		t.Helper()
		for _, q := range board.Queues {
			if q.ID == id {
				today.SLAnswered, today.SLOffered, today.ASA = nil, nil, nil
				require.NoError(t, json.Unmarshal(q.Today, &today))
				return
			}
		}
		t.Fatalf("queue %d not on the board", id)
	}
	figures(a.ID)
	require.Equal(t, 5, today.Offered)
	require.Equal(t, 2, today.Answered)
	require.Equal(t, 2, today.Abandoned)
	require.Equal(t, 1, today.Waiting)
	require.InDelta(t, 0.5, *today.SLAnswered, 1e-9)
	require.InDelta(t, 1.0/3, *today.SLOffered, 1e-9, "a quick hang-up does not count against the queue")
	require.InDelta(t, 25, *today.ASA, 1e-9)
	require.Len(t, today.Abandons, 2)
	require.Equal(t, "+15550004", today.Abandons[1].From)
	require.InDelta(t, 60, today.Abandons[1].WaitS, 1e-9)
	figures(b.ID)
	require.Equal(t, 1, today.Offered, "the call before midnight in New York is yesterday's")
	require.InDelta(t, 1, *today.SLAnswered, 1e-9, "25 s is within B's 30 s")
	figures(c.ID)
	require.Equal(t, 0, today.Offered)
	require.Nil(t, today.SLAnswered)
	require.Nil(t, today.SLOffered)
	require.Nil(t, today.ASA)
}
