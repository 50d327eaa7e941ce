package mail

// Messages about requests for erasure, restriction and objection (P15).
// Each names the request by its reference and what it asked for, such as
// "erasure of your data"; reasons are the national admin's words, which
// the identifier guard has passed. None repeats what the person wrote.

// RightsReceived confirms that a request was received and says by when
// it will be answered (due in words, such as "6 January 2027").
func RightsReceived(to Addressee, reference, what, due, link string) Message {
	return build(to.Email, "PSIMS: we have your request "+reference, "", letter{
		Name: to.Name,
		Before: []string{
			"We have received your request for " + what + " (reference " + reference + ").",
			"The law gives us one calendar month to answer it, so you will hear from us by " + due + ". If we need longer, we will tell you why before then.",
			"You can see where it stands, or withdraw it, under \"Your account\", \"Your data\":",
		},
		Link:  link,
		After: []string{"If you did not ask for this, sign in and withdraw it, and change your password."},
	})
}

// RightsObjectionConfirmed confirms that the person's objection to contact
// took effect at once.
func RightsObjectionConfirmed(to Addressee, reference, link string) Message {
	return build(to.Email, "PSIMS: you will not be contacted "+reference, "", letter{
		Name: to.Name,
		Before: []string{
			"You have objected to being contacted by PSIMS (reference " + reference + "). From now on you will get no newsletters, event alerts or invitations.",
			"You will still get emails you need to use your account, such as password resets, and answers to requests you make.",
			"You can withdraw your objection at any time under \"Your account\", \"Your data\":",
		},
		Link: link,
	})
}

// RightsWithdrawn confirms that the person withdrew a request, or an
// objection to contact.
func RightsWithdrawn(to Addressee, reference, what, link string) Message {
	return build(to.Email, "PSIMS: your request "+reference+" is withdrawn", "", letter{
		Name:   to.Name,
		Before: []string{"You have withdrawn your request for " + what + " (reference " + reference + "). Nothing more will be done about it.", "Your data:"},
		Link:   link,
	})
}

// RightsExtended tells the person that answering their request will take
// longer, why, and the new date.
func RightsExtended(to Addressee, reference, what, due, reason, link string) Message {
	return build(to.Email, "PSIMS: more time is needed for your request "+reference, "", letter{
		Name: to.Name,
		Before: []string{
			"We need more time to answer your request for " + what + " (reference " + reference + "). You will hear from us by " + due + ".",
			"The reason is: " + reason,
			"You can see where it stands under \"Your account\", \"Your data\":",
		},
		Link:  link,
		After: []string{"If you are unhappy with how we are handling your request, you can complain to the Information Commissioner's Office."},
	})
}

// RightsRefused tells the person their request was refused, and why.
func RightsRefused(to Addressee, reference, what, reason, link string) Message {
	return build(to.Email, "PSIMS: your request "+reference+" was refused", "", letter{
		Name: to.Name,
		Before: []string{
			"We have refused your request for " + what + " (reference " + reference + ").",
			"The reason is: " + reason,
			"Your data:",
		},
		Link:  link,
		After: []string{"If you disagree, you can complain to the Information Commissioner's Office, or ask a court to enforce your rights."},
	})
}

// RightsErased tells the person their data has been erased. It is the
// one message kept in the outbox after an erasure, and has no link: there
// is no account left to sign in to.
func RightsErased(to Addressee, reference string) Message {
	return build(to.Email, "PSIMS: your data has been erased "+reference, "", letter{
		Name: to.Name,
		Before: []string{
			"We have erased your data from PSIMS, as you asked (reference " + reference + "). Your account is closed and you can no longer sign in.",
			"Patient safety events you recorded stay with the organisations they were recorded for, as the law requires, but no longer say who recorded them.",
			"This is the last email you will get from us. If you want to use PSIMS again, you can register as a new user with the same email address.",
		},
	})
}

// RightsRestricted tells the person that processing of their data is now
// restricted: their account is read-only.
func RightsRestricted(to Addressee, reference, link string) Message {
	return build(to.Email, "PSIMS: processing of your data is restricted "+reference, "", letter{
		Name: to.Name,
		Before: []string{
			"As you asked (reference " + reference + "), we have restricted the processing of your data.",
			"Until the restriction is lifted, your account is read-only: you can sign in and see your records, but not record, change or review anything. You will get no newsletters or event alerts, and your use of the service is left out of reports about individual people.",
			"Your data:",
		},
		Link: link,
	})
}

// RightsRestrictionLifted tells the person the restriction has been lifted.
func RightsRestrictionLifted(to Addressee, reference, link string) Message {
	return build(to.Email, "PSIMS: the restriction on your data is lifted "+reference, "", letter{
		Name: to.Name,
		Before: []string{
			"A national admin has lifted the restriction on the processing of your data (reference " + reference + "). Your account works as before.",
			"Your data:",
		},
		Link: link,
	})
}
