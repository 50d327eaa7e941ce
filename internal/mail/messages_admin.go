package mail

// Messages about changes an administrator made to someone's account. None of
// them carries the reason the administrator gave: it is kept in the audit log,
// and the person can ask their organisation's administrator about it.

// AccountSuspended tells a user their account has been suspended.
func AccountSuspended(to, name string) Message {
	return build(to, "Your PSIMS account has been suspended", "", letter{
		Name: name,
		Before: []string{
			"An administrator has suspended your PSIMS account. You cannot sign in while it is suspended.",
			"To find out why, or to ask for it to be reinstated, contact the PSIMS administrator at your organisation.",
		},
	})
}

// AccountDeactivated tells a user their account has been closed.
func AccountDeactivated(to, name string) Message {
	return build(to, "Your PSIMS account has been deactivated", "", letter{
		Name: name,
		Before: []string{
			"An administrator has deactivated your PSIMS account, so you can no longer sign in.",
			"If you think this is a mistake, contact the PSIMS administrator at your organisation.",
		},
	})
}

// AccountReinstated tells a user they can sign in again.
func AccountReinstated(to, name, signInURL string) Message {
	return build(to, "You can sign in to PSIMS again", "", letter{
		Name:   name,
		Before: []string{"An administrator has reinstated your PSIMS account. You can sign in again.", "Sign in to PSIMS:"},
		Link:   signInURL,
	})
}

// RoleChanged tells a user what their account type is now. They need to sign
// in again for it to take effect.
func RoleChanged(to, name, role, signInURL string) Message {
	return build(to, "Your PSIMS account type has changed", "", letter{
		Name: name,
		Before: []string{
			"An administrator has changed your PSIMS account type to " + role + ".",
			"We have signed you out everywhere so the change takes effect. Sign in again to carry on:",
		},
		Link:  signInURL,
		After: []string{"If you did not expect this change, contact the PSIMS administrator at your organisation."},
	})
}
