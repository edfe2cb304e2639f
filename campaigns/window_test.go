package campaigns

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nyaruka/phonenumbers"
	"github.com/stretchr/testify/require"
)

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

func mustLocs(t testing.TB, zones []string) []*time.Location {
	t.Helper()
	locs := make([]*time.Location, len(zones))
	for i, z := range zones {
		locs[i] = mustLoc(t, z)
	}
	return locs
}

func TestParseHours(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Hours
		wantErr string
	}{
		{in: "08:00-21:00", want: Hours{480, 1260}},
		{in: " 8:30 - 20:00 ", want: Hours{510, 1200}},
		{in: "00:00-24:00", want: Hours{0, 1440}},
		{in: "22:00-02:00", want: Hours{1320, 120}},
		{in: "09:00-09:00", wantErr: "start equals end"},
		{in: "08:00", wantErr: "want HH:MM-HH:MM"},
		{in: "8-21", wantErr: "is not HH:MM"},
		{in: "24:00-08:00", wantErr: "past midnight"},
		{in: "08:00-24:30", wantErr: "past midnight"},
		{in: "08:60-21:00", wantErr: "is not HH:MM"},
		{in: "-1:00-21:00", wantErr: "is not HH:MM"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseHours(tt.in)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			again, err := ParseHours(got.String())
			require.NoError(t, err)
			require.Equal(t, got, again)
		})
	}
}

func TestParseWindow(t *testing.T) {
	t.Parallel()
	w, err := ParseWindow("", map[string]string{"FL": "08:00-20:00", "oklahoma": "08:00-20:00"})
	require.NoError(t, err)
	require.Equal(t, DefaultHours, w.HoursFor("TX"))
	require.Equal(t, Hours{480, 1200}, w.HoursFor("fl"))
	require.Equal(t, Hours{480, 1200}, w.HoursFor("Florida"))
	require.Equal(t, Hours{480, 1200}, w.HoursFor("OK"))

	_, err = ParseWindow("", map[string]string{"Narnia": "08:00-20:00"})
	require.ErrorContains(t, err, `"Narnia": unknown state`)
	_, err = ParseWindow("", map[string]string{"FL": "late"})
	require.ErrorContains(t, err, "calling hours for FL")
	_, err = ParseWindow("9-5", nil)
	require.Error(t, err)

	require.Equal(t, DefaultHours, Window{}.HoursFor(""), "zero Window is the federal default")
}

func TestWindowJSON(t *testing.T) {
	t.Parallel()
	w, err := ParseWindow("09:00-20:30", map[string]string{"FL": "08:00-20:00"})
	require.NoError(t, err)
	b, err := json.Marshal(w)
	require.NoError(t, err)
	require.JSONEq(t, `{"default":"09:00-20:30","states":{"FL":"08:00-20:00"}}`, string(b))
	var back Window
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, w, back)

	require.ErrorContains(t, json.Unmarshal([]byte(`{"default":"20:00-20:00"}`), &back), "start equals end")
	_, err = json.Marshal(Window{Default: Hours{Start: 5, End: 5}})
	require.Error(t, err)

	b, err = json.Marshal(Window{})
	require.NoError(t, err)
	var zero Window
	require.NoError(t, json.Unmarshal(b, &zero))
	require.Equal(t, DefaultHours, zero.HoursFor("NY"), "the zero Window survives a round trip")
}

func TestAllowedBoundaries(t *testing.T) {
	t.Parallel()
	ny := mustLoc(t, "America/New_York")
	at := func(h, m, s int) time.Time { return time.Date(2025, 6, 10, h, m, s, 0, ny) }
	fl, err := ParseWindow("", map[string]string{"FL": "08:00-20:00"})
	require.NoError(t, err)
	zones := []string{"America/New_York"}
	tests := []struct {
		name  string
		w     Window
		now   time.Time
		zones []string
		state string
		want  bool
	}{
		{"before opening", Window{}, at(7, 59, 59), zones, "", false},
		{"at opening", Window{}, at(8, 0, 0), zones, "", true},
		{"last second", Window{}, at(20, 59, 59), zones, "", true},
		{"at closing", Window{}, at(21, 0, 0), zones, "", false},
		{"midnight", Window{}, at(0, 0, 0), zones, "", false},
		{"instant given in UTC", Window{}, at(12, 0, 0).UTC(), zones, "", true},
		{"Central lead at 08:30 Eastern", Window{}, at(8, 30, 0), []string{"America/Chicago"}, "", false},
		{"Central lead at 09:00 Eastern", Window{}, at(9, 0, 0), []string{"America/Chicago"}, "", true},
		{"two zones: one still early", Window{}, at(9, 30, 0), []string{"America/Chicago", "America/Denver"}, "", false},
		{"two zones: both open", Window{}, at(10, 0, 0), []string{"America/Chicago", "America/Denver"}, "", true},
		{"two zones: one already closed", Window{}, at(22, 30, 0), []string{"America/Chicago", "America/Denver"}, "", false},
		{"Hawaii and Eastern overlap", Window{}, at(15, 0, 0), []string{"America/New_York", "Pacific/Honolulu"}, "", true},
		{"Florida override closes at 20:00", fl, at(20, 30, 0), zones, "FL", false},
		{"override by state name", fl, at(20, 30, 0), zones, "florida", false},
		{"Georgia keeps 21:00", fl, at(20, 30, 0), zones, "GA", true},
		{"no zones is never allowed", Window{}, at(12, 0, 0), nil, "", false},
		{"unknown zone is never allowed", Window{}, at(12, 0, 0), []string{"Mars/Olympus_Mons"}, "", false},
		{"one bad zone spoils the set", Window{}, at(12, 0, 0), []string{"America/New_York", "Nowhere/Town"}, "", false},
		{"window over midnight, late", Window{Default: Hours{22 * 60, 2 * 60}}, at(23, 0, 0), zones, "", true},
		{"window over midnight, early", Window{Default: Hours{22 * 60, 2 * 60}}, at(1, 59, 59), zones, "", true},
		{"window over midnight, closed", Window{Default: Hours{22 * 60, 2 * 60}}, at(2, 0, 0), zones, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, tt.w.AllowedIn(tt.now, tt.zones, []string{tt.state}))
		})
	}
}

func TestNextAllowed(t *testing.T) {
	t.Parallel()
	ny := mustLoc(t, "America/New_York")
	utc := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		require.NoError(t, err)
		return tm
	}
	tests := []struct {
		name  string
		w     Window
		now   time.Time
		zones []string
		want  time.Time
	}{
		{"already open", Window{}, time.Date(2025, 6, 10, 12, 0, 0, 0, ny), []string{"America/New_York"},
			time.Date(2025, 6, 10, 12, 0, 0, 0, ny)},
		{"after closing: tomorrow 08:00", Window{}, time.Date(2025, 6, 10, 21, 0, 0, 0, ny), []string{"America/New_York"},
			time.Date(2025, 6, 11, 8, 0, 0, 0, ny)},
		{"early morning: today 08:00", Window{}, time.Date(2025, 6, 10, 3, 17, 42, 5, ny), []string{"America/New_York"},
			time.Date(2025, 6, 10, 8, 0, 0, 0, ny)},
		{"two zones: the later one opens", Window{}, time.Date(2025, 6, 10, 6, 0, 0, 0, ny), []string{"America/New_York", "America/Los_Angeles"},
			time.Date(2025, 6, 10, 11, 0, 0, 0, ny)},
		// 2025-03-09 02:00 EST jumps to 03:00 EDT: a window opening at 02:30
		// opens when the clock shows 03:00, at 07:00 UTC.
		{"opening inside spring-forward gap", Window{Default: Hours{150, 1260}}, utc("2025-03-09T06:00:00Z"), []string{"America/New_York"},
			utc("2025-03-09T07:00:00Z")},
		// 2025-11-02 01:59:59 EDT falls back to 01:00 EST: a window closing at
		// 01:30 closes at 05:30 UTC and is open again from 06:00 to 06:30 UTC.
		{"repeated hour re-opens", Window{Default: Hours{22 * 60, 90}}, utc("2025-11-02T05:30:00Z"), []string{"America/New_York"},
			utc("2025-11-02T06:00:00Z")},
		{"London evening to next morning across BST start", Window{}, utc("2025-03-29T21:30:00Z"), []string{"Europe/London"},
			utc("2025-03-30T07:00:00Z")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := tt.w.NextAllowedIn(tt.now, tt.zones, []string{""})
			require.True(t, ok)
			require.True(t, tt.want.Equal(got), "want %s, got %s", tt.want.UTC(), got.UTC())
		})
	}

	t.Run("windows that never overlap", func(t *testing.T) {
		t.Parallel()
		// Morning in New York is afternoon in Berlin, all year round.
		w := Window{Default: Hours{9 * 60, 12 * 60}}
		_, ok := w.NextAllowedIn(utc("2025-06-10T12:00:00Z"), []string{"America/New_York", "Europe/Berlin"}, []string{""})
		require.False(t, ok)
	})
	t.Run("no zones", func(t *testing.T) {
		t.Parallel()
		_, ok := Window{}.NextAllowedIn(utc("2025-06-10T12:00:00Z"), nil, []string{""})
		require.False(t, ok)
	})
}

// independentAllowed recomputes Allowed from the raw UTC offset, without
// Time.Clock or the window code, so the property test checks one against
// the other.
func independentAllowed(t time.Time, locs []*time.Location, h Hours) bool {
	if len(locs) == 0 {
		return false
	}
	for _, loc := range locs {
		_, off := t.In(loc).Zone()
		secs := (t.Unix() + int64(off)) % 86400
		if secs < 0 {
			secs += 86400
		}
		minute := int(secs / 60)
		var in bool
		if h.Start < h.End {
			in = minute >= h.Start && minute < h.End
		} else {
			in = minute >= h.Start || minute < h.End
		}
		if !in {
			return false
		}
	}
	return true
}

var propertyZones = []string{
	"America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
	"America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu", "America/Adak",
	"America/St_Johns", "America/Havana", "America/Santiago", "America/Sao_Paulo",
	"Europe/London", "Europe/Berlin", "Africa/Casablanca", "Asia/Tehran", "Asia/Kathmandu",
	"Australia/Sydney", "Australia/Lord_Howe", "Pacific/Chatham", "Pacific/Auckland", "UTC",
}

var propertyHours = []Hours{
	DefaultHours, {8 * 60, 20 * 60}, {9 * 60, 17*60 + 30}, {150, 1260}, {60, 150},
	{22 * 60, 2 * 60}, {23*60 + 30, 30}, {0, 1440}, {12 * 60, 12*60 + 1}, {0, 1},
}

func randomCase(rng *rand.Rand) (time.Time, []string, Hours) {
	lo := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	hi := time.Date(2030, 12, 31, 0, 0, 0, 0, time.UTC).Unix()
	now := time.Unix(lo+rng.Int64N(hi-lo), rng.Int64N(1e9)).UTC()
	if rng.IntN(4) == 0 { // land exactly on minute boundaries, where windows flip
		now = now.Truncate(time.Minute)
	}
	zones := make([]string, 1+rng.IntN(3))
	for i := range zones {
		zones[i] = propertyZones[rng.IntN(len(propertyZones))]
	}
	return now, zones, propertyHours[rng.IntN(len(propertyHours))]
}

func TestAllowedProperty(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(2020, 2030))
	n := 20000
	if testing.Short() {
		n = 2000
	}
	for range n {
		now, zones, h := randomCase(rng)
		w := Window{Default: h}
		locs := mustLocs(t, zones)
		require.Equal(t, independentAllowed(now, locs, h), w.AllowedIn(now, zones, []string{""}),
			"now=%s zones=%v hours=%s", now.Format(time.RFC3339Nano), zones, h)
	}
}

func TestNextAllowedProperty(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 11))
	n := 1500
	if testing.Short() {
		n = 200
	}
	never := 0
	for range n {
		now, zones, h := randomCase(rng)
		w := Window{Default: h}
		locs := mustLocs(t, zones)
		msg := fmt.Sprintf("now=%s zones=%v hours=%s", now.Format(time.RFC3339Nano), zones, h)
		next, ok := w.NextAllowedIn(now, zones, []string{""})
		// Allowed-ness only changes on whole minutes (offsets and windows are
		// whole minutes), so checking now and every minute after it up to next
		// covers every instant in between.
		end := next
		if !ok {
			end = now.Add(3 * 24 * time.Hour) // spot-check that "never" holds for a while
			never++
		}
		require.False(t, end.Before(now), msg)
		if ok {
			require.True(t, independentAllowed(next, locs, h), "%s: next=%s not allowed", msg, next)
		}
		for m := now; m.Before(end); m = m.Truncate(time.Minute).Add(time.Minute) {
			require.False(t, independentAllowed(m, locs, h), "%s: %s is allowed before next=%s", msg, m, next)
		}
	}
	require.Less(t, never, n/2, "the generator should mostly produce overlapping windows")
}

func TestLoadLocationConcurrent(t *testing.T) {
	t.Parallel()
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			for j := range 200 {
				z := propertyZones[(i+j)%len(propertyZones)]
				loc, err := loadLocation(z)
				require.NoError(t, err)
				require.Equal(t, z, loc.String())
			}
		})
	}
	wg.Wait()
	_, err := loadLocation("No/Such_Zone")
	require.Error(t, err)
	_, err = loadLocation("")
	require.Error(t, err)
}

func BenchmarkAllowed(b *testing.B) {
	w := Window{}
	zones := []string{"America/Chicago", "America/Denver"}
	now := time.Date(2025, 6, 10, 15, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		_ = w.AllowedIn(now, zones, []string{"TX"})
	}
}

func BenchmarkNextAllowed(b *testing.B) {
	w := Window{}
	zones := []string{"America/Chicago", "America/Denver"}
	now := time.Date(2025, 6, 10, 4, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = w.NextAllowedIn(now, zones, []string{"TX"})
	}
}

// A lead is callable at t only if the local time is inside the window in
// every zone its number and its address point to, under the hours of every
// state either places it in: checked against the zones and states worked
// out here straight from the number's time-zone map, a table of area codes
// and the ZIP table, for random area code × ZIP pairs that mostly disagree.
func TestLeadWindowHoldsWhereverAddressOrNumberPutsIt(t *testing.T) {
	t.Parallel()
	areaCodes := map[string]string{ // area code → its state
		"212": "NY", "305": "FL", "206": "WA", "312": "IL", "303": "CO", "602": "AZ", "907": "AK",
		"808": "HI", "208": "ID", "915": "TX", "850": "FL", "270": "KY", "415": "CA", "617": "MA",
		"702": "NV", "605": "SD", "701": "ND", "906": "MI",
	}
	npas := slices.Sorted(maps.Keys(areaCodes))
	zips := []string{"10001", "98101", "33131", "79901", "85004", "96813", "99501", "60601", "32501",
		"83814", "83702", "46402", "57701", "02108", "94103", "80202"}
	w, err := ParseWindow("", map[string]string{"FL": "08:00-20:00", "WA": "08:00-20:00", "TX": "09:00-21:00"})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(11, 2026))
	n := 5000
	if testing.Short() {
		n = 500
	}
	differ := 0
	for range n {
		npa := npas[rng.IntN(len(npas))]
		phone := fmt.Sprintf("+1%s%d%04d", npa, 200+rng.IntN(800), rng.IntN(10000))
		zip := zips[rng.IntN(len(zips))]
		now, _, _ := randomCase(rng)

		tzs, err := phonenumbers.GetTimezonesForPrefix(phone)
		require.NoError(t, err)
		zipState, zipTZs := zipZones(zip)
		require.NotNil(t, zipTZs, zip)
		locs := mustLocs(t, append(slices.Clone(tzs), zipTZs...))
		if !slices.Equal(canonicalZones(slices.Clone(tzs)), canonicalZones(slices.Clone(zipTZs))) {
			differ++
		}
		want := true
		for _, st := range []string{areaCodes[npa], zipState} {
			want = want && independentAllowed(now, locs, w.HoursFor(st))
		}
		zones, states := LeadPlace(phone, "", zip, "")
		require.Equal(t, want, w.AllowedIn(now, zones, states),
			"now=%s phone=%s zip=%s zones=%v states=%v", now.Format(time.RFC3339), phone, zip, zones, states)
	}
	require.Greater(t, differ, n/2, "most pairs should put the lead in different zones")
}

// The example from the issue: a Miami number with a Seattle address may be
// called until 20:00 Miami time (Florida's own window, held in Eastern
// time), not until 21:00 Seattle time, which is midnight in Miami.
func TestMiamiNumberWithSeattleAddress(t *testing.T) {
	t.Parallel()
	zones, states := LeadPlace("+13055550100", "WA", "98101", "US")
	require.Equal(t, []string{"America/Los_Angeles", "America/New_York"}, zones)
	require.Equal(t, []string{"FL", "WA"}, states)
	w, err := ParseWindow("", map[string]string{"FL": "08:00-20:00", "WA": "08:00-20:00"})
	require.NoError(t, err)
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		require.NoError(t, err)
		return tm
	}
	// June: Miami EDT (UTC-4), Seattle PDT (UTC-7).
	require.False(t, w.AllowedIn(at("2026-06-10T14:59:00Z"), zones, states), "Seattle 07:59")
	require.True(t, w.AllowedIn(at("2026-06-10T15:00:00Z"), zones, states), "Seattle 08:00, Miami 11:00")
	require.True(t, w.AllowedIn(at("2026-06-10T23:59:00Z"), zones, states), "Miami 19:59")
	require.False(t, w.AllowedIn(at("2026-06-11T00:00:00Z"), zones, states), "Miami 20:00: Florida's window has closed")
	require.False(t, w.AllowedIn(at("2026-06-11T03:59:00Z"), zones, states), "Seattle 20:59 is midnight in Miami")
	next, ok := w.NextAllowedIn(at("2026-06-11T00:00:00Z"), zones, states)
	require.True(t, ok)
	require.Equal(t, at("2026-06-11T15:00:00Z"), next, "Seattle 08:00 the next morning")
}

// NextAllowedIn with several states' hours finds the first instant at which
// every state's hours hold in every zone.
func TestNextAllowedInProperty(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 5))
	n := 800
	if testing.Short() {
		n = 100
	}
	for range n {
		now, zones, h1 := randomCase(rng)
		h2 := propertyHours[rng.IntN(len(propertyHours))]
		w := Window{Default: DefaultHours, States: map[string]Hours{"FL": h1, "WA": h2}}
		locs := mustLocs(t, zones)
		allowed := func(at time.Time) bool {
			return independentAllowed(at, locs, h1) && independentAllowed(at, locs, h2)
		}
		msg := fmt.Sprintf("now=%s zones=%v FL=%s WA=%s", now.Format(time.RFC3339Nano), zones, h1, h2)
		states := []string{"FL", "WA"}
		require.Equal(t, allowed(now), w.AllowedIn(now, zones, states), msg)
		next, ok := w.NextAllowedIn(now, zones, states)
		end := next
		if !ok {
			end = now.Add(2 * 24 * time.Hour)
		} else {
			require.True(t, allowed(next), "%s: next=%s not allowed", msg, next)
		}
		for m := now; m.Before(end); m = m.Truncate(time.Minute).Add(time.Minute) {
			require.False(t, allowed(m), "%s: %s is allowed before next=%s", msg, m, next)
		}
	}
}
