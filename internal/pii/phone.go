package pii

import "strings"

// A UK phone number starts with 0 and has 10 or 11 digits, the second of
// which is 1, 2, 3, 5, 7, 8 or 9 (landlines, mobiles, non-geographic and
// freephone numbers); or starts with +44 or 0044 (also "00 44"), maybe
// followed by (0) or 0, and then has 9 or 10 digits not starting with 0.
// "01603 286286", "(01603) 286286", "020 7946 0000", "07700 900123",
// "+44 7700 900123", "+44 (0)20 7946 0000", "00 44 7700 900123".
//
// Groups of digits may be separated by up to three bytes of spaces, tabs,
// line breaks, hyphens (and dashes), dots, underscores and brackets
// ("07700.900.123", "07700  900123"); slashes are left out, as they
// separate the parts of dates. The letter o or O may stand for a zero
// ("o77oo 9oo123") in a group that also holds a real digit. A national
// number's first group must have at least three digits ("01603", "020"),
// which keeps dates such as 01.03.2024-05.03.2024 out, unless every digit
// is spaced out. Short numbers ("111", "999", "ext 4521") and local
// numbers without an area code are not caught.

// maxPhoneSep is how many separator bytes may stand between two groups.
const maxPhoneSep = 3

// isPhoneSep reports whether c may separate the groups of a phone number.
func isPhoneSep(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', '-', '.', '_', '(', ')', '[', ']':
		return true
	}
	return false
}

// phoneAt finds a phone number that starts with the word at start: a word
// beginning with 0 (or o standing for it), or 44 just after a plus sign.
func phoneAt(in input, start int, word string, found []Finding) []Finding {
	text := in.text
	plus := start > 0 && text[start-1] == '+' && strings.HasPrefix(word, "44")
	if !plus && word[0] != '0' && !(word[0] == 'o' || word[0] == 'O') {
		return found
	}
	var buf [maxChain]span
	groups := chain(text, start, isPhoneSep, maxPhoneSep, true, &buf)
	if len(groups) == 0 {
		return found
	}
	var d [maxChain * 21]byte
	digits := digitsIn(text, groups, d[:0])
	// The longest number that ends between two groups wins: "0161 496
	// 0000 12" is "0161 496 0000".
	count := len(digits)
	for n := len(groups); n > 0; n-- {
		if n < len(groups) {
			count -= groups[n].len()
		}
		if !validPhone(text, start, groups[:n], len(groups), digits[:count], plus) {
			continue
		}
		first := start
		switch {
		case plus:
			first--
		case start > 0 && text[start-1] == '(' && strings.IndexByte(text[start:groups[n-1].end], ')') > 0:
			// An area code in brackets: "(01603) 286286". A bracket
			// that is not closed opens an aside instead:
			// "(07700 900123, daughter)".
			first--
		}
		return append(found, Finding{Phone, first, groups[n-1].end})
	}
	return found
}

// validPhone checks the digits of the first groups of a chain of all
// groups, read from start; plus is true after a plus sign.
func validPhone(text string, start int, groups []span, all int, d []byte, plus bool) bool {
	rest := d
	switch {
	case plus && len(d) > 2 && d[0] == '4' && d[1] == '4':
		rest = d[2:]
	case !plus && len(d) > 4 && string(d[:4]) == "0044":
		rest = d[4:]
	case plus:
		return false
	default:
		if groups[0].len() < 3 && !(singles(groups) && len(groups) == all &&
			!chainGoesOnBefore(text, start, isPhoneSep, maxPhoneSep)) {
			return false
		}
		return (len(d) == 10 || len(d) == 11) && d[0] == '0' && strings.IndexByte("1235789", d[1]) >= 0
	}
	if len(rest) > 0 && rest[0] == '0' {
		rest = rest[1:] // the (0) of +44 (0)20 ...
	}
	return (len(rest) == 9 || len(rest) == 10) && rest[0] != '0'
}
