package leadgen

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
)

// Options shape a generated file.
type Options struct {
	Rows int
	Seed uint64
	// DuplicateEvery makes every Nth row repeat an earlier number in another
	// format (0: none).
	DuplicateEvery int
	// InvalidEvery makes every Nth row an invalid number (0: none).
	InvalidEvery int
}

var (
	firstNames = []string{"Ann", "Bob", "Carmen", "Dmitri", "Emeka", "Fatima", "Grace", "Hiro", "Ines", "José", "Zoë"}
	lastNames  = []string{"Smith", "García", "O'Brien", "Nguyen", "Müller", "Okafor", "Kowalski", "Li", "Patel", "Brown"}
	places     = []struct{ npa, city, state, zip string }{
		{"212", "New York", "NY", "10001"}, {"312", "Chicago", "IL", "60601"}, {"415", "San Francisco", "CA", "94103"},
		{"303", "Denver", "CO", "80202"}, {"713", "Houston", "TX", "77002"}, {"305", "Miami", "FL", "33101"},
		{"206", "Seattle", "WA", "98101"}, {"602", "Phoenix", "AZ", "85004"}, {"808", "Honolulu", "HI", "96813"},
		{"907", "Anchorage", "AK", "99501"}, {"617", "Boston", "MA", "02108"}, {"404", "Atlanta", "GA", "30303"},
	}
)

// Header is the first line of a generated file.
const Header = "phone_number,first_name,last_name,address1,city,state,postal_code,email,segment\n"

// number is the i-th distinct valid number, in one of several formats.
func number(i int, format int) string {
	p := places[i%len(places)]
	line := 2000000 + i/len(places) // exchange 200-999 keeps the number valid
	exch, sub := line/10000, line%10000
	switch format % 4 {
	case 0:
		return fmt.Sprintf("(%s) %03d-%04d", p.npa, exch, sub)
	case 1:
		return fmt.Sprintf("%s.%03d.%04d", p.npa, exch, sub)
	case 2:
		return fmt.Sprintf("+1 %s %03d %04d", p.npa, exch, sub)
	default:
		return fmt.Sprintf("1%s%03d%04d", p.npa, exch, sub)
	}
}

// Write writes a CSV lead file.
func Write(w io.Writer, o Options) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	r := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	if _, err := bw.WriteString(Header); err != nil {
		return err
	}
	distinct := 0
	for row := 1; row <= o.Rows; row++ {
		var phone string
		i := distinct
		switch {
		case o.InvalidEvery > 0 && row%o.InvalidEvery == 0:
			phone = fmt.Sprintf("555-%04d", row%10000)
		case o.DuplicateEvery > 0 && row%o.DuplicateEvery == 0 && distinct > 0:
			i = r.IntN(distinct)
			phone = number(i, row+1)
		default:
			phone = number(distinct, row)
			distinct++
		}
		p := places[i%len(places)]
		first, last := firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
		fmt.Fprintf(bw, "%s,%s,\"%s\",%d Main St,%s,%s,%s,%s.%s%d@example.com,%c\n",
			phone, first, last, 1+r.IntN(9999), p.city, p.state, p.zip, first, "x", row, 'A'+rune(r.IntN(4)))
	}
	return bw.Flush()
}
