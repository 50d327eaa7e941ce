package authz

// ManageSharingAgreements registers, changes, revokes and lists data
// sharing agreements, uploads and downloads their signed documents, and
// reads who exported under them (issue 15, T15): the operator oversees
// sharing (T13), so national admins, with current IG training. The role
// table gives national admins every action it does not name, so this needs
// no line of its own there.
const ManageSharingAgreements Action = "sharing.manage"

// ExportNeedsAgreement reports whether s's event exports leave the
// recording organisation, and so run only under a data sharing agreement
// in force (T15): national admins export anyone's events, read-only users
// their granted organisations', neither of them the recording
// organisation. Reviewers and organisation admins export their own
// organisation's events, inside it.
func ExportNeedsAgreement(s Subject) bool {
	return s.Role == NationalAdmin || s.Role == ReadOnly
}

// ExtractUnderAgreement decides whether s may download an extract under a
// data sharing agreement from its page: national admins, and the
// agreement's named recipients (named says whether s is one), whatever
// their role, as long as their IG training is current and no move to
// another organisation is pending (T15, T18). Whether the agreement is in
// force is the registry's to say.
func ExtractUnderAgreement(s Subject, named bool) Decision {
	if s.UserID == 0 {
		return deny(NotSignedIn)
	}
	if s.Role == NationalAdmin {
		return Decide(s, ManageSharingAgreements, Object{})
	}
	switch {
	case s.Role != Reporter && s.Role != Reviewer && s.Role != OrgAdmin && s.Role != ReadOnly:
		return deny(unknownSubject)
	case !named:
		return deny(NotPermitted)
	case s.OrgMovePending:
		return deny(OrgMovePending)
	case !s.IGCurrent:
		return deny(IGTrainingDue)
	}
	return allow()
}
