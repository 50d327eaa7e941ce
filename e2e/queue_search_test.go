package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/db/dbtest"
)

// TestApprovalQueuePagesAndOrganisationSearchByName (issue 11 items 10 and
// 14): a national admin pages through a long approval queue, forward and
// back, and searches it; then a person registering types their
// organisation's name and presses Enter in the box, with JavaScript on (the
// box searches) and off (the form is sent, and the server searches), and
// registers with the organisation chosen from the matches. Every page is
// checked with axe-core and the console.
func TestApprovalQueuePagesAndOrganisationSearchByName(t *testing.T) {
	chromium(t)
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			site, _ := startSite(t, e)
			ctx := context.Background()
			const adminEmail, password = "pat.national@nhs.example", "harbour window meadow candle"
			admin, err := site.App.Accounts.Create(ctx, account.NewUser{Email: adminEmail, Name: "Pat National",
				JobRole: "National patient safety team", OrgCode: "RM1", Role: account.RoleNationalAdmin, Password: password})
			if err != nil {
				t.Fatal(err)
			}
			w := site.App.DB.WritePool()
			if _, err := w.ExecContext(ctx, `UPDATE users SET ig_training_at = $1 WHERE id = $2`, time.Now().UTC(), admin.ID); err != nil {
				t.Fatal(err)
			}
			at := time.Now().UTC().Add(-time.Hour)
			const waiting = account.QueuePerPage + 7
			for i := range waiting {
				if _, err := w.ExecContext(ctx, `INSERT INTO users (email, name, job_role, org_ods, role, status, password_hash, email_verified_at, created_at, updated_at)
					VALUES ($1, $2, 'Nurse', 'RM1', 'reporter', 'pending', 'x', $3, $3, $3)`,
					fmt.Sprintf("waiting%03d@example.org", i), fmt.Sprintf("Waiting Person %03d", i), at.Add(time.Duration(i)*time.Second)); err != nil {
					t.Fatal(err)
				}
			}
			site.AcceptTerms(t, adminEmail)

			ab := newBrowser(t, site.URL, true)
			ab.open("/sign-in", 200)
			signIn(ab, adminEmail, password, 200)
			ab.open("/admin/approvals", 200)
			ab.wantHeading("Registrations and requests to approve")
			rows := func() int {
				return run(ab, "count the rows", countRows("main table tbody tr"))
			}
			if n := rows(); n != account.QueuePerPage {
				t.Fatalf("the first page has %d rows, want %d", n, account.QueuePerPage)
			}
			ab.click("next page of registrations", inMain("a", "Next page of new registrations"), 200)
			if n := rows(); n != waiting-account.QueuePerPage {
				t.Fatalf("the second page has %d rows, want %d", n, waiting-account.QueuePerPage)
			}
			if got := ab.text("main table"); !strings.Contains(got, "Waiting Person 056") || strings.Contains(got, "Waiting Person 049") {
				t.Errorf("the second page does not carry on from the first: %q", got)
			}
			ab.click("previous page of registrations", inMain("a", "Previous page of new registrations"), 200)
			if got := ab.text("main table"); !strings.Contains(got, "Waiting Person 000") {
				t.Errorf("Previous does not lead back to the oldest")
			}
			ab.fill("q", "person 042")
			ab.click("search the queue", inMain("button", "Search"), 200)
			if n := rows(); n != 1 || !strings.Contains(ab.text("main table"), "waiting042@example.org") {
				t.Errorf("the search found %d rows", n)
			}

			// A name as the organisation filter: several matches are offered.
			ab.open("/admin/approvals?org=norfolk", 422)
			ab.click("choose an organisation that matches", inMain("a", "NORFOLK AND NORWICH UNIVERSITY HOSPITALS NHS FOUNDATION TRUST (RM1)"), 200)
			if n := rows(); n != account.QueuePerPage {
				t.Errorf("RM1's queue shows %d rows, want a full page", n)
			}
			// The email alert choices (item 18) pass the same checks.
			ab.open("/account/alerts", 200)
			ab.wantHeading("Email alerts")
			ab.click("save the alert choices", inMain("button", "Save"), 200)
			ab.wantPath("/account/alerts?done=alerts")

			for _, js := range []bool{false, true} {
				email := fmt.Sprintf("named.%v@example.org", js)
				pb := newBrowser(t, site.URL, js)
				pb.open("/register", 200)
				pb.fill("name", "Alex Morgan")
				pb.fill("job_role", "Staff nurse")
				pb.fill("email", email)
				pb.fill("org_query", "norwich")
				// With JavaScript, Enter in the box searches (200); without,
				// it sends the form, and the server searches instead of
				// refusing the name as an ODS code (422).
				status := 200
				if !js {
					status = 422
				}
				pb.load(fmt.Sprintf("press Enter in the organisation box (JavaScript %v)", js), status,
					chromedp.SendKeys(chromedp.ID("org_query"), kb.Enter))
				if got := pb.text("main"); strings.Contains(got, "ODS codes are") || !strings.Contains(got, "NORFOLK AND NORWICH") {
					t.Fatalf("JavaScript %v: after Enter the page shows %q", js, got)
				}
				if got := pb.value("name"); got != "Alex Morgan" {
					t.Errorf("JavaScript %v: the name box holds %q after searching", js, got)
				}
				pb.step("choose the organisation", chromedp.Click(chromedp.ID("org-0")))
				pb.fill("password", password)
				pb.fill("confirm_password", password)
				pb.click("create the account", inMain("button", "Create account"), 200)
				pb.wantPath("/register/check-email")
			}
			t.Logf("pages checked: %s", strings.Join(ab.checked, "; "))
		})
	}
}

// countRows counts the elements sel matches.
func countRows(sel string) chromedp.Action[int] {
	return chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, sel))
}
