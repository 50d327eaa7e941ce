package authz_test

import (
	"testing"

	"github.com/psims/psims/internal/authz"
)

// Publications are official statistics, so only the operator's staff
// create, publish and revise them, with current IG training (T16, T18).
func TestOnlyNationalAdminsManageStatistics(t *testing.T) { // T16
	for _, role := range roles {
		want := role == authz.NationalAdmin
		for _, o := range []authz.Object{{}, {Org: "RM1"}, {Change: true}} {
			if got := authz.Decide(subject(role), authz.ManageStatistics, o).Allowed; got != want {
				t.Errorf("%s manages statistics (%+v): %v, want %v", role, o, got, want)
			}
		}
	}
	s := subject(authz.NationalAdmin)
	s.IGCurrent = false
	if d := authz.Decide(s, authz.ManageStatistics, authz.Object{}); d.Allowed || d.Reason != authz.IGTrainingDue {
		t.Errorf("a national admin without IG training: %+v, want refused for training", d)
	}
	s = subject(authz.NationalAdmin)
	s.Restricted = true
	if authz.Decide(s, authz.ManageStatistics, authz.Object{Change: true}).Allowed {
		t.Error("a restricted national admin published statistics")
	}
}

// Before its release, a publication is seen only by people on its
// pre-release list and the national admins who publish it (T16).
func TestPreReleaseOnlyForTheListAndNationalAdmins(t *testing.T) { // T16
	for _, role := range roles {
		if !authz.SeesPreRelease(subject(role), true) {
			t.Errorf("%s on the list does not see the pre-release", role)
		}
		if got, want := authz.SeesPreRelease(subject(role), false), role == authz.NationalAdmin; got != want {
			t.Errorf("%s not on the list sees the pre-release: %v, want %v", role, got, want)
		}
	}
	if authz.SeesPreRelease(authz.Subject{}, true) {
		t.Error("someone signed out sees the pre-release")
	}
}
