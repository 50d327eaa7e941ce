package mail

// IdentityLinked tells a user that a sign-in at an OpenID Connect
// provider was linked to their account.
func IdentityLinked(to, name, provider, accountURL string) Message {
	return build(to, "Your PSIMS account can now be signed in to through "+provider, "", letter{
		Name: name,
		Before: []string{
			"Your " + provider + " sign-in was linked to your PSIMS account. Signing in at " + provider + " now signs you in to PSIMS.",
			"If this was not you, remove the link from your account page, reset your password and tell your organisation's PSIMS administrator:",
		},
		Link: accountURL,
	})
}

// IdentityUnlinked tells a user that a provider's sign-in was removed
// from their account.
func IdentityUnlinked(to, name, provider string) Message {
	return build(to, "Your PSIMS account is no longer linked to "+provider, "", letter{
		Name: name,
		Before: []string{
			"Your " + provider + " sign-in was removed from your PSIMS account and can no longer sign you in.",
			"If this was not you, reset your password and tell your organisation's PSIMS administrator.",
		},
	})
}

// RegisteredThroughProvider tells the owner of an address that someone
// who signed in at a provider tried to create an account with it.
func RegisteredThroughProvider(to, name, provider, signInURL string) Message {
	return build(to, "Your email address already has a PSIMS account", "", letter{
		Name: name,
		Before: []string{
			"Someone, probably you, signed in at " + provider + " and tried to create a PSIMS account with this email address. It already has an account, so nothing has changed.",
			"To sign in at " + provider + " in future, sign in to PSIMS first, then link " + provider + " from the \"Your account\" page. To sign in, go to:",
		},
		Link:  signInURL,
		After: []string{"If this was not you, you do not need to do anything."},
	})
}
