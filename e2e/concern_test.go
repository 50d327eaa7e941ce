package e2e

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/concern"
	"github.com/psims/psims/internal/db/dbtest"
)

// referencePattern finds a concern report's reference on a page.
var referencePattern = regexp.MustCompile(`CR-\d{5,}`)

// TestAReportedAccountIsSuspendedFromTheReportWithinTheClock is issue 13's
// journey for concern reports (T5, T6), in Chromium with JavaScript on: a
// user reports, from the footer, unauthorised access naming another
// account; a national admin finds it in the queue with its 48-hour clock
// running, suspends the named account from the report with a reason
// before the clock runs out, and closes it; the named person, who was
// signed in, is signed out at once and cannot sign in again; the reporter
// gets the receipt and the outcome by email. Then someone signed out
// reports from the sign-in page with page scripts off, through the error
// summary. axe-core and the console check run on every page.
func TestAReportedAccountIsSuspendedFromTheReportWithinTheClock(t *testing.T) { // T5, T6
	chromium(t)
	site, mail := startSite(t, dbtest.SQLite(t))
	ctx := context.Background()
	// With PSIMS_SCREENSHOTS set to a directory, the pages this journey
	// adds are saved there as concern-NAME.png, for a person to look at.
	shot := func(b *browser, name string) {
		if dir := os.Getenv("PSIMS_SCREENSHOTS"); dir != "" {
			b.screenshot(filepath.Join(dir, "concern-"+name+".png"))
		}
	}
	const password = "velvet harbour thistle compass"
	people := map[string]account.Role{"ann.reporter@nhs.net": account.RoleReporter, "bob.named@nhs.net": account.RoleReporter,
		"ada.national@nhs.net": account.RoleNationalAdmin}
	for email, role := range people {
		u, err := site.App.Accounts.Create(ctx, account.NewUser{Email: email, Name: strings.ToUpper(email[:1]) + email[1:3] + " Person",
			JobRole: "Patient safety lead", OrgCode: "RM1", Role: role, Password: password})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := site.App.DB.WritePool().ExecContext(ctx, `UPDATE users SET ig_training_at = $1 WHERE id = $2`, time.Now().UTC(), u.ID); err != nil {
			t.Fatal(err)
		}
		site.AcceptTerms(t, email)
	}

	// Bob is signed in and using the service.
	bob := newBrowser(t, site.URL, true)
	bob.open("/sign-in", 200)
	signIn(bob, "bob.named@nhs.net", password, 200)
	bob.open("/account", 200)

	// Ann reports from the footer.
	ann := newBrowser(t, site.URL, true)
	ann.open("/sign-in", 200)
	signIn(ann, "ann.reporter@nhs.net", password, 200)
	ann.click("open the concern form from the footer", byText("footer", "a", "Report a concern"), 200)
	ann.wantHeading("Report a concern")
	ann.step("choose unauthorised access", chromedp.Click(chromedp.ID("kind")))
	ann.fill("text", "Someone at the nurses' station was using Bob's account while he was on leave.")
	ann.fill("named_email", "bob.named@nhs.net")
	shot(ann, "form-signed-in")
	ann.click("send the report", inMain("button", "Send report"), 200)
	ann.wantHeading("Report sent")
	ref := referencePattern.FindString(ann.text("main"))
	if ref == "" {
		t.Fatal("the page after sending shows no reference")
	}
	if m := waitForMail(t, mail, "ann.reporter@nhs.net", "we have received your report"); !strings.Contains(m.Subject(), ref) {
		t.Errorf("the receipt is %q", m.Subject())
	}

	// Ada works it from the queue, within the 48 hours.
	ada := newBrowser(t, site.URL, true)
	ada.open("/sign-in", 200)
	signIn(ada, "ada.national@nhs.net", password, 200)
	ada.nav("Concerns", 200)
	ada.wantHeading("Concern reports")
	if row := ada.text("main table"); !strings.Contains(row, ref) || !strings.Contains(row, "Open") || !strings.Contains(row, "hours") {
		t.Fatalf("the queue shows %q", row)
	}
	shot(ada, "queue")
	ada.click("open the report", inMain("a", ref), 200)
	shot(ada, "report")
	ada.wantHeading("Unauthorised access")
	id, _ := concern.ParseReference(ref)
	rep, err := site.App.Concerns.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !time.Now().Before(rep.DueAt) {
		t.Fatal("the clock ran out before the admin acted")
	}
	ada.step("choose to suspend", chromedp.Click(chromedp.ID("status")))
	ada.fill("reason", "Account used by someone else while the owner was on leave")
	ada.click("suspend the account", inMain("button", "Change the account"), 200)
	if got := ada.text("main .nhsuk-notification-banner"); !strings.Contains(got, "suspended") {
		t.Errorf("after suspending, the banner says %q", got)
	}
	if got := ada.text("main"); !strings.Contains(got, "Suspended the account.") {
		t.Error("the report does not show the action taken")
	}
	ada.step("choose the outcome", chromedp.Click(chromedp.ID("outcome")))
	ada.fill("outcome_text", "Thank you. We have acted on your report.")
	ada.click("close the report", inMain("button", "Close and email the reporter"), 200)
	shot(ada, "closed")
	if got := ada.text("main"); !strings.Contains(got, "Closed") {
		t.Errorf("after closing, the report says %q", got)
	}
	if m := waitForMail(t, mail, "ann.reporter@nhs.net", "is closed"); !strings.Contains(m.Subject(), ref) {
		t.Errorf("the closing email is %q", m.Subject())
	}

	// Bob's session has ended, and he cannot sign in again.
	bob.open("/account", 200)
	if p := bob.path(); !strings.HasPrefix(p, "/sign-in") {
		t.Fatalf("the suspended person still reaches %s", p)
	}
	signIn(bob, "bob.named@nhs.net", password, 403)
	bob.wantHeading("You cannot sign in")

	// Someone signed out reports from the sign-in page without JavaScript.
	visitor := newBrowser(t, site.URL, false)
	visitor.open("/sign-in", 200)
	visitor.click("open the concern form from the sign-in page", inMain("a", "Report a concern"), 200)
	if visitor.exists("body.js-enabled") {
		t.Fatal("page scripts ran although JavaScript is disabled")
	}
	visitor.click("send an empty report", inMain("button", "Send report"), 422)
	wantErrorPage(t, visitor, "#reporter_name", "#reporter_email", "#kind", "#text")
	visitor.fill("reporter_name", "Dee Ward")
	visitor.fill("reporter_email", "dee.ward@example.org")
	visitor.fill("text", "A printed list of staff logins was left in the canteen.")
	visitor.fill("when-day", "40")
	visitor.fill("when-month", "11")
	visitor.fill("when-year", "2026")
	visitor.click("send with a bad date", inMain("button", "Send report"), 422)
	wantErrorPage(t, visitor, "#kind", "#when")
	shot(visitor, "form-signed-out-errors")
	if visitor.value("text") != "A printed list of staff logins was left in the canteen." || visitor.value("reporter_name") != "Dee Ward" {
		t.Error("what was typed was lost")
	}
	visitor.step("choose a data breach", chromedp.Click(chromedp.ID("kind-data-breach")))
	visitor.fill("when-day", "30")
	visitor.click("send the report", inMain("button", "Send report"), 200)
	visitor.wantHeading("Report sent")
	waitForMail(t, mail, "dee.ward@example.org", "we have received your report")
	t.Logf("pages checked with axe-core and the console: %s, %s, %s, %s", strings.Join(ann.checked, "; "), strings.Join(ada.checked, "; "),
		strings.Join(bob.checked, "; "), strings.Join(visitor.checked, "; "))
}
