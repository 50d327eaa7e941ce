package pii

import (
	"regexp"
	"strings"
)

// A UK phone number starts with 0 and has 10 or 11 digits, the second of
// which is 1, 2, 3, 5, 7, 8 or 9 (landlines, mobiles, non-geographic and
// freephone numbers); or starts with +44 or 0044, maybe followed by (0), and
// then has 9 or 10 digits not starting with 0. Digits may be grouped with
// single spaces or hyphens, and a national area code may be in brackets:
// "01603 286286", "(01603) 286286", "020 7946 0000", "07700 900123",
// "+44 7700 900123", "+44 (0)20 7946 0000". Short numbers ("111", "999",
// "ext 4521") and local numbers without an area code are not caught.
var phoneShape = regexp.MustCompile(`^(?:\+44[ \-]?(?:\(0\)[ \-]?)?|0044[ \-]?(?:\(0\)[ \-]?)?|\(0|0)\d(?:[ \-]?\d|\)[ \-]?\d){7,11}`)

// phoneAt finds a phone number that starts with the word at start: a word
// beginning with 0, maybe just after an opening bracket, or 44 just after a
// plus sign.
func phoneAt(in input, start int, word string, found []Finding) []Finding {
	text := in.text
	switch {
	case start > 0 && text[start-1] == '+' && strings.HasPrefix(word, "44"):
		start--
	case start > 0 && text[start-1] == '(' && word[0] == '0':
		start--
	case word[0] == '0':
	default:
		return found
	}
	m := matchAt(phoneShape, text, start, 48)
	if m == nil {
		return found
	}
	// A bracket that is not closed opens an aside, not an area code:
	// "(07700 900123, ...)".
	if text[m[0]] == '(' && strings.IndexByte(text[m[0]:m[1]], ')') < 0 {
		m[0]++
	}
	// The shape may run on into digits that follow the number ("0161 496
	// 0000 12"), so try the longest prefix that ends between two groups
	// first.
	for end := m[1]; end > m[0]; end-- {
		if !isDigit(text[end-1]) || end < len(text) && isDigit(text[end]) {
			continue
		}
		if validPhone(text[m[0]:end]) {
			return append(found, Finding{Phone, m[0], end})
		}
	}
	return found
}

// validPhone checks a phone number shape: its prefix, brackets and number
// of digits.
func validPhone(s string) bool {
	rest, intl := s, false
	for _, p := range []string{"+44", "0044"} {
		if strings.HasPrefix(rest, p) {
			rest, intl = strings.TrimLeft(rest[len(p):], " -"), true
			rest = strings.TrimPrefix(rest, "(0)")
			break
		}
	}
	open, closing := strings.Count(rest, "("), strings.Count(rest, ")")
	d := digitsOf(rest)
	if intl {
		return open == 0 && closing == 0 && (len(d) == 9 || len(d) == 10) && d[0] != '0'
	}
	if open != closing || open > 1 || open == 1 && rest[0] != '(' {
		return false
	}
	return (len(d) == 10 || len(d) == 11) && d[0] == '0' && strings.IndexByte("1235789", d[1]) >= 0
}
