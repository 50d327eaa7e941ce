// Package authz is the one authorisation policy of PSIMS. Every handler asks
// it "may this user do this action on this object?" and acts on the answer.
// It is pure: no I/O, no state, so it can be tested exhaustively and called
// on every request.
package authz

import "slices"

// Role slugs, as stored on users.
const (
	Reporter      = "reporter"
	Reviewer      = "reviewer"
	OrgAdmin      = "org-admin"
	ReadOnly      = "read-only"
	NationalAdmin = "national-admin"
)

// Subject is the signed-in user asking.
type Subject struct {
	UserID int64
	Role   string
	Org    string // ODS code of the user's own organisation
	// ReadOrgs are the organisations a read-only user has been granted.
	ReadOrgs []string
	// IGCurrent is true when information governance training is recorded
	// within the validity period (T18).
	IGCurrent bool
	// OrgMovePending is true while a move to another organisation waits for
	// approval: the user sees neither organisation's data meanwhile (P14).
	OrgMovePending bool
	// Restricted is true while the processing of the person's data is
	// restricted at their request: they may read but change nothing
	// (P15).
	Restricted bool
}

// Action is something a user may want to do.
type Action string

// The actions. Object says which organisation (and user) each applies to.
const (
	// ManageOwnAccount covers a user's own profile, sessions, IG training
	// date and role requests. Object.UserID is the account.
	ManageOwnAccount Action = "account.manage_own"
	// ListUsers lists the users of Object.Org ("" means every organisation).
	ListUsers Action = "users.list"
	// ExportUsers downloads the user list of Object.Org as CSV.
	ExportUsers Action = "users.export"
	// ViewUser shows one user of Object.Org.
	ViewUser Action = "users.view"
	// DecideRegistration approves or rejects a registration for Object.Org.
	DecideRegistration Action = "users.decide_registration"
	// ChangeStatus suspends, deactivates or reinstates a user of
	// Object.Org whose current role is Object.Role.
	ChangeStatus Action = "users.change_status"
	// ResetTwoStep removes the authenticator app and recovery codes of a
	// user of Object.Org whose role is Object.Role, who has lost them.
	ResetTwoStep Action = "users.reset_two_step"
	// ChangeRole gives a user of Object.Org, whose current role is
	// Object.Role, the role Object.NewRole.
	ChangeRole Action = "users.change_role"
	// DecideRequest approves or rejects a role request or an organisation
	// move into Object.Org by a user whose current role is Object.Role,
	// for the role Object.NewRole.
	DecideRequest Action = "requests.decide"
	// ManageReadGrants sets which organisations a read-only user may read.
	ManageReadGrants Action = "users.read_grants"
	// ListOrganisations browses and searches every organisation.
	ListOrganisations Action = "orgs.list"
	// ViewOrgRecords reads the patient safety records of Object.Org.
	ViewOrgRecords Action = "records.view_org"
	// RecordEvents records patient safety events and keeps drafts: every
	// role but read-only. It reads nobody else's data.
	RecordEvents Action = "records.create"
	// ViewRecord reads one event of Object.Org recorded by Object.UserID
	// (0 for the public). Everyone reads the events they recorded.
	ViewRecord Action = "records.view"
	// AmendRecord adds a version to one event of Object.Org recorded by
	// Object.UserID: its reporter, or a reviewer of its organisation.
	AmendRecord Action = "records.amend"
	// ViewReview reads the review of one event of Object.Org: its state,
	// assignee, due date and review notes. They are the recording
	// organisation's own working: its reviewers and admins read them, and
	// the operator; nobody else, the event's reporter included unless they
	// review for that organisation.
	ViewReview Action = "records.review_view"
	// ReviewEvent changes the review of one event of Object.Org (state,
	// assignee, due date) and adds review notes: its organisation's
	// reviewers and admins.
	ReviewEvent Action = "records.review"
	// EditReviewNote changes a review note of an event of Object.Org
	// written by Object.UserID: its author, while they review for that
	// organisation. Every version is kept.
	EditReviewNote Action = "records.review_note_edit"
	// ManageDocuments publishes versions of the terms, privacy policy and
	// recording statement, and shows who has accepted them (T2, T19).
	ManageDocuments Action = "documents.manage"
	// ViewUsageReport shows how an organisation's people use the service,
	// or with Object.Org "" the national report (T9, P2, P10, P19).
	ViewUsageReport Action = "usage.report"
	// SendFeedback sends feedback or a question about the service from the
	// "?" link (P3): every signed-in user, whatever their role, training
	// or pending move, as it reads nobody else's data.
	SendFeedback Action = "feedback.send"
	// ViewOwnFeedback reads feedback or a question Object.UserID sent, and
	// the operator's replies (P8): its sender alone. The operator reads it
	// in the inbox (ManageFeedback), not here.
	ViewOwnFeedback Action = "feedback.view_own"
	// ManageFeedback is the operator's inbox of feedback and questions:
	// list, read, assign, reply, close and reopen (P8). National admins.
	ManageFeedback Action = "feedback.manage"
	// DownloadOwnData asks for, and downloads, everything held about
	// Object.UserID (P15): that person alone, whatever their role,
	// training or pending move, as it holds nobody else's data.
	DownloadOwnData Action = "data.download_own"
	// DiscloseUserData makes and reads a legal disclosure export about the
	// user Object.UserID (P18): national admins, who must record the legal
	// basis and a reference.
	DiscloseUserData Action = "data.disclose"
	// ReportConcern reports a breach of the terms, unauthorised access, a
	// need to deactivate a user or a suspected data breach (T5): every
	// signed-in user, whatever their training or a pending move, as the
	// terms require it of all. Someone signed out reports from the
	// sign-in page, a public route that asks nobody.
	ReportConcern Action = "concerns.report"
	// ViewConcerns lists and reads concern reports about users of
	// Object.Org; with Object.Org "" every report, those naming nobody
	// included: national admins, and an organisation's admins for its
	// own users (T5).
	ViewConcerns Action = "concerns.view"
	// NoteConcern adds a note to a concern report about a user of
	// Object.Org: whoever may read it.
	NoteConcern Action = "concerns.note"
	// CloseConcern closes a concern report with its outcome, which is
	// emailed to the reporter: the operator's, so national admins (T5).
	// Acting on the account a report names is ChangeStatus on that
	// account.
	CloseConcern Action = "concerns.close"
	// ViewAuditLog reads and exports the audit log, whoever's actions it
	// records: national admins only (issue 13).
	ViewAuditLog Action = "audit.view"
	// ManageOutbox reads the outbox (who was sent what subject, and how
	// delivery went; never bodies or links) and sends a failed or
	// uncertain message again: the operator's, so national admins only
	// (issue 14).
	ManageOutbox Action = "outbox.manage"
	// ManageAPIKeys lists, creates and revokes the API keys of
	// Object.Org, which local risk management systems send to the
	// LFPSE-compatible API (issue 16, T3): the organisation's admins for
	// their own, national admins for any.
	ManageAPIKeys Action = "apikeys.manage"
)

// Object is what an action is done to.
type Object struct {
	Org    string // the organisation it belongs to; "" means all organisations
	UserID int64  // the user it is, or belongs to, when there is one
	// Role is, for actions on a user, the role they hold now. Nobody may
	// act on an account whose role they could not grant, so it is checked
	// for every such action, whatever the action would change.
	Role string
	// NewRole is, for ChangeRole and DecideRequest, the role the user
	// would hold afterwards.
	NewRole string
	// Audience is, for ReadLibraryDocument, who the document is for.
	Audience Audience
	// Change is true when the request would change something (a form
	// posted), so that a restricted person is refused it (P15).
	Change bool
}

// Reason says why an action was refused, so the page can say what to do.
type Reason string

// The reasons.
const (
	Granted        Reason = ""
	NotPermitted   Reason = "not_permitted"    // the role does not allow it, or not for this organisation
	IGTrainingDue  Reason = "ig_training_due"  // allowed once IG training is recorded (T18)
	OrgMovePending Reason = "org_move_pending" // allowed once the move is approved (P14)
	NotSignedIn    Reason = "not_signed_in"    // there is no user
	unknownSubject Reason = "unknown_role"     // a role the policy does not know: refuse everything
	neverPermitted Reason = "never_permitted"  // nobody may, for example acting on oneself
)

// Decision is the answer.
type Decision struct {
	Allowed bool
	Reason  Reason
}

// Denied reports whether the action was refused.
func (d Decision) Denied() bool { return !d.Allowed }

func allow() Decision        { return Decision{Allowed: true} }
func deny(r Reason) Decision { return Decision{Reason: r} }

// SeesOthersData reports whether a role sees data about other people, and so
// needs current IG training (T18).
func SeesOthersData(role string) bool {
	return role == Reviewer || role == OrgAdmin || role == ReadOnly || role == NationalAdmin
}

// Reviews reports whether s answers the governance questions of the
// events they record or amend (duty of candour, never event, serious
// incident): reviewers, organisation admins and national admins.
func Reviews(s Subject) bool {
	return s.Role == Reviewer || s.Role == OrgAdmin || s.Role == NationalAdmin
}

// Assignable reports whether a person with the role may be given the
// review of their organisation's events: reviewers and organisation
// admins.
func Assignable(role string) bool { return role == Reviewer || role == OrgAdmin }

// AssignableRoles lists the roles Assignable admits.
func AssignableRoles() []string { return []string{Reviewer, OrgAdmin} }

// Decide answers whether s may do a to o.
func Decide(s Subject, a Action, o Object) Decision {
	if s.UserID == 0 {
		return deny(NotSignedIn)
	}
	if !slices.Contains([]string{Reporter, Reviewer, OrgAdmin, ReadOnly, NationalAdmin}, s.Role) {
		return deny(unknownSubject)
	}
	if s.Restricted && changes(a, o) {
		return deny(Restricted)
	}
	if a == ManageOwnRights {
		if o.UserID == s.UserID {
			return allow()
		}
		return deny(NotPermitted)
	}
	if a == SendFeedback || a == ReportConcern {
		return allow()
	}
	if a == ManageOwnAccount || a == ViewOwnFeedback || a == DownloadOwnData {
		if o.UserID == s.UserID {
			return allow()
		}
		return deny(NotPermitted)
	}
	// Recording, and one's own records, touch nobody else's data, so they
	// need no IG training.
	switch {
	case a == RecordEvents && s.Role == ReadOnly:
		return deny(NotPermitted)
	case a == RecordEvents:
		return allow()
	case a == ViewRecord && o.UserID == s.UserID:
		return allow()
	case a == AmendRecord && o.UserID == s.UserID && s.Role != ReadOnly:
		return allow()
	case a == ReadLibraryDocument:
		return readLibrary(s, o)
	}
	if !roleAllows(s, a, o) {
		return deny(NotPermitted)
	}
	// Every remaining action reads or changes other people's data.
	if s.OrgMovePending {
		return deny(OrgMovePending)
	}
	if !s.IGCurrent {
		return deny(IGTrainingDue)
	}
	// Nobody changes their own status or role through admin screens.
	if o.UserID != 0 && o.UserID == s.UserID && (a == ChangeStatus || a == ResetTwoStep || a == ChangeRole || a == DecideRegistration || a == DecideRequest || a == ManageReadGrants) {
		return deny(neverPermitted)
	}
	// Nobody works a concern report about themselves: others do.
	if o.UserID != 0 && o.UserID == s.UserID && (a == ViewConcerns || a == NoteConcern || a == CloseConcern) {
		return deny(neverPermitted)
	}
	return allow()
}

// roleAllows is the role table: what each role may do, and where.
func roleAllows(s Subject, a Action, o Object) bool {
	switch s.Role {
	case NationalAdmin:
		// The operator reads an organisation's reviews but does not do
		// them: the review is the organisation's.
		return a != ReviewEvent && a != EditReviewNote
	case OrgAdmin:
		if o.Org == "" || o.Org != s.Org {
			return false
		}
		switch a {
		case ListUsers, ExportUsers, ViewUser, DecideRegistration, ViewOrgRecords, ViewRecord, AmendRecord,
			ViewReview, ReviewEvent, ViewUsageReport, ViewConcerns, NoteConcern:
			return true
		case EditReviewNote:
			return o.UserID == s.UserID
		case ViewDormancy, ManageAPIKeys:
			return true
		case ViewDashboard:
			return true
		case ChangeStatus, ResetTwoStep:
			// An organisation's admin manages its staff, not the
			// operator's: only accounts whose role they could grant.
			return orgAdminGrants(o.Role)
		case ChangeRole, DecideRequest:
			// Both the role held now and the new one must be theirs to
			// give, or an org admin could demote a national admin.
			return orgAdminGrants(o.Role) && orgAdminGrants(o.NewRole)
		}
		return false
	case Reviewer:
		if a == EditReviewNote {
			return o.Org != "" && o.Org == s.Org && o.UserID == s.UserID
		}
		if a == ViewDashboard {
			return o.Org != "" && o.Org == s.Org
		}
		return (a == ViewOrgRecords || a == ViewRecord || a == AmendRecord || a == ViewReview || a == ReviewEvent) &&
			o.Org != "" && o.Org == s.Org
	case ReadOnly:
		if a == ViewDashboard {
			return o.Org != "" && slices.Contains(s.ReadOrgs, o.Org)
		}
		return (a == ViewOrgRecords || a == ViewRecord) && o.Org != "" && slices.Contains(s.ReadOrgs, o.Org)
	}
	return false
}

// orgAdminGrants reports whether an organisation admin may grant role:
// the organisation's own roles. Read-only and national roles are the
// operator's to give, and an unknown or missing role is nobody's.
func orgAdminGrants(role string) bool {
	return role == Reporter || role == Reviewer || role == OrgAdmin
}
