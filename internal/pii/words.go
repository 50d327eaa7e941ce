package pii

import (
	"regexp"
	"strings"
)

// Every kind but email addresses begins at a word: the first group of an
// NHS number or phone number ("943", "07700", "o77oo"; either may start
// one byte before, at "+44" or "(0"), the outward code of a postcode (or
// its first letter, spelt out), a title, or a label's first word; a name
// before "(the patient)" is found from the word "patient", up to three
// words back. Rather than run each kind's pattern over the whole text,
// where the regular expression engine would try its many alternatives at
// every byte, scanWords walks the words once and, at a word that can begin
// a kind (a cheap test in Go), runs that kind's pattern anchored there
// over a bounded window. The work per word is bounded, so the scan stays
// linear, and ordinary text, where few words can begin an identifier,
// costs little more than the walk.
const anchoredWindow = 160

// scanWords runs each kind's word check at every word of the text.
func scanWords(in input, found []Finding) []Finding {
	text := in.text
	for start := 0; start < len(text); {
		if !isWordByte(text[start]) {
			start++
			continue
		}
		end := start + 1
		for end < len(text) && isWordByte(text[end]) {
			end++
		}
		word, lower := text[start:end], in.lower[start:end]
		n := len(found)
		found = nhsNumberAt(in, start, word, found)
		found = postcodeAt(in, start, lower, found)
		found = phoneAt(in, start, word, found)
		found = titledNameAt(in, start, word, found)
		found = labelledNameAt(in, start, lower, found)
		found = nameBeforeAt(in, start, lower, found)
		found = emailAtWord(in, start, lower, found)
		found = dateOfBirthAt(in, start, lower, found)
		found = recordNumberAt(in, start, word, lower, found)
		found = outwardCodeAt(in, start, lower, found)
		// Keep the findings in order. A finding starts within
		// anchoredWindow bytes of its word, so a new one only ever moves
		// back past the few found near it.
		for i := n; i < len(found); i++ {
			for j := i; j > 0 && less(found[j], found[j-1]); j-- {
				found[j], found[j-1] = found[j-1], found[j]
			}
		}
		start = end
	}
	return found
}

// matchAt matches re, which must begin with ^, at text[start:] (at most
// window bytes of it) and returns its submatch indexes as offsets into
// text, or nil. The window must be longer than anything the pattern should
// match: a match that reaches the end of the window, short of the end of
// the text, is dropped, since the pattern could not see what follows (a
// trailing \b would wrongly hold there).
func matchAt(re *regexp.Regexp, text string, start, window int) []int {
	end := min(len(text), start+window)
	m := re.FindStringSubmatchIndex(text[start:end])
	if m == nil || start+m[1] == end && end < len(text) {
		return nil
	}
	for i := range m {
		if m[i] >= 0 {
			m[i] += start
		}
	}
	return m
}

// digitWithin reports whether a digit is among the n bytes of text from
// start: a cheap test before running a pattern whose value has digits.
func digitWithin(text string, start, n int) bool {
	return strings.ContainsAny(text[start:min(len(text), start+n)], "0123456789")
}

// isWordByte reports whether c is an ASCII word character, as \b in the
// regular expressions sees it.
func isWordByte(c byte) bool { return isASCIILetter(c) || isDigit(c) || c == '_' }
