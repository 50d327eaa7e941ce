package account_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/authz"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/org"
)

// requestsFixture adds a second organisation to the account fixture and
// helpers for people in each.
type requestsFixture struct {
	*fixture
}

func newRequestsFixture(t *testing.T, d *db.DB) requestsFixture {
	t.Helper()
	f := newFixture(t, d)
	if _, err := org.NewStore(d).Import(context.Background(), strings.NewReader("ods_code,name,type,parent\nD82044,UNIVERSITY MEDICAL PARTNERSHIP,gp-practice,\n")); err != nil {
		t.Fatal(err)
	}
	return requestsFixture{f}
}

// pending registers someone at the organisation with an address that is not
// approved automatically, and confirms it, so they wait for approval.
func (f requestsFixture) pending(t *testing.T, email, orgCode string) account.User {
	t.Helper()
	ctx := context.Background()
	if err := f.svc.Register(ctx, account.Registration{Name: "Sam Jones", JobRole: "Healthcare assistant", OrgCode: orgCode,
		Email: email, Password: goodPassword, ConfirmPassword: goodPassword}, "192.0.2.20"); err != nil {
		t.Fatalf("register: %v", err)
	}
	u, err := f.svc.VerifyEmail(ctx, f.token(t, email, "Confirm"), "")
	if err != nil {
		t.Fatal(err)
	}
	if u.Status != account.StatusPending {
		t.Fatalf("status after verifying %s = %s, want pending", email, u.Status)
	}
	return u
}

// user creates an active account with the role.
func (f requestsFixture) user(t *testing.T, email, orgCode string, role account.Role) account.User {
	t.Helper()
	u, err := f.svc.Create(context.Background(), account.NewUser{Email: email, Name: "Person " + strings.Split(email, "@")[0],
		OrgCode: orgCode, Role: role, Password: goodPassword})
	if err != nil {
		t.Fatalf("create %s: %v", email, err)
	}
	return u
}

// signIn starts a session for the user and returns its token.
func (f requestsFixture) signIn(t *testing.T, email string) string {
	t.Helper()
	res, err := f.svc.SignIn(context.Background(), email, goodPassword, account.Client{IP: "192.0.2.30"})
	if err != nil || res.Outcome != account.OutcomeSuccess {
		t.Fatalf("sign in %s: %v %s", email, err, res.Outcome)
	}
	return res.Session.Token
}

func (f requestsFixture) reload(t *testing.T, id int64) account.User {
	t.Helper()
	u, err := f.svc.UserByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// auditCount counts audit rows with the action about the subject.
func (f requestsFixture) auditCount(t *testing.T, action, subjectID string) int {
	t.Helper()
	var n int
	if err := f.d.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE action = $1 AND subject_id = $2`,
		action, subjectID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// auditDetails returns the details of the newest audit row with the action.
func (f requestsFixture) auditDetails(t *testing.T, action string) string {
	t.Helper()
	var details string
	if err := f.d.QueryRowContext(context.Background(), `SELECT details FROM audit_log WHERE action = $1 ORDER BY id DESC LIMIT 1`,
		action).Scan(&details); err != nil {
		t.Fatalf("audit %s: %v", action, err)
	}
	return details
}

// mailText returns the text of the newest email to the address whose
// subject contains subject, failing when there is none.
func (f requestsFixture) mailText(t *testing.T, to, subject string) string {
	t.Helper()
	entries, err := f.outbox.List(context.Background(), to, 20)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range entries {
		if strings.Contains(m.Subject, subject) {
			return m.Text
		}
	}
	t.Fatalf("no email to %s about %q", to, subject)
	return ""
}

func (f requestsFixture) pendingRequest(t *testing.T, u account.User, kind account.RequestKind) account.Request {
	t.Helper()
	req, err := f.svc.PendingRequestFor(context.Background(), u.ID, kind)
	if err != nil || req == nil {
		t.Fatalf("pending %s request of %s: %v %v", kind, u.Email, req, err)
	}
	return *req
}

func TestApprovingARegistrationLetsThePersonSignInAndEmailsThem(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newRequestsFixture(t, d)
		ctx := context.Background()
		admin := f.user(t, "admin@rm1.example", "RM1", account.RoleOrgAdmin)
		sam := f.pending(t, "sam.jones@example.org", "RM1")

		if err := f.svc.DecideRegistration(ctx, admin.ID, sam, true, "", "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		got := f.reload(t, sam.ID)
		if got.Status != account.StatusActive || got.ApprovedAt == nil {
			t.Fatalf("after approval status %s, approved at %v", got.Status, got.ApprovedAt)
		}
		if text := f.mailText(t, sam.Email, "approved"); !strings.Contains(text, "/sign-in") {
			t.Errorf("approval email lacks the sign-in link:\n%s", text)
		}
		if n := f.auditCount(t, "account.approve", strconv.FormatInt(sam.ID, 10)); n != 1 {
			t.Errorf("%d account.approve audit rows, want 1", n)
		}
		f.signIn(t, sam.Email)

		// A second decision is refused: it is no longer pending.
		if err := f.svc.DecideRegistration(ctx, admin.ID, sam, false, "Too late", ""); apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("deciding twice: %v, want Conflict", err)
		}
	})
}

func TestRejectingARegistrationNeedsAReasonAndEmailsIt(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newRequestsFixture(t, d)
		ctx := context.Background()
		admin := f.user(t, "admin@rm1.example", "RM1", account.RoleOrgAdmin)
		sam := f.pending(t, "sam.jones@example.org", "RM1")

		err := f.svc.DecideRegistration(ctx, admin.ID, sam, false, "   ", "")
		if fields, ok := err.(apperr.Fields); !ok || len(fields) != 1 || fields[0].Field != "reason" {
			t.Fatalf("reject without a reason: %v, want a reason field error", err)
		}
		if got := f.reload(t, sam.ID); got.Status != account.StatusPending {
			t.Fatalf("a refused decision changed the status to %s", got.Status)
		}

		reason := "We could not find you in our staff directory."
		if err := f.svc.DecideRegistration(ctx, admin.ID, sam, false, reason, "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		got := f.reload(t, sam.ID)
		if got.Status != account.StatusRejected || got.StatusReason != reason || got.StatusChangedAt == nil {
			t.Fatalf("after rejection: status %s, reason %q, changed %v", got.Status, got.StatusReason, got.StatusChangedAt)
		}
		text := f.mailText(t, sam.Email, "not approved")
		for _, want := range []string{reason, "NORFOLK AND NORWICH", "contact"} {
			if !strings.Contains(text, want) {
				t.Errorf("rejection email lacks %q:\n%s", want, text)
			}
		}
		if n := f.auditCount(t, "account.reject", strconv.FormatInt(sam.ID, 10)); n != 1 {
			t.Errorf("%d account.reject audit rows, want 1", n)
		}
		res, err := f.svc.SignIn(ctx, sam.Email, goodPassword, account.Client{})
		if err == nil && res.Outcome == account.OutcomeSuccess {
			t.Fatal("a rejected registration could sign in")
		}
	})
}

func TestAnApprovedRoleRequestChangesTheRoleAndEndsEverySession(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newRequestsFixture(t, d)
		ctx := context.Background()
		admin := f.user(t, "admin@rm1.example", "RM1", account.RoleOrgAdmin)
		nurse := f.user(t, "nurse@rm1.example", "RM1", account.RoleReporter)
		token := f.signIn(t, nurse.Email)

		if err := f.svc.RequestRole(ctx, nurse, account.RoleReviewer, "I lead the ward's patient safety huddles.", "192.0.2.2"); err != nil {
			t.Fatal(err)
		}
		req := f.pendingRequest(t, nurse, account.KindRole)
		if req.RequestedRole != account.RoleReviewer || req.OrgCode != "RM1" || req.UserEmail != nurse.Email || req.UserRole != account.RoleReporter {
			t.Fatalf("request = %+v", req)
		}
		if n := f.auditCount(t, "request.role", strconv.FormatInt(req.ID, 10)); n != 1 {
			t.Errorf("%d request.role audit rows, want 1", n)
		}

		if err := f.svc.DecideRequest(ctx, admin.ID, req, true, "", "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		if got := f.reload(t, nurse.ID); got.Role != account.RoleReviewer {
			t.Fatalf("role after approval = %s, want reviewer", got.Role)
		}
		if _, _, err := f.svc.Authenticate(ctx, token); apperr.CodeOf(err) != apperr.Unauthorized {
			t.Fatalf("the session from before the role change still works: %v", err)
		}
		text := f.mailText(t, nurse.Email, "account type has changed")
		if !strings.Contains(text, "reviewer") || !strings.Contains(text, "information governance") {
			t.Errorf("approval email:\n%s", text)
		}
		if details := f.auditDetails(t, "request.approve"); !strings.Contains(details, `"role":"reviewer"`) || !strings.Contains(details, `"from_role":"reporter"`) {
			t.Errorf("request.approve details = %s", details)
		}
		if p, err := f.svc.PendingRequestFor(ctx, nurse.ID, account.KindRole); err != nil || p != nil {
			t.Fatalf("still pending after the decision: %v %v", p, err)
		}
	})
}

func TestARejectedRoleRequestKeepsTheRoleAndEmailsTheReason(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newRequestsFixture(t, d)
		ctx := context.Background()
		admin := f.user(t, "admin@rm1.example", "RM1", account.RoleOrgAdmin)
		nurse := f.user(t, "nurse@rm1.example", "RM1", account.RoleReporter)
		token := f.signIn(t, nurse.Email)
		if err := f.svc.RequestRole(ctx, nurse, account.RoleOrgAdmin, "Our current admin is leaving next month.", ""); err != nil {
			t.Fatal(err)
		}
		req := f.pendingRequest(t, nurse, account.KindRole)

		if err := f.svc.DecideRequest(ctx, admin.ID, req, false, "", ""); apperr.CodeOf(err) != apperr.Invalid {
			t.Fatalf("reject without a reason: %v, want Invalid", err)
		}
		reason := "We already have two admins for the ward."
		if err := f.svc.DecideRequest(ctx, admin.ID, req, false, reason, ""); err != nil {
			t.Fatal(err)
		}
		if got := f.reload(t, nurse.ID); got.Role != account.RoleReporter {
			t.Fatalf("role after rejection = %s", got.Role)
		}
		if _, _, err := f.svc.Authenticate(ctx, token); err != nil {
			t.Fatalf("a rejection ended the session: %v", err)
		}
		got, err := f.svc.RequestByID(ctx, req.ID)
		if err != nil || got.Status != account.ReqRejected || got.Reason != reason || got.DecidedBy != admin.ID || got.DecidedAt == nil {
			t.Fatalf("request after rejection = %+v, %v", got, err)
		}
		if text := f.mailText(t, nurse.Email, "not approved"); !strings.Contains(text, reason) || !strings.Contains(text, "organisation admin") {
			t.Errorf("rejection email:\n%s", text)
		}
		if n := f.auditCount(t, "request.reject", strconv.FormatInt(req.ID, 10)); n != 1 {
			t.Errorf("%d request.reject audit rows, want 1", n)
		}
		if err := f.svc.DecideRequest(ctx, admin.ID, req, true, "", ""); apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("deciding a decided request: %v, want Conflict", err)
		}
	})
}

func TestRoleRequestsAreCheckedAndOnlyOneWaitsAtATime(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newRequestsFixture(t, d)
		ctx := context.Background()
		nurse := f.user(t, "nurse@rm1.example", "RM1", account.RoleReporter)
		reviewer := f.user(t, "reviewer@rm1.example", "RM1", account.RoleReviewer)
		good := "I review incidents for the surgical division."

		for _, c := range []struct {
			u             account.User
			role          account.Role
			justification string
			field         string
		}{
			{nurse, account.RoleNationalAdmin, good, "role"},
			{nurse, account.RoleReadOnly, good, "role"},
			{nurse, "", good, "role"},
			{reviewer, account.RoleReviewer, good, "role"},
			{nurse, account.RoleReviewer, "", "justification"},
			{nurse, account.RoleReviewer, "Need it", "justification"},
			{nurse, account.RoleReviewer, strings.Repeat("x", 1001), "justification"},
		} {
			err := f.svc.RequestRole(ctx, c.u, c.role, c.justification, "")
			fields, ok := err.(apperr.Fields)
			if !ok || len(fields) != 1 || fields[0].Field != c.field {
				t.Errorf("request %q by a %s with %d characters: %v, want a %s field error", c.role, c.u.Role, len(c.justification), err, c.field)
			}
		}

		if err := f.svc.RequestRole(ctx, nurse, account.RoleReviewer, good, ""); err != nil {
			t.Fatal(err)
		}
		err := f.svc.RequestRole(ctx, nurse, account.RoleOrgAdmin, good, "")
		if apperr.CodeOf(err) != apperr.Conflict || !strings.Contains(apperr.MessageOf(err), "Withdraw it first") {
			t.Fatalf("a second pending request: %v, want Conflict with a clear message", err)
		}
	})
}

func TestAUserCanWithdrawTheirPendingRequestAndAskAgain(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newRequestsFixture(t, d)
		ctx := context.Background()
		nurse := f.user(t, "nurse@rm1.example", "RM1", account.RoleReporter)
		other := f.user(t, "other@rm1.example", "RM1", account.RoleReporter)
		if err := f.svc.RequestRole(ctx, nurse, account.RoleReviewer, "I review incidents for my ward.", ""); err != nil {
			t.Fatal(err)
		}
		req := f.pendingRequest(t, nurse, account.KindRole)

		if err := f.svc.WithdrawRequest(ctx, other, req.ID, ""); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("withdrawing someone else's request: %v, want NotFound", err)
		}
		if err := f.svc.WithdrawRequest(ctx, nurse, req.ID, "192.0.2.2"); err != nil {
			t.Fatal(err)
		}
		got, err := f.svc.RequestByID(ctx, req.ID)
		if err != nil || got.Status != account.ReqWithdrawn {
			t.Fatalf("after withdrawing: %+v %v", got, err)
		}
		if n := f.auditCount(t, "request.withdraw", strconv.FormatInt(req.ID, 10)); n != 1 {
			t.Errorf("%d request.withdraw audit rows, want 1", n)
		}
		q, err := f.svc.PendingApprovals(ctx, "RM1")
		if err != nil || len(q.Requests) != 0 {
			t.Fatalf("queue after withdrawal: %+v %v", q.Requests, err)
		}
		if err := f.svc.WithdrawRequest(ctx, nurse, req.ID, ""); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("withdrawing twice: %v, want NotFound", err)
		}
		if err := f.svc.RequestRole(ctx, nurse, account.RoleOrgAdmin, "I now manage the ward's PSIMS users.", ""); err != nil {
			t.Fatalf("asking again after withdrawing: %v", err)
		}
	})
}

// startMove sets up a pending move as the profile's request side leaves it.
func (f requestsFixture) startMove(t *testing.T, u account.User, to string) {
	t.Helper()
	ctx := context.Background()
	now := f.d.Now()
	if _, err := f.d.WritePool().ExecContext(ctx, `INSERT INTO access_requests (user_id, kind, org_ods, requested_role, justification, status, created_at)
		VALUES ($1, 'org_move', $2, '', 'I have started a new job at the practice.', 'pending', $3)`, u.ID, to, now); err != nil {
		t.Fatal(err)
	}
	if _, err := f.d.WritePool().ExecContext(ctx, `UPDATE users SET pending_org_ods = $1 WHERE id = $2`, to, u.ID); err != nil {
		t.Fatal(err)
	}
}

func TestAnApprovedMoveChangesOrganisationResetsTheRoleAndEndsSessions(t *testing.T) { // P14
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newRequestsFixture(t, d)
		ctx := context.Background()
		gpAdmin := f.user(t, "admin@gp.example", "D82044", account.RoleOrgAdmin)
		mover := f.user(t, "mover@rm1.example", "RM1", account.RoleReviewer)
		token := f.signIn(t, mover.Email)
		if _, err := f.d.WritePool().ExecContext(ctx, `INSERT INTO read_grants (user_id, org_ods, granted_at) VALUES ($1, 'RM1', $2)`, mover.ID, f.d.Now()); err != nil {
			t.Fatal(err)
		}
		f.startMove(t, mover, "D82044")

		// The new organisation decides, not the old one.
		if q, err := f.svc.PendingApprovals(ctx, "RM1"); err != nil || len(q.Requests) != 0 {
			t.Fatalf("RM1's queue has the move into D82044: %+v %v", q.Requests, err)
		}
		q, err := f.svc.PendingApprovals(ctx, "D82044")
		if err != nil || len(q.Requests) != 1 {
			t.Fatalf("D82044's queue: %+v %v", q.Requests, err)
		}
		req := q.Requests[0]
		if req.Kind != account.KindOrgMove || req.UserOrgCode != "RM1" || req.UserRole != account.RoleReviewer || req.Justification == "" {
			t.Fatalf("move request = %+v", req)
		}

		if err := f.svc.DecideRequest(ctx, gpAdmin.ID, req, true, "", "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		got := f.reload(t, mover.ID)
		if got.OrgCode != "D82044" || got.PendingOrgCode != "" || got.Role != account.RoleReporter {
			t.Fatalf("after the move: org %s, pending %q, role %s", got.OrgCode, got.PendingOrgCode, got.Role)
		}
		if grants, err := f.svc.ReadGrants(ctx, mover.ID); err != nil || len(grants) != 0 {
			t.Fatalf("read grants after the move: %v %v", grants, err)
		}
		if _, _, err := f.svc.Authenticate(ctx, token); apperr.CodeOf(err) != apperr.Unauthorized {
			t.Fatalf("the session from before the move still works: %v", err)
		}
		if text := f.mailText(t, mover.Email, "move to UNIVERSITY MEDICAL PARTNERSHIP"); !strings.Contains(text, "reporter") {
			t.Errorf("move email:\n%s", text)
		}
		if details := f.auditDetails(t, "request.approve"); !strings.Contains(details, `"from_org":"RM1"`) || !strings.Contains(details, `"org":"D82044"`) {
			t.Errorf("request.approve details = %s", details)
		}
	})
}

func TestARejectedMoveLeavesThePersonWhereTheyWere(t *testing.T) { // P14
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newRequestsFixture(t, d)
		ctx := context.Background()
		gpAdmin := f.user(t, "admin@gp.example", "D82044", account.RoleOrgAdmin)
		mover := f.user(t, "mover@rm1.example", "RM1", account.RoleReviewer)
		f.startMove(t, mover, "D82044")
		req := f.pendingRequest(t, mover, account.KindOrgMove)

		if err := f.svc.DecideRequest(ctx, gpAdmin.ID, req, false, "You are not on our staff list.", ""); err != nil {
			t.Fatal(err)
		}
		got := f.reload(t, mover.ID)
		if got.OrgCode != "RM1" || got.PendingOrgCode != "" || got.Role != account.RoleReviewer {
			t.Fatalf("after a rejected move: org %s, pending %q, role %s", got.OrgCode, got.PendingOrgCode, got.Role)
		}
		if text := f.mailText(t, mover.Email, "not approved"); !strings.Contains(text, "You are not on our staff list.") {
			t.Errorf("rejection email:\n%s", text)
		}
	})
}

func TestTheQueueOfAnOrganisationHoldsOnlyItsOwnPeopleOldestFirst(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newRequestsFixture(t, d)
		ctx := context.Background()
		first := f.pending(t, "first@example.org", "RM1")
		f.clock.Advance(time.Minute)
		second := f.pending(t, "second@example.org", "RM1")
		gp := f.pending(t, "gp@example.org", "D82044")
		f.user(t, "active@example.org", "RM1", account.RoleReporter)
		gpNurse := f.user(t, "nurse@gp.example", "D82044", account.RoleReporter)
		if err := f.svc.RequestRole(ctx, gpNurse, account.RoleReviewer, "I review the practice's significant events.", ""); err != nil {
			t.Fatal(err)
		}

		q, err := f.svc.PendingApprovals(ctx, "RM1")
		if err != nil {
			t.Fatal(err)
		}
		if len(q.Registrations) != 2 || q.Registrations[0].ID != first.ID || q.Registrations[1].ID != second.ID || len(q.Requests) != 0 {
			t.Fatalf("RM1's queue = %+v, want %s then %s and no requests", q, first.Email, second.Email)
		}
		if q.Registrations[0].OrgName == "" {
			t.Error("queue entries lack the organisation's name")
		}
		all, err := f.svc.PendingApprovals(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(all.Registrations) != 3 || all.Registrations[2].ID != gp.ID || len(all.Requests) != 1 {
			t.Fatalf("every organisation's queue = %+v", all)
		}
	})
}

func TestTheQueueOnlyOffersOrgAdminsTheRolesTheyMayGrant(t *testing.T) { // T14
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newRequestsFixture(t, d)
		ctx := context.Background()
		admin := f.user(t, "admin@rm1.example", "RM1", account.RoleOrgAdmin)
		if _, err := f.d.WritePool().ExecContext(ctx, `UPDATE users SET ig_training_at = $1 WHERE id = $2`, f.d.Now(), admin.ID); err != nil {
			t.Fatal(err)
		}
		sub, err := f.svc.Subject(ctx, f.reload(t, admin.ID))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			role authz.Object
			want bool
		}{
			{authz.Object{Org: "RM1", UserID: 99, Role: authz.Reporter, NewRole: authz.Reviewer}, true},
			{authz.Object{Org: "RM1", UserID: 99, Role: authz.Reporter, NewRole: authz.OrgAdmin}, true},
			{authz.Object{Org: "RM1", UserID: 99, Role: authz.Reviewer, NewRole: authz.Reporter}, true},
			{authz.Object{Org: "RM1", UserID: 99, Role: authz.Reporter, NewRole: authz.NationalAdmin}, false},
			{authz.Object{Org: "RM1", UserID: 99, Role: authz.Reporter, NewRole: authz.ReadOnly}, false},
			{authz.Object{Org: "RM1", UserID: 99, Role: authz.NationalAdmin, NewRole: authz.Reviewer}, false},
			{authz.Object{Org: "RM1", UserID: 99, Role: authz.ReadOnly, NewRole: authz.Reviewer}, false},
			{authz.Object{Org: "D82044", UserID: 99, Role: authz.Reporter, NewRole: authz.Reviewer}, false},
		} {
			if got := authz.Decide(sub, authz.DecideRequest, c.role).Allowed; got != c.want {
				t.Errorf("RM1 org admin deciding a %s's request for %s in %s: allowed %v, want %v", c.role.Role, c.role.NewRole, c.role.Org, got, c.want)
			}
		}
	})
}
