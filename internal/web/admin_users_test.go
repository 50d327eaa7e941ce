package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/db/dbtest"
)

// adminUsersSite is a running site with people in two organisations.
type adminUsersSite struct {
	t       *testing.T
	site    *apptest.Site
	rita    account.User // reporter at RM1
	quentin account.User // reporter at QMM
}

func newAdminUsersSite(t *testing.T, e dbtest.Engine) *adminUsersSite {
	t.Helper()
	s := &adminUsersSite{t: t, site: apptest.Start(t, e, nil)}
	s.person("Olive Orgadmin", "olive@nhs.net", "RM1", account.RoleOrgAdmin)
	s.person("Nina National", "nina@nhs.net", "QMM", account.RoleNationalAdmin)
	s.rita = s.person("Rita Reporter", "rita@nhs.net", "RM1", account.RoleReporter)
	s.quentin = s.person("Quentin Reporter", "quentin@nhs.net", "QMM", account.RoleReporter)
	return s
}

// person creates an active user with the role and IG training done last
// month.
func (s *adminUsersSite) person(name, email, orgCode string, role account.Role) account.User {
	s.t.Helper()
	ctx := context.Background()
	u, err := s.site.App.Accounts.Create(ctx, account.NewUser{Email: email, Name: name, JobRole: "Nurse", OrgCode: orgCode, Role: role, Password: passphrase})
	if err != nil {
		s.t.Fatal(err)
	}
	_, err = s.site.App.DB.WritePool().ExecContext(ctx, `UPDATE users SET ig_training_at = $1 WHERE id = $2`, time.Now().UTC().AddDate(0, -1, 0), u.ID)
	if err != nil {
		s.t.Fatal(err)
	}
	return u
}

func (s *adminUsersSite) as(email string) *browser {
	s.t.Helper()
	b := newBrowser(s.t, s.site)
	if r := signIn(s.t, b, email, passphrase); r.status != http.StatusSeeOther {
		s.t.Fatalf("sign in %s: %d", email, r.status)
	}
	return b
}

func (s *adminUsersSite) exports(actorEmail string) string {
	s.t.Helper()
	var details []string
	rows, err := s.site.App.DB.QueryContext(context.Background(), `SELECT a.details FROM audit_log a JOIN users u ON u.id = a.actor_user_id
		WHERE a.action = 'users.export' AND u.email = $1`, actorEmail)
	if err != nil {
		s.t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			s.t.Fatal(err)
		}
		details = append(details, d)
	}
	return strings.Join(details, "\n")
}

func wantStatus(t *testing.T, what string, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d (location %q)", what, r.status, status, r.location)
	}
}

func TestAnOrganisationAdminSeesOnlyTheirOwnOrganisationsUsersWhateverTheAddressSays(t *testing.T) { // T3
	t.Parallel()
	s := newAdminUsersSite(t, dbtest.SQLite(t))
	olive := s.as("olive@nhs.net")

	for _, path := range []string{"/admin/users", "/admin/users?org=QMM", "/admin/users?org=", "/admin/users?org=not+a+code&q=r"} {
		r := olive.get(path)
		wantStatus(t, path, r, http.StatusOK)
		if !strings.Contains(r.body, "Rita Reporter") || strings.Contains(r.body, "Quentin") || strings.Contains(r.body, "Nina") {
			t.Fatalf("%s shows the wrong people:\n%s", path, r.body)
		}
		if strings.Contains(r.body, `id="org"`) {
			t.Fatalf("%s offers an organisation filter to an organisation admin", path)
		}
	}
	wantStatus(t, "another organisation's user", olive.get(fmt.Sprintf("/admin/users/%d", s.quentin.ID)), http.StatusNotFound)
	wantStatus(t, "a user who does not exist", olive.get("/admin/users/999999"), http.StatusNotFound)
	wantStatus(t, "a nonsense ID", olive.get("/admin/users/abc"), http.StatusNotFound)
	r := olive.get(fmt.Sprintf("/admin/users/%d", s.rita.ID))
	wantStatus(t, "own organisation's user", r, http.StatusOK)
	if !strings.Contains(r.body, "rita@nhs.net") || !strings.Contains(r.body, "Suspend") {
		t.Fatalf("user page: %s", r.body)
	}
	wantStatus(t, "suspending another organisation's user",
		olive.submit(fmt.Sprintf("/admin/users/%d", s.rita.ID), fmt.Sprintf("/admin/users/%d/status", s.quentin.ID),
			url.Values{"status": {"suspended"}, "reason": {"x"}}), http.StatusNotFound)

	r = olive.get("/admin/users/export?org=QMM")
	wantStatus(t, "export", r, http.StatusOK)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Fatalf("export type %q", ct)
	}
	if cd := r.header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, "rm1") {
		t.Fatalf("export disposition %q", cd)
	}
	if !strings.Contains(r.body, "rita@nhs.net") || strings.Contains(r.body, "quentin") || !strings.HasPrefix(r.body, "Name,Email") {
		t.Fatalf("export body:\n%s", r.body)
	}
	if got := s.exports("olive@nhs.net"); !strings.Contains(got, `"org":"RM1"`) {
		t.Fatalf("export audit: %q", got)
	}

	rita := s.as("rita@nhs.net")
	wantStatus(t, "a reporter listing users", rita.get("/admin/users"), http.StatusForbidden)
	wantStatus(t, "a reporter exporting users", rita.get("/admin/users/export"), http.StatusForbidden)
	if s.exports("rita@nhs.net") != "" {
		t.Fatal("a refused export was audited as done")
	}
}

func TestANationalAdminSeesEveryOrganisationOrTheOneTheyChoose(t *testing.T) {
	t.Parallel()
	s := newAdminUsersSite(t, dbtest.SQLite(t))
	nina := s.as("nina@nhs.net")
	r := nina.get("/admin/users")
	wantStatus(t, "all users", r, http.StatusOK)
	for _, name := range []string{"Rita Reporter", "Quentin Reporter", "Olive Orgadmin", "4 people found"} {
		if !strings.Contains(r.body, name) {
			t.Fatalf("all users lacks %q", name)
		}
	}
	r = nina.get("/admin/users?org=qmm&role=reporter")
	if !strings.Contains(r.body, "Quentin Reporter") || strings.Contains(r.body, "Rita") || !strings.Contains(r.body, "1 person found") {
		t.Fatalf("QMM reporters:\n%s", r.body)
	}
	r = nina.get("/admin/users?org=not+a+code")
	wantStatus(t, "a bad ODS code", r, http.StatusUnprocessableEntity)
	if !strings.Contains(r.body, `href="#org"`) || !strings.Contains(r.body, `value="not a code"`) {
		t.Fatalf("bad code page:\n%s", r.body)
	}
	wantStatus(t, "another organisation's user", nina.get(fmt.Sprintf("/admin/users/%d", s.rita.ID)), http.StatusOK)
	r = nina.get("/admin/users/export")
	if !strings.Contains(r.body, "rita@nhs.net") || !strings.Contains(r.body, "quentin@nhs.net") {
		t.Fatalf("national export:\n%s", r.body)
	}
}

func TestSuspendingEndsTheirSessionOnTheNextRequestAndReinstatingLetsThemBackIn(t *testing.T) { // T6
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			s := newAdminUsersSite(t, e)
			olive := s.as("olive@nhs.net")
			rita := s.as("rita@nhs.net")
			wantStatus(t, "rita's account page", rita.get("/account"), http.StatusOK)
			page := fmt.Sprintf("/admin/users/%d", s.rita.ID)

			r := olive.submit(page, page+"/status", url.Values{"status": {"suspended"}, "reason": {""}})
			wantStatus(t, "no reason", r, http.StatusUnprocessableEntity)
			if !strings.Contains(r.body, `href="#reason"`) || !strings.Contains(r.body, `value="suspended" aria-describedby="status-hint" checked`) {
				t.Fatalf("no reason page:\n%s", r.body)
			}
			r = olive.submit(page, page+"/status", url.Values{"reason": {"Typed & kept"}})
			wantStatus(t, "no choice", r, http.StatusUnprocessableEntity)
			if !strings.Contains(r.body, `href="#status"`) || !strings.Contains(r.body, "Typed &amp; kept</textarea>") {
				t.Fatalf("no choice page:\n%s", r.body)
			}

			r = olive.submit(page, page+"/status", url.Values{"status": {"suspended"}, "reason": {"Left the trust"}})
			wantStatus(t, "suspend", r, http.StatusSeeOther)
			if r = olive.get(r.location); !strings.Contains(r.body, "Account suspended") || !strings.Contains(r.body, "Left the trust") {
				t.Fatalf("after suspending:\n%s", r.body)
			}
			r = rita.get("/account")
			if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/sign-in") {
				t.Fatalf("suspended user's session still works: %d %s", r.status, r.location)
			}
			if r := signIn(t, newBrowser(t, s.site), "rita@nhs.net", passphrase); r.status == http.StatusSeeOther {
				t.Fatalf("suspended user signed in: %s", r.location)
			}

			r = olive.submit(page, page+"/status", url.Values{"status": {"active"}})
			wantStatus(t, "reinstate", r, http.StatusSeeOther)
			s.as("rita@nhs.net")
		})
	}
}

func TestAnOrganisationAdminGivesTheirOwnRolesButNotTheOperators(t *testing.T) {
	t.Parallel()
	s := newAdminUsersSite(t, dbtest.SQLite(t))
	olive := s.as("olive@nhs.net")
	rita := s.as("rita@nhs.net")
	page := fmt.Sprintf("/admin/users/%d", s.rita.ID)
	r := olive.get(page)
	if !strings.Contains(r.body, `value="reviewer"`) || strings.Contains(r.body, `value="national-admin"`) || strings.Contains(r.body, `value="read-only"`) {
		t.Fatalf("role choices:\n%s", r.body)
	}
	wantStatus(t, "no role chosen", olive.submit(page, page+"/role", url.Values{}), http.StatusUnprocessableEntity)
	wantStatus(t, "national admin role", olive.submit(page, page+"/role", url.Values{"role": {"national-admin"}}), http.StatusForbidden)
	wantStatus(t, "reviewer role", olive.submit(page, page+"/role", url.Values{"role": {"reviewer"}}), http.StatusSeeOther)
	if r := rita.get("/account"); r.status != http.StatusSeeOther {
		t.Fatalf("session survived a role change: %d", r.status)
	}
	wantStatus(t, "read grants for a reviewer", olive.submit(page, page+"/read-grants", url.Values{"orgs": {"QMM"}}), http.StatusForbidden)
}
