// Package form is the recording form: the questions asked for each type of
// patient safety event, one per page, in order, with the business rules that
// decide which are asked; the parsing and checking of each answer; and the
// derivation of what the event store needs from a finished set of answers.
//
// It is pure: no I/O. Answers are keyed by taxonomy element, with codes of the
// taxonomy's lists as values, so the form, the store, exports and the API
// share one vocabulary. A few answers steer the form rather than describe the
// event (whether the date is known, how many patients there were); their keys
// start with "PSIMS.".
package form

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/incident/taxonomy"
)

// Kind is the kind of input a question takes, and so how its answer is
// encoded in incident.Answers.
type Kind string

// The kinds of input.
const (
	Radios     Kind = "radios"     // one code of the list
	Checkboxes Kind = "checkboxes" // several codes of the list
	Select     Kind = "select"     // one code of a long list
	YesNo      Kind = "yesno"      // "yes" or "no"
	Org        Kind = "org"        // an ODS code
	Text       Kind = "text"       // one line of text
	Textarea   Kind = "textarea"   // free text
	Date       Kind = "date"       // "YYYY-MM-DD"
	Month      Kind = "month"      // "YYYY-MM"
	Number     Kind = "number"     // a whole number, in decimal digits
	Age        Kind = "age"        // years and months, stored as whole days
)

// Keys of the answers that steer the form.
const (
	DateKnown    = "PSIMS.DateKnown"    // "exact" or "approximate"
	PatientCount = "PSIMS.PatientCount" // how many patients were involved
	AgeKnown     = "PSIMS.AgeKnown"     // per patient: "exact", "estimated" or "unknown"
	MayShare     = "PSIMS.MayShare"     // "yes" when the record may be shared for learning (T15)
	Description  = "AdverseEvent.description"
	EventDate    = "AdverseEvent.date"
)

// Elements of the taxonomy that the form derives things from.
const (
	elOrganisation      = "LocationDetails.Organisation"
	elServiceArea       = "LocationDetails.ServiceArea"
	elApproximateDate   = "AdverseEventEstimatedDate.ApproximateDate"
	elPhysicalHarm      = "PatientInformation.PhysicalHarm"
	elPsychologicalHarm = "PatientInformation.PsychologicalHarm"
	elAgeDays           = "PatientInformation.AgeAtTimeOfIncidentDays"
	elAgeBracket        = "PatientInformation.AgeBracket"
	elAgents            = "AdverseEventAgent.InvolvedAgents"
	elSafetyChallenges  = "AdverseEventSafetyChallenges.SafetyChallenges"
	elNeverEvent        = "AdverseEventGovernance.NeverEvent"
	elCQCNotify         = "AdverseEventGovernance.CqcNotify"
	elRiskTheme         = "AdverseEventRiskDetails.RiskTheme"
	elOutcomeType       = "AdverseEventOutcome.OutcomeType"
)

// IndexedCodes are the multi-valued elements lists filter on; their codes
// are copied into the event's index.
var indexedCodes = []string{elSafetyChallenges, elAgents, elRiskTheme, elOutcomeType}

// MaxPatients is the most patients one record describes, one page each; an
// event with more people affected is described in the text.
const MaxPatients = 10

// Question is one question of the form.
type Question struct {
	// ID names the question in page addresses, such as "service-type".
	ID string
	// Element is the answer's key: a taxonomy element, or a PSIMS. key.
	Element string
	// Label is the question as the page asks it; Short is what "check your
	// answers" and the event page call the answer.
	Label, Short string
	// OthersLabel and OthersShort are Label and Short as someone other
	// than the person who recorded the event reads them ("What is the
	// reporter's role?"), for questions about the person recording; empty
	// when the same words serve everyone.
	OthersLabel, OthersShort string
	// Hint helps answer it; may be empty.
	Hint string
	Kind Kind
	// List holds the codes offered, for Radios, Checkboxes and Select.
	List taxonomy.CodeList
	// Optional questions may be left unanswered.
	Optional bool
	// PerPatient questions are asked once for each patient.
	PerPatient bool
	// Governance questions are asked only of reviewers.
	Governance bool
	// Min and Max bound a Number.
	Min, Max int
	// MaxLength bounds Text and Textarea, in characters.
	MaxLength int
	// Missing is the error when a question that must be answered is not:
	// what to do, in plain words, such as "Select whether you know the
	// date".
	Missing string
	// RevealedBy and RevealedOn, when set, say the question is asked only
	// after the answer RevealedOn (a code) to the question RevealedBy (an
	// ID): a page that asks both shows it inside that option, as an NHS.UK
	// conditional reveal.
	RevealedBy, RevealedOn string
	// when says whether the question is asked, given the answers so far
	// (and the patient, for PerPatient questions); nil means always.
	when func(a incident.Answers, patient int) bool
}

// Step is one page of the form: a question, for a patient when it is asked
// per patient.
type Step struct {
	// Slug names the page, such as "service-type" or "patient-2-gender".
	Slug     string
	Question *Question
	// Patient is 1 for the first patient, 0 when the question is not asked
	// per patient.
	Patient int
}

// Heading is the page's question, with the patient when there are several.
func (s Step) Heading(a incident.Answers) string {
	if s.Patient > 0 && patientCount(a) > 1 {
		return fmt.Sprintf("Patient %d: %s", s.Patient, s.Question.Label)
	}
	return s.Question.Label
}

// HeadingFor is Heading as read by someone other than the person who
// recorded the event when own is false.
func (s Step) HeadingFor(a incident.Answers, own bool) string {
	if own || s.Question.OthersLabel == "" {
		return s.Heading(a)
	}
	return Step{Slug: s.Slug, Question: &Question{Label: s.Question.OthersLabel}, Patient: s.Patient}.Heading(a)
}

// Form holds the questions of every flow.
type Form struct {
	tax   *taxonomy.Taxonomy
	flows map[flow][]*Question
	// textElements are the elements of the text questions, sorted.
	textElements []string
}

// flow is a sequence of questions: one per event type, and the public one.
type flow string

const publicFlow flow = "public"

// New builds the form on the taxonomy. It fails when a question names a
// code list or element the taxonomy lacks.
func New(tax *taxonomy.Taxonomy) (*Form, error) {
	b := &builder{tax: tax}
	f := &Form{tax: tax, flows: map[flow][]*Question{
		flow(incident.Incident): b.incident(),
		flow(incident.GoodCare): b.goodCare(),
		flow(incident.Risk):     b.risk(),
		flow(incident.Outcome):  b.outcome(),
		publicFlow:              b.public(),
	}}
	if b.err != nil {
		return nil, b.err
	}
	seen := map[string]bool{}
	for _, qs := range f.flows {
		for _, q := range qs {
			if (q.Kind == Text || q.Kind == Textarea) && !seen[q.Element] {
				seen[q.Element] = true
				f.textElements = append(f.textElements, q.Element)
			}
		}
	}
	slices.Sort(f.textElements)
	return f, nil
}

// Taxonomy returns the taxonomy the form is built on.
func (f *Form) Taxonomy() *taxonomy.Taxonomy { return f.tax }

// PhysicalHarmLabel names a code of the physical harm list
// (level-of-physical-harm-5) as the taxonomy does; "" for no answer.
func (f *Form) PhysicalHarmLabel(code string) string {
	if code == "" {
		return ""
	}
	el, _ := f.tax.Element(elPhysicalHarm)
	l, _ := f.tax.List(el.CodeList)
	return l.Display(code)
}

// Steps lists the pages asked for an event of type t, in order, given the
// answers so far: business rules add or drop pages as answers change.
// Governance questions are included only for reviewers.
func (f *Form) Steps(t incident.Type, a incident.Answers, reviewer bool) []Step {
	return steps(f.flows[flow(t)], a, reviewer)
}

// PublicSteps lists the questions of the public route (T8), in order.
func (f *Form) PublicSteps(a incident.Answers) []Step {
	return steps(f.flows[publicFlow], a, false)
}

// PublicPage lists every question of the public route's one page, in order:
// those asked only after a given answer to another (see
// Question.RevealedBy) included, for the page to reveal under that answer.
// What is read from a posted page is decided by PublicSteps.
func (f *Form) PublicPage() []Step {
	var out []Step
	for _, q := range f.flows[publicFlow] {
		if q.when == nil || q.RevealedBy != "" {
			out = append(out, Step{Slug: q.ID, Question: q})
		}
	}
	return out
}

func steps(qs []*Question, a incident.Answers, reviewer bool) []Step {
	var out []Step
	n := patientCount(a)
	for i := 0; i < len(qs); i++ {
		q := qs[i]
		if !q.PerPatient {
			if (!q.Governance || reviewer) && (q.when == nil || q.when(a, 0)) {
				out = append(out, Step{Slug: q.ID, Question: q})
			}
			continue
		}
		// A run of per-patient questions is asked patient by patient.
		j := i
		for j < len(qs) && qs[j].PerPatient {
			j++
		}
		for p := 1; p <= n; p++ {
			for _, pq := range qs[i:j] {
				if pq.when == nil || pq.when(a, p) {
					out = append(out, Step{Slug: "patient-" + strconv.Itoa(p) + "-" + pq.ID, Question: pq, Patient: p})
				}
			}
		}
		i = j - 1
	}
	return out
}

// Find returns the step named slug among steps.
func Find(steps []Step, slug string) (Step, bool) {
	for _, s := range steps {
		if s.Slug == slug {
			return s, true
		}
	}
	return Step{}, false
}

// Next returns the step after slug, and false when slug is the last.
func Next(steps []Step, slug string) (Step, bool) {
	for i, s := range steps {
		if s.Slug == slug && i+1 < len(steps) {
			return steps[i+1], true
		}
	}
	return Step{}, false
}

// Previous returns the step before slug, and false when slug is the first.
func Previous(steps []Step, slug string) (Step, bool) {
	for i, s := range steps {
		if s.Slug == slug && i > 0 {
			return steps[i-1], true
		}
	}
	return Step{}, false
}

// Value returns the step's answer: one value, or "" when unanswered.
func (s Step) Value(a incident.Answers) string {
	vs := s.Values(a)
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// Values returns the step's answers: the codes of a Checkboxes question,
// or the one value of any other, none when unanswered.
func (s Step) Values(a incident.Answers) []string {
	vs := a[s.Question.Element]
	if s.Patient > 0 {
		if s.Patient > len(vs) || vs[s.Patient-1] == "" {
			return nil
		}
		return vs[s.Patient-1 : s.Patient]
	}
	if len(vs) == 0 || (len(vs) == 1 && vs[0] == "") {
		return nil
	}
	return vs
}

// Answered reports whether the step has an answer.
func (s Step) Answered(a incident.Answers) bool { return len(s.Values(a)) > 0 }

// patientCount is the number of patients answered, within bounds.
func patientCount(a incident.Answers) int {
	vs := a[PatientCount]
	if len(vs) != 1 {
		return 0
	}
	n, err := strconv.Atoi(vs[0])
	if err != nil || n < 0 {
		return 0
	}
	return min(n, MaxPatients)
}

// answer is the one value of a question not asked per patient.
func answer(a incident.Answers, element string) string {
	if vs := a[element]; len(vs) == 1 {
		return vs[0]
	}
	return ""
}

// patientAnswer is patient p's value of a per-patient element.
func patientAnswer(a incident.Answers, element string, p int) string {
	if vs := a[element]; p >= 1 && p <= len(vs) {
		return vs[p-1]
	}
	return ""
}

// has reports whether a multi-valued answer includes code.
func has(a incident.Answers, element, code string) bool {
	for _, v := range a[element] {
		if v == code {
			return true
		}
	}
	return false
}
