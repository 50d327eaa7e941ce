package pii

import (
	"regexp"
	"strings"
)

// labelWindow is how many bytes before a candidate are searched for its
// label. It bounds the work per candidate, which keeps Scan linear.
const labelWindow = 48

// glueEnd ends a label pattern that looks back from a candidate: what may
// stand between a label and the value it labels, such as "NHS number: ",
// "NHS no. ", "NHS number is (". It is anchored at the end of the window,
// which ends where the candidate starts.
const glueEnd = `[\s:#=.,(\[\-–—]*(?:(?:is|was|were|of|on|in|the|as|recorded|given|written|entered|documented|noted|listed)[\s:#=.,(\[\-–—]+)*$`

// glue is the same for patterns that go forward from the label to the
// value ("DOB - ", "born on the ", "DOB was recorded as "). It is only used
// in patterns anchored at a label and run over a bounded window (see
// words.go), so its * cannot run on.
const glue = `(?:[\s:#=.,(\[\-–—]|(?i:is|was|were|of|on|in|the|as|recorded|given|written|entered|documented|noted|listed)\b)*`

// labelled reports whether label matches the text just before start (up to
// labelWindow bytes), so that the candidate at start is labelled by it.
func labelled(text string, start int, label *regexp.Regexp) bool {
	return label.MatchString(text[max(0, start-labelWindow):start])
}

// digitsOf returns the ASCII digits of s, in order.
func digitsOf(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
