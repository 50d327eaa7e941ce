package authz_test

import (
	"testing"

	"github.com/psims/psims/internal/authz"
)

// The outbox names every recipient, so national admins alone read it and
// send messages again, with current IG training (issue 14, T18).
func TestOnlyNationalAdminsManageTheOutbox(t *testing.T) { // T18
	for _, role := range roles {
		want := role == authz.NationalAdmin
		for _, o := range []authz.Object{{}, {Change: true}, {Org: "RM1"}} {
			if got := authz.Decide(subject(role), authz.ManageOutbox, o).Allowed; got != want {
				t.Errorf("%s manages the outbox (%+v): %v, want %v", role, o, got, want)
			}
		}
	}
	s := subject(authz.NationalAdmin)
	s.IGCurrent = false
	if d := authz.Decide(s, authz.ManageOutbox, authz.Object{}); d.Allowed || d.Reason != authz.IGTrainingDue {
		t.Errorf("a national admin without IG training: %+v, want refused for training", d)
	}
	if authz.Decide(authz.Subject{}, authz.ManageOutbox, authz.Object{}).Allowed {
		t.Error("the outbox allowed with nobody signed in")
	}
}
