package mail

// Messages about changes people make to their own profile (P14).

// ConfirmEmailChange asks a user to confirm the new email address they gave
// for their account, through link. The link lasts 24 hours.
func ConfirmEmailChange(to, name, link string) Message {
	return build(to, "Confirm your new email address for PSIMS", link, letter{
		Name: name,
		Before: []string{
			"You asked to use this email address for your PSIMS account.",
			"Use this link to confirm it:",
		},
		Link: linkMarker,
		After: []string{
			"The link lasts 24 hours and can only be used once. Until you confirm, keep signing in with your current email address.",
			"If you did not ask for this, you can ignore this email. Nothing will change.",
		},
	})
}

// EmailChangeAddressTaken tells the owner of an address that someone asked
// to move another PSIMS account to it. The address already has an account,
// so nothing changes; the form that asked never reveals this.
func EmailChangeAddressTaken(to, name string) Message {
	return build(to, "Someone tried to use your email address on PSIMS", "", letter{
		Name: name,
		Before: []string{
			"Someone asked to change the email address of a PSIMS account to this address. This address already has a PSIMS account, so nothing has changed.",
			"If it was you, you already have an account with this address. You can sign in with it, or reset its password from the sign in page if you have forgotten it.",
			"If it was not you, you do not need to do anything.",
		},
	})
}

// EmailChangeRequested tells a user, at their current address, that a
// change of address to newEmail was asked for. It has no link: the change
// happens only when the new address is confirmed.
func EmailChangeRequested(to, name, newEmail string) Message {
	return build(to, "A change of email address was requested for your PSIMS account", "", letter{
		Name: name,
		Before: []string{
			"Someone signed in to your PSIMS account and asked to change its email address to " + newEmail + ".",
			"The change will only happen if the link we sent to that address is used. Until then, your account keeps this address.",
			"If this was not you, reset your password from the sign in page straight away and tell your organisation's PSIMS administrator.",
		},
	})
}

// EmailChanged tells a user, at their old address, that their account now
// uses newEmail.
func EmailChanged(to, name, newEmail string) Message {
	return build(to, "The email address of your PSIMS account has changed", "", letter{
		Name: name,
		Before: []string{
			"The email address of your PSIMS account is now " + newEmail + ". We will not send any more emails to this address.",
			"You have been signed out everywhere. Sign in with your new email address.",
			"If this was not you, contact your organisation's PSIMS administrator straight away.",
		},
	})
}
