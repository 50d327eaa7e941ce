package authz

import "testing"

// P15: a person whose processing is restricted reads but changes nothing,
// except that they may still exercise their rights; only national admins
// work the queue; a person's own requests are theirs alone.
func TestRestrictionMakesTheAccountReadOnly(t *testing.T) {
	restricted := Subject{UserID: 7, Role: Reviewer, Org: "RM1", IGCurrent: true, Restricted: true}
	for _, c := range []struct {
		name   string
		a      Action
		o      Object
		reason Reason
	}{
		{"recording is refused", RecordEvents, Object{}, Restricted},
		{"reviewing is refused", ReviewEvent, Object{Org: "RM1"}, Restricted},
		{"amending their own event is refused", AmendRecord, Object{Org: "RM1", UserID: 7}, Restricted},
		{"sending feedback is refused", SendFeedback, Object{}, Restricted},
		{"changing their own account is refused", ManageOwnAccount, Object{UserID: 7, Change: true}, Restricted},
		{"reading their own account is allowed", ManageOwnAccount, Object{UserID: 7}, Granted},
		{"reading the organisation's events is allowed", ViewOrgRecords, Object{Org: "RM1"}, Granted},
		{"asking for erasure is allowed", ManageOwnRights, Object{UserID: 7, Change: true}, Granted},
		{"downloading their data is allowed", DownloadOwnData, Object{UserID: 7, Change: true}, Granted},
		{"reporting a concern is allowed (T5)", ReportConcern, Object{Change: true}, Granted},
	} {
		t.Run(c.name, func(t *testing.T) {
			if d := Decide(restricted, c.a, c.o); d.Reason != c.reason || d.Allowed != (c.reason == Granted) {
				t.Errorf("Decide = %+v, want reason %q", d, c.reason)
			}
		})
	}
	lifted := restricted
	lifted.Restricted = false
	if d := Decide(lifted, RecordEvents, Object{}); !d.Allowed {
		t.Errorf("after lifting, recording = %+v", d)
	}
}

func TestOnlyNationalAdminsWorkTheRightsQueue(t *testing.T) {
	for _, role := range []string{Reporter, Reviewer, OrgAdmin, ReadOnly, NationalAdmin} {
		s := Subject{UserID: 1, Role: role, Org: "RM1", ReadOrgs: []string{"RM1"}, IGCurrent: true}
		for _, o := range []Object{{}, {Org: "RM1", UserID: 2}} {
			if got, want := Decide(s, ManageRightsRequests, o).Allowed, role == NationalAdmin; got != want {
				t.Errorf("%s on %+v: allowed = %v, want %v", role, o, got, want)
			}
		}
		if !Decide(s, ManageOwnRights, Object{UserID: 1}).Allowed {
			t.Errorf("%s may not manage their own rights", role)
		}
		if Decide(s, ManageOwnRights, Object{UserID: 2}).Allowed {
			t.Errorf("%s may manage someone else's rights requests", role)
		}
	}
	noIG := Subject{UserID: 1, Role: NationalAdmin}
	if d := Decide(noIG, ManageRightsRequests, Object{}); d.Reason != IGTrainingDue {
		t.Errorf("national admin without IG training: %+v", d)
	}
}
