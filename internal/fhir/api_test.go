package fhir_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apikey"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/fhir"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/incident/form"
)

// apiSite is PSIMS running on one engine, with a key of RM1 and one of
// D82044, and the codec and form to build resources with.
type apiSite struct {
	t     *testing.T
	site  *apptest.Site
	codec *fhir.Codec
	form  *form.Form
	key   string // RM1's key
	other string // D82044's key
	keyID int64
}

func newAPISite(t *testing.T, e dbtest.Engine, edit func(*config.Config)) *apiSite {
	t.Helper()
	s := &apiSite{t: t, site: apptest.Start(t, e, edit)}
	s.codec, s.form = newCodec(t)
	var k apikey.Key
	k, s.key = s.newKey("RM1", time.Time{})
	s.keyID = k.ID
	_, s.other = s.newKey("D82044", time.Time{})
	return s
}

func (s *apiSite) newKey(org string, expires time.Time) (apikey.Key, string) {
	s.t.Helper()
	k, secret, err := s.site.App.APIKeys.Create(context.Background(), apikey.NewKey{Org: org, Name: "Datix at " + org, ExpiresAt: expires}, apikey.Client{})
	if err != nil {
		s.t.Fatal(err)
	}
	return k, secret
}

// response is an answer from the API.
type response struct {
	status int
	header http.Header
	body   []byte
}

// outcome reads the answer as an OperationOutcome.
func (r response) issues(t *testing.T) []issue {
	t.Helper()
	var o struct {
		ResourceType string
		Issue        []issue
	}
	if err := json.Unmarshal(r.body, &o); err != nil || o.ResourceType != "OperationOutcome" {
		t.Fatalf("status %d: not an OperationOutcome: %s", r.status, r.body)
	}
	return o.Issue
}

type issue struct {
	Severity, Code string
	Details        struct{ Text string }
	Expression     []string
}

// do sends a request to the API with the key (none when key is "").
func (s *apiSite) do(method, path, key string, body []byte, header ...string) response {
	s.t.Helper()
	req, err := http.NewRequest(method, s.site.Addr+path, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	if key != "" {
		req.Header.Set("Ocp-Apim-Subscription-Key", key)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// resource is an AdverseEvent of the type, answered as a person would on
// the form, at RM1.
func (s *apiSite) resource(typ incident.Type, choose map[string]url.Values) ([]byte, incident.Answers) {
	s.t.Helper()
	a := fillForm(s.t, s.form, typ, choose)
	res, problems := s.form.Complete(typ, a, time.Now())
	if problems != nil {
		s.t.Fatal(problems)
	}
	body, err := s.codec.Encode(fhir.Snapshot{Reference: "PSE-7K2M-9QXH", Type: typ, Version: 1, Updated: time.Now(), Answers: res.Answers})
	if err != nil {
		s.t.Fatal(err)
	}
	return body, res.Answers
}

// created is what a create answered: the reference, version and resource.
func (s *apiSite) create(body []byte) (incident.Reference, map[string]any) {
	s.t.Helper()
	r := s.do(http.MethodPost, "/adverse-event/fhir/AdverseEvent", s.key, body)
	if r.status != http.StatusCreated {
		s.t.Fatalf("create: %d %s", r.status, r.body)
	}
	var ae map[string]any
	if err := json.Unmarshal(r.body, &ae); err != nil {
		s.t.Fatal(err)
	}
	ref := incident.Reference(ae["id"].(string))
	if want := s.site.URL + "/adverse-event/fhir/AdverseEvent/" + string(ref) + "/_history/1"; r.header.Get("Location") != want {
		s.t.Fatalf("Location %q, want %q", r.header.Get("Location"), want)
	}
	if r.header.Get("ETag") != `W/"1"` {
		s.t.Fatalf("ETag %q", r.header.Get("ETag"))
	}
	return ref, ae
}

// TestAnLFPSEClientCreatesReadsUpdatesAndSearches drives the API as a
// local risk management system would, on both engines: every event type is
// created and read back with the same answers (and the reference in the
// ReferenceNumber extension), changed with If-Match, refused on a stale
// If-Match, and found by search a page at a time.
func TestAnLFPSEClientCreatesReadsUpdatesAndSearches(t *testing.T) {
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			s := newAPISite(t, e, nil)
			ctx := context.Background()
			var refs []incident.Reference
			for _, typ := range incident.Types() {
				body, want := s.resource(typ, nil)
				ref, _ := s.create(body)
				refs = append(refs, ref)
				r := s.do(http.MethodGet, "/adverse-event/fhir/AdverseEvent/"+string(ref), s.key, nil)
				if r.status != http.StatusOK {
					t.Fatalf("read %s: %d %s", ref, r.status, r.body)
				}
				rec, issues := s.codec.Decode(r.body)
				if issues != nil {
					t.Fatalf("read back: %+v", issues)
				}
				got, problems := s.form.CompleteRecord(rec.Type, rec.Answers, time.Now())
				if problems != nil || rec.Type != typ || !sameAnswers(got.Answers, want) {
					t.Fatalf("%s read back as %s with %v:\n got %v\nwant %v", typ, rec.Type, problems, got.Answers, want)
				}
				if !strings.Contains(string(r.body), `{"url":"ReferenceNumber","valueString":"`+string(ref)+`"}`) {
					t.Fatalf("no ReferenceNumber %s in %s", ref, r.body)
				}
				// The event is the same record the pages show.
				ev, err := s.site.App.Incidents.ByReference(ctx, ref)
				if err != nil || ev.Source != incident.System || ev.OrgCode != "RM1" || ev.Type != typ {
					t.Fatalf("stored as %+v, %v", ev, err)
				}
			}

			// A change with If-Match makes version 2; the old ETag is then
			// refused with 412 and nothing is stored.
			ref := refs[0]
			r := s.do(http.MethodGet, "/adverse-event/fhir/AdverseEvent/"+string(ref), s.key, nil)
			changed := bytes.Replace(r.body, []byte(`"text":"Given the wrong dose`), []byte(`"text":"Changed: given the wrong dose`), 1)
			up := s.do(http.MethodPut, "/adverse-event/fhir/AdverseEvent/"+string(ref), s.key, changed, "If-Match", `W/"1"`)
			if up.status != http.StatusOK || up.header.Get("ETag") != `W/"2"` {
				t.Fatalf("update: %d %s %s", up.status, up.header.Get("ETag"), up.body)
			}
			// The same resource again makes no new version.
			again := s.do(http.MethodPut, "/adverse-event/fhir/AdverseEvent/"+string(ref), s.key, up.body)
			if again.status != http.StatusOK || again.header.Get("ETag") != `W/"2"` {
				t.Fatalf("an unchanged update: %d %s", again.status, again.header.Get("ETag"))
			}
			stale := s.do(http.MethodPut, "/adverse-event/fhir/AdverseEvent/"+string(ref), s.key, changed, "If-Match", `W/"1"`)
			if stale.status != http.StatusPreconditionFailed || stale.issues(t)[0].Code != "conflict" {
				t.Fatalf("stale update: %d %s", stale.status, stale.body)
			}
			hist := s.do(http.MethodGet, "/adverse-event/fhir/AdverseEvent/"+string(ref)+"/_history", s.key, nil)
			var b struct {
				Type  string
				Total int
				Entry []struct {
					Resource struct {
						Meta  struct{ VersionID string }
						Event struct{ Text string }
					}
				}
			}
			if err := json.Unmarshal(hist.body, &b); err != nil || b.Type != "history" || b.Total != 2 ||
				b.Entry[0].Resource.Meta.VersionID != "2" || !strings.HasPrefix(b.Entry[0].Resource.Event.Text, "Changed:") ||
				b.Entry[1].Resource.Meta.VersionID != "1" || strings.HasPrefix(b.Entry[1].Resource.Event.Text, "Changed:") {
				t.Fatalf("history: %v %s", err, hist.body)
			}
			v1 := s.do(http.MethodGet, "/adverse-event/fhir/AdverseEvent/"+string(ref)+"/_history/1", s.key, nil)
			if v1.status != http.StatusOK || v1.header.Get("ETag") != `W/"1"` || bytes.Contains(v1.body, []byte("Changed:")) {
				t.Fatalf("vread 1: %d %s", v1.status, v1.body)
			}
			if r := s.do(http.MethodGet, "/adverse-event/fhir/AdverseEvent/"+string(ref)+"/_history/3", s.key, nil); r.status != http.StatusNotFound {
				t.Fatalf("vread 3: %d", r.status)
			}

			// Search, two a page: every event once, oldest first, by
			// following next links.
			var seen []incident.Reference
			next := "/adverse-event/fhir/AdverseEvent?_count=2&date=ge2000-01-01&location.organization=RM1"
			for pages := 0; next != ""; pages++ {
				if pages > 5 {
					t.Fatal("search never ends")
				}
				r := s.do(http.MethodGet, next, s.key, nil)
				var page struct {
					Type  string
					Total *int
					Link  []struct{ Relation, URL string }
					Entry []struct{ Resource struct{ ID string } }
				}
				if err := json.Unmarshal(r.body, &page); err != nil || r.status != http.StatusOK || page.Type != "searchset" || len(page.Entry) > 2 {
					t.Fatalf("search: %d %v %s", r.status, err, r.body)
				}
				for _, e := range page.Entry {
					seen = append(seen, incident.Reference(e.Resource.ID))
				}
				next = ""
				for _, l := range page.Link {
					if l.Relation == "next" {
						next = strings.TrimPrefix(l.URL, s.site.URL)
					}
				}
			}
			if !slices.Equal(seen, refs) {
				t.Fatalf("search found %v, want %v", seen, refs)
			}
			// Nothing happened before 2000, or was changed after now.
			for _, q := range []string{"date=lt2000-01-01", "_lastUpdated=gt" + url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339))} {
				r := s.do(http.MethodGet, "/adverse-event/fhir/AdverseEvent?"+q, s.key, nil)
				if r.status != http.StatusOK || bytes.Contains(r.body, []byte(`"entry"`)) {
					t.Fatalf("search %s: %d %s", q, r.status, r.body)
				}
			}
			// Another organisation's key finds none of them.
			r = s.do(http.MethodGet, "/adverse-event/fhir/AdverseEvent", s.other, nil)
			if r.status != http.StatusOK || bytes.Contains(r.body, []byte(`"entry"`)) {
				t.Fatalf("other organisation's search: %d %s", r.status, r.body)
			}
		})
	}
}

// sameAnswers reports whether a and b hold the same values for the same
// elements.
func sameAnswers(a, b incident.Answers) bool { return maps.EqualFunc(a, b, slices.Equal[[]string]) }

// TestKeysDecideWhatARequestMayDo is the API's authorisation matrix: every
// route, with no key, a malformed key, an unknown one, a revoked one, an
// expired one, another organisation's key, and the event's own
// organisation's key. Revoking and expiry take effect on the next request.
func TestKeysDecideWhatARequestMayDo(t *testing.T) {
	s := newAPISite(t, dbtest.SQLite(t), nil)
	body, _ := s.resource(incident.Incident, nil)
	ref, created := s.create(body)
	update, _ := json.Marshal(created)
	revoked, revokedSecret := s.newKey("RM1", time.Time{})
	if err := s.site.App.APIKeys.Revoke(context.Background(), revoked.ID, "", 0, "test", apikey.Client{}); err != nil {
		t.Fatal(err)
	}
	_, expiring := s.newKey("RM1", time.Now().Add(time.Hour))
	s.site.App.DB.SetClock(func() time.Time { return time.Now().Add(2 * time.Hour) })

	routes := []struct {
		method, path string
		body         []byte
		own          int // the status with the organisation's own key
		open         bool
	}{
		{"GET", "/adverse-event/fhir/metadata", nil, 200, true},
		{"GET", "/adverse-event/fhir/openapi.json", nil, 200, true},
		{"GET", "/taxonomy/fhir/StructureDefinition/patient-safety-adverse-event-5", nil, 200, true},
		{"GET", "/taxonomy/fhir/ValueSet/level-of-physical-harm-5", nil, 200, true},
		{"GET", "/taxonomy/fhir/CodeSystem/level-of-physical-harm-5", nil, 200, true},
		{"POST", "/adverse-event/fhir/AdverseEvent", body, 201, false},
		{"GET", "/adverse-event/fhir/AdverseEvent", nil, 200, false},
		{"GET", "/adverse-event/fhir/AdverseEvent/" + string(ref), nil, 200, false},
		{"PUT", "/adverse-event/fhir/AdverseEvent/" + string(ref), update, 200, false},
		{"GET", "/adverse-event/fhir/AdverseEvent/" + string(ref) + "/_history", nil, 200, false},
		{"GET", "/adverse-event/fhir/AdverseEvent/" + string(ref) + "/_history/1", nil, 200, false},
	}
	// Every route the API has is in the table.
	h, err := fhir.New(fhirDeps(s))
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Routes()) != len(routes) {
		t.Fatalf("the API has %d routes and the matrix %d: %v", len(h.Routes()), len(routes), h.Routes())
	}
	for _, rt := range routes {
		cases := []struct {
			who, key string
			want     int
		}{
			{"no key", "", 401},
			{"malformed key", "let-me-in", 401},
			{"unknown key", "psims_" + strings.Repeat("A", 43), 401},
			{"revoked key", revokedSecret, 401},
			{"expired key", expiring, 401},
			{"another organisation's key", s.other, 404},
			{"own key", s.key, rt.own},
		}
		for _, c := range cases {
			want := c.want
			switch {
			case rt.open:
				want = 200
			case c.who == "another organisation's key" && rt.method == "POST":
				want = 403 // the event is RM1's
			case c.who == "another organisation's key" && rt.path == "/adverse-event/fhir/AdverseEvent":
				want = 200 // its own (no) events
			}
			r := s.do(rt.method, rt.path, c.key, rt.body)
			if r.status != want {
				t.Errorf("%s %s with %s: %d, want %d: %s", rt.method, rt.path, c.who, r.status, want, r.body)
			}
		}
	}
}

// fhirDeps are the dependencies of a second API handler on the site's
// database, as another process would have.
func fhirDeps(s *apiSite) fhir.Deps {
	a := s.site.App
	return fhir.Deps{DB: a.DB, Taxonomy: a.Taxonomy, Events: a.Incidents, Recorder: a.Recorder, Keys: a.APIKeys,
		Limiter: a.RateLimits, Rate: 3, Base: s.site.URL, Logger: a.Logger, ClientIP: func(*http.Request) string { return "192.0.2.1" }}
}

// TestEachKeyHasARateSharedByEveryProcess sends requests with one key to
// two handlers on one database, as two processes would be: the third
// request a minute, wherever it goes, is answered 429 with Retry-After,
// while another key is still served.
func TestEachKeyHasARateSharedByEveryProcess(t *testing.T) {
	s := newAPISite(t, dbtest.SQLite(t), func(c *config.Config) { c.APIRate = 3 })
	second, err := fhir.New(fhirDeps(s))
	if err != nil {
		t.Fatal(err)
	}
	get := func(h http.Handler, key string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, "/adverse-event/fhir/AdverseEvent", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		w := &recorder{header: http.Header{}}
		h.ServeHTTP(w, req)
		return &http.Response{StatusCode: w.status, Header: w.header}
	}
	first := s.site.App.API
	for i, h := range []http.Handler{first, second, first} {
		if res := get(h, s.key); res.StatusCode != http.StatusOK {
			t.Fatalf("request %d: %d", i+1, res.StatusCode)
		}
	}
	res := get(second, s.key)
	if res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("fourth request: %d, want 429", res.StatusCode)
	}
	if n, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || n < 1 || n > 60 {
		t.Fatalf("Retry-After %q", res.Header.Get("Retry-After"))
	}
	if res := get(first, s.other); res.StatusCode != http.StatusOK {
		t.Fatalf("another key: %d", res.StatusCode)
	}
}

// recorder is a minimal http.ResponseWriter.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}
func (r *recorder) WriteHeader(code int) { r.status = code }

// TestCreatesChangesAndRefusalsAreAudited checks the audit log holds an
// entry for a create (naming the key), a change, a refused resource and
// an unknown key, with nothing that was sent.
func TestCreatesChangesAndRefusalsAreAudited(t *testing.T) {
	s := newAPISite(t, dbtest.SQLite(t), nil)
	ctx := context.Background()
	body, _ := s.resource(incident.Incident, nil)
	ref, created := s.create(body)
	created["event"].(map[string]any)["text"] = "Changed by the local system."
	update, _ := json.Marshal(created)
	if r := s.do(http.MethodPut, "/adverse-event/fhir/AdverseEvent/"+string(ref), s.key, update); r.status != http.StatusOK {
		t.Fatalf("update: %d %s", r.status, r.body)
	}
	bad := bytes.Replace(body, []byte(`"text":"Given the wrong dose`), []byte(`"text":"NHS number 943 476 5919. Given the wrong dose`), 1)
	if r := s.do(http.MethodPost, "/adverse-event/fhir/AdverseEvent", s.key, bad); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("refused create: %d %s", r.status, r.body)
	}
	if r := s.do(http.MethodGet, "/adverse-event/fhir/AdverseEvent", "psims_"+strings.Repeat("B", 43), nil); r.status != http.StatusUnauthorized {
		t.Fatalf("unknown key: %d", r.status)
	}
	ev, err := s.site.App.Incidents.ByReference(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := audit.List(ctx, s.site.App.DB, "event", strconv.FormatInt(ev.ID, 10), 10)
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]map[string]string{}
	for _, e := range entries {
		actions[e.Action] = e.Details
	}
	key := strconv.FormatInt(s.keyID, 10)
	if actions["event.submit"]["api_key"] != key || actions["event.amend"]["api_key"] != key || actions["event.submit"]["source"] != "system" {
		t.Fatalf("event entries %v", actions)
	}
	refusals, err := audit.List(ctx, s.site.App.DB, "api_key", key, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(refusals) == 0 || refusals[0].Action != "api.refused" || refusals[0].Details["status"] != "422" {
		t.Fatalf("refusals of the key: %+v", refusals)
	}
	unknown, err := audit.List(ctx, s.site.App.DB, "api_key", "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(unknown) == 0 || unknown[0].Details["status"] != "401" {
		t.Fatalf("unknown key refusals: %+v", unknown)
	}
	for _, e := range append(refusals, unknown...) {
		if e.Action != "api.refused" {
			continue
		}
		for _, v := range e.Details {
			if strings.Contains(v, "943") || strings.Contains(v, "psims_") {
				t.Fatalf("the audit log holds what was sent: %v", e.Details)
			}
		}
	}
	// Versions know which key made them.
	versions, err := s.site.App.Incidents.Versions(ctx, ev.ID)
	if err != nil || len(versions) != 2 || versions[0].KeyID != s.keyID || versions[1].KeyID != s.keyID || versions[1].AuthorID != 0 {
		t.Fatalf("versions %+v %v", versions, err)
	}
}

// TestKeysThatDoNotWorkAreSlowedAndNotAuditedForever sends many requests
// with keys that do not work from one address: each is refused and
// audited until the address has sent 30 in a minute, then answered 429
// without an audit entry, while a working key from the same address is
// still served.
func TestKeysThatDoNotWorkAreSlowedAndNotAuditedForever(t *testing.T) {
	s := newAPISite(t, dbtest.SQLite(t), nil)
	for i := range 30 {
		if r := s.do(http.MethodGet, "/adverse-event/fhir/AdverseEvent", "psims_"+strings.Repeat("C", 43), nil); r.status != http.StatusUnauthorized {
			t.Fatalf("refusal %d: %d", i+1, r.status)
		}
	}
	r := s.do(http.MethodGet, "/adverse-event/fhir/AdverseEvent", "psims_"+strings.Repeat("C", 43), nil)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("31st refusal: %d %v", r.status, r.header)
	}
	var n int
	if err := s.site.App.DB.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE action = 'api.refused'`).Scan(&n); err != nil || n != 30 {
		t.Fatalf("%d refusals audited, want 30 (%v)", n, err)
	}
	if r := s.do(http.MethodGet, "/adverse-event/fhir/AdverseEvent", s.key, nil); r.status != http.StatusOK {
		t.Fatalf("a working key: %d", r.status)
	}
}

// TestAKeyOutlivesTheSuspensionOfTheAdminWhoMadeIt: keys are the
// organisation's, so suspending the admin who made one leaves it working,
// and nothing the key does counts as that person's activity.
func TestAKeyOutlivesTheSuspensionOfTheAdminWhoMadeIt(t *testing.T) {
	s := newAPISite(t, dbtest.SQLite(t), nil)
	ctx := context.Background()
	accounts := s.site.App.Accounts
	admin, err := accounts.Create(ctx, account.NewUser{Email: "ada.admin@nhs.net", Name: "Ada Admin", JobRole: "Governance lead",
		OrgCode: "RM1", Role: account.RoleOrgAdmin, Password: "lamp orbit cactus river quartz"})
	if err != nil {
		t.Fatal(err)
	}
	national, err := accounts.Create(ctx, account.NewUser{Email: "nia.national@nhs.net", Name: "Nia National", JobRole: "Operator",
		OrgCode: "QMM", Role: account.RoleNationalAdmin, Password: "lamp orbit cactus river quartz"})
	if err != nil {
		t.Fatal(err)
	}
	_, key, err := s.site.App.APIKeys.Create(ctx, apikey.NewKey{Org: "RM1", Name: "Radar", CreatedBy: admin.ID}, apikey.Client{})
	if err != nil {
		t.Fatal(err)
	}
	if err := accounts.SetStatus(ctx, national, admin, account.StatusSuspended, "Shared their password", "192.0.2.9"); err != nil {
		t.Fatal(err)
	}
	body, _ := s.resource(incident.GoodCare, nil)
	if r := s.do(http.MethodPost, "/adverse-event/fhir/AdverseEvent", key, body); r.status != http.StatusCreated {
		t.Fatalf("the key after its maker's suspension: %d %s", r.status, r.body)
	}
	after, err := accounts.UserByID(ctx, admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.Status != account.StatusSuspended || after.LastSignInAt != nil || !after.LastActiveAt.Equal(admin.LastActiveAt) {
		t.Fatalf("the key's use touched its maker's account: %+v", after)
	}
}
