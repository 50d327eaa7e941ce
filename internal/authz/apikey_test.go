package authz_test

import (
	"testing"

	"github.com/psims/psims/internal/authz"
)

// T3, T18: an organisation's API keys are its admins' to manage, and a
// national admin's for any organisation, each with current IG training.
func TestAPIKeysNeedAnAdminWithCurrentIGTraining(t *testing.T) {
	for _, role := range []string{authz.OrgAdmin, authz.NationalAdmin} {
		s := subject(role)
		s.IGCurrent = false
		if d := authz.Decide(s, authz.ManageAPIKeys, authz.Object{Org: "RM1"}); d.Allowed || d.Reason != authz.IGTrainingDue {
			t.Errorf("%s without IG training: %+v, want refused for IG training", role, d)
		}
	}
	if d := authz.Decide(subject(authz.OrgAdmin), authz.ManageAPIKeys, authz.Object{}); d.Allowed {
		t.Error("an organisation admin may manage every organisation's keys")
	}
	if d := authz.Decide(subject(authz.NationalAdmin), authz.ManageAPIKeys, authz.Object{}); !d.Allowed {
		t.Errorf("a national admin may not list every organisation's keys: %+v", d)
	}
}
