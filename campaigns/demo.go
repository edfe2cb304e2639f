package campaigns

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/jackc/pgx/v5/pgxpool"
)

// DemoName is the name of the campaign a first start creates.
const DemoName = "Demo"

// DemoLeads is how many synthetic leads the demo campaign gets.
const DemoLeads = 5000

// demoLockKey serialises demo creation across nodes starting together
// ("pacerdmo" in ASCII).
const demoLockKey int64 = 0x7061636572646d6f

// demoPlaces spread the synthetic leads over the US time zones: area code,
// city, state and a ZIP in that city (the ZIP pins the zone).
var demoPlaces = []struct{ area, city, state, zip string }{
	{"212", "New York", "NY", "10001"}, {"617", "Boston", "MA", "02108"}, {"305", "Miami", "FL", "33131"},
	{"404", "Atlanta", "GA", "30303"}, {"312", "Chicago", "IL", "60601"}, {"214", "Dallas", "TX", "75201"},
	{"612", "Minneapolis", "MN", "55401"}, {"303", "Denver", "CO", "80202"}, {"602", "Phoenix", "AZ", "85004"},
	{"415", "San Francisco", "CA", "94103"}, {"206", "Seattle", "WA", "98101"}, {"907", "Anchorage", "AK", "99501"},
	{"808", "Honolulu", "HI", "96813"},
}

var (
	demoFirst = []string{"James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
		"Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Carlos",
		"Maria", "Wei", "Aisha", "Hiroshi", "Fatima"}
	demoLast = []string{"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
		"Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Nguyen",
		"Chen", "Patel", "Kim", "Okafor", "Schmidt"}
)

// EnsureDemo creates, on a database without any campaign, the active
// predictive campaign "Demo" with DemoLeads synthetic leads imported through
// Import, marked simulated and so callable all day. It returns the
// campaign and whether it was created now; with campaigns present it does
// nothing. Safe when several nodes start at once.
func EnsureDemo(ctx context.Context, pool *pgxpool.Pool) (Campaign, bool, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return Campaign{}, false, fmt.Errorf("demo campaign: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", demoLockKey); err != nil {
		return Campaign{}, false, fmt.Errorf("demo campaign: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", demoLockKey)

	var any bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM campaigns)").Scan(&any); err != nil {
		return Campaign{}, false, fmt.Errorf("demo campaign: %w", err)
	}
	if any {
		return Campaign{}, false, nil
	}
	c, err := Create(ctx, pool, DemoName, map[string]string{
		"mode":         string(ModePredictive),
		"simulated":    "true",
		"window_start": "00:00",
		"window_end":   "24:00",
		"window_note": "Open all day because the campaign is simulated: no real person is called. " +
			"Set 08:00-21:00 (the legal default) and simulated to false before pointing it at a real trunk.",
		"caller_id":    "+12025550143",
		"info_message": "This was Pacer Demo calling. To call us back or opt out, dial 202 555 0143.",
		"script":       "Hello, this is {agent} from Pacer Demo. Do you have a minute to hear about our offer?",
	})
	if err != nil {
		return Campaign{}, false, fmt.Errorf("create demo campaign: %w", err)
	}
	csv := demoLeadFile(DemoLeads)
	if _, err := Import(ctx, pool, bytes.NewReader(csv), ImportOptions{Campaign: c.ID, Name: "demo-leads.csv",
		Format: FormatCSV, Size: int64(len(csv))}); err != nil {
		return c, true, fmt.Errorf("import demo leads: %w", err)
	}
	c, err = SetStatus(ctx, pool, c.ID, StatusActive)
	if err != nil {
		return c, true, err
	}
	return c, true, nil
}

// demoLeadFile is a CSV of n synthetic leads with distinct, valid US
// numbers (exchanges 200-999 except N11 and 555), the same for every run.
func demoLeadFile(n int) []byte {
	rng := rand.New(rand.NewPCG(2026, uint64(n)))
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"phone_number", "first_name", "last_name", "city", "state", "postal_code"})
	seen := make(map[string]bool, n)
	for len(seen) < n {
		p := demoPlaces[rng.IntN(len(demoPlaces))]
		exch := 200 + rng.IntN(800)
		if exch%100 == 11 || exch == 555 {
			continue
		}
		phone := p.area + strconv.Itoa(exch) + fmt.Sprintf("%04d", rng.IntN(10000))
		if seen[phone] {
			continue
		}
		seen[phone] = true
		_ = w.Write([]string{phone, demoFirst[rng.IntN(len(demoFirst))], demoLast[rng.IntN(len(demoLast))],
			p.city, p.state, p.zip})
	}
	w.Flush()
	return buf.Bytes()
}
