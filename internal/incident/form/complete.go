package form

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/incident"
)

// Result is what a finished set of answers gives the event store.
type Result = incident.Completed

// Complete checks a finished set of answers to the form for type t and
// derives what the store needs. Every question asked must have a valid
// answer; the field errors name the pages (step slugs) to go back to, with
// the message each page would show.
func (f *Form) Complete(t incident.Type, a incident.Answers, now time.Time) (Result, apperr.Fields) {
	if _, ok := f.flows[flow(t)]; !ok {
		return Result{}, apperr.Fields{{Field: "type", Message: "Choose what kind of event you are recording"}}
	}
	return f.complete(flow(t), f.Steps(t, a, true), a, now, false)
}

// Amend checks an amended set of answers to a submitted event with the
// rules of a first submission: every question the answers now ask must be
// answered, validly. public is true for events recorded through the public
// route. Besides the problems with answers given (field errors naming the
// pages), it returns the pages of required questions the change has made
// necessary and that have no answer yet, in the form's order, so that they
// are asked before anything is saved.
func (f *Form) Amend(t incident.Type, public bool, a incident.Answers, now time.Time) (Result, []string, apperr.Fields) {
	var steps []Step
	fl := flow(t)
	switch {
	case public:
		steps = f.PublicSteps(a)
		fl = publicFlow
	default:
		if _, ok := f.flows[flow(t)]; !ok {
			return Result{}, nil, apperr.Fields{{Field: "type", Message: "Choose what kind of event you are recording"}}
		}
		steps = f.Steps(t, a, true)
	}
	// Answers given are checked first: a wrong answer is fixed on its own
	// page before new questions are asked.
	if _, problems := f.complete(fl, steps, a, now, true); problems != nil {
		return Result{}, nil, problems
	}
	var missing []string
	for _, s := range steps {
		if !s.Question.Optional && !s.Answered(a) {
			missing = append(missing, s.Slug)
		}
	}
	if missing != nil {
		return Result{}, missing, nil
	}
	r, problems := f.complete(fl, steps, a, now, false)
	if public && problems == nil {
		r.Answers[PatientCount] = []string{"1"}
	}
	return r, nil, problems
}

// Protected lists the elements whose answers an amendment may not change:
// on the public route the person's own words (T8), which are theirs and
// not a reviewer's to rewrite; and, for authors who do not review, the
// governance answers their organisation gave.
func (f *Form) Protected(t incident.Type, public, reviewer bool) []string {
	var out []string
	qs := f.flows[flow(t)]
	if public {
		qs = f.flows[publicFlow]
	}
	for _, q := range qs {
		if (public && (q.Kind == Text || q.Kind == Textarea)) || (!reviewer && q.Governance) {
			out = append(out, q.Element)
		}
	}
	return out
}

// CompletePublic is Complete for the public route, which describes one
// person.
func (f *Form) CompletePublic(a incident.Answers, now time.Time) (Result, apperr.Fields) {
	r, problems := f.complete(publicFlow, f.PublicSteps(a), a, now, false)
	if problems == nil {
		r.Answers[PatientCount] = []string{"1"}
	}
	return r, problems
}

// complete checks the answers of steps, the questions flow fl asks. Answers
// to taxonomy elements that no question of fl asks come only from records
// sent whole by another system (see CompleteRecord); they are kept as they
// are, so that changing a record on its pages keeps them.
func (f *Form) complete(fl flow, steps []Step, a incident.Answers, now time.Time, lenient bool) (Result, apperr.Fields) {
	var problems apperr.Fields
	clean := incident.Answers{}
	for _, s := range steps {
		if lenient && !s.Answered(a) {
			continue
		}
		vals, errs := f.parse(s, FormValues(s, a), now)
		if len(errs) > 0 {
			problems.Add(s.Slug, errs[0].Message)
			continue
		}
		set(clean, s, vals)
	}
	if len(problems) > 0 {
		return Result{}, problems
	}
	f.keepOthers(fl, a, clean)
	return f.result(clean, now), nil
}

// result derives what the store needs from checked answers.
func (f *Form) result(clean incident.Answers, now time.Time) Result {
	if _, ok := clean[PatientCount]; ok {
		f.resize(clean, patientCount(clean))
	}
	r := Result{OrgCode: answer(clean, elOrganisation), Answers: clean, SharingOptOut: answer(clean, MayShare) == "no"}
	r.OccurredFrom, r.OccurredTo = occurred(clean, now)
	r.Index = f.index(clean)
	return r
}

// keepOthers copies into clean the answers of a to taxonomy elements that
// no question of flow fl asks.
func (f *Form) keepOthers(fl flow, a, clean incident.Answers) {
	asked := f.elements(fl)
	for el, vs := range a {
		if _, ok := f.tax.Element(el); ok && !asked[el] && len(vs) > 0 {
			clean[el] = slices.Clone(vs)
		}
	}
}

// elements are the elements the questions of flow fl are on.
func (f *Form) elements(fl flow) map[string]bool {
	els := map[string]bool{}
	for _, q := range f.flows[fl] {
		els[q.Element] = true
	}
	return els
}

// occurred is the range of days the answers say the event happened in.
func occurred(a incident.Answers, now time.Time) (from, to time.Time) {
	if d, err := time.Parse(time.DateOnly, answer(a, EventDate)); err == nil {
		return d, d
	}
	if m, err := time.Parse("2006-01", answer(a, elApproximateDate)); err == nil {
		last := m.AddDate(0, 1, -1)
		if t := today(now); last.After(t) {
			last = t
		}
		return m, last
	}
	return time.Time{}, time.Time{}
}

// index works out what lists filter on: the most severe harm of any
// patient, the service, and the multi-valued codes.
func (f *Form) index(a incident.Answers) incident.Index {
	ix := incident.Index{ServiceType: answer(a, elServiceArea), Codes: map[string][]string{}}
	ix.PhysicalHarm = f.worst(a, elPhysicalHarm)
	ix.PsychologicalHarm = f.worst(a, elPsychologicalHarm)
	for _, el := range indexedCodes {
		if vs := a[el]; len(vs) > 0 {
			ix.Codes[el] = vs
		}
	}
	ix.Text = f.freeText(a)
	return ix
}

// worst returns the most severe code among the patients' answers: graded
// lists run from least to most severe.
func (f *Form) worst(a incident.Answers, element string) string {
	el, _ := f.tax.Element(element)
	l, _ := f.tax.List(el.CodeList)
	worst, rank := "", -1
	for _, v := range a[element] {
		if i := l.Index(v); i > rank {
			worst, rank = v, i
		}
	}
	return worst
}

// FormValues returns the step's answer as the page posts it, to fill the
// page in again.
func FormValues(s Step, a incident.Answers) url.Values {
	vals := s.Values(a)
	v := url.Values{}
	if len(vals) == 0 {
		return v
	}
	switch s.Question.Kind {
	case Date:
		if d, err := time.Parse(time.DateOnly, vals[0]); err == nil {
			v.Set(FieldDay, strconv.Itoa(d.Day()))
			v.Set(FieldMonth, strconv.Itoa(int(d.Month())))
			v.Set(FieldYear, strconv.Itoa(d.Year()))
		}
	case Month:
		if d, err := time.Parse("2006-01", vals[0]); err == nil {
			v.Set(FieldMonth, strconv.Itoa(int(d.Month())))
			v.Set(FieldYear, strconv.Itoa(d.Year()))
		}
	case Age:
		if days, err := strconv.Atoi(vals[0]); err == nil {
			years, months := AgeParts(days)
			v.Set(FieldYears, strconv.Itoa(years))
			v.Set(FieldMonths, strconv.Itoa(months))
		}
	default:
		v[FieldAnswer] = vals
	}
	return v
}

// Row is one answer as people read it: on "check your answers" and on the
// event's page.
type Row struct {
	Label  string
	Values []string // display text; none when unanswered
	Step   string   // the page that asks it
}

// Rows lists the answers to the questions asked for type t, in order, with
// display text from the taxonomy. Governance rows are included for
// reviewers.
func (f *Form) Rows(t incident.Type, a incident.Answers, reviewer bool) []Row {
	return rows(f.Steps(t, a, reviewer), a, true)
}

// PublicRows is Rows for the public route.
func (f *Form) PublicRows(a incident.Answers) []Row { return rows(f.PublicSteps(a), a, true) }

// Reader is who reads an event's answers.
type Reader struct {
	// Own is true for the person who recorded it: questions about them
	// say "your"; others read "the reporter's".
	Own bool
	// Governance is true for those who see the governance answers.
	Governance bool
}

// RowsFor lists an event's answers as rd reads them: the form's rows of
// type t (or of the public route when public is true), with the
// questions about the person recording worded for the reader.
func (f *Form) RowsFor(t incident.Type, public bool, a incident.Answers, rd Reader) []Row {
	if public {
		return rows(f.PublicSteps(a), a, rd.Own)
	}
	return rows(f.Steps(t, a, rd.Governance), a, rd.Own)
}

func rows(steps []Step, a incident.Answers, own bool) []Row {
	several := patientCount(a) > 1
	out := make([]Row, 0, len(steps))
	for _, s := range steps {
		label := s.Question.Short
		if !own && s.Question.OthersShort != "" {
			label = s.Question.OthersShort
		}
		if s.Patient > 0 && several {
			label = fmt.Sprintf("Patient %d: %s", s.Patient, strings.ToLower(label[:1])+label[1:])
		}
		out = append(out, Row{Label: label, Values: Display(s, a), Step: s.Slug})
	}
	return out
}

// Display returns the step's answer as people read it.
func Display(s Step, a incident.Answers) []string {
	vals := s.Values(a)
	out := make([]string, 0, len(vals))
	for _, v := range vals {
		switch s.Question.Kind {
		case Radios, Checkboxes, Select:
			v = s.Question.List.Display(v)
		case YesNo:
			v = map[string]string{"yes": "Yes", "no": "No"}[v]
		case Date:
			if d, err := time.Parse(time.DateOnly, v); err == nil {
				v = d.Format("2 January 2006")
			}
		case Month:
			if d, err := time.Parse("2006-01", v); err == nil {
				v = d.Format("January 2006")
			}
		case Age:
			if days, err := strconv.Atoi(v); err == nil {
				v = ageText(days)
			}
		}
		out = append(out, v)
	}
	return out
}

func ageText(days int) string {
	years, months := AgeParts(days)
	plural := func(n int, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return strconv.Itoa(n) + " " + unit + "s"
	}
	switch {
	case years == 0:
		return plural(months, "month")
	case months == 0:
		return plural(years, "year")
	}
	return plural(years, "year") + ", " + plural(months, "month")
}

// freeText is the answers to the form's text questions, one a line, in
// the order of the elements' names: what a search by words looks in.
func (f *Form) freeText(a incident.Answers) string {
	var lines []string
	for _, el := range f.textElements {
		for _, v := range a[el] {
			if v = strings.TrimSpace(v); v != "" {
				lines = append(lines, v)
			}
		}
	}
	return strings.Join(lines, "\n")
}

// TextElements lists the elements of every text question of the form, in
// order of name: the free text that searches look in (migration 0012
// names the same ones to index events stored before it).
func (f *Form) TextElements() []string { return slices.Clone(f.textElements) }
