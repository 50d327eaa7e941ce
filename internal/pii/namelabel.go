package pii

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// Names after labels and before "(the patient)": see name.go for the
// rules.

var (
	// nameLabel is a label for a name and the glue after it, anchored at
	// the label's first word. Group 1 is the label.
	nameLabel = regexp.MustCompile(`^(?i:((?:patient|pt|patient's|patient’s|his|her|their|nok|next[ \t]of[ \t]kin|full|first|last|sur|fore|given|family|maiden|mother's|father's|husband's|wife's|partner's|son's|daughter's)[ \t]?names?|surname|forename|named|nok|next[ \t]of[ \t]kin|name[ \t]of[ \t](?:the[ \t])?(?:patient|pt)|name[ \t]?[:=]))` +
		`[ \t]*(?:[:=\-][ \t]*)?(?i:(?:is|was|recorded|given|written|entered|documented|noted|listed|as)[ \t]+)*`)
	// nameOnly is a whole word of a name, capitalised or in capitals.
	nameOnly = regexp.MustCompile(`^(?:` + nameWord + `|` + capsWord + `)$`)
)

// labelledNameAt finds a name after a label whose first word is at start;
// lower is the word in lower case. A title between the label and the name
// is passed over ("patient name: Mrs Doris Fielding").
func labelledNameAt(in input, start int, lower string, found []Finding) []Finding {
	switch lower {
	case "surname", "forename", "named", "nok", "next", "name":
	case "patient", "pt", "his", "her", "their", "full", "first", "last", "given", "family", "maiden",
		"mother", "father", "husband", "wife", "partner", "son", "daughter":
		// Common words: only a label when "name" comes next, as in
		// "patient's name", so look before running the pattern.
		after := start + len(lower)
		if !strings.Contains(in.lower[after:min(len(in.lower), after+12)], "name") {
			return looselyLabelledNameAt(in, start, lower, found)
		}
	case "called", "known", "aka", "a":
		return looselyLabelledNameAt(in, start, lower, found)
	default:
		return found
	}
	m := matchAt(nameLabel, in.text, start, anchoredWindow)
	if m == nil {
		return looselyLabelledNameAt(in, start, lower, found)
	}
	label, glue := in.text[m[2]:m[3]], in.text[m[3]:m[1]]
	if lower == "name" && strings.ContainsAny(in.text[m[2]:m[3]], ":=") && !personNameLabel(in.text, start) {
		return found
	}
	p := m[1]
	end := p
	for end < len(in.text) && isWordByte(in.text[end]) {
		end++
	}
	if isTitle(in.text[p:end]) {
		if q, ok := afterTitle(in.text, end); ok {
			p = q
		}
	}
	// A name in lower case only after a label that plainly ends:
	// "patient name: john", not "patient's name band".
	explicit := strings.ContainsAny(label, ":=") || strings.TrimSpace(glue) != ""
	return nameAt(in.text, p, cases{capitals: true, shortCaps: true, lower: explicit}, found)
}

// looselyLabelledNameAt finds a name after one of the looser labels
// ("patient", "pt", "patient:", "called", "known as", "aka", "a.k.a.")
// whose first word, lower in lower case, is at start. A title after it is
// left to titledNameAt. (Go rather than a pattern, as "patient" is
// everywhere in reports and this is cheaper.)
func looselyLabelledNameAt(in input, start int, lower string, found []Finding) []Finding {
	text := in.text
	p := start + len(lower)
	switch lower {
	case "patient", "pt":
		q := skipBlanks(text, p)
		if q < len(text) && (text[q] == ':' || text[q] == '-') {
			p = q + 1
		}
	case "called", "aka":
	case "known":
		q := skipBlanks(text, p)
		if q == p || !strings.HasPrefix(in.lower[q:], "as") {
			return found
		}
		p = q + 2
	case "a":
		if !strings.HasPrefix(in.lower[start:], "a.k.a") {
			return found
		}
		p = start + len("a.k.a")
		if p < len(text) && text[p] == '.' {
			p++
		}
	default:
		return found
	}
	q := skipBlanks(text, p)
	if q == p {
		return found // the label must be followed by a space
	}
	return nameAt(text, q, cases{loose: true}, found)
}

// skipBlanks returns p moved on over spaces and tabs.
func skipBlanks(text string, p int) int {
	for p < len(text) && isSpace(text[p]) {
		p++
	}
	return p
}

// nameBeforeAt finds a name just before "(the patient)" or "(patient)",
// whose word "patient" (or "pt") is at start; lower is the word in lower
// case. It reads back at most maxNameWords capitalised words or words in
// capitals, and stops at a title, a common word or an ordinary one.
func nameBeforeAt(in input, start int, lower string, found []Finding) []Finding {
	text := in.text
	if lower != "patient" && lower != "pt" {
		return found
	}
	if end := start + len(lower); end >= len(text) || text[end] != ')' {
		return found
	}
	open := start - 1
	if start >= 5 && in.lower[start-4:start] == "the " {
		open = start - 5
	}
	if open < 1 || text[open] != '(' {
		return found
	}
	end := trimSpacesBefore(text, open)
	nameStart := end
	for n := 0; n < maxNameWords; n++ {
		s := nameStart
		if n > 0 {
			// Words are one or two spaces apart.
			if s = trimSpacesBefore(text, nameStart); s == nameStart {
				break
			}
		}
		w := s
		for w > 0 && s-w < 40 && (text[w-1] >= utf8.RuneSelf || isASCIILetter(text[w-1]) || text[w-1] == '\'' || text[w-1] == '-') {
			w--
		}
		word := text[w:s]
		if !nameOnly.MatchString(word) || isTitle(word) || isOrdinary(word) {
			break
		}
		nameStart = w
	}
	if nameStart < end {
		found = append(found, Finding{Name, nameStart, end})
	}
	return found
}

// personNameLabel reports whether a bare "name:" at label is about a
// person, not a drug, device or place ("drug name: ...").
func personNameLabel(text string, label int) bool {
	before := strings.TrimRight(text[max(0, label-24):label], " \t")
	i := strings.LastIndexAny(before, " \t\n(,;")
	word := strings.ToLower(before[i+1:])
	return !strings.Contains(" drug medication medicine product brand device ward trade generic team file user unit hospital trust practice surgery company equipment procedure operation test ", " "+word+" ")
}
