package authz

// ManageStatistics creates, previews, publishes and revises official
// statistics publications, keeps their pre-release access lists and loads
// the denominators for reporting rates (issue 15, T16): the operator's, so
// national admins. The role table gives national admins every action it
// does not name, so this needs no line of its own there. Released
// publications are public and need no action at all.
const ManageStatistics Action = "statistics.manage"

// SeesPreRelease reports whether s may read a publication that is
// published but not yet released: someone signed in whose address is on
// its pre-release access list (listed), as the code of practice for
// official statistics allows, and national admins, who publish it. The
// figures are national aggregates under disclosure control, so no IG
// training is needed to read them.
func SeesPreRelease(s Subject, listed bool) bool {
	if s.UserID == 0 {
		return false
	}
	return listed || Decide(s, ManageStatistics, Object{}).Allowed
}
