package pii

import (
	"regexp"
	"strings"
)

// A UK postcode is an outward code (area letters, district digits, maybe a
// letter: A9, A99, A9A, AA9, AA99, AA9A) and an inward code (a digit and two
// letters), with or without a space, in any case; and GIR 0AA. The area must
// be a real postcode area and the inward letters must not be C, I, K, M, O
// or V, which never appear there; that alone keeps out "5mg", "2ml" and
// "3kg". An outward code alone ("NR4", or "NR4 7" with the sector) is a
// postcode only when labelled ("postcode NR4").
//
// Between the outward and inward codes may stand up to four bytes of
// spaces (after normalisation, any Unicode space), tabs, line breaks,
// hyphens (and dashes), dots, slashes, underscores and brackets ("NR4  7UY",
// "NR4–7UY", "NR4/7UY", "NR4\n7UY"). A postcode may also be spelt out one
// character at a time ("N R 4 7 U Y"), when no other single character
// stands just before or after it.
const postcodeSep = `[ \t\r\n\-./_()\[\]]`

var (
	postcodeShape = regexp.MustCompile(`^(?i:[A-Z]{1,2}\d[A-Z\d]?` + postcodeSep + `{0,4}\d[A-Z]{2}|GIR` + postcodeSep + `{0,4}0AA)\b`)
	spacedShape   = regexp.MustCompile(`^(?i:[A-Z](?: {1,2}[A-Z])? {1,2}\d(?: {1,2}[A-Z\d])? {1,2}\d {1,2}[A-Z] {1,2}[A-Z])\b`)
	outwardShape  = regexp.MustCompile(`^(?i)(?:post[ \-]?codes?|postal[ \t]codes?|p/code)\b` + glue + `([A-Z]{1,2}\d[A-Z\d]?(?: ?\d)?)\b`)
)

// postcodeAreas are the letters that begin UK postcodes (including BF for
// British Forces and BX for non-geographic codes), each between spaces.
const postcodeAreas = " AB AL B BA BB BD BF BH BL BN BR BS BT BX CA CB CF CH CM CO CR CT CV CW" +
	" DA DD DE DG DH DL DN DT DY E EC EH EN EX FK FY G GL GU GY HA HD HG HP HR" +
	" HS HU HX IG IM IP IV JE KA KT KW KY L LA LD LE LL LN LS LU M ME MK ML N" +
	" NE NG NN NP NR NW OL OX PA PE PH PL PO PR RG RH RM S SA SE SG SK SL SM" +
	" SN SO SP SR SS ST SW SY TA TD TF TN TQ TR TS TW UB W WA WC WD WF WN WR" +
	" WS WV YO ZE "

// postcodeAt finds a full postcode that starts with the word at start: an
// outward code (a letter or two, then a digit) or the whole postcode
// without its space; lower is the word in lower case.
func postcodeAt(in input, start int, lower string, found []Finding) []Finding {
	if len(lower) == 1 && isASCIILetter(lower[0]) {
		return spacedPostcodeAt(in, start, found)
	}
	if len(lower) < 2 || !isASCIILetter(lower[0]) ||
		!isDigit(lower[1]) && !(len(lower) > 2 && isDigit(lower[2])) && !strings.HasPrefix(lower, "gir") {
		return found
	}
	if m := matchAt(postcodeShape, in.text, start, 16); m != nil && validPostcode(in.text[m[0]:m[1]]) {
		found = append(found, Finding{Postcode, m[0], m[1]})
	}
	return found
}

// spacedPostcodeAt finds a postcode spelt out one character at a time
// from the one-letter word at start.
func spacedPostcodeAt(in input, start int, found []Finding) []Finding {
	text := in.text
	if start+2 >= len(text) || text[start+1] != ' ' || !digitWithin(text, start, 8) {
		return found
	}
	m := matchAt(spacedShape, text, start, 24)
	if m == nil || singleBefore(text, m[0]) || singleAfter(text, m[1]) {
		return found
	}
	if validPostcode(lettersAndDigits(text[m[0]:m[1]])) {
		found = append(found, Finding{Postcode, m[0], m[1]})
	}
	return found
}

// singleBefore reports whether a letter or digit standing alone is one or
// two spaces before start.
func singleBefore(text string, start int) bool {
	q := start
	for q > 0 && start-q < 2 && text[q-1] == ' ' {
		q--
	}
	return q < start && q > 0 && isWordByte(text[q-1]) && (q == 1 || !isWordByte(text[q-2]))
}

// singleAfter reports whether a letter or digit standing alone is one or
// two spaces after end.
func singleAfter(text string, end int) bool {
	q := end
	for q < len(text) && q-end < 2 && text[q] == ' ' {
		q++
	}
	return q > end && q < len(text) && isWordByte(text[q]) && (q+1 == len(text) || !isWordByte(text[q+1]))
}

// outwardCodeAt finds an outward code labelled as a postcode whose label
// starts at the word at start; lower is the word in lower case.
func outwardCodeAt(in input, start int, lower string, found []Finding) []Finding {
	switch lower {
	case "post", "postcode", "postcodes", "postal", "p":
	default:
		return found
	}
	if !digitWithin(in.text, start, anchoredWindow) {
		return found
	}
	if m := matchAt(outwardShape, in.text, start, anchoredWindow); m != nil && validArea(in.text[m[2]:m[3]]) {
		found = append(found, Finding{Postcode, m[2], m[3]})
	}
	return found
}

// validPostcode checks a match of postcodeShape or spacedShape.
func validPostcode(s string) bool {
	if strings.EqualFold(lettersAndDigits(s), "GIR0AA") {
		return true
	}
	inward := s[len(s)-2:]
	if strings.ContainsAny(strings.ToUpper(inward), "CIKMOV") {
		return false
	}
	// "B12 3rd", "A5 2nd", "co2 4hr": lower-case ordinals and units read as
	// inward codes; real postcodes written in lower case rarely end so.
	switch inward {
	case "st", "nd", "rd", "th", "hr":
		return false
	}
	return validArea(s)
}

// validArea reports whether the outward code at the start of s begins with
// a real postcode area.
func validArea(s string) bool {
	n := 0
	for n < len(s) && n < 2 && isASCIILetter(s[n]) {
		n++
	}
	return n > 0 && strings.Contains(postcodeAreas, " "+strings.ToUpper(s[:n])+" ")
}

// lettersAndDigits returns the ASCII letters and digits of s, in order.
func lettersAndDigits(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if isASCIILetter(s[i]) || isDigit(s[i]) {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
