package authz_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/psims/psims/internal/authz"
)

var (
	roles   = []string{authz.Reporter, authz.Reviewer, authz.OrgAdmin, authz.ReadOnly, authz.NationalAdmin}
	actions = []authz.Action{authz.ListUsers, authz.ExportUsers, authz.ViewUser, authz.DecideRegistration,
		authz.ChangeStatus, authz.ResetTwoStep, authz.ChangeRole, authz.DecideRequest, authz.ManageReadGrants,
		authz.ListOrganisations, authz.ViewOrgRecords, authz.ManageDocuments, authz.ViewRecord, authz.AmendRecord, authz.ViewUsageReport, authz.ManageAPIKeys}
)

// subject is a user of RM1, with current IG training, who may read QMM when
// read-only.
func subject(role string) authz.Subject {
	return authz.Subject{UserID: 1, Role: role, Org: "RM1", ReadOrgs: []string{"QMM"}, IGCurrent: true}
}

// TestTheRoleTableGivesEachRoleExactlyItsActions walks every role, every
// action and every kind of object: the user's own organisation, another
// one, one granted for reading, and all organisations at once.
func TestTheRoleTableGivesEachRoleExactlyItsActions(t *testing.T) { // T13, T14
	// allowed lists, for each role, "action@org" for the objects it may act on.
	allowed := map[string][]string{
		authz.Reporter: {},
		authz.Reviewer: {"records.view_org@RM1", "records.view@RM1", "records.amend@RM1"},
		authz.ReadOnly: {"records.view_org@QMM", "records.view@QMM"},
		authz.OrgAdmin: {"users.list@RM1", "users.export@RM1", "users.view@RM1", "users.decide_registration@RM1",
			"users.change_status@RM1", "users.reset_two_step@RM1", "users.change_role@RM1", "requests.decide@RM1", "records.view_org@RM1",
			"records.view@RM1", "records.amend@RM1", "usage.report@RM1", "apikeys.manage@RM1"},
	}
	orgs := []string{"RM1", "D82044", "QMM", ""}
	for _, role := range roles {
		for _, a := range actions {
			for _, org := range orgs {
				key := fmt.Sprintf("%s@%s", a, org)
				want := role == authz.NationalAdmin || slices.Contains(allowed[role], key)
				d := authz.Decide(subject(role), a, authz.Object{Org: org, UserID: 2, Role: authz.Reporter, NewRole: authz.Reviewer})
				if d.Allowed != want {
					t.Errorf("%s %s: allowed = %v, want %v (reason %q)", role, key, d.Allowed, want, d.Reason)
				}
				if !d.Allowed && d.Reason == authz.Granted {
					t.Errorf("%s %s: refused without a reason", role, key)
				}
			}
		}
	}
}

func TestEveryoneManagesTheirOwnAccountAndNobodyElses(t *testing.T) { // P14
	for _, role := range roles {
		s := subject(role)
		s.IGCurrent = false
		s.OrgMovePending = true
		if d := authz.Decide(s, authz.ManageOwnAccount, authz.Object{UserID: 1}); !d.Allowed {
			t.Errorf("%s cannot manage their own account: %s", role, d.Reason)
		}
		if d := authz.Decide(s, authz.ManageOwnAccount, authz.Object{UserID: 2, Org: "RM1"}); d.Allowed {
			t.Errorf("%s may manage someone else's account", role)
		}
	}
}

func TestOrganisationDataNeedsCurrentIGTraining(t *testing.T) { // T18
	for _, role := range []string{authz.Reviewer, authz.OrgAdmin, authz.NationalAdmin} {
		s := subject(role)
		s.IGCurrent = false
		d := authz.Decide(s, authz.ViewOrgRecords, authz.Object{Org: "RM1"})
		if d.Allowed || d.Reason != authz.IGTrainingDue {
			t.Errorf("%s without IG training: %+v, want refused for IG training", role, d)
		}
	}
	s := subject(authz.OrgAdmin)
	s.IGCurrent = false
	if d := authz.Decide(s, authz.ListUsers, authz.Object{Org: "D82044"}); d.Reason != authz.NotPermitted {
		t.Errorf("another organisation's data is refused as not permitted, whatever the training: %+v", d)
	}
}

func TestAPendingOrganisationMoveHidesBothOrganisationsData(t *testing.T) { // P14
	s := subject(authz.OrgAdmin)
	s.OrgMovePending = true
	if d := authz.Decide(s, authz.ListUsers, authz.Object{Org: "RM1"}); d.Allowed || d.Reason != authz.OrgMovePending {
		t.Fatalf("org admin with a pending move: %+v", d)
	}
}

// TestOrganisationAdminsActOnlyOnAccountsWhoseRolesTheyCouldGrant checks
// the role held now as well as the new one: an organisation admin may give
// and take away the organisation's own roles, but may not change the role
// or status of a read-only user or a national admin who happens to belong
// to their organisation, nor approve such a user's request (which would
// demote them). National admins may do all of it. // T13
func TestOrganisationAdminsActOnlyOnAccountsWhoseRolesTheyCouldGrant(t *testing.T) {
	roles := []string{authz.Reporter, authz.Reviewer, authz.OrgAdmin, authz.ReadOnly, authz.NationalAdmin, ""}
	grantable := func(r string) bool { return r == authz.Reporter || r == authz.Reviewer || r == authz.OrgAdmin }
	for _, actor := range []string{authz.OrgAdmin, authz.NationalAdmin} {
		s := subject(actor)
		for _, held := range roles {
			for _, to := range roles {
				for _, a := range []authz.Action{authz.ChangeRole, authz.DecideRequest} {
					want := actor == authz.NationalAdmin || (grantable(held) && grantable(to))
					if d := authz.Decide(s, a, authz.Object{Org: "RM1", UserID: 2, Role: held, NewRole: to}); d.Allowed != want {
						t.Errorf("%s: %s of a %q to %q: allowed = %v, want %v", actor, a, held, to, d.Allowed, want)
					}
				}
			}
			want := actor == authz.NationalAdmin || grantable(held)
			for _, a := range []authz.Action{authz.ChangeStatus, authz.ResetTwoStep} {
				if d := authz.Decide(s, a, authz.Object{Org: "RM1", UserID: 2, Role: held}); d.Allowed != want {
					t.Errorf("%s: %s of a %q: allowed = %v, want %v", actor, a, held, d.Allowed, want)
				}
			}
		}
	}
}

func TestNobodyChangesTheirOwnStatusOrRoleThroughAdministration(t *testing.T) {
	s := subject(authz.NationalAdmin)
	for _, a := range []authz.Action{authz.ChangeStatus, authz.ResetTwoStep, authz.ChangeRole, authz.DecideRegistration, authz.DecideRequest, authz.ManageReadGrants} {
		if d := authz.Decide(s, a, authz.Object{Org: "RM1", UserID: 1, Role: authz.NationalAdmin}); d.Allowed {
			t.Errorf("%s on oneself is allowed", a)
		}
	}
}

func TestNobodySignedInAndUnknownRolesGetNothing(t *testing.T) {
	for _, a := range append(actions, authz.ManageOwnAccount) {
		if authz.Decide(authz.Subject{}, a, authz.Object{}).Allowed {
			t.Errorf("%s allowed with nobody signed in", a)
		}
		if authz.Decide(authz.Subject{UserID: 1, Role: "superuser", IGCurrent: true}, a, authz.Object{UserID: 2}).Allowed {
			t.Errorf("%s allowed for an unknown role", a)
		}
	}
}

func BenchmarkDecide(b *testing.B) {
	s := subject(authz.OrgAdmin)
	o := authz.Object{Org: "RM1", UserID: 2, Role: authz.Reviewer}
	for b.Loop() {
		authz.Decide(s, authz.ChangeRole, o)
	}
}

// TestEveryoneButReadOnlyRecordsAndSeesTheirOwnRecords: recording and one's
// own records need no IG training; read-only users record nothing and amend
// nothing, but still read what they recorded before. // T14
func TestEveryoneButReadOnlyRecordsAndSeesTheirOwnRecords(t *testing.T) {
	for _, role := range roles {
		s := subject(role)
		s.IGCurrent = false
		own := authz.Object{Org: "D82044", UserID: s.UserID}
		if got := authz.Decide(s, authz.RecordEvents, authz.Object{}).Allowed; got != (role != authz.ReadOnly) {
			t.Errorf("%s records events: %v", role, got)
		}
		if !authz.Decide(s, authz.ViewRecord, own).Allowed {
			t.Errorf("%s cannot read their own record", role)
		}
		if got := authz.Decide(s, authz.AmendRecord, own).Allowed; got != (role != authz.ReadOnly) {
			t.Errorf("%s amends their own record: %v", role, got)
		}
		// Somebody else's record of the user's own organisation needs IG
		// training, whatever the role.
		if authz.Decide(s, authz.ViewRecord, authz.Object{Org: "RM1", UserID: 99}).Allowed {
			t.Errorf("%s reads another person's record without IG training", role)
		}
	}
	if authz.Decide(authz.Subject{}, authz.RecordEvents, authz.Object{}).Allowed {
		t.Error("an anonymous subject records through the staff route")
	}
}

// TestReviewsAreTheRecordingOrganisations: its reviewers and admins read
// and change an event's review, and edit only their own notes; the
// operator reads reviews but does not do them; reporters (even the
// event's own) and read-only users see none; IG training is needed, and
// a reviewer without it is told so. Only reviewers and admins may be
// assigned reviews.
func TestReviewsAreTheRecordingOrganisations(t *testing.T) {
	type want struct{ view, review, editOwn, editOthers bool }
	for role, w := range map[string]want{
		authz.Reporter:      {},
		authz.ReadOnly:      {},
		authz.Reviewer:      {true, true, true, false},
		authz.OrgAdmin:      {true, true, true, false},
		authz.NationalAdmin: {true, false, false, false},
	} {
		s := subject(role)
		for _, org := range []string{"RM1", "D82044", "QMM"} {
			own := org == "RM1"
			check := func(name string, a authz.Action, o authz.Object, allowed bool) {
				t.Helper()
				if !own && role != authz.NationalAdmin {
					allowed = false
				}
				if d := authz.Decide(s, a, o); d.Allowed != allowed {
					t.Errorf("%s %s at %s: allowed = %v, want %v", role, name, org, d.Allowed, allowed)
				}
			}
			check("reads the review of their own event", authz.ViewReview, authz.Object{Org: org, UserID: 1}, w.view)
			check("changes a review", authz.ReviewEvent, authz.Object{Org: org}, w.review)
			check("edits their note", authz.EditReviewNote, authz.Object{Org: org, UserID: 1}, w.editOwn)
			check("edits another's note", authz.EditReviewNote, authz.Object{Org: org, UserID: 2}, w.editOthers)
		}
		s.IGCurrent = false
		if d := authz.Decide(s, authz.ReviewEvent, authz.Object{Org: "RM1"}); w.review && d.Reason != authz.IGTrainingDue {
			t.Errorf("%s without IG training reviews: %+v", role, d)
		}
		if authz.Assignable(role) != (role == authz.Reviewer || role == authz.OrgAdmin) {
			t.Errorf("%s assignable = %v", role, authz.Assignable(role))
		}
	}
	for _, c := range []struct {
		s      authz.Subject
		req    authz.EventList
		review bool
	}{
		{subject(authz.Reviewer), authz.EventList{}, true},
		{subject(authz.Reviewer), authz.EventList{Mine: true}, false},
		{subject(authz.Reporter), authz.EventList{}, false},
		{subject(authz.ReadOnly), authz.EventList{}, false},
		{subject(authz.NationalAdmin), authz.EventList{}, true},
	} {
		if l, _, _ := authz.ListEvents(c.s, c.req); l.Review != c.review {
			t.Errorf("%s %+v: list shows reviews = %v, want %v", c.s.Role, c.req, l.Review, c.review)
		}
	}
}
