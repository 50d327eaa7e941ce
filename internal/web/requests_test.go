package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/app/apptest"
	"github.com/psims/psims/internal/db/dbtest"
)

// approvalsUser creates an active user directly, with IG training recorded
// at igAt (zero: not recorded), and returns them.
func approvalsUser(t *testing.T, site *apptest.Site, email, orgCode string, role account.Role, igAt time.Time) account.User {
	t.Helper()
	ctx := context.Background()
	u, err := site.App.Accounts.Create(ctx, account.NewUser{Email: email, Name: "Person " + strings.Split(email, "@")[0],
		JobRole: "Patient safety lead", OrgCode: orgCode, Role: role, Password: passphrase})
	if err != nil {
		t.Fatal(err)
	}
	if !igAt.IsZero() {
		if _, err := site.App.DB.WritePool().ExecContext(ctx, `UPDATE users SET ig_training_at = $1 WHERE id = $2`, igAt.UTC(), u.ID); err != nil {
			t.Fatal(err)
		}
	}
	return u
}

// signedInAs returns a browser signed in as the user.
func signedInAs(t *testing.T, site *apptest.Site, email string) *browser {
	t.Helper()
	b := newBrowser(t, site)
	if r := signIn(t, b, email, passphrase); r.status != http.StatusSeeOther {
		t.Fatalf("sign in as %s: %d", email, r.status)
	}
	return b
}

// registerPendingAt registers someone at the organisation with an address
// that waits for approval, confirms it, and returns their account.
func registerPendingAt(t *testing.T, site *apptest.Site, email, orgCode string) account.User {
	t.Helper()
	b := newBrowser(t, site)
	form := registration(email)
	form.Set("org_query", orgCode)
	if r := b.submit("/register", "/register", form); r.status != http.StatusSeeOther {
		t.Fatalf("register %s: %d", email, r.status)
	}
	link, err := url.Parse(site.LatestLink(t, email, "Confirm"))
	if err != nil {
		t.Fatal(err)
	}
	if r := b.submit(link.RequestURI(), "/verify-email", url.Values{"token": {link.Query().Get("token")}}); r.status != http.StatusSeeOther || r.location != "/pending-approval" {
		t.Fatalf("verify %s: %d %s", email, r.status, r.location)
	}
	u, err := site.App.Accounts.UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

var queueLink = regexp.MustCompile(`href="(/admin/approvals/(?:registrations|requests)/\d+)"`)

func TestAnOrgAdminApprovesARegistrationAndThePersonSignsIn(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			site := apptest.Start(t, e, nil)
			admin := approvalsUser(t, site, "admin@rm1.example", "RM1", account.RoleOrgAdmin, time.Now())
			sam := registerPendingAt(t, site, "sam.jones@example.org", "RM1")
			registerPendingAt(t, site, "gp.person@example.org", "D82044")
			b := signedInAs(t, site, admin.Email)

			q := b.get("/admin/approvals")
			if q.status != http.StatusOK || !strings.Contains(q.body, "sam.jones@example.org") {
				t.Fatalf("queue: %d, want Sam's registration listed", q.status)
			}
			if strings.Contains(q.body, "gp.person@example.org") {
				t.Fatal("RM1's admin sees a registration for D82044")
			}
			links := queueLink.FindAllStringSubmatch(q.body, -1)
			want := "/admin/approvals/registrations/" + strconv.FormatInt(sam.ID, 10)
			if len(links) != 1 || links[0][1] != want {
				t.Fatalf("queue links %v, want only %s", links, want)
			}

			page := b.get(want)
			if page.status != http.StatusOK || !strings.Contains(page.body, "sam.jones@example.org") || !strings.Contains(page.body, "NORFOLK AND NORWICH") {
				t.Fatalf("decision page: %d", page.status)
			}
			r := b.submit(want, want, url.Values{"decision": {"approve"}})
			if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/admin/approvals") {
				t.Fatalf("approve: %d %s", r.status, r.location)
			}
			if q := b.get(r.location); !strings.Contains(q.body, "Registration approved") || strings.Contains(q.body, "sam.jones@example.org") {
				t.Fatal("after approving, the queue lacks the notice or still lists Sam")
			}
			if link := site.LatestLink(t, sam.Email, "approved"); !strings.HasSuffix(link, "/sign-in") {
				t.Errorf("approval email links to %s", link)
			}
			if r := signIn(t, newBrowser(t, site), sam.Email, passphrase); r.status != http.StatusSeeOther || r.location != "/account" {
				t.Fatalf("Sam signs in after approval: %d %s", r.status, r.location)
			}
			// Deciding again finds nothing to decide.
			if r := b.submit("/admin/approvals", want, url.Values{"decision": {"reject"}, "reason": {"Changed my mind"}}); r.status != http.StatusConflict {
				t.Fatalf("deciding twice: %d, want 409", r.status)
			}
		})
	}
}

func TestRejectingARegistrationNeedsAReasonAndKeepsWhatWasTyped(t *testing.T) {
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	admin := approvalsUser(t, site, "admin@rm1.example", "RM1", account.RoleOrgAdmin, time.Now())
	sam := registerPendingAt(t, site, "sam.jones@example.org", "RM1")
	b := signedInAs(t, site, admin.Email)
	path := "/admin/approvals/registrations/" + strconv.FormatInt(sam.ID, 10)

	r := b.submit(path, path, url.Values{"decision": {"reject"}, "reason": {"  "}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `href="#reason"`) || !strings.Contains(r.body, `id="reason-error"`) {
		t.Fatalf("reject without a reason: %d, want 422 linking to the reason", r.status)
	}
	if !regexp.MustCompile(`id="decision-reject"[^>]*checked`).MatchString(r.body) {
		t.Error("the chosen decision was not kept")
	}

	typed := "Not on our staff list & unknown to the ward"
	r = b.submit(path, path, url.Values{"reason": {typed}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `href="#decision"`) {
		t.Fatalf("no decision: %d, want 422 linking to the decision", r.status)
	}
	if !strings.Contains(r.body, "Not on our staff list &amp; unknown to the ward</textarea>") {
		t.Error("the typed reason was not kept")
	}

	r = b.submit(path, path, url.Values{"decision": {"reject"}, "reason": {typed}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("reject: %d", r.status)
	}
	got, err := site.App.Accounts.UserByID(context.Background(), sam.ID)
	if err != nil || got.Status != account.StatusRejected || got.StatusReason != typed {
		t.Fatalf("after rejecting: %+v %v", got, err)
	}
	if r := signIn(t, newBrowser(t, site), sam.Email, passphrase); r.status == http.StatusSeeOther && r.location == "/account" {
		t.Fatal("a rejected registration signed in")
	}
}

func TestNobodyCanProbeRegistrationsOrRequestsOfAnotherOrganisation(t *testing.T) { // T14
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	admin := approvalsUser(t, site, "admin@rm1.example", "RM1", account.RoleOrgAdmin, time.Now())
	gp := registerPendingAt(t, site, "gp.person@example.org", "D82044")
	gpNurse := approvalsUser(t, site, "nurse@gp.example", "D82044", account.RoleReporter, time.Time{})
	if err := site.App.Accounts.RequestRole(context.Background(), gpNurse, account.RoleReviewer, "I review the practice's significant events.", ""); err != nil {
		t.Fatal(err)
	}
	req, err := site.App.Accounts.PendingRequestFor(context.Background(), gpNurse.ID, account.KindRole)
	if err != nil || req == nil {
		t.Fatal(err)
	}
	b := signedInAs(t, site, admin.Email)

	otherReg := "/admin/approvals/registrations/" + strconv.FormatInt(gp.ID, 10)
	otherReq := "/admin/approvals/requests/" + strconv.FormatInt(req.ID, 10)
	missing := b.get("/admin/approvals/registrations/999999")
	if missing.status != http.StatusNotFound {
		t.Fatalf("a registration that does not exist: %d, want 404", missing.status)
	}
	for _, path := range []string{otherReg, otherReq, "/admin/approvals/requests/999999", "/admin/approvals/requests/nonsense"} {
		r := b.get(path)
		// The pages' main content must match; around it, the cookie
		// banner carries the page's own path.
		if r.status != http.StatusNotFound || mainOf(r.body) != mainOf(missing.body) {
			t.Errorf("GET %s: %d, want the same 404 as for something that does not exist", path, r.status)
		}
		if strings.Contains(r.body, "gp.person") || strings.Contains(r.body, "UNIVERSITY MEDICAL") {
			t.Errorf("GET %s shows something of the other organisation", path)
		}
		if r := b.submit("/admin/approvals", path, url.Values{"decision": {"approve"}}); r.status != http.StatusNotFound {
			t.Errorf("POST %s: %d, want 404", path, r.status)
		}
	}
	if got, _ := site.App.Accounts.UserByID(context.Background(), gp.ID); got.Status != account.StatusPending {
		t.Fatalf("the other organisation's registration changed to %s", got.Status)
	}

	// A reporter may not see the queue at all; a visitor is asked to sign in.
	approvalsUser(t, site, "reporter@rm1.example", "RM1", account.RoleReporter, time.Time{})
	if r := signedInAs(t, site, "reporter@rm1.example").get("/admin/approvals"); r.status != http.StatusForbidden {
		t.Errorf("reporter opening the queue: %d, want 403", r.status)
	}
	if r := newBrowser(t, site).get(otherReg); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/sign-in") {
		t.Errorf("visitor opening a registration: %d %s, want the sign-in page", r.status, r.location)
	}
}

func TestNationalAdminsSeeTheQueueOfEveryOrganisation(t *testing.T) {
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	national := approvalsUser(t, site, "national@psims.example", "QMM", account.RoleNationalAdmin, time.Now())
	registerPendingAt(t, site, "sam.jones@example.org", "RM1")
	gp := registerPendingAt(t, site, "gp.person@example.org", "D82044")
	b := signedInAs(t, site, national.Email)
	q := b.get("/admin/approvals")
	if q.status != http.StatusOK || !strings.Contains(q.body, "sam.jones@example.org") || !strings.Contains(q.body, "gp.person@example.org") {
		t.Fatalf("national queue: %d, want both registrations", q.status)
	}
	path := "/admin/approvals/registrations/" + strconv.FormatInt(gp.ID, 10)
	if r := b.submit(path, path, url.Values{"decision": {"approve"}}); r.status != http.StatusSeeOther {
		t.Fatalf("national admin approving D82044's registration: %d", r.status)
	}
}

func TestAnAdminWhoseIGTrainingHasExpiredIsToldToUpdateIt(t *testing.T) { // T18
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	admin := approvalsUser(t, site, "admin@rm1.example", "RM1", account.RoleOrgAdmin, time.Now().AddDate(0, -13, 0))
	sam := registerPendingAt(t, site, "sam.jones@example.org", "RM1")
	b := signedInAs(t, site, admin.Email)
	for _, path := range []string{"/admin/approvals", "/admin/approvals/registrations/" + strconv.FormatInt(sam.ID, 10)} {
		r := b.get(path)
		if r.status != http.StatusForbidden || !strings.Contains(r.body, "information governance training") {
			t.Errorf("GET %s with IG training 13 months old: %d, want the IG training page", path, r.status)
		}
		if strings.Contains(r.body, "sam.jones@example.org") {
			t.Errorf("GET %s shows the registration although IG training is out of date", path)
		}
	}
}

func TestARoleRequestGoesToTheAdminAndApprovalEndsTheRequestersSession(t *testing.T) {
	t.Parallel()
	for _, e := range dbtest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			site := apptest.Start(t, e, nil)
			admin := approvalsUser(t, site, "admin@rm1.example", "RM1", account.RoleOrgAdmin, time.Now())
			nurse := approvalsUser(t, site, "nurse@rm1.example", "RM1", account.RoleReporter, time.Time{})
			nb := signedInAs(t, site, nurse.Email)

			if r := nb.get("/account/role-request"); r.status != http.StatusOK || !strings.Contains(r.body, `value="reviewer"`) || !strings.Contains(r.body, `value="org-admin"`) {
				t.Fatalf("role request page: %d", r.status)
			}
			r := nb.submit("/account/role-request", "/account/role-request", url.Values{"role": {"reviewer"}, "justification": {"short"}})
			if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `href="#justification"`) || !strings.Contains(r.body, ">short</textarea>") {
				t.Fatalf("too short a justification: %d, want 422 keeping the text", r.status)
			}
			if !regexp.MustCompile(`value="reviewer"[^>]*checked`).MatchString(r.body) {
				t.Error("the chosen role was not kept")
			}
			r = nb.submit("/account/role-request", "/account/role-request", url.Values{"justification": {"I lead the ward's safety huddles."}})
			if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `href="#role"`) || !strings.Contains(r.body, `id="role"`) {
				t.Fatalf("no role chosen: %d, want 422 linking to the first option", r.status)
			}
			r = nb.submit("/account/role-request", "/account/role-request", url.Values{"role": {"reviewer"}, "justification": {"I lead the ward's safety huddles."}})
			if r.status != http.StatusSeeOther {
				t.Fatalf("send the request: %d", r.status)
			}
			if r := nb.get(r.location); !strings.Contains(r.body, "waiting for a decision") || !strings.Contains(r.body, "Withdraw this request") {
				t.Fatal("the role request page does not show the pending request")
			}

			ab := signedInAs(t, site, admin.Email)
			q := ab.get("/admin/approvals")
			m := regexp.MustCompile(`href="(/admin/approvals/requests/\d+)"`).FindStringSubmatch(q.body)
			if m == nil || !strings.Contains(q.body, "To become a reviewer") {
				t.Fatalf("the queue lacks the role request")
			}
			if r := ab.get(m[1]); r.status != http.StatusOK || !strings.Contains(r.body, "I lead the ward&#39;s safety huddles.") {
				t.Fatalf("request decision page: %d, want the justification shown", r.status)
			}
			if r := ab.submit(m[1], m[1], url.Values{"decision": {"reject"}}); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `href="#reason"`) {
				t.Fatalf("reject without a reason: %d, want 422", r.status)
			}
			if r := ab.submit(m[1], m[1], url.Values{"decision": {"approve"}}); r.status != http.StatusSeeOther {
				t.Fatalf("approve: %d", r.status)
			}

			// The nurse's session ended with the change of role.
			if r := nb.get("/account"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/sign-in") {
				t.Fatalf("the requester's old session after approval: %d %s, want the sign-in page", r.status, r.location)
			}
			got, err := site.App.Accounts.UserByID(context.Background(), nurse.ID)
			if err != nil || got.Role != account.RoleReviewer {
				t.Fatalf("role after approval: %v %v", got.Role, err)
			}
		})
	}
}

func TestAUserCanWithdrawTheirRoleRequest(t *testing.T) {
	t.Parallel()
	site := apptest.Start(t, dbtest.SQLite(t), nil)
	nurse := approvalsUser(t, site, "nurse@rm1.example", "RM1", account.RoleReporter, time.Time{})
	nb := signedInAs(t, site, nurse.Email)
	if r := nb.submit("/account/role-request", "/account/role-request", url.Values{"role": {"org-admin"}, "justification": {"Our admin is leaving next month."}}); r.status != http.StatusSeeOther {
		t.Fatalf("send the request: %d", r.status)
	}
	page := nb.get("/account/role-request")
	m := regexp.MustCompile(`name="request_id" value="(\d+)"`).FindStringSubmatch(page.body)
	if m == nil {
		t.Fatal("no withdraw form")
	}
	r := nb.submit("/account/role-request", "/account/role-request/withdraw", url.Values{"request_id": {m[1]}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("withdraw: %d", r.status)
	}
	if page := nb.get(r.location); !strings.Contains(page.body, "Your request has been withdrawn") || !strings.Contains(page.body, "Send request") {
		t.Fatal("after withdrawing, the page does not offer a new request")
	}
	r = nb.submit("/account/role-request", "/account/role-request/withdraw", url.Values{"request_id": {m[1]}})
	if r.status != http.StatusSeeOther || r.location != "/account/role-request" {
		t.Fatalf("withdrawing twice: %d %s, want the page as it now is", r.status, r.location)
	}
}

// mainOf returns the page's <main> element.
func mainOf(body string) string {
	start := strings.Index(body, "<main")
	end := strings.Index(body, "</main>")
	if start < 0 || end < start {
		return ""
	}
	return body[start:end]
}
