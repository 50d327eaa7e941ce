// Package datepart reads a date typed into the three boxes of an NHS.UK
// date input (day, month, year) and words what is wrong with it as the
// NHS.UK design system's error messages do:
//
//	<Label> must include a month
//	<Label> must include a day and month
//	Year must include 4 numbers
//	<Label> must be a real date
//	<Label> must be today or in the past
//	<Label> is too long ago: it must be in <EarliestYear> or later
//
// It is pure: the caller says what today is.
package datepart

import (
	"strconv"
	"strings"
	"time"
)

// Parts is a set of the boxes of a date input.
type Parts uint8

// The boxes, in the order they are shown.
const (
	Day Parts = 1 << iota
	Month
	Year

	// All is every box, for an error about the date as a whole.
	All = Day | Month | Year
)

// Has reports whether p includes every box of q.
func (p Parts) Has(q Parts) bool { return p&q == q }

// First returns the first box of p in the order they are shown: the box
// an error summary links to. It is 0 when p is empty.
func (p Parts) First() Parts {
	for _, q := range []Parts{Day, Month, Year} {
		if p.Has(q) {
			return q
		}
	}
	return 0
}

// Problem is what is wrong with a typed date: the boxes to mark as in
// error, and the message to show above them and in the error summary.
type Problem struct {
	Parts   Parts
	Message string
}

// Rules say how a date is named in messages and which dates are allowed.
type Rules struct {
	// Label names the date and starts most messages, as in "Date you
	// completed the training must include a month".
	Label string
	// Missing is the message when all three boxes are blank, such as
	// "Enter the date it happened".
	Missing string
	// EarliestYear, when not 0, refuses a date in an earlier year as too
	// long ago. Without it any year of 4 numbers from 1000 is allowed.
	EarliestYear int
	// Today, when not zero, refuses a date after its day (in UTC):
	// "<Label> must be today or in the past".
	Today time.Time
}

// Parse reads the date typed into the day, month and year boxes, ignoring
// spaces around each. It returns the date at midnight UTC, or the problem
// with it (nil when there is none), checked in this order: blank boxes,
// a year that is not 4 numbers, a date that does not exist (a part that
// is not a whole number, a 13th month, 31 February), a year before
// r.EarliestYear, then a date after r.Today.
func Parse(day, month, year string, r Rules) (time.Time, *Problem) {
	day, month, year = strings.TrimSpace(day), strings.TrimSpace(month), strings.TrimSpace(year)
	var blank Parts
	var names []string
	for _, p := range []struct {
		part  Parts
		value string
		name  string
	}{{Day, day, "day"}, {Month, month, "month"}, {Year, year, "year"}} {
		if p.value == "" {
			blank |= p.part
			names = append(names, p.name)
		}
	}
	switch len(names) {
	case 3:
		return time.Time{}, &Problem{Parts: All, Message: r.Missing}
	case 2:
		return time.Time{}, &Problem{Parts: blank, Message: r.Label + " must include a " + names[0] + " and " + names[1]}
	case 1:
		return time.Time{}, &Problem{Parts: blank, Message: r.Label + " must include a " + names[0]}
	}
	d, errDay := strconv.Atoi(day)
	m, errMonth := strconv.Atoi(month)
	y, errYear := strconv.Atoi(year)
	// A year typed as a number, but not of 4 figures, is the one box to
	// fix; a year that is not a number makes the date not a real one.
	if errYear == nil && (len(year) != 4 || y < 1000) {
		return time.Time{}, &Problem{Parts: Year, Message: "Year must include 4 numbers"}
	}
	if errDay != nil || errMonth != nil || errYear != nil || !exists(d, m, y) {
		return time.Time{}, &Problem{Parts: All, Message: r.Label + " must be a real date"}
	}
	if y < r.EarliestYear {
		return time.Time{}, &Problem{Parts: Year, Message: r.Label + " is too long ago: it must be in " + strconv.Itoa(r.EarliestYear) + " or later"}
	}
	date := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if !r.Today.IsZero() {
		ty, tm, td := r.Today.UTC().Date()
		if date.After(time.Date(ty, tm, td, 0, 0, 0, 0, time.UTC)) {
			return time.Time{}, &Problem{Parts: All, Message: r.Label + " must be today or in the past"}
		}
	}
	return date, nil
}

// exists reports whether day d of month m of year y is on the calendar.
func exists(d, m, y int) bool {
	if m < 1 || m > 12 || d < 1 {
		return false
	}
	// Day 0 of the next month is the last day of this one.
	return d <= time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
