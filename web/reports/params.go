package reports

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// MaxDays is the longest range a report covers: a quarter and a bit, so a
// report cannot be asked to walk years of calls in one request.
const MaxDays = 93

// ErrInvalid is wrapped by every error about a report's parameters; the
// caller answers them with 400.
var ErrInvalid = errors.New("invalid report parameters")

// Params selects what a report covers.
type Params struct {
	// From and To are the first and last day (inclusive), midnight in Zone.
	From, To time.Time
	Zone     *time.Location
	// Campaign 0 is every campaign.
	Campaign int64
	// Now ends the time of sessions still open.
	Now time.Time
	// Limit, when above 0, keeps only the first Limit rows (a page shows
	// a screenful; the download has them all).
	Limit int
}

// Start is the first instant of the range.
func (p Params) Start() time.Time { return p.From }

// End is the first instant after the range: midnight after To in Zone.
func (p Params) End() time.Time { return p.To.AddDate(0, 0, 1) }

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// ParseParams reads a report's parameters as a person or a URL gives them:
// from and to as YYYY-MM-DD, tz an IANA zone name (empty: def), campaign a
// campaign id (empty or "all": every campaign).
func ParseParams(from, to, tz, campaign string, def *time.Location, now time.Time) (Params, error) {
	p := Params{Zone: def, Now: now}
	if tz != "" {
		loc, err := time.LoadLocation(tz)
		if err != nil || tz == "Local" {
			return p, invalid("tz %q is not a time zone name (such as America/New_York or UTC)", tz)
		}
		p.Zone = loc
	}
	if from == "" || to == "" {
		return p, invalid("from and to are required, as YYYY-MM-DD")
	}
	var err error
	if p.From, err = time.ParseInLocation(time.DateOnly, from, p.Zone); err != nil {
		return p, invalid("from %q is not a date as YYYY-MM-DD", from)
	}
	if p.To, err = time.ParseInLocation(time.DateOnly, to, p.Zone); err != nil {
		return p, invalid("to %q is not a date as YYYY-MM-DD", to)
	}
	if p.To.Before(p.From) {
		return p, invalid("to (%s) is before from (%s)", to, from)
	}
	if p.To.After(p.From.AddDate(0, 0, MaxDays-1)) {
		return p, invalid("the range from %s to %s is longer than %d days", from, to, MaxDays)
	}
	switch campaign {
	case "", "all", "0":
	default:
		id, err := strconv.ParseInt(campaign, 10, 64)
		if err != nil || id <= 0 {
			return p, invalid("campaign %q is not a campaign id", campaign)
		}
		p.Campaign = id
	}
	return p, nil
}

// ServerZone is the server's own time zone by name, the default for reports:
// TZ when set, else the zone /etc/localtime links to, else UTC. The database
// needs a name (Go's time.Local is called "Local").
func ServerZone() *time.Location {
	name := os.Getenv("TZ")
	if name == "" {
		if target, err := os.Readlink("/etc/localtime"); err == nil {
			if i := strings.Index(target, "zoneinfo/"); i >= 0 {
				name = target[i+len("zoneinfo/"):]
			}
		}
	}
	if loc, err := time.LoadLocation(name); err == nil && name != "" && name != "Local" {
		return loc
	}
	return time.UTC
}
