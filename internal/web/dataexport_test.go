package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/stats"
)

// P15: a signed-in person asks for their data from "Your data", and gets
// it at once as a page and as a JSON file; nobody else can open it, and
// once its 7 days are over the page says so.
func TestAPersonDownloadsTheirDataAsAPageAndAFile(t *testing.T) { // P15
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	approvalsUser(t, site, "ann.download@nhs.net", "RM1", account.RoleReporter, time.Time{})
	approvalsUser(t, site, "bob.download@nhs.net", "RM1", account.RoleReporter, time.Time{})
	site.AcceptTerms(t, "ann.download@nhs.net")
	site.AcceptTerms(t, "bob.download@nhs.net")
	ann := signedInAs(t, site, "ann.download@nhs.net")
	pub, err := site.App.Statistics.Create(context.Background(), stats.Actor{}, stats.Draft{Title: "Events: an early look for Ann",
		From: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 9, 30, 0, 0, 0, 0, time.UTC),
		Basis: incident.BasisOccurred, Release: time.Now().AddDate(0, 0, 7)})
	if err != nil {
		t.Fatal(err)
	}
	if err := site.App.Statistics.AddPreRelease(context.Background(), stats.Actor{}, pub, "ann.download@nhs.net"); err != nil {
		t.Fatal(err)
	}

	if r := ann.get("/account/data"); !strings.Contains(r.body, `href="/account/data/download"`) {
		t.Fatal(`"Your data" does not link to the download`)
	}
	page := ann.get("/account/data/download")
	if page.status != http.StatusOK || !strings.Contains(page.body, "Get a copy of your data") || !strings.Contains(page.body, "You have not asked for a copy yet") {
		t.Fatalf("the page: %d\n%s", page.status, page.body)
	}
	r := ann.submit("/account/data/download", "/account/data/download", url.Values{})
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/account/data/download/") {
		t.Fatalf("asking: %d %q", r.status, r.location)
	}
	view := ann.get(r.location)
	for _, want := range []string{"Your data", "ann.download@nhs.net", "Account history", "Emails sent", "Download as a JSON file", "psims-personal-data/1",
		"Official statistics pre-release access", "Events: an early look for Ann"} {
		if !strings.Contains(view.body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	file := ann.get(r.location + "/json")
	if file.status != http.StatusOK || !strings.HasPrefix(file.header.Get("Content-Disposition"), `attachment; filename="psims-my-data-`) ||
		!strings.HasPrefix(file.header.Get("Content-Type"), "application/json") {
		t.Fatalf("the file: %d %v", file.status, file.header)
	}
	var doc struct {
		Format  string `json:"format"`
		Account struct {
			Account struct{ Email string } `json:"account"`
		} `json:"account"`
	}
	if err := json.Unmarshal([]byte(file.body), &doc); err != nil || doc.Format != "psims-personal-data/1" || doc.Account.Account.Email != "ann.download@nhs.net" {
		t.Fatalf("the file: %v %+v", err, doc)
	}
	if list := ann.get("/account/data/download"); !strings.Contains(list.body, r.location) || !strings.Contains(list.body, "Ready") {
		t.Error("the list does not offer the download")
	}

	bob := signedInAs(t, site, "bob.download@nhs.net")
	for _, path := range []string{r.location, r.location + "/json"} {
		if got := bob.get(path); got.status != http.StatusNotFound || strings.Contains(got.body, "ann.download") {
			t.Errorf("Bob opens %s: %d", path, got.status)
		}
	}
	if got := newBrowser(t, site).get(r.location); got.status != http.StatusSeeOther || !strings.HasPrefix(got.location, "/sign-in") {
		t.Errorf("signed out: %d %q", got.status, got.location)
	}

	// Expired: the 7 days are over.
	if _, err := site.App.DB.ExecContext(context.Background(), `UPDATE data_exports SET expires_at = $1`, time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{r.location, r.location + "/json"} {
		got := ann.get(path)
		if got.status != http.StatusGone || !strings.Contains(got.body, "This download has expired") || strings.Contains(got.body, "Account history") {
			t.Errorf("%s after 7 days: %d", path, got.status)
		}
	}
}

// P15: while one export is being built, asking again is refused with a
// clear message, not a second job.
func TestAskingAgainWhileAnExportIsBeingMadeIsRefusedClearly(t *testing.T) { // P15
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	u := approvalsUser(t, site, "ann.waiting@nhs.net", "RM1", account.RoleReporter, time.Time{})
	site.AcceptTerms(t, "ann.waiting@nhs.net")
	ann := signedInAs(t, site, "ann.waiting@nhs.net")
	// A pending export, as the job path leaves it.
	if _, err := site.App.DB.ExecContext(context.Background(), `INSERT INTO data_exports (public_id, user_id, requested_by, kind, format, status, created_at, expires_at)
		VALUES ('pending-one', $1, $1, 'self', 'psims-personal-data/1', 'pending', $2, $3)`, u.ID, time.Now().UTC(), time.Now().UTC().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	r := ann.submit("/account/data/download", "/account/data/download", url.Values{})
	if r.status != http.StatusConflict || !strings.Contains(r.body, "We are already preparing a download of your data") || !strings.Contains(r.body, "nhsuk-error-summary") {
		t.Fatalf("asking again: %d\n%s", r.status, r.body)
	}
	if got := ann.get("/account/data/download/pending-one"); got.status != http.StatusOK || !strings.Contains(got.body, "not ready yet") {
		t.Errorf("the pending export: %d", got.status)
	}
}

// P18: a national admin discloses data about a user only by choosing a
// legal basis and giving a reference; mistakes keep what was typed; the
// disclosure is labelled and audited with both.
func TestALegalDisclosureNeedsABasisAndAReference(t *testing.T) { // P18
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	target := approvalsUser(t, site, "subject.person@nhs.net", "RM1", account.RoleReporter, time.Time{})
	admin := approvalsUser(t, site, "operator.disclose@nhs.net", "RM1", account.RoleNationalAdmin, time.Now().AddDate(0, -1, 0))
	site.AcceptTerms(t, "operator.disclose@nhs.net")
	b := signedInAs(t, site, "operator.disclose@nhs.net")
	userPage := "/admin/users/" + strconv.FormatInt(target.ID, 10)
	if r := b.get(userPage); !strings.Contains(r.body, `href="`+userPage+`/disclosure"`) {
		t.Fatal("the user's page does not offer a disclosure")
	}
	form := userPage + "/disclosure"
	r := b.submit(form, form, url.Values{"reference": {"Case 2026 0042"}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "Select the legal basis for the disclosure") ||
		!strings.Contains(r.body, `value="Case 2026 0042"`) || !strings.Contains(r.body, "nhsuk-error-summary") {
		t.Fatalf("no basis: %d\n%s", r.status, r.body)
	}
	r = b.submit(form, form, url.Values{"basis": {"court_order"}, "reference": {""}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "Enter the reference of the request, order or case") {
		t.Fatalf("no reference: %d", r.status)
	}
	r = b.submit(form, form, url.Values{"basis": {"court_order"}, "reference": {"Order for NHS number 943 476 5919"}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `value="Order for NHS number 943 476 5919"`) {
		t.Fatalf("an identifier: %d", r.status)
	}
	r = b.submit(form, form, url.Values{"basis": {"court_order"}, "reference": {"Case 2026 0042"}})
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, form+"/") {
		t.Fatalf("disclose: %d %q", r.status, r.location)
	}
	view := b.get(r.location)
	for _, want := range []string{"Legal disclosure", "Disclosed under an order of a court or tribunal", "Case 2026 0042", "subject.person@nhs.net", admin.Name} {
		if !strings.Contains(view.body, want) {
			t.Errorf("the disclosure lacks %q", want)
		}
	}
	if file := b.get(r.location + "/json"); file.status != http.StatusOK || !strings.Contains(file.body, `"legal_basis": "court_order"`) {
		t.Errorf("the file: %d", file.status)
	}
	if list := b.get(form); !strings.Contains(list.body, "Case 2026 0042") {
		t.Error("the form does not list the disclosure made")
	}
	rows, err := audit.List(context.Background(), site.App.DB, "data_export", "", 10)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, row := range rows {
		found = found || (row.Action == "data_export.disclosed" && row.ActorID == admin.ID && row.Details["basis"] == "court_order" &&
			row.Details["reference"] == "Case 2026 0042" && row.Details["user"] == strconv.FormatInt(target.ID, 10))
	}
	if !found {
		t.Errorf("no audit row with the basis and reference: %+v", rows)
	}
}
