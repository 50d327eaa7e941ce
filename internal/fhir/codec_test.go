package fhir_test

import (
	"encoding/json"
	"maps"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/fhir"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/incident/form"
	"github.com/psims/psims/internal/incident/form/formtest"
	"github.com/psims/psims/internal/incident/taxonomy"
)

var testNow = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

func newCodec(t testing.TB) (*fhir.Codec, *form.Form) {
	t.Helper()
	tax, err := taxonomy.Load()
	if err != nil {
		t.Fatal(err)
	}
	f, err := form.New(tax)
	if err != nil {
		t.Fatal(err)
	}
	c, err := fhir.NewCodec(tax)
	if err != nil {
		t.Fatal(err)
	}
	return c, f
}

// fillForm answers every question of the type's form the way a person
// would on the pages, choosing with choose (by step slug) and pick
// otherwise: the first code, every code for checkboxes.
func fillForm(t testing.TB, f *form.Form, typ incident.Type, choose map[string]url.Values) incident.Answers {
	t.Helper()
	return formtest.Fill(t, f, typ, true, choose, pick, testNow)
}

func pick(s form.Step) url.Values {
	q := s.Question
	switch q.Kind {
	case form.Radios, form.Select:
		return url.Values{form.FieldAnswer: {q.List.Codes[0].Code}}
	case form.Checkboxes:
		var all []string
		for _, c := range q.List.Codes {
			all = append(all, c.Code)
		}
		return url.Values{form.FieldAnswer: all}
	case form.YesNo:
		return url.Values{form.FieldAnswer: {"yes"}}
	case form.Org:
		return url.Values{form.FieldAnswer: {"RM1"}}
	case form.Text, form.Textarea:
		return url.Values{form.FieldAnswer: {"Given the wrong dose on the ward & told the nurse <at once>."}}
	case form.Number:
		return url.Values{form.FieldAnswer: {"2"}}
	case form.Date:
		return url.Values{form.FieldDay: {"3"}, form.FieldMonth: {"11"}, form.FieldYear: {"2026"}}
	case form.Month:
		return url.Values{form.FieldMonth: {"10"}, form.FieldYear: {"2026"}}
	case form.Age:
		return url.Values{form.FieldYears: {"84"}, form.FieldMonths: {"2"}}
	}
	return nil
}

// roundTrip encodes answers as a resource, decodes it, and checks the
// record as the API would.
func roundTrip(t *testing.T, c *fhir.Codec, f *form.Form, typ incident.Type, a incident.Answers) (incident.Answers, []byte) {
	t.Helper()
	body, err := c.Encode(fhir.Snapshot{Reference: "PSE-7K2M-9QXH", Type: typ, Version: 1, Updated: testNow, Answers: a})
	if err != nil {
		t.Fatal(err)
	}
	rec, issues := c.Decode(body)
	if issues != nil {
		t.Fatalf("decoding what PSIMS wrote: %+v\n%s", issues, body)
	}
	if rec.Type != typ {
		t.Fatalf("type %q, want %q", rec.Type, typ)
	}
	res, problems := f.CompleteRecord(rec.Type, rec.Answers, testNow)
	if problems != nil {
		t.Fatalf("checking what PSIMS wrote: %v\n%s", problems, body)
	}
	return res.Answers, body
}

// TestEveryEventTypeSurvivesTheRoundTrip records each type of event with
// every agent and two patients on the form, writes it as a resource, reads
// it back and checks it again: the answers are the same.
func TestEveryEventTypeSurvivesTheRoundTrip(t *testing.T) {
	c, f := newCodec(t)
	choices := []struct {
		name   string
		typ    incident.Type
		choose map[string]url.Values
	}{
		{"incident, every agent, two patients", incident.Incident, nil},
		{"incident, no patients, approximate date", incident.Incident, map[string]url.Values{
			"patients": {form.FieldAnswer: {"0"}}, "date-known": {form.FieldAnswer: {"approximate"}}}},
		{"incident, fatal harm, estimated age", incident.Incident, map[string]url.Values{
			"patient-1-physical-harm": {form.FieldAnswer: {"1"}}, "patient-2-age-known": {form.FieldAnswer: {"estimated"}},
			"patient-1-age-known": {form.FieldAnswer: {"unknown"}}}},
		{"good care", incident.GoodCare, nil},
		{"risk with no patients", incident.Risk, map[string]url.Values{"patients": {form.FieldAnswer: {"0"}}}},
		{"risk with patients", incident.Risk, nil},
		{"outcome", incident.Outcome, nil},
	}
	for _, ch := range choices {
		t.Run(ch.name, func(t *testing.T) {
			a := fillForm(t, f, ch.typ, ch.choose)
			want, problems := f.Complete(ch.typ, a, testNow)
			if problems != nil {
				t.Fatal(problems)
			}
			got, body := roundTrip(t, c, f, ch.typ, want.Answers)
			if !reflect.DeepEqual(got, want.Answers) {
				for _, k := range slices.Sorted(maps.Keys(want.Answers)) {
					if !slices.Equal(got[k], want.Answers[k]) {
						t.Errorf("%s: got %q, want %q", k, got[k], want.Answers[k])
					}
				}
				for k := range got {
					if _, ok := want.Answers[k]; !ok {
						t.Errorf("%s: got %q, not sent", k, got[k])
					}
				}
				t.Logf("%s", body)
			}
		})
	}
	// Every agent was involved in the first, so every follow-up question
	// was asked and went through the resource.
	a := fillForm(t, f, incident.Incident, nil)
	el, _ := f.Taxonomy().Element("AdverseEventAgent.InvolvedAgents")
	l, _ := f.Taxonomy().List(el.CodeList)
	if len(a["AdverseEventAgent.InvolvedAgents"]) != len(l.Codes) {
		t.Fatalf("agents %v, want all %d", a["AdverseEventAgent.InvolvedAgents"], len(l.Codes))
	}
}

// TestTheResourceIsShapedOnTheNationalProfile checks what a client reads:
// the reference in ReferenceNumber, the national addresses, contained
// resources referred to from the event.
func TestTheResourceIsShapedOnTheNationalProfile(t *testing.T) {
	c, f := newCodec(t)
	a := fillForm(t, f, incident.Incident, nil)
	res, _ := f.Complete(incident.Incident, a, testNow)
	body, err := c.Encode(fhir.Snapshot{Reference: "PSE-7K2M-9QXH", Type: incident.Incident, Version: 3, Updated: testNow, Answers: res.Answers})
	if err != nil {
		t.Fatal(err)
	}
	var ae struct {
		ResourceType string
		ID           string
		Meta         struct {
			VersionID string
			Profile   []string
		}
		Contained []struct{ ResourceType, ID string }
		Extension []struct {
			URL       string
			Extension []struct {
				URL          string
				ValueString  string
				ValueBoolean *bool
			}
		}
		Event struct {
			Coding []struct{ System, Code string }
			Text   string
		}
		Subject, Location, Recorder struct{ Reference string }
	}
	if err := json.Unmarshal(body, &ae); err != nil {
		t.Fatal(err)
	}
	if ae.ResourceType != "AdverseEvent" || ae.ID != "PSE-7K2M-9QXH" || ae.Meta.VersionID != "3" {
		t.Fatalf("resource %s/%s version %s", ae.ResourceType, ae.ID, ae.Meta.VersionID)
	}
	if !slices.Equal(ae.Meta.Profile, []string{f.Taxonomy().ProfileURL}) {
		t.Fatalf("profile %v", ae.Meta.Profile)
	}
	if ae.Event.Coding[0].Code != "1" || !strings.HasSuffix(ae.Event.Coding[0].System, "/CodeSystem/event-type") || ae.Event.Text == "" {
		t.Fatalf("event %+v", ae.Event)
	}
	var ref string
	var optOut *bool
	for _, x := range ae.Extension {
		if strings.HasSuffix(x.URL, "/adverse-event-reference-metadata-5") {
			for _, in := range x.Extension {
				switch in.URL {
				case "ReferenceNumber":
					ref = in.ValueString
				case "DataSharingOptOut":
					optOut = in.ValueBoolean
				}
			}
		}
	}
	if ref != "PSE-7K2M-9QXH" || optOut == nil || *optOut {
		t.Fatalf("reference %q, opt-out %v", ref, optOut)
	}
	types := map[string]string{}
	for _, r := range ae.Contained {
		types["#"+r.ID] = r.ResourceType
	}
	if types[ae.Subject.Reference] != "Patient" || types[ae.Location.Reference] != "Location" || types[ae.Recorder.Reference] != "Practitioner" {
		t.Fatalf("references %v %v %v to %v", ae.Subject, ae.Location, ae.Recorder, types)
	}
}
