package e2e

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/sharing"
)

// TestANationalAdminSharesDataUnderAnAgreement is a national admin's
// journey through data sharing (issue 15, T15, T17): an export of an
// organisation's events is refused for want of an agreement and says
// what to do; the registration form explains what is missing and keeps
// what was typed; the agreement is registered with its signed PDF; the
// export then offers it, and the file holds only its fields, without the
// event that opted out of sharing, under the agreement's label; the
// agreement's page lists the export. Every page is checked with axe-core
// and the console, on each engine with JavaScript, and on SQLite without.
//
// With PSIMS_SCREENSHOTS set to a directory, the pages are saved there as
// sharing-*.png.
func TestANationalAdminSharesDataUnderAnAgreement(t *testing.T) { // T15 T17
	chromium(t)
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) { sharingJourney(t, e, true) })
	}
	t.Run("without JavaScript", func(t *testing.T) { sharingJourney(t, dbtest.SQLite(t), false) })
}

func sharingJourney(t *testing.T, e dbtest.Engine, js bool) {
	site, _ := startSite(t, e)
	ctx := context.Background()
	const password = "lantern quarry violet maple"
	users := map[string]account.User{}
	for _, p := range []struct {
		email, name, org string
		role             account.Role
	}{
		{"nora.national@nhs.net", "Nora National", "QMM", account.RoleNationalAdmin},
		{"dev.reporter@nhs.net", "Dev Reporter", "D82044", account.RoleReporter},
	} {
		users[p.email] = readyUser(t, site, account.NewUser{Email: p.email, Name: p.name, JobRole: "Patient safety lead",
			OrgCode: p.org, Role: p.role, Password: password})
	}
	dev := users["dev.reporter@nhs.net"]
	day := time.Now().UTC().AddDate(0, 0, -3).Truncate(24 * time.Hour)
	var events []incident.Event
	for _, optOut := range []bool{false, true} {
		ev, err := site.App.Incidents.Submit(ctx, incident.Submission{Type: incident.Incident, OrgCode: "D82044", Source: incident.Staff,
			ReporterID: dev.ID, OccurredFrom: day, OccurredTo: day, StatementVersion: 1, SharingOptOut: optOut,
			Answers: incident.Answers{"AdverseEvent.description": {"A fall from a chair in the day room."}},
			Index:   incident.Index{PhysicalHarm: "4", ServiceType: "1"}}, incident.Client{})
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, ev)
	}
	shared, optedOut := events[0], events[1]
	pdf := filepath.Join(t.TempDir(), "DSA signed.pdf")
	if err := os.WriteFile(pdf, []byte("%PDF-1.4\n% signed by both parties\n%%EOF\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	shots := os.Getenv("PSIMS_SCREENSHOTS")
	n := 0
	shot := func(b *browser, what string) {
		if shots != "" && js {
			n++
			b.screenshot(filepath.Join(shots, fmt.Sprintf("sharing-%s-%02d-%s.png", e.Name, n, what)))
		}
	}

	b := newBrowser(t, site.URL, js)
	b.open("/sign-in", 200)
	signIn(b, "nora.national@nhs.net", password, 200)

	// No agreement yet: the export says why and what to do.
	b.open("/events?org=D82044", 200)
	b.click("export", inMain("a", "Export as CSV under a data sharing agreement (every event found, not just this page)"), 200)
	b.wantHeading("You cannot export these events yet")
	shot(b, "refused")
	b.click("register one", inMain("a", "register the agreement"), 200)
	b.wantHeading("Register a data sharing agreement")

	// The form explains what is missing and keeps what was typed.
	b.fill("recipient", "Regional Patient Safety Team")
	b.fill("starts_on-day", "31")
	b.fill("starts_on-month", "2")
	b.fill("starts_on-year", "2026")
	b.click("register with mistakes", inMain("button", "Register agreement"), 422)
	if title := run(b, "title", chromedp.Title()); !strings.HasPrefix(title, "Error: ") {
		t.Errorf("title %q", title)
	}
	var hrefs []string
	for _, l := range b.errorSummary() {
		hrefs = append(hrefs, l.Href)
		if !l.Target {
			t.Errorf("summary link %q leads nowhere", l.Href)
		}
	}
	for _, want := range []string{"#purpose", "#legal_basis", "#special_basis", "#starts_on-day", "#ends_on-day", "#fields", "#orgs", "#approver_name", "#approved_on-day"} {
		if !slices.Contains(hrefs, want) {
			t.Errorf("the error summary %v has no link to %s", hrefs, want)
		}
	}
	if b.value("recipient") != "Regional Patient Safety Team" || b.value("starts_on-day") != "31" {
		t.Errorf("what was typed was lost: %q, %q", b.value("recipient"), b.value("starts_on-day"))
	}
	shot(b, "form-errors")

	now := time.Now().UTC()
	date := func(name string, t time.Time) {
		b.fill(name+"-day", strconv.Itoa(t.Day()))
		b.fill(name+"-month", strconv.Itoa(int(t.Month())))
		b.fill(name+"-year", strconv.Itoa(t.Year()))
	}
	b.fill("purpose", "Learning about falls across the region")
	date("starts_on", now.AddDate(0, 0, -7))
	date("ends_on", now.AddDate(0, 3, 0))
	date("approved_on", now.AddDate(0, 0, -10))
	b.fill("orgs", "D82044")
	b.fill("approver_name", "Dr Asha Patel")
	b.fill("approver_role", "Caldicott Guardian")
	b.fill("recipients", "Nora.National@nhs.net")
	// The Reference and Physical harm columns, found by their labels.
	b.step("choose the bases and fields", chromedp.Click(chromedp.ID("legal_basis")), chromedp.Click(chromedp.ID("special_basis-art9-2i")),
		chromedp.Click(chromedp.Search(`//label[normalize-space()="Reference"]`)),
		chromedp.Click(chromedp.Search(`//label[normalize-space()="Physical harm"]`)))
	b.click("register", inMain("button", "Register agreement"), 200)
	heading := b.text("main h1")
	if !strings.HasPrefix(heading, "DSA-") {
		t.Fatalf("after registering, the heading is %q", heading)
	}
	agreementPath := b.path()
	if i := strings.Index(agreementPath, "?"); i >= 0 {
		agreementPath = agreementPath[:i]
	}

	// The signed agreement, as a PDF.
	b.step("choose the PDF", chromedp.SetUploadFiles(chromedp.ID("file"), []string{pdf}))
	b.click("upload it", inMain("button", "Upload"), 200)
	if got := b.text("#document"); !strings.Contains(got, "DSA signed.pdf") || !strings.Contains(got, "SHA-256") {
		t.Errorf("the signed agreement reads %q", got)
	}
	shot(b, "agreement")

	// The export now offers the agreement; the file is fetched with the
	// browser's session, as a download.
	b.open("/events?org=D82044", 200)
	b.click("export", inMain("a", "Export as CSV under a data sharing agreement (every event found, not just this page)"), 200)
	b.wantHeading("Choose the data sharing agreement for this export")
	shot(b, "choose")
	href := run(b, "the agreement's export link", chromedp.Evaluate[string](`document.querySelector('#agreements a').getAttribute('href')`))
	req, err := http.NewRequest(http.MethodGet, site.URL+href, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range siteCookies(b) {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(resp.Body)
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("download: %d, %v", resp.StatusCode, err)
	}
	if !strings.Contains(resp.Header.Get("Content-Disposition"), heading) || recs[0][0] != "Data sharing agreement "+heading ||
		!slices.ContainsFunc(recs, func(l []string) bool { return l[0] == sharing.TermsLine }) {
		t.Errorf("the file is not labelled: %q\n%q", resp.Header.Get("Content-Disposition"), recs)
	}
	last := recs[len(recs)-1]
	if !slices.Equal(recs[len(recs)-2], []string{"Reference", "Physical harm"}) || last[0] != string(shared.Reference) ||
		slices.ContainsFunc(recs, func(l []string) bool { return l[0] == string(optedOut.Reference) }) {
		t.Errorf("the file holds more than the agreement permits:\n%q", recs)
	}

	// The agreement's page lists the export; the extract page explains
	// what a file holds.
	b.open(agreementPath, 200)
	if got := b.text("#exports"); !strings.Contains(got, "nora.national@nhs.net") || !strings.Contains(got, "D82044") {
		t.Errorf("the exports read %q", got)
	}
	shot(b, "listed")
	b.click("extract", inMain("a", "Extract data under this agreement"), 200)
	b.wantHeading("Extract data under " + heading)
	shot(b, "extract")

	// The registry, and the agreements naming her as a recipient.
	b.nav("Data sharing", 200)
	b.wantHeading("Data sharing agreements")
	if got := b.text("main tbody tr"); !strings.Contains(got, heading) || !strings.Contains(got, "In force") || !strings.Contains(got, "D82044") {
		t.Errorf("the registry's row reads %q", got)
	}
	shot(b, "registry")
	b.open("/sharing", 200)
	b.click("the agreement naming her", inMain("a", heading), 200)
	b.wantHeading("Extract data under " + heading)
	t.Logf("pages checked with axe-core and the console: %s", strings.Join(b.checked, "; "))
}
