package authz_test

import (
	"testing"

	"github.com/psims/psims/internal/authz"
)

// Every signed-in user may send feedback or a question, whatever their
// training or a pending move (P3); nobody signed out may.
func TestEveryoneSignedInSendsFeedback(t *testing.T) { // P3
	for _, role := range roles {
		s := subject(role)
		s.IGCurrent, s.OrgMovePending = false, true
		if d := authz.Decide(s, authz.SendFeedback, authz.Object{}); !d.Allowed {
			t.Errorf("%s may not send feedback: %s", role, d.Reason)
		}
	}
	if authz.Decide(authz.Subject{}, authz.SendFeedback, authz.Object{}).Allowed {
		t.Error("feedback allowed with nobody signed in")
	}
	if authz.Decide(authz.Subject{UserID: 1, Role: "superuser"}, authz.SendFeedback, authz.Object{}).Allowed {
		t.Error("feedback allowed for an unknown role")
	}
}

// A sender reads their own feedback and its replies and nobody else's, a
// national admin included: the operator reads it in the inbox (P8).
func TestOnlyTheSenderReadsTheirOwnFeedback(t *testing.T) { // P8
	for _, role := range roles {
		s := subject(role)
		s.IGCurrent = false
		if d := authz.Decide(s, authz.ViewOwnFeedback, authz.Object{UserID: 1}); !d.Allowed {
			t.Errorf("%s cannot read their own feedback: %s", role, d.Reason)
		}
		if authz.Decide(subject(role), authz.ViewOwnFeedback, authz.Object{UserID: 2}).Allowed {
			t.Errorf("%s reads someone else's feedback as their own", role)
		}
	}
}

// The inbox is the operator's: national admins with current IG training,
// as it holds what other people wrote (P8, T13, T18).
func TestOnlyNationalAdminsManageTheFeedbackInbox(t *testing.T) { // P8, T13
	for _, role := range roles {
		want := role == authz.NationalAdmin
		if got := authz.Decide(subject(role), authz.ManageFeedback, authz.Object{UserID: 2}).Allowed; got != want {
			t.Errorf("%s manages the feedback inbox: %v, want %v", role, got, want)
		}
	}
	s := subject(authz.NationalAdmin)
	s.IGCurrent = false
	if d := authz.Decide(s, authz.ManageFeedback, authz.Object{}); d.Allowed || d.Reason != authz.IGTrainingDue {
		t.Errorf("a national admin without IG training: %+v, want refused for training", d)
	}
	if authz.Decide(authz.Subject{}, authz.ManageFeedback, authz.Object{}).Allowed {
		t.Error("the inbox allowed with nobody signed in")
	}
}
