package authz_test

import (
	"testing"

	"github.com/psims/psims/internal/authz"
)

// The registry of data sharing agreements is the operator's: national
// admins with current IG training (T13, T15, T18).
func TestOnlyNationalAdminsManageSharingAgreements(t *testing.T) { // T15
	for _, role := range roles {
		want := role == authz.NationalAdmin
		for _, o := range []authz.Object{{}, {Org: "RM1"}, {Change: true}} {
			if got := authz.Decide(subject(role), authz.ManageSharingAgreements, o).Allowed; got != want {
				t.Errorf("%s manages sharing agreements (%+v): %v, want %v", role, o, got, want)
			}
		}
	}
	s := subject(authz.NationalAdmin)
	s.IGCurrent = false
	if d := authz.Decide(s, authz.ManageSharingAgreements, authz.Object{}); d.Allowed || d.Reason != authz.IGTrainingDue {
		t.Errorf("a national admin without IG training: %+v, want refused for training", d)
	}
}

// Exports outside the recording organisation need an agreement: national
// admins' and read-only users'; reviewers and organisation admins export
// their own organisation's events as before (T15).
func TestExportsOutsideTheRecordingOrganisationNeedAnAgreement(t *testing.T) { // T15
	for _, role := range roles {
		want := role == authz.NationalAdmin || role == authz.ReadOnly
		if got := authz.ExportNeedsAgreement(subject(role)); got != want {
			t.Errorf("%s needs an agreement: %v, want %v", role, got, want)
		}
	}
}

// Extracts from an agreement's page: national admins, and the named
// recipients with current training and no pending move (T15, T18).
func TestExtractsAreForNationalAdminsAndNamedRecipients(t *testing.T) { // T15 T18
	for _, role := range roles {
		for _, named := range []bool{false, true} {
			want := role == authz.NationalAdmin || named
			if got := authz.ExtractUnderAgreement(subject(role), named).Allowed; got != want {
				t.Errorf("%s (named %v) extracts: %v, want %v", role, named, got, want)
			}
		}
		s := subject(role)
		s.IGCurrent = false
		if d := authz.ExtractUnderAgreement(s, true); d.Allowed || d.Reason != authz.IGTrainingDue {
			t.Errorf("%s without IG training: %+v", role, d)
		}
		s = subject(role)
		s.OrgMovePending = true
		if authz.ExtractUnderAgreement(s, true).Allowed {
			t.Errorf("%s with a move pending extracts", role)
		}
	}
	if authz.ExtractUnderAgreement(authz.Subject{}, true).Allowed {
		t.Error("an extract with nobody signed in")
	}
	if authz.ExtractUnderAgreement(authz.Subject{UserID: 1, Role: "owner", IGCurrent: true}, true).Allowed {
		t.Error("an unknown role extracts")
	}
}
