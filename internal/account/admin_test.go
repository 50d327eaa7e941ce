package account_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/mail"
	"github.com/psims/psims/internal/org"
	"github.com/psims/psims/internal/password"
)

// adminFixture is a fixture with a second organisation, QMM, and helpers to
// make people with a role.
type adminFixture struct {
	*fixture
	admin account.User
}

func newAdminFixture(t *testing.T, d *db.DB) *adminFixture {
	t.Helper()
	f := newFixture(t, d)
	if _, err := org.NewStore(d).Import(context.Background(), strings.NewReader("ods_code,name,type,parent\nQMM,NHS NORFOLK AND WAVENEY INTEGRATED CARE BOARD,icb,\n")); err != nil {
		t.Fatal(err)
	}
	af := &adminFixture{fixture: f}
	af.admin = af.user(t, "Ada Admin", "ada.admin@nhs.net", "RM1", account.RoleOrgAdmin)
	return af
}

// user creates an active user with a role.
func (f *adminFixture) user(t *testing.T, name, email, orgCode string, role account.Role) account.User {
	t.Helper()
	u, err := f.svc.Create(context.Background(), account.NewUser{Email: email, Name: name, JobRole: "Staff nurse",
		OrgCode: orgCode, Role: role, Password: goodPassword})
	if err != nil {
		t.Fatalf("create %s: %v", email, err)
	}
	return u
}

// exec runs SQL that sets up a case the service has no call for.
func (f *adminFixture) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	err := f.d.InTx(context.Background(), func(tx *db.Tx) error {
		_, err := tx.ExecContext(context.Background(), q, args...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// auditCount counts audit rows of an action about a subject whose details
// contain want.
func (f *adminFixture) auditCount(t *testing.T, action, subjectID, want string) int {
	t.Helper()
	rows, err := f.d.QueryContext(context.Background(), `SELECT details FROM audit_log WHERE action = $1 AND subject_id = $2`, action, subjectID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var details string
		if err := rows.Scan(&details); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(details, want) {
			n++
		}
	}
	return n
}

func (f *adminFixture) signIn(t *testing.T, email string) string {
	t.Helper()
	res, err := f.svc.SignIn(context.Background(), email, goodPassword, account.Client{IP: "192.0.2.20"})
	if err != nil || res.Outcome != account.OutcomeSuccess {
		t.Fatalf("sign in %s: %v %s", email, err, res.Outcome)
	}
	return res.Session.Token
}

func names(users []account.User) string {
	var out []string
	for _, u := range users {
		out = append(out, u.Name)
	}
	return strings.Join(out, ", ")
}

func TestUserListsFilterBySearchOrganisationRoleStatusAndIGTrainingDue(t *testing.T) { // T18
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newAdminFixture(t, d)
		ctx := context.Background()
		now := f.clock.Now()
		f.user(t, "Alex Morgan", "alex@nhs.net", "RM1", account.RoleReporter)
		sam := f.user(t, "Sam 100% Patel", "sam@nhs.net", "RM1", account.RoleReviewer)
		f.user(t, "Jo_Bloggs", "jo@nhs.net", "QMM", account.RoleOrgAdmin)
		kim := f.user(t, "Kim Lee", "kim@nhs.net", "QMM", account.RoleReviewer)
		sus := f.user(t, "Pat Suspended", "pat@nhs.net", "QMM", account.RoleReviewer)
		f.exec(t, `UPDATE users SET ig_training_at = $1 WHERE id = $2`, now.AddDate(0, -1, 0), sam.ID)
		f.exec(t, `UPDATE users SET ig_training_at = $1 WHERE id = $2`, now.AddDate(0, -13, 0), kim.ID)
		f.exec(t, `UPDATE users SET ig_training_at = $1 WHERE id = $2`, now.AddDate(0, -1, 0), f.admin.ID)
		f.exec(t, `UPDATE users SET status = 'suspended' WHERE id = $1`, sus.ID)

		cases := []struct {
			filter account.UserFilter
			want   string
		}{
			{account.UserFilter{}, "Ada Admin, Alex Morgan, Jo_Bloggs, Kim Lee, Pat Suspended, Sam 100% Patel"},
			{account.UserFilter{Query: "MORGAN"}, "Alex Morgan"},
			{account.UserFilter{Query: "kim@"}, "Kim Lee"},
			{account.UserFilter{Query: "%"}, "Sam 100% Patel"},
			{account.UserFilter{Query: "_"}, "Jo_Bloggs"},
			{account.UserFilter{Query: `\`}, ""},
			{account.UserFilter{Org: "rm1"}, "Ada Admin, Alex Morgan, Sam 100% Patel"},
			{account.UserFilter{Org: "QMM", Role: account.RoleReviewer}, "Kim Lee, Pat Suspended"},
			{account.UserFilter{Status: account.StatusSuspended}, "Pat Suspended"},
			{account.UserFilter{Status: account.StatusIGDue}, "Jo_Bloggs, Kim Lee"},
			{account.UserFilter{Status: account.StatusIGDue, Org: "RM1"}, ""},
		}
		for _, c := range cases {
			page, err := f.svc.ListUsers(ctx, c.filter)
			if err != nil {
				t.Fatalf("%+v: %v", c.filter, err)
			}
			if got := names(page.Users); got != c.want {
				t.Errorf("%+v: got %q, want %q", c.filter, got, c.want)
			}
			if page.Total != len(page.Users) {
				t.Errorf("%+v: total %d for %d users", c.filter, page.Total, len(page.Users))
			}
		}
		page, err := f.svc.ListUsers(ctx, account.UserFilter{Query: "kim"})
		if err != nil || page.Users[0].OrgName != "NHS NORFOLK AND WAVENEY INTEGRATED CARE BOARD" {
			t.Fatalf("organisation name not filled: %v %+v", err, page.Users)
		}
		for _, bad := range []account.UserFilter{{Role: "boss"}, {Status: "asleep"}, {Org: "not a code"}} {
			if _, err := f.svc.ListUsers(ctx, bad); !account.IsInvalid(err) {
				t.Errorf("%+v: want Invalid, got %v", bad, err)
			}
		}
	})
}

func TestUserListsArePagedInNameOrderWithTheTotalOfEveryPage(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newAdminFixture(t, d)
		for i := range 7 {
			f.user(t, fmt.Sprintf("Person %d", 7-i), fmt.Sprintf("p%d@nhs.net", i), "QMM", account.RoleReporter)
		}
		var all []string
		for p := 1; p <= 3; p++ {
			page, err := f.svc.ListUsers(context.Background(), account.UserFilter{Org: "QMM", Page: p, PerPage: 3})
			if err != nil {
				t.Fatal(err)
			}
			if page.Total != 7 || page.Pages() != 3 {
				t.Fatalf("page %d: total %d, pages %d", p, page.Total, page.Pages())
			}
			all = append(all, names(page.Users))
		}
		if got := strings.Join(all, " | "); got != "Person 1, Person 2, Person 3 | Person 4, Person 5, Person 6 | Person 7" {
			t.Fatalf("pages: %s", got)
		}
		page, err := f.svc.ListUsers(context.Background(), account.UserFilter{Org: "QMM"})
		if err != nil || page.PerPage != account.DefaultPerPage || page.Page != 1 {
			t.Fatalf("defaults: %v %+v", err, page)
		}
	})
}

func TestSuspendingNeedsAReasonEndsEverySessionAndIsAuditedAndEmailed(t *testing.T) { // T6
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newAdminFixture(t, d)
		ctx := context.Background()
		target := f.user(t, "Alex Morgan", "alex@nhs.net", "RM1", account.RoleReporter)
		token := f.signIn(t, "alex@nhs.net")

		err := f.svc.SetStatus(ctx, f.admin, target, account.StatusSuspended, "  ", "192.0.2.1")
		var fields apperr.Fields
		if !errors.As(err, &fields) || fields[0].Field != "reason" {
			t.Fatalf("blank reason: %v", err)
		}
		if _, _, err := f.svc.Authenticate(ctx, token); err != nil {
			t.Fatalf("a refused change ended the session: %v", err)
		}

		if err := f.svc.SetStatus(ctx, f.admin, target, account.StatusSuspended, "Left the trust", "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.Authenticate(ctx, token); apperr.CodeOf(err) != apperr.Unauthorized {
			t.Fatalf("session still works after suspension: %v", err)
		}
		if n, _ := f.svc.Sessions(ctx, target.ID); len(n) != 0 {
			t.Fatalf("%d sessions left", len(n))
		}
		u, err := f.svc.UserByID(ctx, target.ID)
		if err != nil || u.Status != account.StatusSuspended || u.StatusReason != "Left the trust" || u.StatusChangedAt == nil {
			t.Fatalf("after suspension: %v %+v", err, u)
		}
		id := fmt.Sprint(target.ID)
		if f.auditCount(t, "account.suspend", id, `"reason":"Left the trust"`) != 1 {
			t.Fatal("suspension not audited with its reason")
		}
		if res, _ := f.svc.SignIn(ctx, "alex@nhs.net", goodPassword, account.Client{}); res.Outcome != account.OutcomeBarred {
			t.Fatalf("suspended user signed in: %s", res.Outcome)
		}
		assertMail(t, f.fixture, "alex@nhs.net", "suspended", "contact the PSIMS administrator at your organisation")

		// Only the transitions that make sense are allowed.
		if err := f.svc.SetStatus(ctx, f.admin, target, account.StatusSuspended, "again", ""); apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("suspending twice: %v", err)
		}
		if err := f.svc.SetStatus(ctx, f.admin, target, account.StatusActive, "", ""); err != nil {
			t.Fatalf("reinstating without a reason: %v", err)
		}
		if f.auditCount(t, "account.reinstate", id, `"from":"suspended"`) != 1 {
			t.Fatal("reinstatement not audited")
		}
		assertMail(t, f.fixture, "alex@nhs.net", "sign in to PSIMS again", "reinstated")
		f.signIn(t, "alex@nhs.net")
		if err := f.svc.SetStatus(ctx, f.admin, target, account.StatusDeactivated, "", ""); !account.IsInvalid(err) {
			t.Fatalf("deactivating without a reason: %v", err)
		}
		if err := f.svc.SetStatus(ctx, f.admin, target, account.StatusDeactivated, "Retired", ""); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetStatus(ctx, f.admin, target, account.StatusSuspended, "x", ""); apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("suspending a deactivated account: %v", err)
		}
		if err := f.svc.SetStatus(ctx, f.admin, target, account.StatusPending, "x", ""); !account.IsInvalid(err) {
			t.Fatalf("setting pending: %v", err)
		}
		if err := f.svc.SetStatus(ctx, f.admin, target, account.StatusActive, "Came back", ""); err != nil {
			t.Fatal(err)
		}
	})
}

func assertMail(t *testing.T, f *fixture, to, subject, body string) {
	t.Helper()
	entries, err := f.outbox.List(context.Background(), to, 20)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range entries {
		if strings.Contains(strings.ToLower(m.Subject), strings.ToLower(subject)) && strings.Contains(m.Text, body) {
			return
		}
	}
	t.Fatalf("no email to %s about %q saying %q", to, subject, body)
}

// failingMailer refuses every message, to make a change fail after its
// audit entry was written.
type failingMailer struct{}

func (failingMailer) Enqueue(context.Context, *db.Tx, mail.Message) (int64, error) {
	return 0, errors.New("mail is down")
}

func (failingMailer) EnqueueMany(context.Context, *db.Tx, []mail.Message) ([]int64, error) {
	return nil, errors.New("mail is down")
}

func TestAStatusChangeThatFailsAfterItsAuditEntryLeavesNothingBehind(t *testing.T) { // T6
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newAdminFixture(t, d)
		ctx := context.Background()
		target := f.user(t, "Alex Morgan", "alex@nhs.net", "RM1", account.RoleReporter)
		token := f.signIn(t, "alex@nhs.net")
		hasher := password.NewHasher(password.Params{MemoryKiB: 1024, Time: 1, Threads: 1}, 1)
		broken := account.NewService(d, hasher, password.NewPolicy(), org.NewStore(d), failingMailer{}, f.runner, f.settings)
		if err := broken.SetStatus(ctx, f.admin, target, account.StatusSuspended, "Left", ""); err == nil {
			t.Fatal("want an error")
		}
		if u, _ := f.svc.UserByID(ctx, target.ID); u.Status != account.StatusActive {
			t.Fatalf("status changed: %s", u.Status)
		}
		if f.auditCount(t, "account.suspend", fmt.Sprint(target.ID), "") != 0 {
			t.Fatal("audit entry kept for a change that did not happen")
		}
		if _, _, err := f.svc.Authenticate(ctx, token); err != nil {
			t.Fatalf("session ended by a change that did not happen: %v", err)
		}
	})
}

func TestChangingARoleEndsTheSessionsDropsReadGrantsAndIsAudited(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newAdminFixture(t, d)
		ctx := context.Background()
		target := f.user(t, "Robin Reader", "robin@nhs.net", "QMM", account.RoleReadOnly)
		if err := f.svc.SetReadGrants(ctx, f.admin.ID, target, []string{"rm1", "QMM", "RM1"}, ""); err != nil {
			t.Fatal(err)
		}
		if g, _ := f.svc.ReadGrants(ctx, target.ID); strings.Join(g, ",") != "QMM,RM1" {
			t.Fatalf("grants: %v", g)
		}
		token := f.signIn(t, "robin@nhs.net")
		if err := f.svc.SetRole(ctx, f.admin.ID, target, account.RoleReadOnly, ""); !account.IsInvalid(err) {
			t.Fatalf("same role: %v", err)
		}
		if err := f.svc.SetRole(ctx, f.admin.ID, target, "boss", ""); !account.IsInvalid(err) {
			t.Fatalf("unknown role: %v", err)
		}
		if err := f.svc.SetRole(ctx, f.admin.ID, target, account.RoleReviewer, "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.Authenticate(ctx, token); apperr.CodeOf(err) != apperr.Unauthorized {
			t.Fatalf("session survived a role change: %v", err)
		}
		if u, _ := f.svc.UserByID(ctx, target.ID); u.Role != account.RoleReviewer {
			t.Fatalf("role %s", u.Role)
		}
		if g, _ := f.svc.ReadGrants(ctx, target.ID); len(g) != 0 {
			t.Fatalf("grants kept: %v", g)
		}
		if f.auditCount(t, "account.set_role", fmt.Sprint(target.ID), `"from":"read-only"`) != 1 {
			t.Fatal("role change not audited")
		}
		assertMail(t, f.fixture, "robin@nhs.net", "account type has changed", "reviewer")
	})
}

func TestReadGrantsNeedRealOrganisationsAndAReadOnlyUser(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newAdminFixture(t, d)
		ctx := context.Background()
		reader := f.user(t, "Robin Reader", "robin@nhs.net", "QMM", account.RoleReadOnly)
		for _, bad := range [][]string{{"RM1", "XYZ9"}, {"not a code"}} {
			var fields apperr.Fields
			if err := f.svc.SetReadGrants(ctx, f.admin.ID, reader, bad, ""); !errors.As(err, &fields) || fields[0].Field != "orgs" {
				t.Fatalf("%v: %v", bad, err)
			}
		}
		if err := f.svc.SetReadGrants(ctx, f.admin.ID, f.admin, []string{"RM1"}, ""); apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("grants for an org admin: %v", err)
		}
		if err := f.svc.SetReadGrants(ctx, f.admin.ID, reader, []string{"RM1"}, ""); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetReadGrants(ctx, f.admin.ID, reader, nil, ""); err != nil {
			t.Fatal(err)
		}
		if f.auditCount(t, "account.set_read_grants", fmt.Sprint(reader.ID), `"from":"RM1"`) != 1 {
			t.Fatal("grant change not audited")
		}
	})
}

func TestTheUserExportIsAuditedCSVOfTheWholeFilteredListSafeFromFormulas(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newAdminFixture(t, d)
		ctx := context.Background()
		for i := range 30 {
			f.user(t, fmt.Sprintf("Person %02d", i), fmt.Sprintf("p%d@nhs.net", i), "QMM", account.RoleReporter)
		}
		evil := f.user(t, "Evil", "evil@nhs.net", "RM1", account.RoleReviewer)
		f.exec(t, `UPDATE users SET name = $1, job_role = $2, ig_training_at = $3 WHERE id = $4`,
			`=HYPERLINK("http://x")`, "+1 nurse", f.clock.Now().AddDate(0, -2, 0), evil.ID)
		f.exec(t, `UPDATE users SET ig_training_at = $1 WHERE id = $2`, f.clock.Now().AddDate(0, -2, 0), f.admin.ID)

		var buf bytes.Buffer
		if err := f.svc.ExportUsers(ctx, account.UserFilter{Org: "QMM"}, f.admin.ID, "192.0.2.1", &buf); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 31 || recs[0][0] != "Name" || recs[1][0] != "Person 00" || recs[1][3] != "QMM" {
			t.Fatalf("QMM export: %d rows, first %v", len(recs), recs[min(1, len(recs)-1)])
		}

		buf.Reset()
		if err := f.svc.ExportUsers(ctx, account.UserFilter{Org: "RM1"}, f.admin.ID, "192.0.2.1", &buf); err != nil {
			t.Fatal(err)
		}
		recs, err = csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		var row []string
		for _, r := range recs {
			if r[1] == "evil@nhs.net" {
				row = r
			}
		}
		if row == nil {
			t.Fatalf("no row for evil@nhs.net in %v", recs)
		}
		if row[0] != `'=HYPERLINK("http://x")` || row[2] != "'+1 nurse" {
			t.Fatalf("formula cells not made safe: %q", row)
		}
		if row[5] != "Reviewer" || row[6] != "Active" || row[7] != f.clock.Now().AddDate(0, -2, 0).Format(time.DateOnly) || row[8] != "yes" {
			t.Fatalf("row: %q", row)
		}
		if f.auditCount(t, "users.export", "QMM", `"org":"QMM"`) != 1 || f.auditCount(t, "users.export", "RM1", `"org":"RM1"`) != 1 {
			t.Fatal("export not audited with its filter")
		}
	})
}

// TestAChangeToAnAccountThatChangedSinceItWasCheckedIsRefused: the policy
// was asked about the account as the admin saw it; if its role changed
// meanwhile (say, to national admin), the change is refused rather than
// made on an account the admin may no longer touch. // T13
func TestAChangeToAnAccountThatChangedSinceItWasCheckedIsRefused(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newAdminFixture(t, d)
		ctx := context.Background()
		seen := f.user(t, "Sam Reed", "sam@nhs.net", "RM1", account.RoleReviewer)
		if err := f.svc.SetRole(ctx, f.admin.ID, seen, account.RoleNationalAdmin, ""); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetStatus(ctx, f.admin, seen, account.StatusSuspended, "Left", ""); apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("suspending an account whose role changed: %v", err)
		}
		if err := f.svc.SetRole(ctx, f.admin.ID, seen, account.RoleReporter, ""); apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("re-roling an account whose role changed: %v", err)
		}
		now, err := f.svc.UserByEmail(ctx, "sam@nhs.net")
		if err != nil || now.Role != account.RoleNationalAdmin || now.Status != account.StatusActive {
			t.Fatalf("account = %+v, %v", now, err)
		}
	})
}
