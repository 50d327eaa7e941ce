package fhir_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/fhir"
	"github.com/psims/psims/internal/incident/taxonomy"
)

// confTestBase is the base URL the conformance tests serve under.
const confTestBase = "https://psims.example.nhs.uk"

func confTestTaxonomy(tb testing.TB) *taxonomy.Taxonomy {
	tb.Helper()
	tax, err := taxonomy.Load()
	if err != nil {
		tb.Fatalf("taxonomy.Load: %v", err)
	}
	return tax
}

// confTestDecode marshals v as a handler would and decodes the JSON into
// out, so the tests check what clients receive.
func confTestDecode(tb testing.TB, v any, out any) []byte {
	tb.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		tb.Fatalf("marshal: %v", err)
	}
	if !json.Valid(data) {
		tb.Fatalf("not valid JSON: %s", data)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(out); err != nil {
		tb.Fatalf("decode: %v\n%s", err, data)
	}
	return data
}

// The shapes the tests read back: only what they check.

type confTestConcept struct {
	Code    string `json:"code"`
	Display string `json:"display"`
}

type confTestCodeSystem struct {
	ResourceType  string            `json:"resourceType"`
	ID            string            `json:"id"`
	URL           string            `json:"url"`
	Version       string            `json:"version"`
	Name          string            `json:"name"`
	Status        string            `json:"status"`
	Description   string            `json:"description"`
	CaseSensitive *bool             `json:"caseSensitive"`
	Content       string            `json:"content"`
	Count         *int              `json:"count"`
	Concept       []confTestConcept `json:"concept"`
}

type confTestValueSet struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id"`
	URL          string `json:"url"`
	Version      string `json:"version"`
	Status       string `json:"status"`
	Compose      struct {
		Include []struct {
			System  string            `json:"system"`
			Concept []confTestConcept `json:"concept"`
		} `json:"include"`
	} `json:"compose"`
}

type confTestStructureDefinition struct {
	ResourceType   string `json:"resourceType"`
	ID             string `json:"id"`
	URL            string `json:"url"`
	Name           string `json:"name"`
	Status         string `json:"status"`
	Description    string `json:"description"`
	FHIRVersion    string `json:"fhirVersion"`
	Kind           string `json:"kind"`
	Abstract       *bool  `json:"abstract"`
	Type           string `json:"type"`
	BaseDefinition string `json:"baseDefinition"`
	Derivation     string `json:"derivation"`
	Context        []struct {
		Type       string `json:"type"`
		Expression string `json:"expression"`
	} `json:"context"`
	Differential struct {
		Element []confTestElement `json:"element"`
	} `json:"differential"`
}

type confTestElement struct {
	ID        string `json:"id"`
	Path      string `json:"path"`
	SliceName string `json:"sliceName"`
	Min       *int   `json:"min"`
	Max       string `json:"max"`
	Type      []struct {
		Code    string   `json:"code"`
		Profile []string `json:"profile"`
	} `json:"type"`
	FixedURI string `json:"fixedUri"`
	Binding  *struct {
		Strength string `json:"strength"`
		ValueSet string `json:"valueSet"`
	} `json:"binding"`
}

// confTestSlice is one slice as the tests compare it with the taxonomy.
type confTestSlice struct {
	Name     string
	Min      int
	Max      string
	Type     string // the value[x] type, or the Extension profile on the profile
	ValueSet string // the binding, empty when none
}

func confTestCodesOf(l taxonomy.CodeList) []confTestConcept {
	var out []confTestConcept
	for _, c := range l.Codes {
		out = append(out, confTestConcept{Code: c.Code, Display: c.Display})
	}
	return out
}

func TestEveryCodeListHasACodeSystemWithItsCodesInOrder(t *testing.T) {
	tax := confTestTaxonomy(t)
	for _, l := range tax.CodeLists {
		t.Run(l.ID, func(t *testing.T) {
			v, ok := fhir.CodeSystem(confTestBase, tax, l.ID)
			if !ok {
				t.Fatalf("CodeSystem(%q) is not ok", l.ID)
			}
			var cs confTestCodeSystem
			confTestDecode(t, v, &cs)
			if cs.ResourceType != "CodeSystem" || cs.ID != l.ID || cs.Status != "active" || cs.Version != tax.Version {
				t.Errorf("resourceType, id, status, version = %q, %q, %q, %q", cs.ResourceType, cs.ID, cs.Status, cs.Version)
			}
			if want := confTestNationalRoot(tax) + "/CodeSystem/" + l.ID; cs.URL != want {
				t.Errorf("url = %q, want %q", cs.URL, want)
			}
			if cs.Name == "" || strings.ContainsAny(cs.Name, "- ") {
				t.Errorf("name %q is not a computer-friendly name", cs.Name)
			}
			if cs.CaseSensitive == nil || !*cs.CaseSensitive {
				t.Errorf("caseSensitive is not true")
			}
			switch l.Source {
			case taxonomy.SourceOrganisations:
				if cs.Content != "not-present" || cs.Concept != nil || cs.Count != nil {
					t.Errorf("content %q, %d concepts, count %v; want not-present and no codes", cs.Content, len(cs.Concept), cs.Count)
				}
				if !strings.Contains(cs.Description, "ODS codes") {
					t.Errorf("description %q does not say the codes are ODS codes", cs.Description)
				}
				return
			case taxonomy.SourceFacts:
				if cs.Content != "fragment" {
					t.Errorf("content = %q, want fragment: only the codes the reference states", cs.Content)
				}
			default:
				if cs.Content != "complete" {
					t.Errorf("content = %q, want complete", cs.Content)
				}
			}
			if cs.Count == nil || *cs.Count != len(l.Codes) {
				t.Errorf("count = %v, want %d", cs.Count, len(l.Codes))
			}
			if want := confTestCodesOf(l); !slices.Equal(cs.Concept, want) {
				t.Errorf("concepts = %v\nwant %v", cs.Concept, want)
			}
		})
	}
}

func TestEveryCodeListHasAValueSetOverItsCodeSystem(t *testing.T) {
	tax := confTestTaxonomy(t)
	for _, l := range tax.CodeLists {
		t.Run(l.ID, func(t *testing.T) {
			v, ok := fhir.ValueSet(confTestBase, tax, l.ID)
			if !ok {
				t.Fatalf("ValueSet(%q) is not ok", l.ID)
			}
			var vs confTestValueSet
			confTestDecode(t, v, &vs)
			if vs.ResourceType != "ValueSet" || vs.ID != l.ID || vs.Status != "active" || vs.Version != tax.Version {
				t.Errorf("resourceType, id, status, version = %q, %q, %q, %q", vs.ResourceType, vs.ID, vs.Status, vs.Version)
			}
			if want := confTestBase + "/taxonomy/fhir/ValueSet/" + l.ID; vs.URL != want {
				t.Errorf("url = %q, want %q", vs.URL, want)
			}
			if len(vs.Compose.Include) != 1 {
				t.Fatalf("%d includes, want 1", len(vs.Compose.Include))
			}
			inc := vs.Compose.Include[0]
			if want := confTestNationalRoot(tax) + "/CodeSystem/" + l.ID; inc.System != want {
				t.Errorf("include.system = %q, want %q", inc.System, want)
			}
			if l.Source == taxonomy.SourceFacts {
				if want := confTestCodesOf(l); !slices.Equal(inc.Concept, want) {
					t.Errorf("included concepts = %v, want exactly the stated codes %v", inc.Concept, want)
				}
			} else if inc.Concept != nil {
				t.Errorf("includes %d concepts; want the whole system", len(inc.Concept))
			}
		})
	}
}

func TestUnknownIDsAreNotServed(t *testing.T) {
	tax := confTestTaxonomy(t)
	lists := []string{"", "nope", "level-of-physical-harm-6", "LEVEL-OF-PHYSICAL-HARM-5", "level-of-physical-harm-5 ", tax.Profile, "adverse-event-agent-5"}
	for _, id := range lists {
		if _, ok := fhir.CodeSystem(confTestBase, tax, id); ok {
			t.Errorf("CodeSystem(%q) is ok", id)
		}
		if _, ok := fhir.ValueSet(confTestBase, tax, id); ok {
			t.Errorf("ValueSet(%q) is ok", id)
		}
	}
	definitions := []string{"", "nope", "patient-safety-adverse-event-6", "adverse-event-agent-6", "patient-information-6",
		"PatientInformation", "level-of-physical-harm-5", "Patient-Information-5"}
	for _, id := range definitions {
		if _, ok := fhir.StructureDefinition(confTestBase, tax, id); ok {
			t.Errorf("StructureDefinition(%q) is ok", id)
		}
	}
}

// confTestContext is the resource each extension's carrier is, as the
// brief maps them.
var confTestContext = map[string]string{
	"patient-safety-adverse-event-5": "AdverseEvent",
	"adverse-event-patient-5":        "Patient",
	"adverse-event-location-5":       "Location",
	"adverse-event-practitioner-5":   "Practitioner",
	"adverse-event-medication-5":     "Medication",
	"adverse-event-device-5":         "Device",
}

var confTestValueType = map[string]string{
	taxonomy.TypeCode:    "Coding",
	taxonomy.TypeString:  "string",
	taxonomy.TypeBoolean: "boolean",
	taxonomy.TypeInteger: "integer",
	taxonomy.TypeDate:    "date",
	taxonomy.TypeTime:    "time",
}

func TestEveryExtensionHasAStructureDefinitionWhoseSlicesAreItsElements(t *testing.T) {
	tax := confTestTaxonomy(t)
	if len(tax.Extensions) != 25 {
		t.Fatalf("the taxonomy has %d extensions; the tests expect the national profile's 25", len(tax.Extensions))
	}
	sliced := 0
	for _, x := range tax.Extensions {
		t.Run(x.Profile, func(t *testing.T) {
			v, ok := fhir.StructureDefinition(confTestBase, tax, x.Profile)
			if !ok {
				t.Fatalf("StructureDefinition(%q) is not ok", x.Profile)
			}
			var sd confTestStructureDefinition
			confTestDecode(t, v, &sd)
			if sd.ResourceType != "StructureDefinition" || sd.ID != x.Profile || sd.Status != "active" || sd.FHIRVersion != "4.0.1" {
				t.Errorf("resourceType, id, status, fhirVersion = %q, %q, %q, %q", sd.ResourceType, sd.ID, sd.Status, sd.FHIRVersion)
			}
			if want := confTestBase + "/taxonomy/fhir/StructureDefinition/" + x.Profile; sd.URL != want {
				t.Errorf("url = %q, want %q", sd.URL, want)
			}
			if sd.Kind != "complex-type" || sd.Type != "Extension" || sd.Derivation != "constraint" ||
				sd.BaseDefinition != "http://hl7.org/fhir/StructureDefinition/Extension" || sd.Abstract == nil || *sd.Abstract {
				t.Errorf("kind %q, type %q, derivation %q, base %q, abstract %v", sd.Kind, sd.Type, sd.Derivation, sd.BaseDefinition, sd.Abstract)
			}
			wantContext, known := confTestContext[x.Resource]
			if !known {
				t.Fatalf("the test does not know the resource %q", x.Resource)
			}
			if len(sd.Context) != 1 || sd.Context[0].Type != "element" || sd.Context[0].Expression != wantContext {
				t.Errorf("context = %+v, want one element context %q", sd.Context, wantContext)
			}
			six := strings.TrimSuffix(x.URL, "-5") + "-6"
			if !strings.Contains(sd.Description, x.URL) || !strings.Contains(sd.Description, six) {
				t.Errorf("description %q does not name the national URL %s and its -6 form", sd.Description, x.URL)
			}

			var want []confTestSlice
			wantIDs := []string{"Extension.extension"}
			for _, e := range tax.Elements {
				if e.Extension != x.ID {
					continue
				}
				s := confTestSlice{Name: e.Name, Min: e.Min, Max: strconv.Itoa(e.Max), Type: confTestValueType[e.Type]}
				if e.Type == taxonomy.TypeCode {
					s.ValueSet = confTestBase + "/taxonomy/fhir/ValueSet/" + e.CodeList
				}
				want = append(want, s)
				slice := "Extension.extension:" + e.Name
				wantIDs = append(wantIDs, slice, slice+".url", slice+".value[x]")
			}
			wantIDs = append(wantIDs, "Extension.url", "Extension.value[x]")
			if len(want) == 0 {
				t.Fatalf("extension %s has no elements in the taxonomy", x.ID)
			}
			sliced += len(want)

			byID := map[string]confTestElement{}
			var ids []string
			for _, el := range sd.Differential.Element {
				ids = append(ids, el.ID)
				byID[el.ID] = el
			}
			if !slices.Equal(ids, wantIDs) {
				t.Errorf("element ids =\n%v\nwant\n%v", ids, wantIDs)
			}
			if el := byID["Extension.extension"]; el.Path != "Extension.extension" {
				t.Errorf("the slicing element's path is %q", el.Path)
			}
			if el := byID["Extension.url"]; el.FixedURI != x.URL {
				t.Errorf("Extension.url fixed to %q, want %q", el.FixedURI, x.URL)
			}
			if el := byID["Extension.value[x]"]; el.Max != "0" {
				t.Errorf("Extension.value[x] max = %q, want 0: a complex extension has no value", el.Max)
			}
			var got []confTestSlice
			for _, w := range want {
				slice := "Extension.extension:" + w.Name
				el := byID[slice]
				if el.SliceName != w.Name || el.Path != "Extension.extension" {
					t.Errorf("%s: sliceName %q, path %q", slice, el.SliceName, el.Path)
				}
				if u := byID[slice+".url"]; u.FixedURI != w.Name || u.Path != "Extension.extension.url" {
					t.Errorf("%s.url fixed to %q (path %q), want %q", slice, u.FixedURI, u.Path, w.Name)
				}
				s := confTestSlice{Name: el.SliceName, Max: el.Max}
				if el.Min != nil {
					s.Min = *el.Min
				} else {
					s.Min = -1
				}
				value := byID[slice+".value[x]"]
				if value.Path != "Extension.extension.value[x]" || len(value.Type) != 1 {
					t.Errorf("%s.value[x]: path %q, %d types", slice, value.Path, len(value.Type))
				} else {
					s.Type = value.Type[0].Code
				}
				if value.Binding != nil {
					if value.Binding.Strength != "required" {
						t.Errorf("%s binding strength %q, want required", slice, value.Binding.Strength)
					}
					s.ValueSet = value.Binding.ValueSet
				}
				got = append(got, s)
			}
			if !slices.Equal(got, want) {
				t.Errorf("slices =\n%+v\nwant\n%+v", got, want)
			}
		})
	}
	if sliced != len(tax.Elements) {
		t.Errorf("the extensions slice %d elements; the taxonomy has %d", sliced, len(tax.Elements))
	}
}

func TestTheProfileSlicesTheEventsOwnExtensions(t *testing.T) {
	tax := confTestTaxonomy(t)
	v, ok := fhir.StructureDefinition(confTestBase, tax, tax.Profile)
	if !ok {
		t.Fatalf("StructureDefinition(%q) is not ok", tax.Profile)
	}
	var sd confTestStructureDefinition
	confTestDecode(t, v, &sd)
	if want := confTestBase + "/taxonomy/fhir/StructureDefinition/" + tax.Profile; sd.URL != want || sd.ID != tax.Profile {
		t.Errorf("id %q, url %q, want %q", sd.ID, sd.URL, want)
	}
	if sd.ResourceType != "StructureDefinition" || sd.Status != "active" || sd.FHIRVersion != "4.0.1" || sd.Kind != "resource" ||
		sd.Abstract == nil || *sd.Abstract || sd.Type != "AdverseEvent" || sd.Derivation != "constraint" ||
		sd.BaseDefinition != "http://hl7.org/fhir/StructureDefinition/AdverseEvent" || sd.Name == "" {
		t.Errorf("header = %+v", sd)
	}
	six := strings.TrimSuffix(tax.ProfileURL, "-5") + "-6"
	if !strings.Contains(sd.Description, tax.ProfileURL) || !strings.Contains(sd.Description, six) {
		t.Errorf("description %q does not name the national profile %s and its -6 form", sd.Description, tax.ProfileURL)
	}

	var want, got []confTestSlice
	for _, x := range tax.Extensions {
		if x.Resource == tax.Profile {
			want = append(want, confTestSlice{Name: x.ID, Min: x.Min, Max: strconv.Itoa(x.Max),
				Type: confTestBase + "/taxonomy/fhir/StructureDefinition/" + x.Profile})
		}
	}
	if len(want) == 0 {
		t.Fatal("no extension of the taxonomy is carried by the event")
	}
	els := sd.Differential.Element
	if len(els) == 0 || els[0].ID != "AdverseEvent.extension" || els[0].SliceName != "" {
		t.Fatalf("the first element is not the slicing of AdverseEvent.extension: %+v", els)
	}
	for _, el := range els[1:] {
		if el.ID != "AdverseEvent.extension:"+el.SliceName || el.Path != "AdverseEvent.extension" {
			t.Errorf("element %q (path %q) is not an extension slice", el.ID, el.Path)
		}
		s := confTestSlice{Name: el.SliceName, Max: el.Max, Min: -1}
		if el.Min != nil {
			s.Min = *el.Min
		}
		if len(el.Type) == 1 && el.Type[0].Code == "Extension" && len(el.Type[0].Profile) == 1 {
			s.Type = el.Type[0].Profile[0]
		}
		got = append(got, s)
	}
	if !slices.Equal(got, want) {
		t.Errorf("slices =\n%+v\nwant\n%+v", got, want)
	}
	// Every profile a slice names is one PSIMS serves.
	for _, s := range got {
		id := s.Type[strings.LastIndex(s.Type, "/")+1:]
		if _, ok := fhir.StructureDefinition(confTestBase, tax, id); !ok {
			t.Errorf("slice %s names %s, which is not served", s.Name, s.Type)
		}
	}
}

func TestEveryBindingNamesAServedValueSet(t *testing.T) {
	tax := confTestTaxonomy(t)
	prefix := confTestBase + "/taxonomy/fhir/ValueSet/"
	for _, x := range tax.Extensions {
		v, _ := fhir.StructureDefinition(confTestBase, tax, x.Profile)
		var sd confTestStructureDefinition
		confTestDecode(t, v, &sd)
		for _, el := range sd.Differential.Element {
			if el.Binding == nil {
				continue
			}
			id, found := strings.CutPrefix(el.Binding.ValueSet, prefix)
			if !found {
				t.Errorf("%s %s binds to %q, not one of PSIMS's value sets", x.Profile, el.ID, el.Binding.ValueSet)
				continue
			}
			if _, ok := fhir.ValueSet(confTestBase, tax, id); !ok {
				t.Errorf("%s %s binds to %q, which is not served", x.Profile, el.ID, el.Binding.ValueSet)
			}
		}
	}
}

// confTestAll returns every conformance resource, by a name for messages.
func confTestAll(tb testing.TB, tax *taxonomy.Taxonomy) map[string]any {
	tb.Helper()
	now := time.Date(2026, 12, 6, 23, 30, 15, 0, time.UTC)
	all := map[string]any{"CapabilityStatement": fhir.CapabilityStatement(confTestBase, tax, "1.4.0", now)}
	add := func(kind, id string, v any, ok bool) {
		if !ok {
			tb.Fatalf("%s(%q) is not ok", kind, id)
		}
		all[kind+"/"+id] = v
	}
	v, ok := fhir.StructureDefinition(confTestBase, tax, tax.Profile)
	add("StructureDefinition", tax.Profile, v, ok)
	for _, x := range tax.Extensions {
		v, ok := fhir.StructureDefinition(confTestBase, tax, x.Profile)
		add("StructureDefinition", x.Profile, v, ok)
	}
	for _, l := range tax.CodeLists {
		v, ok := fhir.ValueSet(confTestBase, tax, l.ID)
		add("ValueSet", l.ID, v, ok)
		v, ok = fhir.CodeSystem(confTestBase, tax, l.ID)
		add("CodeSystem", l.ID, v, ok)
	}
	return all
}

func TestConformanceResourcesAreValidAndTheSameEveryTime(t *testing.T) {
	first := confTestAll(t, confTestTaxonomy(t))
	second := confTestAll(t, confTestTaxonomy(t))
	if want := 1 + 1 + 25 + 2*len(confTestTaxonomy(t).CodeLists); len(first) != want {
		t.Errorf("%d resources, want %d", len(first), want)
	}
	for _, name := range slices.Sorted(maps.Keys(first)) {
		var a, b map[string]any
		da := confTestDecode(t, first[name], &a)
		db := confTestDecode(t, second[name], &b)
		if !bytes.Equal(da, db) {
			t.Errorf("%s: two calls gave different JSON", name)
		}
		kind, _, _ := strings.Cut(name, "/")
		if a["resourceType"] != kind {
			t.Errorf("%s: resourceType %v", name, a["resourceType"])
		}
	}
}

// confTestCapability is the part of the CapabilityStatement the test reads.
type confTestCapability struct {
	ResourceType   string   `json:"resourceType"`
	Status         string   `json:"status"`
	Date           string   `json:"date"`
	Kind           string   `json:"kind"`
	FHIRVersion    string   `json:"fhirVersion"`
	Format         []string `json:"format"`
	Implementation struct {
		URL string `json:"url"`
	} `json:"implementation"`
	Software struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	} `json:"software"`
	Rest []struct {
		Mode     string `json:"mode"`
		Security struct {
			Description string `json:"description"`
			Service     []any  `json:"service"`
		} `json:"security"`
		Interaction []any `json:"interaction"`
		Operation   []any `json:"operation"`
		Resource    []struct {
			Type              string   `json:"type"`
			Profile           string   `json:"profile"`
			SupportedProfile  []string `json:"supportedProfile"`
			Versioning        string   `json:"versioning"`
			ReadHistory       *bool    `json:"readHistory"`
			UpdateCreate      *bool    `json:"updateCreate"`
			ConditionalCreate *bool    `json:"conditionalCreate"`
			ConditionalRead   string   `json:"conditionalRead"`
			ConditionalUpdate *bool    `json:"conditionalUpdate"`
			ConditionalDelete string   `json:"conditionalDelete"`
			Interaction       []struct {
				Code string `json:"code"`
			} `json:"interaction"`
			SearchParam []struct {
				Name string `json:"name"`
				Type string `json:"type"`
			} `json:"searchParam"`
			Operation []any `json:"operation"`
		} `json:"resource"`
	} `json:"rest"`
}

func TestTheCapabilityStatementListsExactlyWhatTheAPISupports(t *testing.T) {
	tax := confTestTaxonomy(t)
	now := time.Date(2026, 12, 6, 23, 30, 15, 999, time.FixedZone("BST", 3600))
	var cs confTestCapability
	confTestDecode(t, fhir.CapabilityStatement(confTestBase, tax, "1.4.0", now), &cs)

	if cs.ResourceType != "CapabilityStatement" || cs.Status != "active" || cs.Kind != "instance" || cs.FHIRVersion != "4.0.1" {
		t.Errorf("resourceType %q, status %q, kind %q, fhirVersion %q", cs.ResourceType, cs.Status, cs.Kind, cs.FHIRVersion)
	}
	if cs.Date != "2026-12-06T22:30:15Z" {
		t.Errorf("date = %q, want the time given, in UTC", cs.Date)
	}
	if !slices.Equal(cs.Format, []string{"application/fhir+json"}) {
		t.Errorf("format = %v", cs.Format)
	}
	if want := confTestBase + "/adverse-event/fhir"; cs.Implementation.URL != want {
		t.Errorf("implementation.url = %q, want %q", cs.Implementation.URL, want)
	}
	if cs.Software.Version != "1.4.0" || cs.Software.Name == "" {
		t.Errorf("software = %+v", cs.Software)
	}
	if len(cs.Rest) != 1 {
		t.Fatalf("%d rest entries, want 1", len(cs.Rest))
	}
	rest := cs.Rest[0]
	if rest.Mode != "server" {
		t.Errorf("mode = %q", rest.Mode)
	}
	for _, s := range []string{"Ocp-Apim-Subscription-Key", "Authorization: Bearer"} {
		if !strings.Contains(rest.Security.Description, s) {
			t.Errorf("security description %q does not mention %s", rest.Security.Description, s)
		}
	}
	if rest.Security.Service != nil || rest.Interaction != nil || rest.Operation != nil {
		t.Errorf("security services %v, system interactions %v, operations %v: want none", rest.Security.Service, rest.Interaction, rest.Operation)
	}
	if len(rest.Resource) != 1 {
		t.Fatalf("%d resources, want 1", len(rest.Resource))
	}
	r := rest.Resource[0]
	if r.Type != "AdverseEvent" {
		t.Errorf("type = %q", r.Type)
	}
	if want := confTestBase + "/taxonomy/fhir/StructureDefinition/" + tax.Profile; r.Profile != want {
		t.Errorf("profile = %q, want %q", r.Profile, want)
	}
	if !slices.Contains(r.SupportedProfile, tax.ProfileURL) {
		t.Errorf("supportedProfile %v does not hold the national profile %s", r.SupportedProfile, tax.ProfileURL)
	}

	var interactions []string
	for _, i := range r.Interaction {
		interactions = append(interactions, i.Code)
	}
	slices.Sort(interactions)
	if want := []string{"create", "history-instance", "read", "search-type", "update", "vread"}; !slices.Equal(interactions, want) {
		t.Errorf("interactions = %v, want exactly %v", interactions, want)
	}
	params := map[string]string{}
	for _, p := range r.SearchParam {
		if _, twice := params[p.Name]; twice {
			t.Errorf("search parameter %q is listed twice", p.Name)
		}
		params[p.Name] = p.Type
	}
	wantParams := map[string]string{"date": "date", "_lastUpdated": "date", "location.organization": "token", "_count": "number"}
	if !maps.Equal(params, wantParams) {
		t.Errorf("search parameters = %v, want exactly %v", params, wantParams)
	}
	if r.Operation != nil {
		t.Errorf("operations %v, want none", r.Operation)
	}

	flags := []struct {
		name string
		got  *bool
		want bool
	}{
		{"readHistory", r.ReadHistory, true},
		{"updateCreate", r.UpdateCreate, false},
		{"conditionalCreate", r.ConditionalCreate, false},
		{"conditionalUpdate", r.ConditionalUpdate, false},
	}
	for _, fl := range flags {
		if fl.got == nil || *fl.got != fl.want {
			t.Errorf("%s = %v, want %v", fl.name, fl.got, fl.want)
		}
	}
	if r.Versioning != "versioned-update" || r.ConditionalRead != "not-supported" || r.ConditionalDelete != "not-supported" {
		t.Errorf("versioning %q, conditionalRead %q, conditionalDelete %q", r.Versioning, r.ConditionalRead, r.ConditionalDelete)
	}
}

// confTestNationalRoot is where the national taxonomy's definitions are,
// such as "https://psims-uat.azure-api.net/taxonomy/fhir".
func confTestNationalRoot(tax *taxonomy.Taxonomy) string {
	root, _, _ := strings.Cut(tax.ProfileURL, "/StructureDefinition/")
	return root
}
