package pii

import "regexp"

// An NHS number is 10 digits, usually shown 3-3-4, with or without spaces,
// hyphens or dots between the groups. The tenth digit is a modulus 11 check
// digit, so about one random 10-digit number in eleven passes by chance.
// A number that passes is an NHS number wherever it stands; one that fails
// is still an NHS number when it is labelled as one: right after the label
// ("NHS number: ...", "NHS no. ...", "NHS#...", "NHS ..."), or a few words
// after "NHS number" or "NHS no" in the same sentence ("the NHS number on
// the wristband (...)").
var (
	nhsShape = regexp.MustCompile(`^\d{3}[ .\-]?\d{3}[ .\-]?\d{4}\b`)
	nhsLabel = regexp.MustCompile(`(?i)\bnhs[ \t]?(?:numbers?|num|nbr|no|id)?` + glueEnd +
		`|(?i)\bnhs[ \t]?(?:numbers?|no)\b[^.;:!?\n]*$`)
)

// nhsNumberAt finds an NHS number that starts with the word at start: the
// first group of three digits, or all ten.
func nhsNumberAt(in input, start int, word string, found []Finding) []Finding {
	if len(word) != 3 && len(word) != 10 || !isDigit(word[0]) {
		return found
	}
	m := matchAt(nhsShape, in.text, start, 13)
	if m != nil && (validNHSNumber(digitsOf(in.text[m[0]:m[1]])) || labelled(in.text, m[0], nhsLabel)) {
		found = append(found, Finding{NHSNumber, m[0], m[1]})
	}
	return found
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
