package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/org"
)

// TestDashboard walks the organisation dashboard (issue 15, T14) in
// Chromium, checking every page with axe-core and the console:
//   - a reviewer follows the home's link to their organisation's
//     dashboard: an XmR chart drawn as SVG whose unusual month is marked by
//     a triangle and in words in the table, with the variation icon and
//     its text;
//   - with JavaScript off, they change the form to weeks by physical harm;
//   - a national admin opens it from the header, sees every organisation,
//     then chooses the reviewer's organisation by name.
//
// With PSIMS_SCREENSHOTS set to a directory, each dashboard is saved there
// as dashboard-N.png.
func TestDashboard(t *testing.T) {
	chromium(t)
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			site, _ := startSite(t, e)
			ctx := context.Background()
			const password = "granite meadow lantern coil"
			users := map[string]account.User{}
			for _, p := range []struct {
				email, name, org string
				role             account.Role
			}{
				{"rhea.reporter@nhs.net", "Rhea Reporter", "RM1", account.RoleReporter},
				{"ravi.reviewer@nhs.net", "Ravi Reviewer", "RM1", account.RoleReviewer},
				{"nell.national@nhs.net", "Nell National", "QMM", account.RoleNationalAdmin},
			} {
				users[p.email] = readyUser(t, site, account.NewUser{Email: p.email, Name: p.name, JobRole: "Nurse",
					OrgCode: p.org, Role: p.role, Password: password})
			}
			// Two years of events at RM1: five or six a month, and 40 three
			// months ago, loaded as if received then.
			reporter := users["rhea.reporter@nhs.net"]
			now := time.Now().UTC()
			month := time.Date(now.Year(), now.Month(), 1, 12, 0, 0, 0, time.UTC)
			for back := 24; back >= 1; back-- {
				at := month.AddDate(0, -back, 9)
				site.App.DB.SetClock(func() time.Time { return at })
				n := 5 + back%2
				if back == 3 {
					n = 40
				}
				var subs []incident.Submission
				for i := range n {
					day := at.Truncate(24 * time.Hour)
					harm := []string{"4", "5", ""}[i%3]
					subs = append(subs, incident.Submission{Type: incident.Incident, OrgCode: "RM1", Source: incident.Staff,
						ReporterID: reporter.ID, OccurredFrom: day, OccurredTo: day, StatementVersion: 1,
						Answers: incident.Answers{"AdverseEvent.description": {"A patient slipped in the bathroom."}},
						Index:   incident.Index{PhysicalHarm: harm, ServiceType: "1"}})
				}
				if err := site.App.Incidents.Load(ctx, subs); err != nil {
					t.Fatal(err)
				}
			}
			site.App.DB.SetClock(time.Now)

			shots := os.Getenv("PSIMS_SCREENSHOTS")
			n := 0
			shot := func(b *browser) {
				if shots != "" {
					n++
					b.screenshot(filepath.Join(shots, fmt.Sprintf("%s-dashboard-%d.png", e.Name, n)))
				}
			}

			ravi := newBrowser(t, site.URL, true)
			ravi.open("/sign-in", 200)
			signIn(ravi, "ravi.reviewer@nhs.net", password, 200)
			ravi.click("the home's dashboard link", inMain("a", "See how the number of events changes over time (dashboard)"), 200)
			ravi.wantPath("/dashboard")
			if !ravi.exists(`svg.app-chart[role="img"] desc`) || !ravi.exists(`svg.app-chart path`) || !ravi.exists(`svg.psims-variation-icon title`) {
				t.Fatal("the dashboard has no chart with a description, a special cause triangle and a variation icon")
			}
			shot(ravi)
			ravi.step("open the figures", chromedp.Click(chromedp.CSS(`#total-heading ~ details summary`)))
			if got := ravi.text("main table"); !strings.Contains(got, "Beyond a process limit (higher)") || !strings.Contains(got, "40") {
				t.Errorf("the table does not mark the unusual month: %q", got)
			}

			// The filters work without JavaScript.
			plain := newBrowser(t, site.URL, false)
			plain.open("/sign-in", 200)
			signIn(plain, "ravi.reviewer@nhs.net", password, 200)
			plain.open("/dashboard", 200)
			plain.step("choose weeks by physical harm", chromedp.Click(chromedp.ID("grain-week")), chromedp.Click(chromedp.ID("by-harm")))
			plain.click("show the dashboard", inMain("button", "Show dashboard"), 200)
			if p := plain.path(); !strings.Contains(p, "grain=week") || !strings.Contains(p, "by=harm") {
				t.Errorf("the form went to %s", p)
			}
			if got := plain.text("main"); !strings.Contains(got, "Physical harm: not recorded by week") {
				t.Errorf("no chart of events without harm recorded by week: %q", got[:min(len(got), 300)])
			}
			shot(plain)

			nell := newBrowser(t, site.URL, true)
			nell.open("/sign-in", 200)
			signIn(nell, "nell.national@nhs.net", password, 200)
			nell.nav("Dashboard", 200)
			nell.wantHeading("Dashboard: every organisation")
			shot(nell)
			code, err := org.ParseCode("RM1")
			if err != nil {
				t.Fatal(err)
			}
			rm1, err := site.App.Orgs.Get(ctx, code)
			if err != nil {
				t.Fatal(err)
			}
			nell.fill("org", "RM1")
			nell.click("show RM1's dashboard", inMain("button", "Show dashboard"), 200)
			nell.wantHeading("Dashboard: " + rm1.Name + " (RM1)")
			shot(nell)
			// A name that matches nothing: the form says so and keeps it.
			nell.fill("org", "Nowhere General")
			nell.click("look for an unknown organisation", inMain("button", "Show dashboard"), 422)
			wantErrorPage(t, nell, "#org")
			if got := nell.value("org"); got != "Nowhere General" {
				t.Errorf("the box holds %q", got)
			}
		})
	}
}
