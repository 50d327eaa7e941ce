package authz

// The actions on the rights to erasure, restriction and objection (issue
// 13 item 2, P15).
const (
	// ManageOwnRights asks for erasure or restriction, objects to contact,
	// lists one's own requests and withdraws an open one. Object.UserID is
	// the person. Allowed to a restricted person too: exercising a right
	// is never refused because another was exercised.
	ManageOwnRights Action = "rights.manage_own"
	// ManageRightsRequests is the national admins' queue of requests:
	// list, read, add notes, extend, refuse, complete, lift a restriction.
	ManageRightsRequests Action = "rights.manage"
)

// Restricted is the reason for refusing a change to a person whose
// processing is restricted at their request: their account is read-only
// until a national admin lifts the restriction (P15).
const Restricted Reason = "restricted"

// changes reports whether a is an action that changes data, whatever the
// request: the ones a restricted person may not do. Actions that both
// read and change (managing one's own account, the feedback inbox, user
// administration) are refused as changes when Object.Change says the
// request would change something.
func changes(a Action, o Object) bool {
	switch a {
	case ManageOwnRights, DownloadOwnData, ReportConcern:
		// Exercising their rights, taking a copy of their data, and
		// reporting a breach or unauthorised access (T5) stay open to a
		// restricted person: none of them processes their data further.
		return false
	case RecordEvents, AmendRecord, ReviewEvent, EditReviewNote, ChangeStatus, ResetTwoStep, ChangeRole, DecideRegistration,
		DecideRequest, ManageReadGrants, SendFeedback:
		return true
	}
	return o.Change
}
