package campaigns

import "strings"

// CSVSafe returns a cell for a CSV file that people open in a spreadsheet:
// a cell a spreadsheet would run as a formula gets a leading single quote
// (OWASP's advice for CSV injection), so "=HYPERLINK(...)" in a lead's field
// shows as text. Formulas start with = + - @, also after leading spaces or
// a tab, carriage return, newline or NUL (some spreadsheets trim those), or
// with a full-width = + - @ (which some read as the ASCII ones).
func CSVSafe(cell string) string {
	t := strings.TrimLeft(cell, " ")
	if t == "" {
		return cell
	}
	if strings.ContainsRune("=+-@\t\r\n\x00", rune(t[0])) ||
		strings.HasPrefix(t, "＝") || strings.HasPrefix(t, "＋") || strings.HasPrefix(t, "－") || strings.HasPrefix(t, "＠") {
		return "'" + cell
	}
	return cell
}
