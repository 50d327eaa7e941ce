package pii

import (
	"regexp"
	"strconv"
	"strings"
)

// A date of birth is a real calendar date (or a month and year) labelled as
// one: "DOB 12/03/1956", "D.O.B.: 1956-03-12", "D/O/B 12031956", "date of
// birth 3rd March 1956", "born on the twelfth of March 1956", "b. 12 03
// 1956", "born in March 1956". Dates without such a label, such as the date
// of the incident, are not identifiers.
//
// Accepted forms, after any label:
//   - day, month and year separated by /, ., -, _ or \ (spaces around them
//     allowed) or by spaces alone, with a 2- or 4-digit year (month, day
//     and year too when only that reading is a real date): "12/03/1956",
//     "12 / 03 / 56", "12 03 1956";
//   - year, month and day the same way: "1956-03-12", "1956/03/12";
//   - eight or six digits run together, as DDMMYYYY, YYYYMMDD or DDMMYY:
//     "12031956", "19560312", "120356";
//   - day (a number, maybe with st, nd, rd or th, or an ordinal word such
//     as "twelfth" or "twenty-first"), month name, year: "12 March 1956",
//     "12th of March, 1956", "12-Mar-1956", "12 March '56", "twelfth of
//     March 1956";
//   - month name, day, year: "March 12, 1956", "March the twelfth 1956";
//   - month name and year: "March 1956".
const (
	monthName   = `(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)`
	ordinalWord = `(?:(?:twenty|thirty)[ \t\-]?)?(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth)|tenth|eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|thirtieth`
	dayOfMonth  = `(\d{1,2}(?:st|nd|rd|th)?|` + ordinalWord + `)`
	dateSep     = `(?:[ \t]*[/.\-_\\][ \t]*|[ \t]{1,3})`
)

// dobLabel is a label for a date of birth and the glue after it, anchored
// at the label's first word. numericDate, dayFirstDate and monthFirstDate
// are dates, anchored where the glue ends; their groups are the parts of
// the date, by form (see realNumericDate and realNamedDate). Each is kept
// under 500 instructions, the limit of the regular expression engine's
// fast path for short texts, which is why they are apart.
var (
	dobLabel    = regexp.MustCompile(`^(?i:(?:dob|d\.o\.b|d/o/b|d-o-b|d[ \t]o[ \t]b|date\s+of\s+birth|date-of-birth|birth\s?date|birthday|born)\b|b\.)` + glue)
	numericDate = regexp.MustCompile(`^(?:` +
		`(\d{1,2})` + dateSep + `(\d{1,2})` + dateSep + `(\d{4}|\d{2})` +
		`|(\d{4})` + dateSep + `(\d{1,2})` + dateSep + `(\d{1,2})` +
		`|(\d{8}|\d{6})` +
		`)\b`)
	dayFirstDate = regexp.MustCompile(`^(?i:` +
		dayOfMonth + `(?:[ \t]+of)?(?:[ \t]+|[/.\-])(` + monthName + `)\.?,?(?:[ \t]+|[/.\-])['’]?(\d{4}|\d{2})` +
		`)\b`)
	monthFirstDate = regexp.MustCompile(`^(?i:` +
		`(` + monthName + `)\.?[ \t]+(?:the[ \t]+)?` + dayOfMonth + `,?[ \t]+(\d{4})` +
		`|(` + monthName + `)\.?,?[ \t]+(\d{4})` +
		`)\b`)
)

// dateOfBirthAt finds a date of birth whose label starts at the word at
// start; lower is the word in lower case.
func dateOfBirthAt(in input, start int, lower string, found []Finding) []Finding {
	// Cheap tests first: "d" and "date" begin many words that are not
	// labels.
	next := in.lower[start+len(lower) : min(len(in.lower), start+len(lower)+6)]
	switch lower {
	case "dob", "birth", "birthdate", "birthday", "born":
	case "d":
		if next == "" || strings.IndexByte("./- \t", next[0]) < 0 {
			return found
		}
	case "date":
		if !strings.HasPrefix(strings.TrimLeft(next, " \t\n-"), "of") {
			return found
		}
	case "b":
		if !birthInitial(in, start) {
			return found
		}
	default:
		return found
	}
	if !digitWithin(in.text, start, anchoredWindow) {
		return found
	}
	label := matchAt(dobLabel, in.text, start, anchoredWindow)
	if label == nil || label[1] >= len(in.text) {
		return found
	}
	at := label[1]
	if isDigit(in.text[at]) {
		if m := matchAt(numericDate, in.text, at, 48); m != nil && realNumericDate(in.text, m) {
			return append(found, Finding{DateOfBirth, m[0], m[1]})
		}
	}
	if m := matchAt(dayFirstDate, in.text, at, 64); m != nil && realNamedDate(in.text, m, 0) {
		return append(found, Finding{DateOfBirth, m[0], m[1]})
	}
	if isASCIILetter(in.text[at]) {
		if m := matchAt(monthFirstDate, in.text, at, 64); m != nil && realNamedDate(in.text, m, 3) {
			found = append(found, Finding{DateOfBirth, m[0], m[1]})
		}
	}
	return found
}

// birthInitial reports whether the "b" at start is "b." for born: in lower
// case, followed by a full stop, and not after a word that makes it a
// letter naming something ("Mrs b.", "bay b.", "plan b.").
func birthInitial(in input, start int) bool {
	if in.text[start] != 'b' || start+1 >= len(in.text) || in.text[start+1] != '.' {
		return false
	}
	before := strings.TrimRight(in.lower[max(0, start-16):start], " \t")
	i := strings.LastIndexAny(before, " \t\n(,;:")
	word := strings.TrimRight(before[i+1:], ".")
	return !strings.Contains(" mr mrs ms miss mx dr patient pt bay bed ward room side plan option part section grade type category group zone level site unit team and or ", " "+word+" ")
}

// submatch returns submatch i of m in text, or "".
func submatch(text string, m []int, i int) string {
	if m[2*i] < 0 {
		return ""
	}
	return text[m[2*i]:m[2*i+1]]
}

// realNumericDate reports whether a match of numericDate, with its
// submatch indexes m, is a date that exists.
func realNumericDate(text string, m []int) bool {
	g := func(i int) string { return submatch(text, m, i) }
	switch {
	case g(1) != "": // 12/03/1956
		d, mo, y := atoi(g(1)), atoi(g(2)), year(g(3))
		return validDate(d, mo, y) || validDate(mo, d, y)
	case g(4) != "": // 1956-03-12
		return validDate(atoi(g(6)), atoi(g(5)), year(g(4)))
	case len(g(7)) == 8: // 12031956 or 19560312
		s := g(7)
		return validDate(atoi(s[:2]), atoi(s[2:4]), year(s[4:])) ||
			validDate(atoi(s[6:]), atoi(s[4:6]), year(s[:4]))
	case g(7) != "": // 120356
		s := g(7)
		return validDate(atoi(s[:2]), atoi(s[2:4]), year(s[4:]))
	}
	return false
}

// realNamedDate reports whether a match of dayFirstDate (skip 0) or
// monthFirstDate (skip 3), with its submatch indexes m, is a date that
// exists. The groups are numbered as if both were one pattern, the second
// after the first's three groups.
func realNamedDate(text string, m []int, skip int) bool {
	g := func(i int) string {
		if i <= skip || 2*(i-skip) >= len(m) {
			return ""
		}
		return submatch(text, m, i-skip)
	}
	switch {
	case g(1) != "": // 12 March 1956
		return validDate(day(g(1)), month(g(2)), year(g(3)))
	case g(4) != "": // March 12, 1956
		return validDate(day(g(5)), month(g(4)), year(g(6)))
	case g(7) != "": // March 1956
		return validDate(1, month(g(7)), year(g(8)))
	}
	return false
}

// day returns the day of the month written as digits ("12", "12th") or as
// an ordinal word ("twelfth", "twenty-first"), or -1.
func day(s string) int {
	s = strings.ToLower(s)
	if s != "" && isDigit(s[0]) {
		return atoi(strings.TrimRight(s, "stndrh"))
	}
	tens := 0
	for _, t := range []struct {
		prefix string
		n      int
	}{{"twenty", 20}, {"thirty", 30}} {
		if rest, ok := strings.CutPrefix(s, t.prefix); ok {
			tens, s = t.n, strings.TrimLeft(rest, " \t-")
			break
		}
	}
	ordinals := []string{"first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
		"tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth",
		"eighteenth", "nineteenth", "twentieth"}
	switch s {
	case "twentieth":
		return 20
	case "thirtieth":
		return 30
	}
	for i, o := range ordinals {
		if s == o && (tens == 0 || i < 9) {
			return tens + i + 1
		}
	}
	return -1
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

// year returns a 4-digit year, or a 2-digit one as 1900 + it (the century
// does not matter for checking the day of the month except for 29 February
// 2000, which 1900 + 0 would refuse; so 00 is taken as 2000).
func year(s string) int {
	y := atoi(s)
	switch {
	case len(s) == 2 && y == 0:
		return 2000
	case len(s) == 2:
		return 1900 + y
	default:
		return y
	}
}

// month returns the number of a month name or its abbreviation (1 to 12).
func month(s string) int {
	if len(s) < 3 {
		return 0
	}
	i := strings.Index("janfebmaraprmayjunjulaugsepoctnovdec", strings.ToLower(s[:3]))
	if i < 0 || i%3 != 0 {
		return 0
	}
	return i/3 + 1
}

// validDate reports whether day/month/year is a date between 1880 and 2099.
func validDate(d, m, y int) bool {
	if y < 1880 || y > 2099 || m < 1 || m > 12 || d < 1 {
		return false
	}
	days := [12]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m-1]
	if m == 2 && y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		days = 29
	}
	return d <= days
}
