package web_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/incident/form"
	"github.com/psims/psims/internal/web"
)

// FuzzFormPosts sends arbitrary form bodies, with a valid form token, to
// every form of the account pages: whatever arrives, the answer is a page
// (2xx, 3xx, 4xx), never a 500 or a panic.
func FuzzFormPosts(f *testing.F) {
	site := apptest.Start(f, dbtest.SQLite(f), nil)
	srv, err := web.New(fuzzDeps(site))
	if err != nil {
		f.Fatal(err)
	}
	// A visitor's cookie and the form token that goes with it.
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/sign-in", nil))
	var cookie *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == "psims_csrf" {
			cookie = c
		}
	}
	m := csrfPattern.FindStringSubmatch(w.Body.String())
	if cookie == nil || m == nil {
		f.Fatal("no visitor cookie or form token")
	}
	token := html.UnescapeString(m[1])

	actions := []string{"/register", "/sign-in", "/password-reset", "/password-reset/new", "/verify-email", "/verify-email/resend", "/sign-out"}
	f.Add(uint8(0), "name=A&job_role=B&org_query=RM1&email=a%40nhs.net&password=x&confirm_password=y&action=register")
	f.Add(uint8(0), "org_query=%25%5F%27&action=search")
	f.Add(uint8(1), "email=%00%ff&password=%zz&next=//evil.example")
	f.Add(uint8(3), "token=;;;&password=&confirm_password=")
	f.Add(uint8(4), "token="+strings.Repeat("A", 5000))
	// Held forms (held.go) carried through sign-in, good and bad.
	f.Add(uint8(1), "email=x%40nhs.net&password=x&held_path=%2Fevents%2Fnew&held.type=risk")
	f.Add(uint8(1), "held_path=https%3A%2F%2Fevil.example%2F&held.a=b")
	f.Add(uint8(1), "held_path=%2F%2Fevil&held.=x&held.held_path=%2Fsign-out&held.csrf_token=x")
	f.Fuzz(func(t *testing.T, which uint8, body string) {
		action := actions[int(which)%len(actions)]
		req := httptest.NewRequest(http.MethodPost, action, strings.NewReader(body+"&csrf_token="+token))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(cookie)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("POST %s %q: status %d", action, body, w.Code)
		}
		if loc := w.Header().Get("Location"); loc != "" && (!strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") || strings.HasPrefix(loc, "/\\")) {
			t.Fatalf("POST %s %q: redirect off the site to %q", action, body, loc)
		}
	})
}

// FuzzSignedInFormPosts does the same for the forms of a signed-in national
// admin: the terms review, consent, data preferences, cookies and document
// publishing.
func FuzzSignedInFormPosts(f *testing.F) {
	site := apptest.Start(f, dbtest.SQLite(f), nil)
	srv, err := web.New(fuzzDeps(site))
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	admin, err := site.App.Accounts.Create(ctx, account.NewUser{Email: "fuzz.admin@nhs.net", Name: "Fuzz Admin",
		JobRole: "Operator", OrgCode: "RM1", Role: account.RoleNationalAdmin, Password: passphrase})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := site.App.DB.WritePool().ExecContext(ctx, `UPDATE users SET ig_training_at = $1 WHERE id = $2`, site.App.DB.Now(), admin.ID); err != nil {
		f.Fatal(err)
	}
	site.AcceptTerms(f, admin.Email)
	c := client(f, srv, admin.Email)

	actions := []string{"/review-terms", "/consent", "/account/data-preferences", "/cookies",
		"/admin/documents/terms/new", "/admin/documents/recording-statement/new", "/admin/documents/nonsense/new"}
	f.Add(uint8(0), "action=accept&version-terms=1&version-privacy=1&next=/account")
	f.Add(uint8(0), "action=accept&version-terms=-1&version-privacy=99999999999999999999")
	f.Add(uint8(1), "action=save&consent=newsletter&consent=%ff&next=//evil.example")
	f.Add(uint8(2), "consent=usage-analysis&consent=research")
	f.Add(uint8(3), "analytics=maybe&next=https://evil.example")
	f.Add(uint8(4), "action=preview&body=%3Cscript%3Ealert(1)%3C%2Fscript%3E&summary=x&base=1")
	f.Add(uint8(5), "action=publish&body="+strings.Repeat("%5B", 3000)+"&summary=deep&base=1")
	f.Fuzz(func(t *testing.T, which uint8, body string) {
		action := actions[int(which)%len(actions)]
		w := c.post(action, body)
		if w.Code >= 500 {
			t.Fatalf("POST %s %q: status %d", action, body, w.Code)
		}
		if loc := w.Header().Get("Location"); loc != "" && (!strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") || strings.HasPrefix(loc, "/\\")) {
			t.Fatalf("POST %s %q: redirect off the site to %q", action, body, loc)
		}
	})
}

// fuzzClient posts forms to a server as one signed-in user.
type fuzzClient struct {
	srv     http.Handler
	cookies []*http.Cookie
	token   string
}

// client signs in as email and takes the form token of the session.
func client(tb testing.TB, srv http.Handler, email string) *fuzzClient {
	tb.Helper()
	c := &fuzzClient{srv: srv}
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/sign-in", nil))
	c.cookies = w.Result().Cookies()
	c.token = html.UnescapeString(csrfPattern.FindStringSubmatch(w.Body.String())[1])
	w = c.post("/sign-in", "email="+url.QueryEscape(email)+"&password="+url.QueryEscape(passphrase))
	if w.Code != http.StatusSeeOther {
		tb.Fatalf("sign in: %d", w.Code)
	}
	c.cookies = w.Result().Cookies()
	req := httptest.NewRequest(http.MethodGet, "/cookies", nil)
	for _, ck := range c.cookies {
		req.AddCookie(ck)
	}
	w = httptest.NewRecorder()
	srv.ServeHTTP(w, req)
	m := csrfPattern.FindStringSubmatch(w.Body.String())
	if m == nil {
		tb.Fatal("no form token for the session")
	}
	c.token = html.UnescapeString(m[1])
	return c
}

func (c *fuzzClient) post(action, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, action, strings.NewReader(body+"&csrf_token="+url.QueryEscape(c.token)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, ck := range c.cookies {
		req.AddCookie(ck)
	}
	w := httptest.NewRecorder()
	c.srv.ServeHTTP(w, req)
	return w
}

// FuzzRecordingFormPosts posts anything to the recording pages: every
// question page of a draft, the statement, the change pages of a submitted
// event and the public form. Nothing may give a 500 or send anyone off the
// site.
func FuzzRecordingFormPosts(f *testing.F) {
	site := apptest.Start(f, dbtest.SQLite(f), nil)
	srv, err := web.New(fuzzDeps(site))
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	u, err := site.App.Accounts.Create(ctx, account.NewUser{Email: "fuzz.reviewer@nhs.net", Name: "Fuzz Reviewer",
		JobRole: "Patient safety lead", OrgCode: "RM1", Role: account.RoleReviewer, Password: passphrase})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := site.App.DB.WritePool().ExecContext(ctx, `UPDATE users SET ig_training_at = $1 WHERE id = $2`, site.App.DB.Now(), u.ID); err != nil {
		f.Fatal(err)
	}
	site.AcceptTerms(f, u.Email)
	c := client(f, srv, u.Email)
	forms, err := form.New(site.App.Taxonomy)
	if err != nil {
		f.Fatal(err)
	}
	answers := incident.Answers{form.DateKnown: {"exact"}, form.PatientCount: {"2"}, "AdverseEventAgent.InvolvedAgents": {"4", "3"}}
	var actions []string
	for _, typ := range incident.Types() {
		id, err := site.App.Incidents.SaveDraft(ctx, u.ID, 0, typ, answers)
		if err != nil {
			f.Fatal(err)
		}
		for _, st := range forms.Steps(typ, answers, true) {
			actions = append(actions, fmt.Sprintf("/drafts/%d/%s", id, st.Slug))
		}
		actions = append(actions, fmt.Sprintf("/drafts/%d/statement", id))
	}
	day := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	ev, err := site.App.Incidents.Submit(ctx, incident.Submission{Type: incident.Incident, OrgCode: "RM1", Source: incident.Staff,
		ReporterID: u.ID, OccurredFrom: day, OccurredTo: day, StatementVersion: 1, Answers: answers}, incident.Client{})
	if err != nil {
		f.Fatal(err)
	}
	for _, st := range forms.Steps(incident.Incident, answers, true) {
		actions = append(actions, "/events/"+string(ev.Reference)+"/change/"+st.Slug)
	}
	actions = append(actions, "/report", "/events/new", "/drafts/999999/date")
	f.Add(uint8(0), "answer=exact")
	f.Add(uint8(1), "answer-day=31&answer-month=2&answer-year=99999999999999999999")
	f.Add(uint8(5), "answer=%ff%fe&action=save&return=check")
	f.Add(uint8(9), "answer=4&answer=4&answer=../../etc&reason=x")
	f.Add(uint8(200), "description=Mr+Smith&date-known=approximate&month-month=13&org=ZZZ&started=-1&statement_version=1")
	f.Fuzz(func(t *testing.T, which uint8, body string) {
		action := actions[int(which)%len(actions)]
		w := c.post(action, body)
		if w.Code >= 500 {
			t.Fatalf("POST %s %q: status %d", action, body, w.Code)
		}
		if loc := w.Header().Get("Location"); loc != "" && (!strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") || strings.HasPrefix(loc, "/\\")) {
			t.Fatalf("POST %s %q: redirect off the site to %q", action, body, loc)
		}
	})
}

// fuzzDeps are the site's own, with no per-address limits: a fuzzer posts
// far more often than any person.
func fuzzDeps(site *apptest.Site) web.Deps {
	d := site.App.WebDeps(web.NewMetrics(prometheus.NewRegistry(), func() float64 { return 0 }))
	d.RateLimits = nil
	return d
}
