package form_test

import (
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/incident/form"
	"github.com/psims/psims/internal/incident/form/formtest"
	"github.com/psims/psims/internal/incident/taxonomy"
)

var now = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

func newForm(t testing.TB) *form.Form {
	t.Helper()
	tax, err := taxonomy.Load()
	if err != nil {
		t.Fatal(err)
	}
	f, err := form.New(tax)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// answers is what a person chooses, by step slug; steps not named get a
// default valid answer.
type answers map[string]url.Values

// fill answers every step of the flow the way a person would, with a
// default valid answer for the steps chosen does not name.
func fill(t *testing.T, f *form.Form, typ incident.Type, chosen answers, reviewer bool) incident.Answers {
	t.Helper()
	return formtest.Fill(t, f, typ, reviewer, chosen, defaultAnswer, now)
}

func defaultAnswer(s form.Step) url.Values {
	q := s.Question
	switch q.Kind {
	case form.Radios, form.Select, form.Checkboxes:
		return url.Values{"answer": {q.List.Codes[0].Code}}
	case form.YesNo:
		return url.Values{"answer": {"yes"}}
	case form.Org:
		return url.Values{"answer": {"rm1"}}
	case form.Text, form.Textarea:
		return url.Values{"answer": {"The patient was given 5 mg at 14:00 on ward 7B."}}
	case form.Number:
		return url.Values{"answer": {"1"}}
	case form.Date:
		return url.Values{"answer-day": {"3"}, "answer-month": {"11"}, "answer-year": {"2026"}}
	case form.Month:
		return url.Values{"answer-month": {"10"}, "answer-year": {"2026"}}
	case form.Age:
		return url.Values{"answer-years": {"84"}, "answer-months": {"2"}}
	}
	return nil
}

func slugs(steps []form.Step) []string {
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = s.Slug
	}
	return out
}

func TestEveryFlowIsBuiltFromTheTaxonomy(t *testing.T) {
	f := newForm(t)
	for _, typ := range incident.Types() {
		a := fill(t, f, typ, nil, true)
		steps := f.Steps(typ, a, true)
		if len(steps) < 8 {
			t.Errorf("%s asks only %d questions", typ, len(steps))
		}
		seen := map[string]bool{}
		for _, s := range steps {
			if seen[s.Slug] {
				t.Errorf("%s asks %s twice", typ, s.Slug)
			}
			seen[s.Slug] = true
			q := s.Question
			if q.Label == "" || q.Short == "" {
				t.Errorf("%s %s has no label", typ, s.Slug)
			}
			if (q.Kind == form.Radios || q.Kind == form.Checkboxes || q.Kind == form.Select) && len(q.List.Codes) == 0 {
				t.Errorf("%s %s offers no codes", typ, s.Slug)
			}
		}
		if _, problems := f.Complete(typ, a, now); problems != nil {
			t.Errorf("%s: a form answered throughout is not complete: %v", typ, problems)
		}
	}
}

// TestAnIncidentWithTwoPatients follows the journey of the end-to-end test:
// the index holds the worst harm of either patient, the date becomes the
// occurrence range, and the sharing answer becomes the opt-out (T15).
func TestAnIncidentWithTwoPatients(t *testing.T) {
	f := newForm(t)
	a := fill(t, f, incident.Incident, answers{
		"agents":                       {"answer": {"4", "3"}},
		"patients":                     {"answer": {"2"}},
		"patient-1-physical-harm":      {"answer": {"4"}}, // low
		"patient-2-physical-harm":      {"answer": {"2"}}, // severe
		"patient-2-age-known":          {"answer": {"estimated"}},
		"patient-2-age-bracket":        {"answer": {"11"}},
		"sharing":                      {"answer": {"no"}},
		"safety-challenges":            {"answer": {"2", "1"}},
		"patient-1-psychological-harm": {"answer": {"1"}}, // severe
	}, false)
	r, problems := f.Complete(incident.Incident, a, now)
	if problems != nil {
		t.Fatal(problems)
	}
	want := time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)
	if !r.OccurredFrom.Equal(want) || !r.OccurredTo.Equal(want) {
		t.Errorf("occurred %v–%v, want %v", r.OccurredFrom, r.OccurredTo, want)
	}
	if r.OrgCode != "RM1" {
		t.Errorf("organisation %q, want RM1 (typed in lower case)", r.OrgCode)
	}
	if r.Index.PhysicalHarm != "2" || r.Index.PsychologicalHarm != "1" {
		t.Errorf("index harm %q/%q, want the worst of both patients 2/1", r.Index.PhysicalHarm, r.Index.PsychologicalHarm)
	}
	if got := r.Index.Codes["AdverseEventSafetyChallenges.SafetyChallenges"]; !slices.Equal(got, []string{"1", "2"}) {
		t.Errorf("safety challenges %v, want the list's order [1 2]", got)
	}
	if !r.SharingOptOut {
		t.Error("answering no to sharing does not opt out")
	}
	if got := r.Answers["PatientInformation.AgeBracket"]; !slices.Equal(got, []string{"", "11"}) {
		t.Errorf("age brackets %q, want only the second patient's", got)
	}
	steps := slugs(f.Steps(incident.Incident, a, false))
	for _, s := range []string{"medication", "medicines", "devices", "device-type", "patient-1-association", "patient-2-association", "patient-2-clinical-outcome"} {
		if !slices.Contains(steps, s) {
			t.Errorf("%s is not asked", s)
		}
	}
	for _, s := range []string{"blood", "it-systems", "patient-1-clinical-outcome", "duty-of-candour"} {
		if slices.Contains(steps, s) {
			t.Errorf("%s is asked", s)
		}
	}
}

// TestHarmRules checks the national business rules for each patient.
func TestHarmRules(t *testing.T) {
	f := newForm(t)
	cases := []struct {
		physical, psychological string
		psychAsked, association bool
	}{
		{"5", "4", true, false}, // none, none
		{"3", "3", true, false}, // moderate, low
		{"3", "1", true, true},  // severe psychological harm
		{"2", "4", true, true},  // severe physical harm
		{"1", "", false, true},  // fatal: psychological harm not asked
	}
	for _, c := range cases {
		chosen := answers{"patients": {"answer": {"1"}}, "patient-1-physical-harm": {"answer": {c.physical}}}
		if c.psychological != "" {
			chosen["patient-1-psychological-harm"] = url.Values{"answer": {c.psychological}}
		}
		a := fill(t, f, incident.Incident, chosen, false)
		steps := slugs(f.Steps(incident.Incident, a, false))
		if got := slices.Contains(steps, "patient-1-psychological-harm"); got != c.psychAsked {
			t.Errorf("physical %s: psychological harm asked = %v", c.physical, got)
		}
		if got := slices.Contains(steps, "patient-1-association"); got != c.association {
			t.Errorf("physical %s psychological %s: association asked = %v", c.physical, c.psychological, got)
		}
	}
}

// TestARiskWithoutPatientsHasRiskDetails: the national rule.
func TestARiskWithoutPatientsHasRiskDetails(t *testing.T) {
	f := newForm(t)
	none := slugs(f.Steps(incident.Risk, fill(t, f, incident.Risk, answers{"patients": {"answer": {"0"}}}, false), false))
	two := slugs(f.Steps(incident.Risk, fill(t, f, incident.Risk, answers{"patients": {"answer": {"2"}}}, false), false))
	if !slices.Contains(none, "risk-imminent") || slices.Contains(none, "patient-1-gender") {
		t.Errorf("a risk to no patient asks %v", none)
	}
	if slices.Contains(two, "risk-imminent") || !slices.Contains(two, "patient-2-gender") || slices.Contains(two, "patient-1-physical-harm") {
		t.Errorf("a risk to two patients asks %v", two)
	}
}

func TestGovernanceIsForReviewers(t *testing.T) {
	f := newForm(t)
	a := fill(t, f, incident.Incident, answers{"never-event": {"answer": {"no"}}}, true)
	reviewer := slugs(f.Steps(incident.Incident, a, true))
	if !slices.Contains(reviewer, "duty-of-candour") || slices.Contains(reviewer, "never-event-type") {
		t.Errorf("a reviewer with no never event is asked %v", reviewer)
	}
	if slices.Contains(slugs(f.Steps(incident.Incident, a, false)), "never-event") {
		t.Error("a reporter is asked the governance questions")
	}
	a = fill(t, f, incident.Incident, answers{"never-event": {"answer": {"yes"}}}, true)
	if !slices.Contains(slugs(f.Steps(incident.Incident, a, true)), "never-event-type") {
		t.Error("the never event's type is not asked")
	}
}

// TestFewerPatientsDropTheirAnswers: changing the count from 2 to 1 keeps
// the first patient's answers and drops the second's.
func TestFewerPatientsDropTheirAnswers(t *testing.T) {
	f := newForm(t)
	a := fill(t, f, incident.Incident, answers{"patients": {"answer": {"2"}}}, false)
	count, _ := form.Find(f.Steps(incident.Incident, a, false), "patients")
	a, problems := f.Apply(a, count, url.Values{"answer": {"1"}}, now)
	if problems != nil {
		t.Fatal(problems)
	}
	if got := a["PatientInformation.Gender"]; len(got) != 1 || got[0] == "" {
		t.Errorf("genders after the change: %q", got)
	}
	if slices.Contains(slugs(f.Steps(incident.Incident, a, false)), "patient-2-gender") {
		t.Error("the second patient is still asked about")
	}
}

// TestChangedAnswersDropWhatNoLongerApplies: deselecting an agent drops the
// answers to its follow-up question from the record.
func TestChangedAnswersDropWhatNoLongerApplies(t *testing.T) {
	f := newForm(t)
	a := fill(t, f, incident.Incident, answers{"agents": {"answer": {"11"}}}, false)
	agents, _ := form.Find(f.Steps(incident.Incident, a, false), "agents")
	a, _ = f.Apply(a, agents, url.Values{"answer": {"10"}}, now)
	r, problems := f.Complete(incident.Incident, a, now)
	if problems != nil {
		t.Fatal(problems)
	}
	if _, ok := r.Answers["AdverseEventProblemBlood.BloodInvolved"]; ok {
		t.Error("the blood follow-up answer was kept after blood was deselected")
	}
}

func TestIncompleteAnswersNameThePagesToFix(t *testing.T) {
	f := newForm(t)
	a := fill(t, f, incident.Incident, nil, false)
	delete(a, form.Description)
	a["LocationDetails.ServiceArea"] = []string{"not-a-code"}
	_, problems := f.Complete(incident.Incident, a, now)
	var fields []string
	for _, p := range problems {
		fields = append(fields, p.Field+": "+p.Message)
	}
	want := []string{"service: Select one of the options", "description: Enter what happened"}
	if !slices.Equal(fields, want) {
		t.Errorf("problems %q, want %q", fields, want)
	}
}

// TestAnswersAreChecked covers each kind of input's errors, in NHS.UK
// style, and the identifier guard (T12).
func TestAnswersAreChecked(t *testing.T) {
	f := newForm(t)
	a := fill(t, f, incident.Incident, answers{"patients": {"answer": {"1"}}, "patient-1-age-known": {"answer": {"exact"}}}, false)
	steps := f.Steps(incident.Incident, a, false)
	step := func(slug string) form.Step {
		s, ok := form.Find(steps, slug)
		if !ok {
			t.Fatalf("no step %s", slug)
		}
		return s
	}
	cases := []struct {
		slug   string
		values url.Values
		field  string
		want   string
	}{
		{"date", url.Values{}, "answer-day", "Enter the date it happened"},
		{"date", url.Values{"answer-day": {"31"}, "answer-month": {"2"}, "answer-year": {"2026"}}, "answer-day", "Date it happened must be a real date"},
		{"date", url.Values{"answer-day": {"1"}, "answer-month": {"12"}, "answer-year": {"2026"}}, "answer-day", "Date it happened must be today or in the past"},
		{"date", url.Values{"answer-day": {"1"}, "answer-year": {"2026"}}, "answer-month", "Date it happened must include a month"},
		{"date", url.Values{"answer-day": {"31"}, "answer-month": {"12"}, "answer-year": {"1899"}}, "answer-year", "Date it happened is too long ago: it must be in 1900 or later"},
		{"date-known", url.Values{}, "answer", "Select whether you know the date"},
		{"service", url.Values{}, "answer", "Select the type of service"},
		{"location", url.Values{}, "answer", "Select where it happened"},
		{"patients", url.Values{}, "answer", "Enter the number of patients"},
		{"medication", url.Values{}, "answer", "Select what went wrong with the medication"},
		{"service", url.Values{"answer": {"99"}}, "answer", "Select one of the options"},
		{"agents", url.Values{"answer": {"4", "<script>"}}, "answer", "Select from the options shown"},
		{"patients", url.Values{"answer": {"11"}}, "answer", "Enter a whole number from 0 to 10"},
		{"patients", url.Values{"answer": {"two"}}, "answer", "Enter a whole number from 0 to 10"},
		{"organisation", url.Values{"answer": {"RM1; DROP"}}, "answer", "Enter an ODS code of 3 to 7 letters and numbers, for example RM1"},
		{"patient-1-age", url.Values{"answer-years": {"4"}, "answer-months": {"12"}}, "answer-months", "Months must be a whole number from 0 to 11"},
		{"description", url.Values{"answer": {strings.Repeat("a", 5001)}}, "answer", "What happened must be 5000 characters or fewer. You have 5001: shorten it by 1"},
		{"description", url.Values{"answer": {"Patient 943 476 5919 fell."}}, "answer",
			"Remove the NHS number in ‘What happened’, after “Patient”. Nothing that could identify a person can be recorded"},
		{"description", url.Values{"answer": {"He fell.\nLater, NHS number 9434765919 was seen."}}, "answer",
			"Remove the NHS number in the 2nd sentence of ‘What happened’, which starts “Later, NHS number”. Nothing that could identify a person can be recorded"},
		{"description", url.Values{"answer": {"He fell\x00 on the ward"}}, "answer",
			"What happened must not contain hidden control characters. Delete them, or type it again"},
		{"description", url.Values{"answer": {"Bell\a and escape\x1b[0m"}}, "answer",
			"What happened must not contain hidden control characters. Delete them, or type it again"},
		{"description", url.Values{"answer": {"Not UTF-8 \xff"}}, "answer",
			"What happened must not contain hidden control characters. Delete them, or type it again"},
		{"sharing", url.Values{"answer": {"maybe"}}, "answer", "Select yes or no"},
	}
	for _, c := range cases {
		got, problems := f.Apply(a, step(c.slug), c.values, now)
		if len(problems) != 1 || problems[0].Field != c.field || problems[0].Message != c.want {
			t.Errorf("%s %v: problems %v, want %s: %s", c.slug, c.values, problems, c.field, c.want)
		}
		if len(got) != len(a) {
			t.Errorf("%s: a refused answer changed the answers", c.slug)
		}
	}
	// Optional questions may be left empty, which clears them.
	cleared, problems := f.Apply(a, step("immediate-actions"), url.Values{"answer": {"  "}}, now)
	if problems != nil {
		t.Fatal(problems)
	}
	if _, ok := cleared["AdverseEventOutcome.ImmediateActions"]; ok {
		t.Error("an emptied optional answer was kept")
	}
}

func TestAgesSurviveTheRoundTrip(t *testing.T) {
	f := newForm(t)
	a := fill(t, f, incident.Incident, answers{"patients": {"answer": {"1"}}, "patient-1-age-known": {"answer": {"exact"}}}, false)
	s, _ := form.Find(f.Steps(incident.Incident, a, false), "patient-1-age")
	for years := 0; years <= 130; years++ {
		for months := 0; months < 12; months++ {
			in := url.Values{"answer-years": {strconv.Itoa(years)}, "answer-months": {strconv.Itoa(months)}}
			b, problems := f.Apply(a, s, in, now)
			if problems != nil {
				t.Fatal(problems)
			}
			out := form.FormValues(s, b)
			if out.Get("answer-years") != strconv.Itoa(years) || out.Get("answer-months") != strconv.Itoa(months) {
				t.Fatalf("%d years %d months came back as %v", years, months, out)
			}
		}
	}
}

func TestRowsShowDisplayText(t *testing.T) {
	f := newForm(t)
	a := fill(t, f, incident.Incident, answers{"patients": {"answer": {"2"}}, "patient-1-age-known": {"answer": {"exact"}}}, false)
	rows := f.Rows(incident.Incident, a, false)
	find := func(label string) []string {
		for _, r := range rows {
			if r.Label == label {
				return r.Values
			}
		}
		t.Fatalf("no row %q in %v", label, rows)
		return nil
	}
	if got := find("Date"); !slices.Equal(got, []string{"3 November 2026"}) {
		t.Errorf("date shown as %q", got)
	}
	if got := find("Patient 1: age"); !slices.Equal(got, []string{"84 years, 2 months"}) {
		t.Errorf("age shown as %q", got)
	}
	if got := find("Service"); len(got) != 1 || got[0] == "1" {
		t.Errorf("service shown as %q, want display text", got)
	}
}

func TestThePublicFormIsShortAndComplete(t *testing.T) {
	f := newForm(t)
	a := incident.Answers{}
	for _, s := range f.PublicSteps(a) {
		next, problems := f.Apply(a, s, defaultAnswer(s), now)
		if problems != nil {
			t.Fatalf("%s: %v", s.Slug, problems)
		}
		a = next
	}
	// Answering the date-known question adds the date page.
	for _, s := range f.PublicSteps(a) {
		if !s.Answered(a) {
			a, _ = f.Apply(a, s, defaultAnswer(s), now)
		}
	}
	steps := f.PublicSteps(a)
	if len(steps) > 8 {
		t.Errorf("the public form asks %d questions", len(steps))
	}
	r, problems := f.CompletePublic(a, now)
	if problems != nil {
		t.Fatal(problems)
	}
	if r.Index.PhysicalHarm == "" || r.OrgCode != "RM1" || r.Answers[form.PatientCount][0] != "1" {
		t.Errorf("public result %+v", r)
	}
}

// FuzzApply: no posted value panics, and an accepted answer always leaves a
// form that Complete can read.
func FuzzApply(fz *testing.F) {
	f := newForm(fz)
	fz.Add("description", "answer", "Fell at 14:00")
	fz.Add("date", "answer-day", "29")
	fz.Add("patients", "answer", "3")
	fz.Add("patient-1-age", "answer-years", "-1")
	fz.Add("agents", "answer", "4")
	fz.Fuzz(func(t *testing.T, slug, field, value string) {
		a := incident.Answers{form.PatientCount: {"1"}, form.AgeKnown: {"exact"}, form.DateKnown: {"exact"}}
		steps := f.Steps(incident.Incident, a, true)
		s, ok := form.Find(steps, slug)
		if !ok {
			s = steps[len(slug)%len(steps)]
		}
		b, problems := f.Apply(a, s, url.Values{field: {value}, "answer-month": {value}, "answer-year": {"2026"}}, now)
		if problems != nil {
			return
		}
		_ = f.Rows(incident.Incident, b, true)
		_, _ = f.Complete(incident.Incident, b, now)
	})
}

// TestEveryRequiredQuestionSaysWhatToDo: a question that must be answered
// has its own message for when it is not, in plain words that make sense
// without the question ("Select whether you know the date", not "Select
// date known").
func TestEveryRequiredQuestionSaysWhatToDo(t *testing.T) {
	f := newForm(t)
	for _, typ := range []incident.Type{incident.Incident, incident.GoodCare, incident.Risk, incident.Outcome} {
		a := fill(t, f, typ, nil, true)
		for _, st := range f.Steps(typ, a, true) {
			q := st.Question
			if q.Optional {
				continue
			}
			if q.Missing == "" {
				t.Errorf("%s %s: no message for a missing answer", typ, st.Slug)
			}
		}
	}
	for _, st := range f.PublicPage() {
		if !st.Question.Optional && st.Question.Missing == "" {
			t.Errorf("public %s: no message for a missing answer", st.Slug)
		}
	}
}

// TestThePublicPageRevealsTheDateAskedAndTheDetails: the one page of the
// public route lists the exact date and the month under the answers to
// "Do you know the date" that ask them, and the details of "none of the
// above" under that answer; only the one chosen is read.
func TestThePublicPageRevealsTheDateAskedAndTheDetails(t *testing.T) {
	f := newForm(t)
	reveals := map[string]string{}
	for _, st := range f.PublicPage() {
		if st.Question.RevealedBy != "" {
			reveals[st.Slug] = st.Question.RevealedBy + "=" + st.Question.RevealedOn
		}
	}
	want := map[string]string{"date": "date-known=exact", "month": "date-known=approximate", "relationship-other": "relationship=4"}
	if !maps.Equal(reveals, want) {
		t.Errorf("reveals %v, want %v", reveals, want)
	}
	other := func(a incident.Answers) bool {
		_, ok := form.Find(f.PublicSteps(a), "relationship-other")
		return ok
	}
	if other(incident.Answers{"PractitionerDetails.ReporterType": {"2"}}) || !other(incident.Answers{"PractitionerDetails.ReporterType": {"4"}}) {
		t.Error("the details are asked for the wrong answer")
	}
}

// The free text a search looks in is every text question's answer, and
// migration 0012 indexes the same elements for events stored before it.
func TestSearchTextIsTheFreeTextAnswers(t *testing.T) {
	t.Parallel()
	f := newForm(t)
	elements := f.TextElements()
	if !slices.Contains(elements, form.Description) || !slices.Contains(elements, "AdverseEventAgent.DrugsInvolved") {
		t.Fatalf("text elements %v lack the description or the medicines", elements)
	}
	for _, engine := range []string{"sqlite", "postgres"} {
		sql, err := os.ReadFile(filepath.Join("..", "..", "db", "migrations", engine, "0012_event_search_and_counts.sql"))
		if err != nil {
			t.Fatal(err)
		}
		for _, el := range elements {
			if !strings.Contains(string(sql), "'"+el+"'") {
				t.Errorf("the %s migration does not index %s", engine, el)
			}
		}
	}
	// An amendment's index holds the text answers too.
	a := fill(t, f, incident.Incident, nil, true)
	a[form.Description] = []string{"A fall"}
	a["AdverseEventOutcome.ImmediateActions"] = []string{"Observations taken"}
	res, missing, errs := f.Amend(incident.Incident, false, a, now)
	if len(errs) > 0 || len(missing) > 0 {
		t.Fatal(missing, errs)
	}
	if !strings.Contains(res.Index.Text, "A fall\n") || !strings.Contains(res.Index.Text, "Observations taken") {
		t.Errorf("index text %q, want the description and the actions", res.Index.Text)
	}
}
