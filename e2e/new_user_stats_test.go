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

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/incident"
	"github.com/psims/psims/internal/sharing"
	"github.com/psims/psims/internal/stats"
)

// TestEachRoleFindsTheStatisticsDashboardAndSharingPages walks the pages
// of issue 15 as each kind of person first meets them, in Chromium with
// JavaScript off (every page must work without it), checking each page
// with axe-core and the console:
//   - a member of the public finds the official statistics from the
//     footer before anything is published, and is told so;
//   - a reporter typing the dashboard's address is told their account
//     type does not include it and how to ask for one that does;
//   - a reviewer whose IG training has lapsed is sent to the IG training
//     page, not shown the dashboard or an empty refusal;
//   - a read-only user granted no organisation is told what to ask for,
//     and one granted an organisation sees its dashboard;
//   - an org admin finds the dashboard in the header;
//   - a recipient named in an agreement finds it from the home page, and
//     its extract form says the purpose and the only fields it holds;
//   - a reviewer on a publication's pre-release list sees it before its
//     release, labelled as such, while the public still gets nothing.
//
// With PSIMS_SCREENSHOTS set to a directory, the pages are saved there as
// roles-NAME.png.
func TestEachRoleFindsTheStatisticsDashboardAndSharingPages(t *testing.T) { // T14 T15 T16
	chromium(t)
	site, _ := startSite(t, dbtest.SQLite(t))
	ctx := context.Background()
	const password = "orchard velvet compass ember"
	people := map[string]account.User{}
	for _, p := range []struct {
		email string
		role  account.Role
	}{
		{"rita.reporter@nhs.net", account.RoleReporter},
		{"lapsed.reviewer@nhs.net", account.RoleReviewer},
		{"pre.reviewer@nhs.net", account.RoleReviewer},
		{"una.readonly@nhs.net", account.RoleReadOnly},
		{"gus.readonly@nhs.net", account.RoleReadOnly},
		{"ola.orgadmin@nhs.net", account.RoleOrgAdmin},
	} {
		people[p.email] = readyUser(t, site, account.NewUser{Email: p.email, Name: strings.ToUpper(p.email[:1]) + strings.Split(p.email, ".")[0][1:] + " Person",
			JobRole: "Patient safety lead", OrgCode: "RM1", Role: p.role, Password: password})
	}
	w := site.App.DB.WritePool()
	if _, err := w.ExecContext(ctx, `UPDATE users SET ig_training_at = NULL WHERE email = 'lapsed.reviewer@nhs.net'`); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ExecContext(ctx, `INSERT INTO read_grants (user_id, org_ods, granted_at) VALUES ($1, 'RM1', $2)`,
		people["gus.readonly@nhs.net"].ID, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	// Events in RM1 over the last months, so the dashboards have points.
	now := time.Now().UTC()
	for back := 1; back <= 14; back++ {
		day := now.AddDate(0, 0, -7*back).Truncate(24 * time.Hour)
		_, err := site.App.Incidents.Submit(ctx, incident.Submission{Type: incident.Incident, OrgCode: "RM1", Source: incident.Staff,
			ReporterID: people["rita.reporter@nhs.net"].ID, OccurredFrom: day, OccurredTo: day, StatementVersion: 1,
			Answers: incident.Answers{"AdverseEvent.description": {"A fall on the stairs."}},
			Index:   incident.Index{PhysicalHarm: "5", ServiceType: "1"}}, incident.Client{})
		if err != nil {
			t.Fatal(err)
		}
	}

	shots := os.Getenv("PSIMS_SCREENSHOTS")
	shot := func(b *browser, name string) {
		if shots != "" {
			b.screenshot(filepath.Join(shots, "roles-"+name+".png"))
		}
	}
	signedIn := func(email string) *browser {
		b := newBrowser(t, site.URL, false)
		b.open("/sign-in", 200)
		signIn(b, email, password, 200)
		return b
	}
	mainText := func(b *browser) string { return b.text("main") }
	wantSays := func(b *browser, who string, words ...string) {
		t.Helper()
		got := mainText(b)
		for _, w := range words {
			if !strings.Contains(got, w) {
				t.Errorf("%s at %s: the page does not say %q: %q", who, b.path(), w, got[:min(len(got), 400)])
			}
		}
	}

	// The public, before anything is published.
	public := newBrowser(t, site.URL, false)
	public.open("/", 200)
	public.click("the footer's statistics link", byText("footer", "a", "Official statistics"), 200)
	public.wantPath("/statistics")
	wantSays(public, "the public", "Nothing has been published yet")
	shot(public, "public-empty")

	// A reporter has no dashboard link; the address tells them who it is for.
	rita := signedIn("rita.reporter@nhs.net")
	if rita.exists(`header a[href="/dashboard"]`) {
		t.Error("a reporter's header offers the dashboard")
	}
	rita.open("/dashboard", 403)
	wantSays(rita, "a reporter", "Your account type does not include this", "ask for a different account type")
	shot(rita, "reporter-dashboard")

	// A reviewer whose IG training lapsed is sent to do it.
	lapsed := signedIn("lapsed.reviewer@nhs.net")
	lapsed.nav("Dashboard", 403)
	wantSays(lapsed, "a reviewer without IG training", "information governance training")
	shot(lapsed, "lapsed-reviewer-dashboard")

	// A read-only user with nothing granted, then one granted RM1.
	una := signedIn("una.readonly@nhs.net")
	una.nav("Dashboard", 200)
	wantSays(una, "a read-only user with no organisation", "not been given access to any organisation")
	shot(una, "readonly-no-grants")
	gus := signedIn("gus.readonly@nhs.net")
	gus.nav("Dashboard", 200)
	if !gus.exists(`svg.app-chart`) {
		t.Error("a read-only user granted RM1 sees no chart")
	}
	wantSays(gus, "a read-only user granted RM1", "(RM1)")
	shot(gus, "readonly-granted")

	// An org admin finds it in the header.
	ola := signedIn("ola.orgadmin@nhs.net")
	ola.nav("Dashboard", 200)
	wantSays(ola, "an org admin", "(RM1)", "All events by month")
	shot(ola, "orgadmin-dashboard")

	// A recipient named in an agreement covering RM1.
	today := time.Now().UTC().Truncate(24 * time.Hour)
	if _, err := site.App.Sharing.Create(ctx, sharing.Actor{}, sharing.Draft{Recipient: "Regional patient safety team",
		Purpose: "Learning from falls across the region", LegalBasis: "art6-1e", SpecialBasis: "art9-2i",
		StartsOn: today.AddDate(0, 0, -1), EndsOn: today.AddDate(0, 1, 0), Fields: []string{"reference", "physical_harm"},
		Orgs: "RM1", ApproverName: "Dr Jo Singh", ApproverRole: "Caldicott Guardian", ApprovedOn: today.AddDate(0, 0, -2),
		Recipients: "gus.readonly@nhs.net"}); err != nil {
		t.Fatal(err)
	}
	gus.open("/", 200)
	gus.click("the home's link to agreements", inMain("a", "See your data sharing agreements and make extracts"), 200)
	wantSays(gus, "a named recipient", "Regional patient safety team", "In force")
	shot(gus, "recipient-sharing")
	gus.click("the agreement", inMain("a", "DSA-2026-001"), 200)
	wantSays(gus, "a named recipient", "Learning from falls across the region", "only these fields: Reference, Physical harm.")
	shot(gus, "recipient-extract")

	// A publication not released yet, with a reviewer on its pre-release list.
	release := now.AddDate(0, 0, 7)
	id, err := site.App.Statistics.Create(ctx, stats.Actor{}, stats.Draft{Title: "Patient safety events: a pre-release test",
		From: now.AddDate(0, -6, 0).Truncate(24 * time.Hour), To: now.AddDate(0, 0, -1).Truncate(24 * time.Hour),
		Basis: incident.BasisOccurred, Release: release})
	if err != nil {
		t.Fatal(err)
	}
	if err := site.App.Statistics.Publish(ctx, stats.Actor{}, id); err != nil {
		t.Fatal(err)
	}
	if err := site.App.Statistics.AddPreRelease(ctx, stats.Actor{}, id, "pre.reviewer@nhs.net"); err != nil {
		t.Fatal(err)
	}
	path := "/statistics/" + strconv.FormatInt(id, 10)
	public.open(path, 404)
	pre := signedIn("pre.reviewer@nhs.net")
	pre.open(path, 200)
	wantSays(pre, "a reviewer on the pre-release list", "Pre-release access", "Patient safety events: a pre-release test")
	shot(pre, "prerelease")
	t.Logf("pages checked: %s", fmt.Sprint(len(public.checked)+len(rita.checked)+len(lapsed.checked)+len(una.checked)+len(gus.checked)+len(ola.checked)+len(pre.checked)))
}
