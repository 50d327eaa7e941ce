package authz_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/psims/psims/internal/authz"
)

// TestEventListsShowEachRoleExactlyItsEvents walks every role, with and
// without current IG training, through every kind of list request, and
// checks whose events the policy lets it list. // T13, T14, T18
func TestEventListsShowEachRoleExactlyItsEvents(t *testing.T) {
	type want struct {
		mine    bool
		orgs    []string
		all     bool
		refused authz.Reason
	}
	mine := want{mine: true}
	own := want{orgs: []string{"RM1"}}
	for _, c := range []struct {
		role string
		ig   bool
		req  authz.EventList
		want want
	}{
		{authz.Reporter, true, authz.EventList{}, mine},
		{authz.Reporter, true, authz.EventList{Org: "D82044"}, want{refused: authz.NotPermitted}},
		{authz.Reporter, true, authz.EventList{Export: true}, want{refused: authz.NotPermitted}},
		{authz.Reviewer, true, authz.EventList{}, own},
		{authz.Reviewer, true, authz.EventList{Mine: true}, mine},
		{authz.Reviewer, true, authz.EventList{Org: "D82044"}, own},
		{authz.Reviewer, true, authz.EventList{Export: true, Mine: true}, own},
		{authz.Reviewer, false, authz.EventList{}, mine},
		{authz.Reviewer, false, authz.EventList{Orgs: true}, want{refused: authz.IGTrainingDue}},
		{authz.Reviewer, true, authz.EventList{Orgs: true}, own},
		{authz.OrgAdmin, false, authz.EventList{Orgs: true}, want{refused: authz.IGTrainingDue}},
		{authz.Reporter, true, authz.EventList{Orgs: true}, want{refused: authz.NotPermitted}},
		{authz.NationalAdmin, true, authz.EventList{Orgs: true}, want{all: true}},
		{authz.Reviewer, false, authz.EventList{Export: true}, want{refused: authz.IGTrainingDue}},
		{authz.OrgAdmin, true, authz.EventList{}, own},
		{authz.OrgAdmin, false, authz.EventList{Mine: true}, mine},
		{authz.ReadOnly, true, authz.EventList{}, want{orgs: []string{"QMM", "RXX"}}},
		{authz.ReadOnly, true, authz.EventList{Org: "RXX"}, want{orgs: []string{"RXX"}}},
		{authz.ReadOnly, true, authz.EventList{Org: "RM1"}, want{refused: authz.NotPermitted}},
		{authz.ReadOnly, true, authz.EventList{Mine: true}, want{orgs: []string{"QMM", "RXX"}}},
		{authz.ReadOnly, true, authz.EventList{Export: true}, want{orgs: []string{"QMM", "RXX"}}},
		{authz.ReadOnly, false, authz.EventList{}, want{refused: authz.IGTrainingDue}},
		{authz.NationalAdmin, true, authz.EventList{}, want{all: true}},
		{authz.NationalAdmin, true, authz.EventList{Org: "D82044"}, want{orgs: []string{"D82044"}}},
		{authz.NationalAdmin, true, authz.EventList{Mine: true}, mine},
		{authz.NationalAdmin, true, authz.EventList{Mine: true, Export: true}, want{all: true}},
		{authz.NationalAdmin, false, authz.EventList{}, want{refused: authz.IGTrainingDue}},
		{authz.NationalAdmin, false, authz.EventList{Mine: true}, mine},
	} {
		t.Run(fmt.Sprintf("%s ig=%v %+v", c.role, c.ig, c.req), func(t *testing.T) {
			s := authz.Subject{UserID: 1, Role: c.role, Org: "RM1", IGCurrent: c.ig}
			if c.role == authz.ReadOnly {
				s.ReadOrgs = []string{"QMM", "RXX"}
			}
			l, d, _ := authz.ListEvents(s, c.req)
			if c.want.refused != "" {
				if d.Allowed || d.Reason != c.want.refused {
					t.Fatalf("decision %+v, want refused for %s", d, c.want.refused)
				}
				return
			}
			if d.Denied() {
				t.Fatalf("refused: %+v", d)
			}
			if l.Mine() != c.want.mine || l.All != c.want.all || !slices.Equal(l.Orgs, c.want.orgs) {
				t.Fatalf("listing %+v, want %+v", l, c.want)
			}
			if l.Mine() && l.ReporterID != s.UserID {
				t.Fatalf("own events of user %d, want %d", l.ReporterID, s.UserID)
			}
		})
	}
}

// TestNoListingLeaksAcrossAPendingMove: while a move to another
// organisation waits, only one's own events can be listed. // P14
func TestNoListingLeaksAcrossAPendingMove(t *testing.T) {
	for _, role := range []string{authz.Reviewer, authz.OrgAdmin, authz.ReadOnly, authz.NationalAdmin} {
		s := authz.Subject{UserID: 1, Role: role, Org: "RM1", ReadOrgs: []string{"QMM"}, IGCurrent: true, OrgMovePending: true}
		for _, req := range []authz.EventList{{}, {Org: "QMM"}, {Export: true}} {
			l, d, _ := authz.ListEvents(s, req)
			if d.Allowed && !l.Mine() {
				t.Errorf("%s with a pending move listed %+v for %+v", role, l, req)
			}
		}
	}
}

// TestUnknownRolesAndNobodyListNothing.
func TestUnknownRolesAndNobodyListNothing(t *testing.T) {
	for _, s := range []authz.Subject{{}, {UserID: 1, Role: "superuser", IGCurrent: true}} {
		if _, d, _ := authz.ListEvents(s, authz.EventList{}); d.Allowed {
			t.Errorf("%+v may list events", s)
		}
	}
}
