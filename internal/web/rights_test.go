package web_test

import (
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/config"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/mail/smtptest"
)

// A person asks for restriction from "Your data", with bad input kept and
// explained; a national admin completes it from the queue; the person's
// account is then read-only, with a page saying why, until the admin lifts
// it; each step is emailed through a real SMTP server. An objection to
// contact takes effect at once. // P15, P7, T12
func TestRestrictionThroughThePagesMakesTheAccountReadOnlyUntilLifted(t *testing.T) { // P15
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			srv := smtptest.Start(t)
			site := apptest.Start(t, e, func(c *config.Config) { c.SMTP = srv.URL() })
			reporter := approvalsUser(t, site, "reporter@rm1.example", "RM1", account.RoleReporter, time.Time{})
			admin := approvalsUser(t, site, "national@nhs.example", "RM1", account.RoleNationalAdmin, time.Now())
			rb := signedInAs(t, site, reporter.Email)

			data := rb.get("/account/data")
			if data.status != http.StatusOK || !strings.Contains(data.body, `href="/account/data/rights"`) {
				t.Fatalf("your data: %d", data.status)
			}
			bad := "My manager Mrs Jane Smith told me to."
			r := rb.submit("/account/data/rights", "/account/data/rights", url.Values{"reason": {bad}})
			if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, html.EscapeString(bad)+"</textarea>") ||
				!strings.Contains(r.body, `href="#kind"`) || !strings.Contains(r.body, `href="#reason"`) {
				t.Fatalf("no kind and a name in the reason: %d", r.status)
			}
			r = rb.submit("/account/data/rights", "/account/data/rights", url.Values{"kind": {"restriction"}, "reason": {"I dispute my records."}})
			if r.status != http.StatusSeeOther || r.location != "/account/data?done=restriction" {
				t.Fatalf("ask: %d %s", r.status, r.location)
			}
			if m := srv.WaitFor(t, reporter.Email, 1); !strings.Contains(m.Subject(), "RR-") || !strings.Contains(m.Text(), "one calendar month") {
				t.Fatalf("receipt:\n%s\n%s", m.Subject(), m.Text())
			}
			data = rb.get("/account/data?done=restriction")
			if !strings.Contains(data.body, "Restriction RR-") || !strings.Contains(data.body, "Received") {
				t.Fatal("the request is not listed under your data")
			}

			ab := signedInAs(t, site, admin.Email)
			queue := ab.get("/admin/rights")
			if queue.status != http.StatusOK || !strings.Contains(queue.body, "Restriction") || !strings.Contains(queue.body, "No request is past its legal due date") {
				t.Fatalf("queue: %d", queue.status)
			}
			i := strings.Index(queue.body, `href="/admin/rights/`)
			path := queue.body[i+len(`href="`):]
			path = path[:strings.IndexByte(path, '"')]
			page := ab.get(path)
			if page.status != http.StatusOK || !strings.Contains(page.body, reporter.Email) || !strings.Contains(page.body, "I dispute my records.") {
				t.Fatalf("request page: %d", page.status)
			}
			if r := ab.submit(path, path+"/extend", url.Values{"months": {"1"}}); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `href="#reason"`) {
				t.Fatalf("extension without a reason: %d", r.status)
			}
			if r := ab.submit(path, path+"/complete", url.Values{}); r.status != http.StatusSeeOther {
				t.Fatalf("complete: %d", r.status)
			}
			if m := srv.WaitFor(t, reporter.Email, 2); !strings.Contains(m.Subject(), "restricted") {
				t.Fatalf("outcome: %s", m.Subject())
			}

			refused := rb.submit("/events/new", "/events/new", url.Values{"type": {"risk"}})
			if refused.status != http.StatusForbidden || !strings.Contains(refused.body, "Your account is read-only") {
				t.Fatalf("a restricted person records: %d", refused.status)
			}
			if r := rb.get("/events?view=mine"); r.status != http.StatusOK {
				t.Fatalf("a restricted person cannot read their events: %d", r.status)
			}
			if r := ab.submit(path, path+"/lift", url.Values{}); r.status != http.StatusSeeOther {
				t.Fatalf("lift: %d", r.status)
			}
			if m := srv.WaitFor(t, reporter.Email, 3); !strings.Contains(m.Subject(), "lifted") {
				t.Fatalf("lifted: %s", m.Subject())
			}
			if r := rb.submit("/events/new", "/events/new", url.Values{"type": {"risk"}}); r.status != http.StatusSeeOther {
				t.Fatalf("recording after the restriction was lifted: %d", r.status)
			}

			r = rb.submit("/account/data/rights", "/account/data/rights", url.Values{"kind": {"objection"}})
			if r.status != http.StatusSeeOther {
				t.Fatalf("objection: %d", r.status)
			}
			if m := srv.WaitFor(t, reporter.Email, 4); !strings.Contains(m.Subject(), "not be contacted") {
				t.Fatalf("objection confirmed: %s", m.Subject())
			}
			if data := rb.get("/account/data"); !strings.Contains(data.body, "You have objected to being contacted") {
				t.Error("your data does not say the objection is in force")
			}
		})
	}
}

// Once erased, a person is nobody in the administration pages: not in the
// user list, and their tombstone's page is "not found"; their session has
// ended. // P15
func TestAnErasedPersonIsNobodyInTheAdminPages(t *testing.T) { // P15
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			site := apptest.Start(t, e, nil)
			reporter := approvalsUser(t, site, "leaving@rm1.example", "RM1", account.RoleReporter, time.Time{})
			admin := approvalsUser(t, site, "national@nhs.example", "RM1", account.RoleNationalAdmin, time.Now())
			rb := signedInAs(t, site, reporter.Email)
			if r := rb.submit("/account/data/rights", "/account/data/rights", url.Values{"kind": {"erasure"}}); r.status != http.StatusSeeOther {
				t.Fatalf("ask: %d", r.status)
			}
			ab := signedInAs(t, site, admin.Email)
			user := "/admin/users/" + strconv.FormatInt(reporter.ID, 10)
			if r := ab.get(user); r.status != http.StatusOK {
				t.Fatalf("the person's page before erasure: %d", r.status)
			}
			if r := ab.submit("/admin/rights/1", "/admin/rights/1/complete", url.Values{}); r.status != http.StatusSeeOther {
				t.Fatalf("complete: %d", r.status)
			}
			if r := ab.get(user); r.status != http.StatusNotFound {
				t.Errorf("the tombstone's page: %d, want 404", r.status)
			}
			if r := ab.get("/admin/users?q=leaving"); strings.Contains(r.body, user) || strings.Contains(r.body, "erased:") {
				t.Error("the user list shows the erased person")
			}
			if r := rb.get("/account"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/sign-in") {
				t.Errorf("the erased person's session goes on: %d %s", r.status, r.location)
			}
		})
	}
}
