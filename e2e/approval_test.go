package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/db/dbtest"
)

// The people of the approval journey. example.org is not approved
// automatically, so the registration waits for RM1's admin.
const (
	approvalAdminEmail = "jo.admin@nnuh.example"
	approvalAdminName  = "Jo Patel"
	approvalName       = "Sam Jones"
	approvalRole       = "Healthcare assistant"
	approvalEmail      = "sam.jones@example.org"
	approvalPassword   = "pebble orchard lantern voyage"
)

// TestOrgAdminApprovesANewRegistrant: someone registers for RM1 with an
// address that needs approval and confirms it from the real email; RM1's
// admin finds the registration in the approval queue and approves it; the
// person gets the approval email and signs in. Both browsers run with
// JavaScript on, and every page is checked with axe-core and the console.
func TestOrgAdminApprovesANewRegistrant(t *testing.T) {
	chromium(t)
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			site, mail := startSite(t, e)
			ctx := context.Background()
			admin, err := site.App.Accounts.Create(ctx, account.NewUser{Email: approvalAdminEmail, Name: approvalAdminName,
				JobRole: "Patient safety manager", OrgCode: "RM1", Role: account.RoleOrgAdmin, Password: approvalPassword})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := site.App.DB.WritePool().ExecContext(ctx, `UPDATE users SET ig_training_at = $1 WHERE id = $2`,
				time.Now().UTC(), admin.ID); err != nil {
				t.Fatal(err)
			}

			// The admin signs in first, in a browser of their own.
			site.AcceptTerms(t, approvalAdminEmail)
			ab := newBrowser(t, site.URL, true)
			ab.open("/sign-in", 200)
			signIn(ab, approvalAdminEmail, approvalPassword, 200)
			ab.wantPath("/")

			// The new person registers and confirms their address.
			pb := newBrowser(t, site.URL, true)
			pb.open("/register", 200)
			pb.fill("name", approvalName)
			pb.fill("job_role", approvalRole)
			pb.fill("org_query", "RM1")
			pb.fill("email", approvalEmail)
			pb.fill("password", approvalPassword)
			pb.fill("confirm_password", approvalPassword)
			pb.click("create the account", inMain("button", "Create account"), 200)
			pb.wantPath("/register/check-email")
			msg := waitForMail(t, mail, approvalEmail, "Confirm your email address")
			pb.open(emailLink(t, pb, msg, "/verify-email"), 200)
			pb.click("confirm the email address", inMain("button", "Confirm my email address"), 200)
			pb.wantPath("/pending-approval")
			pb.wantHeading("Your account is waiting for approval")

			// Until approved, signing in leads back to the same page.
			pb.open("/sign-in", 200)
			signIn(pb, approvalEmail, approvalPassword, 200)
			pb.wantPath("/pending-approval")

			// The admin finds and approves the registration.
			ab.open("/admin/approvals", 200)
			ab.wantHeading("Registrations and requests to approve")
			if got := ab.text("main table"); !strings.Contains(got, approvalEmail) || !strings.Contains(got, approvalRole) {
				t.Fatalf("the queue shows %q, want the new registration", got)
			}
			ab.click("open the registration", inMain("a", approvalName+": decide on this registration"), 200)
			ab.wantHeading("Approve or reject a registration")
			if got := ab.text("main .nhsuk-summary-list"); !strings.Contains(got, approvalEmail) || !strings.Contains(got, "RM1") {
				t.Errorf("the registration shows %q, want the email address and organisation", got)
			}

			// Saving without a decision is refused with the error summary.
			ab.click("save without a decision", inMain("button", "Save decision"), 422)
			wantErrorPage(t, ab, "#decision")

			ab.step("choose approve", chromedp.Click(chromedp.ID("decision")))
			ab.click("approve", inMain("button", "Save decision"), 200)
			ab.wantPath("/admin/approvals?done=registration-approved")
			if got := ab.text("main .nhsuk-notification-banner"); !strings.Contains(got, "Registration approved") {
				t.Errorf("after approving, the banner says %q", got)
			}
			if got := ab.text("main"); strings.Contains(got, approvalEmail) {
				t.Errorf("the approved registration is still in the queue")
			}

			// The person is told by email and signs in.
			approved := waitForMail(t, mail, approvalEmail, "has been approved")
			if link := approved.FirstURL(); link != site.URL+"/sign-in" {
				t.Errorf("the approval email links to %q, want %s/sign-in", link, site.URL)
			}
			site.AcceptTerms(t, approvalEmail)
			pb.open("/sign-in", 200)
			signIn(pb, approvalEmail, approvalPassword, 200)
			pb.wantPath("/")
			pb.wantHeading("Home")
			pb.open("/account", 200)
			pb.wantHeading("Your account")
			if got := pb.text("main .nhsuk-summary-list"); !strings.Contains(got, approvalName) || !strings.Contains(got, "RM1") {
				t.Errorf("the account page shows %q", got)
			}

			// Now a reporter, they ask to become a reviewer; the admin sees
			// the request with its justification.
			pb.open("/account/role-request", 200)
			pb.wantHeading("Ask for a different account type")
			pb.click("send an empty role request", inMain("button", "Send request"), 422)
			wantErrorPage(t, pb, "#role", "#justification")
			pb.step("choose reviewer", chromedp.Click(chromedp.ID("role")))
			pb.fill("justification", "I run the ward's weekly safety huddle.")
			pb.click("send the role request", inMain("button", "Send request"), 200)
			if got := pb.text("main"); !strings.Contains(got, "waiting for a decision") {
				t.Errorf("after asking, the page shows %q", got)
			}
			ab.open("/admin/approvals", 200)
			ab.click("open the role request", inMain("a", approvalName+": decide on this request"), 200)
			ab.wantHeading("Approve or reject a request for a new account type")
			if got := ab.text("main .nhsuk-summary-list"); !strings.Contains(got, "weekly safety huddle") {
				t.Errorf("the request shows %q, want the justification", got)
			}
			t.Logf("admin pages checked: %s", strings.Join(ab.checked, "; "))
			t.Logf("registrant pages checked: %s", strings.Join(pb.checked, "; "))
		})
	}
}
