package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/db/dbtest"
)

// orgsAdminAs creates an active user of RM1 with the role and current IG
// training, and returns a browser signed in as them.
func orgsAdminAs(t *testing.T, site *apptest.Site, role account.Role) *browser {
	t.Helper()
	ctx := context.Background()
	email := fmt.Sprintf("orgs.%s@example.invalid", strings.ReplaceAll(string(role), "-", ""))
	u, err := site.App.Accounts.Create(ctx, account.NewUser{Email: email, Name: "Orgs " + account.RoleLabel(role),
		JobRole: "Tester", OrgCode: "RM1", Role: role, Password: passphrase})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := site.App.DB.WritePool().ExecContext(ctx, `UPDATE users SET ig_training_at = $1 WHERE id = $2`, site.App.DB.Now(), u.ID); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, site)
	if r := signIn(t, b, email, passphrase); r.status != http.StatusSeeOther {
		t.Fatalf("sign in as %s: %d", role, r.status)
	}
	return b
}

func orgsWant(t *testing.T, what string, r response, status int, texts ...string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d", what, r.status, status)
	}
	for _, s := range texts {
		if !strings.Contains(r.body, s) {
			t.Errorf("%s: the page lacks %q", what, s)
		}
	}
}

func TestNationalAdminsBrowseOrganisations(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			site := apptest.Start(t, e, nil)
			ctx := context.Background()
			// 30 more practices under the board, so the list has pages, and
			// one inactive trust.
			var csv strings.Builder
			csv.WriteString("ods_code,name,type,parent\n")
			for i := range 30 {
				fmt.Fprintf(&csv, "Y%05d,PAGED PRACTICE %02d,gp-practice,QMM\n", i, i)
			}
			csv.WriteString("RGN,CLOSED HOSPITAL TRUST,trust,\n")
			if _, err := site.App.Orgs.Import(ctx, strings.NewReader(csv.String())); err != nil {
				t.Fatal(err)
			}
			if _, err := site.App.DB.WritePool().ExecContext(ctx, `UPDATE organisations SET active = FALSE WHERE ods_code = 'RGN'`); err != nil {
				t.Fatal(err)
			}
			b := orgsAdminAs(t, site, account.RoleNationalAdmin)
			orgsAdminAs(t, site, account.RoleReviewer) // a second user of RM1

			orgsWant(t, "list", b.get("/admin/organisations"), http.StatusOK,
				"34 organisations found", "Showing 1 to 25 of 34", `href="/admin/organisations?page=2"`, "CLOSED HOSPITAL TRUST", "Inactive")
			orgsWant(t, "page 2", b.get("/admin/organisations?page=2"), http.StatusOK, "Showing 26 to 34 of 34", "UNIVERSITY MEDICAL PARTNERSHIP")

			r := b.get("/admin/organisations?q=rm1")
			orgsWant(t, "search by code", r, http.StatusOK, "1 organisation found", `href="/admin/organisations/RM1"`,
				"NORFOLK AND NORWICH", `href="/admin/organisations/QMM"`, "Trust", "Active")
			if !strings.Contains(r.body, `<span class="nhsuk-table__heading" aria-hidden="true">Users </span>2</td>`) {
				t.Error("RM1 is not listed with its 2 users")
			}
			orgsWant(t, "search by name", b.get("/admin/organisations?q=paged+practice+0"), http.StatusOK, "10 organisations found")
			orgsWant(t, "filter by type", b.get("/admin/organisations?type=trust"), http.StatusOK, "2 organisations found")
			orgsWant(t, "filter inactive", b.get("/admin/organisations?active=no"), http.StatusOK, "1 organisation found", "RGN")
			orgsWant(t, "filters are kept in the page links", b.get("/admin/organisations?type=gp-practice&active=yes&page=2"),
				http.StatusOK, `<option value="gp-practice" selected>`, `href="/admin/organisations?active=yes&amp;type=gp-practice"`)
			orgsWant(t, "nothing found", b.get("/admin/organisations?q=zzzz"), http.StatusOK, "No organisation matches")
			orgsWant(t, "nonsense filters are ignored", b.get("/admin/organisations?type=castle&active=maybe&page=-3"), http.StatusOK, "34 organisations found")

			r = b.get("/admin/organisations/QMM")
			orgsWant(t, "board", r, http.StatusOK, "NHS NORFOLK AND WAVENY INTEGRATED CARE BOARD", "Integrated care board",
				`href="/admin/users?org=QMM"`, `href="/admin/organisations/RM1"`, `href="/admin/organisations/Y00029"`, "None")
			orgsWant(t, "trust", b.get("/admin/organisations/RM1"), http.StatusOK,
				"NORFOLK AND NORWICH", `href="/admin/organisations/QMM"`, "No organisation is recorded as part of",
				`<th scope="row" class="nhsuk-table__header">National admin</th><td class="nhsuk-table__cell nhsuk-table__cell--numeric">1</td>`,
				`<th scope="row" class="nhsuk-table__header">Active</th><td class="nhsuk-table__cell nhsuk-table__cell--numeric">2</td>`)
			if r := b.get("/admin/organisations/rm1"); r.status != http.StatusMovedPermanently || r.location != "/admin/organisations/RM1" {
				t.Errorf("lower case code: %d %s", r.status, r.location)
			}
			orgsWant(t, "unknown code", b.get("/admin/organisations/X99"), http.StatusNotFound)
			orgsWant(t, "not a code", b.get("/admin/organisations/not-a-code"), http.StatusNotFound)
		})
	}
}

func TestOnlyNationalAdminsSeeOrganisationPages(t *testing.T) {
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	for _, role := range []account.Role{account.RoleReporter, account.RoleOrgAdmin, account.RoleReviewer, account.RoleReadOnly} {
		b := orgsAdminAs(t, site, role)
		for _, path := range []string{"/admin/organisations", "/admin/organisations/RM1", "/admin/organisations/QMM", "/admin/organisations/X99"} {
			r := b.get(path)
			if r.status != http.StatusForbidden || strings.Contains(r.body, "WAVENY") {
				t.Errorf("%s: %s got %d", role, path, r.status)
			}
		}
	}
	if r := newBrowser(t, site).get("/admin/organisations/RM1"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/sign-in?") {
		t.Errorf("signed out: %d %s", r.status, r.location)
	}
}
