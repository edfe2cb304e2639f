package web

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/inbound"
)

// The queues' wallboard: per queue what the router holds now (callers
// waiting, the longest wait, members READY) and the day's figures from the
// queue event log (inbound.Compute through the EventStore: offered,
// answered, abandoned with their callers, both service levels, ASA), today
// and per 30-minute interval; per campaign, the blending reserve.
//
// "Today" is the queue's own day: from midnight in the queue's time zone
// (the zone its opening hours are in), so a center's day and its intervals
// start when its staff's do, whatever zone the server runs in.

// BoardInterval is the wallboard's interval.
const BoardInterval = 30 * time.Minute

// queueLiveJSON is a queue's live state from the router.
type queueLiveJSON struct {
	Waiting       int        `json:"waiting"`
	Ringing       int        `json:"ringing"`
	LongestWaitS  float64    `json:"longest_wait_s"`
	OldestEntered *time.Time `json:"oldest_entered"`
	Members       int        `json:"members"`
	Available     int        `json:"available"`
	LoggedIn      int        `json:"logged_in"`
	// Callbacks are the callback requests holding places in the queue;
	// CallbacksDue those that may be offered to an agent now.
	Callbacks    int `json:"callbacks"`
	CallbacksDue int `json:"callbacks_due"`
}

type queueBoardJSON struct {
	ID           inbound.QueueID           `json:"id"`
	Name         string                    `json:"name"`
	TimeZone     string                    `json:"time_zone"`
	SLThresholdS float64                   `json:"sl_threshold_s"`
	SLTarget     float64                   `json:"sl_target"`
	DayStart     time.Time                 `json:"day_start"`
	Live         *queueLiveJSON            `json:"live"`
	Today        inbound.Figures           `json:"today"`
	Intervals    []inbound.IntervalFigures `json:"intervals"`
}

type campaignReserveJSON struct {
	Campaign campaigns.ID `json:"campaign_id"`
	Name     string       `json:"name"`
	Reserve  int          `json:"reserve"`
	Waiting  int          `json:"waiting"`
	Stop     bool         `json:"stop"`
}

// dayStart is midnight of now's day in zone, in UTC (as the API writes times).
func dayStart(now time.Time, zone *time.Location) time.Time {
	y, m, d := now.In(zone).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, zone).UTC()
}

// apiQueueBoard is the queues' wallboard (see above). Live parts are null
// when this node runs no router.
func (s *Server) apiQueueBoard(c *fiber.Ctx) error {
	ctx := c.UserContext()
	now := s.clock.Now()
	queues, err := s.queueStore().Queues(ctx)
	if err != nil {
		return err
	}
	live, loads := map[inbound.QueueID]inbound.QueueNow{}, map[campaigns.ID]inbound.Load{}
	unreached := 0
	if s.inbound != nil {
		if live, loads, unreached, err = s.inboundNow(ctx, now); err != nil {
			return err
		}
	}
	// One read of the log per time zone the queues' days start in.
	type day struct {
		start     time.Time
		figures   map[inbound.QueueID]inbound.Figures
		intervals map[inbound.QueueID][]inbound.IntervalFigures
	}
	days := map[string]*day{}
	thresholds := map[string]map[inbound.QueueID]time.Duration{}
	for _, d := range queues {
		zone := d.Hours.Zone.String()
		if days[zone] == nil {
			days[zone] = &day{start: dayStart(now, d.Hours.Zone)}
			thresholds[zone] = map[inbound.QueueID]time.Duration{}
		}
		thresholds[zone][d.ID] = d.SLThreshold
	}
	events := s.eventStore()
	for zone, dd := range days {
		if dd.figures, err = events.StoredFigures(ctx, thresholds[zone], dd.start, now, now); err != nil {
			return err
		}
		if dd.intervals, err = events.StoredIntervals(ctx, thresholds[zone], dd.start, now, BoardInterval); err != nil {
			return err
		}
	}
	out := make([]queueBoardJSON, 0, len(queues))
	for _, d := range queues {
		dd := days[d.Hours.Zone.String()]
		b := queueBoardJSON{ID: d.ID, Name: d.Name, TimeZone: d.Hours.Zone.String(),
			SLThresholdS: d.SLThreshold.Seconds(), SLTarget: d.SLTarget, DayStart: dd.start,
			Today: dd.figures[d.ID], Intervals: dd.intervals[d.ID]}
		if b.Intervals == nil {
			b.Intervals = []inbound.IntervalFigures{}
		}
		if l, ok := live[d.ID]; ok {
			b.Live = &queueLiveJSON{Waiting: l.Waiting, Ringing: l.Ringing, LongestWaitS: l.LongestWait.Seconds(),
				Members: l.Members, Available: l.Available, LoggedIn: l.LoggedIn, Callbacks: l.Callbacks,
				CallbacksDue: l.CallbacksDue}
			if !l.Oldest.IsZero() {
				b.Live.OldestEntered = &l.Oldest
			}
		}
		out = append(out, b)
	}
	reserves := []campaignReserveJSON{}
	if s.inbound != nil {
		list, err := campaigns.List(ctx, s.db)
		if err != nil {
			return err
		}
		for _, camp := range list {
			if camp.Status != campaigns.StatusActive {
				continue
			}
			l, ok := loads[camp.ID]
			if !ok {
				continue // no live node runs it: it keeps nobody back
			}
			reserves = append(reserves, campaignReserveJSON{Campaign: camp.ID, Name: camp.Name, Reserve: l.Reserve,
				Waiting: l.Waiting, Stop: l.Stop})
		}
	}
	return c.JSON(fiber.Map{"now": now, "interval_s": BoardInterval.Seconds(), "live": s.inbound != nil,
		"queues": out, "campaigns": reserves, "nodes_unreached": unreached})
}
