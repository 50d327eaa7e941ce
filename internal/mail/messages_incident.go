package mail

import "time"

// The messages about recorded events and drafts. They say that something
// exists and where to find it, never what was recorded: email leaves the
// service, and an event's answers must not (T12).

// longDate writes a date as people read it, in UTC as every date PSIMS shows.
func longDate(t time.Time) string { return t.UTC().Format("2 January 2006") }

// EventReceipt confirms to the reporter that their event was recorded.
// reference is its PSE- number, typeLabel the kind of event (such as
// "Incident" or "Good care"), recordedAt when it was submitted, and
// eventURL the page showing it. It carries nothing of the event's answers.
func EventReceipt(to, name, reference, typeLabel string, recordedAt time.Time, eventURL string) Message {
	return build(to, "Your patient safety event "+reference+" has been recorded", "", letter{
		Name: name,
		Before: []string{
			"Thank you for recording a patient safety event. It has been recorded in PSIMS.",
			"Reference: " + reference,
			"Type of event: " + typeLabel,
			"Recorded on " + longDate(recordedAt) + " at " + recordedAt.UTC().Format("15:04") + " (UTC)",
			"You can see what you recorded, and amend it, when you are signed in to PSIMS:",
		},
		Link: eventURL,
		After: []string{
			"This email does not contain what you recorded, to keep it safe. Quote the reference if you contact your organisation about this event.",
			"If you did not record this event, tell your organisation's PSIMS administrator.",
		},
	})
}

// DraftReminder tells a user that their unfinished draft of an event,
// started on startedOn, will be deleted on deleteOn unless they continue
// it, with a link to their drafts. typeLabel is the kind of event (such as
// "Incident"). It carries nothing of the draft's answers.
func DraftReminder(to, name, typeLabel string, startedOn, deleteOn time.Time, draftsURL string) Message {
	return build(to, "Your unfinished PSIMS draft will be deleted on "+longDate(deleteOn), "", letter{
		Name: name,
		Before: []string{
			"You have an unfinished draft of a patient safety event in PSIMS.",
			"Type of event: " + typeLabel,
			"Started on " + longDate(startedOn),
			"It has not been changed for some time, so it will be deleted on " + longDate(deleteOn) + " unless you continue it before then. Your drafts are here when you are signed in:",
		},
		Link:  draftsURL,
		After: []string{"If you no longer need the draft, you do not need to do anything: it will be deleted on that date."},
	})
}
