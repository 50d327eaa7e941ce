// Package pii is the identifier guard: it finds things in free text that
// could identify a patient or a member of staff, so that the recording forms
// can refuse the text before anything is stored (issue 5).
//
// It looks for NHS numbers, UK postcodes, dates of birth, UK phone numbers,
// email addresses, hospital or medical record numbers and personal names
// after a title or a label. Each kind has a shape (found with a regular
// expression, or, for the groups of digits of NHS and phone numbers, read
// in Go: see digits.go) and, where the shape alone is not enough, a check
// in Go (the NHS number's modulus 11 check digit, postcode areas, real
// calendar dates, the length of a phone number) or a label just before it
// ("NHS number", "DOB", "MRN", "patient name"). See the files of each kind
// for the rules.
//
// The package does no I/O and keeps no state. A Finding holds only a kind
// and byte offsets, never the text, so that callers cannot log or store what
// was found by accident; Describe words a finding for people without
// repeating it.
//
// Formatting does not hide an identifier: Scan normalises the text first
// (NFKC, invisible characters dropped, Unicode spaces, digits and dashes
// made ASCII; see normalise.go), scans the result and maps what it finds
// back to the original text, so offsets are always into the text given.
//
// Scan runs in time linear in the length of the text. Normalising is one
// pass. It then walks the words of the text once and, at a word that can
// begin an identifier, runs that kind's regular expression (RE2, itself
// linear) or reads its groups of digits, anchored there over a bounded
// window (see words.go); email addresses are found from each @ (or "at")
// with a bounded reach; every check in Go looks at a bounded window around
// a candidate; and the findings come out in order, so merging them and
// mapping them back are linear too.
package pii

import (
	"slices"
)

// Kind is a kind of identifier.
type Kind string

// The kinds of identifier the guard finds.
const (
	NHSNumber    Kind = "nhs_number"
	Postcode     Kind = "postcode"
	DateOfBirth  Kind = "date_of_birth"
	Phone        Kind = "phone"
	Email        Kind = "email"
	RecordNumber Kind = "record_number"
	Name         Kind = "name"
)

// Label is the kind as people read it, such as "NHS number" or "postcode",
// for error messages.
func (k Kind) Label() string {
	switch k {
	case NHSNumber:
		return "NHS number"
	case Postcode:
		return "postcode"
	case DateOfBirth:
		return "date of birth"
	case Phone:
		return "phone number"
	case Email:
		return "email address"
	case RecordNumber:
		return "hospital or medical record number"
	case Name:
		return "name"
	default:
		return "identifier"
	}
}

// rank orders kinds whose findings start and end at the same place: the
// lower rank is kept. Labelled and checked kinds come first.
func (k Kind) rank() int {
	switch k {
	case NHSNumber:
		return 0
	case RecordNumber:
		return 1
	case DateOfBirth:
		return 2
	case Email:
		return 3
	case Phone:
		return 4
	case Postcode:
		return 5
	case Name:
		return 6
	default:
		return 7
	}
}

// Finding is one identifier found: its kind and where it is, as byte offsets
// into the text (Start inclusive, End exclusive). It never holds the text
// itself.
type Finding struct {
	Kind       Kind
	Start, End int
}

// Scan returns every identifier in text, in order of Start, without
// overlaps. It runs in time linear in len(text) and never panics, whatever
// the bytes (invalid UTF-8 included).
func Scan(text string) []Finding {
	n := normalise(text)
	return n.toOriginal(tidy(scanAll(n.text)...))
}

// scanAll runs every scanner over text. Each returns its findings in order
// of Start (see less), which lets tidy merge them in linear time.
func scanAll(text string) [][]Finding {
	in := input{text: text, lower: asciiLower(text)}
	return [][]Finding{
		scanEmails(in, nil),
		scanWords(in, nil),
	}
}

// input is the text being scanned and a copy of it with ASCII letters in
// lower case, byte for byte (so offsets are the same), for comparing words
// with labels.
type input struct {
	text, lower string
}

// asciiLower returns s with A-Z turned to a-z and every other byte as it
// is, so that it has the same length and offsets whatever the bytes.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// less orders findings by Start, then the longer first, then by the rank
// of their kinds.
func less(a, b Finding) bool {
	if a.Start != b.Start {
		return a.Start < b.Start
	}
	if a.End != b.End {
		return a.End > b.End
	}
	return a.Kind.rank() < b.Kind.rank()
}

// tidy merges lists of findings, each in order (see less), into one list in
// order of Start, and merges overlapping findings, so that the result covers
// every byte any finding covered. When two overlap, the one that comes first
// gives the merged finding its kind. Merging sorted lists takes time linear
// in the number of findings; should a list ever be out of order, the result
// is sorted instead, which is slower but still right.
func tidy(lists ...[]Finding) []Finding {
	var all []Finding
	heads := make([]int, len(lists))
	for {
		best := -1
		for i, l := range lists {
			if heads[i] < len(l) && (best < 0 || less(l[heads[i]], lists[best][heads[best]])) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		all = append(all, lists[best][heads[best]])
		heads[best]++
	}
	if len(all) == 0 {
		return nil
	}
	if !slices.IsSortedFunc(all, compare) {
		slices.SortFunc(all, compare)
	}
	out := all[:1]
	for _, f := range all[1:] {
		last := &out[len(out)-1]
		if f.Start < last.End {
			last.End = max(last.End, f.End)
			continue
		}
		out = append(out, f)
	}
	return out
}

// compare is less as a three-way comparison, for the slices package.
func compare(a, b Finding) int {
	switch {
	case less(a, b):
		return -1
	case less(b, a):
		return 1
	default:
		return 0
	}
}
