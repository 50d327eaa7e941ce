// Package synth makes synthetic patient safety events for demonstrations
// and benchmarks: realistic and varied, never about real people.
//
// A Generator walks the recording form (internal/incident/form) the way a
// person does, answering the first unanswered page again and again until
// none is left: codes from each question's list, weighted the way real
// records lean (most events do no harm, a few are severe, fewer fatal),
// texts assembled from a bank of clinical phrases written for PSIMS (see
// phrases.go), dates in the last two years. The form then checks the
// answers and derives what the event store needs, so every generated event
// is exactly what the form would have produced, and every text passes the
// identifier guard.
//
// The same seed and the same calls give the same events. A Generator is
// not safe for use by several goroutines at once; give each its own seed.
package synth

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/incident/form"
	"github.com/psims/psims/internal/incident/taxonomy"
)

// maxPasses bounds the walk through the form, so a form whose rules never
// settle is an error rather than a hang.
const maxPasses = 50

// Reporter is who records a generated event, and where.
type Reporter struct {
	ID int64
	// OrgCode is the organisation the event happened in: the answer to the
	// form's organisation question. Empty means one of the Generator's
	// organisations at random.
	OrgCode string
}

// Generator makes synthetic events. Make one with New.
type Generator struct {
	form *form.Form
	orgs []string
	rng  *rand.Rand
}

// New returns a generator answering the form f, choosing organisations for
// events without one from orgs (ODS codes), deterministic for seed.
func New(f *form.Form, orgs []string, seed uint64) (*Generator, error) {
	if f == nil {
		return nil, errors.New("synth: no form")
	}
	if len(orgs) == 0 {
		return nil, errors.New("synth: no organisations to record events in")
	}
	return &Generator{form: f, orgs: slices.Clone(orgs), rng: rand.New(rand.NewPCG(seed, 0x73796e7468))}, nil // "synth"
}

// Type draws an event type from the usual mix: mostly incidents, some good
// care, risks and outcomes.
func (g *Generator) Type() incident.Type {
	switch r := g.rng.IntN(100); {
	case r < 80:
		return incident.Incident
	case r < 88:
		return incident.GoodCare
	case r < 95:
		return incident.Risk
	default:
		return incident.Outcome
	}
}

// Event makes one event of type t recorded at now by the reporter, who
// was shown the recording statement of statementVersion: a staff
// submission whose answers, dates and index are what the form derives from
// the generated answers. Errors come only from a form whose rules this
// generator does not satisfy.
func (g *Generator) Event(t incident.Type, now time.Time, by Reporter, statementVersion int) (incident.Submission, error) {
	r, err := g.Answers(t, by.OrgCode, now)
	if err != nil {
		return incident.Submission{}, err
	}
	return incident.Submission{
		Type: t, OrgCode: r.OrgCode, Source: incident.Staff, ReporterID: by.ID,
		OccurredFrom: r.OccurredFrom, OccurredTo: r.OccurredTo,
		Answers: r.Answers, Index: r.Index, StatementVersion: statementVersion, SharingOptOut: r.SharingOptOut,
	}, nil
}

// Answers fills in the form for an event of type t in the organisation
// orgCode (one of the generator's at random when empty), as a reporter
// would at now, and returns what the form's Complete makes of the answers:
// ready to save as a draft or to submit.
func (g *Generator) Answers(t incident.Type, orgCode string, now time.Time) (form.Result, error) {
	if orgCode == "" {
		orgCode = g.orgs[g.rng.IntN(len(g.orgs))]
	}
	e := &event{g: g, t: t, org: orgCode, now: now, sc: g.scenario(t)}
	a := incident.Answers{}
	done := map[string]bool{}
	// Each pass answers, in order, every page the answers so far ask for;
	// the next pass finds the pages those answers added. A page a later
	// answer in the same pass makes irrelevant (such as psychological harm
	// after a fatal physical harm) is dropped by Complete, as the form
	// drops it when a person goes back and changes an answer. Walking page
	// by page would give the same answers, with many more calls to Steps.
	for range maxPasses {
		progressed := false
		for _, s := range g.form.Steps(t, a, false) {
			if done[s.Slug] || s.Answered(a) {
				continue
			}
			done[s.Slug], progressed = true, true
			if s.Question.Optional && g.rng.IntN(100) >= 70 {
				continue
			}
			if v := e.answer(s, a); len(v) > 0 {
				set(a, s, v)
			}
		}
		if !progressed {
			r, problems := g.form.Complete(t, a, now)
			if problems != nil {
				return form.Result{}, fmt.Errorf("synth: the form refused a generated %s: %w", t, problems)
			}
			return r, nil
		}
	}
	return form.Result{}, fmt.Errorf("synth: the %s form did not end within %d passes", t, maxPasses)
}

// scenario draws the story of an event of type t.
func (g *Generator) scenario(t incident.Type) *scenario {
	list := incidentScenarios
	switch t {
	case incident.GoodCare:
		list = goodCareScenarios
	case incident.Risk:
		list = riskScenarios
	case incident.Outcome:
		list = outcomeScenarios
	}
	return &list[g.rng.IntN(len(list))]
}

// set records a step's values in a, one per patient for per-patient
// questions, as the form stores them.
func set(a incident.Answers, s form.Step, vals []string) {
	el := s.Question.Element
	if s.Patient == 0 {
		a[el] = vals
		return
	}
	vs := a[el]
	for len(vs) < s.Patient {
		vs = append(vs, "")
	}
	vs[s.Patient-1] = vals[0]
	a[el] = vs
}

// event is one event being generated.
type event struct {
	g   *Generator
	t   incident.Type
	org string
	now time.Time
	sc  *scenario
}

func (e *event) pick(list []string) string { return list[e.g.rng.IntN(len(list))] }

// answer returns a valid answer to the step, encoded as the form stores
// it, or none to leave it unanswered.
func (e *event) answer(s form.Step, a incident.Answers) []string {
	q := s.Question
	switch q.Kind {
	case form.Radios, form.Select:
		return []string{e.code(q)}
	case form.Checkboxes:
		return e.codes(q)
	case form.YesNo:
		yes := 20
		if q.Element == form.MayShare {
			yes = 85
		}
		if e.g.rng.IntN(100) < yes {
			return []string{"yes"}
		}
		return []string{"no"}
	case form.Org:
		return []string{e.org}
	case form.Text, form.Textarea:
		return []string{clip(e.text(q, s.Patient, a), q.MaxLength)}
	case form.Date:
		return []string{e.day().Format(time.DateOnly)}
	case form.Month:
		return []string{e.day().Format("2006-01")}
	case form.Number:
		return []string{strconv.Itoa(e.number(q))}
	case form.Age:
		return []string{strconv.Itoa(e.ageDays())}
	}
	return nil
}

// weights are how often codes are chosen, by list, in percent; codes not
// named share what is left evenly.
var weights = map[string]map[string]int{
	listPhysical:             {"5": 55, "4": 28, "3": 12, "2": 4, "1": 1},
	listPsych:                {"4": 62, "3": 26, "2": 10, "1": 2},
	"service-type-5":         {"1": 55, "17": 10, "4": 8, "19": 6, "12": 4},
	"psims-date-known":       {"exact": 85, "approximate": 15},
	"psims-age-known":        {"exact": 60, "estimated": 30, "unknown": 10},
	"worry-scale-5":          {"1": 20, "3": 45, "4": 25, "5": 10},
	"yes-no-unknown-codes-5": {"y": 30, "n": 55, "u": 15},
}

// code chooses one code of the question's list: one the story prefers
// most of the time, else by the list's weights, else any.
func (e *event) code(q *form.Question) string {
	l := q.List
	if p := e.preferred(l.ID, l.Codes); len(p) > 0 && e.g.rng.IntN(100) < 75 {
		return e.pick(p)
	}
	if w, ok := weights[l.ID]; ok {
		r := e.g.rng.IntN(100)
		for _, c := range l.Codes {
			if n, ok := w[c.Code]; ok {
				if r < n {
					return c.Code
				}
				r -= n
			}
		}
		var rest []string
		for _, c := range l.Codes {
			if _, ok := w[c.Code]; !ok {
				rest = append(rest, c.Code)
			}
		}
		if len(rest) > 0 {
			return e.pick(rest)
		}
	}
	return l.Codes[e.g.rng.IntN(len(l.Codes))].Code
}

// preferred returns the codes the story prefers in the list that the list
// has.
func (e *event) preferred(listID string, codes []taxonomy.Code) []string {
	var out []string
	for _, p := range e.sc.prefer[listID] {
		if slices.ContainsFunc(codes, func(c taxonomy.Code) bool { return c.Code == p }) {
			out = append(out, p)
		}
	}
	return out
}

// codes chooses one to three codes of a checkbox list: usually one the
// story prefers first. "None of the above" and "I don't know" stand alone.
func (e *event) codes(q *form.Question) []string {
	l := q.List
	first := e.code(q)
	if alone(l, first) {
		return []string{first}
	}
	out := []string{first}
	extra := 0
	switch r := e.g.rng.IntN(100); {
	case r >= 92:
		extra = 2
	case r >= 70:
		extra = 1
	}
	for range extra {
		c := l.Codes[e.g.rng.IntN(len(l.Codes))].Code
		if !alone(l, c) && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	// The form keeps codes in the list's order.
	slices.SortFunc(out, func(x, y string) int { return l.Index(x) - l.Index(y) })
	return out
}

// alone reports whether code is an answer that excludes the others.
func alone(l taxonomy.CodeList, code string) bool {
	d := strings.ToLower(l.Display(code))
	return strings.HasPrefix(d, "none of the above") || strings.HasPrefix(d, "i don't know") || strings.HasPrefix(d, "not known")
}

// text writes the answer to a free-text question.
func (e *event) text(q *form.Question, patient int, a incident.Answers) string {
	el := q.Element
	switch {
	case el == form.Description:
		return e.description()
	case strings.HasSuffix(el, ".StrengthsOfCare"):
		return e.pick(e.sc.why)
	case strings.HasSuffix(el, ".HowFutureOccurrence"):
		return e.pick(futureLearning)
	case strings.HasSuffix(el, ".ImmediateActions"):
		return e.pick(e.sc.done)
	case strings.HasSuffix(el, ".RiskPopulation"):
		return e.pick(populations)
	case strings.HasSuffix(el, ".ClinicalOutcome"):
		return e.pick(clinicalOutcomes[severity(a, patient)])
	case strings.HasSuffix(el, ".DrugsInvolved"):
		first, second := e.pick(drugs), e.pick(drugs)
		if first == second || e.g.rng.IntN(3) > 0 {
			return first
		}
		return first + " and " + second
	case strings.HasSuffix(el, "Other"):
		return e.pick(otherAnswers)
	case strings.Contains(el, "Reference") || strings.Contains(el, "Number") || strings.Contains(el, "Batch"):
		return e.pick(noReference)
	case q.Kind == form.Textarea:
		return e.pick(e.sc.why)
	}
	return e.pick(shortNotes)
}

// description tells the story: where and when, what happened, why, and
// what was done.
func (e *event) description() string {
	var b strings.Builder
	b.WriteString(e.pick(settings))
	if m := e.pick(moments); m != "" {
		b.WriteString(" " + m)
	}
	b.WriteString(", " + e.pick(e.sc.what) + ".")
	why := slices.Clone(e.sc.why)
	e.g.rng.Shuffle(len(why), func(i, j int) { why[i], why[j] = why[j], why[i] })
	for _, s := range why[:1+e.g.rng.IntN(min(2, len(why)))] {
		b.WriteString(" " + s)
	}
	if e.g.rng.IntN(100) < 80 {
		b.WriteString(" " + e.pick(e.sc.done))
	}
	return b.String()
}

// severity is the index in clinicalOutcomes of the patient's physical
// harm: 0 for none (or not known) to 4 for fatal.
func severity(a incident.Answers, patient int) int {
	vs := a["PatientInformation.PhysicalHarm"]
	if patient < 1 || patient > len(vs) {
		return 0
	}
	switch vs[patient-1] {
	case "4":
		return 1
	case "3":
		return 2
	case "2":
		return 3
	case "1":
		return 4
	}
	return 0
}

// day is a day in the last two years, today included.
func (e *event) day() time.Time {
	y, m, d := e.now.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -e.g.rng.IntN(730))
}

// number answers a number question; for the patient count, mostly one.
func (e *event) number(q *form.Question) int {
	n := 1
	if q.Element == form.PatientCount {
		r := e.g.rng.IntN(100)
		switch {
		case e.t == incident.Risk && r < 80, e.t != incident.Risk && r < 15:
			n = 0
		case r < 90:
			n = 1
		case r < 97:
			n = 2
		default:
			n = 3
		}
	} else {
		n = q.Min + e.g.rng.IntN(11)
	}
	return max(q.Min, min(n, q.Max))
}

// ageDays is an age, in whole days as the form stores it (years and
// months, converted as the form converts them): mostly older adults.
func (e *event) ageDays() int {
	var years int
	switch r := e.g.rng.IntN(100); {
	case r < 10:
		years = e.g.rng.IntN(18)
	case r < 40:
		years = 18 + e.g.rng.IntN(47)
	default:
		years = 65 + e.g.rng.IntN(36)
	}
	months := e.g.rng.IntN(12)
	const daysPerYear = 365.25
	return int(math.Round(float64(years)*daysPerYear + float64(months)*daysPerYear/12))
}

// clip shortens text to at most n characters, at a word boundary.
func clip(text string, n int) string {
	if n <= 0 || len([]rune(text)) <= n {
		return text
	}
	r := []rune(text)[:n]
	if i := strings.LastIndexByte(string(r), ' '); i > 0 {
		return strings.TrimRight(string(r)[:i], " ,;")
	}
	return string(r)
}
