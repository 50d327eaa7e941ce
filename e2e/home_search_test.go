package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/incident"
)

// TestAReviewerSearchesFromTheHome (issue 11, items 16 and 19): a reviewer
// signs in, goes to the home, which shows their organisation's new events
// and the week's counts, searches by a word from the home's search box and
// by a reference number from the list's, pressing Enter as people do, and
// lands on the event. Every page is checked with axe-core and the console.
func TestAReviewerSearchesFromTheHome(t *testing.T) {
	chromium(t)
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			site, _ := startSite(t, e)
			ctx := context.Background()
			const password = "copper lantern meadow quartz"
			reviewer, err := site.App.Accounts.Create(ctx, account.NewUser{Email: "rae.reviewer@nhs.net", Name: "Rae Reviewer",
				JobRole: "Patient safety lead", OrgCode: "RM1", Role: account.RoleReviewer, Password: password})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := site.App.DB.WritePool().ExecContext(ctx, `UPDATE users SET ig_training_at = $1`, time.Now().UTC()); err != nil {
				t.Fatal(err)
			}
			site.AcceptTerms(t, reviewer.Email)
			day := time.Now().UTC().AddDate(0, 0, -2).Truncate(24 * time.Hour)
			submit := func(org, text string) incident.Reference {
				ev, err := site.App.Incidents.Submit(ctx, incident.Submission{Type: incident.Incident, OrgCode: org, Source: incident.Public,
					OccurredFrom: day, OccurredTo: day, StatementVersion: 1, Answers: incident.Answers{"AdverseEvent.description": {text}},
					Index: incident.Index{PhysicalHarm: "4", Text: text}}, incident.Client{})
				if err != nil {
					t.Fatal(err)
				}
				return ev.Reference
			}
			morphine := submit("RM1", "Oral morphine of the wrong strength was drawn up")
			fall := submit("RM1", "Patient fell on the way to the bathroom")
			elsewhere := submit("D82044", "Oral morphine given twice")

			b := newBrowser(t, site.URL, true)
			b.open("/sign-in", 200)
			signIn(b, reviewer.Email, password, 200)
			b.load("go to the home", 200, chromedp.Click(chromedp.CSS("a.nhsuk-header__service-logo")))
			b.wantPath("/")
			b.wantHeading("Home")
			main := b.text("main")
			for _, want := range []string{"Your organisation's events", "This week by event type", "This week by physical harm",
				string(morphine), string(fall)} {
				if !strings.Contains(main, want) {
					t.Fatalf("the home lacks %q:\n%s", want, main)
				}
			}
			if strings.Contains(main, string(elsewhere)) {
				t.Fatal("the home shows another organisation's event")
			}

			b.fill("home-q", "Morphine")
			b.load("search by a word", 200, chromedp.KeyEvent(kb.Enter))
			b.wantPath("/events?q=Morphine")
			main = b.text("main")
			if !strings.Contains(main, "1 event found") || !strings.Contains(main, string(morphine)) ||
				strings.Contains(main, string(fall)) || strings.Contains(main, string(elsewhere)) {
				t.Fatalf("the search by a word shows:\n%s", main)
			}

			typed := strings.ToLower(strings.ReplaceAll(string(fall), "-", " "))
			b.fill("q", typed)
			b.load("search by reference", 200, chromedp.KeyEvent(kb.Enter))
			b.wantPath("/events/" + string(fall))
			if main := b.text("main"); !strings.Contains(main, "Patient fell on the way to the bathroom") {
				t.Fatalf("the event page shows:\n%s", main)
			}

			// Another organisation's reference finds nothing, as an unknown one.
			b.open("/events", 200)
			b.fill("q", string(elsewhere))
			b.click("search for another organisation's reference", inMain("button", "Apply filters"), 200)
			if main := b.text("main"); !strings.Contains(main, "No event found with reference "+string(elsewhere)) ||
				strings.Contains(main, "Oral morphine given twice") {
				t.Fatalf("another organisation's reference shows:\n%s", main)
			}
			t.Logf("pages checked with axe-core and the console: %s", strings.Join(b.checked, "; "))
		})
	}
}
