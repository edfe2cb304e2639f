package campaigns

import "time"

// LocalTime is the wall clock in one of a lead's time zones.
type LocalTime struct {
	Zone   string `json:"zone"`   // IANA name
	Abbrev string `json:"abbrev"` // EST, CET, …
	// Clock is the local time as "2006-01-02T15:04:05-07:00".
	Clock string `json:"clock"`
	// OffsetS is the zone's offset from UTC at that moment, in seconds.
	OffsetS int `json:"offset_s"`
}

// LeadLocalTimes is the time at the lead at now, in every zone its address
// and number place it in (LeadPlace: more than one when the place is
// ambiguous, none when nothing places it).
func LeadLocalTimes(l Lead, now time.Time) []LocalTime {
	zones, _ := LeadPlace(l.Phone, l.State, l.PostalCode, l.Country)
	out := make([]LocalTime, 0, len(zones))
	for _, z := range zones {
		loc, err := loadLocation(z)
		if err != nil {
			continue
		}
		t := now.In(loc)
		abbrev, off := t.Zone()
		out = append(out, LocalTime{Zone: z, Abbrev: abbrev, Clock: t.Format(time.RFC3339), OffsetS: off})
	}
	return out
}
