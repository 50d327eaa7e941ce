// Package csvsafe keeps text written to CSV files from running as a
// spreadsheet formula when the file is opened (CSV or formula injection),
// as OWASP describes: a cell a spreadsheet could read as a formula gets a
// leading apostrophe, which spreadsheets show as text and do not display.
package csvsafe

import (
	"strings"
	"unicode"
)

// triggers are the characters that start a formula, or a field a
// spreadsheet may run: = + - @, tab and carriage return, and the
// fullwidth forms of the first four, which some spreadsheets (Excel with
// East Asian input) read as the ASCII ones.
const triggers = "=+-@\t\r＝＋－＠"

// Cell returns s as a safe CSV cell: s itself, or s after an apostrophe
// when it starts with a trigger (= + - @, tab, carriage return, or a
// fullwidth = + - @), spaces before it included, since some spreadsheets
// trim them on import.
func Cell(s string) string {
	for _, r := range s {
		switch {
		case strings.ContainsRune(triggers, r):
			return "'" + s
		case unicode.IsSpace(r):
			continue
		}
		return s
	}
	return s
}
