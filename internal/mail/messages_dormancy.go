package mail

import "time"

// Messages about dormant accounts (P12, P13). They are service notices:
// sent even to people who objected to being contacted, because they are
// about the account itself, not news or invitations.

// DormancyWarning tells a person who has not signed in for a long time that
// their account will be deactivated on deactivateOn, and then deleted
// deleteAfter later (in words, such as "30 days"), unless they sign in or
// confirm through link, a one-time link that lasts until then.
func DormancyWarning(to, name string, lastActive, deactivateOn time.Time, deleteAfter, link string) Message {
	return build(to, "Your PSIMS account will be deactivated on "+longDate(deactivateOn), link, letter{
		Name: name,
		Before: []string{
			"Nobody has signed in to your PSIMS account since " + longDate(lastActive) + ".",
			"We keep accounts only while they are used, so your account will be deactivated on " + longDate(deactivateOn) +
				" and your details deleted " + deleteAfter + " after that. Patient safety events you recorded are kept without your name.",
			"To keep your account, sign in to PSIMS before then, or use this link to confirm you still need it:",
		},
		Link: linkMarker,
		After: []string{
			"The link can only be used once and lasts until " + longDate(deactivateOn) + ".",
			"If you no longer need your account, you do not need to do anything.",
		},
	})
}

// DormancyDeactivated tells a person their account was deactivated after
// the warning, and when their details will be deleted.
func DormancyDeactivated(to, name string, deleteOn time.Time) Message {
	return build(to, "Your PSIMS account has been deactivated", "", letter{
		Name: name,
		Before: []string{
			"Your PSIMS account has been deactivated because nobody signed in to it after our warning.",
			"Your details will be deleted on " + longDate(deleteOn) + ". Patient safety events you recorded are kept without your name.",
			"If you still need an account, ask the PSIMS administrator at your organisation to reinstate it before then.",
		},
	})
}
