package web_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/db/dbtest"
)

func TestLongUserListsArePagedWithTheNHSPaginationComponent(t *testing.T) {
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	for i := range 30 {
		_, err := site.App.Accounts.Create(context.Background(), account.NewUser{Email: fmt.Sprintf("paged%02d@nhs.net", i),
			Name: fmt.Sprintf("Paged Person %02d", i), JobRole: "Nurse", OrgCode: "RM1", Role: account.RoleReporter, Password: passphrase})
		if err != nil {
			t.Fatal(err)
		}
	}
	b := orgsAdminAs(t, site, account.RoleNationalAdmin)
	orgsWant(t, "page 1", b.get("/admin/users"), 200,
		`class="nhsuk-pagination nhsuk-pagination--numbered"`, `aria-label="Pages of results"`, `href="/admin/users?page=2"`, `aria-current="page">1<`)
	orgsWant(t, "page 2", b.get("/admin/users?page=2"), 200, `class="nhsuk-pagination__previous"`, `aria-current="page">2<`)
}
