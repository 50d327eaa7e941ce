package authz_test

import (
	"fmt"
	"testing"

	"github.com/psims/psims/internal/authz"
)

// Who sees which dashboard: reviewers and organisation admins their own
// organisation's, read-only users their granted organisations', national
// admins any organisation's and the national one; reporters none; and
// everyone who may needs current IG training and no pending move (T18,
// P14). // T14
func TestViewDashboard(t *testing.T) {
	want := map[string][]string{
		authz.Reporter:      {},
		authz.Reviewer:      {"RM1"},
		authz.OrgAdmin:      {"RM1"},
		authz.ReadOnly:      {"QMM"},
		authz.NationalAdmin: {"RM1", "D82044", "QMM", ""},
	}
	for _, role := range roles {
		for _, org := range []string{"RM1", "D82044", "QMM", ""} {
			allowed := false
			for _, o := range want[role] {
				allowed = allowed || o == org
			}
			name := fmt.Sprintf("%s@%q", role, org)
			d := authz.Decide(subject(role), authz.ViewDashboard, authz.Object{Org: org})
			if d.Allowed != allowed {
				t.Errorf("%s: allowed = %v, want %v (%q)", name, d.Allowed, allowed, d.Reason)
			}
			if !allowed {
				continue
			}
			untrained := subject(role)
			untrained.IGCurrent = false
			if d := authz.Decide(untrained, authz.ViewDashboard, authz.Object{Org: org}); d.Reason != authz.IGTrainingDue {
				t.Errorf("%s without IG training: %+v", name, d)
			}
			moving := subject(role)
			moving.OrgMovePending = true
			if d := authz.Decide(moving, authz.ViewDashboard, authz.Object{Org: org}); d.Reason != authz.OrgMovePending {
				t.Errorf("%s moving: %+v", name, d)
			}
		}
	}
}

// The dashboard each role gets without asking for one. // T14
func TestDashboardOrgDefaults(t *testing.T) {
	for _, c := range []struct {
		role, asked, want string
		grants            []string
	}{
		{authz.Reviewer, "", "RM1", nil},
		{authz.OrgAdmin, "", "RM1", nil},
		{authz.Reporter, "", "RM1", nil},
		{authz.ReadOnly, "", "QMM", []string{"QMM", "RM2"}},
		{authz.ReadOnly, "", "", nil},
		{authz.ReadOnly, "RM2", "RM2", []string{"QMM", "RM2"}},
		{authz.NationalAdmin, "", "", nil},
		{authz.NationalAdmin, "D82044", "D82044", nil},
		{authz.Reviewer, "D82044", "D82044", nil}, // asked for, and then refused by Decide
	} {
		s := subject(c.role)
		s.ReadOrgs = c.grants
		if got := authz.DashboardOrg(s, c.asked); got != c.want {
			t.Errorf("%s asking for %q: %q, want %q", c.role, c.asked, got, c.want)
		}
	}
	if authz.Decide(subject(authz.Reviewer), authz.ViewDashboard, authz.Object{Org: authz.DashboardOrg(subject(authz.Reviewer), "D82044")}).Allowed {
		t.Error("a reviewer sees another organisation's dashboard")
	}
}
