package db

import (
	"database/sql"
	"strconv"
	"strings"
)

// Values returns the VALUES list of a multi-row INSERT: rows groups of
// perRow placeholders numbered on from first, each group starting with
// lead, written as given, for values every row shares (such as "$1, " for
// a time passed once, or "TRUE, "). For example
//
//	Values(2, 2, 2, "$1, ") == "($1, $2, $3), ($1, $4, $5)"
//
// One group makes an IN list: "x IN " + Values(1, n, 1, "").
func Values(rows, perRow, first int, lead string) string {
	var b strings.Builder
	// About 5 bytes a placeholder ("$123, "), so one allocation is usual.
	b.Grow(rows * (len(lead) + 4 + 6*perRow))
	n := first
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		b.WriteString(lead)
		for j := range perRow {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			n++
		}
		b.WriteByte(')')
	}
	return b.String()
}

// NullID is a row ID for a nullable column: NULL when id is 0, the ID
// nobody has, which callers use for "none" (an action from the command
// line, an anonymous reporter).
func NullID(id int64) sql.NullInt64 {
	return sql.NullInt64{Int64: id, Valid: id != 0}
}
