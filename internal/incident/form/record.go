package form

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/incident"
)

// This file checks records that arrive whole from another system (a
// trust's local risk management system, through the API), with the same
// questions and business rules as the pages, so that an event recorded
// either way is the same record.

// FieldOf names an answer in the problems CompleteRecord returns: the
// element, and for a per-patient question "#" and the patient's number
// (from 1).
func FieldOf(element string, patient int) string {
	if patient == 0 {
		return element
	}
	return element + "#" + strconv.Itoa(patient)
}

// SplitField is the inverse of FieldOf; patient is 0 for an answer not
// given per patient.
func SplitField(field string) (element string, patient int) {
	i := strings.LastIndexByte(field, '#')
	if i < 0 {
		return field, 0
	}
	p, err := strconv.Atoi(field[i+1:])
	if err != nil || p < 1 {
		return field, 0
	}
	return field[:i], p
}

// maxAgeDays is the oldest age an answer in days may give.
const maxAgeDays = maxAgeYears*365 + maxAgeYears/4

// CompleteRecord checks a whole record of type t sent by another system,
// with the questions and rules of Complete, and derives what the store
// needs. Three things differ from a person's answers, which the pages
// collect one question at a time:
//   - an answer to a question the business rules do not ask, given the
//     other answers, is refused (Complete would drop it), so nothing sent
//     is lost without a word;
//   - a question taking one value is refused several;
//   - an age is kept in days, exactly as sent.
//
// Answers to taxonomy elements that no question of the type's form asks
// are kept as they are; the caller has checked them against the taxonomy.
// Problems are keyed by FieldOf, most of them with the message the page
// would show.
func (f *Form) CompleteRecord(t incident.Type, a incident.Answers, now time.Time) (Result, apperr.Fields) {
	fl := flow(t)
	if _, ok := f.flows[fl]; !ok {
		return Result{}, apperr.Fields{{Field: "type", Message: "Choose what kind of event you are recording"}}
	}
	steps := f.Steps(t, a, true)
	var problems apperr.Fields
	clean := incident.Answers{}
	asked := map[string]bool{}
	for _, s := range steps {
		field := FieldOf(s.Question.Element, s.Patient)
		asked[field] = true
		vals := s.Values(a)
		var out []string
		var errs apperr.Fields
		switch {
		case len(vals) > 1 && s.Question.Kind != Checkboxes:
			errs = apperr.Fields{{Message: "Give one answer to this question, not " + strconv.Itoa(len(vals))}}
		case s.Question.Kind == Age && len(vals) == 1:
			out, errs = parseDays(vals[0])
		default:
			out, errs = f.parse(s, FormValues(s, a), now)
		}
		if len(errs) > 0 {
			problems.Add(field, errs[0].Message)
			continue
		}
		set(clean, s, out)
	}
	flowElements := f.elements(fl)
	for _, el := range slices.Sorted(maps.Keys(a)) {
		if !flowElements[el] {
			continue
		}
		per := slices.Contains(f.perPatient(), el)
		for i, v := range a[el] {
			field := FieldOf(el, 0)
			if per {
				field = FieldOf(el, i+1)
			}
			if v == "" || asked[field] {
				continue
			}
			problems.Add(field, notAsked(el, per))
			if !per {
				break
			}
		}
	}
	if len(problems) > 0 {
		return Result{}, problems
	}
	f.keepOthers(fl, a, clean)
	return f.result(clean, now), nil
}

// LeaveItOut ends the message of every problem with an answer the
// business rules do not ask for.
const LeaveItOut = ". Leave it out"

// notAsked is the problem with an answer to a question the rules leave
// out.
func notAsked(element string, perPatient bool) string {
	name := element[strings.LastIndexByte(element, '.')+1:]
	if perPatient {
		return name + " is not asked for this patient, given their other answers (for example, psychological harm is not asked when the harm was fatal)" + LeaveItOut
	}
	return name + " is not asked for this event, given its other answers (for example, follow-up questions about an agent are asked only when that agent was involved)" + LeaveItOut
}

// parseDays checks an age given in whole days.
func parseDays(v string) ([]string, apperr.Fields) {
	days, err := strconv.Atoi(v)
	if err != nil || days < 0 || days > maxAgeDays {
		return nil, apperr.Fields{{Message: fmt.Sprintf("Give the age in whole days, from 0 to %d", maxAgeDays)}}
	}
	return []string{strconv.Itoa(days)}, nil
}
