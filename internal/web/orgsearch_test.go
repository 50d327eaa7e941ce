package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/incident"
)

// orgSearched checks that a form sent with a name in the organisation box
// (as Enter in the box sends it without JavaScript: the main button) shows
// the matches to choose from with a plain error, not a refusal of the name
// as a badly made ODS code, and keeps what was typed.
func orgSearched(t *testing.T, what string, r response, match string, kept ...string) {
	t.Helper()
	summary := errorSummary(r.body)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(summary, "Select the organisation from the list") {
		t.Fatalf("%s: %d, error summary %q; want 422 asking to choose from the matches", what, r.status, summary)
	}
	if strings.Contains(r.body, "ODS codes are 3 to 7") {
		t.Errorf("%s: the name is refused as an ODS code", what)
	}
	if !strings.Contains(r.body, `name="org" type="radio" value="`+match+`"`) {
		t.Errorf("%s: the matches do not include %s", what, match)
	}
	for _, k := range kept {
		if !strings.Contains(r.body, k) {
			t.Errorf("%s: %q was not kept", what, k)
		}
	}
}

// A name typed where a code is expected is searched for, on every form
// with an organisation box (issue 11 item 10).
func TestANameInTheOrganisationBoxIsSearchedFor(t *testing.T) {
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)

	t.Run("registration", func(t *testing.T) {
		b := newBrowser(t, site)
		form := registration("named@nhs.net")
		form.Set("org_query", "norwich")
		orgSearched(t, "register", b.submit("/register", "/register", form), "RM1", `value="Alex Morgan"`, `value="norwich"`)
		form.Set("org_query", "no such place at all")
		if r := b.submit("/register", "/register", form); r.status != http.StatusUnprocessableEntity || !strings.Contains(errorSummary(r.body), "No organisation matches") {
			t.Errorf("a name that matches nothing: %d %s", r.status, errorSummary(r.body))
		}
		form.Set("org_query", "norwich")
		form.Set("org", "RM1")
		if r := b.submit("/register", "/register", form); r.status != http.StatusSeeOther {
			t.Fatalf("register with the organisation chosen: %d %s", r.status, errorSummary(r.body))
		}
	})

	t.Run("moving organisation", func(t *testing.T) {
		b := signedInAs(t, site, approvalsUser(t, site, "mover@rm1.example", "RM1", account.RoleReporter, time.Time{}).Email)
		site.AcceptTerms(t, "mover@rm1.example")
		form := url.Values{"action": {"move"}, "org_query": {"university medical"}, "justification": {"A new job at the practice"}}
		orgSearched(t, "move", b.submit("/account/profile/organisation", "/account/profile/organisation", form), "D82044", "A new job at the practice</textarea>")
	})

	t.Run("public form", func(t *testing.T) {
		b := newBrowser(t, site)
		form := concern(t, site)
		form.Set("org_query", "norwich")
		orgSearched(t, "report", b.submit("/report", "/report", form), "RM1", "heart tablets.</textarea>")
	})

	t.Run("recording form", func(t *testing.T) {
		b, u := staff(t, site, "recorder.search@nhs.net", account.RoleReporter)
		site.AcceptTerms(t, u.Email)
		rc := start(t, b, site, u, incident.Incident)
		path := fmt.Sprintf("/drafts/%d/organisation", rc.draft)
		page := b.get(path)
		if !strings.Contains(page.body, "or part of its name") {
			t.Error("the organisation question does not say a name can be given")
		}
		r := b.submit(path, path, url.Values{"answer": {"university medical"}, "action": {"continue"}})
		orgSearched(t, "record", r, "D82044", `value="university medical"`)
		r = b.submit(path, path, url.Values{"answer": {"university medical"}, "org": {"D82044"}, "action": {"continue"}})
		if r.status != http.StatusSeeOther {
			t.Fatalf("choosing from the matches: %d %s", r.status, errorSummary(r.body))
		}
		d, err := site.App.Incidents.Draft(context.Background(), u.ID, rc.draft)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(d.Answers["LocationDetails.Organisation"], []string{"D82044"}) {
			t.Fatalf("the organisation chosen was not saved: %v", d.Answers)
		}
	})
}

// The admin lists' organisation filters take a name too: one match filters
// by it, several are offered as links, none is said plainly.
func TestAdminListsFilterByOrganisationName(t *testing.T) {
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	approvalsUser(t, site, "national@nhs.example", "RM1", account.RoleNationalAdmin, time.Now())
	approvalsUser(t, site, "gp.person@gp.example", "D82044", account.RoleReporter, time.Now())
	registerPendingAt(t, site, "waiting@example.org", "D82044")
	b := signedInAs(t, site, "national@nhs.example")
	site.AcceptTerms(t, "national@nhs.example")

	users := b.get("/admin/users?org=university+medical")
	if users.status != http.StatusOK || !strings.Contains(users.body, "gp.person@gp.example") || strings.Contains(users.body, "national@nhs.example") {
		t.Fatalf("users of the organisation named: %d", users.status)
	}
	queue := b.get("/admin/approvals?org=university+medical")
	if queue.status != http.StatusOK || !strings.Contains(queue.body, "waiting@example.org") || !strings.Contains(queue.body, `value="D82044"`) {
		t.Fatalf("queue of the organisation named: %d", queue.status)
	}
	for _, path := range []string{"/admin/users?org=norfolk", "/admin/approvals?org=norfolk"} {
		r := b.get(path)
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(errorSummary(r.body), "More than one organisation matches") ||
			!strings.Contains(r.body, "?org=RM1") || !strings.Contains(r.body, "?org=QMM") {
			t.Errorf("%s: %d %s; want both matches offered", path, r.status, errorSummary(r.body))
		}
	}
	for _, path := range []string{"/admin/users?org=nowhere+at+all", "/admin/approvals?org=nowhere+at+all"} {
		r := b.get(path)
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(errorSummary(r.body), "No organisation matches") || strings.Contains(r.body, "ODS codes are") {
			t.Errorf("%s: %d %s", path, r.status, errorSummary(r.body))
		}
	}
}
