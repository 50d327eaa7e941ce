package pii

import (
	"regexp"
	"strconv"
	"strings"
)

// A date of birth is a real calendar date (or a month and year) labelled as
// one: "DOB 12/03/1956", "D.O.B.: 1956-03-12", "date of birth 3rd March
// 1956", "born on 12 Mar 56", "born in March 1956". Dates without such a
// label, such as the date of the incident, are not identifiers.
//
// Accepted forms: day/month/year with /, . or - and a 2- or 4-digit year
// (month/day/year too when only that reading is a real date); year-month-day;
// day, month name, year ("12 March 1956", "12th of March, 1956",
// "12-Mar-1956"); month name, day, year ("March 12, 1956"); month name and
// year.
const monthName = `(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)`

// dobLabel is a label for a date of birth and the glue after it, anchored
// at the label's first word; dateShape is a date, anchored where the glue
// ends. Groups 1 to 14 of dateShape are the parts of the date, by form.
// (One pattern for both would be too big for the regular expression
// engine's fast path for short texts.)
var (
	dobLabel  = regexp.MustCompile(`^(?i:dob|d\.o\.b|date[ \t]+of[ \t]+birth|birth[ \t]?date|birthday|born)\b` + glue)
	dateShape = regexp.MustCompile(`^(?i:` +
		`(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})` +
		`|(\d{4})-(\d{1,2})-(\d{1,2})` +
		`|(\d{1,2})(?:st|nd|rd|th)?(?:[ \t]+of)?(?:[ \t]+|[/.\-])(` + monthName + `)\.?,?(?:[ \t]+|[/.\-])(\d{4}|\d{2})` +
		`|(` + monthName + `)\.?[ \t]+(\d{1,2})(?:st|nd|rd|th)?,?[ \t]+(\d{4})` +
		`|(` + monthName + `)\.?,?[ \t]+(\d{4})` +
		`)\b`)
)

// dateOfBirthAt finds a date of birth whose label starts at the word at
// start; lower is the word in lower case.
func dateOfBirthAt(in input, start int, lower string, found []Finding) []Finding {
	switch lower {
	case "dob", "d", "date", "birth", "birthdate", "birthday", "born":
	default:
		return found
	}
	if !digitWithin(in.text, start, anchoredWindow) {
		return found
	}
	label := matchAt(dobLabel, in.text, start, anchoredWindow)
	if label == nil {
		return found
	}
	if m := matchAt(dateShape, in.text, label[1], 48); m != nil && realDate(in.text, m) {
		found = append(found, Finding{DateOfBirth, m[0], m[1]})
	}
	return found
}

// realDate reports whether a match of dateShape, with its submatch indexes
// m, is a date that exists.
func realDate(text string, m []int) bool {
	group := func(i int) string {
		if m[2*i] < 0 {
			return ""
		}
		return text[m[2*i]:m[2*i+1]]
	}
	switch {
	case group(1) != "": // 12/03/1956
		d, mo, y := atoi(group(1)), atoi(group(2)), year(group(3))
		return validDate(d, mo, y) || validDate(mo, d, y)
	case group(4) != "": // 1956-03-12
		return validDate(atoi(group(6)), atoi(group(5)), year(group(4)))
	case group(7) != "": // 12 March 1956
		return validDate(atoi(group(7)), month(group(8)), year(group(9)))
	case group(10) != "": // March 12, 1956
		return validDate(atoi(group(11)), month(group(10)), year(group(12)))
	case group(13) != "": // March 1956
		return validDate(1, month(group(13)), year(group(14)))
	}
	return false
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
