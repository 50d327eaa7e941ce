package authz_test

import (
	"testing"

	"github.com/psims/psims/internal/authz"
)

// Every signed-in user may report a concern, whatever their training or
// a pending move: the terms ask it of everyone (T5).
func TestEveryoneSignedInReportsConcerns(t *testing.T) { // T5
	for _, role := range roles {
		s := subject(role)
		s.IGCurrent, s.OrgMovePending = false, true
		if d := authz.Decide(s, authz.ReportConcern, authz.Object{}); !d.Allowed {
			t.Errorf("%s may not report a concern: %s", role, d.Reason)
		}
	}
	if authz.Decide(authz.Subject{}, authz.ReportConcern, authz.Object{}).Allowed {
		t.Error("reporting allowed through the policy with nobody signed in")
	}
}

// National admins read, note and close every report; an organisation's
// admins read and note the reports about their own users and nothing
// else, and close none; nobody else sees any. Reading needs current IG
// training (T5, T13, T18).
func TestConcernReportsAreTheOperatorsAndTheirOwnOrganisationAdmins(t *testing.T) { // T5, T13
	type want struct{ view, close bool }
	for _, role := range roles {
		for _, org := range []string{"RM1", "QMM", ""} {
			w := want{}
			switch role {
			case authz.NationalAdmin:
				w = want{true, true}
			case authz.OrgAdmin:
				w = want{view: org == "RM1"}
			}
			o := authz.Object{Org: org}
			got := want{authz.Decide(subject(role), authz.ViewConcerns, o).Allowed, authz.Decide(subject(role), authz.CloseConcern, o).Allowed}
			if got != w {
				t.Errorf("%s on reports about %q: %+v, want %+v", role, org, got, w)
			}
			if n := authz.Decide(subject(role), authz.NoteConcern, o).Allowed; n != w.view {
				t.Errorf("%s notes reports about %q: %v, want %v", role, org, n, w.view)
			}
		}
	}
	for _, role := range []string{authz.OrgAdmin, authz.NationalAdmin} {
		s := subject(role)
		s.IGCurrent = false
		if d := authz.Decide(s, authz.ViewConcerns, authz.Object{Org: "RM1"}); d.Allowed || d.Reason != authz.IGTrainingDue {
			t.Errorf("%s without IG training: %+v", role, d)
		}
	}
	for _, role := range []string{authz.OrgAdmin, authz.NationalAdmin} {
		for _, a := range []authz.Action{authz.ViewConcerns, authz.NoteConcern, authz.CloseConcern} {
			if authz.Decide(subject(role), a, authz.Object{Org: "RM1", UserID: 1, Role: role}).Allowed {
				t.Errorf("a %s may %s a report about themselves", role, a)
			}
		}
	}
}
