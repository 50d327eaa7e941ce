package authz_test

import (
	"testing"

	"github.com/psims/psims/internal/authz"
)

// The audit log records what everybody did, so national admins alone read
// and export it, with current IG training and whatever organisation or
// person the filters name (issue 13, T13, T18).
func TestOnlyNationalAdminsReadTheAuditLog(t *testing.T) { // T13, T18
	for _, role := range roles {
		want := role == authz.NationalAdmin
		for _, o := range []authz.Object{{}, {Org: "RM1"}, {Org: "D82044"}, {UserID: 1}, {UserID: 2}} {
			if got := authz.Decide(subject(role), authz.ViewAuditLog, o).Allowed; got != want {
				t.Errorf("%s reads the audit log (%+v): %v, want %v", role, o, got, want)
			}
		}
	}
	s := subject(authz.NationalAdmin)
	s.IGCurrent = false
	if d := authz.Decide(s, authz.ViewAuditLog, authz.Object{}); d.Allowed || d.Reason != authz.IGTrainingDue {
		t.Errorf("a national admin without IG training: %+v, want refused for training", d)
	}
	if authz.Decide(authz.Subject{}, authz.ViewAuditLog, authz.Object{}).Allowed {
		t.Error("the audit log allowed with nobody signed in")
	}
}
