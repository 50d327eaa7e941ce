// Package numfmt writes numbers for people to read, as NHS.UK style
// writes them.
package numfmt

import "strconv"

// Thousands writes n with commas between thousands, as in 12,345.
func Thousands[N int | int64](n N) string {
	s := strconv.FormatInt(int64(n), 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
