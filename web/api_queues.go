package web

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/pacer-dialer/pacer/agents"
	"github.com/pacer-dialer/pacer/inbound"
)

// Managers' administration of inbound queues: settings, the numbers (DIDs)
// that reach each queue and the agents who serve it. Every change is
// stored through inbound.QueueStore, then pushed to the router at once
// (reloadInbound), so callers waiting keep their places under the new
// settings.

// fallbackJSON is what a queue does with a caller it cannot keep: action
// hangup, queue (to queue_id), or wait (at closing time and with no agents
// only).
type fallbackJSON struct {
	Action  string          `json:"action"`
	QueueID inbound.QueueID `json:"queue_id,omitempty"`
}

// dayJSON is one day's opening hours, "HH:MM" to "HH:MM" ("24:00" for
// midnight at the end of the day).
type dayJSON struct {
	Open  string `json:"open"`
	Close string `json:"close"`
}

// weekDays are the keys of "hours", Sunday first as time.Weekday counts.
var weekDays = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

type memberJSON struct {
	Agent     agents.ID `json:"agent_id"`
	Name      string    `json:"name"`
	Simulated bool      `json:"simulated"`
	Level     int       `json:"level"`
	Rank      int       `json:"rank"`
}

// queueJSON is a queue as the API shows it: durations in whole seconds.
type queueJSON struct {
	ID           inbound.QueueID     `json:"id"`
	Name         string              `json:"name"`
	Priority     int                 `json:"priority"`
	SLThresholdS int64               `json:"sl_threshold_s"`
	SLTarget     float64             `json:"sl_target"`
	Method       string              `json:"method"`
	RingTimeS    int64               `json:"ring_time_s"`
	RejectToDND  bool                `json:"reject_to_dnd"`
	MaxWaitS     int64               `json:"max_wait_s"`
	MaxDepth     int                 `json:"max_depth"`
	Overflow     fallbackJSON        `json:"overflow"`
	OpenAlways   bool                `json:"open_always"`
	Hours        map[string]*dayJSON `json:"hours"`
	TimeZone     string              `json:"time_zone"`
	AfterHours   fallbackJSON        `json:"after_hours"`
	AtClose      fallbackJSON        `json:"at_close"`
	NoAgents     fallbackJSON        `json:"no_agents"`
	WidenAfterS  int64               `json:"widen_after_s"`
	StickyForS   int64               `json:"sticky_for_s"`
	AllowTake    bool                `json:"allow_take"`
	// Callback requests: whether callers may leave one, how many tries,
	// how long between tries and until they expire.
	AllowCallback    bool  `json:"allow_callback"`
	CallbackAttempts int   `json:"callback_attempts"`
	CallbackRetryS   int64 `json:"callback_retry_s"`
	CallbackExpireS  int64 `json:"callback_expire_s"`
	// ComfortEveryS is the music between two plays of the comfort
	// message, in seconds (0: not played).
	ComfortEveryS int64        `json:"comfort_every_s"`
	Numbers       []string     `json:"numbers"`
	Members       []memberJSON `json:"members"`
}

// queueRequest is a queue to create, or the settings to change (those
// left out keep their value; a new queue takes the defaults for them).
// "hours", when sent, replaces the whole week: days left out are closed.
type queueRequest struct {
	Name             *string              `json:"name"`
	Priority         *int                 `json:"priority"`
	SLThresholdS     *int64               `json:"sl_threshold_s"`
	SLTarget         *float64             `json:"sl_target"`
	Method           *string              `json:"method"`
	RingTimeS        *int64               `json:"ring_time_s"`
	RejectToDND      *bool                `json:"reject_to_dnd"`
	MaxWaitS         *int64               `json:"max_wait_s"`
	MaxDepth         *int                 `json:"max_depth"`
	Overflow         *fallbackJSON        `json:"overflow"`
	OpenAlways       *bool                `json:"open_always"`
	Hours            *map[string]*dayJSON `json:"hours"`
	TimeZone         *string              `json:"time_zone"`
	AfterHours       *fallbackJSON        `json:"after_hours"`
	AtClose          *fallbackJSON        `json:"at_close"`
	NoAgents         *fallbackJSON        `json:"no_agents"`
	WidenAfterS      *int64               `json:"widen_after_s"`
	StickyForS       *int64               `json:"sticky_for_s"`
	AllowTake        *bool                `json:"allow_take"`
	AllowCallback    *bool                `json:"allow_callback"`
	CallbackAttempts *int                 `json:"callback_attempts"`
	CallbackRetryS   *int64               `json:"callback_retry_s"`
	CallbackExpireS  *int64               `json:"callback_expire_s"`
	ComfortEveryS    *int64               `json:"comfort_every_s"`
}

// queueFields maps the store's field names to the API's keys.
var queueFields = map[string]string{
	"sl_threshold": "sl_threshold_s", "ring_time": "ring_time_s", "max_wait": "max_wait_s",
	"widen_after": "widen_after_s", "sticky_for": "sticky_for_s", "callback_retry": "callback_retry_s",
	"callback_expire": "callback_expire_s", "comfort_every": "comfort_every_s",
}

// queueStoreError answers a refused queue change: a bad setting 400 naming
// its key, a queue in use 409 naming the numbers and queues, not found 404.
func queueStoreError(err error) error {
	var qe *inbound.QueueError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, inbound.ErrInUse):
		return apiError(fiber.StatusConflict, "%v", err)
	case errors.As(err, &qe):
		field := qe.Field
		if f, ok := queueFields[field]; ok {
			field = f
		}
		return fieldError(fiber.StatusBadRequest, field, "%v", err)
	case errors.Is(err, inbound.ErrNotFound):
		return apiError(fiber.StatusNotFound, "%v", err)
	}
	return err
}

func seconds(s int64) time.Duration { return time.Duration(s) * time.Second }

// parseClock reads "HH:MM" (00:00 to 24:00) as an offset from midnight.
func parseClock(day, which, v string) (time.Duration, error) {
	h, m, ok := strings.Cut(v, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || hh < 0 || mm < 0 || mm > 59 || hh > 24 || hh == 24 && mm > 0 {
		return 0, fieldError(fiber.StatusBadRequest, "hours", "%s: %s time %q is not a time of day: give HH:MM, 00:00 to 24:00",
			day, which, v)
	}
	return time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute, nil
}

func clockText(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// fallback reads one fallback (callback: the caller leaves a callback
// request that keeps their place).
func (f fallbackJSON) fallback(field string) (inbound.Fallback, error) {
	a, err := inbound.ParseAction(f.Action)
	if err != nil {
		return inbound.Fallback{}, fieldError(fiber.StatusBadRequest, field, "%v", err)
	}
	return inbound.Fallback{Action: a, Target: f.QueueID}, nil
}

// apply puts the request's settings on q.
func (r queueRequest) apply(q inbound.Queue) (inbound.Queue, error) {
	if r.Name != nil {
		q.Name = *r.Name
	}
	if r.Priority != nil {
		q.Priority = *r.Priority
	}
	if r.SLThresholdS != nil {
		q.SLThreshold = seconds(*r.SLThresholdS)
	}
	if r.SLTarget != nil {
		q.SLTarget = *r.SLTarget
		if !(*r.SLTarget > 0 && *r.SLTarget <= 1) {
			return q, fieldError(fiber.StatusBadRequest, "sl_target",
				"service-level target %v is out of range: a share above 0 and at most 1 (0.8 is 80%%)", *r.SLTarget)
		}
	}
	if r.Method != nil {
		m, err := inbound.ParseMethod(*r.Method)
		if err != nil {
			return q, queueStoreError(err)
		}
		q.Method = m
	}
	if r.RingTimeS != nil {
		q.RingTime = seconds(*r.RingTimeS)
	}
	if r.RejectToDND != nil {
		q.RejectToDND = *r.RejectToDND
	}
	if r.MaxWaitS != nil {
		q.MaxWait = seconds(*r.MaxWaitS)
	}
	if r.MaxDepth != nil {
		q.MaxDepth = *r.MaxDepth
	}
	for _, f := range []struct {
		in    *fallbackJSON
		out   *inbound.Fallback
		field string
	}{
		{r.Overflow, &q.Overflow, "overflow"}, {r.AfterHours, &q.AfterHours, "after_hours"},
		{r.AtClose, &q.AtClose, "at_close"}, {r.NoAgents, &q.NoAgents, "no_agents"},
	} {
		if f.in == nil {
			continue
		}
		fb, err := f.in.fallback(f.field)
		if err != nil {
			return q, err
		}
		*f.out = fb
	}
	if r.OpenAlways != nil {
		q.Hours.Always = *r.OpenAlways
	}
	if r.TimeZone != nil {
		name := strings.TrimSpace(*r.TimeZone)
		loc, err := time.LoadLocation(name)
		if err != nil || name == "" || name == "Local" {
			return q, fieldError(fiber.StatusBadRequest, "time_zone",
				"time zone %q is not an IANA name (e.g. America/New_York, Europe/London, UTC)", *r.TimeZone)
		}
		q.Hours.Zone = loc
	}
	if r.Hours != nil {
		q.Hours.Days = [7]struct{ Open, Close time.Duration }{}
		for key, d := range *r.Hours {
			i := slices.Index(weekDays[:], key)
			if i < 0 {
				return q, fieldError(fiber.StatusBadRequest, "hours", "unknown day %q: use %s", key, strings.Join(weekDays[:], ", "))
			}
			if d == nil || d.Open == "" && d.Close == "" {
				continue
			}
			day := time.Weekday(i).String()
			open, err := parseClock(day, "opening", d.Open)
			if err != nil {
				return q, err
			}
			closing, err := parseClock(day, "closing", d.Close)
			if err != nil {
				return q, err
			}
			q.Hours.Days[i].Open, q.Hours.Days[i].Close = open, closing
		}
	}
	if r.WidenAfterS != nil {
		q.WidenAfter = seconds(*r.WidenAfterS)
	}
	if r.StickyForS != nil {
		q.StickyFor = seconds(*r.StickyForS)
	}
	if r.AllowTake != nil {
		q.AllowTake = *r.AllowTake
	}
	if r.AllowCallback != nil {
		q.Callbacks.Allow = *r.AllowCallback
	}
	if r.CallbackAttempts != nil {
		if n := *r.CallbackAttempts; n < 1 || n > inbound.MaxCallbackAttempts {
			return q, fieldError(fiber.StatusBadRequest, "callback_attempts", "callback attempts %d is out of range: 1 to %d",
				n, inbound.MaxCallbackAttempts)
		}
		q.Callbacks.Attempts = *r.CallbackAttempts
	}
	if r.CallbackRetryS != nil {
		q.Callbacks.RetryAfter = seconds(*r.CallbackRetryS)
	}
	if r.CallbackExpireS != nil {
		q.Callbacks.ExpireAfter = seconds(*r.CallbackExpireS)
	}
	if r.ComfortEveryS != nil {
		q.ComfortEvery = seconds(*r.ComfortEveryS)
		if v := *r.ComfortEveryS; v != 0 && (v < int64(inbound.MinComfortEvery/time.Second) || v > int64(inbound.MaxComfortEvery/time.Second)) {
			return q, fieldError(fiber.StatusBadRequest, "comfort_every_s", "comfort message interval %d s is out of range: 0 (off) or %d to %d seconds",
				v, int64(inbound.MinComfortEvery/time.Second), int64(inbound.MaxComfortEvery/time.Second))
		}
	}
	return q, r.checkSeconds()
}

// checkSeconds refuses a duration out of range in the API's unit, whole
// seconds (the store's own refusal would say "3m0s"); zero, which the
// store would take for "the default", is refused where it is no value.
func (r queueRequest) checkSeconds() error {
	for _, d := range []struct {
		v          *int64
		key, label string
		min, max   time.Duration
		unset      string
	}{
		{r.SLThresholdS, "sl_threshold_s", "service-level threshold", time.Second, inbound.MaxSLThreshold, ""},
		{r.RingTimeS, "ring_time_s", "ring time", inbound.MinRingTime, inbound.MaxRingTime, ""},
		{r.MaxWaitS, "max_wait_s", "maximum wait", 0, inbound.MaxQueueWait, " (0: no limit)"},
		{r.WidenAfterS, "widen_after_s", "widening delay", 0, inbound.MaxQueueWait, " (0: every level at once)"},
		{r.StickyForS, "sticky_for_s", "sticky agent time", 0, inbound.MaxQueueWait, " (0: off)"},
		{r.CallbackRetryS, "callback_retry_s", "callback retry time", inbound.MinCallbackRetry, inbound.MaxCallbackRetry, ""},
		{r.CallbackExpireS, "callback_expire_s", "callback expiry", inbound.MinCallbackExpire, inbound.MaxCallbackExpire, ""},
	} {
		if d.v == nil {
			continue
		}
		if *d.v < int64(d.min/time.Second) || *d.v > int64(d.max/time.Second) {
			return fieldError(fiber.StatusBadRequest, d.key, "%s %d s is out of range: %d%s to %d seconds",
				d.label, *d.v, int64(d.min/time.Second), d.unset, int64(d.max/time.Second))
		}
	}
	return nil
}

func (r queueRequest) empty() bool { return r == queueRequest{} }

func fallbackOut(f inbound.Fallback) fallbackJSON {
	return fallbackJSON{Action: f.Action.String(), QueueID: f.Target}
}

// queueOut is a stored queue in the API's terms, its members named.
func queueOut(d inbound.QueueDetail, names map[agents.ID]string) queueJSON {
	q := d.Queue
	out := queueJSON{ID: q.ID, Name: q.Name, Priority: q.Priority, SLThresholdS: int64(q.SLThreshold / time.Second),
		SLTarget: q.SLTarget, Method: q.Method.String(), RingTimeS: int64(q.RingTime / time.Second),
		RejectToDND: q.RejectToDND, MaxWaitS: int64(q.MaxWait / time.Second), MaxDepth: q.MaxDepth,
		Overflow: fallbackOut(q.Overflow), OpenAlways: q.Hours.Always, Hours: map[string]*dayJSON{},
		TimeZone: q.Hours.Zone.String(), AfterHours: fallbackOut(q.AfterHours), AtClose: fallbackOut(q.AtClose),
		NoAgents: fallbackOut(q.NoAgents), WidenAfterS: int64(q.WidenAfter / time.Second),
		StickyForS: int64(q.StickyFor / time.Second), AllowTake: q.AllowTake, AllowCallback: q.Callbacks.Allow,
		CallbackAttempts: q.Callbacks.Attempts, CallbackRetryS: int64(q.Callbacks.RetryAfter / time.Second),
		CallbackExpireS: int64(q.Callbacks.ExpireAfter / time.Second), ComfortEveryS: int64(q.ComfortEvery / time.Second),
		Numbers: d.DIDs,
		Members: make([]memberJSON, 0, len(d.Members))}
	for i, day := range q.Hours.Days {
		if day.Open == 0 && day.Close == 0 {
			out.Hours[weekDays[i]] = nil
			continue
		}
		out.Hours[weekDays[i]] = &dayJSON{Open: clockText(day.Open), Close: clockText(day.Close)}
	}
	if out.Numbers == nil {
		out.Numbers = []string{}
	}
	for _, m := range d.Members {
		out.Members = append(out.Members, memberJSON{Agent: m.Agent, Name: names[m.Agent],
			Simulated: int64(m.Agent) < firstUserID, Level: m.Level, Rank: m.Rank})
	}
	return out
}

// agentNames names agents: users by display name or username, simulated
// agents (not users) as such.
func (s *Server) agentNames(ctx context.Context, ids []agents.ID) (map[agents.ID]string, error) {
	out := make(map[agents.ID]string, len(ids))
	var users []int64
	for _, id := range ids {
		if int64(id) < firstUserID {
			out[id] = fmt.Sprintf("Simulated agent %d", id)
			continue
		}
		users = append(users, int64(id))
	}
	if len(users) == 0 {
		return out, nil
	}
	rows, err := s.db.Query(ctx, `SELECT id, CASE WHEN display_name <> '' THEN display_name ELSE username END
		FROM users WHERE id = ANY($1)`, users)
	if err != nil {
		return nil, fmt.Errorf("name queue members: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		out[agents.ID(id)] = name
	}
	return out, rows.Err()
}

// queuesOut lists every queue in the API's terms.
func (s *Server) queuesOut(ctx context.Context) ([]queueJSON, error) {
	list, err := s.queueStore().Queues(ctx)
	if err != nil {
		return nil, err
	}
	var ids []agents.ID
	for _, d := range list {
		for _, m := range d.Members {
			ids = append(ids, m.Agent)
		}
	}
	names, err := s.agentNames(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]queueJSON, 0, len(list))
	for _, d := range list {
		out = append(out, queueOut(d, names))
	}
	return out, nil
}

// queueOutByID is one queue in the API's terms, or 404.
func (s *Server) queueOutByID(ctx context.Context, id inbound.QueueID) (queueJSON, error) {
	list, err := s.queuesOut(ctx)
	if err != nil {
		return queueJSON{}, err
	}
	for _, q := range list {
		if q.ID == id {
			return q, nil
		}
	}
	return queueJSON{}, apiError(fiber.StatusNotFound, "queue %d: not found", id)
}

func queueParam(c *fiber.Ctx) (inbound.QueueID, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, apiError(fiber.StatusBadRequest, "bad queue id %q", c.Params("id"))
	}
	return inbound.QueueID(id), nil
}

// queueAgent is one agent a manager may make a member.
type queueAgent struct {
	ID   int64  `json:"agent_id"`
	Name string `json:"name"`
}

// apiQueues lists every queue with its numbers and members, and the agents
// who may be made members (enabled users with the agent role).
func (s *Server) apiQueues(c *fiber.Ctx) error {
	list, err := s.queuesOut(c.UserContext())
	if err != nil {
		return err
	}
	users, err := ListUsers(c.UserContext(), s.db)
	if err != nil {
		return err
	}
	choices := []queueAgent{}
	for _, u := range users {
		if u.Role != RoleAgent || u.Disabled {
			continue
		}
		name := u.Username
		if u.DisplayName != "" {
			name = u.DisplayName + " (" + u.Username + ")"
		}
		choices = append(choices, queueAgent{ID: u.ID, Name: name})
	}
	return c.JSON(fiber.Map{"queues": list, "agents": choices, "methods": methodNames(),
		"limits": fiber.Map{"ring_time_s": []int64{int64(inbound.MinRingTime / time.Second), int64(inbound.MaxRingTime / time.Second)},
			"priority": []int{0, inbound.MaxPriority}, "level": []int{1, inbound.MaxLevel}, "rank": []int{0, inbound.MaxRank},
			"ring_all_members": inbound.MaxRingAll,
			"comfort_every_s":  []int64{int64(inbound.MinComfortEvery / time.Second), int64(inbound.MaxComfortEvery / time.Second)}}})
}

func methodNames() []string {
	var out []string
	for m := inbound.LongestIdle; m <= inbound.RingAll; m++ {
		out = append(out, m.String())
	}
	return out
}

func (s *Server) apiQueue(c *fiber.Ctx) error {
	id, err := queueParam(c)
	if err != nil {
		return err
	}
	q, err := s.queueOutByID(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(q)
}

func (s *Server) apiQueueCreate(c *fiber.Ctx) error {
	var req queueRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if req.Name == nil {
		return fieldError(fiber.StatusBadRequest, "name", "a queue needs a name")
	}
	q, err := req.apply(inbound.Queue{ComfortEvery: inbound.DefaultComfortEvery}.WithDefaults())
	if err != nil {
		return err
	}
	q, err = s.queueStore().CreateQueue(c.UserContext(), q)
	if err != nil {
		return queueStoreError(err)
	}
	s.log.Info("queue created", "queue", int64(q.ID), "name", q.Name, "by", sessionOf(c).User.Username)
	s.reloadInbound(c, "create queue "+q.Name)
	out, err := s.queueOutByID(c.UserContext(), q.ID)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(out)
}

func (s *Server) apiQueueUpdate(c *fiber.Ctx) error {
	id, err := queueParam(c)
	if err != nil {
		return err
	}
	var req queueRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if req.empty() {
		return apiError(fiber.StatusBadRequest, "nothing to change: send at least one setting")
	}
	store := s.queueStore()
	q, err := store.Queue(c.UserContext(), id)
	if err != nil {
		return queueStoreError(err)
	}
	if q, err = req.apply(q); err != nil {
		return err
	}
	if q, err = store.UpdateQueue(c.UserContext(), q); err != nil {
		return queueStoreError(err)
	}
	s.log.Info("queue changed", "queue", int64(q.ID), "name", q.Name, "by", sessionOf(c).User.Username)
	s.reloadInbound(c, "change queue "+q.Name)
	out, err := s.queueOutByID(c.UserContext(), q.ID)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

// apiQueueDelete removes a queue; one that numbers reach or other queues
// send callers to is refused with 409 naming them. Callers waiting in it
// leave with the queue (the router sends them away).
func (s *Server) apiQueueDelete(c *fiber.Ctx) error {
	id, err := queueParam(c)
	if err != nil {
		return err
	}
	if err := s.queueStore().DeleteQueue(c.UserContext(), id); err != nil {
		return queueStoreError(err)
	}
	s.log.Info("queue removed", "queue", int64(id), "by", sessionOf(c).User.Username)
	s.reloadInbound(c, fmt.Sprintf("remove queue %d", id))
	return c.SendStatus(fiber.StatusNoContent)
}
