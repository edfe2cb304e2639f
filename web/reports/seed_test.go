package reports

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/internal/testdb"
)

// The seeded world: two campaigns in New York's zone around the start of
// daylight saving time (Sunday 2026-03-08 has 23 hours there), so local days
// and UTC days differ and one day is short.
//
//	Alpha (US rules, target 3%): list "Spring" with leads L1..L4, agent ann.
//	Bravo (UK rules, AMD false positives 10%): list "Cold" with L5, L6, agent bob.
type seeded struct {
	pool                   *pgxpool.Pool
	alpha, bravo           int64
	spring, cold           int64
	ann, bob               int64
	l1, l2, l3, l4, l5, l6 int64
	c1, c2, c3, c6, c7     int64
	ny                     *time.Location
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func seed(t *testing.T) *seeded {
	t.Helper()
	ctx := context.Background()
	s := &seeded{pool: testdb.NewPool(t)}
	var err error
	s.ny, err = time.LoadLocation("America/New_York")
	require.NoError(t, err)
	db := s.pool
	q := func(dst any, sql string, args ...any) {
		t.Helper()
		require.NoError(t, db.QueryRow(ctx, sql, args...).Scan(dst), sql)
	}
	x := func(sql string, args ...any) {
		t.Helper()
		_, err := db.Exec(ctx, sql, args...)
		require.NoError(t, err, sql)
	}
	q(&s.alpha, `INSERT INTO campaigns (name) VALUES ('Alpha') RETURNING id`)
	q(&s.bravo, `INSERT INTO campaigns (name, rule_set, amd_false_positive, abandon_lockout_s)
		VALUES ('Bravo', 'uk', 0.1, 259200) RETURNING id`)
	x(`INSERT INTO dispositions (campaign_id, code, label, category, final, system) VALUES
		($1, 'SALE', 'Sale made', 'sale', true, false), ($1, 'NA', 'No answer', 'no-contact', false, true),
		($1, 'DROP', 'Dropped by dialer', 'no-contact', false, true),
		($2, 'AA', 'Answering machine', 'machine', false, true), ($2, 'NI', 'Not interested', 'not-interested', true, false)`,
		s.alpha, s.bravo)
	q(&s.ann, `INSERT INTO users (username, role, password_hash) VALUES ('ann', 'agent', '$2a$10$x') RETURNING id`)
	q(&s.bob, `INSERT INTO users (username, role, password_hash) VALUES ('bob', 'agent', '$2a$10$x') RETURNING id`)
	q(&s.spring, `INSERT INTO lead_lists (campaign_id, name, format, status, finished_at) VALUES ($1, 'Spring', 'csv', 'ready', now()) RETURNING id`, s.alpha)
	q(&s.cold, `INSERT INTO lead_lists (campaign_id, name, format, status, finished_at) VALUES ($1, 'Cold', 'csv', 'ready', now()) RETURNING id`, s.bravo)
	var tz int64
	q(&tz, `INSERT INTO tz_groups (zones) VALUES ('{America/New_York}') RETURNING id`)
	lead := func(dst *int64, campaign, list int64, phone, first, last, status string) {
		q(dst, `INSERT INTO leads (campaign_id, list_id, phone, first_name, last_name, tz_group, status)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, campaign, list, phone, first, last, tz, status)
	}
	lead(&s.l1, s.alpha, s.spring, "+12125550101", "Ada", "Lovelace", "done")
	lead(&s.l2, s.alpha, s.spring, "+12125550102", "Alan", "Turing", "retry")
	lead(&s.l3, s.alpha, s.spring, "+12125550103", "Grace", "Hopper", "retry")
	lead(&s.l4, s.alpha, s.spring, "+12125550104", "", "", "new")
	lead(&s.l5, s.bravo, s.cold, "+442079460001", "=HYPERLINK(\"http://x\")", "Evil", "retry")
	lead(&s.l6, s.bravo, s.cold, "+442079460002", "Bea", "", "retry")

	// call inserts one ended call; offsets are seconds after the dial.
	seq := int64(0)
	call := func(campaign, lead int64, phone string, agent *int64, outcome, answeredBy string, dialed string,
		ring, answer, connect, end, dispo *float64, code string, talk, hold, wrap *float64, sip *int) int64 {
		seq++
		d := utc(dialed)
		at := func(off *float64) *time.Time {
			if off == nil {
				return nil
			}
			v := d.Add(time.Duration(*off * float64(time.Second)))
			return &v
		}
		var ab *string
		if answeredBy != "" {
			ab = &answeredBy
		}
		var disp *string
		if code != "" {
			disp = &code
		}
		var id int64
		q(&id, `INSERT INTO calls (run_id, seq, campaign_id, lead_id, phone, node, agent_id, state, outcome, abandoned,
			answered_by, disposition, queued_at, dialed_at, ringing_at, answered_at, connected_at, ended_at,
			dispositioned_at, talk_s, hold_s, dispo_s, sip_code)
			VALUES ('00000000-0000-0000-0000-000000000001', $1, $2, $3, $4, 'n1', $5, 'ended', $6, $6 = 'abandoned',
			$7, $8, $9, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING id`,
			seq, campaign, lead, phone, agent, outcome, ab, disp, d, at(ring), at(answer), at(connect), at(end),
			at(dispo), talk, hold, wrap, sip)
		return id
	}
	f := func(v float64) *float64 { return &v }
	code := func(v int) *int { return &v }
	// c1: Saturday afternoon, a sale by ann.
	s.c1 = call(s.alpha, s.l1, "+12125550101", &s.ann, "completed", "human", "2026-03-07T15:00:00Z",
		f(1), f(6), f(6.5), f(66), f(76), "SALE", f(59.5), f(5), f(10), code(200))
	// c2: 23:30 Saturday in New York, already Sunday in UTC: no answer.
	s.c2 = call(s.alpha, s.l2, "+12125550102", nil, "no_answer", "", "2026-03-08T04:30:00Z",
		f(2), nil, nil, f(27), f(27), "NA", nil, nil, nil, code(487))
	// c3: 23:30 Sunday in New York (EDT): answered and abandoned.
	s.c3 = call(s.alpha, s.l3, "+12125550103", nil, "abandoned", "human", "2026-03-09T03:30:00Z",
		f(1), f(4), nil, f(7), f(7), "DROP", nil, nil, nil, nil)
	// Outside the range: 00:10 Monday EDT (inside a 24-hour day after
	// Sunday's midnight), and 23:59 Friday EST.
	call(s.alpha, s.l2, "+12125550102", nil, "no_answer", "", "2026-03-09T04:10:00Z",
		f(1), nil, nil, f(26), f(26), "NA", nil, nil, nil, code(487))
	call(s.alpha, s.l4, "+12125550104", nil, "abandoned", "human", "2026-03-07T04:59:00Z",
		f(1), f(5), nil, f(8), f(8), "DROP", nil, nil, nil, nil)
	// In Alpha's 30-day window only: a connected call and an abandon in
	// February, and one older than 30 days.
	call(s.alpha, s.l4, "+12125550104", &s.ann, "completed", "human", "2026-02-10T15:00:00Z",
		f(1), f(5), f(5.5), f(60), f(70), "SALE", f(54.5), f(0), f(10), nil)
	call(s.alpha, s.l4, "+12125550104", nil, "abandoned", "human", "2026-02-15T15:00:00Z",
		f(1), f(5), nil, f(8), f(8), "DROP", nil, nil, nil, nil)
	call(s.alpha, s.l4, "+12125550104", nil, "abandoned", "human", "2026-02-05T15:00:00Z",
		f(1), f(5), nil, f(8), f(8), "DROP", nil, nil, nil, nil)
	// Bravo on Sunday: a machine, and a person bob talked to.
	s.c6 = call(s.bravo, s.l5, "+442079460001", nil, "machine", "machine", "2026-03-08T12:00:00Z",
		f(3), f(8), nil, f(10), f(10), "AA", nil, nil, nil, nil)
	s.c7 = call(s.bravo, s.l6, "+442079460002", &s.bob, "completed", "human", "2026-03-08T13:00:00Z",
		f(2), f(9), f(9.2), f(61), f(71), "NI", f(51.8), f(0), f(10), nil)

	// ann's session crosses midnight in New York (05:00 UTC) and has ended.
	sess := func(id string, agent, campaign int64, login string, logout *time.Time) {
		var cause *string
		if logout != nil {
			c := "logout"
			cause = &c
		}
		x(`INSERT INTO agent_sessions (id, agent_id, campaign_id, node, login_at, logout_at, end_cause)
			VALUES ($1, $2, $3, 'n1', $4, $5, $6)`, id, agent, campaign, utc(login), logout, cause)
	}
	ev := func(session string, agent, campaign int64, at, event, from, to, code string) {
		var pc *string
		if code != "" {
			pc = &code
		}
		x(`INSERT INTO agent_events (session_id, agent_id, campaign_id, at, event, from_state, to_state, pause_code)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, session, agent, campaign, utc(at), event, from, to, pc)
	}
	annS := "11111111-1111-1111-1111-111111111111"
	out := utc("2026-03-08T05:40:00Z")
	sess(annS, s.ann, s.alpha, "2026-03-08T04:00:00Z", &out)
	for _, e := range [][5]string{
		{"2026-03-08T04:00:00Z", "login", "LOGGED_OUT", "PAUSED", "LOGIN"},
		{"2026-03-08T04:00:30Z", "ready", "PAUSED", "READY", ""},
		{"2026-03-08T04:10:00Z", "connect", "READY", "INCALL", ""},
		{"2026-03-08T04:12:00Z", "hold", "INCALL", "INCALL", ""},
		{"2026-03-08T04:13:00Z", "resume", "INCALL", "INCALL", ""},
		{"2026-03-08T04:20:00Z", "call_end", "INCALL", "DISPO", ""},
		{"2026-03-08T04:21:00Z", "dispo_saved", "DISPO", "PAUSED", "BREAK"},
		{"2026-03-08T05:30:00Z", "ready", "PAUSED", "READY", ""},
		{"2026-03-08T05:40:00Z", "logout", "READY", "LOGGED_OUT", ""},
	} {
		ev(annS, s.ann, s.alpha, e[0], e[1], e[2], e[3], e[4])
	}
	// bob previews a lead, dials it (its ringing is wait, as agents' roll-up
	// counts it) and is still on the call at the report's now (13:05 UTC).
	bobS := "22222222-2222-2222-2222-222222222222"
	sess(bobS, s.bob, s.bravo, "2026-03-08T13:00:00Z", nil)
	for _, e := range [][5]string{
		{"2026-03-08T13:00:00Z", "login", "LOGGED_OUT", "PAUSED", "LOGIN"},
		{"2026-03-08T13:00:10Z", "ready", "PAUSED", "READY", ""},
		{"2026-03-08T13:00:40Z", "offer", "READY", "RINGING", ""},
		{"2026-03-08T13:00:45Z", "dial", "RINGING", "DIALING", ""},
		{"2026-03-08T13:00:50Z", "answer", "DIALING", "INCALL", ""},
	} {
		ev(bobS, s.bob, s.bravo, e[0], e[1], e[2], e[3], e[4])
	}
	return s
}

// params is the weekend of 7 and 8 March 2026 in New York, as of 13:05 UTC
// on the Sunday.
func (s *seeded) params(t *testing.T, campaign string) Params {
	t.Helper()
	p, err := ParseParams("2026-03-07", "2026-03-08", "America/New_York", campaign, time.UTC, utc("2026-03-08T13:05:00Z"))
	require.NoError(t, err)
	return p
}
