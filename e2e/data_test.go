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
)

// TestAUserDownloadsTheirData walks "Download my data" (issue 13, P15)
// in Chromium, checking every page with axe-core and the console: a
// reporter who has recorded an event goes from "Your data" to the
// download page, asks for a copy, reads it as a page (their account, the
// reference of their event, never what they wrote in it) and finds it
// listed as ready. Then a national admin makes a legal disclosure about
// them from their user page (P18): the form refuses to go on without a
// legal basis and a reference, and the disclosure is labelled. It runs
// with JavaScript on, on each engine, and with JavaScript off on SQLite.
//
// With PSIMS_SCREENSHOTS set to a directory, the pages are saved there as
// data-*.png.
func TestAUserDownloadsTheirData(t *testing.T) {
	chromium(t)
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) { downloadJourney(t, e, true) })
	}
	t.Run("without JavaScript", func(t *testing.T) { downloadJourney(t, dbtest.SQLite(t), false) })
}

func downloadJourney(t *testing.T, e dbtest.Engine, js bool) {
	site, _ := startSite(t, e)
	ctx := context.Background()
	const password = "meadow copper kettle lantern"
	users := map[string]account.User{}
	for _, p := range []struct {
		email, name string
		role        account.Role
	}{
		{"dana.download@nhs.net", "Dana Download", account.RoleReporter},
		{"nell.national@nhs.net", "Nell National", account.RoleNationalAdmin},
	} {
		u, err := site.App.Accounts.Create(ctx, account.NewUser{Email: p.email, Name: p.name, JobRole: "Midwife",
			OrgCode: "RM1", Role: p.role, Password: password})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := site.App.DB.WritePool().ExecContext(ctx, `UPDATE users SET ig_training_at = $1 WHERE id = $2`, time.Now().UTC(), u.ID); err != nil {
			t.Fatal(err)
		}
		site.AcceptTerms(t, p.email)
		users[p.email] = u
	}
	dana := users["dana.download@nhs.net"]
	day := time.Now().UTC().AddDate(0, 0, -3).Truncate(24 * time.Hour)
	const written = "The bed rails were left down after a transfer."
	ev, err := site.App.Incidents.Submit(ctx, incident.Submission{Type: incident.Incident, OrgCode: "RM1", Source: incident.Staff,
		ReporterID: dana.ID, OccurredFrom: day, OccurredTo: day, StatementVersion: 1,
		Answers: incident.Answers{"AdverseEvent.description": {written}}}, incident.Client{})
	if err != nil {
		t.Fatal(err)
	}

	shots := os.Getenv("PSIMS_SCREENSHOTS")
	n := 0
	shot := func(b *browser) {
		if shots != "" && js {
			n++
			b.screenshot(filepath.Join(shots, fmt.Sprintf("data-%02d.png", n)))
		}
	}

	b := newBrowser(t, site.URL, js)
	b.open("/sign-in", 200)
	signIn(b, dana.Email, password, 200)
	if !js && b.exists("body.js-enabled") {
		t.Fatal("page scripts ran although JavaScript is disabled")
	}
	b.open("/account/data", 200)
	b.click("go to the download page", inMain("a", "Download a copy of all your data"), 200)
	b.wantHeading("Download your data")
	shot(b)
	b.click("ask for a copy", inMain("button", "Get a copy of your data"), 200)
	b.wantHeading("Your data")
	shot(b)
	page := b.text("main")
	for _, want := range []string{dana.Email, "Dana Download", string(ev.Reference), "Account history", "Terms of use, privacy policy and consent",
		"Sign-ins (sessions)", "Emails sent"} {
		if !strings.Contains(page, want) {
			t.Errorf("the copy does not show %q", want)
		}
	}
	if strings.Contains(page, written) {
		t.Error("the copy shows what was written in the event")
	}
	href := run(b, "the JSON link", chromedp.Evaluate[string](`document.querySelector("main a[download]").getAttribute("href")`))
	if !strings.HasPrefix(href, "/account/data/download/") || !strings.HasSuffix(href, "/json") {
		t.Errorf("the JSON link is %q", href)
	}
	b.click("back to the downloads", byText("body", "a", "Back to your downloads"), 200)
	b.wantHeading("Download your data")
	if got := b.text("main table"); !strings.Contains(got, "Ready") {
		t.Errorf("the list says %q", got)
	}
	b.click("sign out", inHeader("button", "Sign out"), 200)

	// A national admin discloses data about Dana, with a basis and a reference.
	nell := users["nell.national@nhs.net"]
	b.open("/sign-in", 200)
	signIn(b, nell.Email, password, 200)
	b.open(fmt.Sprintf("/admin/users/%d", dana.ID), 200)
	b.click("go to the disclosure form", inMain("a", "Make a legal disclosure about this user"), 200)
	b.wantHeading("Make a legal disclosure")
	shot(b)
	b.click("submit the empty form", inMain("button", "Make the disclosure"), 422)
	wantErrorPage(t, b, "#basis", "#reference")
	shot(b)
	b.step("choose a court order", chromedp.Click(chromedp.ID("basis-1")))
	b.fill("reference", "County court claim K00AB123")
	b.click("make the disclosure", inMain("button", "Make the disclosure"), 200)
	b.wantHeading("Legal disclosure")
	shot(b)
	if got := b.text("main"); !strings.Contains(got, "Disclosed under an order of a court or tribunal") ||
		!strings.Contains(got, "County court claim K00AB123") || !strings.Contains(got, "Nell National") || !strings.Contains(got, dana.Email) {
		t.Errorf("the disclosure is not labelled: %.400s", got)
	}
	t.Logf("pages checked with axe-core and the console: %s", strings.Join(b.checked, "; "))
}
