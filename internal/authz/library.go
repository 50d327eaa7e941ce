package authz

import "slices"

// The actions on the guidance library (issue 12).
const (
	// ReadLibraryDocument opens one document of the guidance library, whose
	// audience is Object.Audience: everyone in its audience, and the
	// national admins who manage the library. Guidance is nobody's
	// personal data, so it needs no IG training.
	ReadLibraryDocument Action = "library.read"
	// ManageLibrary adds documents to the guidance library, uploads new
	// versions of them and changes their details: national admins.
	ManageLibrary Action = "library.manage"
)

// Audience is who a document of the guidance library is for. The zero
// Audience is nobody (but the national admins who manage the library).
type Audience struct {
	Everyone bool     // every signed-in person
	Roles    []string // otherwise, people with one of these roles
}

// Includes reports whether a person with role is in the audience.
func (a Audience) Includes(role string) bool {
	return a.Everyone || slices.Contains(a.Roles, role)
}

// LibraryScope is which documents of the guidance library a person's
// list shows: every one, or those whose audience includes Role.
type LibraryScope struct {
	All  bool
	Role string
}

// ListLibrary decides which documents of the guidance library s may list:
// national admins every one, as they manage them; everyone else those for
// everyone and those for their role.
func ListLibrary(s Subject) (LibraryScope, Decision) {
	if s.UserID == 0 {
		return LibraryScope{}, deny(NotSignedIn)
	}
	switch s.Role {
	case NationalAdmin:
		return LibraryScope{All: true}, allow()
	case Reporter, Reviewer, OrgAdmin, ReadOnly:
		return LibraryScope{Role: s.Role}, allow()
	}
	return LibraryScope{}, deny(unknownSubject)
}

// readLibrary decides ReadLibraryDocument for a known, signed-in s.
func readLibrary(s Subject, o Object) Decision {
	if s.Role == NationalAdmin || o.Audience.Includes(s.Role) {
		return allow()
	}
	return deny(NotPermitted)
}
