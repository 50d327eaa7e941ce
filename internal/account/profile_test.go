package account_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/psims/psims/internal/account"
	"github.com/psims/psims/internal/apperr"
	"github.com/psims/psims/internal/audit"
	"github.com/psims/psims/internal/authz"
	"github.com/psims/psims/internal/db"
	"github.com/psims/psims/internal/db/dbtest"
	"github.com/psims/psims/internal/org"
)

// profileUser makes an active user and returns them as stored.
func (f *fixture) profileUser(t *testing.T, email string) account.User {
	t.Helper()
	f.activeUser(t, email)
	return f.profileReload(t, email)
}

func (f *fixture) profileReload(t *testing.T, email string) account.User {
	t.Helper()
	u, err := f.svc.UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// profileFields returns the field names of a validation error, in order.
func profileFields(t *testing.T, err error) []string {
	t.Helper()
	var fields apperr.Fields
	if !errors.As(err, &fields) {
		t.Fatalf("err = %v, want field errors", err)
	}
	var names []string
	for _, fe := range fields {
		names = append(names, fe.Field)
	}
	return names
}

// profileAudit returns the actions recorded about one subject.
func profileAudit(t *testing.T, d *db.DB, subjectType, subjectID string) []audit.Row {
	t.Helper()
	rows, err := audit.List(context.Background(), d, subjectType, subjectID, 200)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func profileFindAudit(rows []audit.Row, action string) *audit.Row {
	for i := range rows {
		if rows[i].Action == action {
			return &rows[i]
		}
	}
	return nil
}

// profileMail returns the newest email to the address whose subject contains
// subject, or fails.
func (f *fixture) profileMail(t *testing.T, to, subject string) string {
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

func (f *fixture) profileMailCount(t *testing.T, to string) int {
	t.Helper()
	entries, err := f.outbox.List(context.Background(), to, 100)
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

func TestUpdateDetailsChangesNameAndJobRoleAndAuditsOnlyWhichChanged(t *testing.T) { // P14
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		u := f.profileUser(t, "details@nhs.net")

		err := f.svc.UpdateDetails(ctx, u, "  ", strings.Repeat("x", 201), "")
		if got := strings.Join(profileFields(t, err), ","); got != "name,job_role" {
			t.Fatalf("fields = %s", got)
		}
		// Hidden control characters are refused however they arrive.
		err = f.svc.UpdateDetails(ctx, u, "Alex\x00 Morgan", "Staff\u0085 nurse", "")
		if got := strings.Join(profileFields(t, err), ","); got != "name,job_role" {
			t.Fatalf("fields with control characters = %s", got)
		}
		if err := f.svc.UpdateDetails(ctx, u, " Alex Morgan-Smith ", "Staff nurse", "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		got := f.profileReload(t, "details@nhs.net")
		if got.Name != "Alex Morgan-Smith" || got.JobRole != "Staff nurse" {
			t.Fatalf("user = %+v", got)
		}
		row := profileFindAudit(profileAudit(t, d, "user", strconv.FormatInt(u.ID, 10)), "account.update_details")
		if row == nil {
			t.Fatal("no account.update_details audit entry")
		}
		if row.Details["fields"] != "name" || row.IP != "192.0.2.1" {
			t.Fatalf("audit details = %v", row.Details)
		}
		for _, v := range row.Details {
			if strings.Contains(v, "Morgan") {
				t.Fatal("the audit log holds the new value")
			}
		}
	})
}

func TestEmailChangeNeedsTheCurrentPasswordAndCountsWrongOnes(t *testing.T) { // P14, T3
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		u := f.profileUser(t, "reauth@nhs.net")

		err := f.svc.RequestEmailChange(ctx, u, "", "", "")
		if got := strings.Join(profileFields(t, err), ","); got != "email,current_password" {
			t.Fatalf("fields = %s", got)
		}
		err = f.svc.RequestEmailChange(ctx, u, "reauth@nhs.net", goodPassword, "")
		if got := strings.Join(profileFields(t, err), ","); got != "email" {
			t.Fatalf("same address: fields = %s", got)
		}
		before := f.profileMailCount(t, "new.reauth@nhs.net")
		err = f.svc.RequestEmailChange(ctx, u, "new.reauth@nhs.net", "not my password at all", "")
		if got := strings.Join(profileFields(t, err), ","); got != "current_password" {
			t.Fatalf("wrong password: fields = %s", got)
		}
		if f.profileReload(t, "reauth@nhs.net").PendingEmail != "" || f.profileMailCount(t, "new.reauth@nhs.net") != before {
			t.Fatal("a wrong password started the change")
		}
		// Wrong passwords count towards the sign-in lockout.
		for range f.settings.LockoutThreshold - 1 {
			_ = f.svc.RequestEmailChange(ctx, u, "new.reauth@nhs.net", "not my password at all", "")
		}
		if _, err := f.svc.SignIn(ctx, "reauth@nhs.net", goodPassword, account.Client{}); !errors.Is(err, account.ErrSignInFailed) {
			t.Fatalf("sign in after %d wrong passwords: %v, want locked", f.settings.LockoutThreshold, err)
		}
		if !strings.Contains(f.profileMail(t, "reauth@nhs.net", "locked"), "locked") {
			t.Fatal("the owner was not told of the lockout")
		}
	})
}

func TestEmailChangeAppliesOnlyThroughTheLinkSentToTheNewAddress(t *testing.T) { // P14
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		u := f.profileUser(t, "old.address@nhs.net")
		res, err := f.svc.SignIn(ctx, "old.address@nhs.net", goodPassword, account.Client{})
		if err != nil {
			t.Fatal(err)
		}

		if err := f.svc.RequestEmailChange(ctx, u, "New.Address@NHS.net", goodPassword, "192.0.2.2"); err != nil {
			t.Fatal(err)
		}
		got := f.profileReload(t, "old.address@nhs.net")
		if got.PendingEmail != "new.address@nhs.net" {
			t.Fatalf("pending email = %q", got.PendingEmail)
		}
		notice := f.profileMail(t, "old.address@nhs.net", "change of email address was requested")
		if strings.Contains(notice, "token=") || !strings.Contains(notice, "new.address@nhs.net") {
			t.Fatalf("notice to the old address:\n%s", notice)
		}
		tok := f.token(t, "new.address@nhs.net", "Confirm your new email address")
		if err := f.svc.CheckEmailChangeToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.UserByEmail(ctx, "new.address@nhs.net"); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatal("the address changed before the link was used")
		}

		changed, err := f.svc.ConfirmEmailChange(ctx, tok, "192.0.2.3")
		if err != nil {
			t.Fatal(err)
		}
		if changed.Email != "new.address@nhs.net" {
			t.Fatalf("changed = %+v", changed)
		}
		got = f.profileReload(t, "new.address@nhs.net")
		if got.ID != u.ID || got.PendingEmail != "" {
			t.Fatalf("user = %+v", got)
		}
		if _, _, err := f.svc.Authenticate(ctx, res.Session.Token); err == nil {
			t.Fatal("the session survived the change of address")
		}
		if !strings.Contains(f.profileMail(t, "old.address@nhs.net", "has changed"), "new.address@nhs.net") {
			t.Fatal("the old address was not told the change happened")
		}
		if _, err := f.svc.ConfirmEmailChange(ctx, tok, ""); apperr.CodeOf(err) != apperr.Invalid {
			t.Fatalf("second use: %v, want Invalid", err)
		}
		if _, err := f.svc.SignIn(ctx, "new.address@nhs.net", goodPassword, account.Client{}); err != nil {
			t.Fatalf("sign in with the new address: %v", err)
		}
		rows := profileAudit(t, d, "user", strconv.FormatInt(u.ID, 10))
		for _, want := range []string{"account.email_change_requested", "account.email_changed"} {
			if profileFindAudit(rows, want) == nil {
				t.Errorf("no %s audit entry", want)
			}
		}
	})
}

func TestEmailChangeLinkExpiresAfter24Hours(t *testing.T) { // P14
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		u := f.profileUser(t, "slow@nhs.net")
		if err := f.svc.RequestEmailChange(ctx, u, "slow.new@nhs.net", goodPassword, ""); err != nil {
			t.Fatal(err)
		}
		tok := f.token(t, "slow.new@nhs.net", "Confirm your new email address")
		f.clock.Advance(24*time.Hour + time.Second)
		if err := f.svc.CheckEmailChangeToken(ctx, tok); apperr.CodeOf(err) != apperr.Invalid {
			t.Fatalf("check after 24h: %v", err)
		}
		if _, err := f.svc.ConfirmEmailChange(ctx, tok, ""); apperr.CodeOf(err) != apperr.Invalid {
			t.Fatalf("confirm after 24h: %v, want Invalid", err)
		}
		if f.profileReload(t, "slow@nhs.net").ID != u.ID {
			t.Fatal("the address changed")
		}
	})
}

func TestEmailChangeToATakenAddressLooksTheSameAndTellsItsOwner(t *testing.T) { // P14
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		u := f.profileUser(t, "mover@nhs.net")
		f.activeUser(t, "owner@nhs.net")

		if err := f.svc.RequestEmailChange(ctx, u, "owner@nhs.net", goodPassword, ""); err != nil {
			t.Fatalf("a taken address must look like success, got %v", err)
		}
		if got := f.profileReload(t, "mover@nhs.net"); got.PendingEmail != "owner@nhs.net" {
			t.Fatalf("pending email = %q; the outcome must look the same as for a free address", got.PendingEmail)
		}
		entries, err := f.outbox.List(ctx, "owner@nhs.net", 1)
		if err != nil || len(entries) != 1 || !strings.Contains(entries[0].Subject, "tried to use your email address") {
			t.Fatalf("newest email to the owner = %+v, %v", entries, err)
		}
		if strings.Contains(entries[0].Text, "token=") {
			t.Fatal("the owner was sent a link that could apply the change")
		}
		f.profileMail(t, "mover@nhs.net", "change of email address was requested")

		// A link from an earlier request for a free address stops working
		// once the address asked for is taken.
		if err := f.svc.RequestEmailChange(ctx, u, "free@nhs.net", goodPassword, ""); err != nil {
			t.Fatal(err)
		}
		tok := f.token(t, "free@nhs.net", "Confirm your new email address")
		if err := f.svc.RequestEmailChange(ctx, u, "owner@nhs.net", goodPassword, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.ConfirmEmailChange(ctx, tok, ""); apperr.CodeOf(err) != apperr.Invalid {
			t.Fatalf("old link: %v, want Invalid", err)
		}
		if owner := f.profileReload(t, "owner@nhs.net"); owner.ID == u.ID {
			t.Fatal("the address was taken over")
		}
	})
}

func TestEmailChangeIsRefusedWhenTheAddressIsTakenBeforeConfirming(t *testing.T) { // P14
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		u := f.profileUser(t, "racer@nhs.net")
		if err := f.svc.RequestEmailChange(ctx, u, "contested@nhs.net", goodPassword, ""); err != nil {
			t.Fatal(err)
		}
		tok := f.token(t, "contested@nhs.net", "Confirm your new email address")
		f.activeUser(t, "contested@nhs.net")
		if _, err := f.svc.ConfirmEmailChange(ctx, tok, ""); !errors.Is(err, account.ErrEmailTaken) {
			t.Fatalf("confirm: %v, want ErrEmailTaken", err)
		}
		if got := f.profileReload(t, "racer@nhs.net"); got.PendingEmail != "" {
			t.Fatalf("pending email = %q, want cleared", got.PendingEmail)
		}
	})
}

func TestCancelEmailChangeStopsTheLink(t *testing.T) { // P14
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		u := f.profileUser(t, "cancel@nhs.net")
		if err := f.svc.RequestEmailChange(ctx, u, "cancel.new@nhs.net", goodPassword, ""); err != nil {
			t.Fatal(err)
		}
		tok := f.token(t, "cancel.new@nhs.net", "Confirm your new email address")
		if err := f.svc.CancelEmailChange(ctx, u, ""); err != nil {
			t.Fatal(err)
		}
		if f.profileReload(t, "cancel@nhs.net").PendingEmail != "" {
			t.Fatal("pending email kept")
		}
		if _, err := f.svc.ConfirmEmailChange(ctx, tok, ""); apperr.CodeOf(err) != apperr.Invalid {
			t.Fatalf("confirm after cancel: %v, want Invalid", err)
		}
	})
}

// profileAddOrg imports one more active organisation.
func profileAddOrg(t *testing.T, d *db.DB, code, name string) {
	t.Helper()
	if _, err := org.NewStore(d).Import(context.Background(), strings.NewReader("ods_code,name,type,parent\n"+code+","+name+",gp-practice,\n")); err != nil {
		t.Fatal(err)
	}
}

func profileSetRole(t *testing.T, d *db.DB, id int64, role account.Role) {
	t.Helper()
	if _, err := d.WritePool().ExecContext(context.Background(), `UPDATE users SET role = $1 WHERE id = $2`, role, id); err != nil {
		t.Fatal(err)
	}
}

func TestOrgMoveWaitsForApprovalAndHidesOrganisationDataUntilWithdrawn(t *testing.T) { // P14, T14
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		profileAddOrg(t, d, "D82044", "UNIVERSITY MEDICAL PARTNERSHIP")
		u := f.profileUser(t, "moving.admin@nhs.net")
		profileSetRole(t, d, u.ID, account.RoleOrgAdmin)
		day := d.Now()
		if err := f.svc.RecordIGTraining(ctx, u, day, ""); err != nil {
			t.Fatal(err)
		}
		u = f.profileReload(t, "moving.admin@nhs.net")

		for _, tc := range []struct{ code, want string }{{"", "org"}, {"RM1", "org"}, {"ZZZ99", "org"}, {"not a code!", "org"}} {
			if got := strings.Join(profileFields(t, f.svc.RequestOrgMove(ctx, u, tc.code, "", "")), ","); got != tc.want {
				t.Errorf("org %q: fields = %s", tc.code, got)
			}
		}
		if got := profileFields(t, f.svc.RequestOrgMove(ctx, u, "D82044", strings.Repeat("a", 1001), "")); got[0] != "justification" {
			t.Fatalf("long justification: fields = %v", got)
		}

		if err := f.svc.RequestOrgMove(ctx, u, "d82044", "  I have moved to a GP practice  ", "192.0.2.4"); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.RequestOrgMove(ctx, u, "D82044", "", ""); apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("second request: %v, want Conflict", err)
		}
		u = f.profileReload(t, "moving.admin@nhs.net")
		if u.PendingOrgCode != "D82044" || u.OrgCode != "RM1" {
			t.Fatalf("user = %+v", u)
		}
		req, err := f.svc.PendingRequestFor(ctx, u.ID, account.KindOrgMove)
		if err != nil || req == nil {
			t.Fatalf("pending request = %v, %v", req, err)
		}
		if req.OrgCode != "D82044" || req.Status != account.ReqPending || req.Justification != "I have moved to a GP practice" || req.RequestedRole != "" {
			t.Fatalf("request = %+v", req)
		}
		if profileFindAudit(profileAudit(t, d, "access_request", strconv.FormatInt(req.ID, 10)), "request.org_move") == nil {
			t.Fatal("no request.org_move audit entry")
		}

		sub, err := f.svc.Subject(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		if dec := authz.Decide(sub, authz.ListUsers, authz.Object{Org: "RM1"}); dec.Allowed || dec.Reason != authz.OrgMovePending {
			t.Fatalf("old organisation while moving: %+v", dec)
		}
		if dec := authz.Decide(sub, authz.ViewOrgRecords, authz.Object{Org: "D82044"}); dec.Allowed {
			t.Fatalf("new organisation while moving: %+v", dec)
		}
		if dec := authz.Decide(sub, authz.ManageOwnAccount, authz.Object{UserID: u.ID}); !dec.Allowed {
			t.Fatalf("own account while moving: %+v", dec)
		}

		if err := f.svc.WithdrawOrgMove(ctx, u, ""); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.WithdrawOrgMove(ctx, u, ""); apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("second withdrawal: %v, want Conflict", err)
		}
		u = f.profileReload(t, "moving.admin@nhs.net")
		if u.PendingOrgCode != "" {
			t.Fatalf("pending organisation = %q", u.PendingOrgCode)
		}
		if withdrawn, err := f.svc.RequestByID(ctx, req.ID); err != nil || withdrawn.Status != account.ReqWithdrawn {
			t.Fatalf("request after withdrawal = %+v, %v", withdrawn, err)
		}
		sub, err = f.svc.Subject(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		if dec := authz.Decide(sub, authz.ListUsers, authz.Object{Org: "RM1"}); !dec.Allowed {
			t.Fatalf("own organisation after withdrawing: %+v", dec)
		}
	})
}

func TestIGTrainingDateMustBeRealisticAndIsStoredAsADay(t *testing.T) { // T18
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		u := f.profileUser(t, "ig@nhs.net")
		tomorrow := d.Now().AddDate(0, 0, 1)
		for _, day := range []time.Time{tomorrow, time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC)} {
			if got := strings.Join(profileFields(t, f.svc.RecordIGTraining(ctx, u, day, "")), ","); got != "ig_date" {
				t.Errorf("%s: fields = %s", day.Format(time.DateOnly), got)
			}
		}
		if err := f.svc.RecordIGTraining(ctx, u, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), ""); err != nil {
			t.Fatalf("1 January 2000: %v", err)
		}
		if err := f.svc.RecordIGTraining(ctx, u, time.Date(2026, 3, 14, 17, 45, 0, 0, time.UTC), "192.0.2.5"); err != nil {
			t.Fatal(err)
		}
		got := f.profileReload(t, "ig@nhs.net")
		if got.IGTrainingAt == nil || !got.IGTrainingAt.Equal(time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("IG training at = %v", got.IGTrainingAt)
		}
		until, ok := f.svc.IGValidUntil(got)
		if !ok || !until.Equal(time.Date(2027, 3, 14, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("valid until = %v, %v", until, ok)
		}
		row := profileFindAudit(profileAudit(t, d, "user", strconv.FormatInt(u.ID, 10)), "account.ig_training")
		if row == nil || row.Details["completed_on"] != "2026-03-14" {
			t.Fatalf("audit = %+v", row)
		}
		// Today counts.
		if err := f.svc.RecordIGTraining(ctx, u, d.Now(), ""); err != nil {
			t.Fatalf("today: %v", err)
		}
	})
}

func TestReviewerWithOldIGTrainingLosesOrganisationDataUntilUpdated(t *testing.T) { // T18
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		u := f.profileUser(t, "reviewer@nhs.net")
		profileSetRole(t, d, u.ID, account.RoleReviewer)
		if err := f.svc.RecordIGTraining(ctx, u, d.Now().AddDate(0, -13, 0), ""); err != nil {
			t.Fatal(err)
		}
		u = f.profileReload(t, "reviewer@nhs.net")
		sub, err := f.svc.Subject(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		if sub.IGCurrent {
			t.Fatal("13-month-old training counts as current")
		}
		if dec := authz.Decide(sub, authz.ViewOrgRecords, authz.Object{Org: "RM1"}); dec.Allowed || dec.Reason != authz.IGTrainingDue {
			t.Fatalf("with old training: %+v", dec)
		}
		if dec := authz.Decide(sub, authz.ManageOwnAccount, authz.Object{UserID: u.ID}); !dec.Allowed {
			t.Fatal("they cannot reach their own account to update the date")
		}

		if err := f.svc.RecordIGTraining(ctx, u, d.Now().AddDate(0, 0, -3), ""); err != nil {
			t.Fatal(err)
		}
		u = f.profileReload(t, "reviewer@nhs.net")
		if sub, err = f.svc.Subject(ctx, u); err != nil {
			t.Fatal(err)
		}
		if dec := authz.Decide(sub, authz.ViewOrgRecords, authz.Object{Org: "RM1"}); !dec.Allowed {
			t.Fatalf("after recording recent training: %+v", dec)
		}
	})
}

func TestProfileChangesAreRefusedForAccountsNoLongerActive(t *testing.T) { // T6
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		u := f.profileUser(t, "suspended@nhs.net")
		if _, err := d.WritePool().ExecContext(ctx, `UPDATE users SET status = 'suspended' WHERE id = $1`, u.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.UpdateDetails(ctx, u, "New Name", "Nurse", ""); apperr.CodeOf(err) != apperr.Forbidden {
			t.Errorf("update details: %v", err)
		}
		if err := f.svc.RequestEmailChange(ctx, u, "elsewhere@nhs.net", goodPassword, ""); apperr.CodeOf(err) != apperr.Forbidden {
			t.Errorf("email change: %v", err)
		}
		if err := f.svc.RecordIGTraining(ctx, u, d.Now(), ""); apperr.CodeOf(err) != apperr.Forbidden {
			t.Errorf("IG training: %v", err)
		}
	})
}
