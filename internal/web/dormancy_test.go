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
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/lifecycle"
)

// idleSince makes u look unused since then, as if a year had passed, and
// runs the dormancy sweep: the web site's clock is the real one.
func (s *adminUsersSite) idleSince(u account.User, then time.Time) {
	s.t.Helper()
	ctx := context.Background()
	if _, err := s.site.App.DB.WritePool().ExecContext(ctx, `UPDATE users SET last_active_at = $1, created_at = $1 WHERE id = $2`, then, u.ID); err != nil {
		s.t.Fatal(err)
	}
	if err := lifecycle.RunDormancy(ctx, s.site.App.Dormancy, s.site.App.DB, func(lifecycle.Action) {}); err != nil {
		s.t.Fatal(err)
	}
}

// P13: the link in a dormancy warning shows a confirmation page that
// changes nothing; its button, posted without signing in, keeps the
// account; the link then works no more.
func TestTheWarningsLinkConfirmsWithAButtonWithoutSigningIn(t *testing.T) {
	t.Parallel()
	s := newAdminUsersSite(t, dbtest.SQLite(t))
	s.idleSince(s.rita, time.Now().UTC().AddDate(-1, 0, -1))
	if u := s.get(s.rita.ID); u.DormancyWarnedAt == nil {
		t.Fatal("rita was not warned")
	}
	link, err := url.Parse(s.site.LatestLink(t, "rita@nhs.net", "will be deactivated"))
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, s.site)
	r := b.get(link.RequestURI())
	wantStatus(t, "confirmation page", r, http.StatusOK)
	if !strings.Contains(r.body, "Keep my account") {
		t.Fatalf("confirmation page:\n%s", r.body)
	}
	if u := s.get(s.rita.ID); u.DormancyWarnedAt == nil {
		t.Fatal("following the link cancelled the countdown")
	}
	r = b.submit(link.RequestURI(), account.ConfirmActivePath, url.Values{"token": {link.Query().Get("token")}})
	wantStatus(t, "confirm", r, http.StatusOK)
	if !strings.Contains(r.body, "Your account will be kept") {
		t.Fatalf("after confirming:\n%s", r.body)
	}
	if u := s.get(s.rita.ID); u.DormancyWarnedAt != nil || u.DormancyDeactivateAt != nil {
		t.Fatalf("still counting down: %+v", u)
	}
	r = b.submit(link.RequestURI(), account.ConfirmActivePath, url.Values{"token": {link.Query().Get("token")}})
	wantStatus(t, "the link again", r, http.StatusUnprocessableEntity)
	// Without the form token the post is refused, as every form is.
	wantStatus(t, "no form token", newBrowser(t, s.site).post(account.ConfirmActivePath, url.Values{"token": {"x"}}), http.StatusForbidden)
}

func (s *adminUsersSite) get(id int64) account.User {
	s.t.Helper()
	u, err := s.site.App.Accounts.UserByID(context.Background(), id)
	if err != nil {
		s.t.Fatal(err)
	}
	return u
}

// P12: a national admin exempts an account with a reason (the identifier
// guard applies and what was typed is kept), which cancels its warning,
// and removes the exemption; both are audited. An organisation admin is
// not offered it.
func TestANationalAdminExemptsAnAccountWithAReason(t *testing.T) {
	t.Parallel()
	s := newAdminUsersSite(t, dbtest.SQLite(t))
	s.idleSince(s.rita, time.Now().UTC().AddDate(-1, 0, -1))
	nina := s.as("nina@nhs.net")
	page := fmt.Sprintf("/admin/users/%d", s.rita.ID)
	action := page + "/dormancy-exemption"
	r := nina.get(page)
	if !strings.Contains(r.body, "will be deactivated on") || !strings.Contains(r.body, "Exempt this account") {
		t.Fatalf("user page:\n%s", r.body)
	}
	r = nina.submit(page, action, url.Values{"exemption_reason": {"  "}})
	wantStatus(t, "no reason", r, http.StatusUnprocessableEntity)
	if !strings.Contains(r.body, "nhsuk-error-summary") || !strings.Contains(r.body, `id="exemption_reason-error"`) {
		t.Fatalf("no error shown:\n%s", r.body)
	}
	typed := "Needed for the review of patient NHS number 943 476 5919"
	r = nina.submit(page, action, url.Values{"exemption_reason": {typed}})
	wantStatus(t, "an identifier", r, http.StatusUnprocessableEntity)
	if !strings.Contains(r.body, "NHS number") || !strings.Contains(r.body, "943 476 5919</textarea>") {
		t.Fatalf("the guard did not answer, or the text was lost:\n%s", r.body)
	}
	if u := s.get(s.rita.ID); u.ExemptionReason != "" {
		t.Fatal("exempt with an identifier in the reason")
	}
	r = nina.submit(page, action, url.Values{"exemption_reason": {"Caldicott guardian, signs in rarely"}})
	wantStatus(t, "exempt", r, http.StatusSeeOther)
	u := s.get(s.rita.ID)
	if u.ExemptionReason != "Caldicott guardian, signs in rarely" || u.DormancyWarnedAt != nil {
		t.Fatalf("after exempting: %+v", u)
	}
	olive := s.as("olive@nhs.net")
	if r := olive.get(page); strings.Contains(r.body, "dormancy-exemption") {
		t.Fatal("an organisation admin is offered the exemption")
	}
	wantStatus(t, "org admin removes", olive.submit(page, action+"/remove", url.Values{}), http.StatusForbidden)
	r = nina.submit(page, action+"/remove", url.Values{})
	wantStatus(t, "remove", r, http.StatusSeeOther)
	if u := s.get(s.rita.ID); u.ExemptionReason != "" {
		t.Fatal("still exempt")
	}
	var n int
	if err := s.site.App.DB.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE subject_id = $1
		AND action IN ('account.dormancy_exempted', 'account.dormancy_exemption_removed')`, fmt.Sprint(s.rita.ID)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("%d audit rows, want 2", n)
	}
}

// P12: an organisation admin sees who in their organisation is warned or
// will be within 30 days, with the dates, and nobody of another
// organisation.
func TestAnOrganisationAdminSeesWhoIsAboutToBeDeactivated(t *testing.T) {
	t.Parallel()
	s := newAdminUsersSite(t, dbtest.SQLite(t))
	s.idleSince(s.rita, time.Now().UTC().AddDate(-1, 0, -1))
	soon := s.person("Sam Soon", "sam@nhs.net", "RM1", account.RoleReporter)
	if _, err := s.site.App.DB.WritePool().ExecContext(context.Background(), `UPDATE users SET last_active_at = $1 WHERE id = $2`,
		time.Now().UTC().AddDate(0, -11, 10), soon.ID); err != nil {
		t.Fatal(err)
	}
	s.idleSince(s.quentin, time.Now().UTC().AddDate(-1, 0, -1))
	olive := s.as("olive@nhs.net")
	wantStatus(t, "another organisation's list", olive.get("/admin/users/dormant?org=QMM"), http.StatusNotFound)
	r := olive.get("/admin/users/dormant")
	wantStatus(t, "list", r, http.StatusOK)
	rita := s.get(s.rita.ID)
	for _, want := range []string{"Rita Reporter", "Sent " + rita.DormancyWarnedAt.Format("2 January 2006"), rita.DormancyDeactivateAt.Format("2 January 2006"), "Sam Soon", "Due "} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the list lacks %q", want)
		}
	}
	table := r.body[strings.Index(r.body, "<table"):strings.Index(r.body, "</table>")]
	if strings.Contains(r.body, "Quentin") || strings.Contains(table, "Olive") {
		t.Fatalf("the list shows someone it should not:\n%s", table)
	}
	if r := s.as("rita@nhs.net").get("/admin/users/dormant"); r.status != http.StatusForbidden && r.status != http.StatusNotFound {
		t.Fatalf("a reporter got the list: %d", r.status)
	}
}
