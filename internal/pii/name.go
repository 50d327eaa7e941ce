package pii

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A personal name is caught after a title ("Mr Jones", "Dr. A. Patel",
// "Mrs O'Neil", "Ms Anne-Marie Lee", "Prof Kaur", "DR OKAFOR", "mrs smith",
// "Mrs. SMITH"), after a label ("patient name: John", "the patient, named
// Ahmed Khan", "NOK Jane Smith", "Name: JOHN SMITH", "pt name: john
// smith"), after the looser labels "patient", "pt", "patient:", "called",
// "known as" and "aka" ("patient John Smith", "a man called Tom Reid"),
// or before "(the patient)" or "(patient)". The finding covers the name,
// not the title or the label.
//
// A name is one to three words, maybe after initials ("J. R. Smith"), in
// one of three cases:
//   - capitalised (with O'Neil, McDonald and Anne-Marie forms): after any
//     title or label;
//   - in capitals: after a title in capitals or a label, or after another
//     title when the name has three letters or more ("Mrs. SMITH"; "Mr AB"
//     is more likely initials), and not a common abbreviation ("Dr SHO");
//   - in lower case: after Mr, Mrs, Ms, Mx, Miss, Dr or Doctor (mr, mrs,
//     ms, mx and dr in lower case count as titles too; miss and prof in
//     lower case do, but only before a capitalised name, as "did not miss
//     doses" and "prof dev" show), or after a label that ends in a colon,
//     an equals sign or a word such as "is" ("patient name: john"). Lower
//     case is where names and ordinary words meet, so a name in lower case
//     must be three letters or more (two are more likely initials: "mrs
//     ab"), not an ordinary word (ordinaryWords: "Dr on call", "Dr to
//     review", "mr tablets"), and not end as verbs and adverbs do ("dr
//     informed", "mrs walking"); it stops before the first word that is.
//
// A title followed by a single capital ("Mrs A", which is how reports
// anonymise) or by a common word ("Mr Men", "Dr On Call") is not a name;
// after the looser labels, only a capitalised word that is not an ordinary
// word, role or service and does not end as a verb ("Patient Transport",
// "called Switchboard", "patient Stated") counts, and before "(the
// patient)" only capitalised words or words in capitals. Names with
// neither a title nor a label are not caught.
const (
	nameWord  = `\p{Lu}(?:\p{Ll}+|['’]\p{Lu}\p{Ll}+)(?:\p{Lu}\p{Ll}+)?(?:-\p{Lu}\p{Ll}+)?`
	capsWord  = `\p{Lu}['’]?\p{Lu}+(?:-\p{Lu}+)?`
	lowerWord = `\p{Ll}+(?:['’]\p{Ll}+)?(?:-\p{Ll}+)?`
	initials  = `(?:\p{Lu}(?:\.[ \t]?|[ \t])){0,4}`
)

var (
	// nameShape is a name capitalised (group 1), in capitals (group 2) or
	// in lower case (group 3), anchored where it starts. It takes at most
	// four initials and five words, which is more than checkName keeps
	// (maxNameWords), so that a run of titles or capitalised words does
	// not make it read far.
	nameShape = regexp.MustCompile(`^(?:(` + initials + nameWord + `(?:[ \t]` + nameWord + `){0,4})` +
		`|(` + initials + capsWord + `(?:[ \t]` + capsWord + `){0,4})` +
		`|(` + lowerWord + `(?:[ \t]` + lowerWord + `){0,4}))`)
)

// maxNameWords is how many words a name can have after its initials.
const maxNameWords = 3

// cases says in which cases a name may be written at a place.
type cases struct {
	capitals  bool // JONES
	shortCaps bool // two capitals: JO (after a title in capitals or a label)
	lower     bool // jones
	loose     bool // after a looser label: capitalised only, no ordinary word
}

// isTitle reports whether word is a title that can stand before a name.
func isTitle(word string) bool {
	switch word {
	case "Mr", "Mrs", "Ms", "Miss", "Mx", "Master", "Dr", "Doctor", "Prof", "Professor", "Sir", "Dame",
		"Lady", "Lord", "Rev", "Revd", "Reverend", "Sister",
		"MR", "MRS", "MS", "MISS", "MX", "DR", "PROF",
		"mr", "mrs", "ms", "mx", "dr", "miss", "prof":
		return true
	}
	return false
}

// titleCases returns the cases a name may take after title.
func titleCases(title string) cases {
	c := cases{capitals: true, shortCaps: strings.ToUpper(title) == title}
	switch title {
	case "miss", "prof":
		// Also a verb and the start of "professional" in lower case:
		// "did not miss doses", "prof dev".
	default:
		switch strings.ToLower(title) {
		case "mr", "mrs", "ms", "mx", "miss", "dr", "doctor":
			c.lower = true
		}
	}
	return c
}

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
	return nameAt(in.text, p, titleCases(word), found)
}

// nameAt finds a name that starts at p, in the cases allowed.
func nameAt(text string, p int, c cases, found []Finding) []Finding {
	// A cheap test first: a name starts with a letter, in lower case only
	// where that is allowed.
	if p >= len(text) || text[p] < utf8.RuneSelf && !('A' <= text[p] && text[p] <= 'Z' || c.lower && 'a' <= text[p] && text[p] <= 'z') {
		return found
	}
	m := matchAt(nameShape, text, p, anchoredWindow)
	if m == nil {
		return found
	}
	var end int
	var ok bool
	switch {
	case m[2] >= 0:
		end, ok = checkName(text, m[2], m[3], false, c.loose)
	case m[4] >= 0 && c.capitals:
		end, ok = checkName(text, m[4], m[5], true, false)
		ok = ok && (c.shortCaps || firstWordLetters(text[p:end]) >= 3)
	case m[6] >= 0 && c.lower:
		end, ok = checkLowerName(text, m[6], m[7])
	}
	if ok {
		found = append(found, Finding{Name, p, end})
	}
	return found
}

// firstWordLetters counts the letters of the first word of a name after
// its initials.
func firstWordLetters(name string) int {
	for _, w := range strings.Fields(name) {
		if n := utf8.RuneCountInString(strings.ReplaceAll(w, ".", "")); n > 1 {
			return n
		}
	}
	return 0
}

// words returns the words of text[start:end], split at spaces and tabs,
// as offsets into text.
func words(text string, start, end int) []span {
	var out []span
	for i := start; i < end; {
		if text[i] == ' ' || text[i] == '\t' {
			i++
			continue
		}
		j := i
		for j < end && text[j] != ' ' && text[j] != '\t' {
			j++
		}
		out = append(out, span{i, j})
		i = j
	}
	return out
}

// endsWord reports whether a name ending at end ends a word: not in the
// middle of one ("DR SMITHson", "Dr FY1", "Post-op").
func endsWord(text string, end int) bool {
	r, _ := utf8.DecodeRuneInString(text[end:])
	if r == '-' && end+1 < len(text) {
		r, _ = utf8.DecodeRuneInString(text[end+1:])
	}
	return end >= len(text) || !unicode.IsLetter(r) && !unicode.IsDigit(r)
}

// checkName checks text[start:end], a match of a capitalised name or
// (with capitals) a name in capitals, and returns where the name ends. It
// is not a name when it stops in the middle of a word, or when its first
// word is a common word (in capitals, an abbreviation too; when loose, an
// ordinary word too, and initials are not allowed) or another title ("Mr
// Mr", "Dr. Prof. Kaur", where Prof begins its own). A name keeps at most
// maxNameWords words after its initials, and common words after the name
// ("PATEL REVIEWED PATIENT") are left out.
func checkName(text string, start, end int, capitals, loose bool) (int, bool) {
	if !endsWord(text, end) {
		return 0, false
	}
	ws := words(text, start, end)
	word := func(i int) string { return text[ws[i].start:ws[i].end] }
	// Initials ("J.", "R", "J.R.") are kept but not judged.
	first := 0
	for first < len(ws)-1 && utf8.RuneCountInString(strings.ReplaceAll(word(first), ".", "")) <= 1 {
		first++
	}
	if first >= len(ws) || commonWord(word(first)) || isTitle(word(first)) ||
		capitals && isAbbreviation(word(first)) ||
		loose && (first > 0 || isOrdinary(word(first)) || verbLike(word(first))) {
		return 0, false
	}
	last := min(len(ws), first+maxNameWords) - 1
	for last > first && (commonWord(word(last)) || loose && (isOrdinary(word(last)) || verbLike(word(last)))) {
		last--
	}
	return ws[last].end, true
}

// checkLowerName checks text[start:end], a match of a name in lower case,
// and returns where the name ends: before the first word that is
// ordinary or verb-like, after at most maxNameWords words.
func checkLowerName(text string, start, end int) (int, bool) {
	if !endsWord(text, end) {
		return 0, false
	}
	ws := words(text, start, end)
	n := 0
	for n < len(ws) && n < maxNameWords {
		w := text[ws[n].start:ws[n].end]
		if utf8.RuneCountInString(w) < 3 || isOrdinary(w) || verbLike(w) || isTitle(w) {
			break
		}
		n++
	}
	if n == 0 {
		return 0, false
	}
	return ws[n-1].end, true
}
