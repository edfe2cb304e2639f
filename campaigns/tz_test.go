package campaigns

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/nyaruka/phonenumbers"
	"github.com/stretchr/testify/require"
)

func TestLeadZones(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                          string
		phone, state, postal, country string
		want                          []string
	}{
		{name: "ZIP and area code both count", phone: "+14155552671", postal: "10001", want: []string{"America/Los_Angeles", "America/New_York"}},
		{name: "Miami number, Seattle ZIP", phone: "+13055550100", postal: "98101", state: "WA", want: []string{"America/Los_Angeles", "America/New_York"}},
		{name: "toll-free number adds nothing to an address", phone: "+18005550100", postal: "10001", want: []string{"America/New_York"}},
		{name: "ZIP+4", phone: "+12125550100", postal: "10001-1234", want: []string{"America/New_York"}},
		{name: "ZIP with lost leading zero", phone: "+16175550100", postal: "2134", want: []string{"America/New_York"}},
		{name: "El Paso ZIP in Texas", phone: "+19155550100", state: "TX", postal: "79901", want: []string{"America/Denver"}},
		{name: "Austin ZIP 733", postal: "73301", country: "US", want: []string{"America/Chicago"}},
		{name: "Houston ZIP", postal: "77002", state: "TX", want: []string{"America/Chicago"}},
		{name: "Big Bend ZIP straddles", postal: "79830", want: []string{"America/Chicago", "America/Denver"}},
		{name: "Pensacola", postal: "32501", state: "FL", want: []string{"America/Chicago"}},
		{name: "Miami", postal: "33101", state: "Florida", want: []string{"America/New_York"}},
		{name: "Gary, Indiana", postal: "46402", want: []string{"America/Chicago"}},
		{name: "Indianapolis", postal: "46204", want: []string{"America/Indiana/Indianapolis"}},
		{name: "Boise", postal: "83702", want: []string{"America/Boise"}},
		{name: "Coeur d'Alene", postal: "83814", want: []string{"America/Los_Angeles"}},
		{name: "Phoenix", postal: "85001", want: []string{"America/Phoenix"}},
		{name: "Honolulu", postal: "96813", want: []string{"Pacific/Honolulu"}},
		{name: "American Samoa ZIP", postal: "96799", want: []string{"Pacific/Pago_Pago"}},
		{name: "Guam ZIP", postal: "96910", want: []string{"Pacific/Guam"}},
		{name: "San Juan", postal: "00901", want: []string{"America/Puerto_Rico"}},
		{name: "Anchorage", postal: "99501", want: []string{"America/Anchorage"}},
		{name: "ZIP and state disagree: both count", postal: "10001", state: "CA", want: []string{"America/Los_Angeles", "America/New_York"}},

		{name: "state only, one zone", phone: "+14155552671", state: "CA", want: []string{"America/Los_Angeles"}},
		{name: "state only TX", state: "tx", want: []string{"America/Chicago", "America/Denver"}},
		{name: "state only IN", state: "Indiana", want: []string{"America/Chicago", "America/Indiana/Indianapolis"}},
		{name: "state only FL", state: " fl ", want: []string{"America/Chicago", "America/New_York"}},
		{name: "state only KY", state: "KY", want: []string{"America/Chicago", "America/New_York"}},
		{name: "DC by name", state: "Washington D.C.", want: []string{"America/New_York"}},
		{name: "territory as country", country: "PR", want: []string{"America/Puerto_Rico"}},

		{name: "Canadian postal code", phone: "+14165550123", postal: "M5V 3L9", country: "Canada", want: []string{"America/Toronto", "America/Winnipeg"}},
		{name: "Canadian province", state: "BC", country: "CA", want: []string{"America/Creston", "America/Edmonton", "America/Fort_Nelson", "America/Vancouver"}},
		{name: "country CA is not California", phone: "+16045550123", country: "CA", want: []string{"America/Vancouver"}},

		{name: "number only, San Francisco", phone: "+14155552671", want: []string{"America/Los_Angeles"}},
		{name: "number only, Idaho area code spans two zones", phone: "+12085550100", want: []string{"America/Boise", "America/Los_Angeles"}},
		{name: "bad postal falls back to number", phone: "+13125550100", postal: "ABCDE", want: []string{"America/Chicago"}},
		{name: "UK landline", phone: "+442079460958", country: "GB", want: []string{"Europe/London"}},
		{name: "UK mobile keeps every candidate", phone: "+447911123456", want: []string{"Europe/Guernsey", "Europe/Isle_of_Man", "Europe/London"}},
		{name: "UK lead: US state table not used", phone: "+442079460958", state: "ME", postal: "04101", country: "UK", want: []string{"Europe/London"}},
		{name: "Sydney", phone: "+61212345678", country: "AU", want: []string{"Australia/Sydney"}},
		{name: "non-geographic number falls back", phone: "+80012345678", want: []string{FallbackZone}},

		{name: "nothing known", want: nil},
		{name: "invalid phone, nothing else", phone: "+999", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := LeadZones(tt.phone, tt.state, tt.postal, tt.country)
			require.Equal(t, tt.want, got)
			require.True(t, slices.IsSorted(got))
		})
	}
}

// Every zone the tables can produce must load, or Allowed would silently
// refuse every lead in it.
func TestZoneTablesLoad(t *testing.T) {
	t.Parallel()
	check := func(zones []string) {
		for _, z := range zones {
			_, err := time.LoadLocation(z)
			require.NoError(t, err, z)
		}
	}
	for st, zones := range stateZones {
		require.NotEmpty(t, zones, st)
		check(zones)
	}
	for _, zones := range zip3Zones {
		check(zones)
	}
	for st, z := range mainZone {
		check([]string{z})
		require.Contains(t, stateZones[st], z, "main zone of %s must be one of its zones", st)
	}
	check([]string{FallbackZone})
	// A refined ZIP prefix only ever narrows its state's zones.
	for zip3, zones := range zip3Zones {
		st, _ := zipState(strconv.Itoa(zip3) + "01")
		require.NotEmpty(t, st, zip3)
		for _, z := range zones {
			require.Contains(t, stateZones[st], z, "ZIP %03d in %s", zip3, st)
		}
	}
	require.True(t, slices.IsSortedFunc(zip3Ranges, func(a, b zip3Range) int { return a.lo - b.lo }))
	for i := 1; i < len(zip3Ranges); i++ {
		require.Less(t, zip3Ranges[i-1].hi, zip3Ranges[i].lo, "overlapping ZIP ranges")
	}
}

// Every region's example numbers must get at least one zone that loads.
func TestLeadZonesNeverEmptyForValidNumbers(t *testing.T) {
	t.Parallel()
	for region := range phonenumbers.GetSupportedRegions() {
		for _, typ := range []phonenumbers.PhoneNumberType{phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.TOLL_FREE} {
			num := phonenumbers.GetExampleNumberForType(region, typ)
			if num == nil {
				continue
			}
			e164, err := NormalizePhone(phonenumbers.Format(num, phonenumbers.E164), region)
			if err != nil {
				continue // some example numbers are not valid under their own metadata
			}
			zones := LeadZones(e164, "", "", "")
			require.NotEmpty(t, zones, "%s %s", region, e164)
			for _, z := range zones {
				_, err := loadLocation(z)
				require.NoError(t, err, "%s %s", region, e164)
			}
		}
	}
}

func TestNormalizeState(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"tx": "TX", "Texas": "TX", " new  york ": "NY", "D.C.": "DC", "Washington DC": "DC",
		"Québec": "QC", "ON": "ON", "XX": "", "": "", "Narnia": "",
	} {
		require.Equal(t, want, NormalizeState(in), in)
	}
}

func BenchmarkLeadZones(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = LeadZones("+14155552671", "", "", "")
		_ = LeadZones("+14155552671", "TX", "79901", "US")
	}
}
