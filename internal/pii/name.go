package pii

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A personal name is caught after a title ("Mr Jones", "Dr. A. Patel",
// "Mrs O'Neil", "Ms Anne-Marie Lee", "Prof Kaur", "DR OKAFOR") or after a
// label ("patient name: John", "the patient, named Ahmed Khan", "NOK Jane
// Smith", "Name: JOHN SMITH"). The finding covers the name, not the title
// or the label. A name is one to three words, each starting with a capital
// letter and going on in lower case (with O'Neil, McDonald and Anne-Marie
// forms), maybe after initials ("J. R. Smith"); after a title in capitals,
// or after a label, words in capitals count too. A title followed by a word
// in lower case ("Dr on call"), by a single capital ("Mrs A", which is how
// reports anonymise) or by a common word ("Mr Men", "Dr On Call") is not a
// name. Names with neither a title nor a label are not caught.
const (
	nameWord = `\p{Lu}(?:\p{Ll}+|['’]\p{Lu}\p{Ll}+)(?:\p{Lu}\p{Ll}+)?(?:-\p{Lu}\p{Ll}+)?`
	capsWord = `\p{Lu}['’]?\p{Lu}+(?:-\p{Lu}+)?`
	initials = `(?:\p{Lu}(?:\.[ \t]?|[ \t]))*`
)

var (
	// nameShape is a name in the usual case (group 1) or in capitals
	// (group 2), anchored where it starts. Its * are bounded by the
	// window it runs in; checkName keeps at most maxNameWords words.
	nameShape = regexp.MustCompile(`^(?:(` + initials + nameWord + `(?:[ \t]` + nameWord + `)*)` +
		`|(` + initials + capsWord + `(?:[ \t]` + capsWord + `)*))`)
	// nameLabel is a label for a name and the glue after it, anchored at
	// the label's first word. Group 1 is the label.
	nameLabel = regexp.MustCompile(`^(?i:((?:patient|pt|patient's|patient’s|his|her|their|nok|next[ \t]of[ \t]kin|full|first|last|sur|fore|given|family|maiden|mother's|father's|husband's|wife's|partner's|son's|daughter's)[ \t]?names?|surname|forename|named|nok|next[ \t]of[ \t]kin|name[ \t]of[ \t](?:the[ \t])?(?:patient|pt)|name[ \t]?[:=]))` +
		`[ \t]*(?:[:=\-][ \t]*)?(?i:(?:is|was|recorded|given|written|entered|documented|noted|listed|as)[ \t]+)*`)
)

// maxNameWords is how many words a name can have after its initials.
const maxNameWords = 3

// notNames are words that follow a title or label without being a name,
// between spaces and in lower case.
const notNames = " on in at of the and or to for by with was is are has had men called review" +
	" reviewed informed aware attended contacted bleeped patient patients team registrar" +
	" wife husband partner son daughter mother father brother sister friend carer family" +
	" consultant surgeon anaesthetist nurse doctor practitioner unknown not none withheld" +
	" ed ae icu itu hdu sho gp spr reg mri ecg tbc na "

// isTitle reports whether word is a title that can stand before a name.
func isTitle(word string) bool {
	switch word {
	case "Mr", "Mrs", "Ms", "Miss", "Mx", "Master", "Dr", "Doctor", "Prof", "Professor", "Sir", "Dame",
		"Lady", "Lord", "Rev", "Revd", "Reverend", "Sister",
		"MR", "MRS", "MS", "MISS", "MX", "DR", "PROF":
		return true
	}
	return false
}

// inCapitals reports whether word, a title, is written in capitals ("DR"),
// after which a name in capitals ("DR OKAFOR") is a name too.
func inCapitals(word string) bool { return strings.ToUpper(word) == word }

// afterTitle returns where the name after a title ending at end would
// start: after a full stop and any spaces ("Dr.Smith", "Dr. Smith"), or
// after at least one space ("Dr Smith"). It reports false when neither
// follows.
func afterTitle(text string, end int) (int, bool) {
	p := end
	if p < len(text) && text[p] == '.' {
		p++
	} else if p >= len(text) || text[p] != ' ' && text[p] != '\t' {
		return 0, false
	}
	for p < len(text) && (text[p] == ' ' || text[p] == '\t') {
		p++
	}
	return p, true
}

// titledNameAt finds a name after a title that is the word at start.
func titledNameAt(in input, start int, word string, found []Finding) []Finding {
	if !isTitle(word) {
		return found
	}
	p, ok := afterTitle(in.text, start+len(word))
	if !ok {
		return found
	}
	return nameAt(in.text, p, inCapitals(word), found)
}

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
			return found
		}
	default:
		return found
	}
	m := matchAt(nameLabel, in.text, start, anchoredWindow)
	if m == nil {
		return found
	}
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
	return nameAt(in.text, p, true, found)
}

// nameAt finds a name that starts at p; in capitals too when capitals is
// true.
func nameAt(text string, p int, capitals bool, found []Finding) []Finding {
	m := matchAt(nameShape, text, p, anchoredWindow)
	if m == nil {
		return found
	}
	start, end := m[2], m[3]
	if start < 0 {
		if !capitals {
			return found
		}
		start, end = m[4], m[5]
	}
	if end, ok := checkName(text, start, end); ok {
		found = append(found, Finding{Name, start, end})
	}
	return found
}

// checkName checks text[start:end], a match of a name pattern, and returns
// where the name ends. It is not a name when it stops in the middle of a
// word ("DR SMITHson", "Dr FY1") or when its first word is a common word
// or another title ("Mr Mr", "Dr. Prof. Kaur", where Prof begins its own).
// A name keeps at most maxNameWords words after its initials, and common
// words after the name ("PATEL REVIEWED PATIENT") are left out.
func checkName(text string, start, end int) (int, bool) {
	r, _ := utf8.DecodeRuneInString(text[end:])
	if end < len(text) && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
		return 0, false
	}
	// The words of the name, as offsets into text.
	type span struct{ start, end int }
	var words []span
	for i := start; i < end; {
		if text[i] == ' ' || text[i] == '\t' {
			i++
			continue
		}
		j := i
		for j < end && text[j] != ' ' && text[j] != '\t' {
			j++
		}
		words = append(words, span{i, j})
		i = j
	}
	word := func(i int) string { return text[words[i].start:words[i].end] }
	// Initials ("J.", "R", "J.R.") are kept but not judged.
	first := 0
	for first < len(words)-1 && utf8.RuneCountInString(strings.ReplaceAll(word(first), ".", "")) <= 1 {
		first++
	}
	if first >= len(words) || commonWord(word(first)) || isTitle(word(first)) {
		return 0, false
	}
	last := min(len(words), first+maxNameWords) - 1
	for last > first && commonWord(word(last)) {
		last--
	}
	return words[last].end, true
}

// commonWord reports whether word is in notNames.
func commonWord(word string) bool {
	return strings.Contains(notNames, " "+strings.ToLower(word)+" ")
}

// personNameLabel reports whether a bare "name:" at label is about a
// person, not a drug, device or place ("drug name: ...").
func personNameLabel(text string, label int) bool {
	before := strings.TrimRight(text[max(0, label-24):label], " \t")
	i := strings.LastIndexAny(before, " \t\n(,;")
	word := strings.ToLower(before[i+1:])
	return !strings.Contains(" drug medication medicine product brand device ward trade generic team file user unit hospital trust practice surgery company equipment procedure operation test ", " "+word+" ")
}
