package fhir_test

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/psims/psims/internal/fhir"
	"github.com/psims/psims/internal/incident"
)

// oaTestLoad parses and validates the document kin-openapi's way.
func oaTestLoad(tb testing.TB, base string) *openapi3.T {
	tb.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(fhir.OpenAPI(base))
	if err != nil {
		tb.Fatalf("loading the OpenAPI document: %v", err)
	}
	return doc
}

// oaTestOperations are every endpoint the API serves, and whether it needs
// a key.
var oaTestOperations = []struct {
	method, path string
	keyed        bool
}{
	{http.MethodGet, "/adverse-event/fhir/metadata", false},
	{http.MethodPost, "/adverse-event/fhir/AdverseEvent", true},
	{http.MethodGet, "/adverse-event/fhir/AdverseEvent", true},
	{http.MethodGet, "/adverse-event/fhir/AdverseEvent/{id}", true},
	{http.MethodPut, "/adverse-event/fhir/AdverseEvent/{id}", true},
	{http.MethodGet, "/adverse-event/fhir/AdverseEvent/{id}/_history", true},
	{http.MethodGet, "/adverse-event/fhir/AdverseEvent/{id}/_history/{vid}", true},
	{http.MethodGet, "/adverse-event/fhir/openapi.json", false},
	{http.MethodGet, "/taxonomy/fhir/StructureDefinition/{id}", false},
	{http.MethodGet, "/taxonomy/fhir/ValueSet/{id}", false},
	{http.MethodGet, "/taxonomy/fhir/CodeSystem/{id}", false},
}

func TestTheOpenAPIDocumentIsValidOpenAPI31(t *testing.T) {
	doc := oaTestLoad(t, confTestBase)
	if doc.OpenAPI != "3.1.0" || !doc.IsOpenAPI31OrLater() {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if len(doc.Servers) == 0 || doc.Servers[0].URL != confTestBase {
		t.Errorf("servers = %v, want the base URL first", doc.Servers)
	}
}

func TestTheOpenAPIDocumentListsEveryEndpointAndNoOther(t *testing.T) {
	doc := oaTestLoad(t, confTestBase)
	var want, got []string
	for _, op := range oaTestOperations {
		want = append(want, op.method+" "+op.path)
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			got = append(got, method+" "+path)
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("operations =\n%v\nwant\n%v", got, want)
	}
}

func TestOnlyTheDefinitionsNeedNoKey(t *testing.T) {
	doc := oaTestLoad(t, confTestBase)
	schemes := doc.Components.SecuritySchemes
	if s := schemes["subscriptionKey"]; s == nil || s.Value.Type != "apiKey" || s.Value.In != "header" || s.Value.Name != "Ocp-Apim-Subscription-Key" {
		t.Errorf("the API key scheme is not the Ocp-Apim-Subscription-Key header: %+v", s)
	}
	if s := schemes["bearerKey"]; s == nil || s.Value.Type != "http" || s.Value.Scheme != "bearer" {
		t.Errorf("the bearer scheme is not http bearer: %+v", s)
	}
	var global []string
	for _, req := range doc.Security {
		for name := range req {
			global = append(global, name)
		}
	}
	slices.Sort(global)
	if !slices.Equal(global, []string{"bearerKey", "subscriptionKey"}) || len(doc.Security) != 2 {
		t.Errorf("global security = %v, want either scheme on its own", doc.Security)
	}
	for _, o := range oaTestOperations {
		op := doc.Paths.Find(o.path).GetOperation(o.method)
		public := op.Security != nil && len(*op.Security) == 0
		if public == o.keyed {
			t.Errorf("%s %s: needs a key = %v, want %v", o.method, o.path, !public, o.keyed)
		}
		if o.keyed && op.Responses.Status(http.StatusUnauthorized) == nil {
			t.Errorf("%s %s needs a key but lists no 401", o.method, o.path)
		}
	}
}

func TestEveryOperationAnswersWithTheRightStatusesAndBodies(t *testing.T) {
	doc := oaTestLoad(t, confTestBase)
	statuses := map[string][]int{
		"GET /adverse-event/fhir/metadata":                         {200, 406},
		"POST /adverse-event/fhir/AdverseEvent":                    {201, 400, 401, 403, 406, 413, 415, 422, 429},
		"GET /adverse-event/fhir/AdverseEvent":                     {200, 400, 401, 403, 406, 429},
		"GET /adverse-event/fhir/AdverseEvent/{id}":                {200, 401, 404, 406, 429},
		"PUT /adverse-event/fhir/AdverseEvent/{id}":                {200, 400, 401, 404, 406, 409, 412, 413, 415, 422, 429},
		"GET /adverse-event/fhir/AdverseEvent/{id}/_history":       {200, 401, 404, 406, 429},
		"GET /adverse-event/fhir/AdverseEvent/{id}/_history/{vid}": {200, 401, 404, 406, 429},
		"GET /adverse-event/fhir/openapi.json":                     {200, 406},
		"GET /taxonomy/fhir/StructureDefinition/{id}":              {200, 404, 406},
		"GET /taxonomy/fhir/ValueSet/{id}":                         {200, 404, 406},
		"GET /taxonomy/fhir/CodeSystem/{id}":                       {200, 404, 406},
	}
	for _, o := range oaTestOperations {
		name := o.method + " " + o.path
		t.Run(name, func(t *testing.T) {
			op := doc.Paths.Find(o.path).GetOperation(o.method)
			var got []int
			for code := range op.Responses.Map() {
				n := 0
				for _, c := range code {
					n = n*10 + int(c-'0')
				}
				got = append(got, n)
			}
			slices.Sort(got)
			if !slices.Equal(got, statuses[name]) {
				t.Errorf("statuses = %v, want %v", got, statuses[name])
			}
			for _, code := range got {
				r := op.Responses.Status(code).Value
				if r == nil || r.Description == nil || *r.Description == "" {
					t.Errorf("%d has no description", code)
					continue
				}
				if code >= 400 {
					mt := r.Content.Get("application/fhir+json")
					if mt == nil || mt.Schema == nil || mt.Schema.Ref != "#/components/schemas/OperationOutcome" {
						t.Errorf("%d is not an OperationOutcome", code)
					}
				}
				if code == 429 && r.Headers["Retry-After"] == nil {
					t.Errorf("429 has no Retry-After header")
				}
			}
		})
	}
}

func TestWritesAndReadsCarryTheVersion(t *testing.T) {
	doc := oaTestLoad(t, confTestBase)
	events := doc.Paths.Find("/adverse-event/fhir/AdverseEvent")
	event := doc.Paths.Find("/adverse-event/fhir/AdverseEvent/{id}")

	created := events.Post.Responses.Status(http.StatusCreated).Value
	if created.Headers["Location"] == nil || created.Headers["ETag"] == nil {
		t.Errorf("201 headers = %v, want Location and ETag", created.Headers)
	}
	if ex := created.Headers["ETag"].Value.Schema.Value.Examples; !slices.Contains(ex, any(`W/"1"`)) {
		t.Errorf("the ETag's examples %v do not show W/\"1\"", ex)
	}
	for _, op := range []*openapi3.Operation{events.Post, event.Put} {
		body := op.RequestBody.Value
		if !body.Required || body.Content.Get("application/fhir+json") == nil ||
			body.Content.Get("application/fhir+json").Schema.Ref != "#/components/schemas/AdverseEvent" {
			t.Errorf("%s: the body is not a required application/fhir+json AdverseEvent", op.OperationID)
		}
	}

	var ifMatch *openapi3.Parameter
	for _, p := range event.Put.Parameters {
		if p.Value.In == "header" && p.Value.Name == "If-Match" {
			ifMatch = p.Value
		}
	}
	if ifMatch == nil || ifMatch.Required {
		t.Fatalf("PUT has no optional If-Match header: %+v", ifMatch)
	}
	pattern := regexp.MustCompile(ifMatch.Schema.Value.Pattern)
	for s, ok := range map[string]bool{`W/"1"`: true, `W/"12"`: true, `"1"`: false, `W/"0"`: false, `W/1`: false} {
		if pattern.MatchString(s) != ok {
			t.Errorf("If-Match pattern %s matches %s: %v, want %v", pattern, s, !ok, ok)
		}
	}
	if event.Put.Responses.Status(http.StatusPreconditionFailed) == nil {
		t.Errorf("PUT lists no 412")
	}
}

func TestTheSearchTakesTheFourParameters(t *testing.T) {
	doc := oaTestLoad(t, confTestBase)
	search := doc.Paths.Find("/adverse-event/fhir/AdverseEvent").Get
	params := map[string]*openapi3.Parameter{}
	for _, p := range search.Parameters {
		if p.Value.In != "query" {
			t.Errorf("%s is in %s, want query", p.Value.Name, p.Value.In)
		}
		params[p.Value.Name] = p.Value
	}
	var names []string
	for n := range params {
		names = append(names, n)
	}
	slices.Sort(names)
	if want := []string{"_count", "_lastUpdated", "date", "location.organization"}; !slices.Equal(names, want) {
		t.Fatalf("search parameters = %v, want %v", names, want)
	}
	count := params["_count"].Schema.Value
	if !count.Type.Is("integer") || count.Min == nil || *count.Min != 1 || count.Max == nil || *count.Max != 100 || count.Default != float64(20) {
		t.Errorf("_count = %s 1..100 default 20? got type %v min %v max %v default %v", "integer", count.Type, count.Min, count.Max, count.Default)
	}
	for _, n := range []string{"date", "_lastUpdated"} {
		d := params[n]
		if !d.Schema.Value.Type.Is("array") || d.Explode == nil || !*d.Explode {
			t.Errorf("%s cannot be repeated for a range", n)
		}
		for _, prefix := range []string{"ge", "le", "gt", "lt", "eq"} {
			if !strings.Contains(d.Description, prefix) {
				t.Errorf("%s does not document the prefix %s", n, prefix)
			}
		}
	}
	ok := search.Responses.Status(http.StatusOK).Value.Content.Get("application/fhir+json")
	if ok == nil || ok.Schema.Ref != "#/components/schemas/Bundle" {
		t.Fatalf("the search does not return a Bundle")
	}
	bundle := doc.Components.Schemas["Bundle"].Value
	if !slices.Contains(bundle.Properties["type"].Value.Enum, any("searchset")) {
		t.Errorf("Bundle.type does not allow searchset")
	}
}

func TestTheIDPatternMatchesPSIMSReferences(t *testing.T) {
	doc := oaTestLoad(t, confTestBase)
	id := doc.Components.Parameters["id"].Value
	if id.In != "path" || !id.Required {
		t.Fatalf("id is not a required path parameter")
	}
	pattern := regexp.MustCompile(id.Schema.Value.Pattern)
	for range 500 {
		ref := string(incident.NewReference())
		if !pattern.MatchString(ref) {
			t.Fatalf("the pattern %s rejects the reference %s", pattern, ref)
		}
	}
	for _, ex := range id.Schema.Value.Examples {
		s, _ := ex.(string)
		if _, err := incident.ParseReference(s); err != nil || !pattern.MatchString(s) {
			t.Errorf("the example %q is not a valid reference", s)
		}
	}
	for _, bad := range []string{"PSE-0000-0000", "pse-7k2m-9qxh", "PSE-7K2M9QXH", "PSE-7K2M-9QXH-", "7K2M-9QXH"} {
		if pattern.MatchString(bad) {
			t.Errorf("the pattern accepts %q", bad)
		}
	}
}

func TestTheSchemasAreLooseAndNameTheMainProperties(t *testing.T) {
	doc := oaTestLoad(t, confTestBase)
	want := map[string][]string{
		"AdverseEvent":     {"resourceType", "id", "meta", "extension", "contained", "event", "date"},
		"Bundle":           {"resourceType", "type", "link", "entry"},
		"OperationOutcome": {"resourceType", "issue"},
	}
	for name, props := range want {
		s := doc.Components.Schemas[name]
		if s == nil {
			t.Errorf("no schema %s", name)
			continue
		}
		if !s.Value.Type.Is("object") {
			t.Errorf("%s is not an object", name)
		}
		if s.Value.AdditionalProperties.Has == nil || !*s.Value.AdditionalProperties.Has {
			t.Errorf("%s does not allow other properties", name)
		}
		for _, p := range props {
			if s.Value.Properties[p] == nil {
				t.Errorf("%s has no property %s", name, p)
			}
		}
	}
	issue := doc.Components.Schemas["OperationOutcome"].Value.Properties["issue"].Value.Items.Value
	for _, p := range []string{"severity", "code", "details", "diagnostics", "expression"} {
		if issue.Properties[p] == nil {
			t.Errorf("an OperationOutcome issue has no %s", p)
		}
	}
}

func TestTheOpenAPIDocumentIsTheSameEveryTime(t *testing.T) {
	a, b := fhir.OpenAPI(confTestBase), fhir.OpenAPI(confTestBase)
	if !bytes.Equal(a, b) {
		t.Fatal("two calls gave different bytes")
	}
	other := fhir.OpenAPI("https://other.example")
	if got := bytes.ReplaceAll(other, []byte("https://other.example"), []byte(confTestBase)); !bytes.Equal(got, a) {
		t.Error("the base URL changes more than the base URL")
	}
}

func TestTheDefinitionIDPatternTakesEveryServedID(t *testing.T) {
	doc := oaTestLoad(t, confTestBase)
	tax := confTestTaxonomy(t)
	ids := []string{tax.Profile}
	for _, x := range tax.Extensions {
		ids = append(ids, x.Profile)
	}
	for _, l := range tax.CodeLists {
		ids = append(ids, l.ID)
	}
	for _, kind := range []string{"StructureDefinition", "ValueSet", "CodeSystem"} {
		op := doc.Paths.Find("/taxonomy/fhir/" + kind + "/{id}").Get
		id := op.Parameters.GetByInAndName("path", "id")
		if id == nil || !id.Required {
			t.Fatalf("%s: no required path parameter id", kind)
		}
		pattern := regexp.MustCompile(id.Schema.Value.Pattern)
		for _, s := range ids {
			if !pattern.MatchString(s) {
				t.Errorf("%s: the id pattern %s rejects %q", kind, pattern, s)
			}
		}
	}
}
