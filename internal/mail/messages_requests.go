package mail

// Messages about decisions on registrations, role requests and moves
// between organisations.

// RegistrationRejected tells a person their registration was not approved,
// why, and who to ask about it.
func RegistrationRejected(to, name, reason, orgName string) Message {
	return build(to, "Your PSIMS registration was not approved", "", letter{
		Name: name,
		Before: []string{
			"An administrator for " + orgName + " has looked at your request for a PSIMS account and has not approved it.",
			"The reason they gave is: " + reason,
			"If you think this is a mistake, contact the patient safety team or PSIMS administrator at " + orgName + ". They can explain the decision and, if it was wrong, ask you to register again.",
		},
	})
}

// RoleRequestApproved tells a user they now have the role they asked for
// (role in words with its article, such as "a reviewer"). Their sessions
// have ended, so they sign in again to use it; igNeeded says whether they
// must record information governance training first.
func RoleRequestApproved(to, name, role, signInURL string, igNeeded bool) Message {
	before := []string{
		"Your request to become " + role + " in PSIMS has been approved.",
		"We have signed you out everywhere so that the change takes effect. Sign in again to use your new account type:",
	}
	var after []string
	if igNeeded {
		after = append(after, "Your new account type lets you see information about other people. Before you can see it, record the date you last completed information governance training on your account page.")
	}
	return build(to, "Your PSIMS account type has changed", "", letter{Name: name, Before: before, Link: signInURL, After: after})
}

// OrgMoveApproved tells a user their move to another organisation was
// approved. They start there as a reporter and sign in again.
func OrgMoveApproved(to, name, orgName, signInURL string) Message {
	return build(to, "Your move to "+orgName+" has been approved", "", letter{
		Name: name,
		Before: []string{
			"An administrator for " + orgName + " has approved your move. Your PSIMS account now belongs to " + orgName + ".",
			"Your account type has gone back to reporter. If you need more than that, you can ask for it from your account page.",
			"We have signed you out everywhere so that the change takes effect. Sign in again:",
		},
		Link: signInURL,
	})
}

// RequestRejected tells a user a request (for a role, or to move to another
// organisation) was not approved, and why. what completes "Your request to
// ...", such as "become a reviewer".
func RequestRejected(to, name, what, reason, orgName string) Message {
	return build(to, "Your PSIMS request was not approved", "", letter{
		Name: name,
		Before: []string{
			"Your request to " + what + " has not been approved by an administrator for " + orgName + ".",
			"The reason they gave is: " + reason,
			"Nothing else about your account has changed. If you have questions about the decision, contact the patient safety team or PSIMS administrator at " + orgName + ".",
		},
	})
}
