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
)

// TestMaterialTermsChangeReachesASignedInReporter: a national admin writes
// a new version of the terms, previews it and publishes it as material
// (T2, T19); a reporter who is already signed in is taken to the review
// page by their next click, sees the summary and what changed, accepts and
// carries on where they were going. Both browsers run with JavaScript on
// and every page is checked with axe-core and the console.
func TestMaterialTermsChangeReachesASignedInReporter(t *testing.T) {
	chromium(t)
	site, _ := startSite(t, dbtest.SQLite(t))
	ctx := context.Background()
	const password = "copper willow lantern meadow"
	people := map[account.Role]string{account.RoleNationalAdmin: "ola.operator@nhs.net", account.RoleReporter: "remi.reporter@nhs.net"}
	for role, email := range people {
		if _, err := site.App.Accounts.Create(ctx, account.NewUser{Email: email, Name: "Person " + string(role),
			JobRole: "Staff", OrgCode: "RM1", Role: role, Password: password}); err != nil {
			t.Fatal(err)
		}
		site.AcceptTerms(t, email)
	}
	if _, err := site.App.DB.WritePool().ExecContext(ctx, `UPDATE users SET ig_training_at = $1`, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}

	// The reporter is signed in and working.
	rb := newBrowser(t, site.URL, true)
	rb.open("/sign-in", 200)
	signIn(rb, people[account.RoleReporter], password, 200)
	rb.wantPath("/")
	rb.open("/account", 200)

	// The operator writes version 2, previews it, and publishes it.
	ab := newBrowser(t, site.URL, true)
	ab.open("/sign-in", 200)
	signIn(ab, people[account.RoleNationalAdmin], password, 200)
	ab.open("/admin/documents", 200)
	ab.open("/admin/documents/terms", 200)
	ab.open("/admin/documents/terms/new", 200)
	const added = "You must tell us about a breach of these terms within 24 hours."
	ab.step("add a paragraph at the end of the text",
		chromedp.Click(chromedp.ID("body")),
		chromedp.KeyEvent(kb.End, chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		chromedp.SendKeys(chromedp.ID("body"), "\n\n"+added),
	)
	if got := ab.value("body"); !strings.HasSuffix(strings.TrimSpace(got), added) {
		t.Fatalf("the text box ends %q", got[max(0, len(got)-80):])
	}
	ab.fill("summary", "Breaches must now be reported within 24 hours.")
	ab.step("mark the version material", chromedp.Click(chromedp.ID("material")))
	ab.click("preview", inMain("button", "Preview"), 200)
	if got := ab.text("main ins"); !strings.Contains(got, "24 hours") {
		t.Errorf("the preview's changes show %q, want the added paragraph", got)
	}
	ab.click("publish", inMain("button", "Publish version 2"), 200)
	// The operator is bound by the new version too.
	ab.wantPath("/review-terms?next=%2Fadmin%2Fdocuments%2Fterms%2F2%3Fdone%3Dpublished")
	ab.click("accept the new terms", inMain("button", "Accept and continue"), 200)
	ab.wantPath("/admin/documents/terms/2?done=published")

	// The reporter's next click leads to the review page.
	rb.click("open the profile", inMain("a", "Change your details, email address or organisation"), 200)
	rb.wantPath("/review-terms?next=%2Faccount%2Fprofile")
	rb.wantHeading("Review the changes to our terms")
	if got := rb.text("main ul.nhsuk-list--bullet"); !strings.Contains(got, "Breaches must now be reported within 24 hours.") {
		t.Errorf("the review page lists %q, want the summary", got)
	}
	if got := rb.text("main ins"); !strings.Contains(got, added) {
		t.Errorf("the changes show %q, want the added paragraph", got)
	}
	rb.click("accept the new terms", inMain("button", "Accept and continue"), 200)
	rb.wantPath("/account/profile")

	// The documents themselves, old and new, are public pages.
	rb.open("/terms", 200)
	rb.open("/privacy", 200)
	rb.open("/documents/terms", 200)
	rb.open("/documents/terms/1", 200)

	// The acceptance is in the reporter's own record.
	rb.open("/account/data", 200)
	if got := rb.text("main table"); !strings.Contains(got, "Version 2") {
		t.Errorf("Your data shows %q, want version 2 of the terms", got)
	}
}
