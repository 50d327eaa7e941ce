package form

import (
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/datepart"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/pii"
	"github.com/psims/psims/internal/textcheck"
)

// The names of the posted fields, which are also the ids of the inputs the
// error summary links to.
const (
	FieldAnswer = "answer"        // the answer of every kind but Date, Month and Age
	FieldDay    = "answer-day"    // Date
	FieldMonth  = "answer-month"  // Date and Month
	FieldYear   = "answer-year"   // Date and Month
	FieldYears  = "answer-years"  // Age
	FieldMonths = "answer-months" // Age
)

// Days in a year and a month on average, to store an age in days.
const (
	daysPerYear  = 365.25
	daysPerMonth = daysPerYear / 12
	oldestYear   = 1900
	maxAgeYears  = 130
)

// Apply checks what was posted for step and returns a copy of a with the
// answer recorded. On a problem it returns field errors, in NHS.UK style,
// naming the inputs to fix; a is never changed. Text passes the identifier
// guard here (T12): a finding is an error that says what kind of thing was
// found and where, never the thing itself. Posting nothing for an optional
// question clears its answer.
func (f *Form) Apply(a incident.Answers, step Step, values url.Values, now time.Time) (incident.Answers, apperr.Fields) {
	vals, problems := f.parse(step, values, now)
	if len(problems) > 0 {
		return a, problems
	}
	out := clone(a)
	set(out, step, vals)
	if step.Question.Element == PatientCount {
		f.resize(out, patientCount(out))
	}
	return out, nil
}

// parse turns posted values into the answer's encoded values.
func (f *Form) parse(step Step, values url.Values, now time.Time) ([]string, apperr.Fields) {
	q := step.Question
	var problems apperr.Fields
	one := strings.TrimSpace(values.Get(FieldAnswer))
	switch q.Kind {
	case Radios, Select:
		if one == "" {
			return required(q, "Select "+lower(q.Short))
		}
		if _, ok := q.List.Lookup(one); !ok {
			problems.Add(FieldAnswer, "Select one of the options")
			return nil, problems
		}
		return []string{one}, nil
	case YesNo:
		if one == "" {
			return required(q, "Select yes or no")
		}
		if one != "yes" && one != "no" {
			problems.Add(FieldAnswer, "Select yes or no")
			return nil, problems
		}
		return []string{one}, nil
	case Checkboxes:
		var codes []string
		for _, v := range values[FieldAnswer] {
			if _, ok := q.List.Lookup(v); !ok {
				problems.Add(FieldAnswer, "Select from the options shown")
				return nil, problems
			}
			if !slices.Contains(codes, v) {
				codes = append(codes, v)
			}
		}
		if len(codes) == 0 {
			return required(q, "Select at least one option")
		}
		// Keep the list's order, whatever order the browser sent.
		slices.SortFunc(codes, func(x, y string) int { return q.List.Index(x) - q.List.Index(y) })
		return codes, nil
	case Org:
		code := strings.ToUpper(strings.ReplaceAll(one, " ", ""))
		if code == "" {
			return required(q, "Enter the organisation's ODS code")
		}
		if !validODS(code) {
			problems.Add(FieldAnswer, "Enter an ODS code of 3 to 7 letters and numbers, for example RM1")
			return nil, problems
		}
		return []string{code}, nil
	case Text, Textarea:
		text := strings.TrimSpace(strings.ReplaceAll(values.Get(FieldAnswer), "\r\n", "\n"))
		if text == "" {
			return required(q, "Enter "+lower(q.Short))
		}
		if !textcheck.Valid(text) {
			problems.Add(FieldAnswer, textcheck.Message(named(q)))
			return nil, problems
		}
		if n := utf8.RuneCountInString(text); n > q.MaxLength {
			problems.Add(FieldAnswer, fmt.Sprintf("%s must be %d characters or fewer. You have %d: shorten it by %d", named(q), q.MaxLength, n, n-q.MaxLength))
			return nil, problems
		}
		if findings := pii.Scan(text); len(findings) > 0 {
			for _, finding := range findings {
				problems.Add(FieldAnswer, pii.Message(text, finding, findings, named(q)))
			}
			return nil, problems
		}
		return []string{text}, nil
	case Number:
		if one == "" {
			return required(q, "Enter a number")
		}
		n, err := strconv.Atoi(one)
		if err != nil || n < q.Min || n > q.Max {
			problems.Add(FieldAnswer, fmt.Sprintf("Enter a whole number from %d to %d", q.Min, q.Max))
			return nil, problems
		}
		return []string{strconv.Itoa(n)}, nil
	case Date:
		return parseDate(values, now)
	case Month:
		return parseMonth(values, now)
	case Age:
		return parseAge(values)
	}
	problems.Add(FieldAnswer, "This question cannot be answered here")
	return nil, problems
}

// required is the answer to an empty field: nothing, for an optional
// question; the message, for any other.
func required(q *Question, message string) ([]string, apperr.Fields) {
	if q.Optional {
		return nil, nil
	}
	if q.Missing != "" {
		message = q.Missing
	}
	field := FieldAnswer
	switch q.Kind {
	case Date:
		field = FieldDay
	case Month:
		field = FieldMonth
	case Age:
		field = FieldYears
	}
	return nil, apperr.Fields{{Field: field, Message: message}}
}

// named is how messages name a question's answer: its short name.
func named(q *Question) string {
	if q.Short == "" {
		return "Your answer"
	}
	return q.Short
}

func lower(s string) string {
	if s == "" {
		return "an answer"
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func validODS(code string) bool {
	if len(code) < 3 || len(code) > 7 {
		return false
	}
	for _, c := range code {
		if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// number reads one part of a date or age; ok is false when it is not a
// whole number.
func number(values url.Values, field string) (n int, present, ok bool) {
	s := strings.TrimSpace(values.Get(field))
	if s == "" {
		return 0, false, true
	}
	n, err := strconv.Atoi(s)
	return n, true, err == nil
}

func parseDate(values url.Values, now time.Time) ([]string, apperr.Fields) {
	rules := datepart.Rules{Label: "Date it happened", Missing: "Enter the date it happened", EarliestYear: oldestYear, Today: now}
	date, p := datepart.Parse(values.Get(FieldDay), values.Get(FieldMonth), values.Get(FieldYear), rules)
	if p != nil {
		// One error, on the first box to fix, which the summary links to.
		field := FieldDay
		switch p.Parts.First() {
		case datepart.Month:
			field = FieldMonth
		case datepart.Year:
			field = FieldYear
		}
		return nil, apperr.Fields{{Field: field, Message: p.Message}}
	}
	return []string{date.Format(time.DateOnly)}, nil
}

func parseMonth(values url.Values, now time.Time) ([]string, apperr.Fields) {
	m, mOK, mNum := number(values, FieldMonth)
	y, yOK, yNum := number(values, FieldYear)
	var problems apperr.Fields
	switch {
	case !mOK && !yOK:
		problems.Add(FieldMonth, "Enter the month and year it happened")
	case !mOK:
		problems.Add(FieldMonth, "Enter the month it happened, as a number from 1 to 12")
	case !yOK:
		problems.Add(FieldYear, "Enter the year it happened, for example 2026")
	case !mNum || m < 1 || m > 12:
		problems.Add(FieldMonth, "Enter the month as a number from 1 to 12, for example 3 for March")
	case !yNum || len(strings.TrimSpace(values.Get(FieldYear))) != 4:
		problems.Add(FieldYear, "Year must include 4 numbers, for example 2026")
	case y < oldestYear:
		problems.Add(FieldYear, fmt.Sprintf("The year is too long ago: it must be %d or later", oldestYear))
	}
	if len(problems) > 0 {
		return nil, problems
	}
	start := time.Date(y, time.Month(m), 1, 0, 0, 0, 0, time.UTC)
	if start.After(today(now)) {
		problems.Add(FieldMonth, "The month it happened must be this month or earlier")
		return nil, problems
	}
	return []string{start.Format("2006-01")}, nil
}

func parseAge(values url.Values) ([]string, apperr.Fields) {
	years, yOK, yNum := number(values, FieldYears)
	months, mOK, mNum := number(values, FieldMonths)
	var problems apperr.Fields
	switch {
	case !yOK && !mOK:
		problems.Add(FieldYears, "Enter their age in years and months. For a baby under a year old, enter 0 years")
	case !yNum || years < 0 || years > maxAgeYears:
		problems.Add(FieldYears, fmt.Sprintf("Years must be a whole number from 0 to %d", maxAgeYears))
	case !mNum || months < 0 || months > 11:
		problems.Add(FieldMonths, "Months must be a whole number from 0 to 11")
	}
	if len(problems) > 0 {
		return nil, problems
	}
	days := int(math.Round(float64(years)*daysPerYear + float64(months)*daysPerMonth))
	return []string{strconv.Itoa(days)}, nil
}

// AgeParts turns an age stored in days back into years and months.
func AgeParts(days int) (years, months int) {
	years = int(float64(days) / daysPerYear)
	months = int(math.Round((float64(days) - float64(years)*daysPerYear) / daysPerMonth))
	if months == 12 {
		years, months = years+1, 0
	}
	return years, months
}

// today is the start of now's day, in UTC.
func today(now time.Time) time.Time {
	y, m, d := now.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// clone copies answers deeply.
func clone(a incident.Answers) incident.Answers {
	out := make(incident.Answers, len(a))
	for k, v := range a {
		out[k] = slices.Clone(v)
	}
	return out
}

// set records the step's values in a.
func set(a incident.Answers, step Step, vals []string) {
	el := step.Question.Element
	if step.Patient == 0 {
		if len(vals) == 0 {
			delete(a, el)
			return
		}
		a[el] = vals
		return
	}
	vs := a[el]
	for len(vs) < step.Patient {
		vs = append(vs, "")
	}
	vs[step.Patient-1] = ""
	if len(vals) > 0 {
		vs[step.Patient-1] = vals[0]
	}
	a[el] = vs
}

// resize makes every per-patient answer hold exactly n values.
func (f *Form) resize(a incident.Answers, n int) {
	for _, el := range f.perPatient() {
		vs, ok := a[el]
		if !ok {
			continue
		}
		for len(vs) < n {
			vs = append(vs, "")
		}
		vs = vs[:n]
		if n == 0 || slices.IndexFunc(vs, func(v string) bool { return v != "" }) < 0 {
			delete(a, el)
			continue
		}
		a[el] = vs
	}
}

// perPatient lists the elements asked per patient, in any flow.
func (f *Form) perPatient() []string {
	var els []string
	for _, qs := range f.flows {
		for _, q := range qs {
			if q.PerPatient && !slices.Contains(els, q.Element) {
				els = append(els, q.Element)
			}
		}
	}
	return els
}
