package pii

import (
	"regexp"
	"strings"
)

// An NHS number is 10 digits, usually shown 3-3-4. The tenth digit is a
// modulus 11 check digit, so about one random 10-digit number in eleven
// passes by chance. A number that passes is an NHS number wherever it
// stands; one that fails is still an NHS number when it is labelled as
// one: right after the label ("NHS number: ...", "NHS no. ...",
// "NHS#...", "NHS ..."), or a few words after "NHS number" or "NHS no" in
// the same sentence ("the NHS number on the wristband (...)").
//
// The digits may be written all together, in groups of 3, 3 and 4 or in
// other groups (see nhsGroups), or spaced out one by one. Between groups
// may stand up to four separator bytes: spaces (after normalisation, any
// Unicode space), tabs, line breaks, hyphens (and dashes), dots, slashes,
// underscores and brackets ("943  476  5919", "943–476–5919",
// "(943) 476/5919", "943\n476\n5919"). The last group must end the word
// ("943 476 59191" is not one). Groupings other than the usual ones count
// only when no digit stands just before or after them, so that a longer
// list of numbers or single digits is not read as one.
var nhsLabel = regexp.MustCompile(`(?i)\bnhs[ \t]?(?:numbers?|num|nbr|no|id)?` + glueEnd +
	`|(?i)\bnhs[ \t]?(?:numbers?|no)\b[^.;:!?\n]*$`)

// maxNHSSep is how many separator bytes may stand between two groups.
const maxNHSSep = 4

// isNHSSep reports whether c may separate the groups of an NHS number.
func isNHSSep(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', '-', '.', '/', '_', '(', ')', '[', ']', '{', '}':
		return true
	}
	return false
}

// nhsNumberAt finds an NHS number that starts with the word at start.
func nhsNumberAt(in input, start int, word string, found []Finding) []Finding {
	if !isDigit(word[0]) {
		return found
	}
	// Only the usual forms may start right after other digits: a cheap
	// test that keeps long lists of numbers quick.
	lead := 0 // digits in the first group
	for lead < len(word) && isDigit(word[lead]) {
		lead++
	}
	if lead != 3 && lead != 6 && lead != 10 && chainGoesOnBefore(in.text, start, isNHSSep, maxNHSSep) {
		return found
	}
	var buf [maxChain]span
	groups := chain(in.text, start, isNHSSep, maxNHSSep, false, &buf)
	n, checked := nhsGroups(in.text, start, groups)
	if n == 0 {
		return found
	}
	var d [10]byte
	valid := checked && validNHSNumber(string(digitsIn(in.text, groups[:n], d[:0])))
	if !valid && !labelled(in.text, start, nhsLabel) {
		return found
	}
	end := groups[n-1].end
	if start > 0 && bracketPair(in.text[start-1], ')') && strings.IndexByte(in.text[start:end], ')') > 0 ||
		start > 0 && bracketPair(in.text[start-1], ']') && strings.IndexByte(in.text[start:end], ']') > 0 {
		start-- // "(943) 476 5919": the bracket is part of it
	}
	return append(found, Finding{NHSNumber, start, end})
}

// nhsGroups returns how many of groups, read from start, make the ten
// digits of an NHS number (0 when they make none), and whether a valid
// check digit is enough to make them one (otherwise only a label will).
//
//   - Groups that end after 3, 6 and 10 digits ("943 476 5919",
//     "9434765919") are the usual forms: a check digit is enough, and
//     more groups may follow.
//   - Other groups of three or more digits ("9434 765 919") or ten single
//     digits: a check digit is enough, when no digit stands just before
//     or after them.
//   - Ten digits grouped in any other way ("943 476 591 9"): only when
//     labelled, and when no digit stands just before or after them.
func nhsGroups(text string, start int, groups []span) (n int, checked bool) {
	digits, usual, wide := 0, true, true
	for i, g := range groups {
		digits += g.len()
		wide = wide && g.len() >= 3
		if digits >= 10 {
			n = i + 1
			break
		}
		usual = usual && (digits == 3 || digits == 6)
	}
	switch {
	case digits != 10:
		return 0, false
	case usual:
		return n, true
	case len(groups) > n || chainGoesOnBefore(text, start, isNHSSep, maxNHSSep):
		return 0, false
	}
	return n, wide || n == 10 && singles(groups[:n])
}

// validNHSNumber reports whether d, 10 ASCII digits, has a valid modulus 11
// check digit: the first nine digits are weighted 10 down to 2 and summed;
// the check digit is 11 minus the remainder of the sum divided by 11, where
// 11 means 0 and 10 means the number is invalid. Ten identical digits pass
// the check but are placeholders ("0000000000"), not NHS numbers.
func validNHSNumber(d string) bool {
	if len(d) != 10 {
		return false
	}
	same := true
	sum := 0
	for i := 0; i < 9; i++ {
		sum += int(d[i]-'0') * (10 - i)
		same = same && d[i] == d[9]
	}
	if same {
		return false
	}
	check := 11 - sum%11
	if check == 11 {
		check = 0
	}
	return check != 10 && check == int(d[9]-'0')
}
