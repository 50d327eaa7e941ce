package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/db/dbtest"
)

// TestAdministrationPagesAreAccessible visits, as a national admin, every
// administration and profile page with data on it, so axe-core and the
// console check run on each (the journeys check the pages they pass
// through).
func TestAdministrationPagesAreAccessible(t *testing.T) {
	chromium(t)
	site, _ := startSite(t, dbtest.SQLite(t))
	ctx := context.Background()
	const password = "granite meadow puzzle harbour"
	var people []account.User
	for i, role := range []account.Role{account.RoleNationalAdmin, account.RoleReviewer, account.RoleReadOnly} {
		u, err := site.App.Accounts.Create(ctx, account.NewUser{Email: fmt.Sprintf("person%d@nhs.net", i), Name: fmt.Sprintf("Person %d", i),
			JobRole: "Patient safety lead", OrgCode: "RM1", Role: role, Password: password})
		if err != nil {
			t.Fatal(err)
		}
		people = append(people, u)
	}
	if _, err := site.App.DB.WritePool().ExecContext(ctx, `UPDATE users SET ig_training_at = $1`, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}

	site.AcceptTerms(t, people[0].Email)
	b := newBrowser(t, site.URL, true)
	b.open("/sign-in", 200)
	signIn(b, people[0].Email, password, 200)
	for _, path := range []string{
		"/admin/users",
		"/admin/users?status=ig-due",
		fmt.Sprintf("/admin/users/%d", people[1].ID),
		fmt.Sprintf("/admin/users/%d", people[2].ID),
		"/admin/users/dormant?org=RM1",
		"/admin/organisations",
		"/admin/organisations/RM1",
		"/admin/approvals",
		"/account/profile",
		"/account/profile/details",
		"/account/profile/email",
		"/account/profile/organisation",
		"/account/ig-training",
		"/account/role-request",
		"/account/data",
		"/account/data-preferences",
	} {
		b.open(path, 200)
	}
}
