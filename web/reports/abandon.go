package reports

import (
	"context"
	"sort"
	"time"
)

// The abandon rate as package dialer's Budget counts it (the rate pacing
// holds under the target): abandons ÷ live answers, where a live answer is a
// call a person answered that was connected to an agent or abandoned
// (outcome completed or abandoned), counted when the call ended. Under UK
// rules the campaign's AMD false-positive share of machine answers is added
// to both (Ofcom). Per day of the chosen zone, and over the legal window
// ending with that day: 30 days rolling under US rules, 24 hours under UK
// rules. The Budget keeps hour buckets, so its window edge may be up to an
// hour longer than the exact window here.
//
// The calls are read once, counted per campaign and minute (every zone's
// midnight is on a whole minute), and each day's window is summed from
// those counts, so a quarter of a busy campaign is one pass over its calls,
// not one per day.
const abandonCampaignsSQL = `
SELECT id, name, rule_set, abandon_target::float8, amd_false_positive::float8
FROM campaigns WHERE $1::bigint = 0 OR id = $1 ORDER BY name, id`

const abandonMinutesSQL = `
SELECT campaign_id, date_trunc('minute', ended_at, 'UTC'),
	count(*) FILTER (WHERE outcome IN ('completed', 'abandoned')), count(*) FILTER (WHERE outcome = 'abandoned'),
	count(*) FILTER (WHERE outcome = 'machine')
FROM calls
WHERE ended_at >= $1 AND ended_at < $2 AND outcome IN ('completed', 'abandoned', 'machine')
	AND ($3::bigint = 0 OR campaign_id = $3) AND transferred_from_seq IS NULL AND direction = 'outbound'
GROUP BY 1, 2 ORDER BY 1, 2`

// usWindow and ukWindow are the legal windows, as the campaigns' budgets
// keep them (campaigns.Campaign.AbandonWindow).
const (
	usWindow = 30 * 24 * time.Hour
	ukWindow = 24 * time.Hour
)

var abandonReport = &Report{
	Name:  "abandon",
	Title: "Abandon rate per legal window",
	Note: "Abandon rate = abandoned calls ÷ live answers (calls a person answered: connected to an agent or " +
		"abandoned), counted on the day the call ended, as the dialer's abandon budget counts it. Under UK rules " +
		"the campaign's AMD false-positive share of machine answers is added to both. Per day, and over the legal " +
		"window ending with the day: 30 days rolling (US), 24 hours (UK). Within target: the window's rate is at " +
		"or under the campaign's target.",
	run: runAbandon,
}

var abandonColumns = []Column{
	{"day", "Day"}, {"campaign_id", "Campaign id"}, {"campaign", "Campaign"}, {"rules", "Rules"},
	{"target", "Target"}, {"day_live_answers", "Live answers (day)"}, {"day_abandons", "Abandons (day)"},
	{"day_machines", "Machines (day)"}, {"day_rate", "Rate (day)"}, {"window", "Window"},
	{"window_from", "Window from"}, {"window_to", "Window to"}, {"window_live_answers", "Live answers (window)"},
	{"window_abandons", "Abandons (window)"}, {"window_machines", "Machines (window)"},
	{"window_rate", "Rate (window)"}, {"within_target", "Within target"},
}

// abandonRate is the Budget's Rate: (abandons + estimate) ÷ (live + estimate).
func abandonRate(live, abandons, machines int64, fp float64) float64 {
	est := fp * float64(machines)
	if float64(live)+est == 0 {
		return 0
	}
	return (float64(abandons) + est) / (float64(live) + est)
}

// minuteCounts are one campaign's calls per minute, in time order, with
// running totals so any span's counts are two lookups.
type minuteCounts struct {
	at          []time.Time
	live, ab, m []int64 // totals up to and including at[i]
}

func (c *minuteCounts) add(at time.Time, live, ab, m int64) {
	var l0, a0, m0 int64
	if n := len(c.at); n > 0 {
		l0, a0, m0 = c.live[n-1], c.ab[n-1], c.m[n-1]
	}
	c.at = append(c.at, at)
	c.live, c.ab, c.m = append(c.live, l0+live), append(c.ab, a0+ab), append(c.m, m0+m)
}

// before is the totals of the minutes before t.
func (c *minuteCounts) before(t time.Time) (live, ab, m int64) {
	i := sort.Search(len(c.at), func(i int) bool { return !c.at[i].Before(t) })
	if i == 0 {
		return 0, 0, 0
	}
	return c.live[i-1], c.ab[i-1], c.m[i-1]
}

// span is the counts of [from, to).
func (c *minuteCounts) span(from, to time.Time) (live, ab, m int64) {
	l1, a1, m1 := c.before(to)
	l0, a0, m0 := c.before(from)
	return l1 - l0, a1 - a0, m1 - m0
}

func runAbandon(ctx context.Context, db Querier, p Params, head header, row emit) error {
	rows, err := db.Query(ctx, abandonMinutesSQL, p.Start().Add(-usWindow), p.End(), p.Campaign)
	if err != nil {
		return err
	}
	counts := map[int64]*minuteCounts{}
	for rows.Next() {
		var (
			id, live, ab, m int64
			at              time.Time
		)
		if err := rows.Scan(&id, &at, &live, &ab, &m); err != nil {
			rows.Close()
			return err
		}
		if counts[id] == nil {
			counts[id] = &minuteCounts{}
		}
		counts[id].add(at, live, ab, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if err := head(abandonColumns); err != nil {
		return err
	}
	camps, err := db.Query(ctx, abandonCampaignsSQL, p.Campaign)
	if err != nil {
		return err
	}
	defer camps.Close()
	for camps.Next() {
		var (
			id          int64
			name, rules string
			target, fp  float64
		)
		if err := camps.Scan(&id, &name, &rules, &target, &fp); err != nil {
			return err
		}
		c := counts[id]
		if c == nil {
			continue // no live answers or machines in any window of the range
		}
		window, label := usWindow, "30 days"
		if rules == "uk" {
			window, label = ukWindow, "24 hours"
		} else {
			fp = 0 // the US rule counts no estimate, as the Budget is given none
		}
		for d0 := p.From; !d0.After(p.To); d0 = d0.AddDate(0, 0, 1) {
			d1 := d0.AddDate(0, 0, 1)
			dl, da, dm := c.span(d0, d1)
			w0 := d1.Add(-window)
			wl, wa, wm := c.span(w0, d1)
			wRate := abandonRate(wl, wa, wm, fp)
			if err := row([]any{d0.Format(time.DateOnly), id, name, rules, target, dl, da, dm,
				round4(abandonRate(dl, da, dm, fp)), label, localTime(&w0, p.Zone), localTime(&d1, p.Zone), wl, wa, wm,
				round4(wRate), yesNo(wRate <= target)}); err != nil {
				return err
			}
		}
	}
	return camps.Err()
}
