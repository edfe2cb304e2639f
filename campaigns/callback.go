package campaigns

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// CallbackJobs puts a callback's due-time job on the durable job queue inside
// the caller's transaction, so the callback row and its job commit or roll
// back together. Package jobs implements it over River (InsertTx with
// ScheduledAt); campaigns never imports jobs.
type CallbackJobs interface {
	// InsertCallbackDue queues the job that makes version of callback id
	// due at at, returning the job's id.
	InsertCallbackDue(ctx context.Context, tx pgx.Tx, id CallbackID, version int, at time.Time) (jobID int64, err error)
	// CancelCallbackJob cancels a job that is no longer wanted (a rescheduled or
	// cancelled callback's). A job already finished or gone is not an
	// error: the job checks the callback's version anyway.
	CancelCallbackJob(ctx context.Context, tx pgx.Tx, jobID int64) error
}

// CallbackPriority is the lead priority an `anyone` callback gets when it
// falls due: above any imported priority, so the next claim of its campaign
// takes it first (still only inside the calling window and never on DNC).
const CallbackPriority = 1_000_000

// Errors of callback delivery that are not the caller's input.
var (
	// ErrWindowClosed: the lead may not be called now; try again later.
	ErrWindowClosed = errors.New("the lead's calling window is closed")
	// ErrOnDNC: the lead's number is on a do-not-call list; the callback was
	// cancelled.
	ErrOnDNC = errors.New("the lead's number is on a do-not-call list")
)

// Callback is a promise to call a lead back.
type Callback struct {
	ID       CallbackID     `json:"id"`
	Campaign ID             `json:"campaign_id"`
	Lead     LeadID         `json:"lead_id"`
	Agent    int64          `json:"agent_id"`
	Call     int64          `json:"call_id"`
	Scope    CallbackScope  `json:"scope"`
	Status   CallbackStatus `json:"status"`
	// DueAt is when it falls due (UTC); RequestedAt what the agent asked
	// for. They differ when the lead's calling window moved it (Moved).
	DueAt       time.Time `json:"due_at"`
	RequestedAt time.Time `json:"requested_at"`
	Moved       bool      `json:"moved"`
	Notes       string    `json:"notes"`
	Version     int       `json:"version"`
	JobID       int64     `json:"job_id"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	// The lead, for lists: its number, name and first time zone (to show
	// DueAt in the lead's local time too).
	Phone     string `json:"phone"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	LeadZone  string `json:"lead_zone"`
}

const callbackColumns = `cb.id, cb.campaign_id, cb.lead_id, coalesce(cb.agent_id, 0), coalesce(cb.call_id, 0), cb.scope,
	cb.status, cb.due_at, cb.requested_at, cb.notes, cb.version, coalesce(cb.job_id, 0), cb.created_at, cb.updated_at,
	l.phone, l.first_name, l.last_name, g.zones[1]`

const callbackFrom = ` FROM callbacks cb JOIN leads l ON l.id = cb.lead_id JOIN tz_groups g ON g.id = l.tz_group`

func scanCallback(row pgx.CollectableRow) (Callback, error) {
	var c Callback
	err := row.Scan(&c.ID, &c.Campaign, &c.Lead, &c.Agent, &c.Call, &c.Scope, &c.Status, &c.DueAt, &c.RequestedAt,
		&c.Notes, &c.Version, &c.JobID, &c.CreatedAt, &c.UpdatedAt, &c.Phone, &c.FirstName, &c.LastName, &c.LeadZone)
	c.DueAt, c.RequestedAt = c.DueAt.UTC(), c.RequestedAt.UTC()
	c.Moved = !c.DueAt.Equal(c.RequestedAt)
	return c, err
}

// GetCallback returns one callback.
func GetCallback(ctx context.Context, db DB, id CallbackID) (Callback, error) {
	return getCallback(ctx, db, id, "")
}

func getCallback(ctx context.Context, db DB, id CallbackID, lock string) (Callback, error) {
	rows, err := db.Query(ctx, "SELECT "+callbackColumns+callbackFrom+" WHERE cb.id = $1"+lock, id)
	if err != nil {
		return Callback{}, fmt.Errorf("callback %d: %w", id, err)
	}
	c, err := pgx.CollectExactlyOneRow(rows, scanCallback)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, fmt.Errorf("callback %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("callback %d: %w", id, err)
	}
	return c, nil
}

// CallbackFilter selects callbacks for a list. Zero fields do not filter.
type CallbackFilter struct {
	Campaign ID
	Agent    int64
	Statuses []CallbackStatus
	// Limit bounds the list (default 200).
	Limit int
}

// ListCallbacks lists callbacks, the ones needing action first (due,
// offered, missed), then by due time.
func ListCallbacks(ctx context.Context, db DB, f CallbackFilter) ([]Callback, error) {
	if f.Limit <= 0 {
		f.Limit = 200
	}
	statuses := make([]string, len(f.Statuses))
	for i, s := range f.Statuses {
		statuses[i] = string(s)
	}
	rows, err := db.Query(ctx, "SELECT "+callbackColumns+callbackFrom+`
WHERE ($1::bigint = 0 OR cb.campaign_id = $1) AND ($2::bigint = 0 OR cb.agent_id = $2)
  AND (cardinality($3::text[]) = 0 OR cb.status = ANY($3))
ORDER BY CASE cb.status WHEN 'due' THEN 0 WHEN 'offered' THEN 0 WHEN 'missed' THEN 1 WHEN 'scheduled' THEN 2 ELSE 3 END,
	cb.due_at, cb.id
LIMIT $4`, f.Campaign, f.Agent, statuses, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("list callbacks: %w", err)
	}
	return pgx.CollectRows(rows, scanCallback)
}

// CallbackEventRow is one line of a callback's history.
type CallbackEventRow struct {
	At     time.Time      `json:"at"`
	Event  CallbackEvent  `json:"event"`
	From   CallbackStatus `json:"from"`
	To     CallbackStatus `json:"to"`
	Agent  int64          `json:"agent_id"`
	Detail string         `json:"detail"`
}

// CallbackHistory returns every state change of a callback, in order.
func CallbackHistory(ctx context.Context, db DB, id CallbackID) ([]CallbackEventRow, error) {
	rows, err := db.Query(ctx, `SELECT at, event, coalesce(from_status, ''), to_status, coalesce(agent_id, 0), detail
FROM callback_events WHERE callback_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("callback %d history: %w", id, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (CallbackEventRow, error) {
		var e CallbackEventRow
		err := r.Scan(&e.At, &e.Event, &e.From, &e.To, &e.Agent, &e.Detail)
		return e, err
	})
}

// NewCallback is a callback to schedule.
type NewCallback struct {
	Campaign *Campaign
	Lead     LeadID
	Agent    int64
	Call     int64
	Scope    CallbackScope
	At       time.Time
	Notes    string
	Now      time.Time
}

// leadWindow is what deciding a lead's calling time needs.
type leadWindow struct {
	status   string
	zones    []string
	states   []string
	phone    string
	priority int
}

func lockLead(ctx context.Context, tx pgx.Tx, id LeadID) (leadWindow, error) {
	var l leadWindow
	err := tx.QueryRow(ctx, `SELECT l.status, g.zones, g.states, l.phone, l.priority
FROM leads l JOIN tz_groups g ON g.id = l.tz_group WHERE l.id = $1 FOR UPDATE OF l`, id).Scan(
		&l.status, &l.zones, &l.states, &l.phone, &l.priority)
	if errors.Is(err, pgx.ErrNoRows) {
		return l, fmt.Errorf("lead %d: %w", id, ErrNotFound)
	}
	return l, err
}

// MaxCallbackAhead is how far ahead a callback may be set: a promise to call
// in more than a year is a typing mistake or a way around the campaign's
// rules, and is refused.
const MaxCallbackAhead = 365 * 24 * time.Hour

// checkCallbackAt refuses a callback time in the past or more than
// MaxCallbackAhead after now; every way a callback is set (a disposition, a
// schedule, a reschedule) checks it.
func checkCallbackAt(at, now time.Time) error {
	switch {
	case !at.After(now):
		return fmt.Errorf("%w: %s is before %s", ErrCallbackInPast, at.UTC().Format(time.RFC3339),
			now.UTC().Format(time.RFC3339))
	case at.Sub(now) > MaxCallbackAhead:
		return fmt.Errorf("%w: %s is more than a year after %s", ErrCallbackTooFar, at.UTC().Format(time.RFC3339),
			now.UTC().Format(time.RFC3339))
	}
	return nil
}

// callbackTime checks a requested callback time and moves it into the lead's
// calling window: a time outside it becomes the next instant inside it
// (Callback.Moved tells the agent), because refusing would make the agent
// guess the lead's local hours. Only a window that never opens is refused.
func callbackTime(c *Campaign, l leadWindow, at, now time.Time) (time.Time, error) {
	if err := checkCallbackAt(at, now); err != nil {
		return at, err
	}
	w, err := c.Window()
	if err != nil {
		return at, fmt.Errorf("campaign %d window: %w", c.ID, err)
	}
	due, ok := w.NextAllowedIn(at, l.zones, l.states)
	if !ok {
		return at, fmt.Errorf("%w (zones %v)", ErrCallbackOutsideWindow, l.zones)
	}
	return due.UTC(), nil
}

// ScheduleCallback schedules a callback for a lead outside a disposition (a
// supervisor, or an agent from the lead's page), in its own transaction. The
// lead waits for it: the hopper does not claim it meanwhile.
func ScheduleCallback(ctx context.Context, db TxDB, jobs CallbackJobs, p NewCallback) (Callback, error) {
	var cb Callback
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		var err error
		cb, err = scheduleCallback(ctx, tx, jobs, p)
		return err
	})
	return cb, err
}

func scheduleCallback(ctx context.Context, tx pgx.Tx, jobs CallbackJobs, p NewCallback) (Callback, error) {
	if jobs == nil {
		return Callback{}, errors.New("schedule callback: no job queue")
	}
	if !p.Scope.Valid() {
		return Callback{}, fmt.Errorf("%w: %q", ErrCallbackScope, p.Scope)
	}
	if p.Scope == ScopeMe && p.Agent == 0 {
		return Callback{}, fmt.Errorf("%w: scope me needs an agent", ErrCallbackScope)
	}
	if len(p.Notes) > MaxNotes {
		return Callback{}, fmt.Errorf("%w: %d characters, at most %d", ErrNotesTooLong, len(p.Notes), MaxNotes)
	}
	l, err := lockLead(ctx, tx, p.Lead)
	if err != nil {
		return Callback{}, err
	}
	due, err := callbackTime(p.Campaign, l, p.At, p.Now)
	if err != nil {
		return Callback{}, err
	}
	if _, err := callbackTransition(0, noStatus, CbSchedule); err != nil {
		return Callback{}, err
	}
	if err := replaceOpen(ctx, tx, jobs, p.Lead, p.Now, p.Agent); err != nil {
		return Callback{}, err
	}
	var id CallbackID
	err = tx.QueryRow(ctx, `
INSERT INTO callbacks (campaign_id, lead_id, agent_id, call_id, scope, status, due_at, requested_at, notes, created_at, updated_at)
VALUES ($1, $2, NULLIF($3, 0), NULLIF($4, 0), $5, 'scheduled', $6, $7, $8, $9, $9) RETURNING id`,
		p.Campaign.ID, p.Lead, p.Agent, p.Call, string(p.Scope), due, p.At.UTC(), p.Notes, p.Now).Scan(&id)
	if err != nil {
		return Callback{}, fmt.Errorf("schedule callback for lead %d: %w", p.Lead, err)
	}
	detail := ""
	if !due.Equal(p.At) {
		detail = fmt.Sprintf("requested %s, moved into the calling window", p.At.UTC().Format(time.RFC3339))
	}
	if err := logCallback(ctx, tx, id, p.Now, CbSchedule, noStatus, CallbackScheduled, p.Agent, detail); err != nil {
		return Callback{}, err
	}
	if err := holdLead(ctx, tx, p.Lead); err != nil {
		return Callback{}, err
	}
	job, err := jobs.InsertCallbackDue(ctx, tx, id, 1, due)
	if err != nil {
		return Callback{}, fmt.Errorf("queue callback %d: %w", id, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE callbacks SET job_id = $2 WHERE id = $1`, id, job); err != nil {
		return Callback{}, err
	}
	return getCallback(ctx, tx, id, "")
}

// holdLead keeps a lead out of the hopper until its callback moves it on.
func holdLead(ctx context.Context, tx pgx.Tx, id LeadID) error {
	_, err := tx.Exec(ctx, `UPDATE leads SET status = 'callback', claimed_at = NULL, claimed_by = '' WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("hold lead %d for its callback: %w", id, err)
	}
	return nil
}

// releaseLead returns a lead a callback held (or lifted) to ordinary
// dialling from now, at its own priority again.
func releaseLead(ctx context.Context, tx pgx.Tx, cb *Callback, now time.Time) error {
	_, err := tx.Exec(ctx, `
UPDATE leads SET status = CASE WHEN status = 'callback' THEN 'retry' ELSE status END,
	next_attempt_at = CASE WHEN status = 'callback' THEN $2 ELSE next_attempt_at END,
	priority = coalesce((SELECT lead_priority FROM callbacks WHERE id = $3), priority)
WHERE id = $1`, cb.Lead, now, cb.ID)
	if err != nil {
		return fmt.Errorf("release lead %d from callback %d: %w", cb.Lead, cb.ID, err)
	}
	_, err = tx.Exec(ctx, `UPDATE callbacks SET lead_priority = NULL WHERE id = $1`, cb.ID)
	return err
}

func logCallback(ctx context.Context, tx pgx.Tx, id CallbackID, at time.Time, ev CallbackEvent, from, to CallbackStatus, agent int64, detail string) error {
	var fromArg *string
	if from != noStatus {
		s := string(from)
		fromArg = &s
	}
	_, err := tx.Exec(ctx, `INSERT INTO callback_events (callback_id, at, event, from_status, to_status, agent_id, detail)
VALUES ($1, $2, $3, $4, $5, NULLIF($6, 0), $7)`, id, at, string(ev), fromArg, string(to), agent, detail)
	if err != nil {
		return fmt.Errorf("log callback %d %s: %w", id, ev, err)
	}
	return nil
}

// move applies ev to a locked callback: the table decides the status, the
// row and the log change together.
func move(ctx context.Context, tx pgx.Tx, cb *Callback, ev CallbackEvent, at time.Time, agent int64, detail string) error {
	to, err := callbackTransition(cb.ID, cb.Status, ev)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE callbacks SET status = $2, updated_at = $3 WHERE id = $1`, cb.ID, string(to), at); err != nil {
		return fmt.Errorf("callback %d %s: %w", cb.ID, ev, err)
	}
	if err := logCallback(ctx, tx, cb.ID, at, ev, cb.Status, to, agent, detail); err != nil {
		return err
	}
	cb.Status = to
	return nil
}

// RescheduleCallback is a change of a callback's time, scope or notes.
type RescheduleCallback struct {
	ID CallbackID
	At time.Time
	// Scope, when set, changes who may make the callback.
	Scope CallbackScope
	// Notes, when set, replaces the notes.
	Notes *string
	// By is the agent or supervisor making the change (0: the system).
	By  int64
	Now time.Time
}

// Reschedule moves a scheduled, due or missed callback to a new time (moved
// into the lead's calling window, as when scheduled). Its version goes up, so
// the old job does nothing if it runs; it is also cancelled. Rescheduling any
// number of times, however close together, works: each version has its own
// job.
func Reschedule(ctx context.Context, db TxDB, jobs CallbackJobs, p RescheduleCallback) (Callback, error) {
	var out Callback
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		cb, err := getCallback(ctx, tx, p.ID, " FOR UPDATE OF cb")
		if err != nil {
			return err
		}
		if _, err := callbackTransition(cb.ID, cb.Status, CbReschedule); err != nil {
			return err
		}
		scope := cb.Scope
		if p.Scope != "" {
			if !p.Scope.Valid() {
				return fmt.Errorf("%w: %q", ErrCallbackScope, p.Scope)
			}
			scope = p.Scope
		}
		if scope == ScopeMe && cb.Agent == 0 {
			return fmt.Errorf("%w: scope me needs an agent", ErrCallbackScope)
		}
		notes := cb.Notes
		if p.Notes != nil {
			if len(*p.Notes) > MaxNotes {
				return fmt.Errorf("%w: %d characters, at most %d", ErrNotesTooLong, len(*p.Notes), MaxNotes)
			}
			notes = *p.Notes
		}
		l, err := lockLead(ctx, tx, cb.Lead)
		if err != nil {
			return err
		}
		if l.status == "dialing" {
			return fmt.Errorf("%w: callback %d's lead is being dialled", ErrCallbackTransition, cb.ID)
		}
		c, err := Get(ctx, tx, cb.Campaign)
		if err != nil {
			return err
		}
		due, err := callbackTime(&c, l, p.At, p.Now)
		if err != nil {
			return err
		}
		if cb.JobID != 0 {
			if err := jobs.CancelCallbackJob(ctx, tx, cb.JobID); err != nil {
				return fmt.Errorf("cancel callback %d's old job: %w", cb.ID, err)
			}
		}
		if err := releaseLead(ctx, tx, &cb, p.Now); err != nil {
			return err
		}
		if err := holdLead(ctx, tx, cb.Lead); err != nil {
			return err
		}
		version := cb.Version + 1
		job, err := jobs.InsertCallbackDue(ctx, tx, cb.ID, version, due)
		if err != nil {
			return fmt.Errorf("queue callback %d: %w", cb.ID, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE callbacks SET due_at = $2, requested_at = $3, scope = $4, notes = $5,
	version = $6, job_id = $7 WHERE id = $1`, cb.ID, due, p.At.UTC(), string(scope), notes, version, job); err != nil {
			return fmt.Errorf("reschedule callback %d: %w", cb.ID, err)
		}
		detail := fmt.Sprintf("to %s, scope %s", due.Format(time.RFC3339), scope)
		if err := move(ctx, tx, &cb, CbReschedule, p.Now, p.By, detail); err != nil {
			return err
		}
		out, err = getCallback(ctx, tx, cb.ID, "")
		return err
	})
	return out, err
}

// CloseCallback is a cancel or a completion by hand.
type CloseCallback struct {
	ID     CallbackID
	By     int64
	Reason string
	Now    time.Time
}

// CancelCallback cancels a callback that is not being offered or dialled;
// its lead returns to ordinary dialling.
func CancelCallback(ctx context.Context, db TxDB, jobs CallbackJobs, p CloseCallback) (Callback, error) {
	return closeCallback(ctx, db, jobs, p, CbCancel)
}

// CompleteCallback closes a callback by hand (the agent reached the person
// another way); its lead returns to ordinary dialling. A callback is also
// completed by itself when an attempt on its lead is recorded.
func CompleteCallback(ctx context.Context, db TxDB, jobs CallbackJobs, p CloseCallback) (Callback, error) {
	return closeCallback(ctx, db, jobs, p, CbComplete)
}

func closeCallback(ctx context.Context, db TxDB, jobs CallbackJobs, p CloseCallback, ev CallbackEvent) (Callback, error) {
	var out Callback
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		cb, err := getCallback(ctx, tx, p.ID, " FOR UPDATE OF cb")
		if err != nil {
			return err
		}
		if cb.Status == CallbackOffered || cb.Status == CallbackDialled {
			return &CallbackTransitionError{Callback: cb.ID, Status: cb.Status, Event: ev}
		}
		l, err := lockLead(ctx, tx, cb.Lead)
		if err != nil {
			return err
		}
		if l.status == "dialing" {
			return fmt.Errorf("%w: callback %d's lead is being dialled", ErrCallbackTransition, cb.ID)
		}
		if err := move(ctx, tx, &cb, ev, p.Now, p.By, p.Reason); err != nil {
			return err
		}
		if cb.JobID != 0 && jobs != nil {
			if err := jobs.CancelCallbackJob(ctx, tx, cb.JobID); err != nil {
				return fmt.Errorf("cancel callback %d's job: %w", cb.ID, err)
			}
		}
		if err := releaseLead(ctx, tx, &cb, p.Now); err != nil {
			return err
		}
		out, err = getCallback(ctx, tx, cb.ID, "")
		return err
	})
	return out, err
}

// settleCallbacks settles the open callback of a lead whose attempt is being
// recorded (the lead's row already says whether it is done and when it may
// be tried next). A call that reached the person keeps the promise: the
// callback is completed. One that did not (busy, no answer, a machine, a
// failure, a drop) does not: the callback is scheduled again for the lead's
// next try (the campaign's retry delay for that outcome, its per-day limit
// and lock-out, moved into the calling window) with a job of its own, and
// the lead waits for it; when the lead may not be tried again (its attempts
// are used up, the number is invalid or on DNC) the callback is missed. The
// lead's own priority is restored either way; a callback still scheduled
// for later is left alone.
func settleCallbacks(ctx context.Context, tx pgx.Tx, c *Campaign, a Attempt, done bool, next time.Time) error {
	rows, err := tx.Query(ctx, "SELECT "+callbackColumns+callbackFrom+
		` WHERE cb.lead_id = $1 AND cb.status IN ('due', 'offered', 'dialled') FOR UPDATE OF cb`, a.Lead)
	if err != nil {
		return fmt.Errorf("callbacks of lead %d: %w", a.Lead, err)
	}
	cbs, err := pgx.CollectRows(rows, scanCallback)
	if err != nil {
		return fmt.Errorf("callbacks of lead %d: %w", a.Lead, err)
	}
	for i := range cbs {
		cb := &cbs[i]
		if _, err := tx.Exec(ctx, `UPDATE leads SET priority = coalesce((SELECT lead_priority FROM callbacks WHERE id = $2), priority)
WHERE id = $1`, a.Lead, cb.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE callbacks SET lead_priority = NULL WHERE id = $1`, cb.ID); err != nil {
			return err
		}
		switch {
		case a.Outcome == OutcomeCompleted:
			err = move(ctx, tx, cb, CbComplete, a.At, 0, "attempt recorded")
		case done:
			err = move(ctx, tx, cb, CbGiveUp, a.At, 0, fmt.Sprintf("%s; the lead may not be tried again", a.Outcome))
		default:
			err = retryCallback(ctx, tx, c, cb, a, next)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// retryCallback schedules a callback whose dial did not reach the person
// again for the lead's next try, as a new version with its own job, and
// holds the lead for it.
func retryCallback(ctx context.Context, tx pgx.Tx, c *Campaign, cb *Callback, a Attempt, next time.Time) error {
	var zones, states []string
	if err := tx.QueryRow(ctx, `SELECT g.zones, g.states FROM leads l JOIN tz_groups g ON g.id = l.tz_group WHERE l.id = $1`,
		a.Lead).Scan(&zones, &states); err != nil {
		return fmt.Errorf("lead %d of callback %d: %w", a.Lead, cb.ID, err)
	}
	due := next.UTC()
	if w, err := c.Window(); err == nil {
		if t, ok := w.NextAllowedIn(next, zones, states); ok {
			due = t.UTC()
		}
	}
	version := cb.Version + 1
	var job *int64
	if a.Callbacks != nil {
		id, err := a.Callbacks.InsertCallbackDue(ctx, tx, cb.ID, version, due)
		if err != nil {
			return fmt.Errorf("queue callback %d's next try: %w", cb.ID, err)
		}
		job = &id
	}
	if _, err := tx.Exec(ctx, `UPDATE callbacks SET due_at = $2, requested_at = $2, version = $3, job_id = $4 WHERE id = $1`,
		cb.ID, due, version, job); err != nil {
		return fmt.Errorf("callback %d's next try: %w", cb.ID, err)
	}
	detail := fmt.Sprintf("%s; next try %s", a.Outcome, due.Format(time.RFC3339))
	if err := move(ctx, tx, cb, CbRetry, a.At, 0, detail); err != nil {
		return err
	}
	return holdLead(ctx, tx, a.Lead)
}

// replaceOpen cancels the callback a lead still has when a new one is set for
// it (a lead has at most one open callback): the newer promise wins. One
// being offered or dialled cannot be replaced; the attempt settles it first.
func replaceOpen(ctx context.Context, tx pgx.Tx, jobs CallbackJobs, lead LeadID, now time.Time, by int64) error {
	open, err := lockCallbacks(ctx, tx, lead, CallbackScheduled, CallbackDue, CallbackOffered, CallbackDialled, CallbackMissed)
	if err != nil {
		return err
	}
	for i := range open {
		cb := &open[i]
		if err := move(ctx, tx, cb, CbCancel, now, by, "replaced by a new callback"); err != nil {
			return err
		}
		if cb.JobID != 0 {
			if err := jobs.CancelCallbackJob(ctx, tx, cb.JobID); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE leads SET priority = coalesce((SELECT lead_priority FROM callbacks WHERE id = $2), priority)
WHERE id = $1`, lead, cb.ID); err != nil {
			return err
		}
	}
	return nil
}

// lockCallbacks locks and returns the lead's callbacks in the given
// statuses.
func lockCallbacks(ctx context.Context, tx pgx.Tx, lead LeadID, statuses ...CallbackStatus) ([]Callback, error) {
	names := make([]string, len(statuses))
	for i, st := range statuses {
		names[i] = string(st)
	}
	rows, err := tx.Query(ctx, "SELECT "+callbackColumns+callbackFrom+
		` WHERE cb.lead_id = $1 AND cb.status = ANY($2) FOR UPDATE OF cb`, lead, names)
	if err != nil {
		return nil, fmt.Errorf("open callbacks of lead %d: %w", lead, err)
	}
	open, err := pgx.CollectRows(rows, scanCallback)
	if err != nil {
		return nil, fmt.Errorf("open callbacks of lead %d: %w", lead, err)
	}
	return open, nil
}
