package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/stats"
)

// TestANationalAdminPublishesStatistics is a national admin's journey
// through an official statistics publication (issue 15, T16, T17) in
// Chromium with JavaScript on: from the header to the new publication
// form, which refuses a blank form in NHS.UK style; a publication created
// for a custom period, previewed from live data (tables, SVG charts,
// guidance and the terms label), published after confirming; then, signed
// out, the public list and the publication with its downloads. Every page
// is checked with axe-core and the console.
//
// With PSIMS_SCREENSHOTS set to a directory, the pages are saved there as
// statistics-NN.png.
func TestANationalAdminPublishesStatistics(t *testing.T) { // T16, T17
	chromium(t)
	site, _ := startSite(t, dbtest.SQLite(t))
	ctx := context.Background()
	const password = "copper lantern orchard seven"
	var staff []account.User
	for _, p := range []struct {
		email, org string
		role       account.Role
	}{{"stats.admin@nhs.net", "QMM", account.RoleNationalAdmin}, {"stats.rm1@nhs.net", "RM1", account.RoleReporter},
		{"stats.d82@nhs.net", "D82044", account.RoleReporter}} {
		staff = append(staff, readyUser(t, site, account.NewUser{Email: p.email, Name: "Journey " + string(p.role),
			JobRole: "Patient safety lead", OrgCode: p.org, Role: p.role, Password: password}))
	}
	// Enough events in each organisation that no figure is small.
	day := time.Date(2026, 5, 20, 0, 0, 0, 0, time.UTC)
	for _, u := range staff {
		for i := range 19 {
			harm := []string{"5", "4"}[i%2]
			_, err := site.App.Incidents.Submit(ctx, incident.Submission{Type: incident.Incident, OrgCode: u.OrgCode, Source: incident.Staff,
				ReporterID: u.ID, OccurredFrom: day, OccurredTo: day, StatementVersion: 1,
				Answers: incident.Answers{"AdverseEvent.description": {"A fall in the day room."}, "PatientInformation.PhysicalHarm": {harm}},
				Index:   incident.Index{PhysicalHarm: harm, ServiceType: "1"}}, incident.Client{IP: "192.0.2.1"})
			if err != nil {
				t.Fatal(err)
			}
		}
	}

	shots := os.Getenv("PSIMS_SCREENSHOTS")
	n := 0
	shot := func(b *browser) {
		if shots != "" {
			n++
			b.screenshot(filepath.Join(shots, fmt.Sprintf("statistics-%02d.png", n)))
		}
	}

	b := newBrowser(t, site.URL, true)
	b.open("/sign-in", 200)
	signIn(b, "stats.admin@nhs.net", password, 200)
	b.nav("Statistics", 200)
	b.wantHeading("Official statistics publications")
	b.click("create one", inMain("a", "Create a publication"), 200)
	b.wantHeading("New publication")
	b.step("choose other dates", chromedp.Click(chromedp.ID("period-custom")))
	b.click("create a blank publication", inMain("button", "Create publication"), 422)
	wantErrorPage(t, b, "#title", "#from-day", "#to-day")
	shot(b)

	b.fill("title", "Patient safety events: April to September 2026")
	for id, v := range map[string]string{"from-day": "1", "from-month": "4", "from-year": "2026", "to-day": "30", "to-month": "9", "to-year": "2026"} {
		b.fill(id, v)
	}
	release := time.Now().AddDate(0, 0, -1)
	b.fill("release-day", strconv.Itoa(release.Day()))
	b.fill("release-month", strconv.Itoa(int(release.Month())))
	b.fill("release-year", strconv.Itoa(release.Year()))
	b.fill("release-time", "09:30")
	b.click("create it", inMain("button", "Create publication"), 200)
	b.wantHeading("Patient safety events: April to September 2026")
	if got := b.text(".nhsuk-notification-banner"); !strings.Contains(got, "Publication created") {
		t.Errorf("after creating, the banner reads %q", got)
	}
	shot(b)

	b.click("preview", chromedp.Search(`#preview-link`), 200)
	if got := b.text("main"); !strings.Contains(got, "Preview") || !strings.Contains(got, stats.TermsLabel) ||
		!strings.Contains(got, "Events by organisation, type and physical harm") || !strings.Contains(got, "Guidance notes") {
		t.Errorf("the preview reads %q", got)
	}
	if !b.exists("svg.app-chart title") || !b.exists("table caption") {
		t.Error("the preview has no chart or no table caption")
	}
	shot(b)
	b.click("back", inMain("a", "Back to the publication"), 200)
	b.click("publish without confirming", inMain("button", "Publish"), 422)
	wantErrorPage(t, b, "#confirm")
	b.step("confirm", chromedp.Click(chromedp.ID("confirm")))
	b.click("publish", inMain("button", "Publish"), 200)
	if got := b.text(".nhsuk-notification-banner"); !strings.Contains(got, "Published") {
		t.Errorf("after publishing, the banner reads %q", got)
	}
	shot(b)

	b.open("/admin/statistics/denominators", 200)
	b.wantHeading("Denominators for reporting rates")
	shot(b)

	public := newBrowser(t, site.URL, true)
	public.open("/", 200)
	public.click("the footer's statistics link", byText("footer", "a", "Official statistics"), 200)
	public.wantHeading("Official statistics")
	public.click("the publication", inMain("a", "Patient safety events: April to September 2026"), 200)
	public.wantHeading("Patient safety events: April to September 2026")
	if got := public.text("#downloads"); !strings.Contains(got, "publication.xlsx") || !strings.Contains(got, "organisation-type-harm.csv") {
		t.Errorf("downloads read %q", got)
	}
	if got := public.text("#national-totals-caption"); got == "" {
		t.Error("the national totals table has no caption")
	}
	shot(b)
	shot(public)
	t.Logf("pages checked with axe-core and the console: %s; %s", strings.Join(b.checked, "; "), strings.Join(public.checked, "; "))
}
