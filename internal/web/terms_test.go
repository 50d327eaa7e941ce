package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/terms"
	"github.com/psims/psims/internal/web"
)

// newcomer creates an active reporter who has accepted nothing and signs
// them in, without the acceptance other tests' signIn records.
func newcomer(t *testing.T, site *apptest.Site, email string) (*browser, account.User) {
	t.Helper()
	u, err := site.App.Accounts.Create(context.Background(), account.NewUser{Email: email, Name: "Nia Newcomer",
		JobRole: "Staff nurse", OrgCode: "RM1", Role: account.RoleReporter, Password: passphrase})
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, site)
	r := b.submit("/sign-in", "/sign-in", url.Values{"email": {email}, "password": {passphrase}, "next": {"/account"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("sign in: %d", r.status)
	}
	return b, u
}

// postWithToken posts form to action with the form token taken from
// tokenPage, a page the gate leaves open.
func postWithToken(b *browser, tokenPage, action string, form url.Values) response {
	b.t.Helper()
	page := b.get(tokenPage)
	m := csrfPattern.FindStringSubmatch(page.body)
	if m == nil {
		b.t.Fatalf("no form token on %s (status %d)", tokenPage, page.status)
	}
	values := url.Values{"csrf_token": {m[1]}}
	for k, v := range form {
		values[k] = v
	}
	return b.post(action, values)
}

func publish(t *testing.T, site *apptest.Site, kind terms.Kind, body, summary string, material bool) terms.Document {
	t.Helper()
	d, err := site.App.Terms.Publish(context.Background(), 0, terms.Client{}, terms.Draft{Kind: kind, Body: body, Summary: summary, Material: material})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// T1: until they accept, a signed-in user reaches only the review page and
// what it links to; every other route, page, form or API alike, sends them
// there (or, for a program, answers 403 with the reason).
func TestGateLeavesOnlyTheReviewPageAndItsLinks(t *testing.T) {
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	srv, err := web.New(site.App.WebDeps(web.NewMetrics(prometheus.NewRegistry(), nil)))
	if err != nil {
		t.Fatal(err)
	}
	open := srv.UngatedRoutes()
	for _, want := range []string{"GET /static/", "GET /healthz", "GET /review-terms", "POST /review-terms", "POST /sign-out",
		"GET /terms", "GET /privacy", "GET /cookies", "GET /accessibility"} {
		if !slices.Contains(open, want) {
			t.Errorf("%s is behind the gate; the review page needs it", want)
		}
	}
	for _, shut := range []string{"GET /account", "POST /account/profile/details", "GET /admin/users", "GET /consent"} {
		if slices.Contains(open, shut) {
			t.Errorf("%s is open to users who have not accepted the terms", shut)
		}
	}

	b, _ := newcomer(t, site, "gate.walker@nhs.net")
	tg := target{User: account.User{ID: 1}, RequestID: 1, Org: ownOrg, Reference: incident.NewReference(), DraftID: 1}
	for _, c := range matrixCases() {
		if slices.Contains(open, c.pattern) || c.pattern == "POST /sign-out" {
			continue
		}
		t.Run(c.pattern, func(t *testing.T) {
			b.t = t
			var r response
			if c.method() == http.MethodGet {
				r = b.get(c.pathFor(tg))
			} else {
				r = postWithToken(b, "/review-terms", c.pathFor(tg), c.form)
			}
			if c.method() == http.MethodPost {
				// A form is answered with the review page itself, which
				// carries what was sent (issue 11).
				if r.status != http.StatusOK || !strings.Contains(r.body, `action="/review-terms"`) {
					t.Fatalf("got %d to %q, want the review page", r.status, r.location)
				}
				return
			}
			if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/review-terms?next=") {
				t.Fatalf("got %d to %q, want the review page", r.status, r.location)
			}
			if c.method() == http.MethodGet && r.location != "/review-terms?next="+url.QueryEscape(c.pathFor(tg)) {
				t.Errorf("the review page will not bring them back: %q", r.location)
			}
		})
	}

	t.Run("programs get a reason they can act on", func(t *testing.T) {
		b.t = t
		req, _ := http.NewRequest(http.MethodGet, site.URL+"/account", nil)
		req.Header.Set("Accept", "application/json")
		resp, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct {
			Error      string   `json:"error"`
			MustAccept []string `json:"must_accept"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusForbidden || body.Error != "terms_not_accepted" || !slices.Equal(body.MustAccept, []string{"terms", "privacy"}) {
			t.Fatalf("got %d %+v", resp.StatusCode, body)
		}
	})
	t.Run("the linked pages, files and sign-out still work", func(t *testing.T) {
		b.t = t
		for _, path := range []string{"/terms", "/privacy", "/cookies", "/accessibility", "/static/app.css", "/healthz"} {
			if r := b.get(path); r.status != http.StatusOK {
				t.Errorf("%s: %d", path, r.status)
			}
		}
		if r := postWithToken(b, "/review-terms", "/sign-out", nil); r.status != http.StatusOK || !strings.Contains(r.body, "You have signed out") {
			t.Fatalf("sign out: %d", r.status)
		}
	})
}

// T1, P9: a new user accepts both documents, is offered consent once with
// nothing ticked, may go on without it, and returns where they were going.
func TestNewUserAcceptsAndIsOfferedConsentOnce(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			site := apptest.Start(t, e, nil)
			b, u := newcomer(t, site, "nia.newcomer@nhs.net")
			r := b.get("/account/profile")
			if r.status != http.StatusSeeOther || r.location != "/review-terms?next=%2Faccount%2Fprofile" {
				t.Fatalf("first page: %d %q", r.status, r.location)
			}
			page := b.get(r.location)
			if page.status != http.StatusOK || !strings.Contains(page.body, "Accept the terms of use and privacy policy") ||
				!strings.Contains(page.body, "Terms of use") || !strings.Contains(page.body, "Privacy policy") {
				t.Fatalf("review page: %d", page.status)
			}
			r = b.submit(r.location, "/review-terms", url.Values{"action": {"accept"}, "next": {"/account/profile"},
				"version-terms": {"1"}, "version-privacy": {"1"}})
			if r.status != http.StatusSeeOther || r.location != "/consent?next=%2Faccount%2Fprofile" {
				t.Fatalf("accept: %d %q", r.status, r.location)
			}
			offer := b.get(r.location)
			if offer.status != http.StatusOK || strings.Contains(offer.body, "checked") || !strings.Contains(offer.body, "Continue without giving consent") {
				t.Fatalf("consent offer: %d, ticked boxes or no way to go on without", offer.status)
			}
			r = b.submit("/consent?next=%2Faccount%2Fprofile", "/consent", url.Values{"action": {"none"}, "next": {"/account/profile"}})
			if r.status != http.StatusSeeOther || r.location != "/account/profile" {
				t.Fatalf("continue without consent: %d %q", r.status, r.location)
			}
			if r := b.get("/account/profile"); r.status != http.StatusOK {
				t.Fatalf("after accepting: %d", r.status)
			}
			if r := b.get("/consent"); r.status != http.StatusSeeOther || r.location != "/account/data-preferences" {
				t.Fatalf("the offer came again: %d %q", r.status, r.location)
			}
			data := b.get("/account/data")
			if data.status != http.StatusOK || strings.Count(data.body, "Version 1") != 2 || !strings.Contains(data.body, "Not given") {
				t.Fatalf("your data page: %d", data.status)
			}
			ledger, err := site.App.Terms.Ledger(context.Background(), u.ID)
			if err != nil || len(ledger) != 2 || ledger[0].IP != "127.0.0.1" || !strings.Contains(ledger[0].UserAgent, "Go-http-client") {
				t.Fatalf("ledger = %+v, %v", ledger, err)
			}
		})
	}
}

// T2, P16, T19: after a material version the user is stopped on their next
// request, sees the summary and what changed, accepts and carries on; a
// version that is not material only shows a notice until they read it.
func TestReacceptanceAfterMaterialVersionOnly(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			site := apptest.Start(t, e, nil)
			b, u := newcomer(t, site, "rhys.regular@nhs.net")
			site.AcceptTerms(t, u.Email)
			if r := b.get("/account"); r.status != http.StatusOK || strings.Contains(r.body, "Read what changed") {
				t.Fatalf("before any change: %d", r.status)
			}
			cur, err := site.App.Terms.Current(context.Background(), terms.Terms)
			if err != nil {
				t.Fatal(err)
			}

			tidy := publish(t, site, terms.Terms, cur.Body+"\n\nThis sentence was added to tidy things up.", "A clarification.", false)
			r := b.get("/account")
			if r.status != http.StatusOK || !strings.Contains(r.body, "We have updated the terms of use") {
				t.Fatalf("after a version that is not material: %d, want the page with a notice", r.status)
			}
			review := b.get("/review-terms?next=%2Faccount")
			if !strings.Contains(review.body, "A clarification.") || !strings.Contains(review.body, "I have read the changes") || strings.Contains(review.body, "I do not accept") {
				t.Fatal("the optional review does not show the summary and a way to confirm")
			}
			r = b.submit("/review-terms?next=%2Faccount", "/review-terms", url.Values{"action": {"accept"}, "next": {"/account"},
				"version-terms": {fmt.Sprint(tidy.Version)}})
			if r.status != http.StatusSeeOther || r.location != "/account" {
				t.Fatalf("confirm reading: %d %q", r.status, r.location)
			}
			if r := b.get("/account"); strings.Contains(r.body, "We have updated") {
				t.Fatal("the notice stays after the user read the changes")
			}

			changed := strings.Replace(tidy.Body, "This sentence was added to tidy things up.", "You must report a breach within 24 hours.", 1)
			material := publish(t, site, terms.Terms, changed, "Breaches must now be reported within 24 hours.", true)
			r = b.get("/account/ig-training")
			if r.status != http.StatusSeeOther || r.location != "/review-terms?next=%2Faccount%2Fig-training" {
				t.Fatalf("after a material version: %d %q, want the review page", r.status, r.location)
			}
			review = b.get(r.location)
			for _, want := range []string{"Breaches must now be reported within 24 hours.", "<ins", "<del", "24 hours", "You last accepted version 2"} {
				if !strings.Contains(review.body, want) {
					t.Errorf("the review page lacks %q", want)
				}
			}
			r = b.submit(r.location, "/review-terms", url.Values{"action": {"accept"}, "next": {"/account/ig-training"},
				"version-terms": {fmt.Sprint(material.Version)}})
			if r.status != http.StatusSeeOther || r.location != "/account/ig-training" {
				t.Fatalf("accept: %d %q, want back where they were going", r.status, r.location)
			}
			if r := b.get("/account/ig-training"); r.status != http.StatusOK {
				t.Fatalf("after accepting: %d", r.status)
			}
			// T19: everyone active was emailed about the material version.
			if link := site.LatestLink(t, u.Email, "new version of the PSIMS terms of use"); !strings.HasSuffix(link, "/review-terms") {
				t.Errorf("the notice email links to %q", link)
			}
		})
	}
}

// T2: declining signs the user out, says why, and is audited.
func TestDecliningSignsOut(t *testing.T) {
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	b, u := newcomer(t, site, "dee.decliner@nhs.net")
	r := b.submit("/review-terms", "/review-terms", url.Values{"action": {"decline"}, "version-terms": {"1"}, "version-privacy": {"1"}})
	if r.status != http.StatusOK || !strings.Contains(r.body, "You have been signed out") {
		t.Fatalf("decline: %d", r.status)
	}
	if r := b.get("/account"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/sign-in") {
		t.Fatalf("after declining: %d %q, want the sign-in page", r.status, r.location)
	}
	rows, err := audit.List(context.Background(), site.App.DB, "document", "terms/1", 10)
	if err != nil || len(rows) != 1 || rows[0].Action != "document.decline" || rows[0].ActorID != u.ID {
		t.Fatalf("audit = %+v, %v", rows, err)
	}
}

// T2: accepting a version that was replaced while the user read it shows
// the newer one instead of recording the old.
func TestAcceptingAReplacedVersionShowsTheNewOne(t *testing.T) {
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	b, u := newcomer(t, site, "sol.slow@nhs.net")
	page := b.get("/review-terms")
	m := csrfPattern.FindStringSubmatch(page.body)
	if m == nil {
		t.Fatal("no form token")
	}
	publish(t, site, terms.Terms, "A new text entirely.", "Rewritten.", true)
	r := b.post("/review-terms", url.Values{"csrf_token": {m[1]}, "action": {"accept"}, "version-terms": {"1"}, "version-privacy": {"1"}})
	if r.status != http.StatusConflict || !strings.Contains(r.body, "A newer version of the terms of use was published") ||
		!strings.Contains(r.body, `name="version-terms" value="2"`) {
		t.Fatalf("got %d, want 409 showing version 2", r.status)
	}
	if ledger, _ := site.App.Terms.Ledger(context.Background(), u.ID); len(ledger) != 0 {
		t.Fatalf("something was recorded: %+v", ledger)
	}
}

// P15, P19: consent can be given and withdrawn at any time, with effect at
// once.
func TestDataPreferencesTakeEffectAtOnce(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			site := apptest.Start(t, e, nil)
			b, u := newcomer(t, site, "pat.prefs@nhs.net")
			site.AcceptTerms(t, u.Email)
			ctx := context.Background()
			r := b.submit("/account/data-preferences", "/account/data-preferences", url.Values{"consent": {"usage-analysis", "newsletter", "no-such-purpose"}})
			if r.status != http.StatusSeeOther {
				t.Fatalf("save: %d", r.status)
			}
			page := b.get(r.location)
			if !strings.Contains(page.body, "Your data preferences were saved") || strings.Count(page.body, " checked") != 2 {
				t.Fatalf("after saving, the page shows %d ticked boxes", strings.Count(page.body, " checked"))
			}
			if ok, _ := site.App.Terms.HasConsent(ctx, u.ID, terms.UsageAnalysis); !ok {
				t.Fatal("consent to usage analysis was not recorded")
			}
			b.submit("/account/data-preferences", "/account/data-preferences", url.Values{"consent": {"newsletter"}})
			if ok, _ := site.App.Terms.HasConsent(ctx, u.ID, terms.UsageAnalysis); ok {
				t.Fatal("withdrawn consent is still in force")
			}
			if ok, _ := site.App.Terms.HasConsent(ctx, u.ID, terms.Newsletter); !ok {
				t.Fatal("the newsletter consent was lost")
			}
		})
	}
}
