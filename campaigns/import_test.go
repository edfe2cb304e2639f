package campaigns_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/charmap"

	"github.com/pacer-dialer/pacer/campaigns"
	"github.com/pacer-dialer/pacer/internal/testdb"
	"github.com/pacer-dialer/pacer/internal/testwait"
)

func rejects(t *testing.T, db *pgxpool.Pool, list campaigns.ListID) map[int]string {
	t.Helper()
	out := map[int]string{}
	require.NoError(t, campaigns.ImportErrors(context.Background(), db, list, func(r campaigns.RejectedRow) error {
		out[r.Line] = r.Reason
		return nil
	}))
	return out
}

func TestImportNastyFileGivesAnExactReportAndKeepsGoodRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	c := newCampaign(t, db, nil)
	_, err := campaigns.AddDNC(ctx, db, campaigns.Global, []string{"+13125550199"}, campaigns.DNCChange{How: campaigns.DNCViaAPI, By: "test"})
	require.NoError(t, err)

	file := "\ufeff" + strings.Join([]string{
		`Phone Number,First Name,Last Name,City,State,Zip,Favourite Colour`,    // 1: header, with a BOM
		`(212) 436-5000,Ann,"O'Brien, Jr.",New York,NY,10001,blue`,             // 2: good, quoted comma
		`212.436.5000,Ann,Again,New York,NY,10001,`,                            // 3: same number, other format
		`+1 212 436 5000,Ann,Third,New York,NY,10001,`,                         // 4: and a third
		`12345,Bad,Number,Nowhere,NY,10001,`,                                   // 5: too short
		`"415 555 1234","Multi","Line ""Quoted""",San Francisco,CA,94103,"red`, // 6: a quoted field over two lines
		`and green"`,                             // 7: (continuation of 6)
		`312-555-0199,Dee,Nc,Chicago,IL,60601,`,  // 8: on the global DNC list
		`,,,,,,`,                                 // 9: blank record, skipped
		`+44 20 7946 0000,Brit,Abroad,London,,,`, // 10: valid abroad
		`713 555 0100,Tex,Two,Houston,TX,77002,teal,extra`, // 11: too many columns
		`not a phone,Words,Only,,,,`,                       // 12
	}, "\r\n") + "\r\n"
	res, err := campaigns.Import(ctx, db, strings.NewReader(file), campaigns.ImportOptions{Campaign: c.ID, Name: "nasty.csv"})
	require.NoError(t, err)
	require.EqualValues(t, 9, res.Rows, "the blank record is not a row")
	require.EqualValues(t, 4, res.Imported) // lines 2, 6, 8, 10
	require.EqualValues(t, 2, res.Duplicates)
	require.EqualValues(t, 3, res.Invalid)
	require.EqualValues(t, 1, res.DNC)
	require.Equal(t, res.Rows, res.Imported+res.Duplicates+res.Invalid)

	got := rejects(t, db, res.List)
	require.Len(t, got, 5)
	require.Equal(t, "duplicate of line 2", got[3])
	require.Equal(t, "duplicate of line 2", got[4])
	require.Contains(t, got[5], `invalid phone number "12345"`)
	require.Contains(t, got[11], "column")
	require.Contains(t, got[12], "invalid phone number")

	var first, last, custom string
	var zones []string
	require.NoError(t, db.QueryRow(ctx, `SELECT l.first_name, l.last_name, l.custom::text, g.zones FROM leads l
		JOIN tz_groups g ON g.id = l.tz_group WHERE l.phone = '+14155551234'`).Scan(&first, &last, &custom, &zones))
	require.Equal(t, "Multi", first)
	require.Equal(t, `Line "Quoted"`, last)
	require.JSONEq(t, `{"Favourite Colour":"red\nand green"}`, custom)
	require.Equal(t, []string{"America/Los_Angeles"}, zones)
	var dnc bool
	require.NoError(t, db.QueryRow(ctx, `SELECT dnc FROM leads WHERE phone = '+13125550199'`).Scan(&dnc))
	require.True(t, dnc, "a DNC number is imported, marked, and never dialled")

	l, err := campaigns.GetList(ctx, db, res.List)
	require.NoError(t, err)
	require.Equal(t, "ready", l.Status)
	require.EqualValues(t, 9, l.RowsRead)

	// A second list with numbers the campaign already has.
	again := importCSV(t, db, c, "phone", "212-436-5000", "212-436-5999")
	require.EqualValues(t, 1, again.Imported)
	require.EqualValues(t, 1, again.Duplicates)
	require.Contains(t, rejects(t, db, again.List)[2], fmt.Sprintf("number already in this campaign (list %d, line 2)", res.List))
}

func TestImportWindows1252AndTSV(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	c := newCampaign(t, db, nil)
	latin, err := charmap.Windows1252.NewEncoder().String("telefono\tnombre\tapellido\n2124365000\tZoë\tMüller\n")
	require.NoError(t, err)
	res, err := campaigns.Import(ctx, db, strings.NewReader(latin), campaigns.ImportOptions{
		Campaign: c.ID, Name: "latin.tsv", Mapping: campaigns.Mapping{"telefono": "phone", "nombre": "first_name", "apellido": "last_name"}})
	require.NoError(t, err)
	require.EqualValues(t, 1, res.Imported)
	var first, last string
	require.NoError(t, db.QueryRow(ctx, `SELECT first_name, last_name FROM leads WHERE list_id = $1`, res.List).Scan(&first, &last))
	require.Equal(t, "Zoë", first)
	require.Equal(t, "Müller", last)
	l, err := campaigns.GetList(ctx, db, res.List)
	require.NoError(t, err)
	require.Equal(t, "tsv", l.Format)
}

func TestImportFileErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	c := newCampaign(t, db, nil)
	_, err := campaigns.Import(ctx, db, strings.NewReader("name,city\nAnn,Paris\n"), campaigns.ImportOptions{Campaign: c.ID})
	require.ErrorContains(t, err, "name")
	require.ErrorContains(t, err, "city", "the error names the columns found")
	_, err = campaigns.Import(ctx, db, strings.NewReader(""), campaigns.ImportOptions{Campaign: c.ID})
	require.ErrorContains(t, err, "empty")
	var lists int
	require.NoError(t, db.QueryRow(ctx, "SELECT count(*) FROM lead_lists").Scan(&lists))
	require.Zero(t, lists, "a file that cannot be read leaves no list behind")

	res := importCSV(t, db, c, "phone,first_name")
	require.Zero(t, res.Rows, "a header alone is an empty list, not an error")
}

// failingReader delivers some rows, then breaks like a dropped upload.
type failingReader struct {
	r     io.Reader
	after int
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.after <= 0 {
		return 0, errors.New("connection reset by peer")
	}
	if len(p) > f.after {
		p = p[:f.after]
	}
	n, err := f.r.Read(p)
	f.after -= n
	return n, err
}

func TestFailedImportLeavesNoPartialList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	c := newCampaign(t, db, nil)
	var b strings.Builder
	b.WriteString("phone\n")
	for i := range 50000 {
		fmt.Fprintf(&b, "+1 212 5%02d %04d\n", i/10000, i%10000)
	}
	_, err := campaigns.Import(ctx, db, &failingReader{r: strings.NewReader(b.String()), after: b.Len() / 2},
		campaigns.ImportOptions{Campaign: c.ID, Name: "broken.csv"})
	require.ErrorContains(t, err, "connection reset by peer")
	var status, msg string
	var leads int
	require.NoError(t, db.QueryRow(ctx, "SELECT status, error FROM lead_lists").Scan(&status, &msg))
	require.Equal(t, "failed", status)
	require.Contains(t, msg, "connection reset")
	require.NoError(t, db.QueryRow(ctx, "SELECT count(*) FROM leads").Scan(&leads))
	require.Zero(t, leads)
}

func TestImportProgressIsObservableWhileItRuns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	c := newCampaign(t, db, nil)
	pr, pw := io.Pipe()
	done := make(chan campaigns.ImportResult, 1)
	go func() {
		res, err := campaigns.Import(ctx, db, pr, campaigns.ImportOptions{Campaign: c.ID, Name: "slow.csv", ProgressEvery: 20 * time.Millisecond})
		if err != nil {
			pr.CloseWithError(err)
		}
		done <- res
	}()
	fmt.Fprintln(pw, "phone")
	for i := range 30000 {
		fmt.Fprintf(pw, "+1 212 6%02d %04d\n", i/10000, i%10000)
	}
	// The first half is in; another connection sees the list importing with
	// rows counted, before the file has ended.
	testwait.Until(t, func() bool {
		var status string
		var rows int64
		err := db.QueryRow(ctx, "SELECT status, rows_read FROM lead_lists WHERE campaign_id = $1", c.ID).Scan(&status, &rows)
		return err == nil && status == "importing" && rows > 10000
	})
	for i := 30000; i < 60000; i++ {
		fmt.Fprintf(pw, "+1 212 6%02d %04d\n", i/10000, i%10000)
	}
	require.NoError(t, pw.Close())
	res := <-done
	require.EqualValues(t, 60000, res.Imported)
}

func TestImportVICIdialLayout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	c := newCampaign(t, db, nil)
	// vendor_lead_code, source_id, list_id, phone_code, phone_number, title, first_name, middle, last_name, address1..3, city, state, province, postal_code
	row := "V123\tSRC\t101\t1\t2124365000\tMs\tJane\tQ\tDoe\t1 Main St\t\t\tAlbany\tNY\t\t12207\n"
	res, err := campaigns.Import(ctx, db, strings.NewReader(row), campaigns.ImportOptions{Campaign: c.ID, Format: campaigns.FormatVICIdial})
	require.NoError(t, err)
	require.EqualValues(t, 1, res.Imported)
	var vendor, first, last, city string
	require.NoError(t, db.QueryRow(ctx, "SELECT vendor_code, first_name, last_name, city FROM leads").Scan(&vendor, &first, &last, &city))
	require.Equal(t, []string{"V123", "Jane", "Doe", "Albany"}, []string{vendor, first, last, city})
}

// An import files each lead under every zone and state its address and its
// number point to, exactly as LeadPlace says, however many leads share an
// area code or an address.
func TestImportPlacesLeadsByAddressAndNumber(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewPool(t)
	c := newCampaign(t, db, nil)
	rows := [][4]string{ // phone, state, postal code, country
		{"+13055550100", "WA", "98101", ""}, {"+13055550101", "", "98101", ""}, {"+13055550102", "", "", ""},
		{"+12065550100", "FL", "33131", "US"}, {"+12065550101", "", "33131", ""}, {"+12085550100", "", "10001", ""},
		{"+12082015550", "", "10001", ""}, {"+18005550100", "", "10001", ""}, {"+18005550101", "", "", ""},
		{"+442079460958", "", "10001", "US"}, {"+442079460959", "", "", "GB"}, {"+14165550123", "", "M5V 3L9", "Canada"},
		{"+19155550100", "TX", "79901", ""}, {"+12125550100", "TX", "", ""},
	}
	lines := []string{"phone,state,postal_code,country"}
	for _, r := range rows {
		lines = append(lines, strings.Join(r[:], ","))
	}
	res := importCSV(t, db, c, lines...)
	require.EqualValues(t, len(rows), res.Imported)
	for _, r := range rows {
		var zones, states []string
		require.NoError(t, db.QueryRow(ctx, `SELECT g.zones, g.states FROM leads l JOIN tz_groups g ON g.id = l.tz_group
			WHERE l.campaign_id = $1 AND l.phone = $2 AND g.complete`, c.ID, r[0]).Scan(&zones, &states))
		wantZones, wantStates := campaigns.LeadPlace(r[0], r[1], r[2], r[3])
		require.Equal(t, wantZones, zones, r)
		require.Equal(t, append([]string{}, wantStates...), states, r)
	}
}
