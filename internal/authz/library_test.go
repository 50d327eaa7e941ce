package authz_test

import (
	"testing"

	"github.com/psims/psims/internal/authz"
)

// Everyone in a document's audience may open it, and the national admins
// who manage the library; nobody needs IG training for guidance. Only
// national admins manage the library.
func TestLibraryDocumentsAreForTheirAudienceAndManagedByNationalAdmins(t *testing.T) { // P2
	audiences := map[string]authz.Audience{
		"everyone":          {Everyone: true},
		"reviewers":         {Roles: []string{authz.Reviewer}},
		"admins":            {Roles: []string{authz.OrgAdmin, authz.NationalAdmin}},
		"read-only and all": {Everyone: true, Roles: []string{authz.ReadOnly}},
		"nobody":            {},
	}
	want := map[string][]string{
		"everyone":          roles,
		"reviewers":         {authz.Reviewer, authz.NationalAdmin},
		"admins":            {authz.OrgAdmin, authz.NationalAdmin},
		"read-only and all": roles,
		"nobody":            {authz.NationalAdmin},
	}
	for name, a := range audiences {
		for _, role := range roles {
			s := subject(role)
			s.IGCurrent = false
			got := authz.Decide(s, authz.ReadLibraryDocument, authz.Object{Audience: a}).Allowed
			allowed := false
			for _, r := range want[name] {
				allowed = allowed || r == role
			}
			if got != allowed {
				t.Errorf("%s reading a document for %s: allowed = %v, want %v", role, name, got, allowed)
			}
		}
	}
	if d := authz.Decide(authz.Subject{}, authz.ReadLibraryDocument, authz.Object{Audience: authz.Audience{Everyone: true}}); d.Reason != authz.NotSignedIn {
		t.Errorf("nobody signed in: %+v", d)
	}
	for _, role := range roles {
		d := authz.Decide(subject(role), authz.ManageLibrary, authz.Object{})
		if d.Allowed != (role == authz.NationalAdmin) {
			t.Errorf("%s managing the library: allowed = %v", role, d.Allowed)
		}
	}
	s := subject(authz.NationalAdmin)
	s.IGCurrent = false
	if d := authz.Decide(s, authz.ManageLibrary, authz.Object{}); d.Reason != authz.IGTrainingDue {
		t.Errorf("a national admin without IG training managing the library: %+v", d)
	}
}

func TestLibraryListsShowTheViewersAudienceOrEverythingToNationalAdmins(t *testing.T) {
	for _, role := range roles {
		scope, d := authz.ListLibrary(subject(role))
		if !d.Allowed {
			t.Fatalf("%s refused the library: %+v", role, d)
		}
		want := authz.LibraryScope{Role: role}
		if role == authz.NationalAdmin {
			want = authz.LibraryScope{All: true}
		}
		if scope != want {
			t.Errorf("%s: scope %+v, want %+v", role, scope, want)
		}
	}
	if _, d := authz.ListLibrary(authz.Subject{}); d.Reason != authz.NotSignedIn {
		t.Errorf("nobody signed in: %+v", d)
	}
	if _, d := authz.ListLibrary(authz.Subject{UserID: 1, Role: "superuser"}); d.Allowed {
		t.Error("an unknown role lists the library")
	}
}
