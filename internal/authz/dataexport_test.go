package authz_test

import (
	"testing"

	"github.com/psims/psims/internal/authz"
)

// Everyone signed in downloads the data held about them, whatever their
// role, training or a pending move, and nobody downloads another
// person's as their own (P15).
func TestEveryoneDownloadsTheirOwnDataOnly(t *testing.T) { // P15
	for _, role := range roles {
		s := subject(role)
		s.IGCurrent, s.OrgMovePending = false, true
		if d := authz.Decide(s, authz.DownloadOwnData, authz.Object{UserID: 1}); !d.Allowed {
			t.Errorf("%s may not download their own data: %s", role, d.Reason)
		}
		if authz.Decide(subject(role), authz.DownloadOwnData, authz.Object{UserID: 2}).Allowed {
			t.Errorf("%s downloads someone else's data as their own", role)
		}
	}
	if authz.Decide(authz.Subject{}, authz.DownloadOwnData, authz.Object{UserID: 0}).Allowed {
		t.Error("a download allowed with nobody signed in")
	}
}

// Legal disclosures are the operator's: national admins with current IG
// training, about anyone (P18).
func TestOnlyNationalAdminsDiscloseUserData(t *testing.T) { // P18
	for _, role := range roles {
		want := role == authz.NationalAdmin
		for _, o := range []authz.Object{{UserID: 2, Org: "RM1"}, {UserID: 2, Org: "R1A"}} {
			if got := authz.Decide(subject(role), authz.DiscloseUserData, o).Allowed; got != want {
				t.Errorf("%s discloses a user of %s: %v, want %v", role, o.Org, got, want)
			}
		}
	}
	s := subject(authz.NationalAdmin)
	s.IGCurrent = false
	if d := authz.Decide(s, authz.DiscloseUserData, authz.Object{UserID: 2}); d.Allowed || d.Reason != authz.IGTrainingDue {
		t.Errorf("a national admin without IG training: %+v, want refused for training", d)
	}
}
