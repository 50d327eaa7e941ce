package e2e

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/lifecycle"
)

// TestADormantAccountIsKeptFromTheWarningsLink: a reporter unused for a
// year is warned by a real email; their organisation's admin finds them
// in the list of accounts about to be deactivated, with the dates; the
// reporter, not signed in, follows the email's link to the confirmation
// page and keeps the account; the admin's list is then empty. JavaScript
// is on; every page is checked with axe-core and the console. // P12, P13
func TestADormantAccountIsKeptFromTheWarningsLink(t *testing.T) {
	chromium(t)
	site, mail := startSite(t, dbtest.SQLite(t))
	ctx := context.Background()
	const password = "lantern meadow copper quay"
	people := map[string]account.User{}
	for _, p := range []struct {
		email, name string
		role        account.Role
	}{{"olga.orgadmin@nhs.net", "Olga Orgadmin", account.RoleOrgAdmin}, {"reza.reporter@nhs.net", "Reza Reporter", account.RoleReporter}} {
		u, err := site.App.Accounts.Create(ctx, account.NewUser{Email: p.email, Name: p.name, JobRole: "Nurse", OrgCode: "RM1", Role: p.role, Password: password})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := site.App.DB.WritePool().ExecContext(ctx, `UPDATE users SET ig_training_at = $1 WHERE id = $2`, time.Now().UTC(), u.ID); err != nil {
			t.Fatal(err)
		}
		site.AcceptTerms(t, p.email)
		people[p.email] = u
	}
	// A year without a sign-in, then the sweep the server runs hourly.
	idle := time.Now().UTC().AddDate(-1, 0, -2)
	if _, err := site.App.DB.WritePool().ExecContext(ctx, `UPDATE users SET last_active_at = $1, created_at = $1 WHERE id = $2`,
		idle, people["reza.reporter@nhs.net"].ID); err != nil {
		t.Fatal(err)
	}
	if err := lifecycle.RunDormancy(ctx, site.App.Dormancy, site.App.DB, func(lifecycle.Action) {}); err != nil {
		t.Fatal(err)
	}
	warning := mail.WaitFor(t, "reza.reporter@nhs.net", 1)
	reza, err := site.App.Accounts.UserByID(ctx, people["reza.reporter@nhs.net"].ID)
	if err != nil || reza.DormancyDeactivateAt == nil {
		t.Fatalf("reza was not warned: %v", err)
	}
	on := reza.DormancyDeactivateAt.Format("2 January 2006")
	if !strings.Contains(warning.Subject(), on) {
		t.Fatalf("warning subject %q lacks the date %s", warning.Subject(), on)
	}

	ob := newBrowser(t, site.URL, true)
	ob.open("/sign-in", 200)
	signIn(ob, "olga.orgadmin@nhs.net", password, 200)
	ob.open("/admin/users", 200)
	ob.click("the list of accounts about to be deactivated", inMain("a", "Accounts about to be deactivated because they are not used"), 200)
	ob.wantHeading("Accounts about to be deactivated")
	if got := ob.text("main table"); !strings.Contains(got, "Reza Reporter") || !strings.Contains(got, on) {
		t.Fatalf("the list shows %q", got)
	}

	link, err := url.Parse(warning.FirstURL())
	if err != nil {
		t.Fatal(err)
	}
	rb := newBrowser(t, site.URL, true)
	rb.open(link.RequestURI(), 200)
	rb.wantHeading("Keep your PSIMS account")
	rb.click("keep the account", inMain("button", "Keep my account"), 200)
	rb.wantHeading("Your account will be kept")
	rb.open(link.RequestURI(), 422)

	ob.open("/admin/users/dormant", 200)
	if got := ob.text("main"); !strings.Contains(got, "Nobody is about to be deactivated.") {
		t.Fatalf("after confirming the list shows %q", got)
	}
	t.Logf("pages checked with axe-core and the console: %s", strings.Join(append(ob.checked, rb.checked...), "; "))
}
