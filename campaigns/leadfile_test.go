package campaigns

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

func readAll(t testing.TB, input []byte, opts ReadOptions) (*LeadReader, []LeadRow) {
	t.Helper()
	r, err := NewLeadReader(bytes.NewReader(input), opts)
	require.NoError(t, err)
	var rows []LeadRow
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return r, rows
		}
		require.NoError(t, err)
		rows = append(rows, row)
	}
}

func cp1252Bytes(t testing.TB, s string) []byte {
	t.Helper()
	b, err := charmap.Windows1252.NewEncoder().Bytes([]byte(s))
	require.NoError(t, err)
	return b
}

// rowView is what the table tests compare: enough to pin every decision
// without spelling out every empty field.
type rowView struct {
	Line   int
	Phone  string
	First  string
	Last   string
	City   string
	Custom map[string]string
	Err    error
}

func view(rows []LeadRow) []rowView {
	out := make([]rowView, len(rows))
	for i, r := range rows {
		out[i] = rowView{Line: r.Line, Phone: r.Phone, First: r.FirstName, Last: r.LastName, City: r.City, Custom: r.Custom, Err: r.Err}
	}
	return out
}

func TestLeadReaderFiles(t *testing.T) {
	t.Parallel()
	zoe := cp1252Bytes(t, "phone,first_name,last_name\n4155552671,Zoë,Müller\n4155552672,Renée,O’Brien\n")
	tests := []struct {
		name      string
		input     []byte
		opts      ReadOptions
		wantDelim byte
		wantCols  []string
		want      []rowView
	}{
		{
			name:      "plain comma file, forgiving header names",
			input:     []byte("Phone Number,FIRST NAME,last-name,City\n(415) 555-2671,Ann,Lee,SF\n"),
			wantDelim: ',',
			wantCols:  []string{"Phone Number", "FIRST NAME", "last-name", "City"},
			want:      []rowView{{Line: 2, Phone: "(415) 555-2671", First: "Ann", Last: "Lee", City: "SF"}},
		},
		{
			name:      "semicolon file with decimal commas",
			input:     []byte("telephone;firstname;balance\n4155552671;Ann;12,50\n4155552672;Bob;3,00\n"),
			wantDelim: ';',
			want: []rowView{
				{Line: 2, Phone: "4155552671", First: "Ann", Custom: map[string]string{"balance": "12,50"}},
				{Line: 3, Phone: "4155552672", First: "Bob", Custom: map[string]string{"balance": "3,00"}},
			},
		},
		{
			name:      "tab file",
			input:     []byte("number\tfirst\tnotes\n4155552671\tAnn\tcall after 5, not before\n"),
			wantDelim: '\t',
			want:      []rowView{{Line: 2, Phone: "4155552671", First: "Ann", Custom: map[string]string{"notes": "call after 5, not before"}}},
		},
		{
			name:      "pipe file",
			input:     []byte("phone|first_name|city\r\n4155552671|Ann|Reno\r\n"),
			wantDelim: '|',
			want:      []rowView{{Line: 2, Phone: "4155552671", First: "Ann", City: "Reno"}},
		},
		{
			name: "quoted commas, quotes and newlines; line numbers are where records start",
			input: []byte("phone,first_name,address1,city\n" +
				"4155552671,\"Lee, Ann\",\"1 Main St\nApt 2\",SF\n" +
				"4155552672, \"Bob \"\"Bobby\"\" Jones\",\"\",LA\n" +
				"4155552673,Kim,x,NY\n"),
			wantDelim: ',',
			want: []rowView{
				{Line: 2, Phone: "4155552671", First: "Lee, Ann", City: "SF"},
				{Line: 4, Phone: "4155552672", First: `Bob "Bobby" Jones`, City: "LA"},
				{Line: 5, Phone: "4155552673", First: "Kim", City: "NY"},
			},
		},
		{
			name:  "stray quotes stay literal",
			input: []byte("phone,first_name,last_name\n4155552671,Ann \"Annie\",O\"Neil\n4155552672,\"Bo\"b,Lee\n"),
			want: []rowView{
				{Line: 2, Phone: "4155552671", First: `Ann "Annie"`, Last: `O"Neil`},
				{Line: 3, Phone: "4155552672", First: "Bob", Last: "Lee"},
			},
		},
		{
			name:  "unterminated quote rejects one line only",
			input: []byte("phone,first_name\n4155552671,\"Ann\n4155552672,Bob\n4155552673,Cy\n"),
			want: []rowView{
				{Line: 2, Err: ErrUnterminatedQuote},
				{Line: 3, Phone: "4155552672", First: "Bob"},
				{Line: 4, Phone: "4155552673", First: "Cy"},
			},
		},
		{
			name:  "UTF-8 BOM",
			input: []byte("\xEF\xBB\xBFphone,first_name\n4155552671,Zoë\n"),
			want:  []rowView{{Line: 2, Phone: "4155552671", First: "Zoë"}},
		},
		{
			name:  "Windows-1252 names",
			input: zoe,
			want: []rowView{
				{Line: 2, Phone: "4155552671", First: "Zoë", Last: "Müller"},
				{Line: 3, Phone: "4155552672", First: "Renée", Last: "O’Brien"},
			},
		},
		{
			name:  "Windows-1252 appearing late is decided per record",
			input: append([]byte("phone,first_name\n4155552671,Zoë\n"), cp1252Bytes(t, "4155552672,Zoë\n")...),
			want: []rowView{
				{Line: 2, Phone: "4155552671", First: "Zoë"},
				{Line: 3, Phone: "4155552672", First: "Zoë"},
			},
		},
		{
			name:  "UTF-16 LE with BOM (Excel Unicode Text)",
			input: utf16LE(t, "phone\tfirst_name\r\n4155552671\tZoë\r\n"),
			want:  []rowView{{Line: 2, Phone: "4155552671", First: "Zoë"}},
		},
		{
			name:  "wrong column counts are rejected with the reason",
			input: []byte("phone,first_name,last_name\n4155552671,Ann\n4155552672,Bob,Lee,extra\n4155552673,Cy,Wu,,\n"),
			want: []rowView{
				{Line: 2, Err: ErrTooFewColumns},
				{Line: 3, Err: ErrTooManyColumns},
				{Line: 4, Phone: "4155552673", First: "Cy", Last: "Wu"},
			},
		},
		{
			name:  "short rows padded on request",
			input: []byte("phone,first_name,last_name\n4155552671,Ann\n"),
			opts:  ReadOptions{PadShortRows: true},
			want:  []rowView{{Line: 2, Phone: "4155552671", First: "Ann"}},
		},
		{
			name:  "blank and empty records are skipped",
			input: []byte("\n\nphone,first_name\n\n4155552671,Ann\n,\n  \n4155552672,Bob"),
			want: []rowView{
				{Line: 5, Phone: "4155552671", First: "Ann"},
				{Line: 8, Phone: "4155552672", First: "Bob"},
			},
		},
		{
			name:     "header only",
			input:    []byte("phone,first_name\n"),
			wantCols: []string{"phone", "first_name"},
			want:     []rowView{},
		},
		{
			name:  "explicit mapping by name and index overrides the guess",
			input: []byte("Tel,Name,Cell,Zip Code\n4155552671,Ann,4155550000,94105\n"),
			opts:  ReadOptions{Mapping: Mapping{"Cell": "phone", "1": "alt_phone", "name": "first_name", "4": "-"}},
			want:  []rowView{{Line: 2, Phone: "4155550000", First: "Ann"}},
		},
		{
			name:  "duplicate and empty header names become distinct custom keys",
			input: []byte("phone,note,note,\n4155552671,a,b,c\n"),
			want:  []rowView{{Line: 2, Phone: "4155552671", Custom: map[string]string{"note": "a", "note_2": "b", "column_4": "c"}}},
		},
		{
			name:  "forced csv on a semicolon file reads one column",
			input: []byte("phone;first\n4155552671;Ann\n"),
			opts:  ReadOptions{Format: FormatCSV, Mapping: Mapping{"1": "phone"}},
			want:  []rowView{{Line: 2, Phone: "4155552671;Ann"}},
		},
		{
			name:  "NUL bytes are dropped",
			input: []byte("phone,first_name\n4155552671,A\x00nn\n"),
			want:  []rowView{{Line: 2, Phone: "4155552671", First: "Ann"}},
		},
		{
			name:  "old Mac line endings",
			input: []byte("phone,first_name\r4155552671,Ann\r4155552672,\"Bob\rJr\"\r"),
			want: []rowView{
				{Line: 2, Phone: "4155552671", First: "Ann"},
				{Line: 3, Phone: "4155552672", First: "Bob\nJr"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, rows := readAll(t, tt.input, tt.opts)
			if tt.wantDelim != 0 {
				require.Equal(t, string(tt.wantDelim), string(r.Delimiter()))
			}
			if tt.wantCols != nil {
				require.Equal(t, tt.wantCols, r.Columns())
			}
			got := view(rows)
			require.Len(t, got, len(tt.want))
			for i := range got {
				if tt.want[i].Err != nil {
					require.ErrorIs(t, got[i].Err, tt.want[i].Err)
					require.Equal(t, tt.want[i].Line, got[i].Line)
					require.NotEmpty(t, rows[i].Raw)
					continue
				}
				require.NoError(t, got[i].Err)
				require.Equal(t, tt.want[i], got[i])
			}
			require.Equal(t, int64(len(tt.input)), r.BytesRead())
		})
	}
}

func utf16LE(t testing.TB, s string) []byte {
	t.Helper()
	b, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(s))
	require.NoError(t, err)
	return b
}

func TestLeadReaderFileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		input   string
		opts    ReadOptions
		is      error
		message string
	}{
		{name: "empty file", input: "", is: ErrEmptyFile},
		{name: "only blank lines", input: "\r\n\n   \n", is: ErrEmptyFile},
		{name: "only a BOM", input: "\xEF\xBB\xBF", is: ErrEmptyFile},
		{name: "missing phone column names the columns", input: "first_name,last_name,email\nAnn,Lee,a@b.c\n",
			is: ErrNoPhoneColumn, message: `"first_name", "last_name", "email"`},
		{name: "mapping to an unknown column", input: "phone,x\n1,2\n", opts: ReadOptions{Mapping: Mapping{"Cell": "phone"}},
			message: `no such column (columns: "phone", "x")`},
		{name: "mapping to an unknown field", input: "phone,x\n1,2\n", opts: ReadOptions{Mapping: Mapping{"x": "shoe_size"}},
			message: `unknown field "shoe_size"`},
		{name: "mapping an index past the end", input: "phone,x\n1,2\n", opts: ReadOptions{Mapping: Mapping{"3": "email"}},
			message: "no such column"},
		{name: "two columns mapped to one field", input: "a,b\n1,2\n", opts: ReadOptions{Mapping: Mapping{"a": "phone", "b": "phone"}},
			message: "field phone_number mapped twice"},
		{name: "header too long", input: strings.Repeat("x", 100) + "\n1\n", opts: ReadOptions{MaxRecordBytes: 50},
			is: ErrRecordTooLong, message: "header on line 1"},
		{name: "unknown format", input: "phone\n1\n", opts: ReadOptions{Format: "xlsx"}, message: "unknown lead file format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewLeadReader(strings.NewReader(tt.input), tt.opts)
			require.Error(t, err)
			if tt.is != nil {
				require.ErrorIs(t, err, tt.is)
			}
			if tt.message != "" {
				require.ErrorContains(t, err, tt.message)
			}
		})
	}
}

func TestParseMapping(t *testing.T) {
	t.Parallel()
	m, err := ParseMapping(" Tel = phone , 3=zip,Notes=-,,")
	require.NoError(t, err)
	require.Equal(t, Mapping{"Tel": "phone", "3": "zip", "Notes": "-"}, m)

	for in, msg := range map[string]string{
		"Tel":             "want column=field",
		"=phone":          "empty column",
		"Tel=phone,Tel=x": "unknown field",
		"a=phone,a=city":  "mapped twice",
		"a=favourite":     "known: phone_number, alt_phone",
	} {
		_, err := ParseMapping(in)
		require.ErrorContains(t, err, msg, in)
	}
	for in, want := range map[string]FileFormat{"": FormatAuto, "auto": FormatAuto, "CSV": FormatCSV, " tsv": FormatTSV, "vicidial": FormatVICIdial} {
		got, err := ParseFileFormat(in)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	_, err = ParseFileFormat("xls")
	require.Error(t, err)
}

func TestLeadReaderVICIdial(t *testing.T) {
	t.Parallel()
	// The example from VICIdial's loader, with a second, shorter row.
	input := "3857822|31022|105|01144|1625551212|MRS|B||BURTON|249 MUNDON ROAD|MALDON|ESSEX||||CM9 6PW|UK||||||COMMENTS\n" +
		"V2|S1|105|1|4155552671|MR|Ann\n" +
		"V3|S1|105|1\n"
	r, rows := readAll(t, []byte(input), ReadOptions{Format: FormatVICIdial})
	require.Equal(t, "|", string(r.Delimiter()))
	require.Equal(t, VICIdialColumns, r.Columns())
	require.Len(t, rows, 3)

	require.NoError(t, rows[0].Err)
	require.Equal(t, LeadFields{
		Phone: "1625551212", PhoneCode: "01144", Title: "MRS", FirstName: "B", LastName: "BURTON",
		Address1: "249 MUNDON ROAD", Address2: "MALDON", Address3: "ESSEX", PostalCode: "CM9 6PW",
		Country: "UK", VendorLeadCode: "3857822",
	}, rows[0].LeadFields)
	require.Equal(t, map[string]string{"source_id": "31022", "list_id": "105", "comments": "COMMENTS"}, rows[0].Custom)

	require.NoError(t, rows[1].Err)
	require.Equal(t, "4155552671", rows[1].Phone)
	require.Equal(t, "Ann", rows[1].FirstName)

	require.ErrorIs(t, rows[2].Err, ErrTooFewColumns)
	require.Equal(t, 3, rows[2].Line)

	tabbed := strings.ReplaceAll(input, "|", "\t")
	r, rows = readAll(t, []byte(tabbed), ReadOptions{Format: FormatVICIdial})
	require.Equal(t, "\t", string(r.Delimiter()))
	require.Equal(t, "1625551212", rows[0].Phone)
}

func TestLeadReaderLongLines(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("A", 10<<20)
	input := "phone,first_name\n4155552671,Ann\n4155552672," + long + "\n4155552673,Cy\n" +
		"4155552674,\"" + long + "\"\n4155552675,Di\n"
	r, rows := readAll(t, []byte(input), ReadOptions{})
	require.Len(t, rows, 5)
	require.Equal(t, "Ann", rows[0].FirstName)
	require.ErrorIs(t, rows[1].Err, ErrRecordTooLong)
	require.ErrorContains(t, rows[1].Err, "line too long")
	require.Equal(t, 3, rows[1].Line)
	require.Equal(t, "Cy", rows[2].FirstName)
	require.Equal(t, 4, rows[2].Line)
	require.ErrorIs(t, rows[3].Err, ErrRecordTooLong)
	require.Equal(t, 5, rows[3].Line)
	require.Equal(t, "Di", rows[4].FirstName)
	require.Equal(t, 6, rows[4].Line)
	require.Equal(t, int64(len(input)), r.BytesRead())

	// A quoted field that opens, spans lines and outgrows the cap rejects its
	// first line; the lines it swallowed are read again as records.
	small := "phone,notes\n4155552671,\"" + strings.Repeat("x", 40) + "\n4155552672,ok\n" + strings.Repeat("y", 80) + "\n4155552673,fine\n"
	_, rows = readAll(t, []byte(small), ReadOptions{MaxRecordBytes: 64})
	require.Len(t, rows, 4)
	require.ErrorIs(t, rows[0].Err, ErrUnterminatedQuote)
	require.Equal(t, 2, rows[0].Line)
	require.Equal(t, rowView{Line: 3, Phone: "4155552672", Custom: map[string]string{"notes": "ok"}}, view(rows[1:2])[0])
	require.ErrorIs(t, rows[2].Err, ErrRecordTooLong)
	require.Equal(t, 4, rows[2].Line)
	require.Equal(t, "4155552673", rows[3].Phone)
	require.Equal(t, 5, rows[3].Line)
}

// leadGen produces a CSV lead file of a given size without holding it.
type leadGen struct {
	size, written int64
	row           int
	pending       []byte
}

func (g *leadGen) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(g.pending) == 0 {
			if g.written >= g.size {
				break
			}
			if g.row == 0 {
				g.pending = []byte("phone_number,first_name,last_name,address1,city,state,postal_code,email,notes\n")
			} else {
				g.pending = fmt.Appendf(g.pending[:0], "(415) 555-%04d,Zoë %d,\"Müller, Jr.\",\"%d Main St\nApt %d\",San Francisco,CA,94105,lead%d@example.com,note %d\n",
					g.row%10000, g.row, g.row, g.row%100, g.row, g.row)
			}
			g.row++
			g.written += int64(len(g.pending))
		}
		c := copy(p[n:], g.pending)
		g.pending = g.pending[c:]
		n += c
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// A 200 MB file streams through the reader and the import's per-row
// normalisation in bounded memory.
// Not parallel: the heap figure is the whole process's, so this test runs
// before the parallel ones start.
func TestLeadReaderMemoryStaysFlat(t *testing.T) {
	const size = 200 << 20
	r, err := NewLeadReader(&leadGen{size: size}, ReadOptions{})
	require.NoError(t, err)
	var ms runtime.MemStats
	var peak uint64
	rows := 0
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		require.NoError(t, row.Err)
		if e164, err := NormalizePhone(row.Phone, "US"); err == nil {
			_ = LeadZones(e164, row.State, row.PostalCode, row.Country)
		}
		rows++
		if rows%20000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
	}
	require.GreaterOrEqual(t, r.BytesRead(), int64(size))
	require.Greater(t, rows, 1200000)
	require.Less(t, peak, uint64(64<<20), "heap grew to %d MB reading a 200 MB file", peak>>20)
	t.Logf("%d rows, peak heap %.1f MB", rows, float64(peak)/(1<<20))
}

func FuzzLeadReader(f *testing.F) {
	for _, s := range []string{
		"phone,first_name\n4155552671,Ann\n",
		"phone;name\n\"1;2\";\"a\"\"b\"\n",
		"phone\t\"x\n4155\tb\"\n",
		"phone,a\n\"unterminated,\n1,2\n",
		"\xEF\xBB\xBFphone|x\r\n1|2\r\n",
		"\xFF\xFEp\x00h\x00o\x00n\x00e\x00\n\x001\x00",
		"3857822|31022|105|01144|1625551212|MRS|B||BURTON\n",
		"phone,x\n\x00\x00\x00\n",
		"phone,Zo\xEB\n1,M\xFCller\n",
	} {
		f.Add([]byte(s), uint8(0), uint16(64))
		f.Add([]byte(s), uint8(3), uint16(16))
	}
	formats := []FileFormat{FormatAuto, FormatCSV, FormatTSV, FormatVICIdial}
	f.Fuzz(func(t *testing.T, data []byte, format uint8, maxRecord uint16) {
		opts := ReadOptions{
			Format:         formats[int(format)%len(formats)],
			MaxRecordBytes: 8 + int(maxRecord)%512,
			PadShortRows:   format&4 != 0,
		}
		r, err := NewLeadReader(bytes.NewReader(data), opts)
		if err != nil {
			return
		}
		// Every call consumes at least one physical line, so there can be no
		// more rows than line ends (CR counts: it may be the line end).
		limit := bytes.Count(data, []byte("\n")) + bytes.Count(data, []byte("\r")) + 2
		lastLine := 0
		for calls := 0; ; calls++ {
			require.LessOrEqual(t, calls, limit, "reader does not make progress")
			row, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err)
			require.Greater(t, row.Line, lastLine, "line numbers must increase")
			lastLine = row.Line
			if row.Err != nil {
				require.Equal(t, LeadFields{}, row.LeadFields)
				continue
			}
			for _, s := range append([]string{row.Phone, row.FirstName, row.LastName, row.City}, mapValues(row.Custom)...) {
				require.True(t, utf8.ValidString(s), "%q", s)
				require.NotContains(t, s, "\x00")
			}
		}
	})
}

func mapValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func BenchmarkLeadReader(b *testing.B) {
	var buf bytes.Buffer
	_, err := io.Copy(&buf, &leadGen{size: 8 << 20})
	require.NoError(b, err)
	input := buf.Bytes()
	b.SetBytes(int64(len(input)))
	b.ReportAllocs()
	rows := 0
	for b.Loop() {
		r, err := NewLeadReader(bytes.NewReader(input), ReadOptions{})
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, err := r.Next()
			if err != nil {
				break
			}
			rows++
		}
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}
