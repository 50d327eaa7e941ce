package pii

import "strings"

// An email address is found from each @ outwards: up to 64 characters of
// local part before it (letters, digits and . _ % + - '; the rarer symbols
// that addresses may hold are left out, as in free text they more often
// belong to the words around) and a domain after it of up to 253
// characters, in at least two dot-separated labels of letters, digits and
// hyphens, the last of them at least two letters. Looking from the @ with
// bounded reach keeps the scan linear however many @ there are.
//
// People also write addresses so that a machine will not see them, and
// those are found too:
//
//   - the @ as "(at)", "[at]", "{at}", "<at>", "(@)" or "[@]", with or
//     without spaces around it: "name (at) example.com";
//   - the @ as the word "at" between spaces: "name at example dot com";
//   - the @ with spaces around it: "name @ example.com";
//   - the dots as "(dot)", "[dot]", "{dot}", "<dot>", "(.)", "[.]" or the
//     word "dot" between spaces, in the domain and in the local part:
//     "john dot smith at example dot com";
//   - "＠" and the other forms of @ that NFKC turns into it (normalise.go).
//
// The spelt-out forms are looked at from each word "at", which the word
// walk (words.go) visits anyway, with the same bounded reach.
//
// "at" is one of the commonest words there are, and "2 tabs @ night" is how
// some write doses, so when the @ is the bare word "at" or has spaces
// around it, the domain must end in a top-level domain from a short list
// (looseTLDs): "seen at home.Then" is a missing space, not an address. And
// after the bare word "at", a domain with only real dots counts only when
// the local part holds something other than letters ("j.smith at
// example.com"), since "leaflet at nhs.uk" names a web site.
const (
	maxLocal  = 64
	maxDomain = 253
)

// looseTLDs are the top-level domains an address must end in when its @
// is the word "at" or has spaces around it, each between spaces.
const looseTLDs = " com net org edu gov info biz io uk us eu ie nz au ca scot wales cymru example "

// maxEmailSpaces is how many spaces or tabs may stand on each side of an
// @ or a spelt-out dot.
const maxEmailSpaces = 2

// scanEmails finds the addresses around each @. Those around a spelt-out
// "at" are found by emailAtWord from the word walk, which sees every
// "at" anyway.
func scanEmails(in input, found []Finding) []Finding {
	for at := strings.IndexByte(in.lower, '@'); at >= 0; {
		found = emailAt(in, at, found)
		next := strings.IndexByte(in.lower[at+1:], '@')
		if next < 0 {
			break
		}
		at += 1 + next
	}
	return found
}

// emailAtWord finds an address around the word at start when it is "at",
// lower being the word in lower case.
func emailAtWord(in input, start int, lower string, found []Finding) []Finding {
	if lower != "at" {
		return found
	}
	return emailAt(in, start, found)
}

// emailAt finds an address around the @ or the word "at" at i, and adds
// it to found in order.
func emailAt(in input, i int, found []Finding) []Finding {
	text, lower := in.text, in.lower
	localEnd, domainStart, loose, word, ok := atSign(lower, i)
	if !ok {
		return found
	}
	start := localStart(text, lower, localEnd)
	end, spelt := domainEnd(lower, domainStart, loose)
	if start >= localEnd || end < 0 || word && !spelt && allLetters(text[start:localEnd]) {
		return found
	}
	n := len(found)
	found = append(found, Finding{Email, start, end})
	// Keep the findings in order: one starts at most maxLocal and a few
	// spelt-out dots before its @.
	for j := n; j > 0 && less(found[j], found[j-1]); j-- {
		found[j], found[j-1] = found[j-1], found[j]
	}
	return found
}

// atSign reports whether an @ or a spelt-out one starts at i (at "@" or at
// the "a" of "at"; a bracket before it belongs to it), and returns where
// the local part before it ends, where the domain after it starts,
// whether it is a loose form (see looseTLDs) and whether it is the bare
// word "at".
func atSign(lower string, i int) (localEnd, domainStart int, loose, word, ok bool) {
	n := 1 // the length of the sign, "@" or "at"
	if lower[i] != '@' {
		n = 2
		if i > 0 && isWordByte(lower[i-1]) || i+2 < len(lower) && isWordByte(lower[i+2]) {
			return 0, 0, false, false, false
		}
	}
	open, closing := i-1, i+n
	switch {
	case open >= 0 && closing < len(lower) && bracketPair(lower[open], lower[closing]):
		return trimSpacesBefore(lower, open), skipSpaces(lower, closing+1), false, false, true
	case n == 2 && (open < 0 || !isSpace(lower[open]) || closing >= len(lower) || !isSpace(lower[closing])):
		return 0, 0, false, false, false // "at" must stand between spaces
	}
	localEnd, domainStart = trimSpacesBefore(lower, i), skipSpaces(lower, i+n)
	return localEnd, domainStart, n == 2 || localEnd < i || domainStart > i+n, n == 2, true
}

// bracketPair reports whether a and b are an opening and a closing
// bracket of the same kind.
func bracketPair(a, b byte) bool {
	return a == '(' && b == ')' || a == '[' && b == ']' || a == '{' && b == '}' || a == '<' && b == '>'
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }

// trimSpacesBefore returns end moved back over up to maxEmailSpaces
// spaces.
func trimSpacesBefore(s string, end int) int {
	for n := 0; n < maxEmailSpaces && end > 0 && isSpace(s[end-1]); n++ {
		end--
	}
	return end
}

// skipSpaces returns p moved on over up to maxEmailSpaces spaces.
func skipSpaces(s string, p int) int {
	for n := 0; n < maxEmailSpaces && p < len(s) && isSpace(s[p]); n++ {
		p++
	}
	return p
}

// localStart returns where the local part that ends at end starts, or end
// when there is none. It reads back over local bytes and spelt-out dots,
// at most maxLocal bytes of local part, and leaves out dots, hyphens and
// apostrophes at its start.
func localStart(text, lower string, end int) int {
	start, budget := end, maxLocal
	for {
		run := start
		for run > 0 && budget > 0 && isLocalByte(text[run-1]) {
			run--
			budget--
		}
		if run == start {
			break
		}
		start = run
		n := dotBefore(lower, start)
		if n == 0 || start-n == 0 || !isLocalByte(text[start-n-1]) {
			break
		}
		start -= n
	}
	for start < end && strings.IndexByte(".-'", text[start]) >= 0 {
		start++
	}
	// A spelt-out dot cannot start the local part.
	for start < end && !isLocalByte(text[start]) {
		start++
	}
	return start
}

// domainEnd returns where the domain starting at p ends, or -1 when there
// is none: two or more labels of letters, digits and hyphens (not starting
// or ending with one) joined by dots or spelt-out dots, the last of them
// two or more letters (from looseTLDs when loose), within maxDomain bytes.
// It also reports whether any dot was spelt out.
func domainEnd(lower string, p int, loose bool) (end int, spelt bool) {
	limit := min(len(lower), p+maxDomain)
	labels := 0
	end = -1
	var last string
	for q := p; ; {
		s := q
		for q < limit && (isASCIILetter(lower[q]) || isDigit(lower[q]) || lower[q] == '-') {
			q++
		}
		e := q
		for e > s && lower[e-1] == '-' {
			e-- // trailing hyphens belong to the sentence
		}
		if e == s || lower[s] == '-' || e < q && q < limit && dotAt(lower, q, limit) > 0 {
			break
		}
		labels, end, last = labels+1, e, lower[s:e]
		n := dotAt(lower, q, limit)
		if n == 0 || e < q {
			break
		}
		spelt = spelt || n > 1
		q += n
	}
	if labels < 2 || len(last) < 2 || !allLetters(last) ||
		loose && !strings.Contains(looseTLDs, " "+last+" ") {
		return -1, false
	}
	return end, spelt
}

// dotAt returns the length of a dot or a spelt-out dot at p followed by a
// domain label, or 0.
func dotAt(lower string, p, limit int) int {
	q := skipSpaces(lower, p)
	switch {
	case q < limit && lower[q] == '.' && q == p:
		q++
	case hasBracketed(lower, q, "dot"):
		q = skipSpaces(lower, q+5)
	case hasBracketed(lower, q, "."):
		q = skipSpaces(lower, q+3)
	case q > p && strings.HasPrefix(lower[q:], "dot") && q+3 < len(lower) && isSpace(lower[q+3]):
		q = skipSpaces(lower, q+3)
	default:
		return 0
	}
	if q >= limit || !(isASCIILetter(lower[q]) || isDigit(lower[q])) {
		return 0
	}
	return q - p
}

// dotBefore returns the length of a spelt-out dot ending at end ("(dot)",
// "[.]", " dot ", with spaces around), or 0.
func dotBefore(lower string, end int) int {
	q := trimSpacesBefore(lower, end)
	for _, w := range []string{"dot", "."} {
		if s := q - len(w) - 2; s >= 0 && bracketPair(lower[s], lower[q-1]) && lower[s+1:q-1] == w {
			return end - trimSpacesBefore(lower, s)
		}
	}
	if q < end && q >= 4 && lower[q-3:q] == "dot" && isSpace(lower[q-4]) {
		return end - trimSpacesBefore(lower, q-3)
	}
	return 0
}

// hasBracketed reports whether w in brackets stands at p: "(dot)".
func hasBracketed(lower string, p int, w string) bool {
	return p+len(w)+2 <= len(lower) && bracketPair(lower[p], lower[p+len(w)+1]) && lower[p+1:p+1+len(w)] == w
}

func allLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isASCIILetter(s[i]) {
			return false
		}
	}
	return true
}

func isLocalByte(c byte) bool {
	return isASCIILetter(c) || isDigit(c) || strings.IndexByte("._%+-'", c) >= 0
}
