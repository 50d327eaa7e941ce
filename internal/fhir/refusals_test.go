package fhir_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/incident/form"
)

// edit changes a resource held as JSON.
type edit func(ae map[string]any)

// ext finds the extension of ae (or of its contained resource of type rt)
// whose URL ends with name, and returns its inner extensions' holder.
func ext(ae map[string]any, rt, name string) map[string]any {
	holders := []any{ae}
	if rt != "" {
		holders = nil
		for _, c := range ae["contained"].([]any) {
			if c.(map[string]any)["resourceType"] == rt {
				holders = append(holders, c)
			}
		}
	}
	for _, h := range holders {
		for _, x := range h.(map[string]any)["extension"].([]any) {
			if strings.HasSuffix(x.(map[string]any)["url"].(string), "/"+name) {
				return x.(map[string]any)
			}
		}
	}
	return nil
}

// setValue sets the first inner extension called el of x to value (key
// such as "valueCoding"), adding it when there is none; nil removes every
// one called el.
func setValue(x map[string]any, el, key string, value any) {
	inner := x["extension"].([]any)
	if value == nil {
		x["extension"] = slices.DeleteFunc(inner, func(in any) bool { return in.(map[string]any)["url"] == el })
		return
	}
	for _, in := range inner {
		m := in.(map[string]any)
		if m["url"] == el {
			m[key] = value
			return
		}
	}
	if value != nil {
		x["extension"] = append(inner, map[string]any{"url": el, key: value})
	}
}

func coding(system, code string) map[string]any {
	return map[string]any{"system": "https://psims-uat.azure-api.net/taxonomy/fhir/CodeSystem/" + system, "code": code}
}

// TestEveryRefusalSaysWhatAndWhere sends resources that break one rule
// each, and checks the answer: the status, and an issue of the right code
// whose FHIRPath points at the problem. Nothing is stored.
func TestEveryRefusalSaysWhatAndWhere(t *testing.T) {
	s := newAPISite(t, dbtest.SQLite(t), nil)
	incidentBody, _ := s.resource(incident.Incident, map[string]url.Values{
		"agents":   {form.FieldAnswer: {"4"}}, // medication only
		"patients": {form.FieldAnswer: {"1"}}})
	riskBody, _ := s.resource(incident.Risk, map[string]url.Values{"patients": {form.FieldAnswer: {"0"}}})
	cases := []struct {
		name   string
		body   []byte
		edit   edit
		status int
		code   string
		where  string // a part of the expression of the first issue
	}{
		// The national business rules.
		{"psychological harm after fatal harm", incidentBody, func(ae map[string]any) {
			setValue(ext(ae, "Patient", "patient-information-5"), "PhysicalHarm", "valueCoding", coding("level-of-physical-harm-5", "1"))
			setValue(ext(ae, "Patient", "patient-information-5"), "StrengthOfAssociation", "valueCoding", coding("strength-of-association-5", "6"))
		}, 422, "business-rule", "extension('PsychologicalHarm')"},
		{"strength of association missing with severe harm", incidentBody, func(ae map[string]any) {
			setValue(ext(ae, "Patient", "patient-information-5"), "PhysicalHarm", "valueCoding", coding("level-of-physical-harm-5", "2"))
		}, 422, "required", "extension('StrengthOfAssociation')"},
		{"an agent's follow-up without the agent", incidentBody, func(ae map[string]any) {
			x := ext(ae, "", "adverse-event-agent-5")
			setValue(x, "InvolvedAgents", "valueCoding", coding("agent-type-5", "3"))
		}, 422, "", "DrugInvolvementFactors"},
		{"risk details with patients", riskBody, func(ae map[string]any) {
			p := ae["contained"].([]any)[0].(map[string]any)
			p["extension"] = []any{map[string]any{"url": "https://psims-uat.azure-api.net/taxonomy/fhir/StructureDefinition/patient-information-5",
				"extension": []any{map[string]any{"url": "PatientSequence", "valueInteger": 1}}}}
		}, 422, "business-rule", "RiskTheme"},
		{"a clinical outcome for a patient not harmed", incidentBody, func(ae map[string]any) {
			setValue(ext(ae, "Patient", "patient-information-5"), "ClinicalOutcome", "valueString", "Recovered fully.")
		}, 422, "business-rule", "extension('ClinicalOutcome')"},
		{"an age range beside an exact age", incidentBody, func(ae map[string]any) {
			setValue(ext(ae, "Patient", "patient-information-5"), "AgeBracket", "valueCoding", coding("age-brackets-5", "3"))
		}, 422, "business-rule", "extension('AgeBracket')"},
		{"a never event without its type", incidentBody, func(ae map[string]any) {
			setValue(ext(ae, "", "adverse-event-governance-5"), "NeverEventType", "", nil)
		}, 422, "required", "extension('NeverEventType')"},
		{"the CQC to be told without the criteria", incidentBody, func(ae map[string]any) {
			setValue(ext(ae, "", "adverse-event-governance-5"), "CqcCriteria", "", nil)
		}, 422, "required", "extension('CqcCriteria')"},
		{"a roughly known month beside the date", incidentBody, func(ae map[string]any) {
			setValue(ext(ae, "", "adverse-event-estimated-date-5"), "ApproximateDate", "valueString", "2026-10")
		}, 422, "business-rule", "extension('ApproximateDate')"},
		{"no description", incidentBody, func(ae map[string]any) {
			delete(ae["event"].(map[string]any), "text")
		}, 422, "required", "AdverseEvent.event.text"},
		{"a date in the future", incidentBody, func(ae map[string]any) { ae["date"] = "2999-01-01" }, 422, "value", "AdverseEvent.date"},
		{"no date at all", incidentBody, func(ae map[string]any) { delete(ae, "date") }, 422, "required", "AdverseEvent.date"},
		{"another organisation's event", incidentBody, func(ae map[string]any) {
			setValue(ext(ae, "Location", "location-details-5"), "Organisation", "valueCoding", coding("ods-codes-5", "D82044"))
		}, 403, "forbidden", "extension('Organisation')"},
		{"the type of event changed to an unknown one", incidentBody, func(ae map[string]any) {
			ae["event"].(map[string]any)["coding"].([]any)[0].(map[string]any)["code"] = "9"
		}, 422, "code-invalid", "AdverseEvent.event.coding[0].code"},
		// The taxonomy.
		{"a code not in its list", incidentBody, func(ae map[string]any) {
			setValue(ext(ae, "Patient", "patient-information-5"), "Gender", "valueCoding", coding("gender-5", "99"))
		}, 422, "code-invalid", ".code"},
		{"a code of another list's system", incidentBody, func(ae map[string]any) {
			setValue(ext(ae, "Patient", "patient-information-5"), "Gender", "valueCoding", coding("ethnicity-5", "1"))
		}, 422, "value", ".system"},
		{"an unknown extension", incidentBody, func(ae map[string]any) {
			ae["extension"] = append(ae["extension"].([]any), map[string]any{"url": "https://example.org/StructureDefinition/mine", "extension": []any{}})
		}, 422, "extension", "AdverseEvent.extension["},
		{"an unknown element of an extension", incidentBody, func(ae map[string]any) {
			setValue(ext(ae, "", "adverse-event-agent-5"), "Colour", "valueString", "blue")
		}, 422, "structure", ".url"},
		{"an extension on the wrong resource", incidentBody, func(ae map[string]any) {
			x := ext(ae, "Location", "location-details-5")
			ae["extension"] = append(ae["extension"].([]any), x)
		}, 422, "structure", "AdverseEvent.extension["},
		{"a value of the wrong type", incidentBody, func(ae map[string]any) {
			setValue(ext(ae, "Patient", "patient-information-5"), "AgeAtTimeOfIncidentDays", "valueInteger", "forty")
		}, 422, "value", "valueInteger"},
		{"an element of the resource PSIMS does not take", incidentBody, func(ae map[string]any) {
			ae["text"] = map[string]any{"status": "generated", "div": "<div>hello</div>"}
		}, 422, "structure", "AdverseEvent.text"},
		{"patients numbered with a gap", incidentBody, func(ae map[string]any) {
			setValue(ext(ae, "Patient", "patient-information-5"), "PatientSequence", "valueInteger", 2)
		}, 422, "value", "PatientSequence"},
		{"too many values of an element", incidentBody, func(ae map[string]any) {
			x := ext(ae, "Patient", "patient-information-5")
			x["extension"] = append(x["extension"].([]any), map[string]any{"url": "Gender", "valueCoding": coding("gender-5", "2")})
		}, 422, "structure", "extension["},
		// The shape of the body.
		{"not JSON", []byte(`{"resourceType": "AdverseEvent",`), nil, 400, "structure", ""},
		{"another resource", []byte(`{"resourceType": "Patient"}`), nil, 422, "structure", "resourceType"},
		{"a member twice", []byte(`{"resourceType": "AdverseEvent", "date": "2026-01-01", "date": "2026-01-02"}`), nil, 400, "structure", ""},
		{"nesting too deep", []byte(`{"resourceType":"AdverseEvent","event":` + strings.Repeat(`{"a":`, 20) + `1` + strings.Repeat(`}`, 20) + `}`), nil, 400, "structure", ""},
		{"an array too long", []byte(`{"resourceType":"AdverseEvent","extension":[` + strings.TrimSuffix(strings.Repeat(`{},`, 201), ",") + `]}`), nil, 400, "structure", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := c.body
			if c.edit != nil {
				var ae map[string]any
				if err := json.Unmarshal(body, &ae); err != nil {
					t.Fatal(err)
				}
				c.edit(ae)
				body, _ = json.Marshal(ae)
			}
			r := s.do(http.MethodPost, "/adverse-event/fhir/AdverseEvent", s.key, body)
			if r.status != c.status {
				t.Fatalf("status %d, want %d: %.600s", r.status, c.status, r.body)
			}
			issues := r.issues(t)
			found := false
			for _, is := range issues {
				where := strings.Join(is.Expression, " ")
				if (c.code == "" || is.Code == c.code) && strings.Contains(where, c.where) && is.Details.Text != "" && is.Severity == "error" {
					found = true
				}
			}
			if !found {
				t.Fatalf("no %q issue at %q: %s", c.code, c.where, r.body)
			}
		})
	}
	if r := s.do(http.MethodGet, "/adverse-event/fhir/AdverseEvent", s.key, nil); bytes.Contains(r.body, []byte(`"entry"`)) {
		t.Fatalf("a refused resource was stored: %.300s", r.body)
	}
}

// TestTheGuardFindsIdentifiersHoweverTheyAreHidden puts an NHS number
// into a free-text element in the ways people have used to slip one past
// a guard: the refusal names the element's path and what kind of thing it
// is, and never repeats it.
func TestTheGuardFindsIdentifiersHoweverTheyAreHidden(t *testing.T) {
	s := newAPISite(t, dbtest.SQLite(t), nil)
	body, _ := s.resource(incident.Incident, nil)
	evasions := map[string]string{
		"plain":            "943 476 5919",
		"no-break spaces":  "943\u00a0476\u00a05919",
		"fullwidth digits": "９４３４７６５９１９",
		"zero-width space": "943\u200b476\u200b5919",
		"hyphens":          "943-476-5919",
		"in one run":       "9434765919",
	}
	for name, number := range evasions {
		t.Run(name, func(t *testing.T) {
			var ae map[string]any
			json.Unmarshal(body, &ae)
			setValue(ext(ae, "", "adverse-event-outcome-5"), "ImmediateActions", "valueString", "Checked NHS number "+number+" with the ward.")
			b, _ := json.Marshal(ae)
			r := s.do(http.MethodPost, "/adverse-event/fhir/AdverseEvent", s.key, b)
			if r.status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			issues := r.issues(t)
			if len(issues) == 0 || !strings.Contains(strings.Join(issues[0].Expression, ""), "valueString") ||
				!strings.Contains(issues[0].Details.Text, "NHS number") {
				t.Fatalf("issues %+v", issues)
			}
			for _, digits := range []string{"943", "5919", "９４３"} {
				if bytes.Contains(r.body, []byte(digits)) {
					t.Fatalf("the refusal repeats the number: %s", r.body)
				}
			}
		})
	}
	// A member name holding one is not repeated either.
	r := s.do(http.MethodPost, "/adverse-event/fhir/AdverseEvent", s.key, []byte(`{"resourceType":"AdverseEvent","9434765919":1}`))
	if r.status != http.StatusUnprocessableEntity || bytes.Contains(r.body, []byte("9434765919")) {
		t.Fatalf("%d %s", r.status, r.body)
	}
}

// TestBodiesAreFHIRJSONOfAtMostOneMegabyte checks the media types and
// size PSIMS takes and gives.
func TestBodiesAreFHIRJSONOfAtMostOneMegabyte(t *testing.T) {
	s := newAPISite(t, dbtest.SQLite(t), nil)
	body, _ := s.resource(incident.Incident, nil)
	if r := s.do(http.MethodPost, "/adverse-event/fhir/AdverseEvent", s.key, body, "Content-Type", "application/json"); r.status != http.StatusUnsupportedMediaType {
		t.Fatalf("application/json: %d", r.status)
	}
	if r := s.do(http.MethodPost, "/adverse-event/fhir/AdverseEvent", s.key, body, "Content-Type", "application/fhir+json; charset=utf-8"); r.status != http.StatusCreated {
		t.Fatalf("with charset: %d %s", r.status, r.body)
	}
	big := append(bytes.Repeat([]byte(" "), 1<<20), body...)
	if r := s.do(http.MethodPost, "/adverse-event/fhir/AdverseEvent", s.key, big); r.status != http.StatusRequestEntityTooLarge || r.issues(t)[0].Code != "too-long" {
		t.Fatalf("over 1 MB: %d %s", r.status, r.body)
	}
	if r := s.do(http.MethodGet, "/adverse-event/fhir/metadata", "", nil, "Accept", "application/fhir+xml"); r.status != http.StatusNotAcceptable {
		t.Fatalf("XML: %d", r.status)
	}
	if r := s.do(http.MethodDelete, "/adverse-event/fhir/AdverseEvent/PSE-7K2M-9QXH", s.key, nil); r.status != http.StatusMethodNotAllowed {
		t.Fatalf("DELETE: %d", r.status)
	}
	if r := s.do(http.MethodGet, "/adverse-event/fhir/Patient", s.key, nil); r.status != http.StatusNotFound || r.header.Get("Content-Type") != "application/fhir+json" {
		t.Fatalf("Patient: %d %s", r.status, r.header.Get("Content-Type"))
	}
}
