package pii

import "regexp"

// A hospital or medical record number is caught only when labelled as one:
// "hospital number", "hosp no.", "unit number", "case note number",
// "medical record number", "health record number", "PAS number",
// "patient ID", "patient number", "MRN", "CRN", or a trust's code followed
// by "number" ("RGT number", "RM1 no."). The value is up to three letters,
// maybe a hyphen, slash or space, then digits (single spaces or hyphens may
// group them) and letters, 4 to 19 characters in all, with at least four
// digits: "K1234567", "RM1-0012345", "123 456 7", "A123456B".
const recordValue = `\.?[ \t]{0,3}\(?(?:[:=#\-][ \t]{0,3})?(?i:(?:is|was)[ \t]{1,3})?` +
	`((?:[A-Za-z]{1,3}[\-/ ]?)?\d(?:[ \-]?\d|[A-Za-z]){3,15})\b`

var recordShape = regexp.MustCompile(`^(?:(?i:(?:hospital|hosp|unit|case[ \-]?notes?|casenotes?|medical[ \-]records?|health[ \-]records?|clinical[ \-]records?|pas|patient|pt)[ \t]?(?:(?:numbers?|num|nbr|no|id|identifier)\b|#)|(?:mrn|m\.r\.n|crn)\b)` +
	`|R[A-Z0-9]{2}[ \t]?(?i:numbers?|num|no)\b)` + recordValue)

// recordNumberAt finds a record number whose label starts at the word at
// start; lower is the word in lower case.
func recordNumberAt(in input, start int, word, lower string, found []Finding) []Finding {
	switch {
	case lower == "hospital", lower == "hosp", lower == "unit", lower == "case", lower == "casenote", lower == "casenotes",
		lower == "medical", lower == "health", lower == "clinical", lower == "pas", lower == "patient", lower == "pt",
		lower == "mrn", lower == "m", lower == "crn":
	case trustCode(word):
	default:
		return found
	}
	if !digitWithin(in.text, start+len(word), anchoredWindow) {
		return found
	}
	m := matchAt(recordShape, in.text, start, anchoredWindow)
	if m != nil && len(digitsOf(in.text[m[2]:m[3]])) >= 4 {
		found = append(found, Finding{RecordNumber, m[2], m[3]})
	}
	return found
}

// trustCode reports whether word looks like an NHS trust's ODS code: R and
// two capitals or digits. "REF" is left out: "REF number" is an event
// reference.
func trustCode(word string) bool {
	if len(word) != 3 || word[0] != 'R' || word == "REF" {
		return false
	}
	for i := 1; i < 3; i++ {
		if !('A' <= word[i] && word[i] <= 'Z' || isDigit(word[i])) {
			return false
		}
	}
	return true
}
