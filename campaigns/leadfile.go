package campaigns

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Errors a lead file can fail with as a whole (returned by NewLeadReader).
var (
	ErrEmptyFile     = errors.New("lead file is empty")
	ErrNoPhoneColumn = errors.New("lead file has no phone number column")
)

// Reasons a single record is rejected (LeadRow.Err wraps one of these); the
// reader goes on with the next record.
var (
	ErrRecordTooLong     = errors.New("line too long")
	ErrUnterminatedQuote = errors.New("unterminated quoted field")
	ErrTooFewColumns     = errors.New("too few columns")
	ErrTooManyColumns    = errors.New("too many columns")
)

// DefaultMaxRecordBytes caps one record when ReadOptions leaves it zero.
const DefaultMaxRecordBytes = 1 << 20

// FileFormat selects how a lead file is split into columns.
type FileFormat string

const (
	// FormatAuto sniffs the delimiter (comma, tab, semicolon or pipe) from
	// the first lines; the first record is a header.
	FormatAuto FileFormat = ""
	// FormatCSV is comma-separated with a header.
	FormatCSV FileFormat = "csv"
	// FormatTSV is tab-separated with a header.
	FormatTSV FileFormat = "tsv"
	// FormatVICIdial is VICIdial's standard list-loader layout: no header,
	// fixed column order (VICIdialColumns), tab, pipe or comma separated.
	FormatVICIdial FileFormat = "vicidial"
)

// ParseFileFormat accepts "", "auto", "csv", "tsv" and "vicidial".
func ParseFileFormat(s string) (FileFormat, error) {
	switch f := FileFormat(strings.ToLower(strings.TrimSpace(s))); f {
	case "auto":
		return FormatAuto, nil
	case FormatAuto, FormatCSV, FormatTSV, FormatVICIdial:
		return f, nil
	}
	return "", fmt.Errorf("unknown lead file format %q (want csv, tsv or vicidial)", s)
}

// VICIdialColumns is the column order of VICIdial's standard lead file, as its
// loader (VICIDIAL_IN_new_leads_file.pl) reads it; the last four are the
// optional extended fields.
var VICIdialColumns = []string{
	"vendor_lead_code", "source_id", "list_id", "phone_code", "phone_number",
	"title", "first_name", "middle_initial", "last_name", "address1",
	"address2", "address3", "city", "state", "province",
	"postal_code", "country_code", "gender", "date_of_birth", "alt_phone",
	"email", "security_phrase", "comments",
	"called_count", "status", "entry_date", "multi_alt_phones",
}

// vicidialMinColumns is how far a VICIdial row must reach to hold a phone.
const vicidialMinColumns = 5

// LeadFields are the columns a lead has in the leads table; everything else
// in a file goes to LeadRow.Custom. Values are as found in the file, trimmed;
// the importer normalises them (NormalizePhone, NormalizeState, LeadZones).
type LeadFields struct {
	Phone          string
	AltPhone       string
	PhoneCode      string // country calling code column (VICIdial phone_code)
	Title          string
	FirstName      string
	MiddleInitial  string
	LastName       string
	Address1       string
	Address2       string
	Address3       string
	City           string
	State          string
	PostalCode     string
	Country        string
	Email          string
	VendorLeadCode string
}

// LeadRow is one record of a lead file.
type LeadRow struct {
	// Line is the physical line (1-based) where the record starts.
	Line int
	LeadFields
	// Custom holds the non-empty values of unmapped columns by column name;
	// nil when there are none.
	Custom map[string]string
	// Err, when set, says why the record was rejected; the fields are then
	// empty and Raw holds the start of the record for the error report.
	Err error
	Raw string
}

type field int

const (
	fieldCustom field = iota
	fieldSkip
	fieldPhone
	fieldAltPhone
	fieldPhoneCode
	fieldTitle
	fieldFirstName
	fieldMiddleInitial
	fieldLastName
	fieldAddress1
	fieldAddress2
	fieldAddress3
	fieldCity
	fieldState
	fieldPostalCode
	fieldCountry
	fieldEmail
	fieldVendorLeadCode
	fieldCount
)

var fieldNames = [fieldCount]string{
	fieldCustom: "custom", fieldSkip: "-", fieldPhone: "phone_number", fieldAltPhone: "alt_phone",
	fieldPhoneCode: "phone_code", fieldTitle: "title", fieldFirstName: "first_name",
	fieldMiddleInitial: "middle_initial", fieldLastName: "last_name", fieldAddress1: "address1",
	fieldAddress2: "address2", fieldAddress3: "address3", fieldCity: "city", fieldState: "state",
	fieldPostalCode: "postal_code", fieldCountry: "country", fieldEmail: "email",
	fieldVendorLeadCode: "vendor_lead_code",
}

func (f *LeadFields) ptr(id field) *string {
	switch id {
	case fieldPhone:
		return &f.Phone
	case fieldAltPhone:
		return &f.AltPhone
	case fieldPhoneCode:
		return &f.PhoneCode
	case fieldTitle:
		return &f.Title
	case fieldFirstName:
		return &f.FirstName
	case fieldMiddleInitial:
		return &f.MiddleInitial
	case fieldLastName:
		return &f.LastName
	case fieldAddress1:
		return &f.Address1
	case fieldAddress2:
		return &f.Address2
	case fieldAddress3:
		return &f.Address3
	case fieldCity:
		return &f.City
	case fieldState:
		return &f.State
	case fieldPostalCode:
		return &f.PostalCode
	case fieldCountry:
		return &f.Country
	case fieldEmail:
		return &f.Email
	case fieldVendorLeadCode:
		return &f.VendorLeadCode
	}
	return nil
}

// fieldAliases maps header names, squashed by headerKey, to fields.
var fieldAliases = map[string]field{}

func init() {
	for f, names := range map[field][]string{
		fieldPhone: {"phonenumber", "phone", "telephone", "telephonenumber", "tel", "number",
			"phoneno", "phonenum", "homephone", "primaryphone", "mainphone", "phone1"},
		fieldAltPhone: {"altphone", "alternatephone", "alternativephone", "phone2",
			"altphonenumber", "secondaryphone", "otherphone"},
		fieldPhoneCode:      {"phonecode", "dialcode", "callingcode", "countrycallingcode"},
		fieldTitle:          {"title", "salutation"},
		fieldFirstName:      {"firstname", "first", "fname", "givenname", "forename"},
		fieldMiddleInitial:  {"middleinitial", "middlename", "middle", "mi"},
		fieldLastName:       {"lastname", "last", "lname", "surname", "familyname"},
		fieldAddress1:       {"address1", "address", "addressline1", "street", "streetaddress", "street1", "addr1"},
		fieldAddress2:       {"address2", "addressline2", "street2", "addr2"},
		fieldAddress3:       {"address3", "addressline3", "street3", "addr3"},
		fieldCity:           {"city", "town"},
		fieldState:          {"state", "st"},
		fieldPostalCode:     {"postalcode", "zip", "zipcode", "postcode", "postal", "zip5"},
		fieldCountry:        {"country", "countrycode", "countryname"},
		fieldEmail:          {"email", "emailaddress", "mail"},
		fieldVendorLeadCode: {"vendorleadcode", "vendorcode", "vendorid", "leadcode", "vendorlead"},
	} {
		for _, n := range names {
			fieldAliases[n] = f
		}
	}
}

// headerKey squashes a column name so "Phone Number", "phone_number" and
// "PHONE-NUMBER" compare equal.
func headerKey(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch r {
		case ' ', '_', '-', '.', '#', '\t', '\ufeff':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Mapping assigns columns to fields explicitly, overriding the header-name
// guess. Keys are header names (compared like the guess: case, spaces and
// underscores do not matter) or 1-based column numbers; values are field
// names or their aliases ("phone", "zip"), or "-" to ignore a column.
type Mapping map[string]string

// ParseMapping parses "col=field,col=field", e.g. "Tel=phone,3=zip,Notes=-".
func ParseMapping(s string) (Mapping, error) {
	m := Mapping{}
	for part := range strings.SplitSeq(s, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		i := strings.LastIndexByte(part, '=')
		if i < 0 {
			return nil, fmt.Errorf("column mapping %q: want column=field", part)
		}
		col, f := strings.TrimSpace(part[:i]), strings.TrimSpace(part[i+1:])
		if col == "" {
			return nil, fmt.Errorf("column mapping %q: empty column", part)
		}
		if _, err := fieldByName(f); err != nil {
			return nil, fmt.Errorf("column mapping %q: %w", part, err)
		}
		if _, dup := m[col]; dup {
			return nil, fmt.Errorf("column mapping: column %q mapped twice", col)
		}
		m[col] = f
	}
	return m, nil
}

func fieldByName(name string) (field, error) {
	if strings.TrimSpace(name) == "-" {
		return fieldSkip, nil
	}
	if f, ok := fieldAliases[headerKey(name)]; ok {
		return f, nil
	}
	return 0, fmt.Errorf("unknown field %q (known: %s, or - to ignore)", name,
		strings.Join(fieldNames[fieldPhone:], ", "))
}

// ReadOptions configure NewLeadReader. The zero value sniffs the format.
type ReadOptions struct {
	Format  FileFormat
	Mapping Mapping
	// MaxRecordBytes caps one record (a physical line, or the lines of a
	// record with quoted newlines); 0 means DefaultMaxRecordBytes. A longer
	// record is rejected and reading goes on after it, so memory stays
	// bounded whatever the file holds.
	MaxRecordBytes int
	// PadShortRows accepts rows with fewer columns than the header, as if
	// the missing trailing columns were empty. Off by default: a row that
	// lost a delimiter in the middle would otherwise put its values under
	// the wrong columns (a phone number in the city). VICIdial rows are
	// always padded, as VICIdial's own loader does.
	PadShortRows bool
}

// LeadReader streams the records of a lead file.
//
// Encoding: UTF-8 (a BOM is skipped) and UTF-16 with a BOM are decoded
// as such. Anything else is taken as Windows-1252, decided record by record:
// a record that is not valid UTF-8 is converted, so a file that turns to
// cp1252 after a million UTF-8 rows loses nothing. NUL bytes are dropped
// (PostgreSQL text cannot hold them).
//
// Quoting follows RFC 4180 with the leniency real exports need: a quote that
// does not open a field is literal, text after a closing quote is kept, and
// spaces before an opening quote are ignored. A quoted field may span lines.
// If its closing quote never comes (within MaxRecordBytes or before the end
// of the file), only the line where it opened is rejected and reading
// resumes on the next line, so one stray quote cannot swallow the file.
//
// Lines end in LF, CRLF, or (if the start of the file has no LF) CR alone.
// Blank lines and records whose every field is empty are skipped.
type LeadReader struct {
	src       *countingReader
	br        *bufio.Reader
	delim     byte
	max       int
	pad       bool
	vicidial  bool
	columns   []string
	colField  []field
	customKey []string

	lineNo  int
	replay  []physLine
	lineBuf []byte
	p       recordParser
	strs    []string
	custom  map[string]string // reused by next(…, true)
}

type physLine struct {
	num     int
	data    []byte
	tooLong bool
}

// NewLeadReader reads the start of r to settle the encoding, delimiter and
// columns, and returns a reader positioned on the first data record.
func NewLeadReader(r io.Reader, opts ReadOptions) (*LeadReader, error) {
	lr := &LeadReader{src: &countingReader{r: r}, max: opts.MaxRecordBytes, pad: opts.PadShortRows}
	if lr.max <= 0 {
		lr.max = DefaultMaxRecordBytes
	}
	const bufSize = 64 << 10
	lr.br = bufio.NewReaderSize(lr.src, bufSize)
	if err := lr.setupEncoding(bufSize); err != nil {
		return nil, err
	}
	prefix, err := lr.br.Peek(bufSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("read lead file: %w", err)
	}
	if len(bytes.TrimSpace(prefix)) == 0 && len(prefix) < bufSize {
		return nil, ErrEmptyFile
	}
	if bytes.IndexByte(prefix, '\n') < 0 && bytes.IndexByte(prefix, '\r') >= 0 {
		// Classic Mac OS line endings (Excel for Mac's "CSV (Macintosh)").
		lr.br = bufio.NewReaderSize(&crToLF{r: lr.br}, bufSize)
		if prefix, err = lr.br.Peek(bufSize); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
			return nil, fmt.Errorf("read lead file: %w", err)
		}
	}
	switch opts.Format {
	case FormatCSV:
		lr.delim = ','
	case FormatTSV:
		lr.delim = '\t'
	case FormatVICIdial:
		lr.delim = sniffDelimiter(prefix, len(prefix) < bufSize, []byte{'\t', '|', ','})
	case FormatAuto:
		lr.delim = sniffDelimiter(prefix, len(prefix) < bufSize, []byte{'\t', ',', ';', '|'})
	default:
		return nil, fmt.Errorf("unknown lead file format %q", opts.Format)
	}
	lr.p.delim = lr.delim

	if opts.Format == FormatVICIdial {
		lr.vicidial = true
		lr.columns = slices.Clone(VICIdialColumns)
	} else {
		if err := lr.readHeader(); err != nil {
			return nil, err
		}
		lr.columns = make([]string, len(lr.strs))
		for i, s := range lr.strs {
			lr.columns[i] = strings.TrimSpace(strings.TrimPrefix(s, "\ufeff"))
		}
	}
	if err := lr.mapColumns(opts.Mapping); err != nil {
		return nil, err
	}
	return lr, nil
}

func (lr *LeadReader) readHeader() error {
	for {
		header, err := lr.nextRecord()
		if errors.Is(err, io.EOF) {
			return ErrEmptyFile
		}
		if err != nil {
			return err
		}
		if header.err != nil {
			return fmt.Errorf("header on line %d: %w", header.line, header.err)
		}
		if !lr.blank() {
			return nil
		}
	}
}

// setupEncoding skips a UTF-8 BOM and puts a UTF-16 decoder in front of
// UTF-16 input (Excel's "Unicode Text" export), detected by BOM or by the
// NUL bytes that ASCII text has in every other position.
func (lr *LeadReader) setupEncoding(bufSize int) error {
	head, err := lr.br.Peek(256)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read lead file: %w", err)
	}
	var (
		enc     = unicode.LittleEndian
		isUTF16 = true
	)
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		_, _ = lr.br.Discard(3)
		return nil
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		// UseBOM below reads the BOM and picks the byte order from it.
	default:
		switch odd, even := nulShare(head); {
		case odd > 0.9 && even < 0.1:
		case even > 0.9 && odd < 0.1:
			enc = unicode.BigEndian
		default:
			isUTF16 = false
		}
	}
	if !isUTF16 {
		return nil
	}
	dec := unicode.UTF16(enc, unicode.UseBOM).NewDecoder()
	lr.br = bufio.NewReaderSize(transform.NewReader(lr.br, dec), bufSize)
	return nil
}

// nulShare returns the share of NUL bytes at odd and at even offsets.
func nulShare(b []byte) (odd, even float64) {
	if len(b) < 8 {
		return 0, 0
	}
	var o, e int
	for i, c := range b {
		if c == 0 {
			if i%2 == 1 {
				o++
			} else {
				e++
			}
		}
	}
	half := float64(len(b) / 2)
	return float64(o) / half, float64(e) / half
}

// sniffDelimiter picks the candidate that splits the first lines into the
// same number (more than one) of fields most consistently, preferring more
// fields, then candidates' order. Quotes are respected, so commas inside
// quoted names do not count.
func sniffDelimiter(prefix []byte, complete bool, candidates []byte) byte {
	if !complete {
		if i := bytes.LastIndexByte(prefix, '\n'); i >= 0 {
			prefix = prefix[:i+1]
		}
	}
	lines := bytes.SplitAfter(prefix, []byte("\n"))
	if len(lines) > 50 {
		lines = lines[:50]
	}
	best, bestScore := candidates[0], -1
	for _, d := range candidates {
		p := recordParser{delim: d}
		var counts []int
		done := true
		for _, ln := range lines {
			ln = bytes.TrimRight(ln, "\r\n")
			if done && len(bytes.TrimSpace(ln)) == 0 {
				continue
			}
			if done {
				p.reset()
			}
			done = p.feed(ln)
			if done {
				counts = append(counts, len(p.ends))
			}
		}
		if len(counts) == 0 || counts[0] < 2 {
			continue
		}
		consistent := 0
		for _, c := range counts {
			if c == counts[0] {
				consistent++
			}
		}
		if score := consistent*1000 + min(counts[0], 999); score > bestScore {
			best, bestScore = d, score
		}
	}
	if bestScore < 0 && slices.Contains(candidates, ',') {
		return ',' // one column, or nothing splits consistently
	}
	return best
}

func (lr *LeadReader) mapColumns(m Mapping) error {
	n := len(lr.columns)
	lr.colField = make([]field, n)
	lr.customKey = make([]string, n)
	taken := [fieldCount]bool{}
	explicit := make([]bool, n)
	for _, col := range slices.Sorted(maps.Keys(m)) {
		f, err := fieldByName(m[col])
		if err != nil {
			return fmt.Errorf("column mapping %s=%s: %w", col, m[col], err)
		}
		idx := lr.columnIndex(col)
		if idx < 0 {
			return fmt.Errorf("column mapping %s=%s: no such column (columns: %s)", col, m[col], lr.describeColumns())
		}
		if explicit[idx] {
			return fmt.Errorf("column mapping: column %d (%s) mapped twice", idx+1, lr.columns[idx])
		}
		if f != fieldSkip && taken[f] {
			return fmt.Errorf("column mapping: field %s mapped twice", fieldNames[f])
		}
		explicit[idx] = true
		lr.colField[idx] = f
		taken[f] = true
	}
	for i, name := range lr.columns {
		if explicit[i] {
			continue
		}
		// VICIdial's country_code holds a country ("USA", "UK"), and the alias
		// table maps it to Country; its dialling code is phone_code.
		if f, ok := fieldAliases[headerKey(name)]; ok && !taken[f] {
			lr.colField[i] = f
			taken[f] = true
		}
	}
	if !taken[fieldPhone] {
		return fmt.Errorf("%w (columns: %s); name one phone, or map one with <column>=phone",
			ErrNoPhoneColumn, lr.describeColumns())
	}
	used := map[string]bool{}
	for i, name := range lr.columns {
		if lr.colField[i] != fieldCustom {
			continue
		}
		key := name
		if key == "" {
			key = "column_" + strconv.Itoa(i+1)
		}
		for k := 2; used[key]; k++ {
			key = name + "_" + strconv.Itoa(k)
		}
		used[key] = true
		lr.customKey[i] = key
	}
	return nil
}

func (lr *LeadReader) columnIndex(col string) int {
	if n, err := strconv.Atoi(col); err == nil {
		if n >= 1 && n <= len(lr.columns) {
			return n - 1
		}
		return -1
	}
	key := headerKey(col)
	for i, name := range lr.columns {
		if headerKey(name) == key {
			return i
		}
	}
	return -1
}

func (lr *LeadReader) describeColumns() string {
	if len(lr.columns) == 0 {
		return "none"
	}
	qs := make([]string, len(lr.columns))
	for i, c := range lr.columns {
		qs[i] = strconv.Quote(c)
	}
	return strings.Join(qs, ", ")
}

// Columns returns the column names: the header, or VICIdialColumns.
func (lr *LeadReader) Columns() []string { return slices.Clone(lr.columns) }

// Delimiter returns the field delimiter in use.
func (lr *LeadReader) Delimiter() byte { return lr.delim }

// BytesRead returns how many bytes have been read from the source so far
// (a little ahead of the rows returned, by the read buffer), for progress.
// It may be called from another goroutine.
func (lr *LeadReader) BytesRead() int64 { return lr.src.n.Load() }

// Next returns the next record, or io.EOF after the last. A record that
// cannot be used comes back with Err set; the error return is only for
// failures to read the source, after which the reader is unusable.
func (lr *LeadReader) Next() (LeadRow, error) {
	var row LeadRow
	err := lr.next(&row, false)
	return row, err
}

// next reads the next record into row; with reuse, row's Custom map is
// cleared and refilled rather than replaced (for callers that keep no row).
func (lr *LeadReader) next(row *LeadRow, reuse bool) error {
	var custom map[string]string
	if reuse {
		custom = lr.custom
	}
	for {
		rec, err := lr.nextRecord()
		if err != nil {
			*row = LeadRow{}
			return err
		}
		if rec.err != nil {
			*row = LeadRow{Line: rec.line, Err: rec.err, Raw: rec.raw}
			return nil
		}
		if lr.blank() {
			continue
		}
		clear(custom)
		*row = LeadRow{Line: rec.line, Custom: custom}
		lr.buildRow(row)
		if reuse && row.Custom != nil {
			lr.custom = row.Custom
		}
		if len(row.Custom) == 0 {
			row.Custom = nil // as documented
		}
		return nil
	}
}

// record is the outcome of reading one record into lr.strs.
type record struct {
	line int
	err  error
	raw  string
}

const rawPrefixBytes = 200

func rawPrefix(b []byte) string {
	if len(b) > rawPrefixBytes {
		b = b[:rawPrefixBytes]
	}
	return strings.ToValidUTF8(string(b), "\ufffd")
}

func (lr *LeadReader) nextRecord() (record, error) {
	first, err := lr.readLine()
	if err != nil {
		return record{}, err
	}
	if first.tooLong {
		return record{line: first.num, err: fmt.Errorf("%w: more than %d bytes", ErrRecordTooLong, lr.max)}, nil
	}
	lr.p.reset()
	if lr.p.feed(first.data) {
		lr.decode()
		return record{line: first.num}, nil
	}
	// A quoted field runs past the line: gather lines until it closes. Keep
	// copies so that, if it never closes, the lines can be read again as
	// records of their own.
	raw := rawPrefix(first.data)
	var extra []physLine
	for {
		ln, err := lr.readLine()
		if err != nil && !errors.Is(err, io.EOF) {
			return record{}, err
		}
		eof := errors.Is(err, io.EOF)
		if eof || ln.tooLong || len(lr.p.buf)+len(ln.data) > lr.max {
			reason := fmt.Errorf("%w: not closed before the end of the file", ErrUnterminatedQuote)
			if !eof {
				if !ln.tooLong {
					ln.data = slices.Clone(ln.data)
				}
				extra = append(extra, ln)
				reason = fmt.Errorf("%w: not closed within %d bytes", ErrUnterminatedQuote, lr.max)
			}
			lr.replay = append(extra, lr.replay...)
			return record{line: first.num, err: reason, raw: raw}, nil
		}
		ln.data = slices.Clone(ln.data)
		extra = append(extra, ln)
		if lr.p.feed(ln.data) {
			lr.decode()
			return record{line: first.num, raw: raw}, nil
		}
	}
}

// readLine returns the next physical line without its line ending. The data
// is only valid until the next call, except for replayed lines.
func (lr *LeadReader) readLine() (physLine, error) {
	if len(lr.replay) > 0 {
		ln := lr.replay[0]
		lr.replay = lr.replay[1:]
		return ln, nil
	}
	var (
		data    []byte
		tooLong bool
		got     bool
		limit   = lr.max + 2 // room for "\r\n"
	)
	lr.lineBuf = lr.lineBuf[:0]
	for {
		chunk, err := lr.br.ReadSlice('\n')
		if len(chunk) > 0 {
			got = true
		}
		switch {
		case tooLong:
		case len(lr.lineBuf)+len(chunk) > limit:
			tooLong = true
			lr.lineBuf = lr.lineBuf[:0]
		case len(lr.lineBuf) == 0 && err == nil:
			data = chunk // the whole line is in the read buffer: no copy
		default:
			lr.lineBuf = append(lr.lineBuf, chunk...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return physLine{}, fmt.Errorf("read lead file: %w", err)
		}
		if !got {
			return physLine{}, io.EOF
		}
		if data == nil {
			data = lr.lineBuf
		}
		if tooLong {
			data = nil
		}
		data = bytes.TrimSuffix(data, []byte("\n"))
		data = bytes.TrimSuffix(data, []byte("\r"))
		if len(data) > lr.max {
			tooLong, data = true, nil
		}
		lr.lineNo++
		return physLine{num: lr.lineNo, data: data, tooLong: tooLong}, nil
	}
}

// cp1252 decodes Windows-1252 bytes; a table beats the transformer
// machinery for the few bytes of a name.
var cp1252 = func() (t [256]rune) {
	for i := range t {
		t[i] = charmap.Windows1252.DecodeByte(byte(i))
	}
	return t
}()

// decode turns the parsed fields into strings: as UTF-8 when the record is
// valid UTF-8, else as Windows-1252.
func (lr *LeadReader) decode() {
	if bytes.IndexByte(lr.p.buf, 0) >= 0 {
		lr.p.dropNULs()
	}
	buf := lr.p.buf
	// Field by field: fields that are each broken can concatenate to valid
	// UTF-8.
	utf, start := true, 0
	for _, end := range lr.p.ends {
		if !utf8.Valid(buf[start:end]) {
			utf = false
			break
		}
		start = end
	}
	lr.strs = lr.strs[:0]
	start = 0
	if utf {
		// One string for the record, sliced per field: one allocation.
		all := string(buf)
		for _, end := range lr.p.ends {
			lr.strs = append(lr.strs, all[start:end])
			start = end
		}
		return
	}
	var out []byte
	for _, end := range lr.p.ends {
		out = out[:0]
		for _, c := range buf[start:end] {
			if c < utf8.RuneSelf {
				out = append(out, c)
			} else {
				out = utf8.AppendRune(out, cp1252[c])
			}
		}
		lr.strs = append(lr.strs, string(out))
		start = end
	}
}

func (lr *LeadReader) blank() bool {
	for _, s := range lr.strs {
		if strings.TrimSpace(s) != "" {
			return false
		}
	}
	return true
}

// buildRow fills row (Line set, Custom an empty or nil map) from lr.strs.
func (lr *LeadReader) buildRow(row *LeadRow) {
	line := row.Line
	n, want := len(lr.strs), len(lr.columns)
	switch {
	case lr.vicidial && n < vicidialMinColumns:
		*row = LeadRow{Line: line, Raw: lr.joinRaw(), Err: fmt.Errorf(
			"%w: got %d, a VICIdial row needs at least %d (through phone_number)", ErrTooFewColumns, n, vicidialMinColumns)}
		return
	case n < want && !lr.pad && !lr.vicidial:
		*row = LeadRow{Line: line, Raw: lr.joinRaw(), Err: fmt.Errorf(
			"%w: got %d, header has %d", ErrTooFewColumns, n, want)}
		return
	case n > want && !lr.vicidial:
		for _, s := range lr.strs[want:] {
			if strings.TrimSpace(s) != "" {
				*row = LeadRow{Line: line, Raw: lr.joinRaw(), Err: fmt.Errorf(
					"%w: got %d, header has %d", ErrTooManyColumns, n, want)}
				return
			}
		}
	}
	for i, s := range lr.strs {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if i >= want { // only VICIdial rows get here: extra columns are kept
			if row.Custom == nil {
				row.Custom = map[string]string{}
			}
			row.Custom["column_"+strconv.Itoa(i+1)] = s
			continue
		}
		switch f := lr.colField[i]; f {
		case fieldSkip:
		case fieldCustom:
			if row.Custom == nil {
				row.Custom = map[string]string{}
			}
			row.Custom[lr.customKey[i]] = s
		default:
			*row.ptr(f) = s
		}
	}
}

func (lr *LeadReader) joinRaw() string {
	return rawPrefix([]byte(strings.Join(lr.strs, string(lr.delim))))
}

// recordParser splits lines into fields, carrying an open quoted field from
// one line to the next. Field bytes go to buf; ends holds each field's end.
type recordParser struct {
	delim  byte
	buf    []byte
	ends   []int
	state  parseState
	failed error
}

type parseState int

const (
	atFieldStart parseState = iota
	inUnquoted              // also after a closing quote, until the delimiter
	inQuoted
)

func (p *recordParser) reset() {
	p.buf, p.ends, p.state, p.failed = p.buf[:0], p.ends[:0], atFieldStart, nil
}

// feed parses one line; it reports whether the record is complete.
func (p *recordParser) feed(line []byte) bool {
	i := 0
	if p.state == inQuoted {
		p.buf = append(p.buf, '\n')
	}
	for {
		switch p.state {
		case atFieldStart:
			k := i
			for k < len(line) && (line[k] == ' ' || (line[k] == '\t' && p.delim != '\t')) {
				k++
			}
			if k < len(line) && line[k] == '"' {
				p.state, i = inQuoted, k+1
				continue
			}
			p.state = inUnquoted
		case inUnquoted:
			j := bytes.IndexByte(line[i:], p.delim)
			if j < 0 {
				p.buf = append(p.buf, line[i:]...)
				p.ends = append(p.ends, len(p.buf))
				p.state = atFieldStart
				return true
			}
			p.buf = append(p.buf, line[i:i+j]...)
			p.ends = append(p.ends, len(p.buf))
			p.state, i = atFieldStart, i+j+1
		case inQuoted:
			j := bytes.IndexByte(line[i:], '"')
			if j < 0 {
				p.buf = append(p.buf, line[i:]...)
				return false
			}
			p.buf = append(p.buf, line[i:i+j]...)
			i += j + 1
			if i < len(line) && line[i] == '"' {
				p.buf = append(p.buf, '"')
				i++
				continue
			}
			p.state = inUnquoted
		}
	}
}

// dropNULs removes NUL bytes from buf, keeping ends in step.
func (p *recordParser) dropNULs() {
	out := p.buf[:0]
	start, removed := 0, 0
	for fi, end := range p.ends {
		for _, c := range p.buf[start:end] {
			if c == 0 {
				removed++
				continue
			}
			out = append(out, c)
		}
		start = end
		p.ends[fi] = end - removed
	}
	p.buf = out
}

// crToLF turns lone carriage returns into line feeds.
type crToLF struct{ r io.Reader }

func (c *crToLF) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for i, b := range p[:n] {
		if b == '\r' {
			p[i] = '\n'
		}
	}
	return n, err
}

type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
