package authz_test

import (
	"testing"

	"github.com/psims/psims/internal/authz"
)

// Newsletters and invitations go to every user, so only the operator's
// staff compose and send them, with current IG training (P7, T18).
func TestOnlyNationalAdminsManageNewsletters(t *testing.T) { // P7
	for _, role := range roles {
		want := role == authz.NationalAdmin
		for _, o := range []authz.Object{{}, {Org: "RM1"}, {Change: true}} {
			if got := authz.Decide(subject(role), authz.ManageNewsletters, o).Allowed; got != want {
				t.Errorf("%s manages newsletters (%+v): %v, want %v", role, o, got, want)
			}
		}
	}
	s := subject(authz.NationalAdmin)
	s.IGCurrent = false
	if d := authz.Decide(s, authz.ManageNewsletters, authz.Object{}); d.Allowed || d.Reason != authz.IGTrainingDue {
		t.Errorf("a national admin without IG training: %+v, want refused for training", d)
	}
	s = subject(authz.NationalAdmin)
	s.Restricted = true
	if authz.Decide(s, authz.ManageNewsletters, authz.Object{Change: true}).Allowed {
		t.Error("a restricted national admin sent a newsletter")
	}
}
