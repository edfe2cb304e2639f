package campaigns

import (
	"slices"
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// IANA zone names used by the location tables below.
const (
	tzNewYork      = "America/New_York"
	tzChicago      = "America/Chicago"
	tzDenver       = "America/Denver"
	tzBoise        = "America/Boise"
	tzPhoenix      = "America/Phoenix"
	tzLosAngeles   = "America/Los_Angeles"
	tzAnchorage    = "America/Anchorage"
	tzAdak         = "America/Adak"
	tzHonolulu     = "Pacific/Honolulu"
	tzDetroit      = "America/Detroit"
	tzIndianapolis = "America/Indiana/Indianapolis"
)

// FallbackZone is what LeadZones returns for a valid number nothing else
// locates (non-geographic ranges such as +882 or +800): those numbers have no
// local time, and UTC at least keeps calls out of the night in Europe and
// Africa, where most such ranges are billed.
const FallbackZone = "UTC"

// stateZones lists, per US state, DC, territory and Canadian province, every
// zone some part of it keeps. A state spanning two zones gets both: a lead
// known only by its state may only be called when the window is open in all
// of them (DESIGN.md §6). Zones that differ only historically (Kentucky's,
// Indiana's several) are folded into one with today's rules.
var stateZones = map[string][]string{
	"AL": {tzChicago, tzNewYork}, // Phenix City area keeps Eastern time
	"AK": {tzAnchorage, tzAdak},
	"AZ": {tzPhoenix, tzDenver}, // the Navajo Nation observes DST
	"AR": {tzChicago},
	"CA": {tzLosAngeles},
	"CO": {tzDenver},
	"CT": {tzNewYork},
	"DE": {tzNewYork},
	"DC": {tzNewYork},
	"FL": {tzNewYork, tzChicago},
	"GA": {tzNewYork},
	"HI": {tzHonolulu},
	"ID": {tzBoise, tzLosAngeles},
	"IL": {tzChicago},
	"IN": {tzIndianapolis, tzChicago},
	"IA": {tzChicago},
	"KS": {tzChicago, tzDenver},
	"KY": {tzNewYork, tzChicago},
	"LA": {tzChicago},
	"ME": {tzNewYork},
	"MD": {tzNewYork},
	"MA": {tzNewYork},
	"MI": {tzDetroit, tzChicago},
	"MN": {tzChicago},
	"MS": {tzChicago},
	"MO": {tzChicago},
	"MT": {tzDenver},
	"NE": {tzChicago, tzDenver},
	"NV": {tzLosAngeles, tzDenver}, // West Wendover keeps Mountain time
	"NH": {tzNewYork},
	"NJ": {tzNewYork},
	"NM": {tzDenver},
	"NY": {tzNewYork},
	"NC": {tzNewYork},
	"ND": {tzChicago, tzDenver},
	"OH": {tzNewYork},
	"OK": {tzChicago},
	"OR": {tzLosAngeles, tzBoise},
	"PA": {tzNewYork},
	"RI": {tzNewYork},
	"SC": {tzNewYork},
	"SD": {tzChicago, tzDenver},
	"TN": {tzChicago, tzNewYork},
	"TX": {tzChicago, tzDenver},
	"UT": {tzDenver},
	"VT": {tzNewYork},
	"VA": {tzNewYork},
	"WA": {tzLosAngeles},
	"WV": {tzNewYork},
	"WI": {tzChicago},
	"WY": {tzDenver},

	"PR": {"America/Puerto_Rico"},
	"VI": {"America/St_Thomas"},
	"GU": {"Pacific/Guam"},
	"MP": {"Pacific/Saipan"},
	"AS": {"Pacific/Pago_Pago"},
	"PW": {"Pacific/Palau"},
	"FM": {"Pacific/Chuuk", "Pacific/Pohnpei", "Pacific/Kosrae"},
	"MH": {"Pacific/Majuro", "Pacific/Kwajalein"},

	"AB": {"America/Edmonton"},
	"BC": {"America/Vancouver", "America/Edmonton", "America/Creston", "America/Fort_Nelson"},
	"MB": {"America/Winnipeg"},
	"NB": {"America/Moncton"},
	"NL": {"America/St_Johns", "America/Goose_Bay"},
	"NS": {"America/Halifax"},
	"NT": {"America/Yellowknife"},
	"NU": {"America/Iqaluit", "America/Rankin_Inlet", "America/Cambridge_Bay"},
	"ON": {"America/Toronto", "America/Winnipeg"},
	"PE": {"America/Halifax"},
	"QC": {"America/Toronto", "America/Blanc-Sablon"},
	"SK": {"America/Regina", "America/Edmonton"}, // Lloydminster follows Alberta
	"YT": {"America/Whitehorse"},
}

// stateNames maps full names, as lead files spell them, to the codes above.
var stateNames = map[string]string{
	"ALABAMA": "AL", "ALASKA": "AK", "ARIZONA": "AZ", "ARKANSAS": "AR", "CALIFORNIA": "CA",
	"COLORADO": "CO", "CONNECTICUT": "CT", "DELAWARE": "DE", "DISTRICT OF COLUMBIA": "DC",
	"WASHINGTON DC": "DC", "FLORIDA": "FL", "GEORGIA": "GA",
	"HAWAII": "HI", "IDAHO": "ID", "ILLINOIS": "IL", "INDIANA": "IN", "IOWA": "IA",
	"KANSAS": "KS", "KENTUCKY": "KY", "LOUISIANA": "LA", "MAINE": "ME", "MARYLAND": "MD",
	"MASSACHUSETTS": "MA", "MICHIGAN": "MI", "MINNESOTA": "MN", "MISSISSIPPI": "MS",
	"MISSOURI": "MO", "MONTANA": "MT", "NEBRASKA": "NE", "NEVADA": "NV",
	"NEW HAMPSHIRE": "NH", "NEW JERSEY": "NJ", "NEW MEXICO": "NM", "NEW YORK": "NY",
	"NORTH CAROLINA": "NC", "NORTH DAKOTA": "ND", "OHIO": "OH", "OKLAHOMA": "OK",
	"OREGON": "OR", "PENNSYLVANIA": "PA", "RHODE ISLAND": "RI", "SOUTH CAROLINA": "SC",
	"SOUTH DAKOTA": "SD", "TENNESSEE": "TN", "TEXAS": "TX", "UTAH": "UT", "VERMONT": "VT",
	"VIRGINIA": "VA", "WASHINGTON": "WA", "WEST VIRGINIA": "WV", "WISCONSIN": "WI",
	"WYOMING": "WY", "PUERTO RICO": "PR", "VIRGIN ISLANDS": "VI",
	"US VIRGIN ISLANDS": "VI", "GUAM": "GU", "NORTHERN MARIANA ISLANDS": "MP",
	"AMERICAN SAMOA": "AS", "PALAU": "PW", "MICRONESIA": "FM", "MARSHALL ISLANDS": "MH",
	"ALBERTA": "AB", "BRITISH COLUMBIA": "BC", "MANITOBA": "MB", "NEW BRUNSWICK": "NB",
	"NEWFOUNDLAND AND LABRADOR": "NL", "NEWFOUNDLAND": "NL", "NOVA SCOTIA": "NS",
	"NORTHWEST TERRITORIES": "NT", "NUNAVUT": "NU", "ONTARIO": "ON",
	"PRINCE EDWARD ISLAND": "PE", "QUEBEC": "QC", "QUÉBEC": "QC", "SASKATCHEWAN": "SK",
	"YUKON": "YT",
}

// NormalizeState returns the two-letter code for a US state, DC, US
// territory or Canadian province given by code or full name, or "" when it
// is none of those.
func NormalizeState(s string) string {
	s = strings.Join(strings.Fields(strings.ToUpper(strings.ReplaceAll(s, ".", ""))), " ")
	if len(s) == 2 {
		if _, ok := stateZones[s]; ok {
			return s
		}
		return ""
	}
	return stateNames[s]
}

// zip3Range assigns ZIP codes whose first three digits fall in [lo, hi] to a
// state. Military (AA/AE/AP) and unassigned prefixes are absent on purpose:
// they say nothing about the local time.
type zip3Range struct {
	lo, hi int
	state  string
}

var zip3Ranges = []zip3Range{
	{5, 5, "NY"}, {6, 7, "PR"}, {8, 8, "VI"}, {9, 9, "PR"},
	{10, 27, "MA"}, {28, 29, "RI"}, {30, 38, "NH"}, {39, 49, "ME"},
	{50, 54, "VT"}, {55, 55, "MA"}, {56, 59, "VT"}, {60, 69, "CT"},
	{70, 89, "NJ"}, {100, 149, "NY"}, {150, 196, "PA"}, {197, 199, "DE"},
	{200, 200, "DC"}, {201, 201, "VA"}, {202, 205, "DC"}, {206, 219, "MD"},
	{220, 246, "VA"}, {247, 268, "WV"}, {270, 289, "NC"}, {290, 299, "SC"},
	{300, 319, "GA"}, {320, 339, "FL"}, {341, 349, "FL"}, {350, 369, "AL"},
	{370, 385, "TN"}, {386, 397, "MS"}, {398, 399, "GA"}, {400, 427, "KY"},
	{430, 459, "OH"}, {460, 479, "IN"}, {480, 499, "MI"}, {500, 528, "IA"},
	{530, 549, "WI"}, {550, 567, "MN"}, {569, 569, "DC"}, {570, 577, "SD"},
	{580, 588, "ND"}, {590, 599, "MT"}, {600, 629, "IL"}, {630, 658, "MO"},
	{660, 679, "KS"}, {680, 693, "NE"}, {700, 714, "LA"}, {716, 729, "AR"},
	{730, 732, "OK"}, {733, 733, "TX"}, {734, 749, "OK"}, {750, 799, "TX"},
	{800, 816, "CO"}, {820, 831, "WY"}, {832, 838, "ID"}, {840, 847, "UT"},
	{850, 865, "AZ"}, {870, 884, "NM"}, {885, 885, "TX"}, {889, 898, "NV"},
	{900, 961, "CA"}, {967, 968, "HI"}, {970, 979, "OR"}, {980, 994, "WA"},
	{995, 999, "AK"},
}

// zip5Territories covers the Pacific territories and freely associated
// states that share ZIP prefixes 967 and 969.
var zip5Territories = []zip3Range{ // lo/hi are full five-digit ZIPs here
	{96799, 96799, "AS"},
	{96910, 96932, "GU"},
	{96939, 96940, "PW"},
	{96941, 96944, "FM"},
	{96950, 96952, "MP"},
	{96960, 96970, "MH"},
}

// zip3Zones narrows a multi-zone state by ZIP prefix where the prefix lies
// wholly in one zone; a prefix straddling the line keeps both.
var zip3Zones = map[int][]string{
	// Texas: El Paso is Mountain; 798 mixes El Paso county with Big Bend (Central).
	798: {tzChicago, tzDenver}, 799: {tzDenver}, 885: {tzDenver},
	// Florida panhandle west of the Apalachicola; Gulf County (324) is split.
	324: {tzChicago, tzNewYork}, 325: {tzChicago},
	// Indiana: Gary and Evansville areas are Central.
	463: {tzChicago, tzIndianapolis}, 464: {tzChicago}, 475: {tzChicago, tzIndianapolis},
	476: {tzChicago, tzIndianapolis}, 477: {tzChicago},
	// Kentucky: the west is Central, the middle is split.
	420: {tzChicago}, 421: {tzChicago}, 422: {tzChicago}, 423: {tzChicago}, 424: {tzChicago},
	425: {tzChicago, tzNewYork}, 426: {tzChicago, tzNewYork}, 427: {tzChicago, tzNewYork},
	// Tennessee: the east is Eastern; 373 includes Central counties.
	373: {tzChicago, tzNewYork}, 374: {tzNewYork}, 376: {tzNewYork}, 377: {tzNewYork},
	378: {tzNewYork}, 379: {tzNewYork},
	// North Dakota: the south-west is Mountain.
	585: {tzChicago, tzDenver}, 586: {tzChicago, tzDenver}, 588: {tzChicago, tzDenver},
	// South Dakota: west of the Missouri is Mountain.
	575: {tzChicago, tzDenver}, 576: {tzChicago, tzDenver}, 577: {tzDenver},
	// Nebraska: the panhandle and sandhills are Mountain or split.
	691: {tzChicago, tzDenver}, 692: {tzChicago, tzDenver}, 693: {tzChicago, tzDenver},
	// Kansas: four western counties are Mountain.
	677: {tzChicago, tzDenver}, 678: {tzChicago, tzDenver},
	// Oregon: Malheur County is Mountain.
	979: {tzLosAngeles, tzBoise},
	// Idaho: the panhandle is Pacific.
	835: {tzBoise, tzLosAngeles}, 838: {tzLosAngeles},
	// Michigan: four Upper Peninsula counties are Central.
	498: {tzDetroit, tzChicago}, 499: {tzDetroit, tzChicago},
	// Arizona: the Navajo Nation keeps DST.
	860: {tzPhoenix, tzDenver}, 865: {tzPhoenix, tzDenver},
	// Nevada: West Wendover.
	898: {tzLosAngeles, tzDenver},
	// Alaska: the Aleutians west of 169.5°W.
	996: {tzAnchorage, tzAdak},
	// Alabama: Phenix City.
	368: {tzChicago, tzNewYork},
}

// mainZone is the zone of a multi-zone state's ZIPs that zip3Zones does not
// list: those prefixes lie wholly in the state's main zone.
var mainZone = map[string]string{
	"TX": tzChicago, "FL": tzNewYork, "IN": tzIndianapolis, "KY": tzNewYork,
	"TN": tzChicago, "ND": tzChicago, "SD": tzChicago, "NE": tzChicago,
	"KS": tzChicago, "OR": tzLosAngeles, "ID": tzBoise, "MI": tzDetroit,
	"AZ": tzPhoenix, "NV": tzLosAngeles, "AK": tzAnchorage, "AL": tzChicago,
}

// zipState returns the state of a US ZIP (5 digits, ZIP+4, or 3-4 digits
// whose leading zeros a spreadsheet dropped) and its three-digit prefix.
func zipState(postal string) (state string, zip3 int) {
	digits := make([]byte, 0, 9)
	for i := 0; i < len(postal); i++ {
		c := postal[i]
		switch {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
		case c == '-' || c == ' ':
			if len(digits) != 5 { // only ZIP+4 may have a separator
				return "", 0
			}
		default:
			return "", 0
		}
	}
	switch len(digits) {
	case 3, 4:
		digits = append([]byte(strings.Repeat("0", 5-len(digits))), digits...)
	case 5, 9:
	default:
		return "", 0
	}
	zip5 := 0
	for _, c := range digits[:5] {
		zip5 = zip5*10 + int(c-'0')
	}
	zip3 = zip5 / 100
	if zip3 == 967 || zip3 == 969 {
		for _, r := range zip5Territories {
			if zip5 >= r.lo && zip5 <= r.hi {
				return r.state, zip3
			}
		}
		if zip3 == 969 {
			return "", 0
		}
	}
	i, found := slices.BinarySearchFunc(zip3Ranges, zip3, func(r zip3Range, z int) int {
		switch {
		case r.hi < z:
			return -1
		case r.lo > z:
			return 1
		}
		return 0
	})
	if !found {
		return "", 0
	}
	return zip3Ranges[i].state, zip3
}

// zipZones returns the zones for a US ZIP code, or nil if it is not one.
func zipZones(postal string) (state string, zones []string) {
	state, zip3 := zipState(postal)
	if state == "" {
		return "", nil
	}
	if z, ok := zip3Zones[zip3]; ok {
		return state, z
	}
	if z, ok := mainZone[state]; ok {
		return state, []string{z}
	}
	return state, stateZones[state]
}

// canadaProvinceByLetter maps the first letter of a Canadian postal code.
var canadaProvinceByLetter = map[byte]string{
	'A': "NL", 'B': "NS", 'C': "PE", 'E': "NB", 'G': "QC", 'H': "QC", 'J': "QC",
	'K': "ON", 'L': "ON", 'M': "ON", 'N': "ON", 'P': "ON", 'R': "MB", 'S': "SK",
	'T': "AB", 'V': "BC", 'Y': "YT",
	// X is shared by the Northwest Territories and Nunavut.
}

func canadaPostalZones(postal string) (province string, zones []string) {
	p := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(postal), " ", ""))
	if len(p) != 6 || p[0] < 'A' || p[0] > 'Z' || p[1] < '0' || p[1] > '9' {
		return "", nil
	}
	if p[0] == 'X' {
		return "", append(slices.Clone(stateZones["NT"]), stateZones["NU"]...)
	}
	province = canadaProvinceByLetter[p[0]]
	return province, stateZones[province]
}

var countrySquasher = strings.NewReplacer(".", "", " ", "")

// normalizeCountry reduces the spellings lead files use to "US", "CA", "" or
// the upper-cased input.
func normalizeCountry(c string) string {
	c = strings.ToUpper(strings.TrimSpace(c))
	switch countrySquasher.Replace(c) {
	case "":
		return ""
	case "US", "USA", "UNITEDSTATES", "UNITEDSTATESOFAMERICA", "AMERICA":
		return "US"
	case "CA", "CAN", "CANADA":
		return "CA"
	}
	return c
}

// LeadZones returns the sorted, de-duplicated IANA zones a lead may be in:
// LeadPlace's zones.
func LeadZones(phoneE164, state, postal, country string) []string {
	zones, _ := LeadPlace(phoneE164, state, postal, country)
	return zones
}

// LeadPlace returns every IANA zone and every state (codes as
// NormalizeState returns them) a lead may be in, sorted and de-duplicated.
// The calling window must hold in all of them (DESIGN.md §6): a Miami number
// with a Seattle address is called only while it is daytime in both.
//
// The address: for a North American lead (country US or CA, a US territory,
// or no country and a +1 or empty phone) the postal code and the state (code
// or full name) both count. A US ZIP is placed in a state by its three-digit
// prefix and narrowed to one zone where the prefix lies wholly in one; when
// the ZIP's state and the lead's state disagree, both contribute, since
// either may be the stale one.
//
// The number: its prefix's zones (phonenumbers' time-zone map, every
// candidate, so an area code spanning two zones yields both) and, for a
// North American number, its area code's state or province. A number that
// places its holder nowhere narrower than a country of several zones
// (toll-free and other non-geographic ranges) adds nothing to an address.
//
// Fallback: when the address places nothing, a valid number the map does
// not place gets FallbackZone. Nil zones mean nothing is known (no usable
// address and no valid phone); callers must treat such a lead as never
// callable, which is what Allowed does with no zones.
func LeadPlace(phoneE164, state, postal, country string) (zones, states []string) {
	zones, states = addressPlace(phoneE164 == "" || strings.HasPrefix(phoneE164, "+1"), state, postal, country)
	numZones, numState := numberPlace(phoneE164)
	if numState != "" {
		states = append(states, numState)
	}
	if zones == nil {
		zones = phoneZones(phoneE164) // with the fallbacks numberPlace leaves out
	} else {
		zones = append(zones, numZones...)
	}
	return canonicalZones(zones), canonicalZones(states)
}

// canonicalZones sorts zones (or states) and drops repeats, in place.
func canonicalZones(zones []string) []string {
	slices.Sort(zones)
	return slices.Compact(zones)
}

// addressPlace is LeadPlace's answer from the address alone (unsorted):
// zones nil when the address does not place the lead, and the states it
// names (the lead's own, its ZIP's or postal code's); nanpPhone says the
// number is North American (or absent).
func addressPlace(nanpPhone bool, state, postal, country string) (zones, states []string) {
	cc := normalizeCountry(country)
	northAmerican := isNANPRegion(cc) || (cc == "" && nanpPhone)
	if !northAmerican {
		return nil, nil
	}
	st := NormalizeState(state)
	if st != "" {
		states = append(states, st)
	}
	if cc == "" || (cc != "CA" && isNANPRegion(cc)) { // US and its territories
		if zipSt, z := zipZones(postal); z != nil {
			zones = append(zones, z...)
			if st != "" && st != zipSt {
				zones = append(zones, stateZones[st]...)
			}
			states = append(states, zipSt)
		}
	}
	if zones == nil && (cc == "" || cc == "CA") {
		if prov, z := canadaPostalZones(postal); z != nil {
			zones = append(zones, z...)
			if st != "" && st != prov {
				zones = append(zones, stateZones[st]...)
			}
			if prov != "" {
				states = append(states, prov)
			}
		}
	}
	if zones == nil && st != "" {
		zones = append(zones, stateZones[st]...)
	}
	if zones == nil && cc != "CA" && stateZones[cc] != nil {
		zones = append(zones, stateZones[cc]...) // country given as PR, GU, ...
		states = append(states, cc)
	}
	return zones, states
}

// numberPlace returns the zones and the state (North American numbers only)
// a number places its holder in, or nothing when it places them no narrower
// than its whole country and that country keeps several zones.
func numberPlace(e164 string) (zones []string, state string) {
	zones = phoneZones(e164)
	if len(zones) == 0 {
		return nil, ""
	}
	if country := countryZones(e164); len(country) > 1 && slices.Equal(country, zones) {
		return nil, ""
	}
	if strings.HasPrefix(e164, "+1") && len(e164) == 12 {
		state = areaCodeState(e164)
	}
	return zones, state
}

// zoneTableEntry identifies the entry of phonenumbers' time-zone table a
// number falls under, or nil for none: the library hands out the table's
// own slice, so its address names the entry. Two numbers with the same
// entry (and, in North America, the same area code) get the same
// numberPlace, which lets an import remember it per entry without copying
// or sorting anything per lead.
func zoneTableEntry(e164 string) *string {
	tzs := zoneTable(e164)
	if len(tzs) == 0 || tzs[0] == phonenumbers.UNKNOWN_TIMEZONE {
		return nil
	}
	return &tzs[0]
}

// countryZones returns the zones phonenumbers gives a number's whole
// country code (country codes are prefix-free, so the first prefix found is
// the country's).
func countryZones(e164 string) []string {
	for k := 2; k <= 4 && k <= len(e164); k++ {
		tzs, err := phonenumbers.GetTimezonesForPrefix(e164[:k])
		if err == nil && len(tzs) > 0 && tzs[0] != phonenumbers.UNKNOWN_TIMEZONE {
			return tzs
		}
	}
	return nil
}

// areaCodes memoises areaCodeState per "+1NPA": an area code lies in one
// state or province, and geocoding parses the number.
var areaCodes sync.Map // "+1NPA" → state code or ""

// areaCodeState returns the state or province of a North American number's
// area code from phonenumbers' geocoding ("Florida", "Miami, FL",
// "Washington State"), or "" for a range that has none (toll-free).
func areaCodeState(e164 string) string {
	key := e164[:5]
	if st, ok := areaCodes.Load(key); ok {
		return st.(string)
	}
	st := ""
	if num, err := phonenumbers.Parse(e164, ""); err == nil {
		if desc, err := phonenumbers.GetGeocodingForNumber(num, "en"); err == nil {
			if _, code, ok := strings.Cut(desc, ", "); ok {
				desc = code
			}
			st = NormalizeState(strings.TrimSuffix(desc, " State"))
		}
	}
	areaCodes.Store(key, st)
	return st
}

// zoneTable returns phonenumbers' time-zone table entry for an E.164
// number (the table's own slice: never modify it), nil for anything else.
func zoneTable(e164 string) []string {
	if len(e164) < 2 || e164[0] != '+' {
		return nil
	}
	for _, c := range e164[1:] {
		if c < '0' || c > '9' {
			return nil
		}
	}
	tzs, err := phonenumbers.GetTimezonesForPrefix(e164)
	if err != nil {
		return nil
	}
	return tzs
}

func phoneZones(e164 string) []string {
	tzs := zoneTable(e164)
	if tzs == nil {
		return nil
	}
	var out []string
	for _, z := range tzs {
		if z != phonenumbers.UNKNOWN_TIMEZONE {
			out = append(out, z)
		}
	}
	if out != nil {
		return out
	}
	if num, err := phonenumbers.Parse(e164, ""); err == nil && phonenumbers.IsValidNumber(num) {
		return []string{FallbackZone}
	}
	return nil
}
