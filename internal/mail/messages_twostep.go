package mail

import "strconv"

// TwoStepOn tells a user that signing in to their account now needs a code
// from their authenticator app as well as the password.
func TwoStepOn(to, name, accountURL string) Message {
	return build(to, "Two-step verification is on for your PSIMS account", "", letter{
		Name: name,
		Before: []string{
			"Signing in to your PSIMS account now needs a code from your authenticator app as well as your password.",
			"If this was not you, tell your organisation's PSIMS administrator at once: they can reset it.",
			"See your security settings:",
		},
		Link: accountURL,
	})
}

// TwoStepOff tells a user they turned two-step verification off.
func TwoStepOff(to, name string) Message {
	return build(to, "Two-step verification is off for your PSIMS account", "", letter{
		Name: name,
		Before: []string{
			"Signing in to your PSIMS account no longer needs a code from an authenticator app, and your recovery codes no longer work.",
			"If this was not you, reset your password and tell your organisation's PSIMS administrator.",
		},
	})
}

// TwoStepReset tells a user that an administrator removed their
// authenticator app and recovery codes.
func TwoStepReset(to, name, signInURL string) Message {
	return build(to, "Your PSIMS two-step verification has been reset", "", letter{
		Name: name,
		Before: []string{
			"An administrator has removed the authenticator app and recovery codes from your PSIMS account, and signed you out.",
			"The next time you sign in you will be asked to set up an authenticator app again if your account needs one.",
			"If you did not ask for this, contact your organisation's PSIMS administrator.",
			"Sign in to PSIMS:",
		},
		Link: signInURL,
	})
}

// RecoveryCodeUsed tells a user that one of their recovery codes was used
// to sign in, and how many are left.
func RecoveryCodeUsed(to, name string, left int, accountURL string) Message {
	return build(to, "A recovery code was used to sign in to PSIMS", "", letter{
		Name: name,
		Before: []string{
			"Someone signed in to your PSIMS account with one of your recovery codes. You have " + strconv.Itoa(left) + " left.",
			"If this was not you, reset your password and tell your organisation's PSIMS administrator.",
			"If you have lost your authenticator app, set it up again and get new recovery codes:",
		},
		Link: accountURL,
	})
}

// PasskeyAdded tells a user that a passkey was added to their account.
func PasskeyAdded(to, name, passkey, accountURL string) Message {
	return build(to, "A passkey was added to your PSIMS account", "", letter{
		Name: name,
		Before: []string{
			"A passkey called \"" + passkey + "\" was added to your PSIMS account. It can sign you in without your password.",
			"If this was not you, remove it, reset your password and tell your organisation's PSIMS administrator:",
		},
		Link: accountURL,
	})
}

// PasskeyRemoved tells a user that a passkey was removed from their
// account.
func PasskeyRemoved(to, name, passkey string) Message {
	return build(to, "A passkey was removed from your PSIMS account", "", letter{
		Name: name,
		Before: []string{
			"The passkey called \"" + passkey + "\" was removed from your PSIMS account and can no longer sign you in.",
			"If this was not you, reset your password and tell your organisation's PSIMS administrator.",
		},
	})
}
